/* The analytic engine: turns the events of many hosts into exchanges, joins
 * the two sides of each exchange across hosts by TCP sequence numbers, links
 * each outgoing request to the incoming request its thread was serving, and
 * emits trajectories (trees of spans) once they have been quiet for a moment.
 *
 * Feed each host's events in the order its sensor produced them; hosts may
 * interleave in any order and their clocks need not agree. Not thread-safe:
 * one owner feeds and ticks it. */
#ifndef WEFT_CORRELATOR_H
#define WEFT_CORRELATOR_H

#include <stdint.h>

#include "analysis/trajectory.h"
#include "bpf/sensor_event.h"

/* Where results go. The pointers passed are valid only during the call. */
struct corr_sink {
	/* A new or updated trajectory; the same id replaces the previous one. */
	void (*trajectory)(const struct weft_trajectory *t, void *ctx);
	/* A trajectory emitted earlier turned out to be a subtree of another. */
	void (*retract)(uint64_t id, void *ctx);
	void (*service)(const struct weft_service *svc, void *ctx);
	void *ctx;
};

struct corr_opts {
	uint64_t settle_ns;	/* emit a trajectory once it has been quiet this long */
	uint64_t keep_ns;	/* forget exchanges idle this long (memory bound) */
	uint64_t max_exchanges; /* exchanges kept at most (about 0.7 KB each); connections and
				   threads as many, processes a quarter; 0: the default */
};

#define CORR_MAX_EXCHANGES 500000

struct correlator;

struct correlator *correlator__new(const struct corr_opts *opts, const struct corr_sink *sink);
void correlator__free(struct correlator *c);

/* One event of host `host`; e->ts_ns is that host's wall clock. */
void correlator__feed(struct correlator *c, const char *host, const struct weft_event *e,
		      uint64_t now_mono);
/* What a sensor reported about a process. */
void correlator__process(struct correlator *c, const char *host, uint32_t pid, const char *comm,
			 const char *exe);
/* A method call a host's sensor drained from a JVM agent's trace: its
 * thread and its times on that host's wall clock. */
struct weft_call {
	uint32_t pid;
	uint32_t tid;
	uint64_t start_ns;
	uint64_t end_ns;
	char name[WEFT_REQUEST_LEN]; /* "com.shop.Orders.price" */
};

/* Nests a call, as a child span, inside the server-side exchange its thread
 * was serving at the time; calls that come before their exchange wait for
 * it, calls that come after it was emitted make it emitted again. */
void correlator__call(struct correlator *c, const char *host, const struct weft_call *call,
		      uint64_t now_mono);
/* Emits what has settled and forgets what is idle; call a few times a second.
 * now_mono = UINT64_MAX settles everything (replay, shutdown). */
void correlator__tick(struct correlator *c, uint64_t now_mono);

struct corr_stats {
	uint64_t events;
	uint64_t exchanges;	  /* halves created */
	uint64_t matched;	  /* pairs joined across the two sides */
	uint64_t trajectories;	  /* emitted (updates included) */
	uint64_t live_halves;	  /* in memory now */
	uint64_t endpoints;	  /* connections in memory now */
	uint64_t calls;		  /* method calls received */
	uint64_t calls_unmatched; /* dropped: no exchange of their thread contained them */
	/* Forgotten before their time to stay within max_exchanges: their
	 * trajectories' neighbours are flagged (incomplete or uncertain). */
	uint64_t evicted_exchanges;
	uint64_t evicted_connections;
	uint64_t evicted_threads;
	uint64_t evicted_processes;
};
void correlator__stats(const struct correlator *c, struct corr_stats *out);

#endif

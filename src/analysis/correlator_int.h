/* The correlator's inner state, shared by correlator.c (events to halves,
 * matching, thread causality) and assemble.c (halves to trajectories). */
#ifndef WEFT_CORRELATOR_INT_H
#define WEFT_CORRELATOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "analysis/correlator.h"

struct half;

static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

struct host_entry {
	char name[WEFT_HOST_LEN];
	uint32_t id;
	UT_hash_handle hh;
};

struct proc_key {
	uint32_t host;
	uint32_t pid;
};

struct proc_entry {
	struct proc_key key;
	char comm[16];
	char exe[WEFT_EXE_LEN];
	uint16_t served_port; /* a port this process answered requests on, 0 if none */
	UT_hash_handle hh;
};

struct ep_key {
	uint32_t host;
	uint32_t pad;
	uint64_t sock_id;
};

/* One end of a TCP connection, as one host's sensor sees it. */
struct endpoint {
	struct ep_key key;
	uint8_t role; /* WEFT_ROLE_CLIENT or WEFT_ROLE_SERVER */
	uint8_t dir;  /* direction of the current message: WEFT_EV_SEND/RECV, 0 none */
	bool closed;
	uint16_t family;
	uint16_t sport; /* own port */
	uint16_t dport; /* peer's port */
	uint8_t saddr[16];
	uint8_t daddr[16];
	struct half *cur;     /* the exchange being built */
	uint64_t closed_mono; /* when it closed: forgotten a little later */
	uint64_t last_mono;
	UT_hash_handle hh;
};

struct thread_key {
	uint32_t host;
	uint32_t tid;
};

/* The server-side exchanges a thread has received and not yet answered. */
struct thread_entry {
	struct thread_key key;
	struct half *open; /* most recent first, linked by open_next */
	int nopen;
	UT_hash_handle hh;
};

/* A method call waiting for, or nested in, a server half (calls.c). */
struct mcall {
	uint64_t start_ns, end_ns; /* the host's wall clock */
	uint64_t arrived_mono;
	uint32_t pid, tid;
	char name[WEFT_REQUEST_LEN];
	struct mcall *next;
};

#define CALL_RECENT 8 /* server halves a thread remembers for late calls */

/* A thread of a host whose sensor sends method calls. */
struct call_thread {
	struct thread_key key;
	struct mcall *pending; /* calls no half has taken yet, newest first */
	int npending;
	struct half *recent[CALL_RECENT]; /* its server halves emitted lately */
	int next_slot;
	UT_hash_handle hh;
};

struct match_key {
	uint32_t req_seq;
	uint8_t role; /* the role of the half waiting here */
	uint8_t pad[3];
};

/* One side of one exchange: a request and the response that follows it on
 * one connection, as one host saw it. Two halves with the same sequence
 * numbers and opposite roles are the two sides of one span. */
struct half {
	uint64_t id;
	uint32_t host;
	uint8_t role;
	uint8_t proto;
	bool has_resp;
	bool error;
	bool uncertain; /* parent chosen among several open requests */
	bool in_match;	/* waiting in the match table */
	bool dirty;	/* changed since emitted */
	uint32_t pid;
	uint32_t tid; /* the thread that received (server) or sent (client) the request */
	char comm[16];
	uint16_t sport, dport; /* own and peer port */
	uint16_t family;
	uint8_t saddr[16], daddr[16];
	uint32_t req_seq, req_len, resp_seq, resp_len;
	uint64_t req_start, req_end, resp_start, resp_end; /* the host's wall clock */
	int status;
	char request[WEFT_REQUEST_LEN];
	char error_text[48];

	struct endpoint *ep; /* while it is the endpoint's current exchange */
	struct half *peer;   /* the other side, once matched */
	struct half *parent; /* client halves: the server half its thread was serving */
	struct half *child;  /* server halves: first child (client halves), linked by sibling */
	struct half *sibling;
	struct thread_entry *thread; /* server halves still open on their thread */
	struct half *open_next;
	uint64_t emitted_root; /* id of the trajectory it was emitted as the root of */
	uint64_t touched_mono;
	uint64_t emitted_gen; /* assembly pass that last emitted it */
	struct mcall *calls;  /* server halves: method calls inside, by start */
	int ncalls;
	struct call_thread *ct; /* server halves remembered by their thread */
	struct half *all_prev, *all_next;
	struct match_key mkey;
	UT_hash_handle hh_match;
};

struct service_seen {
	uint64_t id;
	UT_hash_handle hh;
};

struct correlator {
	struct corr_opts opts;
	struct corr_sink sink;
	struct host_entry *hosts;
	uint32_t next_host;
	struct proc_entry *procs;
	struct endpoint *endpoints;
	struct thread_entry *threads;
	struct half *match;		  /* by (req_seq, role) */
	struct half *all_head, *all_tail; /* every half, oldest touched first */
	struct half **dirty;		  /* halves changed since the last pass */
	size_t ndirty, dirty_cap;
	uint64_t gen;
	struct service_seen *services; /* ids already handed to the sink */
	struct call_thread *call_threads;
	uint8_t *traced; /* by host id: 1 when its sensor sends method calls */
	size_t traced_cap;
	struct weft_span *spans; /* assembly scratch */
	int *span_parent_idx;
	size_t spans_cap;
	struct corr_stats stats;
};

/* correlator.c */
const char *corr_host_name(struct correlator *c, uint32_t id);
struct proc_entry *corr_proc(struct correlator *c, uint32_t host, uint32_t pid);
void corr_touch(struct correlator *c, struct half *h, uint64_t now_mono);
void corr_half_free(struct correlator *c, struct half *h);

/* calls.c */
/* At assembly: sv takes the waiting calls it contains and is remembered by
 * its thread for calls that come later. */
void calls_adopt(struct correlator *c, struct half *sv);
void calls_half_free(struct half *h);
void calls_expire(struct correlator *c, uint64_t now_mono);
void calls_free(struct correlator *c);
uint32_t corr_host_id(struct correlator *c, const char *name);

/* assemble.c */
void assemble_pass(struct correlator *c, uint64_t now_mono);
uint64_t service_id(const char *host, const char *exe, uint16_t port, const char *addr);

#endif

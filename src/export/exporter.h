/* The OTLP exporter: trajectories the server has written go out as OTLP
 * traces (otlp.h) over OTLP/HTTP with the JSON encoding, from a thread of
 * its own, so that a slow or absent receiver never costs ingest.
 *
 * The server's thread stages a copy of each trajectory it writes and, once
 * the transaction that wrote them has committed, hands the staged copies to
 * a bounded queue (a number of spans and of bytes); what does not fit is
 * dropped and counted. A newer version of a trajectory still waiting in the
 * queue takes the older one's place. The exporter's thread sends batches
 * (up to batch_spans, or whatever has waited batch_wait_ns), each one POST
 * with a timeout; 429, 5xx answers and connection failures are retried with
 * exponential backoff as long as the queue has room, and at most `retries`
 * times once it is full. At stop the queue is sent until a deadline and the
 * rest is counted as failed.
 *
 * Threading: stage, commit and discard belong to one thread (the server's);
 * stats may be called from any thread. */
#ifndef WEFT_EXPORT_EXPORTER_H
#define WEFT_EXPORT_EXPORTER_H

#include <stdbool.h>
#include <stddef.h> /* NULL, which trajectory.h uses */
#include <stdint.h>

#include "analysis/trajectory.h"
#include "export/services.h"

#define EXPORTER_HEADERS_MAX 8
/* The exporter's thread, as a sensor on the server's host reports it. */
#define EXPORTER_THREAD_NAME "weft-otlp"

struct exporter_opts {
	const char *url;			   /* the receiver's traces endpoint */
	const char *headers[EXPORTER_HEADERS_MAX]; /* "Name: value" sent with each
						      request; NULL: none */
	uint64_t queue_spans;			   /* OTLP spans waiting, at most */
	uint64_t queue_bytes;			   /* bytes of queued copies, at most */
	uint64_t batch_spans;			   /* spans per request, at most */
	uint64_t batch_wait_ns;			   /* a span waits at most this for a
						      fuller batch */
	uint64_t timeout_ns;			   /* one request */
	uint64_t retries;			   /* once the queue is full */
	uint64_t backoff_ns, backoff_max_ns;	   /* the first retry's wait, doubling
						      up to the max */
	uint64_t flush_ns;			   /* at stop: sending goes on this long */
};

/* 10,000 spans or 64 MiB, 512 spans or 1 s a batch, 10 s a request, 5
 * retries from 500 ms to 30 s, 5 s to flush at stop. */
void exporter_opts_defaults(struct exporter_opts *o);

/* Counters since start, in OTLP spans (one per observed side of a weft
 * span). queued = sent + rejected + failed + superseded + what is in the
 * queue or in flight. */
struct exporter_stats {
	uint64_t queued;	   /* taken into the queue */
	uint64_t sent;		   /* accepted by the receiver */
	uint64_t dropped;	   /* not taken: the queue was full */
	uint64_t failed;	   /* given up on: refused, retries used up, or still
				      queued when the stop deadline passed */
	uint64_t rejected;	   /* the receiver answered them rejected (partial success) */
	uint64_t superseded;	   /* replaced in the queue by a newer version */
	uint64_t requests;	   /* POSTs made, retries included */
	uint64_t request_failures; /* POSTs that did not succeed */
	uint64_t retries;	   /* POSTs that were retries */
	uint64_t queue_spans;	   /* waiting now */
	uint64_t queue_bytes;
	uint64_t queue_capacity;  /* opts.queue_spans */
	uint64_t last_success_ns; /* wall clock of the last accepted request, 0: none */
	char last_error[160];	  /* the last failure, "" when none yet */
};

struct exporter;

/* Starts the thread. NULL with errno set after logging why. */
struct exporter *exporter__start(const struct exporter_opts *opts);
/* Sends what is queued until opts.flush_ns has passed, stops the thread
 * and frees everything. NULL is a no-op. */
void exporter__stop(struct exporter *x);

/* Copies t (and the services its spans name from svcs) to be queued at the
 * next commit. An allocation failure drops it, counted. */
void exporter__stage(struct exporter *x, const struct weft_trajectory *t,
		     const struct svc_table *svcs);
/* The transaction committed: the staged copies join the queue. */
void exporter__commit(struct exporter *x);
/* The transaction was lost: the staged copies are dropped uncounted (the
 * trajectories are emitted again when their batches are). */
void exporter__discard(struct exporter *x);

void exporter__stats(struct exporter *x, struct exporter_stats *out);

/* Whether t is one of the exporter's own requests, seen by a sensor on the
 * server's host: exporting it would make another request to export, for
 * ever. pid: the server's own. */
bool exporter_own_request(const struct weft_trajectory *t, uint32_t pid);

#endif

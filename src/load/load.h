/* weft load as a library: an HTTP/1.1 load generator with one epoll event
 * loop per thread, in a closed loop (users who think between requests) or an
 * open loop (a target rate, latency measured from each request's intended
 * send time so that a stalled server cannot hide its stall).
 *
 * Use: fill a struct load_config (start from LOAD_CONFIG_INIT), call
 * load_run(), read the struct load_result, then load_result__free(). The
 * caller owns the config and everything it points to; they must stay valid
 * and unchanged until load_run returns. load_run blocks the calling thread,
 * starts cfg->threads threads of its own and joins them before returning; it
 * installs no signal handlers and never exits the process.
 *
 * Memory: each thread keeps a fixed-size histogram (about 36 KB) per URI and
 * two for the current second, so a mix of U URIs over T threads takes about
 * 36 KB * U * T; a result holds one per URI plus one overall.
 *
 * Errors never become latency: a request that fails (connect refused,
 * timeout, reset, peer closed, unparsable response, HTTP 4xx or 5xx) is
 * counted by kind and not recorded in any histogram. */
#ifndef WEFT_LOAD_H
#define WEFT_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/histogram.h"
#include "load/sample.h"
#include "load/uri_file.h"

enum load_err_kind {
	LOAD_ERR_REFUSED,  /* connect refused (nothing listening) */
	LOAD_ERR_CONNECT,  /* any other connect failure (unreachable, ...) */
	LOAD_ERR_TIMEOUT,  /* no complete response within the timeout */
	LOAD_ERR_RESET,	   /* connection reset by the peer */
	LOAD_ERR_CLOSED,   /* peer closed before the response was complete */
	LOAD_ERR_PARSE,	   /* response that is not HTTP/1.x */
	LOAD_ERR_HTTP_4XX, /* response status 400-499 */
	LOAD_ERR_HTTP_5XX, /* response status 500-599 */
	LOAD_ERR_OTHER,	   /* any other socket error */
	LOAD_ERR__COUNT,
};

/* "connect_refused", "timeout", "http_5xx", ...: the keys of the JSON output. */
const char *load_err_name(enum load_err_kind k);
/* The kind of a socket error (an errno), during connect() or after it. */
enum load_err_kind load_err_kind_of(int err, bool connecting);

struct load_latency {
	double mean_ms; /* all in milliseconds; 0 when there was no sample */
	double min_ms;
	double p50_ms;
	double p90_ms;
	double p99_ms;
	double p999_ms;	 /* 99.9th percentile */
	double p9999_ms; /* 99.99th percentile */
	double max_ms;
};

/* Fills l from a histogram of nanoseconds. */
void load_latency_from_hist(struct load_latency *l, const struct hist *h);

/* One second of a run, as handed to on_second and kept in the series. */
struct load_second {
	unsigned second;    /* 0 for the first second after the start */
	double elapsed_s;   /* since the start, at the end of this second */
	double remaining_s; /* until the planned end; -1 when bounded by count */
	double span_s;	    /* length of this entry, 1 but for a last partial one */
	uint64_t requests;  /* successful responses completed in it */
	uint64_t errors;    /* failed requests in it, all kinds */
	uint64_t errors_by_kind[LOAD_ERR__COUNT]; /* the same by kind */
	double rps;				  /* requests / span_s */
	struct load_latency latency;		  /* of the requests completed in it */
	uint64_t total_requests;		  /* since the start */
	uint64_t total_errors;			  /* since the start */
	const struct hist *hist; /* latencies (ns) completed in it: only during on_second, NULL
				    in the result's series */
};

/* Called once a second from the thread that called load_run. Return
 * nonzero to stop the run (e.g. when a steady state was detected). */
typedef int (*load_second_fn)(const struct load_second *s, void *ctx);

struct load_config {
	const struct load_uri *uris; /* requests of the mix; borrowed */
	size_t nuris;		     /* at least 1 */
	const char *host;	     /* target host name or address; borrowed */
	const char *port;	     /* target port, e.g. "80"; borrowed */
	unsigned threads;	     /* event loops (threads), >= 1 */
	unsigned connections;	     /* closed loop: users, one connection each;
					open loop: the most connections open at once */
	double rate;		     /* open loop: requests per second in all; 0: closed loop */
	uint64_t think_ns;	     /* closed loop: mean think time between requests */
	enum load_think_dist think;  /* its distribution */
	uint64_t ramp_ns;	     /* users start (or the rate rises) evenly over this */
	uint64_t duration_ns;	     /* run length; 0: until max_requests are done */
	uint64_t max_requests;	     /* stop after this many requests; 0: no limit */
	uint64_t timeout_ns;	     /* a request without a full response by then fails */
	bool keepalive;		     /* reuse connections; false: one connection a request */
	uint64_t seed;		     /* random choices (mix, think times) */
	load_second_fn on_second;    /* may be NULL */
	void *ctx;		     /* passed to on_second */
	const volatile sig_atomic_t *stop; /* optional: the run stops soon after *stop != 0 */
};

#define LOAD_CONFIG_INIT                                                                           \
	{                                                                                          \
		.threads = 2, .connections = 10, .duration_ns = 10000000000ull,                    \
		.timeout_ns = 5000000000ull, .keepalive = true, .seed = 1,                         \
	}

struct load_uri_result {
	const struct load_uri *uri;		  /* the config's request; borrowed */
	uint64_t requests;			  /* successful responses */
	uint64_t errors;			  /* failures, all kinds */
	uint64_t errors_by_kind[LOAD_ERR__COUNT]; /* failures by kind */
	struct load_latency latency;		  /* of the successful responses */
	struct hist *hist;			  /* their latencies in ns; owned */
};

struct load_result {
	uint64_t requests;			  /* successful responses (latency samples) */
	uint64_t errors;			  /* failures, all kinds */
	uint64_t errors_by_kind[LOAD_ERR__COUNT]; /* failures by kind */
	uint64_t unfinished;			  /* in flight or queued when the run ended */
	uint64_t bytes_read;			  /* response bytes, heads included */
	double duration_s;			  /* from the start to the last loop's end */
	double rps;				  /* requests / duration_s */
	struct load_latency latency;		  /* over every URI */
	struct hist *hist;			  /* overall latencies in ns; owned */
	struct load_uri_result *per_uri;	  /* one per config URI, same order; owned */
	size_t nuris;				  /* entries in per_uri */
	struct load_second *series;		  /* one per second; owned */
	size_t nseries;				  /* entries in series */
	bool stopped;				  /* ended early by on_second or *stop */
	char error[256];			  /* why load_run failed, one line */
};

/* Runs the load described by cfg. Returns 0 with *res filled, or a negative
 * errno with res->error saying why in one line (bad config, unresolvable
 * host, refused connection before the start, out of memory). Either way the
 * caller calls load_result__free(res) afterwards. */
int load_run(const struct load_config *cfg, struct load_result *res);
/* Frees what load_run allocated in res; res may then be reused. */
void load_result__free(struct load_result *res);

#endif

/* Prometheus metrics: request counters, errors and latency histograms per
 * edge (client service -> server service) and per service, kept in memory
 * by the server's thread as it writes trajectories, and published once in a
 * while as an immutable snapshot that /metrics renders in the text
 * exposition format 0.0.4. A scrape never reads the database and never
 * touches the live tables.
 *
 * Each weft span is counted once, when it has finished (a response or a
 * failure) and its trajectory is written: a trajectory emitted again (it
 * grew, a response came in) counts only its spans not counted yet. Spans
 * are remembered by id for opts.horizon_ns to two times that.
 *
 * Labels are service names, hosts and ports: bounded by the services there
 * are, and capped by opts.max_edges and opts.max_services series; past the
 * cap requests are counted in one series labelled "other" and in
 * weft_metrics_folded_requests_total.
 *
 * Threading: metrics__render may be called from any thread; every other
 * function belongs to the owner (the server's ingest thread). */
#ifndef WEFT_EXPORT_METRICS_H
#define WEFT_EXPORT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/correlator.h"
#include "export/exporter.h"
#include "export/services.h"

struct metrics_opts {
	int max_edges;	     /* edge series before folding (default 500) */
	int max_services;    /* service series before folding (default 200) */
	uint64_t horizon_ns; /* how long a counted span id is remembered, at least */
	size_t max_ids;	     /* span ids remembered per generation, at most */
};

void metrics_opts_defaults(struct metrics_opts *o);

/* The server's own figures, copied into each snapshot. */
struct metrics_server {
	uint64_t batches;
	uint64_t duplicate_batches;
	uint64_t events;
	uint64_t trajectories_retracted;
	uint64_t commit_failures;
	int sensors_connected;
	struct corr_stats corr;
	bool otlp; /* an exporter runs: otlp_stats are set */
	struct exporter_stats otlp_stats;
};

struct metrics_sensor {
	char id[64];
	char host[64];
	uint64_t events;
	uint64_t batches;
	uint64_t ring_drops;  /* the sensor's ring-buffer drops */
	uint64_t spool_drops; /* batches its full spool discarded */
	int64_t lag_ns;
	uint64_t last_seen_ns;
	bool connected;
};

struct metrics;

/* NULL with errno set. */
struct metrics *metrics__new(const struct metrics_opts *opts);
void metrics__free(struct metrics *m);

/* Counts the finished spans of t not counted yet; names come from svcs. */
void metrics__trajectory(struct metrics *m, const struct weft_trajectory *t,
			 const struct svc_table *svcs, uint64_t now_mono);

/* Publishes a snapshot of the counters with the server's figures and its
 * sensors (copied); the previous one is freed once no scrape reads it.
 * -ENOMEM leaves the previous one published. */
int metrics__publish(struct metrics *m, const struct metrics_server *srv,
		     const struct metrics_sensor *sensors, int nsensors);

/* The published snapshot as exposition text (malloc'ed, NUL-terminated,
 * *len without the NUL); NULL when out of memory. Any thread. */
char *metrics__render(struct metrics *m, size_t *len);

#endif

/* weft profile: the Autoprofiler's master. For every transaction of a
 * specification and every population asked for, it generates load with the
 * load library, waits for a steady state, has the nodes' slaves profile the
 * listed processes for a measurement window, and turns the profiles into
 * utilizations, service demands, a per-tier breakdown from trajectories and
 * a queueing model that predicts capacity. Everything lands in one JSON
 * document, from which the HTML and CSV reports are drawn. */
#ifndef WEFT_PROFILE_H
#define WEFT_PROFILE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "load/sample.h"

struct prof_config {
	const char *spec_path;
	const char *api;       /* server API host:port; NULL: single-host mode */
	const unsigned *users; /* populations to measure, in order (one, or the sweep) */
	size_t npoints;
	double think_ms; /* mean think time between a user's requests */
	enum load_think_dist think;
	double measure_s;    /* measurement window once steady */
	double warmup_max_s; /* give up waiting for a steady state after this */
	unsigned window;     /* steady state: samples per moving window (w) */
	double epsilon;	     /* steady state: normalized difference bound (e) */
	unsigned threads;    /* load event loops */
	double timeout_s;    /* per request */
	bool progress;	     /* a live line on stderr */
	const volatile sig_atomic_t *stop;
};

/* Runs every transaction of the specification. 0 with *report set (caller
 * puts it), or -errno with err saying why in one line; a run stopped by
 * *stop returns what it measured so far. */
int profile_run(const struct prof_config *cfg, json_object **report, char *err, size_t errcap);

/* The capacity model of one transaction from its measured points (adds
 * "model" to the transaction's object); exposed for tests. */
int profile_model(json_object *trans, double think_s);
/* With several transactions: all of them mixed, each with its measured
 * population, by multi-class MVA (adds "mix_model" to the report). */
int profile_mix_model(json_object *report, double think_s);

/* The per-tier breakdown and message flows of the trajectories in
 * [since_ns, until_ns) from the server's API, or NULL when none. */
json_object *profile_breakdown(const char *api, unsigned long long since_ns,
			       unsigned long long until_ns, unsigned max_traj);

/* The component-level times of a Java process from its agents' DUMP of
 * the window ({"jvms":[{"pid","reply"}]}): per method calls, total, mean
 * and max ms, calls and ms per transaction; GC pauses. */
json_object *profile_components(json_object *dump, double transactions);

/* The point whose figures head a transaction: the most users measured with
 * some throughput; NULL when there is none. */
json_object *profile_headline_point(json_object *points);

/* report.json, report.html and the CSV files in dir (created if needed). */
int profile_write_reports(json_object *report, const char *dir, char *err, size_t errcap);
int profile_write_html(json_object *report, const char *path);

#endif

/* One profile run: for each transaction and population, load until steady,
 * profile for the measurement window, and record everything as JSON. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonv.h"
#include "common/clock.h"
#include "load/load.h"
#include "profile/node.h"
#include "profile/profile.h"
#include "profile/spec.h"
#include "profile/steady.h"

enum phase { PH_WARMUP, PH_MEASURE, PH_DONE, PH_UNSTEADY, PH_FAILED };

static const char *phase_name[] = {"warm-up", "measure", "done", "not steady", "failed"};

/* What one population's load run keeps between per-second callbacks. */
struct point {
	const struct prof_config *cfg;
	const char *trans;
	unsigned users;
	struct prof_node *nodes;
	size_t nnodes;
	size_t started; /* nodes whose profile is running */
	struct steady *steady;
	enum phase phase;
	double steady_at_s, measure_from_s, measure_to_s;
	uint64_t wall_from, wall_to;
	struct hist hist; /* latencies of the measurement window */
	uint64_t requests, errors, errors_by_kind[LOAD_ERR__COUNT];
	json_object *series;
	char id[48];
	char err[512];
};

static void progress(const struct point *p, const struct load_second *s)
{
	double left = p->phase == PH_MEASURE
			  ? p->cfg->measure_s - (s->elapsed_s - p->measure_from_s)
			  : p->cfg->warmup_max_s - s->elapsed_s;

	if (!p->cfg->progress)
		return;
	fprintf(stderr,
		"\r\033[K[%s] users %u  %-8s %5.0f s  %8.1f req/s  mean %7.2f ms  errors %" PRIu64
		"  steady: %s (diff %.3f)  %.0f s left",
		p->trans, p->users, phase_name[p->phase], s->elapsed_s, s->rps, s->latency.mean_ms,
		s->total_errors, p->phase == PH_WARMUP ? "no" : "yes", steady__diff(p->steady, 0),
		left > 0 ? left : 0);
	fflush(stderr);
}

static int start_profiles(struct point *p)
{
	for (p->started = 0; p->started < p->nnodes; p->started++)
		if (prof_node__start(&p->nodes[p->started], p->id, p->err, sizeof(p->err)))
			break;
	if (p->started == p->nnodes)
		return 0;
	for (size_t i = 0; i < p->started; i++)
		prof_node__abort(&p->nodes[i], p->id);
	p->started = 0;
	return -EIO;
}

static int stop_profiles(struct point *p)
{
	int ret = 0;

	for (size_t i = 0; i < p->started; i++)
		if (prof_node__stop(&p->nodes[i], p->id, p->err, sizeof(p->err)) && !ret)
			ret = -EIO;
	p->started = 0;
	return ret;
}

static void series_add(struct point *p, const struct load_second *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "t_s", json_object_new_double(s->elapsed_s));
	json_object_object_add(o, "rps", json_object_new_double(s->rps));
	json_object_object_add(o, "mean_ms", json_object_new_double(s->latency.mean_ms));
	json_object_object_add(o, "p99_ms", json_object_new_double(s->latency.p99_ms));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)s->errors));
	json_object_object_add(o, "phase", json_object_new_string(phase_name[p->phase]));
	json_object_array_add(p->series, o);
}

/* The load library's per-second callback: the master's state machine. */
static int on_second(const struct load_second *s, void *ctx)
{
	struct point *p = ctx;
	/* Throughput decides: in a closed loop it carries the response time
	 * (X = N / (R + Z)) with less noise than a second's mean latency. */
	double x[1] = {s->rps};

	series_add(p, s);
	switch (p->phase) {
	case PH_WARMUP:
		if (steady__push(p->steady, x)) {
			p->steady_at_s = s->elapsed_s;
			if (start_profiles(p)) {
				p->phase = PH_FAILED;
				return 1;
			}
			p->measure_from_s = s->elapsed_s;
			p->wall_from = wall_ns();
			p->phase = PH_MEASURE;
		} else if (s->elapsed_s >= p->cfg->warmup_max_s) {
			p->phase = PH_UNSTEADY;
			return 1;
		}
		break;
	case PH_MEASURE:
		if (s->hist)
			hist__merge(&p->hist, s->hist);
		p->requests += s->requests;
		p->errors += s->errors;
		for (int k = 0; k < LOAD_ERR__COUNT; k++)
			p->errors_by_kind[k] += s->errors_by_kind[k];
		if (s->elapsed_s - p->measure_from_s >= p->cfg->measure_s - 1e-6) {
			p->measure_to_s = s->elapsed_s;
			p->wall_to = wall_ns();
			p->phase = stop_profiles(p) ? PH_FAILED : PH_DONE;
			return 1;
		}
		break;
	default:
		return 1;
	}
	progress(p, s);
	return 0;
}

static json_object *num(double v)
{
	return json_object_new_double(isfinite(v) ? v : 0);
}

static json_object *latency_json(const struct hist *h)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mean", num(hist__mean(h) / 1e6));
	json_object_object_add(o, "p50", num((double)hist__quantile(h, 0.50) / 1e6));
	json_object_object_add(o, "p90", num((double)hist__quantile(h, 0.90) / 1e6));
	json_object_object_add(o, "p99", num((double)hist__quantile(h, 0.99) / 1e6));
	json_object_object_add(o, "max", num((double)h->max / 1e6));
	return o;
}

/* The agents' figures of the node's process called name, if it has some:
 * per transaction over the agents' own window (it trails the load's by a
 * control round trip), the throughput being steady. */
static json_object *components_of(const struct prof_node *n, const char *name, double x)
{
	for (size_t k = 0; k < n->nprocs; k++)
		if (n->procs[k].dump && !strcmp(n->procs[k].name, name))
			return profile_components(n->procs[k].dump, x * n->procs[k].agent_s);
	return NULL;
}

/* Per node and process: utilization and demand from the slaves' profiles. */
static void add_profiles(json_object *pt, const struct point *p, double x)
{
	json_object *nodes = json_object_new_array(), *hosts = json_object_new_array();

	for (size_t i = 0; i < p->nnodes; i++) {
		json_object *prof = p->nodes[i].last, *procs, *h = json_object_new_object();

		if (!prof)
			continue;
		json_object_object_add(h, "node", json_object_new_string(p->nodes[i].name));
		json_object_object_add(h, "profile", json_object_get(prof));
		json_object_array_add(hosts, h);
		if (!json_object_object_get_ex(prof, "processes", &procs))
			continue;
		for (size_t j = 0; j < json_object_array_length(procs); j++) {
			json_object *src = json_object_array_get_idx(procs, j);
			json_object *o = json_object_new_object();
			double u = jv_num(src, "utilization");

			json_object_object_add(o, "node", json_object_new_string(p->nodes[i].name));
			json_object_object_foreach(src, key, val)
			{
				if (!strcmp(key, "name"))
					json_object_object_add(o, "process", json_object_get(val));
				else
					json_object_object_add(o, key, json_object_get(val));
			}
			json_object_object_add(o, "utilization", num(u));
			json_object_object_add(o, "demand_ms", num(x > 0 ? u / x * 1e3 : 0));
			json_object_object_add(o, "components",
					       components_of(&p->nodes[i], jv_str(src, "name"), x));
			json_object_array_add(nodes, o);
		}
	}
	json_object_object_add(pt, "nodes", nodes);
	json_object_object_add(pt, "hosts", hosts);
}

static json_object *point_json(struct point *p, const struct load_result *res)
{
	json_object *pt = json_object_new_object(), *ss = json_object_new_object();
	json_object *errs = json_object_new_object();
	double window = p->measure_to_s - p->measure_from_s;
	bool done = p->phase == PH_DONE;
	double x = done && window > 0 ? (double)p->requests / window : 0;

	json_object_object_add(pt, "users", json_object_new_int((int)p->users));
	json_object_object_add(
	    ss, "reached", json_object_new_boolean(p->phase == PH_DONE || p->phase == PH_MEASURE));
	json_object_object_add(ss, "at_s", p->steady_at_s > 0 ? num(p->steady_at_s) : NULL);
	json_object_object_add(ss, "window", json_object_new_int((int)p->cfg->window));
	json_object_object_add(ss, "epsilon", num(p->cfg->epsilon));
	json_object_object_add(pt, "steady_state", ss);
	json_object_object_add(pt, "status", json_object_new_string(phase_name[p->phase]));
	if (p->phase == PH_UNSTEADY)
		json_object_object_add(
		    pt, "note",
		    json_object_new_string("no steady state within the warm-up limit: nothing was "
					   "measured (raise --warmup-max, --epsilon or the load)"));
	if (p->phase == PH_FAILED)
		json_object_object_add(pt, "note", json_object_new_string(p->err));
	json_object_object_add(pt, "measure_s", num(done ? window : 0));
	json_object_object_add(pt, "measure_from_s", num(p->measure_from_s));
	json_object_object_add(pt, "measure_to_s", num(p->measure_to_s));
	json_object_object_add(pt, "requests", json_object_new_int64((int64_t)p->requests));
	for (int k = 0; k < LOAD_ERR__COUNT; k++)
		json_object_object_add(errs, load_err_name(k),
				       json_object_new_int64((int64_t)p->errors_by_kind[k]));
	json_object_object_add(pt, "errors", errs);
	json_object_object_add(pt, "throughput", num(x));
	json_object_object_add(pt, "response_ms", latency_json(&p->hist));
	json_object_object_add(pt, "run_requests", json_object_new_int64((int64_t)res->requests));
	json_object_object_add(pt, "run_s", num(res->duration_s));
	add_profiles(pt, p, x);
	json_object_object_add(pt, "series", json_object_get(p->series));
	if (done && p->cfg->api) {
		/* Trajectories settle a moment after their last message. */
		sleep(2);
		json_object_object_add(
		    pt, "breakdown", profile_breakdown(p->cfg->api, p->wall_from, p->wall_to, 200));
	}
	return pt;
}

static int run_point(const struct prof_config *cfg, const struct profile_trans *t,
		     struct uri_set *set, struct prof_node *nodes, size_t nnodes, unsigned users,
		     unsigned ordinal, json_object **out, char *err, size_t errcap)
{
	struct load_config lc = LOAD_CONFIG_INIT;
	struct load_result res = {0};
	struct point *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	p->cfg = cfg;
	p->trans = t->name;
	p->users = users;
	p->nodes = nodes;
	p->nnodes = nnodes;
	p->series = json_object_new_array();
	p->steady = steady__new(1, cfg->window, cfg->epsilon);
	if (p->steady) /* one lucky comparison of noisy windows is not a steady state */
		steady__set_hold(p->steady, cfg->window);
	hist__reset(&p->hist);
	snprintf(p->id, sizeof(p->id), "wp%ld-%u", (long)getpid(), ordinal);
	if (!p->steady || !p->series) {
		ret = -ENOMEM;
		goto cleanup;
	}
	lc.uris = set->v;
	lc.nuris = set->n;
	lc.host = t->host;
	lc.port = t->port;
	lc.threads = cfg->threads < users ? cfg->threads : users;
	lc.connections = users;
	lc.think_ns = (uint64_t)(cfg->think_ms * 1e6);
	lc.think = cfg->think;
	lc.ramp_ns = 0;
	lc.duration_ns = (uint64_t)((cfg->warmup_max_s + cfg->measure_s + 5) * 1e9);
	lc.timeout_ns = (uint64_t)(cfg->timeout_s * 1e9);
	lc.seed = 1 + ordinal;
	lc.on_second = on_second;
	lc.ctx = p;
	lc.stop = cfg->stop;
	ret = load_run(&lc, &res);
	if (p->cfg->progress)
		fprintf(stderr, "\r\033[K");
	if (ret) {
		snprintf(err, errcap, "%s: load: %s", t->name, res.error);
		goto cleanup;
	}
	if (p->started) { /* interrupted in the window */
		for (size_t i = 0; i < p->started; i++)
			prof_node__abort(&nodes[i], p->id);
		p->started = 0;
	}
	*out = point_json(p, &res);
	fprintf(stderr, "[%s] users %u: %s", t->name, users, phase_name[p->phase]);
	if (p->phase == PH_DONE)
		fprintf(stderr, ", steady at %.0f s, X = %.1f/s over %.0f s\n", p->steady_at_s,
			jv_num(*out, "throughput"), p->measure_to_s - p->measure_from_s);
	else
		fprintf(stderr, "%s%s\n", p->phase == PH_FAILED ? ": " : "",
			p->phase == PH_FAILED ? p->err : "");
cleanup:
	load_result__free(&res);
	json_object_put(p->series);
	steady__free(p->steady);
	free(p);
	return ret;
}

/* The JVM agent's filter of a javaNode: its components as class.method
 * patterns, separated by ';' (docs/jvm-agent.md). */
static char *agent_filter(const struct profile_node *sn)
{
	size_t len = 1;
	char *f;

	for (size_t c = 0; c < sn->ncomponents; c++)
		len += strlen(sn->components[c].name) + strlen(sn->components[c].interface) + 2;
	if (!(f = malloc(len)))
		return NULL;
	f[0] = '\0';
	for (size_t c = 0; c < sn->ncomponents; c++)
		sprintf(f + strlen(f), "%s%s.%s", c ? ";" : "", sn->components[c].name,
			sn->components[c].interface);
	return f;
}

/* Room for one more process on a node, zeroed. */
static int grow(struct prof_node *pn)
{
	struct prof_proc *v = realloc(pn->procs, (pn->nprocs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	pn->procs = v;
	memset(&v[pn->nprocs], 0, sizeof(*v));
	return 0;
}

/* The nodes of a transaction: one per distinct node name, with its processes. */
static int nodes_of(const struct prof_config *cfg, const struct profile_trans *t,
		    struct prof_node **out, size_t *nout)
{
	struct prof_node *v = calloc(t->nnodes ? t->nnodes : 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct profile_node *sn = &t->nodes[i];
		struct prof_node *pn = NULL;
		struct prof_proc *proc;

		for (size_t j = 0; j < n && !pn; j++)
			if (!strcmp(v[j].name, sn->node))
				pn = &v[j];
		if (!pn) {
			pn = &v[n++];
			pn->api = cfg->api;
			if (!(pn->name = strdup(sn->node)))
				goto oom;
		}
		if (grow(pn))
			goto oom;
		proc = &pn->procs[pn->nprocs++];
		if (!(proc->name = strdup(sn->process)) ||
		    (sn->ncomponents && !(proc->filter = agent_filter(sn))))
			goto oom;
	}
	*out = v;
	*nout = n;
	return 0;
oom:
	for (size_t j = 0; j < n; j++)
		prof_node__free(&v[j]);
	free(v);
	return -ENOMEM;
}

json_object *profile_headline_point(json_object *points)
{
	json_object *best = NULL;

	for (size_t i = 0; points && i < json_object_array_length(points); i++) {
		json_object *pt = json_object_array_get_idx(points, i);

		if (!best ||
		    (jv_num(pt, "throughput") > 0 && jv_num(pt, "users") >= jv_num(best, "users")))
			best = pt;
	}
	return best;
}

/* Copies the figures of the point with the most users to the transaction's
 * top level: the report's headline for that transaction. */
static void headline(json_object *tr, json_object *points)
{
	static const char *keys[] = {"users", "throughput", "response_ms", "steady_state",
				     "nodes", "breakdown",  "measure_s",   "errors"};
	json_object *best = profile_headline_point(points), *v;

	for (size_t k = 0; best && k < sizeof(keys) / sizeof(*keys); k++)
		if (json_object_object_get_ex(best, keys[k], &v))
			json_object_object_add(tr, keys[k], json_object_get(v));
}

int profile_run(const struct prof_config *cfg, json_object **report, char *err, size_t errcap)
{
	struct profile_spec spec = {0};
	struct prof_node **nodes = NULL;
	size_t *nnodes = NULL;
	struct uri_set *sets = NULL;
	json_object *doc = NULL, *list;
	unsigned ordinal = 0;
	int ret;

	*report = NULL;
	if ((ret = profile_spec__load(&spec, cfg->spec_path, err, errcap)))
		return ret;
	nodes = calloc(spec.ntrans, sizeof(*nodes));
	nnodes = calloc(spec.ntrans, sizeof(*nnodes));
	sets = calloc(spec.ntrans, sizeof(*sets));
	if (!nodes || !nnodes || !sets) {
		ret = -ENOMEM;
		snprintf(err, errcap, "out of memory");
		goto cleanup;
	}
	/* Everything is checked before any load: URI files, nodes, processes. */
	for (size_t t = 0; t < spec.ntrans; t++) {
		const struct profile_trans *tr = &spec.trans[t];

		if ((ret = uri_set__load(&sets[t], tr->uri_file, err, errcap)))
			goto cleanup;
		if ((ret = nodes_of(cfg, tr, &nodes[t], &nnodes[t]))) {
			snprintf(err, errcap, "out of memory");
			goto cleanup;
		}
		for (size_t i = 0; i < nnodes[t]; i++) {
			char why[512];

			if ((ret = prof_node__check(&nodes[t][i], why, sizeof(why)))) {
				snprintf(err, errcap, "%s: transaction '%s': %s", cfg->spec_path,
					 tr->name, why);
				goto cleanup;
			}
		}
	}
	doc = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(doc, "spec", json_object_new_string(cfg->spec_path));
	json_object_object_add(doc, "mode",
			       json_object_new_string(cfg->api ? "server" : "single-host"));
	json_object_object_add(doc, "server", cfg->api ? json_object_new_string(cfg->api) : NULL);
	json_object_object_add(doc, "think_ms", num(cfg->think_ms));
	json_object_object_add(doc, "started_ns", json_object_new_int64((int64_t)wall_ns()));
	json_object_object_add(doc, "transactions", list);
	for (size_t t = 0; t < spec.ntrans && !(cfg->stop && *cfg->stop); t++) {
		const struct profile_trans *tr = &spec.trans[t];
		json_object *o = json_object_new_object(), *points = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(tr->name));
		json_object_object_add(o, "host", json_object_new_string(tr->host));
		json_object_object_add(o, "port", json_object_new_string(tr->port));
		json_object_object_add(o, "uri_file", json_object_new_string(tr->uri_file));
		json_object_object_add(o, "points", points);
		json_object_array_add(list, o);
		for (size_t k = 0; k < cfg->npoints && !(cfg->stop && *cfg->stop); k++) {
			json_object *pt = NULL;

			ret = run_point(cfg, tr, &sets[t], nodes[t], nnodes[t], cfg->users[k],
					++ordinal, &pt, err, errcap);
			if (ret)
				goto cleanup;
			json_object_array_add(points, pt);
		}
		headline(o, points);
		profile_model(o, cfg->think_ms / 1e3);
	}
	profile_mix_model(doc, cfg->think_ms / 1e3);
	json_object_object_add(doc, "finished_ns", json_object_new_int64((int64_t)wall_ns()));
	*report = doc;
	doc = NULL;
	ret = 0;
cleanup:
	json_object_put(doc);
	for (size_t t = 0; t < spec.ntrans; t++) {
		if (sets)
			uri_set__free(&sets[t]);
		for (size_t i = 0; nodes && i < nnodes[t]; i++)
			prof_node__free(&nodes[t][i]);
		if (nodes)
			free(nodes[t]);
	}
	free(sets);
	free(nodes);
	free(nnodes);
	profile_spec__free(&spec);
	return ret;
}

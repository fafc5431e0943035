/* The capacity model of one transaction: its measured demands become the
 * stations of a closed queueing network solved by Mean Value Analysis.
 *
 * A station is a machine, not a node: nodes whose profiles report the same
 * boot id share one machine's CPUs (network namespaces or containers on one
 * host), so their demands add up at one station with that machine's CPU
 * count as servers. The demand of a station is the mean over the measured
 * points of the machine's host-wide CPU busy time per transaction (what
 * vmstat shows, divided by X), never less than its listed processes' sum:
 * everything on the machine queues for the same CPUs. What the CPUs
 * do not explain (network, client, unlisted processes) becomes a delay
 * station calibrated at the smallest measured population. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profile/mva.h"
#include "common/jsonv.h"
#include "profile/profile.h"

#define MODEL_STATIONS_MAX 64
#define MODEL_N_MAX	   2000
#define MODEL_POINTS_MAX   32

struct station {
	char key[128];		       /* boot id, else the node's name */
	char name[256];		       /* the nodes on it, "web1+db1" */
	double demand_ms_sum;	       /* host-wide CPU per transaction, summed over points */
	double proc_demand_ms_sum;     /* the listed processes' share of it */
	unsigned npoints;	       /* points that measured it */
	double x[MODEL_POINTS_MAX];    /* per point: throughput, transactions/s */
	double busy[MODEL_POINTS_MAX]; /* per point: busy CPUs of the machine */
	unsigned cpus;
};

static struct station *station_of(struct station *st, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(st[i].key, key))
			return &st[i];
	if (*n == MODEL_STATIONS_MAX)
		return NULL;
	memset(&st[*n], 0, sizeof(*st));
	strncpy(st[*n].key, key, sizeof(st->key) - 1);
	return &st[(*n)++];
}

/* Adds one point's demands to the stations. */
static void add_point(struct station *st, size_t *n, json_object *pt)
{
	json_object *hosts = jv_member(pt, "hosts"), *nodes = jv_member(pt, "nodes");
	double demand[MODEL_STATIONS_MAX] = {0}, host_demand[MODEL_STATIONS_MAX] = {0};
	bool seen[MODEL_STATIONS_MAX] = {0};
	double x = jv_num(pt, "throughput");

	if (x <= 0 || !hosts || !nodes)
		return;
	for (size_t i = 0; i < json_object_array_length(hosts); i++) {
		json_object *h = json_object_array_get_idx(hosts, i),
			    *prof = jv_member(h, "profile");
		const char *node = json_object_get_string(jv_member(h, "node"));
		const char *boot = json_object_get_string(jv_member(prof, "boot_id"));
		struct station *s = station_of(st, n, boot && *boot ? boot : node);
		size_t k;

		if (!s)
			continue;
		k = (size_t)(s - st);
		if (!strstr(s->name, node) &&
		    strlen(s->name) + strlen(node) + 2 < sizeof(s->name)) {
			if (*s->name)
				strcat(s->name, "+");
			strcat(s->name, node);
		}
		s->cpus = (unsigned)jv_num(prof, "cpus");
		if (!s->cpus)
			s->cpus = 1;
		/* every node on a machine reports the same host figures */
		host_demand[k] =
		    jv_num(jv_member(prof, "host"), "cpu_utilization") * s->cpus / x * 1e3;
		for (size_t j = 0; j < json_object_array_length(nodes); j++) {
			json_object *p = json_object_array_get_idx(nodes, j);

			if (!strcmp(json_object_get_string(jv_member(p, "node")), node))
				demand[k] += jv_num(p, "demand_ms");
		}
		seen[k] = true;
	}
	for (size_t k = 0; k < *n; k++) {
		if (!seen[k])
			continue;
		/* Whatever runs on the machine competes for its CPUs (the client,
		 * weft, softirq work), so the host-wide busy time is the demand; the
		 * listed processes' part is reported beside it. */
		st[k].demand_ms_sum += host_demand[k] > demand[k] ? host_demand[k] : demand[k];
		st[k].proc_demand_ms_sum += demand[k];
		if (st[k].npoints < MODEL_POINTS_MAX) {
			st[k].x[st[k].npoints] = x;
			st[k].busy[st[k].npoints] = host_demand[k] * x / 1e3;
		}
		st[k].npoints++;
	}
}

/* A station's demand in ms. With three or more populations, the slope of
 * the machine's busy CPUs against throughput (U = U0 + D X, least squares):
 * work that does not grow with the load (weft itself, other daemons) goes
 * to the intercept U0 instead of inflating D at low throughput, and slows
 * the station by the CPUs it keeps busy: D c / (c - U0). Otherwise,
 * and when the fit is not sensible, the mean of busy time per transaction.
 * Never less than the listed processes' own demand. */
static double station_demand_ms(const struct station *s)
{
	unsigned n = s->npoints < MODEL_POINTS_MAX ? s->npoints : MODEL_POINTS_MAX;
	double mean = s->demand_ms_sum / s->npoints, floor = s->proc_demand_ms_sum / s->npoints;
	double mx = 0, mu = 0, sxx = 0, sxu = 0, d, u0;

	if (n >= 3) {
		for (unsigned i = 0; i < n; i++) {
			mx += s->x[i] / n;
			mu += s->busy[i] / n;
		}
		for (unsigned i = 0; i < n; i++) {
			sxx += (s->x[i] - mx) * (s->x[i] - mx);
			sxu += (s->x[i] - mx) * (s->busy[i] - mu);
		}
		d = sxx > 0 ? sxu / sxx * 1e3 : 0;
		u0 = mu - d / 1e3 * mx;
		/* the background keeps u0 of the c CPUs busy: the load is served at
		 * the rate of what is left (a shadow server's reduced speed) */
		if (d > 0 && u0 >= 0 && u0 < s->cpus)
			mean = d * s->cpus / (s->cpus - u0);
	}
	return mean > floor ? mean : floor;
}

/* Measured response time minus the model's at the smallest measured
 * population, in seconds; 0 when the model already accounts for it all. */
static double residual_delay(json_object *points, const struct mva_result *res)
{
	json_object *low = NULL;
	unsigned users;
	double d;

	for (size_t i = 0; points && i < json_object_array_length(points); i++) {
		json_object *pt = json_object_array_get_idx(points, i);

		if (jv_num(pt, "throughput") > 0 &&
		    (!low || jv_num(pt, "users") < jv_num(low, "users")))
			low = pt;
	}
	users = low ? (unsigned)jv_num(low, "users") : 0;
	if (!users || users > res->nmax)
		return 0;
	d = jv_num(jv_member(low, "response_ms"), "mean") / 1e3 - res->points[users - 1].r_s;
	return d > 0 ? d : 0;
}

int profile_model(json_object *trans, double think_s)
{
	json_object *points = jv_member(trans, "points"), *model, *stations, *curve, *measured;
	struct station st[MODEL_STATIONS_MAX];
	struct mva_station ms[MODEL_STATIONS_MAX];
	struct mva_result res = {0};
	size_t n = 0;
	unsigned nmax = 1;
	double delay_s;
	int err;

	for (size_t i = 0; points && i < json_object_array_length(points); i++) {
		json_object *pt = json_object_array_get_idx(points, i);

		add_point(st, &n, pt);
		if ((unsigned)jv_num(pt, "users") > nmax)
			nmax = (unsigned)jv_num(pt, "users");
	}
	model = json_object_new_object();
	json_object_object_add(trans, "model", model);
	if (!n) {
		json_object_object_add(
		    model, "note", json_object_new_string("no measured demand: nothing to model"));
		return -ENODATA;
	}
	for (size_t k = 0; k < n; k++)
		ms[k] = (struct mva_station){.name = st[k].name,
					     .demand_s = station_demand_ms(&st[k]) / 1e3,
					     .servers = st[k].cpus};
	/* The curve reaches well past the knee so that saturation shows. */
	err = mva_solve(ms, n, think_s, MODEL_N_MAX, &res);
	/* Time the profiled CPUs do not account for (the network, the client,
	 * processes not listed) is a delay station, measured once at the
	 * smallest population where queueing for the CPUs is least. */
	delay_s = err ? 0 : residual_delay(points, &res);
	if (!err && delay_s > 0) {
		mva_result__free(&res);
		err = mva_solve(ms, n, think_s + delay_s, MODEL_N_MAX, &res);
	}
	if (err) {
		json_object_object_add(model, "note", json_object_new_string("the model failed"));
		return err;
	}
	nmax *= 2;
	if (res.n_star * 3 > nmax)
		nmax = (unsigned)ceil(res.n_star * 3);
	if (nmax > MODEL_N_MAX)
		nmax = MODEL_N_MAX;
	json_object_object_add(
	    model, "method",
	    json_object_new_string("exact MVA, closed network; multi-CPU "
				   "stations by Seidmann's approximation; a delay "
				   "station for time outside the profiled CPUs"));
	json_object_object_add(model, "think_s", json_object_new_double(think_s));
	json_object_object_add(model, "delay_ms", json_object_new_double(delay_s * 1e3));
	stations = json_object_new_array();
	for (size_t k = 0; k < n; k++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(st[k].name));
		json_object_object_add(o, "demand_ms",
				       json_object_new_double(ms[k].demand_s * 1e3));
		json_object_object_add(o, "servers", json_object_new_int((int)ms[k].servers));
		json_object_object_add(
		    o, "process_demand_ms",
		    json_object_new_double(st[k].proc_demand_ms_sum / st[k].npoints));
		json_object_array_add(stations, o);
	}
	json_object_object_add(model, "stations", stations);
	json_object_object_add(model, "bottleneck",
			       json_object_new_string(st[res.bottleneck].name));
	json_object_object_add(model, "x_max", json_object_new_double(res.x_max));
	json_object_object_add(model, "n_star", json_object_new_double(res.n_star));
	json_object_object_add(model, "d_total_ms", json_object_new_double(res.d_total * 1e3));
	curve = json_object_new_array();
	for (unsigned i = 0; i < nmax; i++) {
		const struct mva_point *p = &res.points[i];
		json_object *o = json_object_new_object(), *u = json_object_new_array();

		json_object_object_add(o, "users", json_object_new_int((int)p->n));
		json_object_object_add(o, "throughput", json_object_new_double(p->x));
		json_object_object_add(o, "response_ms",
				       json_object_new_double((p->r_s + delay_s) * 1e3));
		for (size_t k = 0; k < n; k++)
			json_object_array_add(u, json_object_new_double(p->u[k]));
		json_object_object_add(o, "utilization", u);
		json_object_array_add(curve, o);
	}
	json_object_object_add(model, "curve", curve);
	/* Prediction against every measured point. */
	measured = json_object_new_array();
	for (size_t i = 0; points && i < json_object_array_length(points); i++) {
		json_object *pt = json_object_array_get_idx(points, i), *o;
		unsigned users = (unsigned)jv_num(pt, "users");
		double x = jv_num(pt, "throughput"), xp;

		if (!users || users > MODEL_N_MAX || x <= 0)
			continue;
		xp = res.points[users - 1].x;
		o = json_object_new_object();
		json_object_object_add(o, "users", json_object_new_int((int)users));
		json_object_object_add(o, "measured_throughput", json_object_new_double(x));
		json_object_object_add(o, "predicted_throughput", json_object_new_double(xp));
		json_object_object_add(o, "error_pct", json_object_new_double((xp - x) / x * 100));
		json_object_object_add(
		    o, "measured_response_ms",
		    json_object_new_double(jv_num(jv_member(pt, "response_ms"), "mean")));
		json_object_object_add(
		    o, "predicted_response_ms",
		    json_object_new_double((res.points[users - 1].r_s + delay_s) * 1e3));
		json_object_array_add(measured, o);
	}
	json_object_object_add(model, "measured", measured);
	mva_result__free(&res);
	return 0;
}

/* Several transactions mixed: one class per transaction with the users it
 * was measured with (its headline population), its stations' demands and
 * delay, solved together by multi-class exact MVA. Stations are matched by
 * name across transactions; a transaction that does not visit one has no
 * demand there. */
int profile_mix_model(json_object *report, double think_s)
{
	json_object *list = jv_member(report, "transactions"), *mix, *classes, *stations;
	size_t nc = 0, k = 0;
	const char *names[MODEL_STATIONS_MAX];
	unsigned servers[MODEL_STATIONS_MAX];
	double *d = NULL, *z = NULL, *x = NULL, *r = NULL, u[MODEL_STATIONS_MAX];
	unsigned *n = NULL;
	json_object **tr = NULL;
	int err = -ENOMEM;

	if (!list || json_object_array_length(list) < 2)
		return 0;
	nc = json_object_array_length(list);
	tr = calloc(nc, sizeof(*tr));
	d = calloc(nc * MODEL_STATIONS_MAX, sizeof(*d));
	z = calloc(nc, sizeof(*z));
	x = calloc(nc, sizeof(*x));
	r = calloc(nc, sizeof(*r));
	n = calloc(nc, sizeof(*n));
	if (!tr || !d || !z || !x || !r || !n)
		goto cleanup;
	for (size_t c = 0; c < nc; c++) {
		json_object *t = json_object_array_get_idx(list, c), *m = jv_member(t, "model");
		json_object *st = jv_member(m, "stations");

		tr[c] = t;
		n[c] = (unsigned)jv_num(t, "users");
		z[c] = think_s + jv_num(m, "delay_ms") / 1e3;
		for (size_t i = 0; st && i < json_object_array_length(st); i++) {
			json_object *s = json_object_array_get_idx(st, i);
			const char *name = json_object_get_string(jv_member(s, "name"));
			size_t j;

			for (j = 0; j < k && strcmp(names[j], name); j++)
				;
			if (j == k) {
				if (k == MODEL_STATIONS_MAX)
					continue;
				names[k] = name;
				servers[k++] = (unsigned)jv_num(s, "servers");
			}
			d[c * MODEL_STATIONS_MAX + j] = jv_num(s, "demand_ms") / 1e3;
		}
	}
	/* the solver wants the demands packed k to a class */
	for (size_t c = 1; c < nc; c++)
		memmove(d + c * k, d + c * MODEL_STATIONS_MAX, k * sizeof(*d));
	mix = json_object_new_object();
	json_object_object_add(report, "mix_model", mix);
	err = k ? mva_solve_multi(d, servers, k, nc, n, z, x, r, u) : -ENODATA;
	if (err) {
		json_object_object_add(
		    mix, "note",
		    json_object_new_string(err == -E2BIG
					       ? "too many users for exact multi-class MVA"
					       : "no common demand to model"));
		goto cleanup;
	}
	json_object_object_add(mix, "method", json_object_new_string("exact multi-class MVA"));
	classes = json_object_new_array();
	for (size_t c = 0; c < nc; c++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_get(jv_member(tr[c], "name")));
		json_object_object_add(o, "users", json_object_new_int((int)n[c]));
		json_object_object_add(o, "throughput", json_object_new_double(x[c]));
		json_object_object_add(o, "response_ms",
				       json_object_new_double((r[c] + z[c] - think_s) * 1e3));
		json_object_array_add(classes, o);
	}
	json_object_object_add(mix, "classes", classes);
	stations = json_object_new_array();
	for (size_t j = 0; j < k; j++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(names[j]));
		json_object_object_add(o, "servers", json_object_new_int((int)servers[j]));
		json_object_object_add(o, "utilization", json_object_new_double(u[j]));
		json_object_array_add(stations, o);
	}
	json_object_object_add(mix, "stations", stations);
cleanup:
	free(tr);
	free(d);
	free(z);
	free(x);
	free(r);
	free(n);
	return err;
}

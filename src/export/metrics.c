/* Prometheus metrics (see metrics.h): live series in uthash tables owned by
 * the server's thread, a set of counted span ids in two generations, and
 * refcounted snapshots that scrapes render. */
#include "export/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "export/textw.h"
#include "version.h"

/* Upper bounds of the latency buckets: 1 ms to 10 s. */
static const uint64_t bucket_ns[] = {
    1000000ull,	   2500000ull,	  5000000ull,	  10000000ull,	25000000ull,
    50000000ull,   100000000ull,  250000000ull,	  500000000ull, 1000000000ull,
    2500000000ull, 5000000000ull, 10000000000ull,
};
static const char *const bucket_le[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
					"0.25",	 "0.5",	   "1",	    "2.5",  "5",     "10"};
#define NBUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))

/* One service as labels show it. Zeroed before filling: it is part of a
 * hashed key. */
struct svc_label {
	char name[96];
	char host[64];
	uint32_t port;
};

struct series_key {
	struct svc_label client; /* zero in per-service series */
	struct svc_label server;
};

struct series_data {
	struct series_key key;
	uint64_t requests;
	uint64_t errors;
	uint64_t sum_ns;
	uint64_t buckets[NBUCKETS + 1]; /* per bucket, not cumulative; the last: above 10 s */
};

struct series {
	struct series_data d;
	UT_hash_handle hh;
};

struct family {
	struct series *by_key;
	int n, max;
	struct series *other; /* where requests go past max */
	uint64_t folded;      /* requests counted in other */
};

/* Span ids already counted: open addressing, 0 marks a free slot (weft ids
 * are never 0). Two generations: inserts go to the current one, lookups
 * check both, and the older is cleared when the current is old or full. */
struct idset {
	uint64_t *slots;
	size_t cap; /* a power of two */
	size_t n;
	uint64_t started_mono;
};

struct metrics_snapshot {
	int refs; /* atomic */
	struct metrics_server srv;
	struct metrics_sensor *sensors;
	int nsensors;
	struct series_data *edges, *services;
	int nedges, nservices;
	uint64_t folded_edges, folded_services;
	int max_edges, max_services;
};

/* The series a (client service, server service) pair counts in, found
 * once: labels are made and hashed only the first time a pair is seen. */
struct pair {
	uint64_t key[2]; /* client, server service ids */
	struct series *edge, *service;
	bool edge_folded, service_folded;
	UT_hash_handle hh;
};

struct metrics {
	struct metrics_opts opts;
	struct family edges, services;
	struct pair *pairs;
	int npairs;
	struct idset ids[2];
	int cur; /* the generation inserts go to */

	pthread_mutex_t lock; /* guards published */
	struct metrics_snapshot *published;
};

void metrics_opts_defaults(struct metrics_opts *o)
{
	o->max_edges = 500;
	o->max_services = 200;
	o->horizon_ns = 120000000000ull;
	o->max_ids = 1u << 20;
}

/* ---- counted span ids ------------------------------------------------------------------------ */

static size_t id_slot(uint64_t id, size_t cap)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static bool idset_has(const struct idset *s, uint64_t id)
{
	if (!s->cap)
		return false;
	for (size_t i = id_slot(id, s->cap);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == id)
			return true;
		if (!s->slots[i])
			return false;
	}
}

static void idset_put(struct idset *s, uint64_t id)
{
	size_t i;

	for (i = id_slot(id, s->cap); s->slots[i]; i = (i + 1) & (s->cap - 1))
		if (s->slots[i] == id)
			return;
	s->slots[i] = id;
	s->n++;
}

/* Doubles the table at half load. */
static int idset_grow(struct idset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 4096;
	struct idset g = {.slots = calloc(cap, sizeof(uint64_t)), .cap = cap};

	if (!g.slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			idset_put(&g, s->slots[i]);
	free(s->slots);
	s->slots = g.slots;
	s->cap = cap;
	return 0;
}

static void ids_rotate(struct metrics *m, uint64_t now)
{
	struct idset *old = &m->ids[!m->cur];

	free(old->slots);
	*old = (struct idset){.started_mono = now};
	m->cur = !m->cur;
}

/* True the first time id is seen within the horizon. */
static bool ids_first(struct metrics *m, uint64_t id, uint64_t now)
{
	struct idset *cur = &m->ids[m->cur];

	if (idset_has(cur, id) || idset_has(&m->ids[!m->cur], id))
		return false;
	if (now - cur->started_mono >= m->opts.horizon_ns || cur->n >= m->opts.max_ids) {
		ids_rotate(m, now);
		cur = &m->ids[m->cur];
	}
	if ((cur->n + 1) * 2 > cur->cap && idset_grow(cur))
		return true; /* counted, not remembered: a revision may count it again */
	idset_put(cur, id);
	return true;
}

/* ---- series ---------------------------------------------------------------------------------- */

static void label_of(struct svc_label *l, const struct svc_table *svcs, uint64_t id)
{
	const struct svc_entry *e = svc_table__get(svcs, id);

	memset(l, 0, sizeof(*l));
	if (!e) {
		snprintf(l->name, sizeof(l->name), "%016" PRIx64, id);
		return;
	}
	snprintf(l->name, sizeof(l->name), "%.95s", e->name);
	snprintf(l->host, sizeof(l->host), "%s", e->svc.host);
	l->port = e->svc.port;
}

static struct series *series_new(const struct series_key *key)
{
	struct series *s = calloc(1, sizeof(*s));

	if (s)
		s->d.key = *key;
	return s;
}

/* The series of key, or the family's "other" once it holds max series. */
static struct series *series_find(struct family *f, const struct series_key *key, bool *folded)
{
	struct series *s;

	*folded = false;
	HASH_FIND(hh, f->by_key, key, sizeof(*key), s);
	if (s)
		return s;
	if (f->n < f->max) {
		s = series_new(key);
		if (!s)
			return NULL;
		HASH_ADD(hh, f->by_key, d.key, sizeof(s->d.key), s);
		f->n++;
		return s;
	}
	if (!f->other) {
		struct series_key other;

		memset(&other, 0, sizeof(other));
		strcpy(other.server.name, "other");
		if (key->client.name[0])
			strcpy(other.client.name, "other");
		f->other = series_new(&other);
	}
	*folded = f->other != NULL;
	return f->other;
}

static void series_count(struct family *f, struct series *s, bool folded, uint64_t dur_ns,
			 bool error)
{
	size_t b = 0;

	if (!s)
		return;
	while (b < NBUCKETS && dur_ns > bucket_ns[b])
		b++;
	s->d.requests++;
	s->d.errors += error;
	s->d.sum_ns += dur_ns;
	s->d.buckets[b]++;
	f->folded += folded;
}

static void pairs_clear(struct metrics *m)
{
	struct pair *p, *tmp;

	HASH_ITER(hh, m->pairs, p, tmp)
	{
		HASH_DEL(m->pairs, p);
		free(p);
	}
	m->npairs = 0;
}

/* The series of a pair of services. The cache is bounded: past a few times
 * the series there can be (peers without a sensor are a service each) it
 * starts again. */
static struct pair *pair_find(struct metrics *m, const struct svc_table *svcs, uint64_t client,
			      uint64_t server)
{
	uint64_t key[2] = {client, server};
	struct series_key sk;
	struct pair *p;

	HASH_FIND(hh, m->pairs, key, sizeof(key), p);
	if (p)
		return p;
	if (m->npairs >= 4 * (m->edges.max + m->services.max) + 64)
		pairs_clear(m);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	memcpy(p->key, key, sizeof(key));
	label_of(&sk.client, svcs, client);
	label_of(&sk.server, svcs, server);
	p->edge = series_find(&m->edges, &sk, &p->edge_folded);
	memset(&sk.client, 0, sizeof(sk.client));
	p->service = series_find(&m->services, &sk, &p->service_folded);
	HASH_ADD(hh, m->pairs, key, sizeof(p->key), p);
	m->npairs++;
	return p;
}

static uint64_t side_ns(const struct weft_side *s)
{
	return s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
}

void metrics__trajectory(struct metrics *m, const struct weft_trajectory *t,
			 const struct svc_table *svcs, uint64_t now_mono)
{
	for (int i = 0; i < t->nspans; i++) {
		const struct weft_span *s = &t->spans[i];
		struct pair *p;
		uint64_t dur;

		/* method calls are not requests between services; a span still
		 * waiting for its response is counted when it has one */
		if (s->protocol == WEFT_PROTO_METHOD || !(s->response_bytes || s->error))
			continue;
		if (!ids_first(m, s->id, now_mono))
			continue;
		dur = s->client.observed ? side_ns(&s->client) : side_ns(&s->server);
		p = pair_find(m, svcs, s->client_service, s->server_service);
		if (!p)
			continue;
		series_count(&m->edges, p->edge, p->edge_folded, dur, s->error);
		series_count(&m->services, p->service, p->service_folded, dur, s->error);
	}
}

/* ---- snapshots ------------------------------------------------------------------------------- */

static void snapshot_put(struct metrics_snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL))
		return;
	free(s->sensors);
	free(s->edges);
	free(s->services);
	free(s);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct series_data *)a)->key, &((const struct series_data *)b)->key,
		      sizeof(struct series_key));
}

/* The family's series, sorted by labels, "other" last. */
static struct series_data *family_copy(const struct family *f, int *n)
{
	struct series_data *out = malloc(((size_t)f->n + 1) * sizeof(*out));
	struct series *s, *tmp;
	int k = 0;

	if (!out)
		return NULL;
	HASH_ITER(hh, f->by_key, s, tmp)
	out[k++] = s->d;
	qsort(out, (size_t)k, sizeof(*out), key_cmp);
	if (f->other)
		out[k++] = f->other->d;
	*n = k;
	return out;
}

int metrics__publish(struct metrics *m, const struct metrics_server *srv,
		     const struct metrics_sensor *sensors, int nsensors)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s)), *old;

	if (!s)
		return -ENOMEM;
	s->refs = 1;
	if (srv)
		s->srv = *srv;
	s->edges = family_copy(&m->edges, &s->nedges);
	s->services = family_copy(&m->services, &s->nservices);
	s->sensors = malloc(((size_t)nsensors + 1) * sizeof(*s->sensors));
	if (!s->edges || !s->services || !s->sensors) {
		snapshot_put(s);
		return -ENOMEM;
	}
	if (nsensors)
		memcpy(s->sensors, sensors, (size_t)nsensors * sizeof(*sensors));
	s->nsensors = nsensors;
	s->folded_edges = m->edges.folded;
	s->folded_services = m->services.folded;
	s->max_edges = m->edges.max;
	s->max_services = m->services.max;
	pthread_mutex_lock(&m->lock);
	old = m->published;
	m->published = s;
	pthread_mutex_unlock(&m->lock);
	snapshot_put(old);
	return 0;
}

/* ---- exposition text ------------------------------------------------------------------------- */

/* name="value", the value escaped and made valid UTF-8. */
static void out_label(struct textw *o, const char *name, const char *v, bool comma)
{
	textw_printf(o, "%s%s=\"", comma ? "," : "", name);
	textw_label(o, v);
	textw_char(o, '"');
}

static void out_head(struct textw *o, const char *name, const char *type, const char *help)
{
	textw_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void out_port(struct textw *o, const char *name, uint32_t port)
{
	char buf[12] = "";

	if (port)
		snprintf(buf, sizeof(buf), "%u", port);
	out_label(o, name, buf, true);
}

/* The labels of a series, without braces. */
static void out_series_labels(struct textw *o, const struct series_data *d, bool edge)
{
	if (edge) {
		out_label(o, "client", d->key.client.name, false);
		out_label(o, "client_host", d->key.client.host, true);
		out_port(o, "client_port", d->key.client.port);
		out_label(o, "server", d->key.server.name, true);
		out_label(o, "server_host", d->key.server.host, true);
		out_port(o, "server_port", d->key.server.port);
	} else {
		out_label(o, "service", d->key.server.name, false);
		out_label(o, "host", d->key.server.host, true);
		out_port(o, "port", d->key.server.port);
	}
}

static void out_requests(struct textw *o, const char *prefix, const struct series_data *v, int n,
			 bool edge, const char *what)
{
	char name[96], help[256];

	snprintf(name, sizeof(name), "%s_requests_total", prefix);
	snprintf(help, sizeof(help),
		 "Finished requests %s, each counted once when its trajectory is written.", what);
	out_head(o, name, "counter", help);
	for (int i = 0; i < n; i++) {
		textw_printf(o, "%s{", name);
		out_series_labels(o, &v[i], edge);
		textw_printf(o, "} %" PRIu64 "\n", v[i].requests);
	}
	snprintf(name, sizeof(name), "%s_request_errors_total", prefix);
	snprintf(help, sizeof(help),
		 "Failed requests %s: 5xx, a protocol error, a reset or refused connection.", what);
	out_head(o, name, "counter", help);
	for (int i = 0; i < n; i++) {
		textw_printf(o, "%s{", name);
		out_series_labels(o, &v[i], edge);
		textw_printf(o, "} %" PRIu64 "\n", v[i].errors);
	}
	snprintf(name, sizeof(name), "%s_request_duration_seconds", prefix);
	snprintf(help, sizeof(help),
		 "Duration of the requests %s as their client saw it (the server when the "
		 "client has no sensor).",
		 what);
	out_head(o, name, "histogram", help);
	for (int i = 0; i < n; i++) {
		uint64_t cum = 0;

		for (size_t b = 0; b <= NBUCKETS; b++) {
			cum += v[i].buckets[b];
			textw_printf(o, "%s_bucket{", name);
			out_series_labels(o, &v[i], edge);
			textw_printf(o, ",le=\"%s\"} %" PRIu64 "\n",
				     b < NBUCKETS ? bucket_le[b] : "+Inf", cum);
		}
		textw_printf(o, "%s_sum{", name);
		out_series_labels(o, &v[i], edge);
		textw_printf(o, "} %.9f\n", (double)v[i].sum_ns / 1e9);
		textw_printf(o, "%s_count{", name);
		out_series_labels(o, &v[i], edge);
		textw_printf(o, "} %" PRIu64 "\n", v[i].requests);
	}
}

static void out_one(struct textw *o, const char *name, const char *type, const char *help,
		    uint64_t v)
{
	out_head(o, name, type, help);
	textw_printf(o, "%s %" PRIu64 "\n", name, v);
}

static void out_cardinality(struct textw *o, const struct metrics_snapshot *s)
{
	out_head(o, "weft_metrics_series", "gauge",
		 "Request series kept per family (edge, service), the other series included.");
	textw_printf(o, "weft_metrics_series{family=\"edge\"} %d\n", s->nedges);
	textw_printf(o, "weft_metrics_series{family=\"service\"} %d\n", s->nservices);
	out_head(o, "weft_metrics_series_limit", "gauge",
		 "Series per family past which requests are counted in the other series.");
	textw_printf(o, "weft_metrics_series_limit{family=\"edge\"} %d\n", s->max_edges);
	textw_printf(o, "weft_metrics_series_limit{family=\"service\"} %d\n", s->max_services);
	out_head(o, "weft_metrics_folded_requests_total", "counter",
		 "Requests counted in the other series because their family was at its limit.");
	textw_printf(o, "weft_metrics_folded_requests_total{family=\"edge\"} %" PRIu64 "\n",
		     s->folded_edges);
	textw_printf(o, "weft_metrics_folded_requests_total{family=\"service\"} %" PRIu64 "\n",
		     s->folded_services);
}

static void out_server(struct textw *o, const struct metrics_server *v)
{
	out_head(o, "weft_build_info", "gauge", "The running weft's version.");
	textw_printf(o, "weft_build_info{version=\"%s\"} 1\n", WEFT_VERSION);
	out_one(o, "weft_ingest_batches_total", "counter", "Event batches stored.", v->batches);
	out_one(o, "weft_ingest_duplicate_batches_total", "counter",
		"Batches received again after they were stored (acknowledged, skipped).",
		v->duplicate_batches);
	out_one(o, "weft_ingest_events_total", "counter", "Events fed to the correlator.",
		v->events);
	out_one(o, "weft_sensors_connected", "gauge", "Sensors connected now.",
		(uint64_t)v->sensors_connected);
	out_one(o, "weft_trajectories_written_total", "counter",
		"Trajectories written, versions of a trajectory that grew included.",
		v->corr.trajectories);
	out_one(o, "weft_trajectories_retracted_total", "counter",
		"Trajectories deleted because they turned out to be part of another.",
		v->trajectories_retracted);
	out_one(o, "weft_store_commit_failures_total", "counter",
		"Commits the database refused (nothing of them was acknowledged).",
		v->commit_failures);
	out_one(o, "weft_correlator_exchanges_total", "counter",
		"Exchange sides (a request and its response on one host) created.",
		v->corr.exchanges);
	out_one(o, "weft_correlator_matched_total", "counter",
		"Exchanges whose client and server sides were joined.", v->corr.matched);
	out_one(o, "weft_correlator_exchanges", "gauge", "Exchange sides in memory now.",
		v->corr.live_halves);
	out_one(o, "weft_correlator_connections", "gauge", "Connection ends in memory now.",
		v->corr.endpoints);
	out_one(o, "weft_correlator_method_calls_total", "counter",
		"Method calls received from JVM agents.", v->corr.calls);
	out_one(o, "weft_correlator_method_calls_unmatched_total", "counter",
		"Method calls dropped: no exchange of their thread contained them.",
		v->corr.calls_unmatched);
}

/* One family with a sample per sensor; fn gives the value. */
static void out_sensors(struct textw *o, const struct metrics_snapshot *s, const char *name,
			const char *type, const char *help,
			void (*fn)(struct textw *o, const struct metrics_sensor *x))
{
	out_head(o, name, type, help);
	for (int i = 0; i < s->nsensors; i++) {
		textw_printf(o, "%s{", name);
		out_label(o, "sensor", s->sensors[i].id, false);
		out_label(o, "host", s->sensors[i].host, true);
		textw_printf(o, "} ");
		fn(o, &s->sensors[i]);
		textw_printf(o, "\n");
	}
}

static void sv_events(struct textw *o, const struct metrics_sensor *x)
{
	textw_printf(o, "%" PRIu64, x->events);
}
static void sv_batches(struct textw *o, const struct metrics_sensor *x)
{
	textw_printf(o, "%" PRIu64, x->batches);
}
static void sv_ring(struct textw *o, const struct metrics_sensor *x)
{
	textw_printf(o, "%" PRIu64, x->ring_drops);
}
static void sv_spool(struct textw *o, const struct metrics_sensor *x)
{
	textw_printf(o, "%" PRIu64, x->spool_drops);
}
static void sv_lag(struct textw *o, const struct metrics_sensor *x)
{
	textw_printf(o, "%.6f", (double)x->lag_ns / 1e9);
}
static void sv_connected(struct textw *o, const struct metrics_sensor *x)
{
	textw_printf(o, "%d", x->connected);
}
static void sv_seen(struct textw *o, const struct metrics_sensor *x)
{
	textw_printf(o, "%.3f", (double)x->last_seen_ns / 1e9);
}

static void out_all_sensors(struct textw *o, const struct metrics_snapshot *s)
{
	out_sensors(o, s, "weft_sensor_events_total", "counter",
		    "Events received from a sensor since the server started.", sv_events);
	out_sensors(o, s, "weft_sensor_batches_total", "counter",
		    "Batches received from a sensor since the server started.", sv_batches);
	out_sensors(o, s, "weft_sensor_ring_drops_total", "counter",
		    "Events the sensor's kernel ring buffers dropped (as it last reported).",
		    sv_ring);
	out_sensors(o, s, "weft_sensor_spool_dropped_batches_total", "counter",
		    "Batches the sensor's full spool discarded (as it last reported).", sv_spool);
	out_sensors(o, s, "weft_sensor_lag_seconds", "gauge",
		    "Receive time minus the newest event's time in the sensor's last batch.",
		    sv_lag);
	out_sensors(o, s, "weft_sensor_connected", "gauge", "1 while the sensor is connected.",
		    sv_connected);
	out_sensors(o, s, "weft_sensor_last_seen_timestamp_seconds", "gauge",
		    "When the server last heard from the sensor (Unix time).", sv_seen);
}

static void out_otlp(struct textw *o, const struct exporter_stats *x)
{
	out_one(o, "weft_otlp_spans_queued_total", "counter",
		"OTLP spans taken into the export queue.", x->queued);
	out_one(o, "weft_otlp_spans_sent_total", "counter", "OTLP spans the receiver accepted.",
		x->sent);
	out_one(o, "weft_otlp_spans_dropped_total", "counter",
		"OTLP spans not queued because the queue was full.", x->dropped);
	out_one(o, "weft_otlp_spans_failed_total", "counter",
		"OTLP spans given up on: refused, retries used up, or queued at the stop deadline.",
		x->failed);
	out_one(o, "weft_otlp_spans_rejected_total", "counter",
		"OTLP spans the receiver reported rejected in a partial success.", x->rejected);
	out_one(o, "weft_otlp_spans_superseded_total", "counter",
		"OTLP spans replaced in the queue by a newer version of their trajectory.",
		x->superseded);
	out_one(o, "weft_otlp_requests_total", "counter", "Export requests made, retries included.",
		x->requests);
	out_one(o, "weft_otlp_request_failures_total", "counter",
		"Export requests that failed (an error answer, no connection, a timeout).",
		x->request_failures);
	out_one(o, "weft_otlp_retries_total", "counter", "Export requests that were retries.",
		x->retries);
	out_one(o, "weft_otlp_queue_spans", "gauge", "OTLP spans waiting in the queue now.",
		x->queue_spans);
	out_one(o, "weft_otlp_queue_bytes", "gauge", "Bytes of trajectories waiting in the queue.",
		x->queue_bytes);
	out_one(o, "weft_otlp_queue_capacity_spans", "gauge", "OTLP spans the queue holds at most.",
		x->queue_capacity);
	out_head(o, "weft_otlp_last_success_timestamp_seconds", "gauge",
		 "When the receiver last accepted a request (Unix time, 0: never).");
	textw_printf(o, "weft_otlp_last_success_timestamp_seconds %.3f\n",
		     (double)x->last_success_ns / 1e9);
}

char *metrics__render(struct metrics *m, size_t *len)
{
	struct textw o = {0};
	struct metrics_snapshot *s;

	pthread_mutex_lock(&m->lock);
	s = m->published;
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&m->lock);
	out_requests(&o, "weft", s->edges, s->nedges, true, "from one service to another");
	out_requests(&o, "weft_service", s->services, s->nservices, false, "a service served");
	out_cardinality(&o, s);
	out_server(&o, &s->srv);
	out_all_sensors(&o, s);
	if (s->srv.otlp)
		out_otlp(&o, &s->srv.otlp_stats);
	snapshot_put(s);
	return textw_take(&o, len);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

struct metrics *metrics__new(const struct metrics_opts *opts)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	m->opts = *opts;
	m->edges.max = opts->max_edges;
	m->services.max = opts->max_services;
	pthread_mutex_init(&m->lock, NULL);
	if (metrics__publish(m, NULL, NULL, 0)) { /* scrapes before the first publish */
		metrics__free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

static void family_free(struct family *f)
{
	struct series *s, *tmp;

	HASH_ITER(hh, f->by_key, s, tmp)
	{
		HASH_DEL(f->by_key, s);
		free(s);
	}
	free(f->other);
}

void metrics__free(struct metrics *m)
{
	if (!m)
		return;
	pairs_clear(m);
	family_free(&m->edges);
	family_free(&m->services);
	free(m->ids[0].slots);
	free(m->ids[1].slots);
	snapshot_put(m->published);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* The server's main loop: batches from sensors are journaled and fed to the
 * correlator inside one transaction; the trajectories it settles are
 * written in the same transaction; acknowledgements go out only after the
 * commit, so an acknowledged batch is durable. After a restart the recent
 * journal is replayed to rebuild what was in memory. */
#include "server/server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/correlator.h"
#include "api/api.h"
#include "common/clock.h"
#include "common/heap.h"
#include "common/log.h"
#include "common/str.h"
#include "export/exporter.h"
#include "export/metrics.h"
#include "export/services.h"
#include "server/ingest.h"
#include "store/store.h"
#include "version.h"
#include "wire/wire.h"

/* Group commits: acks wait at most this. Each commit rewrites the tables'
 * last pages into the WAL; committing every 50 ms cost about 7% more CPU
 * per event (bench/README.md, SHIP=1). */
#define COMMIT_EVERY_NS	   100000000ull
#define COMMIT_MAX_BATCHES 256
#define TICK_EVERY_NS	   100000000ull
#define HOUSEKEEPING_NS	   1000000000ull
#define PRUNE_EVERY_NS	   60000000000ull
#define METRICS_EVERY_NS   1000000000ull /* a scrape sees counters this old at most */

/* What /api/health shows: copied by the server's thread after each commit
 * and read by the API's threads, which never touch the live tables. */
struct health {
	pthread_mutex_t lock;
	int sensors_connected;
	uint64_t batches, events;
	struct corr_stats corr;
	uint64_t commit_failures;
	char store_error[160]; /* the last commit's failure, "" once a commit succeeds */
	bool otlp;	       /* an exporter runs: otlp is set */
	struct exporter_stats otlp_stats;
};

struct server {
	const struct server_config *cfg;
	struct store *store;
	struct correlator *corr;
	struct ingest *ingest;
	struct api *api;
	struct corr_opts corr_opts;
	struct corr_sink corr_sink;
	struct health health;
	struct svc_table *svcs;		 /* the services named so far, for exports */
	struct metrics *metrics;	 /* /metrics: counted here, published as snapshots */
	struct exporter *exporter;	 /* NULL without --otlp */
	struct metrics_sensor *msensors; /* scratch for publishing sensors */
	int nmsensors, msensors_cap;
	uint64_t retractions;
	uint64_t next_metrics;
	uint32_t pid; /* this process, whose export requests are not exported */
	bool replaying;
	bool in_tx;
	uint64_t tx_started;
	int tx_batches;
	uint64_t next_tick, next_housekeeping, next_prune;
	uint64_t batches, duplicates, events;
	union {
		struct weft_event e;
		uint8_t bytes[sizeof(struct weft_event) + WEFT_PAYLOAD_MAX];
	} scratch;
};

void server_config_defaults(struct server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->ingest_addr, "127.0.0.1");
	cfg->ingest_port = 7071;
	strcpy(cfg->http_addr, "127.0.0.1");
	cfg->http_port = 7070;
	cfg->db_path = "weft.db";
	cfg->retention_ns = 7 * 86400 * 1000000000ull;
	cfg->settle_ns = 500000000ull;
	cfg->keep_ns = 60 * 1000000000ull;
}

/* ---- what the correlator produces goes to the store --------------------------------- */

/* A replay re-emits what was counted and exported before (by this process
 * before a failed commit, or by the last one before a restart): it is only
 * stored. */
static void sink_trajectory(const struct weft_trajectory *t, void *ctx)
{
	struct server *s = ctx;

	store__put_trajectory(s->store, t);
	if (s->replaying)
		return;
	metrics__trajectory(s->metrics, t, s->svcs, mono_ns());
	if (s->exporter && !exporter_own_request(t, s->pid))
		exporter__stage(s->exporter, t, s->svcs);
}

static void sink_retract(uint64_t id, void *ctx)
{
	struct server *s = ctx;

	store__delete_trajectory(s->store, id);
	s->retractions++;
}

static void sink_service(const struct weft_service *svc, void *ctx)
{
	struct server *s = ctx;

	store__put_service(s->store, svc, wall_ns());
	svc_table__put(s->svcs, svc);
}

/* ---- batches ------------------------------------------------------------------------------ */

static int tx_begin(struct server *s)
{
	int err;

	if (s->in_tx)
		return 0;
	err = store__begin(s->store);
	if (err)
		return err;
	s->in_tx = true;
	s->tx_started = mono_ns();
	s->tx_batches = 0;
	return 0;
}

/* Every record must decode before any is used: a batch is taken whole or
 * refused whole. */
/* Feeds a batch to the correlator; returns the number of events and the
 * newest event time. */
static uint64_t batch_feed(struct server *s, const char *host, const uint8_t *p, size_t len,
			   uint64_t *newest)
{
	struct wire_reader r = {p, p + len, false};
	uint64_t now = mono_ns(), n = 0;
	struct wire_rec rec;

	*newest = 0;
	while (wire_next_record(&r, &rec, &s->scratch) > 0) {
		if (rec.kind == WIRE_REC_CALL) {
			struct weft_call call = {.pid = rec.pid,
						 .tid = rec.tid,
						 .start_ns = rec.start_ns,
						 .end_ns = rec.end_ns};

			str_copy(call.name, sizeof(call.name), rec.name);
			correlator__call(s->corr, host, &call, now);
			continue;
		}
		if (rec.kind == WIRE_REC_PROCESS) {
			correlator__process(s->corr, host, rec.pid, rec.comm, rec.exe);
			store__put_process(s->store, host, rec.pid, rec.comm, rec.exe, wall_ns());
			continue;
		}
		correlator__feed(s->corr, host, rec.event, now);
		if (rec.event->ts_ns > *newest)
			*newest = rec.event->ts_ns;
		n++;
	}
	s->events += n;
	return n;
}

static uint64_t on_hello(const char *sensor, const char *host, void *ctx)
{
	struct server *s = ctx;
	uint64_t last = 0;

	(void)host;
	store__last_batch(s->store, sensor, &last);
	return last;
}

static int on_batch(struct ingest_conn *conn, const char *sensor, const char *host, uint64_t seq,
		    const uint8_t *payload, size_t len, void *ctx)
{
	struct server *s = ctx;
	uint64_t newest, n;
	int err;

	if (wire_records_check(payload, len) < 0)
		return -EBADMSG;
	err = tx_begin(s);
	if (err)
		return err;
	err = store__journal_batch(s->store, sensor, seq, wall_ns(), payload, len);
	if (err < 0)
		return err;
	s->tx_batches++;
	if (err == 1) {
		s->duplicates++;
		return 1;
	}
	s->batches++;
	n = batch_feed(s, host, payload, len, &newest);
	ingest__note_events(conn, n, newest);
	return 0;
}

/* store_error: a commit just failed; NULL after one that stored batches
 * (an empty commit succeeds on a full disk too, so it proves nothing). */
static void health_publish(struct server *s, const char *store_error, bool stored)
{
	struct health *h = &s->health;

	pthread_mutex_lock(&h->lock);
	h->sensors_connected = s->ingest ? ingest__connected(s->ingest) : 0;
	h->batches = s->batches;
	h->events = s->events;
	correlator__stats(s->corr, &h->corr);
	if (s->exporter)
		exporter__stats(s->exporter, &h->otlp_stats);
	h->otlp = s->exporter != NULL;
	if (store_error) {
		h->commit_failures++;
		str_copy(h->store_error, sizeof(h->store_error), store_error);
	} else if (stored) {
		h->store_error[0] = '\0';
	}
	pthread_mutex_unlock(&h->lock);
}

static void add_msensor(const char *sensor, const char *host, const struct ingest_sensor_stats *st,
			void *ctx)
{
	struct server *s = ctx;
	struct metrics_sensor *m;

	if (s->nmsensors == s->msensors_cap) {
		int cap = s->msensors_cap ? 2 * s->msensors_cap : 16;
		struct metrics_sensor *p = realloc(s->msensors, (size_t)cap * sizeof(*p));

		if (!p)
			return;
		s->msensors = p;
		s->msensors_cap = cap;
	}
	m = &s->msensors[s->nmsensors++];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", sensor);
	snprintf(m->host, sizeof(m->host), "%s", host);
	m->events = st->events;
	m->batches = st->batches;
	m->ring_drops = st->drops;
	m->spool_drops = st->spool_drops;
	m->lag_ns = st->lag_ns;
	m->last_seen_ns = st->last_seen_ns;
	m->connected = st->connected;
}

/* The counters /metrics shows, copied for the API's threads. */
static void metrics_publish(struct server *s)
{
	struct metrics_server ms = {
	    .batches = s->batches,
	    .duplicate_batches = s->duplicates,
	    .events = s->events,
	    .trajectories_retracted = s->retractions,
	    .sensors_connected = s->ingest ? ingest__connected(s->ingest) : 0,
	    .otlp = s->exporter != NULL,
	};

	pthread_mutex_lock(&s->health.lock);
	ms.commit_failures = s->health.commit_failures;
	pthread_mutex_unlock(&s->health.lock);
	correlator__stats(s->corr, &ms.corr);
	if (s->exporter)
		exporter__stats(s->exporter, &ms.otlp_stats);
	s->nmsensors = 0;
	if (s->ingest)
		ingest__each_sensor(s->ingest, add_msensor, s);
	metrics__publish(s->metrics, &ms, s->msensors, s->nmsensors);
}

static int replay(struct server *s);

/* The transaction is lost: nothing of it may be acknowledged. The server
 * goes back to its last committed state as after a restart: the sensors
 * are disconnected (they send everything unacknowledged again, from their
 * spools) and the correlator is rebuilt from the committed journal, so the
 * lost batches are neither acknowledged nor fed twice. */
static void commit_failed(struct server *s, int err)
{
	struct correlator *fresh;
	char why[160];

	snprintf(why, sizeof(why), "commit failed: %s", strerror(-err));
	log_error("server: %s; nothing of it is acknowledged, sensors send it again", why);
	store__rollback(s->store);
	s->in_tx = false;
	if (s->exporter)
		exporter__discard(s->exporter);
	if (s->ingest)
		ingest__drop_all(s->ingest, "the database refused a commit");
	health_publish(s, why, false);
	if (s->replaying) /* the replay itself could not commit: try with the next batch */
		return;
	fresh = correlator__new(&s->corr_opts, &s->corr_sink);
	if (!fresh)
		return; /* keep the old one: better duplicates than nothing */
	correlator__free(s->corr);
	s->corr = fresh;
	replay(s);
}

/* Settles trajectories, commits, then acknowledges. */
static void commit_cycle(struct server *s, uint64_t now)
{
	bool stored;
	int err;

	if (tx_begin(s))
		return;
	stored = s->tx_batches > 0;
	correlator__tick(s->corr, now);
	err = store__commit(s->store);
	if (err) {
		commit_failed(s, err);
		return;
	}
	s->in_tx = false;
	if (s->exporter)
		exporter__commit(s->exporter);
	if (s->ingest) /* not yet while replaying */
		ingest__flush_acks(s->ingest);
	health_publish(s, NULL, stored);
	if (now >= s->next_metrics && !s->replaying) {
		metrics_publish(s);
		s->next_metrics = now + METRICS_EVERY_NS;
	}
}

static void put_sensor(const char *sensor, const char *host, const struct ingest_sensor_stats *st,
		       void *ctx)
{
	struct server *s = ctx;
	struct store_sensor_status ss = {
	    .sensor = sensor,
	    .host = host,
	    .last_seen_ns = st->last_seen_ns,
	    .events = st->events,
	    .drops = st->drops,
	    .spool_drops = st->spool_drops,
	    .lag_ns = st->lag_ns,
	    .mode = st->messages ? "messages" : "connections",
	    .connected = st->connected,
	};

	store__put_sensor(s->store, &ss);
}

static void housekeeping(struct server *s, uint64_t now)
{
	if (tx_begin(s))
		return;
	ingest__each_sensor(s->ingest, put_sensor, s);
	if (now >= s->next_prune) {
		uint64_t wall = wall_ns();

		store__prune(s->store, wall - s->cfg->retention_ns, wall - 2 * s->cfg->keep_ns);
		s->next_prune = now + PRUNE_EVERY_NS;
	}
}

/* ---- replay after a restart ----------------------------------------------------------------- */

static int replay_one(const char *sensor, uint64_t seq, const void *data, size_t len, void *ctx)
{
	struct server *s = ctx;
	uint64_t newest;

	(void)seq;
	if (wire_records_check(data, len) >= 0)
		batch_feed(s, sensor, data, len, &newest);
	return 0;
}

static int replay(struct server *s)
{
	uint64_t since = wall_ns() - 2 * s->cfg->keep_ns, before = s->events;
	int err;

	err = tx_begin(s);
	if (!err) {
		s->replaying = true;
		err = store__replay(s->store, since, replay_one, s);
	}
	if (err) {
		s->replaying = false;
		return err;
	}
	commit_cycle(s, mono_ns());
	s->replaying = false;
	if (s->events > before)
		log_info("server: replayed %llu recent events from the journal",
			 (unsigned long long)(s->events - before));
	return 0;
}

/* ---- the API's hooks ------------------------------------------------------------------------ */

static int api_control(const char *sensor, const char *command, char *reply, size_t cap, void *ctx)
{
	struct server *s = ctx;

	return ingest__control(s->ingest, sensor, command, reply, cap, 3000);
}

static json_object *otlp_json(const struct exporter_stats *x)
{
	json_object *o = json_object_new_object();
	const struct {
		const char *name;
		uint64_t v;
	} fields[] = {
	    {"queued", x->queued},
	    {"sent", x->sent},
	    {"dropped", x->dropped},
	    {"failed", x->failed},
	    {"rejected", x->rejected},
	    {"superseded", x->superseded},
	    {"requests", x->requests},
	    {"request_failures", x->request_failures},
	    {"retries", x->retries},
	    {"queue_spans", x->queue_spans},
	    {"queue_bytes", x->queue_bytes},
	    {"queue_capacity", x->queue_capacity},
	    {"last_success_ns", x->last_success_ns},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_object_object_add(o, fields[i].name,
				       json_object_new_int64((int64_t)fields[i].v));
	json_object_object_add(o, "last_error",
			       x->last_error[0] ? json_object_new_string(x->last_error) : NULL);
	return o;
}

/* What the correlator forgot before its time to stay within its bound. */
static json_object *evicted_json(const struct corr_stats *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "exchanges",
			       json_object_new_int64((int64_t)c->evicted_exchanges));
	json_object_object_add(o, "connections",
			       json_object_new_int64((int64_t)c->evicted_connections));
	json_object_object_add(o, "threads", json_object_new_int64((int64_t)c->evicted_threads));
	json_object_object_add(o, "processes",
			       json_object_new_int64((int64_t)c->evicted_processes));
	return o;
}

/* From an API thread: only the copy the server's thread published. */
static void api_health(json_object *o, void *ctx)
{
	struct server *s = ctx;
	struct health *h = &s->health;

	pthread_mutex_lock(&h->lock);
	if (h->store_error[0]) {
		json_object_object_add(o, "status", json_object_new_string("degraded"));
		json_object_object_add(o, "store", json_object_new_string(h->store_error));
	}
	json_object_object_add(o, "sensors_connected", json_object_new_int(h->sensors_connected));
	json_object_object_add(o, "batches", json_object_new_int64((int64_t)h->batches));
	json_object_object_add(o, "events", json_object_new_int64((int64_t)h->events));
	json_object_object_add(o, "exchanges", json_object_new_int64((int64_t)h->corr.exchanges));
	json_object_object_add(o, "matched", json_object_new_int64((int64_t)h->corr.matched));
	json_object_object_add(o, "trajectories_written",
			       json_object_new_int64((int64_t)h->corr.trajectories));
	json_object_object_add(o, "commit_failures",
			       json_object_new_int64((int64_t)h->commit_failures));
	json_object_object_add(o, "live_exchanges",
			       json_object_new_int64((int64_t)h->corr.live_halves));
	json_object_object_add(o, "connections", json_object_new_int64((int64_t)h->corr.endpoints));
	json_object_object_add(o, "evicted", evicted_json(&h->corr));
	if (h->otlp)
		json_object_object_add(o, "otlp", otlp_json(&h->otlp_stats));
	pthread_mutex_unlock(&h->lock);
}

/* From an API thread: the snapshot the server's thread published. */
static char *api_metrics(size_t *len, void *ctx)
{
	struct server *s = ctx;

	return metrics__render(s->metrics, len);
}

static const char *default_web_root(void)
{
	static char path[512];
	char exe[400];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;
	char *slash;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	/* Next to the binary in the build tree, or installed under share/. */
	snprintf(path, sizeof(path), "%s/web", exe);
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return path;
	snprintf(path, sizeof(path), "%s/../share/weft/web", exe);
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return path;
	return NULL;
}

static struct exporter *exporter_start(const struct server_config *cfg)
{
	struct exporter_opts o;

	exporter_opts_defaults(&o);
	o.url = cfg->otlp_url;
	for (int i = 0; i < cfg->notlp_headers && i < EXPORTER_HEADERS_MAX; i++)
		o.headers[i] = cfg->otlp_headers[i];
	if (cfg->otlp_queue_spans)
		o.queue_spans = cfg->otlp_queue_spans;
	return exporter__start(&o);
}

int server_run(const struct server_config *cfg, const volatile sig_atomic_t *stop)
{
	struct server s = {
	    .cfg = cfg,
	    .corr_opts = {.settle_ns = cfg->settle_ns,
			  .keep_ns = cfg->keep_ns,
			  .max_exchanges = cfg->max_exchanges},
	    .corr_sink = {.trajectory = sink_trajectory,
			  .retract = sink_retract,
			  .service = sink_service,
			  .ctx = &s},
	    .health = {.lock = PTHREAD_MUTEX_INITIALIZER},
	};
	struct store_opts so = {.keep_events = cfg->keep_events, .sync_full = cfg->sync_full};
	struct ingest_handlers ih = {
	    .hello = on_hello, .batch = on_batch, .api_port = cfg->http_port, .ctx = &s};
	struct api_hooks hooks = {
	    .control = api_control, .health = api_health, .metrics = api_metrics, .ctx = &s};
	struct metrics_opts mo;
	int ret = 1;

	heap_keep_large_blocks();
	/* 1. Storage, then what was in memory before a restart. */
	s.store = store__open(cfg->db_path, &so);
	if (!s.store)
		return 1;
	s.pid = (uint32_t)getpid();
	metrics_opts_defaults(&mo);
	mo.horizon_ns =
	    2 * cfg->keep_ns; /* a span's tree is re-emitted only while it is in memory */
	s.svcs = svc_table__new();
	s.metrics = metrics__new(&mo);
	if (!s.svcs || !s.metrics)
		goto cleanup;
	if (cfg->otlp_url && !(s.exporter = exporter_start(cfg)))
		goto cleanup;
	s.corr = correlator__new(&s.corr_opts, &s.corr_sink);
	if (!s.corr || replay(&s))
		goto cleanup;

	/* 2. The sensor port and the HTTP API. */
	s.ingest = ingest__new(cfg->ingest_addr, cfg->ingest_port, &ih);
	if (!s.ingest)
		goto cleanup;
	hooks.web_root = cfg->web_root ? cfg->web_root : default_web_root();
	s.api = api__start(cfg->http_addr, cfg->http_port, cfg->db_path, &hooks);
	if (!s.api)
		goto cleanup;
	log_info("server: sensors on %s:%u, API on http://%s:%u/, database %s", cfg->ingest_addr,
		 cfg->ingest_port, cfg->http_addr, cfg->http_port, cfg->db_path);

	/* 3. Serve until told to stop. */
	while (!*stop) {
		uint64_t now;

		if (ingest__poll(s.ingest, 20) < 0)
			break;
		now = mono_ns();
		if (now >= s.next_housekeeping) {
			housekeeping(&s, now);
			s.next_housekeeping = now + HOUSEKEEPING_NS;
		}
		if ((s.in_tx && (now - s.tx_started >= COMMIT_EVERY_NS ||
				 s.tx_batches >= COMMIT_MAX_BATCHES)) ||
		    now >= s.next_tick) {
			commit_cycle(&s, now);
			s.next_tick = now + TICK_EVERY_NS;
		}
	}
	commit_cycle(&s, mono_ns());
	ret = 0;

cleanup:
	api__stop(s.api);
	if (s.in_tx)
		store__rollback(s.store);
	exporter__stop(s.exporter); /* after the last commit: what it queued is flushed */
	ingest__free(s.ingest);
	correlator__free(s.corr);
	metrics__free(s.metrics);
	svc_table__free(s.svcs);
	free(s.msensors);
	store__close(s.store);
	return ret;
}

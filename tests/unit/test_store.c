/* Unit tests of the SQLite store: schema, journal, trajectories, the map's
 * aggregation and components, trajectory filters and paging, pruning. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h" /* to build a version-1 database */

#define MS 1000000ull
#define T0 1700000000000000000ull /* a wall-clock time in ns */

struct fixture {
	char dir[64];
	char path[96];
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/weft-store-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/weft.db", f->dir);
	f->s = store__open(f->path, &(struct store_opts){0});
	*state = f;
	return f->s ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store__close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void put_svc(struct store *s, uint64_t id, const char *comm, uint16_t port)
{
	struct weft_service svc = {.id = id, .port = port};

	snprintf(svc.host, sizeof(svc.host), "h%llu", (unsigned long long)id);
	snprintf(svc.exe, sizeof(svc.exe), "/usr/bin/%s", comm);
	snprintf(svc.comm, sizeof(svc.comm), "%s", comm);
	assert_int_equal(store__put_service(s, &svc, T0), 0);
}

/* A span from client service cs to server service ss, both sides observed. */
static struct weft_span mkspan(uint64_t id, uint64_t parent, uint64_t cs, uint64_t ss,
			       uint64_t start, uint64_t dur, uint32_t server_pid, uint16_t port)
{
	struct weft_span sp = {.id = id,
			       .parent = parent,
			       .client_service = cs,
			       .server_service = ss,
			       .protocol = WEFT_PROTO_HTTP,
			       .status = 200};

	sp.client = (struct weft_side){
	    .observed = true, .pid = 100, .tid = 100, .start_ns = start, .end_ns = start + dur};
	sp.server = (struct weft_side){.observed = true,
				       .pid = server_pid,
				       .tid = server_pid,
				       .port = port,
				       .start_ns = start + 1000,
				       .end_ns = start + dur - 1000};
	strcpy(sp.client.host, "ha");
	strcpy(sp.server.host, "hb");
	snprintf(sp.request, sizeof(sp.request), "GET /item/%llu", (unsigned long long)id);
	return sp;
}

static struct weft_trajectory mktraj(struct weft_span *spans, int n)
{
	struct weft_side *c = &spans[0].client;

	return (struct weft_trajectory){.id = spans[0].id,
					.start_ns = c->start_ns,
					.duration_ns = c->end_ns - c->start_ns,
					.root_service = spans[0].client_service,
					.nspans = n,
					.depth = n,
					.spans = spans};
}

/* ---- schema --------------------------------------------------------------------------------- */

static void test_open_migrate(void **state)
{
	struct fixture *f = *state;
	struct store *r, *again;
	sqlite3_stmt *st;
	sqlite3 *db;

	store__close(f->s); /* a second open finds version 1 and does nothing */
	f->s = store__open(f->path, NULL);
	assert_non_null(f->s);
	r = store__open_reader(f->path);
	assert_non_null(r);
	/* readers refuse writes */
	assert_int_not_equal(store__put_process(r, "h", 1, "c", "/e", T0), 0);
	store__close(r);

	/* WAL, so that readers and the writer never wait for each other */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* a database from a newer weft is refused, not downgraded */
	assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	again = store__open(f->path, NULL);
	assert_null(again);
	assert_null(store__open_reader(f->path));
	assert_null(store__open_reader("/nonexistent/weft.db"));
}

/* ---- journal --------------------------------------------------------------------------------- */

struct replay_log {
	char seen[8][16];
	int n;
};

static int replay_cb(const char *sensor, uint64_t seq, const void *data, size_t len, void *ctx)
{
	struct replay_log *l = ctx;

	assert_true(l->n < 8);
	snprintf(l->seen[l->n++], 16, "%s/%llu/%.*s", sensor, (unsigned long long)seq, (int)len,
		 (const char *)data);
	return 0;
}

/* Replay as the correlator does it: writing through the same handle from
 * inside the callback, one transaction per batch. */
static int replay_write_cb(const char *sensor, uint64_t seq, const void *data, size_t len,
			   void *ctx)
{
	struct store *s = ctx;

	(void)data, (void)len;
	assert_int_equal(store__begin(s), 0);
	assert_int_equal(store__put_process(s, sensor, (uint32_t)seq, "c", "/e", T0), 0);
	return store__commit(s);
}

static void test_journal(void **state)
{
	struct fixture *f = *state;
	struct replay_log l = {0};
	uint64_t seq = 99;

	assert_int_equal(store__last_batch(f->s, "a", &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(store__journal_batch(f->s, "a", 1, T0 + 1, "x", 1), 0);
	assert_int_equal(store__journal_batch(f->s, "b", 5, T0 + 2, "y", 1), 0);
	assert_int_equal(store__journal_batch(f->s, "a", 2, T0 + 3, "z", 1), 0);
	/* a repeat is recognised and stores nothing */
	assert_int_equal(store__journal_batch(f->s, "a", 1, T0 + 4, "X", 1), 1);
	assert_int_equal(store__last_batch(f->s, "a", &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(store__last_batch(f->s, "b", &seq), 0);
	assert_int_equal(seq, 5);

	assert_int_equal(store__replay(f->s, 0, replay_cb, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.seen[0], "a/1/x");
	assert_string_equal(l.seen[1], "b/5/y");
	assert_string_equal(l.seen[2], "a/2/z");
	l.n = 0;
	assert_int_equal(store__replay(f->s, T0 + 2, replay_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.seen[0], "b/5/y");
	assert_int_equal(store__replay(f->s, 0, replay_write_cb, f->s), 0);
}

/* ---- trajectories --------------------------------------------------------------------------- */

static int span_count(struct store *s, uint64_t id)
{
	json_object *doc = NULL, *spans;
	int n;

	if (store__query_trajectory(s, id, &doc))
		return -1;
	assert_true(json_object_object_get_ex(doc, "spans", &spans));
	n = (int)json_object_array_length(spans);
	json_object_put(doc);
	return n;
}

/* Rows in the spans table for a trajectory, whether or not it lists them. */
static int stored_spans(struct store *s, uint64_t id)
{
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_prepare_v2(s->db,
					    "SELECT count(*) FROM spans WHERE trajectory = ?", -1,
					    &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_put_replace_delete(void **state)
{
	struct fixture *f = *state;
	struct weft_span sp[3] = {mkspan(7, 0, 1, 2, T0, 10 * MS, 200, 80),
				  mkspan(8, 7, 2, 3, T0 + MS, 5 * MS, 300, 5432),
				  mkspan(9, 7, 2, 3, T0 + 6 * MS, 2 * MS, 300, 5432)};
	struct weft_trajectory t = mktraj(sp, 2);
	json_object *doc, *spans, *v, *first;

	assert_int_equal(store__begin(f->s), 0);
	assert_int_equal(store__put_trajectory(f->s, &t), 0);
	assert_int_equal(store__commit(f->s), 0);
	assert_int_equal(span_count(f->s, 7), 2);
	t.nspans = 3; /* the same id again: replaced, not added */
	sp[1].server.observed = false;
	sp[1].link = WEFT_LINK_ADJACENT;
	sp[0].incomplete = sp[0].uncertain = true;
	assert_int_equal(store__put_trajectory(f->s, &t), 0);
	assert_int_equal(span_count(f->s, 7), 3);

	assert_int_equal(store__query_trajectory(f->s, 7, &doc), 0);
	assert_true(json_object_object_get_ex(doc, "id", &v));
	assert_string_equal(json_object_get_string(v), "0000000000000007");
	json_object_object_get_ex(doc, "spans", &spans);
	first = json_object_array_get_idx(spans, 0);
	assert_true(json_object_object_get_ex(first, "parent", &v));
	assert_null(v);
	json_object_object_get_ex(json_object_array_get_idx(spans, 1), "server", &v);
	assert_null(v); /* unobserved side */
	json_object_object_get_ex(first, "protocol", &v);
	assert_string_equal(json_object_get_string(v), "http");
	json_object_object_get_ex(first, "duration_ns", &v);
	assert_int_equal(json_object_get_int64(v), 10 * MS);
	/* how each parent was decided, and a root that may miss a child */
	assert_true(json_object_object_get_ex(first, "link", &v));
	assert_null(v);
	assert_true(json_object_get_boolean(json_object_object_get(first, "incomplete")));
	assert_string_equal(json_object_get_string(json_object_object_get(
				json_object_array_get_idx(spans, 1), "link")),
			    "adjacent");
	assert_false(json_object_get_boolean(
	    json_object_object_get(json_object_array_get_idx(spans, 1), "incomplete")));
	json_object_put(doc);

	/* a rolled-back transaction leaves nothing */
	assert_int_equal(store__begin(f->s), 0);
	assert_int_equal(store__delete_trajectory(f->s, 7), 0);
	assert_int_equal(store__rollback(f->s), 0);
	assert_int_equal(span_count(f->s, 7), 3);
	assert_int_equal(store__delete_trajectory(f->s, 7), 0);
	assert_int_equal(span_count(f->s, 7), -1);
	assert_int_equal(stored_spans(f->s, 7), 0);
	assert_int_equal(store__query_trajectory(f->s, 7, &doc), -ENOENT);

	/* A revision with fewer spans, and the root's start moved (its client
	 * side arrived): what it no longer has is gone, nothing is left over. */
	t.nspans = 3;
	t.revised = false;
	assert_int_equal(store__put_trajectory(f->s, &t), 0);
	assert_int_equal(stored_spans(f->s, 7), 3);
	sp[0].client.start_ns = T0 - MS;
	t.nspans = 2;
	t.revised = true;
	assert_int_equal(store__begin(f->s), 0);
	assert_int_equal(store__put_trajectory(f->s, &t), 0);
	assert_int_equal(store__commit(f->s), 0);
	assert_int_equal(span_count(f->s, 7), 2);
	assert_int_equal(stored_spans(f->s, 7), 2);
	assert_int_equal(store__query_trajectory(f->s, 7, &doc), 0);
	json_object_object_get_ex(doc, "spans", &spans);
	json_object_object_get_ex(json_object_array_get_idx(spans, 0), "start_ns", &v);
	assert_int_equal(json_object_get_int64(v), T0 - MS);
	json_object_put(doc);
}

/* ---- map ------------------------------------------------------------------------------------ */

static json_object *find_by(json_object *arr, const char *key, const char *val)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *v;

		if (json_object_object_get_ex(o, key, &v) &&
		    !strcmp(json_object_get_string(v), val))
			return o;
	}
	return NULL;
}

static double num(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_double(v);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

/* load (1) -> web (2, :80, two pids) -> db (3, :5432); cron (4) -> mail (5, :25). */
static void fill_map(struct store *s)
{
	put_svc(s, 1, "load", 0);
	put_svc(s, 2, "web", 80);
	put_svc(s, 3, "db", 5432);
	put_svc(s, 4, "cron", 0);
	put_svc(s, 5, "mail", 25);
	assert_int_equal(store__begin(s), 0);
	for (uint64_t i = 1; i <= 100; i++) {
		/* durations 1..100 ms, inserted out of order */
		uint64_t d = (i * 37) % 100 + 1;
		struct weft_span sp[2] = {
		    mkspan(1000 + i, 0, 1, 2, T0 + i * MS, d * MS, 200 + i % 2, 80),
		    mkspan(5000 + i, 1000 + i, 2, 3, T0 + i * MS + 1000, MS / 2, 300, 5432)};
		struct weft_trajectory t = mktraj(sp, i <= 10 ? 2 : 1);

		sp[1].client.pid = 200 + i % 2; /* web's processes call db */
		strcpy(sp[1].client.host, "hb");
		sp[0].error = i % 10 == 0;
		sp[0].request_bytes = 100;
		sp[0].response_bytes = 1;
		t.error = sp[0].error;
		assert_int_equal(store__put_trajectory(s, &t), 0);
	}
	struct weft_span other[1] = {mkspan(9001, 0, 4, 5, T0 + 50 * MS, 3 * MS, 400, 25)};
	struct weft_trajectory t2 = mktraj(other, 1);

	assert_int_equal(store__put_trajectory(s, &t2), 0);
	assert_int_equal(store__commit(s), 0);
}

static void test_map(void **state)
{
	struct fixture *f = *state;
	struct store_map_query q = {.since_ns = T0, .until_ns = T0 + 1000 * MS};
	json_object *doc, *nodes, *edges, *apps, *e, *web, *load, *cron, *ports;

	fill_map(f->s);
	assert_int_equal(store__query_map(f->s, &q, &doc), 0);
	json_object_object_get_ex(doc, "nodes", &nodes);
	json_object_object_get_ex(doc, "edges", &edges);
	json_object_object_get_ex(doc, "applications", &apps);
	assert_int_equal(json_object_array_length(nodes), 5);
	assert_int_equal(json_object_array_length(edges), 3);
	assert_int_equal(json_object_array_length(apps), 2);

	e = json_object_array_get_idx(edges, 0); /* sorted: 1 -> 2 first */
	assert_string_equal(str(e, "source"), "0000000000000001");
	assert_string_equal(str(e, "target"), "0000000000000002");
	assert_int_equal((int)num(e, "port"), 80);
	assert_int_equal((int)num(e, "calls"), 100);
	assert_int_equal((int)num(e, "errors"), 10);
	assert_int_equal((int)num(e, "bytes"), 10100);
	assert_float_equal(num(e, "p50_ms"), 50, 1e-9);
	assert_float_equal(num(e, "p95_ms"), 95, 1e-9);
	assert_float_equal(num(e, "p99_ms"), 99, 1e-9);
	e = json_object_array_get_idx(edges, 1);
	assert_int_equal((int)num(e, "calls"), 10);
	assert_float_equal(num(e, "p99_ms"), 0.5, 1e-9);

	web = find_by(nodes, "id", "0000000000000002");
	load = find_by(nodes, "id", "0000000000000001");
	cron = find_by(nodes, "id", "0000000000000004");
	assert_non_null(web);
	assert_int_equal((int)num(web, "instances"), 2);
	json_object_object_get_ex(web, "ports", &ports);
	assert_int_equal(json_object_array_length(ports), 1);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(ports, 0)), 80);
	assert_string_equal(str(web, "application"), str(load, "application"));
	assert_string_equal(str(load, "application"), "app-0000000000000001");
	assert_string_equal(str(cron, "application"), "app-0000000000000004");
	assert_string_equal(str(find_by(apps, "id", "app-0000000000000001"), "name"), "load");
	assert_string_equal(str(find_by(apps, "id", "app-0000000000000004"), "name"), "cron");
	json_object_put(doc);

	/* a window that holds only the first ten calls */
	q.until_ns = T0 + 10 * MS + 1;
	assert_int_equal(store__query_map(f->s, &q, &doc), 0);
	json_object_object_get_ex(doc, "edges", &edges);
	assert_int_equal((int)num(json_object_array_get_idx(edges, 0), "calls"), 10);
	json_object_put(doc);
}

/* A peer without a sensor: the edge takes its service's port, it counts no
 * instances, and it is marked external. */
static void test_map_external(void **state)
{
	struct fixture *f = *state;
	struct weft_service redis = {.id = 0x77, .port = 6379, .external = true};
	struct weft_span sp[1] = {mkspan(1, 0, 1, 0x77, T0 + MS, 2 * MS, 0, 0)};
	struct weft_trajectory t = mktraj(sp, 1);
	struct store_map_query q = {.since_ns = T0, .until_ns = T0 + 1000 * MS};
	json_object *doc, *edges, *node;

	strcpy(redis.addr, "10.0.0.9");
	assert_int_equal(store__put_service(f->s, &redis, T0), 0);
	put_svc(f->s, 1, "app", 0);
	sp[0].server.observed = false;
	assert_int_equal(store__put_trajectory(f->s, &t), 0);
	assert_int_equal(store__query_map(f->s, &q, &doc), 0);
	json_object_object_get_ex(doc, "edges", &edges);
	assert_int_equal(json_object_array_length(edges), 1);
	assert_int_equal((int)num(json_object_array_get_idx(edges, 0), "port"), 6379);
	assert_float_equal(num(json_object_array_get_idx(edges, 0), "p50_ms"), 2, 1e-9);
	node = find_by(json_object_object_get(doc, "nodes"), "id", "0000000000000077");
	assert_non_null(node);
	assert_true(json_object_get_boolean(json_object_object_get(node, "external")));
	assert_int_equal((int)num(node, "instances"), 0);
	assert_string_equal(str(node, "name"), "10.0.0.9:6379");
	json_object_put(doc);
}

/* A database written by version 1 (no process keys, 0 as the port of an
 * unobserved server) is migrated in place: its spans count as instances and
 * its edges get their ports. */
static void test_migrate_from_v1(void **state)
{
	static const char rows[] =
	    "INSERT INTO services VALUES (119, '', '', '', 6379, 1, '10.0.0.9', 0, 0);"
	    "INSERT INTO spans (trajectory, ord, id, parent, client_service, server_service,"
	    " start_ns, duration_ns, port, c_observed, c_host, c_pid, s_observed, s_host, s_pid,"
	    " display_offset_ns, protocol, request, status, error, error_text, uncertain,"
	    " request_bytes, response_bytes) VALUES"
	    " (1, 0, 1, 0, 1, 2, 1700000000001000000, 5000000, 80, 1, 'ha', 100, 1, 'hb', 200,"
	    "  0, 1, 'GET /', 200, 0, '', 0, 10, 20),"
	    " (1, 1, 2, 1, 2, 119, 1700000000002000000, 1000000, 0, 1, 'hb', 200, 0, NULL, NULL,"
	    "  0, 2, 'REDIS GET', 0, 0, '', 0, 5, 5);"
	    "INSERT INTO trajectories VALUES (1, 1700000000001000000, 5000000, 2, 'GET /', 2, 2,"
	    " 0, 0, 2, 1);";
	struct fixture *f = *state;
	struct store_map_query q = {.since_ns = T0, .until_ns = T0 + 1000 * MS};
	struct store raw = {0};
	json_object *doc, *edges, *web;
	struct store *s;
	char path[128];

	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(path, &raw.db), SQLITE_OK);
	assert_int_equal(store_schema_migrate_to(&raw, 1), 0);
	assert_int_equal(sqlite3_exec(raw.db, rows, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw.db);

	s = store__open(path, NULL);
	assert_non_null(s);
	assert_int_equal(store__query_map(s, &q, &doc), 0);
	json_object_object_get_ex(doc, "edges", &edges);
	assert_int_equal(json_object_array_length(edges), 2);
	assert_int_equal((int)num(json_object_array_get_idx(edges, 1), "port"), 6379);
	web = find_by(json_object_object_get(doc, "nodes"), "id", "0000000000000002");
	assert_non_null(web);
	assert_int_equal((int)num(web, "instances"), 1); /* pid 200 on hb, on both sides */
	json_object_put(doc);
	/* version 3 lists the spans' keys in the trajectory: both found, in order */
	assert_int_equal(store__query_trajectory(s, 1, &doc), 0);
	json_object_object_get_ex(doc, "spans", &edges);
	assert_int_equal(json_object_array_length(edges), 2);
	assert_string_equal(str(json_object_array_get_idx(edges, 1), "request"), "REDIS GET");
	/* version 4: spans written before it have no link recorded */
	assert_null(json_object_object_get(json_object_array_get_idx(edges, 1), "link"));
	assert_false(json_object_get_boolean(
	    json_object_object_get(json_object_array_get_idx(edges, 1), "incomplete")));
	json_object_put(doc);
	store__close(s);
}

/* ---- trajectory queries --------------------------------------------------------------------- */

static json_object *query(struct store *s, struct store_traj_query q, int *total)
{
	json_object *doc, *list;

	if (!q.limit)
		q.limit = 50;
	assert_int_equal(store__query_trajectories(s, &q, &doc), 0);
	*total = (int)num(doc, "total");
	json_object_object_get_ex(doc, "trajectories", &list);
	json_object_get(list);
	json_object_put(doc);
	return list;
}

static void test_traj_filters_paging(void **state)
{
	struct fixture *f = *state;
	json_object *list, *x;
	int total;

	fill_map(f->s);
	list = query(f->s, (struct store_traj_query){.limit = 10}, &total);
	assert_int_equal(total, 101);
	assert_int_equal(json_object_array_length(list), 10);
	/* newest first: trajectory 1100 started last */
	assert_string_equal(str(json_object_array_get_idx(list, 0), "id"), "000000000000044c");
	x = json_object_object_get(json_object_array_get_idx(list, 0), "root");
	assert_string_equal(str(x, "request"), "GET /item/1100");
	json_object_put(list);

	list = query(f->s, (struct store_traj_query){.limit = 10, .offset = 95}, &total);
	assert_int_equal(json_object_array_length(list), 6);
	assert_string_equal(str(json_object_array_get_idx(list, 5), "id"), "00000000000003e9");
	json_object_put(list);

	list = query(f->s, (struct store_traj_query){.min_ns = 90 * MS}, &total);
	assert_int_equal(total, 11);
	json_object_put(list);
	list = query(f->s, (struct store_traj_query){.min_ns = 90 * MS, .max_ns = 95 * MS}, &total);
	assert_int_equal(total, 6);
	json_object_put(list);
	list = query(f->s, (struct store_traj_query){.errors_only = true}, &total);
	assert_int_equal(total, 10);
	assert_true(json_object_get_boolean(
	    json_object_object_get(json_object_array_get_idx(list, 0), "error")));
	json_object_put(list);
	list = query(f->s, (struct store_traj_query){.request = "/item/105"}, &total);
	assert_int_equal(total, 10); /* 1050..1059 */
	json_object_put(list);
	list = query(f->s,
		     (struct store_traj_query){.since_ns = T0 + 91 * MS, .until_ns = T0 + 95 * MS},
		     &total);
	assert_int_equal(total, 5);
	json_object_put(list);

	/* application filter: the root service's component */
	list = query(
	    f->s, (struct store_traj_query){.since_ns = T0, .application = "app-0000000000000004"},
	    &total);
	assert_int_equal(total, 1);
	assert_string_equal(str(json_object_array_get_idx(list, 0), "id"), "0000000000002329");
	json_object_put(list);
	list = query(f->s, (struct store_traj_query){.since_ns = T0, .application = "app-nope"},
		     &total);
	assert_int_equal(total, 0);
	json_object_put(list);

	struct store_traj_query bad = {.limit = 1001};
	json_object *doc = NULL;

	assert_int_equal(store__query_trajectories(f->s, &bad, &doc), -EINVAL);
	assert_null(doc);
}

/* Counting stops after 10,000 matches and says so. */
/* Cursor paging ("next") yields what offset paging does, through a tie on
 * the start time (trajectories 1050 and 9001 both start at 50 ms) and with
 * a filter; the total stays the window's. */
static void test_traj_cursor(void **state)
{
	struct fixture *f = *state;
	struct store_traj_query q;
	json_object *doc, *list, *all, *next;
	size_t seen = 0;
	int total;

	fill_map(f->s);
	for (int filtered = 0; filtered < 2; filtered++) {
		/* unfiltered, pages of 17 end between the two at 50 ms (51st and 52nd) */
		q = (struct store_traj_query){.limit = filtered ? 7 : 17,
					      .min_ns = filtered ? 50 * MS : 0};
		all = query(f->s, (struct store_traj_query){.limit = 500, .min_ns = q.min_ns},
			    &total);
		seen = 0;
		for (;;) {
			assert_int_equal(store__query_trajectories(f->s, &q, &doc), 0);
			assert_int_equal((int)num(doc, "total"), total);
			json_object_object_get_ex(doc, "trajectories", &list);
			for (size_t i = 0; i < json_object_array_length(list); i++, seen++)
				assert_string_equal(
				    str(json_object_array_get_idx(list, i), "id"),
				    str(json_object_array_get_idx(all, seen), "id"));
			json_object_object_get_ex(doc, "next", &next);
			if (!next) {
				json_object_put(doc);
				break;
			}
			assert_int_equal(store__parse_cursor(json_object_get_string(next), &q), 0);
			assert_true(q.before);
			json_object_put(doc);
		}
		assert_int_equal(seen, (size_t)total);
		assert_int_equal(seen, json_object_array_length(all));
		json_object_put(all);
	}
	assert_int_equal(total, 51); /* durations 50..100 ms */
}

static void test_traj_total_capped(void **state)
{
	struct fixture *f = *state;
	json_object *doc, *v;
	struct store_traj_query q = {.limit = 5};

	assert_int_equal(store__begin(f->s), 0);
	for (uint64_t i = 1; i <= 10005; i++) {
		struct weft_span sp[1] = {mkspan(i, 0, 1, 2, T0 + i * MS, MS, 200, 80)};
		struct weft_trajectory t = mktraj(sp, 1);

		assert_int_equal(store__put_trajectory(f->s, &t), 0);
	}
	assert_int_equal(store__commit(f->s), 0);
	assert_int_equal(store__query_trajectories(f->s, &q, &doc), 0);
	assert_int_equal((int)num(doc, "total"), 10000);
	assert_true(json_object_object_get_ex(doc, "total_capped", &v));
	assert_true(json_object_get_boolean(v));
	json_object_put(doc);
	q.since_ns = T0 + 10001 * MS; /* five left: exact again */
	assert_int_equal(store__query_trajectories(f->s, &q, &doc), 0);
	assert_int_equal((int)num(doc, "total"), 5);
	assert_false(json_object_get_boolean(json_object_object_get(doc, "total_capped")));
	json_object_put(doc);
}

/* ---- sensors and pruning -------------------------------------------------------------------- */

static void test_sensors(void **state)
{
	struct fixture *f = *state;
	struct store_sensor_status st = {.sensor = "web1",
					 .host = "web1",
					 .last_seen_ns = T0,
					 .events = 42,
					 .mode = "messages",
					 .connected = true};
	json_object *doc, *list;

	assert_int_equal(store__put_sensor(f->s, &st), 0);
	st.events = 43;
	assert_int_equal(store__put_sensor(f->s, &st), 0);
	assert_int_equal(store__query_sensors(f->s, &doc), 0);
	json_object_object_get_ex(doc, "sensors", &list);
	assert_int_equal(json_object_array_length(list), 1);
	assert_int_equal((int)num(json_object_array_get_idx(list, 0), "events"), 43);
	assert_true(json_object_get_boolean(
	    json_object_object_get(json_object_array_get_idx(list, 0), "connected")));
	json_object_put(doc);
}

static void test_prune(void **state)
{
	struct fixture *f = *state;
	struct replay_log l = {0};
	json_object *list;
	uint64_t seq = 0;
	int total;

	fill_map(f->s);
	/* started before the cutoff, a child after it: pruned whole */
	struct weft_span late[2] = {mkspan(8001, 0, 1, 2, T0 + 40 * MS, 30 * MS, 200, 80),
				    mkspan(8002, 8001, 2, 3, T0 + 60 * MS, MS, 300, 5432)};
	struct weft_trajectory tl = mktraj(late, 2);

	assert_int_equal(store__put_trajectory(f->s, &tl), 0);
	assert_int_equal(stored_spans(f->s, 8001), 2);
	assert_int_equal(store__journal_batch(f->s, "a", 1, T0, "x", 1), 0);
	assert_int_equal(store__journal_batch(f->s, "a", 2, T0 + 100, "y", 1), 0);
	assert_int_equal(store__prune(f->s, T0 + 51 * MS, T0 + 50), 0);
	list = query(f->s, (struct store_traj_query){0}, &total);
	assert_int_equal(total, 50); /* 51..100 stay; 9001 at 50 ms went */
	json_object_put(list);
	assert_int_equal(span_count(f->s, 1001), -1);
	assert_int_equal(stored_spans(f->s, 1001), 0);
	assert_int_equal(stored_spans(f->s, 8001), 0);
	assert_int_equal(stored_spans(f->s, 1051), 1); /* a kept trajectory keeps its spans */
	assert_int_equal(store__replay(f->s, 0, replay_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.seen[0], "a/2/y");

	/* the highest sequence number outlives the batches pruned */
	assert_int_equal(store__journal_batch(f->s, "b", 7, T0, "z", 1), 0);
	assert_int_equal(store__prune(f->s, 0, T0 + 1), 0);
	assert_int_equal(store__last_batch(f->s, "b", &seq), 0);
	assert_int_equal(seq, 7);

	/* keep_events: derived data goes, the journal stays */
	store__close(f->s);
	f->s = store__open(f->path, &(struct store_opts){.keep_events = true, .sync_full = true});
	assert_non_null(f->s);
	assert_int_equal(store__prune(f->s, T0 + 200 * MS, T0 + 1000), 0);
	l.n = 0;
	assert_int_equal(store__replay(f->s, 0, replay_cb, &l), 0);
	assert_int_equal(l.n, 1);
	list = query(f->s, (struct store_traj_query){0}, &total);
	assert_int_equal(total, 0);
	json_object_put(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_migrate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_replace_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_external, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_traj_filters_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_traj_cursor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_traj_total_capped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sensors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

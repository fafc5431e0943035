/* Unit tests of the HTTP API: a real daemon on an ephemeral loopback port
 * over a temporary database filled through the store, queried with libcurl:
 * answer shapes, parameter errors, unknown ids and paths, the control hook
 * and static files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "api/api.h"
#include "common/clock.h"
#include "store/store.h"

#define MS 1000000ull

struct fixture {
	char dir[64], path[96], web[96];
	struct store *w;
	struct api *api;
	char sensor[32], command[64]; /* what the control hook last saw */
	size_t last_len;	      /* the whole command's length */
	int control_calls;
};

struct reply {
	long status;
	char type[64];
	char *body;
	size_t len;
	json_object *doc;
};

/* ---- fakes the server would provide ---------------------------------------------------------- */

static int fake_control(const char *sensor, const char *command, char *reply, size_t cap, void *ctx)
{
	struct fixture *f = ctx;

	f->control_calls++;
	f->last_len = strlen(command);
	snprintf(f->sensor, sizeof(f->sensor), "%s", sensor);
	snprintf(f->command, sizeof(f->command), "%s", command);
	if (strcmp(sensor, "web1"))
		return -ENOENT;
	if (!strcmp(command, "profile stop big")) { /* a long reply: a profile */
		int n = snprintf(reply, cap, "ok {\"pad\":\"");

		assert_true(cap >= (64u << 10));
		memset(reply + n, 'x', 60000);
		snprintf(reply + n + 60000, cap - n - 60000, "\"}");
		return 0;
	}
	if (strncmp(command, "messages", 8)) {
		snprintf(reply, cap, "error unknown command");
		return -EINVAL;
	}
	snprintf(reply, cap, "ok %s", command);
	return 0;
}

static void fake_health(json_object *doc, void *ctx)
{
	(void)ctx;
	json_object_object_add(doc, "sensors_connected", json_object_new_int(1));
}

static char *fake_metrics(size_t *len, void *ctx)
{
	static const char text[] =
	    "# HELP weft_up 1 while serving.\n# TYPE weft_up gauge\nweft_up 1\n";
	char *t = strdup(text);

	(void)ctx;
	*len = sizeof(text) - 1;
	return t;
}

/* ---- data ----------------------------------------------------------------------------------- */

static void put_svc(struct store *s, uint64_t id, const char *comm, uint16_t port)
{
	struct weft_service svc = {.id = id, .port = port};

	snprintf(svc.host, sizeof(svc.host), "host%llu", (unsigned long long)id);
	snprintf(svc.exe, sizeof(svc.exe), "/usr/bin/%s", comm);
	snprintf(svc.comm, sizeof(svc.comm), "%s", comm);
	assert_int_equal(store__put_service(s, &svc, wall_ns()), 0);
}

static void put_traj(struct store *s, uint64_t id, uint64_t cs, uint64_t ss, uint64_t start,
		     uint64_t dur, bool error)
{
	struct weft_span sp = {.id = id,
			       .client_service = cs,
			       .server_service = ss,
			       .protocol = WEFT_PROTO_HTTP,
			       .status = error ? 503 : 200,
			       .error = error};
	struct weft_trajectory t = {.id = id,
				    .start_ns = start,
				    .duration_ns = dur,
				    .root_service = cs,
				    .nspans = 1,
				    .depth = 1,
				    .error = error,
				    .spans = &sp};

	sp.client = (struct weft_side){
	    .observed = true, .pid = 10, .tid = 11, .start_ns = start, .end_ns = start + dur};
	strcpy(sp.client.host, "a");
	snprintf(sp.request, sizeof(sp.request), "GET /p/%llu", (unsigned long long)id);
	assert_int_equal(store__put_trajectory(s, &t), 0);
}

static void fill(struct store *s)
{
	uint64_t t = wall_ns() - 60000 * MS;
	struct store_sensor_status st = {.sensor = "web1",
					 .host = "web1",
					 .last_seen_ns = t,
					 .events = 5,
					 .mode = "messages",
					 .connected = true};

	put_svc(s, 1, "load", 0);
	put_svc(s, 2, "web", 80);
	put_svc(s, 3, "cron", 0);
	put_svc(s, 4, "mail", 25);
	assert_int_equal(store__begin(s), 0);
	for (uint64_t i = 1; i <= 20; i++)
		put_traj(s, 0x100 + i, 1, 2, t + i * MS, i * MS, i % 5 == 0);
	put_traj(s, 0x900, 3, 4, t, 3 * MS, false);
	assert_int_equal(store__put_sensor(s, &st), 0);
	assert_int_equal(store__commit(s), 0);
}

/* ---- HTTP ----------------------------------------------------------------------------------- */

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct reply *r = ctx;
	char *p = realloc(r->body, r->len + size * n + 1);

	if (!p)
		return 0;
	memcpy(p + r->len, data, size * n);
	r->len += size * n;
	p[r->len] = '\0';
	r->body = p;
	return size * n;
}

/* One request; body non-NULL makes it a POST. Parses JSON answers. */
static struct reply *request(struct fixture *f, const char *method, const char *path,
			     const char *body)
{
	struct reply *r = calloc(1, sizeof(*r));
	char url[512];
	char *type = NULL;
	CURL *h = curl_easy_init();

	assert_non_null(h);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", api__port(f->api), path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
	snprintf(r->type, sizeof(r->type), "%s", type ? type : "");
	curl_easy_cleanup(h);
	if (!strcmp(r->type, "application/json")) {
		r->doc = json_tokener_parse(r->body ? r->body : "");
		assert_non_null(r->doc);
	}
	return r;
}

static void reply_free(struct reply *r)
{
	json_object_put(r->doc);
	free(r->body);
	free(r);
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key '%s' in %s", key, json_object_to_json_string(o));
	return v;
}

static void assert_keys(json_object *o, const char *const *keys)
{
	for (; *keys; keys++)
		get(o, *keys);
}

/* Expects a JSON error answer with this status. */
static void expect_error(struct fixture *f, const char *method, const char *path, const char *body,
			 long status)
{
	struct reply *r = request(f, method, path, body);

	if (r->status != status)
		fail_msg("%s %s: %ld, want %ld", method, path, r->status, status);
	assert_string_equal(r->type, "application/json");
	assert_true(json_object_is_type(get(r->doc, "error"), json_type_string));
	reply_free(r);
}

/* ---- fixture -------------------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct api_hooks hooks = {
	    .control = fake_control, .health = fake_health, .metrics = fake_metrics, .ctx = f};
	char file[160];
	FILE *fp;

	strcpy(f->dir, "/tmp/weft-api-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/weft.db", f->dir);
	snprintf(f->web, sizeof(f->web), "%s/web", f->dir);
	mkdir(f->web, 0755);
	snprintf(file, sizeof(file), "%s/index.html", f->web);
	fp = fopen(file, "w");
	fputs("<html>weft</html>\n", fp);
	fclose(fp);
	snprintf(file, sizeof(file), "%s/secret.txt", f->dir);
	fp = fopen(file, "w");
	fputs("outside the root\n", fp);
	fclose(fp);
	f->w = store__open(f->path, NULL);
	if (!f->w)
		return -1;
	fill(f->w);
	hooks.web_root = f->web;
	f->api = api__start("127.0.0.1", 0, f->path, &hooks);
	*state = f;
	return f->api ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	api__stop(f->api);
	store__close(f->w);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_health(void **state)
{
	struct reply *r = request(*state, "GET", "/api/health", NULL);

	assert_int_equal(r->status, 200);
	assert_string_equal(r->type, "application/json");
	assert_string_equal(json_object_get_string(get(r->doc, "status")), "ok");
	assert_string_equal(json_object_get_string(get(r->doc, "store")), "ok");
	get(r->doc, "version");
	assert_int_equal(json_object_get_int(get(r->doc, "sensors_connected")), 1);
	reply_free(r);
}

static void test_map(void **state)
{
	static const char *const node_keys[] = {
	    "id", "host", "exe", "comm", "ports", "instances", "application", "external", NULL};
	static const char *const edge_keys[] = {"source", "target", "port",   "calls",	"errors",
						"bytes",  "p50_ms", "p95_ms", "p99_ms", NULL};
	struct reply *r = request(*state, "GET", "/api/map", NULL);
	json_object *nodes, *edges, *apps;

	assert_int_equal(r->status, 200);
	nodes = get(r->doc, "nodes");
	edges = get(r->doc, "edges");
	apps = get(r->doc, "applications");
	assert_int_equal(json_object_array_length(nodes), 4);
	assert_int_equal(json_object_array_length(edges), 2);
	assert_int_equal(json_object_array_length(apps), 2);
	assert_keys(json_object_array_get_idx(nodes, 0), node_keys);
	assert_keys(json_object_array_get_idx(edges, 0), edge_keys);
	assert_int_equal(json_object_get_int(get(json_object_array_get_idx(edges, 0), "calls")),
			 20);
	assert_int_equal(json_object_get_int(get(json_object_array_get_idx(edges, 0), "errors")),
			 4);
	reply_free(r);

	/* a window that ended before anything happened */
	r = request(*state, "GET", "/api/map?since=2h&until=1h", NULL);
	assert_int_equal(r->status, 200);
	assert_int_equal(json_object_array_length(get(r->doc, "edges")), 0);
	reply_free(r);
	r = request(*state, "GET", "/api/map?window=5m", NULL);
	assert_int_equal(r->status, 200);
	assert_int_equal(json_object_array_length(get(r->doc, "edges")), 2);
	reply_free(r);
}

static void test_trajectories(void **state)
{
	static const char *const keys[] = {"id",    "start_ns", "duration_ns", "root", "spans",
					   "depth", "error",	"uncertain",   NULL};
	static const char *const root_keys[] = {"service", "host", "exe", "request", NULL};
	struct fixture *f = *state;
	struct reply *r = request(f, "GET", "/api/trajectories?limit=3", NULL);
	json_object *list, *first;

	assert_int_equal(r->status, 200);
	list = get(r->doc, "trajectories");
	assert_int_equal(json_object_array_length(list), 3);
	assert_int_equal(json_object_get_int(get(r->doc, "total")), 21);
	assert_false(json_object_get_boolean(get(r->doc, "total_capped")));
	first = json_object_array_get_idx(list, 0);
	assert_keys(first, keys);
	assert_keys(get(first, "root"), root_keys);
	assert_string_equal(json_object_get_string(get(first, "id")), "0000000000000114");
	reply_free(r);

	r = request(f, "GET", "/api/trajectories?errors=true&min_ms=10&max_ms=15", NULL);
	assert_int_equal(r->status, 200);
	assert_int_equal(json_object_get_int(get(r->doc, "total")), 2); /* 10 and 15 ms */
	reply_free(r);
	r = request(f, "GET", "/api/trajectories?application=app-0000000000000003&since=1h", NULL);
	assert_int_equal(json_object_get_int(get(r->doc, "total")), 1);
	reply_free(r);
	r = request(f, "GET", "/api/trajectories?request=%2Fp%2F275&offset=0", NULL);
	assert_int_equal(json_object_get_int(get(r->doc, "total")), 1); /* 0x113 = 275 */
	reply_free(r);

	/* "next" walks the list: pages of 8, 8 and 5, the same ids as one page
	 * of all, each with the window's total; the last page has no "next" */
	{
		struct reply *all = request(f, "GET", "/api/trajectories?limit=100", NULL);
		json_object *want = get(all->doc, "trajectories");
		char path[128] = "/api/trajectories?limit=8";
		size_t seen = 0;

		assert_true(json_object_get_type(get(all->doc, "next")) == json_type_null);
		for (int page = 0; page < 3; page++) {
			json_object *got, *next;

			r = request(f, "GET", path, NULL);
			assert_int_equal(r->status, 200);
			assert_int_equal(json_object_get_int(get(r->doc, "total")), 21);
			got = get(r->doc, "trajectories");
			for (size_t i = 0; i < json_object_array_length(got); i++, seen++)
				assert_string_equal(
				    json_object_get_string(
					get(json_object_array_get_idx(got, i), "id")),
				    json_object_get_string(
					get(json_object_array_get_idx(want, seen), "id")));
			next = get(r->doc, "next");
			if (page < 2)
				snprintf(path, sizeof(path), "/api/trajectories?limit=8&before=%s",
					 json_object_get_string(next));
			else
				assert_true(json_object_get_type(next) == json_type_null);
			reply_free(r);
		}
		assert_int_equal(seen, 21);
		reply_free(all);
	}

	/* the writer adds one while the API is up: the next read sees it */
	put_traj(f->w, 0x999, 1, 2, wall_ns() - MS, MS, false);
	r = request(f, "GET", "/api/trajectories?limit=1", NULL);
	assert_int_equal(json_object_get_int(get(r->doc, "total")), 22);
	reply_free(r);
}

static int total_now(struct fixture *f)
{
	struct reply *r = request(f, "GET", "/api/trajectories?limit=1", NULL);
	int total;

	assert_int_equal(r->status, 200);
	total = json_object_get_int(get(r->doc, "total"));
	reply_free(r);
	return total;
}

/* Readers see the last commit and neither wait for the writer's open
 * transaction nor make it wait (WAL). */
static void test_writer_not_blocked(void **state)
{
	struct fixture *f = *state;
	int before = total_now(f);
	uint64_t t0;

	assert_int_equal(store__begin(f->w), 0);
	put_traj(f->w, 0x5000, 1, 2, wall_ns() - MS, MS, false);
	t0 = mono_ns();
	assert_int_equal(total_now(f), before);	 /* uncommitted: invisible */
	assert_true(mono_ns() - t0 < 1000 * MS); /* and not waiting on the 5 s busy timeout */
	put_traj(f->w, 0x5001, 1, 2, wall_ns() - MS, MS, false);
	assert_int_equal(store__commit(f->w), 0);
	assert_int_equal(total_now(f), before + 2);
}

static void test_trajectory(void **state)
{
	static const char *const span_keys[] = {"id",
						"parent",
						"client",
						"server",
						"start_ns",
						"end_ns",
						"server_start_ns",
						"server_end_ns",
						"display_offset_ns",
						"protocol",
						"request",
						"status",
						"error",
						"uncertain",
						NULL};
	struct reply *r = request(*state, "GET", "/api/trajectories/0000000000000105", NULL);
	json_object *spans;

	assert_int_equal(r->status, 200);
	spans = get(r->doc, "spans");
	assert_int_equal(json_object_array_length(spans), 1);
	assert_keys(json_object_array_get_idx(spans, 0), span_keys);
	assert_true(json_object_get_boolean(get(r->doc, "error")));
	get(r->doc, "slowest_span");
	get(r->doc, "slowest_hop");
	assert_int_equal(
	    json_object_get_int(get(get(json_object_array_get_idx(spans, 0), "client"), "pid")),
	    10);
	reply_free(r);
	expect_error(*state, "GET", "/api/trajectories/abcdef", NULL, 404);
	expect_error(*state, "GET", "/api/trajectories/xyz", NULL, 400);
	expect_error(*state, "GET", "/api/trajectories/11111111111111111", NULL, 400);
}

static void test_bad_parameters(void **state)
{
	static const char *const bad[] = {
	    "/api/trajectories?limit=abc",
	    "/api/trajectories?limit=0",
	    "/api/trajectories?limit=1001",
	    "/api/trajectories?min_ms=-1",
	    "/api/trajectories?max_ms=x",
	    "/api/trajectories?offset=-5",
	    "/api/trajectories?since=yesterday",
	    "/api/trajectories?errors=maybe",
	    "/api/trajectories?min_ms=10&max_ms=5",
	    "/api/trajectories?before=123",
	    "/api/trajectories?before=.abc",
	    "/api/trajectories?before=12.xyz",
	    "/api/trajectories?before=12.11111111111111111",
	    "/api/map?window=0",
	    "/api/map?since=abc",
	    "/api/map?since=1h&until=2h",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(*state, "GET", bad[i], NULL, 400);
}

static void test_unknown_paths(void **state)
{
	expect_error(*state, "GET", "/api/nope", NULL, 404);
	expect_error(*state, "GET", "/api", NULL, 404);
	expect_error(*state, "DELETE", "/api/map", NULL, 405);
	expect_error(*state, "GET", "/api/sensors/web1/control", NULL, 405);
	expect_error(*state, "GET", "/missing.js", NULL, 404);
	expect_error(*state, "GET", "/../secret.txt", NULL, 404);
	expect_error(*state, "GET", "/%2e%2e/secret.txt", NULL, 404);
}

static void test_static(void **state)
{
	struct reply *r = request(*state, "GET", "/", NULL);

	assert_int_equal(r->status, 200);
	assert_string_equal(r->type, "text/html; charset=utf-8");
	assert_string_equal(r->body, "<html>weft</html>\n");
	reply_free(r);
}

/* Prometheus's text, not JSON; other methods are refused. */
static void test_metrics(void **state)
{
	struct reply *r = request(*state, "GET", "/metrics", NULL);

	assert_int_equal(r->status, 200);
	assert_string_equal(r->type, "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(r->body,
			    "# HELP weft_up 1 while serving.\n# TYPE weft_up gauge\nweft_up 1\n");
	reply_free(r);
	expect_error(*state, "POST", "/metrics", "x", 405);
}

static void test_sensors(void **state)
{
	struct reply *r = request(*state, "GET", "/api/sensors", NULL);
	json_object *s;

	assert_int_equal(r->status, 200);
	assert_int_equal(json_object_array_length(get(r->doc, "sensors")), 1);
	s = json_object_array_get_idx(get(r->doc, "sensors"), 0);
	assert_string_equal(json_object_get_string(get(s, "id")), "web1");
	assert_int_equal(json_object_get_int(get(s, "events")), 5);
	reply_free(r);
}

static void test_control(void **state)
{
	struct fixture *f = *state;
	struct reply *r = request(f, "POST", "/api/sensors/web1/control", "messages off\n");

	assert_int_equal(r->status, 200);
	assert_int_equal(f->control_calls, 1);
	assert_string_equal(f->sensor, "web1");
	assert_string_equal(f->command, "messages off");
	assert_string_equal(json_object_get_string(get(r->doc, "reply")), "ok messages off");
	reply_free(r);

	r = request(f, "POST", "/api/sensors/web1/control", "{\"command\":\"messages on\"}");
	assert_int_equal(r->status, 200);
	assert_string_equal(f->command, "messages on");
	reply_free(r);
	expect_error(f, "POST", "/api/sensors/db9/control", "messages off", 404);
	assert_string_equal(f->sensor, "db9");
	expect_error(f, "POST", "/api/sensors/web1/control", "reboot", 400);
	expect_error(f, "POST", "/api/sensors/web1/control", "  \n", 400);
	assert_int_equal(f->control_calls, 4); /* the empty body never reached the hook */

	/* A reply of 60 KB arrives whole, its JSON also parsed as "result". */
	r = request(f, "POST", "/api/sensors/web1/control", "profile stop big");
	assert_int_equal(r->status, 200);
	assert_int_equal(strlen(json_object_get_string(get(r->doc, "reply"))), 60000 + 13);
	assert_int_equal(strlen(json_object_get_string(get(get(r->doc, "result"), "pad"))), 60000);
	reply_free(r);
	r = request(f, "POST", "/api/sensors/web1/control", "messages on");
	assert_false(json_object_object_get_ex(r->doc, "result", NULL));
	reply_free(r);

	/* Commands up to 2,047 bytes reach the hook whole; longer ones, and a
	 * JSON command holding a line break, are refused before it. */
	char body[2100], json[2200];
	int calls;

	memset(body, 'x', sizeof(body));
	memcpy(body, "messages ", 9);
	body[2047] = '\0';
	r = request(f, "POST", "/api/sensors/web1/control", body);
	assert_int_equal(f->last_len, 2047);
	reply_free(r);
	calls = f->control_calls;
	body[2047] = 'x';
	body[2048] = '\0';
	expect_error(f, "POST", "/api/sensors/web1/control", body, 400);
	snprintf(json, sizeof(json), "{\"command\":\"%s\"}", body);
	expect_error(f, "POST", "/api/sensors/web1/control", json, 400);
	expect_error(f, "POST", "/api/sensors/web1/control",
		     "{\"command\":\"messages on\\nmessages off\"}", 400);
	assert_int_equal(f->control_calls, calls);
}

/* Without hooks: no control (501), no static files; a taken port is refused. */
static void test_no_hooks(void **state)
{
	struct fixture *f = *state;
	struct api *main_api = f->api, *taken;

	taken = api__start("127.0.0.1", api__port(main_api), f->path, NULL);
	assert_null(taken);
	f->api = api__start("127.0.0.1", 0, f->path, NULL);
	assert_non_null(f->api);
	assert_int_not_equal(api__port(f->api), api__port(main_api));
	expect_error(f, "POST", "/api/sensors/web1/control", "messages off", 501);
	expect_error(f, "GET", "/", NULL, 404);
	expect_error(f, "GET", "/metrics", NULL, 501);
	api__stop(f->api);
	f->api = main_api;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_health),	  cmocka_unit_test(test_map),
	    cmocka_unit_test(test_trajectories),  cmocka_unit_test(test_writer_not_blocked),
	    cmocka_unit_test(test_trajectory),	  cmocka_unit_test(test_bad_parameters),
	    cmocka_unit_test(test_unknown_paths), cmocka_unit_test(test_static),
	    cmocka_unit_test(test_sensors),	  cmocka_unit_test(test_control),
	    cmocka_unit_test(test_no_hooks),	  cmocka_unit_test(test_metrics),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("api", tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}

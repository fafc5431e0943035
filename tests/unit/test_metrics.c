/* Unit tests of the Prometheus metrics: spans counted once each, when they
 * have finished, however often their trajectory is written; buckets, sums
 * and errors per edge and per service; the series cap and its "other"
 * series; label escaping; the server's, sensors' and exporter's figures;
 * snapshots rendered by another thread while new ones are published. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "export/metrics.h"

#define MS 1000000ull

enum { SVC_WRK = 1, SVC_WEB, SVC_DB, SVC_ODD, SVC_EXT };

struct fixture {
	struct svc_table *svcs;
	struct metrics *m;
	struct metrics_opts opts;
	char *text;
};

static void add_svc(struct svc_table *t, uint64_t id, const char *host, const char *exe,
		    uint16_t port, const char *addr)
{
	struct weft_service s = {.id = id, .port = port, .external = addr != NULL};

	snprintf(s.host, sizeof(s.host), "%s", host);
	snprintf(s.exe, sizeof(s.exe), "%s", exe);
	snprintf(s.addr, sizeof(s.addr), "%s", addr ? addr : "");
	assert_int_equal(svc_table__put(t, &s), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->svcs = svc_table__new();
	add_svc(f->svcs, SVC_WRK, "h1", "/usr/bin/wrk", 0, NULL);
	add_svc(f->svcs, SVC_WEB, "h1", "/usr/sbin/nginx", 80, NULL);
	add_svc(f->svcs, SVC_DB, "h2", "/usr/lib/postgresql/15/bin/postgres", 5432, NULL);
	add_svc(f->svcs, SVC_ODD, "h\"2", "/opt/we\"ird\\app", 9000, NULL);
	add_svc(f->svcs, SVC_EXT, "", "", 443, "10.0.0.9");
	metrics_opts_defaults(&f->opts);
	f->m = metrics__new(&f->opts);
	assert_non_null(f->m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->text);
	metrics__free(f->m);
	svc_table__free(f->svcs);
	free(f);
	return 0;
}

/* A span from client service c to server service s, both sides observed,
 * of dur_ns as the client saw it; finished unless resp is 0. */
static struct weft_span mk(uint64_t id, uint64_t c, uint64_t s, uint64_t dur_ns, uint64_t resp)
{
	struct weft_span sp = {.id = id, .client_service = c, .server_service = s};

	sp.client.observed = sp.server.observed = true;
	sp.client.start_ns = 1000;
	sp.client.end_ns = 1000 + dur_ns;
	sp.server.start_ns = 1100;
	sp.server.end_ns = 1100 + dur_ns / 2;
	sp.protocol = WEFT_PROTO_HTTP;
	sp.response_bytes = resp;
	return sp;
}

static void feed(struct fixture *f, struct weft_span *spans, int n, uint64_t now)
{
	struct weft_trajectory t = {.id = spans[0].id, .nspans = n, .spans = spans};

	metrics__trajectory(f->m, &t, f->svcs, now);
}

static const char *render(struct fixture *f)
{
	size_t len = 0;

	free(f->text);
	assert_int_equal(metrics__publish(f->m, NULL, NULL, 0), 0);
	f->text = metrics__render(f->m, &len);
	assert_non_null(f->text);
	assert_int_equal(strlen(f->text), len);
	return f->text;
}

/* The line that starts with prefix, its value as a number; -1 when none. */
static double sample(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

#define EDGE_WRK_WEB                                                                               \
	"client=\"wrk\",client_host=\"h1\",client_port=\"\",server=\"nginx\",server_host=\"h1\","  \
	"server_port=\"80\""
#define EDGE_WEB_DB                                                                                \
	"client=\"nginx\",client_host=\"h1\",client_port=\"80\",server=\"postgres\","              \
	"server_host=\"h2\",server_port=\"5432\""

static void test_counted_once_when_finished(void **state)
{
	struct fixture *f = *state;
	struct weft_span v1[3] = {mk(10, SVC_WRK, SVC_WEB, 20 * MS, 100),
				  mk(11, SVC_WEB, SVC_DB, 3 * MS, 0), /* no response yet */
				  mk(12, SVC_WEB, SVC_WEB, 1 * MS, 0)};
	struct weft_span v2[4] = {v1[0], mk(11, SVC_WEB, SVC_DB, 4 * MS, 80), v1[2],
				  mk(13, SVC_WEB, SVC_DB, 500000, 10)};
	const char *t;

	v1[2].protocol = WEFT_PROTO_METHOD; /* a method call: never a request */
	v1[2].response_bytes = 1;
	v2[2] = v1[2];
	feed(f, v1, 3, 1);
	t = render(f);
	assert_true(sample(t, "weft_requests_total{" EDGE_WRK_WEB "}") == 1);
	assert_true(sample(t, "weft_requests_total{" EDGE_WEB_DB "}") == -1);

	/* written again: it grew, and the database answered */
	feed(f, v2, 4, 2);
	feed(f, v2, 4, 3); /* and once more, unchanged */
	t = render(f);
	assert_true(sample(t, "weft_requests_total{" EDGE_WRK_WEB "}") == 1);
	assert_true(sample(t, "weft_requests_total{" EDGE_WEB_DB "}") == 2);
	assert_true(sample(t, "weft_request_errors_total{" EDGE_WEB_DB "}") == 0);
	/* 4 ms as the client saw it, and 0.5 ms */
	assert_true(
	    sample(t, "weft_request_duration_seconds_bucket{" EDGE_WEB_DB ",le=\"0.001\"}") == 1);
	assert_true(
	    sample(t, "weft_request_duration_seconds_bucket{" EDGE_WEB_DB ",le=\"0.0025\"}") == 1);
	assert_true(
	    sample(t, "weft_request_duration_seconds_bucket{" EDGE_WEB_DB ",le=\"0.005\"}") == 2);
	assert_true(
	    sample(t, "weft_request_duration_seconds_bucket{" EDGE_WEB_DB ",le=\"+Inf\"}") == 2);
	assert_true(sample(t, "weft_request_duration_seconds_sum{" EDGE_WEB_DB "}") == 0.0045);
	assert_true(sample(t, "weft_request_duration_seconds_count{" EDGE_WEB_DB "}") == 2);
	/* per service: what nginx and postgres served */
	assert_true(sample(t, "weft_service_requests_total{service=\"nginx\",host=\"h1\","
			      "port=\"80\"}") == 1);
	assert_true(sample(t, "weft_service_requests_total{service=\"postgres\",host=\"h2\","
			      "port=\"5432\"}") == 2);
	assert_true(sample(t, "weft_metrics_series{family=\"edge\"}") == 2);
}

static void test_errors_buckets_and_external(void **state)
{
	struct fixture *f = *state;
	struct weft_span s[3] = {mk(20, SVC_WRK, SVC_WEB, 20 * 1000 * MS, 0),
				 mk(21, SVC_WEB, SVC_EXT, 50 * MS, 0),
				 mk(22, SVC_WEB, SVC_EXT, 0, 5)};
	const char *t;

	s[0].error = true; /* a reset: finished without a response */
	s[1].error = true;
	s[1].server.observed = false; /* no sensor at 10.0.0.9 */
	s[2].client.observed = false; /* the server's duration when the client has no sensor */
	s[2].server.end_ns = s[2].server.start_ns + 2 * MS;
	feed(f, s, 3, 1);
	t = render(f);
	assert_true(sample(t, "weft_request_errors_total{" EDGE_WRK_WEB "}") == 1);
	assert_true(sample(t, "weft_request_duration_seconds_bucket{" EDGE_WRK_WEB ",le=\"10\"}") ==
		    0);
	assert_true(
	    sample(t, "weft_request_duration_seconds_bucket{" EDGE_WRK_WEB ",le=\"+Inf\"}") == 1);
	assert_true(sample(t, "weft_request_duration_seconds_sum{" EDGE_WRK_WEB "}") == 20);
#define EDGE_WEB_EXT                                                                               \
	"client=\"nginx\",client_host=\"h1\",client_port=\"80\",server=\"10.0.0.9\","              \
	"server_host=\"\",server_port=\"443\""
	assert_true(sample(t, "weft_requests_total{" EDGE_WEB_EXT "}") == 2);
	assert_true(sample(t, "weft_request_errors_total{" EDGE_WEB_EXT "}") == 1);
	assert_true(
	    sample(t, "weft_request_duration_seconds_bucket{" EDGE_WEB_EXT ",le=\"0.0025\"}") == 1);
	assert_true(
	    sample(t, "weft_request_duration_seconds_bucket{" EDGE_WEB_EXT ",le=\"0.05\"}") == 2);
}

static void test_cap_and_escaping(void **state)
{
	struct fixture *f = *state;
	struct weft_span s[4] = {mk(30, SVC_WRK, SVC_WEB, MS, 1), mk(31, SVC_WEB, SVC_DB, MS, 1),
				 mk(32, SVC_WEB, SVC_ODD, MS, 1), mk(33, SVC_WRK, SVC_ODD, MS, 1)};
	const char *t;

	metrics__free(f->m);
	f->opts.max_edges = 2;
	f->opts.max_services = 2;
	f->m = metrics__new(&f->opts);
	feed(f, s, 4, 1);
	t = render(f);
	assert_true(sample(t, "weft_requests_total{" EDGE_WRK_WEB "}") == 1);
	assert_true(sample(t, "weft_requests_total{" EDGE_WEB_DB "}") == 1);
	assert_true(sample(t, "weft_requests_total{client=\"other\",client_host=\"\","
			      "client_port=\"\",server=\"other\",server_host=\"\","
			      "server_port=\"\"}") == 2);
	assert_true(sample(t, "weft_metrics_folded_requests_total{family=\"edge\"}") == 2);
	assert_true(sample(t, "weft_metrics_series{family=\"edge\"}") == 3);
	assert_true(sample(t, "weft_metrics_series_limit{family=\"edge\"}") == 2);
	assert_true(sample(t, "weft_service_requests_total{service=\"other\",host=\"\","
			      "port=\"\"}") == 2);
	assert_null(strstr(t, "we\"ird")); /* folded, and never unescaped */

	/* with room, the odd names are escaped */
	metrics__free(f->m);
	metrics_opts_defaults(&f->opts);
	f->m = metrics__new(&f->opts);
	feed(f, s, 4, 1);
	t = render(f);
	assert_true(sample(t, "weft_service_requests_total{service=\"we\\\"ird\\\\app\","
			      "host=\"h\\\"2\",port=\"9000\"}") == 2);

	/* a name that is not UTF-8 is made so: Prometheus refuses anything else */
	add_svc(f->svcs, 99, "h3", "/opt/caf\xe9", 7000, NULL);
	s[0] = mk(34, SVC_WRK, 99, MS, 1);
	feed(f, s, 1, 2);
	t = render(f);
	assert_true(sample(t, "weft_service_requests_total{service=\"caf\xef\xbf\xbd\",host=\"h3\","
			      "port=\"7000\"}") == 1);
}

static void test_horizon(void **state)
{
	struct fixture *f = *state;
	struct weft_span s = mk(40, SVC_WRK, SVC_WEB, MS, 1), other;
	const uint64_t h = 1000;

	metrics__free(f->m);
	f->opts.horizon_ns = h;
	f->m = metrics__new(&f->opts);
	feed(f, &s, 1, 10 * h);
	other = mk(41, SVC_WRK, SVC_WEB, MS, 1);
	feed(f, &other, 1, 11 * h + 1); /* a new generation ... */
	feed(f, &s, 1, 11 * h + 2);	/* ... still remembers the last one */
	assert_true(sample(render(f), "weft_requests_total{" EDGE_WRK_WEB "}") == 2);
	other.id = 42;
	feed(f, &other, 1, 12 * h + 3); /* two generations later: forgotten */
	feed(f, &s, 1, 12 * h + 4);
	assert_true(sample(render(f), "weft_requests_total{" EDGE_WRK_WEB "}") == 4);

	/* a full generation rotates early; many ids grow the table */
	metrics__free(f->m);
	metrics_opts_defaults(&f->opts);
	f->opts.max_ids = 50000;
	f->m = metrics__new(&f->opts);
	for (uint64_t id = 1; id <= 120000; id++) {
		s.id = id;
		feed(f, &s, 1, 5);
	}
	s.id = 120000; /* in the current generation */
	feed(f, &s, 1, 6);
	assert_true(sample(render(f), "weft_requests_total{" EDGE_WRK_WEB "}") == 120000);
}

static void test_server_sensors_otlp(void **state)
{
	struct fixture *f = *state;
	struct metrics_server srv = {.batches = 7,
				     .events = 900,
				     .trajectories_retracted = 2,
				     .commit_failures = 1,
				     .sensors_connected = 1,
				     .corr = {.trajectories = 33, .live_halves = 12}};
	struct metrics_sensor sensors[2] = {
	    {.id = "web1",
	     .host = "web1",
	     .events = 800,
	     .ring_drops = 3,
	     .lag_ns = 250 * MS,
	     .connected = true},
	    {.id = "db1", .host = "db1", .events = 100, .spool_drops = 4}};
	size_t len;

	assert_int_equal(metrics__publish(f->m, &srv, sensors, 2), 0);
	f->text = metrics__render(f->m, &len);
	assert_true(sample(f->text, "weft_ingest_batches_total") == 7);
	assert_true(sample(f->text, "weft_ingest_events_total") == 900);
	assert_true(sample(f->text, "weft_trajectories_written_total") == 33);
	assert_true(sample(f->text, "weft_trajectories_retracted_total") == 2);
	assert_true(sample(f->text, "weft_store_commit_failures_total") == 1);
	assert_true(sample(f->text, "weft_correlator_exchanges") == 12);
	assert_true(sample(f->text, "weft_sensors_connected") == 1);
	assert_true(sample(f->text, "weft_sensor_events_total{sensor=\"web1\",host=\"web1\"}") ==
		    800);
	assert_true(
	    sample(f->text, "weft_sensor_ring_drops_total{sensor=\"web1\",host=\"web1\"}") == 3);
	assert_true(sample(f->text, "weft_sensor_spool_dropped_batches_total{sensor=\"db1\","
				    "host=\"db1\"}") == 4);
	assert_true(sample(f->text, "weft_sensor_lag_seconds{sensor=\"web1\",host=\"web1\"}") ==
		    0.25);
	assert_true(sample(f->text, "weft_sensor_connected{sensor=\"db1\",host=\"db1\"}") == 0);
	assert_null(strstr(f->text, "weft_otlp_")); /* no exporter */
	assert_non_null(strstr(f->text, "# TYPE weft_requests_total counter\n"));
	assert_non_null(strstr(f->text, "# TYPE weft_request_duration_seconds histogram\n"));
	assert_non_null(strstr(f->text, "# HELP weft_sensor_lag_seconds "));
	free(f->text);

	srv.otlp = true;
	srv.otlp_stats = (struct exporter_stats){.queued = 50,
						 .sent = 40,
						 .dropped = 6,
						 .failed = 2,
						 .queue_spans = 8,
						 .queue_capacity = 10000};
	assert_int_equal(metrics__publish(f->m, &srv, sensors, 2), 0);
	f->text = metrics__render(f->m, &len);
	assert_true(sample(f->text, "weft_otlp_spans_sent_total") == 40);
	assert_true(sample(f->text, "weft_otlp_spans_dropped_total") == 6);
	assert_true(sample(f->text, "weft_otlp_spans_failed_total") == 2);
	assert_true(sample(f->text, "weft_otlp_queue_spans") == 8);
	assert_true(sample(f->text, "weft_otlp_queue_capacity_spans") == 10000);
}

/* Scrapes on another thread while the owner counts and publishes: each
 * render sees one whole snapshot (ASan checks the references). */
struct scraper {
	struct metrics *m;
	volatile int stop;
	int renders;
};

static void *scrape(void *arg)
{
	struct scraper *s = arg;

	while (!s->stop) {
		size_t len;
		char *t = metrics__render(s->m, &len);

		assert_non_null(t);
		assert_non_null(strstr(t, "weft_build_info"));
		free(t);
		s->renders++;
	}
	return NULL;
}

static void test_concurrent_scrapes(void **state)
{
	struct fixture *f = *state;
	struct scraper sc = {.m = f->m};
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, scrape, &sc), 0);
	for (uint64_t i = 1; i <= 2000; i++) {
		struct weft_span s = mk(100 + i, SVC_WRK, i % 2 ? SVC_WEB : SVC_DB, i * 1000, 1);

		feed(f, &s, 1, i);
		assert_int_equal(metrics__publish(f->m, NULL, NULL, 0), 0);
	}
	sc.stop = 1;
	pthread_join(th, NULL);
	assert_true(sc.renders > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_counted_once_when_finished, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_buckets_and_external, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap_and_escaping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_horizon, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_sensors_otlp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_scrapes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the OTLP exporter against a receiver on loopback (a
 * libmicrohttpd daemon in the test): everything committed arrives, in
 * batches of the configured size, with the headers asked for; 429 and 5xx
 * are retried, 400 is not; a full queue drops and counts; a newer version
 * of a queued trajectory replaces it; partial success is counted; a
 * receiver that is down or hangs costs at most the flush deadline at stop;
 * every span is accounted for. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <microhttpd.h>

#include "common/clock.h"
#include "export/exporter.h"

#define MS 1000000ull

struct receiver {
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t lock;
	int statuses[8]; /* answered in order, then 200 */
	int nstatuses, next;
	const char *reply; /* the body of a 200 */
	int sleep_ms;	   /* before each answer */
	int requests, accepted;
	int spans;     /* in accepted requests */
	int max_batch; /* spans in the largest request */
	char content_type[64], auth[64];
	char last[512]; /* spanIds of the last accepted request, in order */
};

struct upload {
	char *body;
	size_t len;
};

static int count_spans(json_object *doc, char *ids, size_t cap)
{
	json_object *rss, *ss, *spans, *v;
	int n = 0;

	ids[0] = '\0';
	if (!json_object_object_get_ex(doc, "resourceSpans", &rss))
		return -1;
	for (size_t i = 0; i < json_object_array_length(rss); i++) {
		json_object_object_get_ex(json_object_array_get_idx(rss, i), "scopeSpans", &ss);
		json_object_object_get_ex(json_object_array_get_idx(ss, 0), "spans", &spans);
		for (size_t k = 0; k < json_object_array_length(spans); k++, n++) {
			json_object_object_get_ex(json_object_array_get_idx(spans, k), "spanId",
						  &v);
			snprintf(ids + strlen(ids), cap - strlen(ids), "%s ",
				 json_object_get_string(v));
		}
	}
	return n;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *size, void **con_cls)
{
	struct receiver *r = cls;
	struct upload *up = *con_cls;
	struct MHD_Response *resp;
	const char *body = "{}", *v;
	int status = 200, n;
	enum MHD_Result ret;
	json_object *doc;

	(void)url, (void)method, (void)version;
	if (!up) {
		*con_cls = up = calloc(1, sizeof(*up));
		return MHD_YES;
	}
	if (*size) {
		up->body = realloc(up->body, up->len + *size + 1);
		memcpy(up->body + up->len, data, *size);
		up->len += *size;
		up->body[up->len] = '\0';
		*size = 0;
		return MHD_YES;
	}
	if (r->sleep_ms)
		usleep((useconds_t)r->sleep_ms * 1000);
	pthread_mutex_lock(&r->lock);
	r->requests++;
	if (r->next < r->nstatuses)
		status = r->statuses[r->next++];
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	snprintf(r->content_type, sizeof(r->content_type), "%s", v ? v : "");
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	snprintf(r->auth, sizeof(r->auth), "%s", v ? v : "");
	doc = up->body ? json_tokener_parse(up->body) : NULL;
	n = doc ? count_spans(doc, r->last, sizeof(r->last)) : -1;
	json_object_put(doc);
	if (n < 0)
		status = 400;
	if (status == 200) {
		r->accepted++;
		r->spans += n;
		if (n > r->max_batch)
			r->max_batch = n;
		body = r->reply ? r->reply : "{}";
	}
	pthread_mutex_unlock(&r->lock);
	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (up) {
		free(up->body);
		free(up);
		*con_cls = NULL;
	}
}

struct fixture {
	struct receiver r;
	struct exporter_opts o;
	struct exporter *x;
	char url[64];
	struct weft_span spans[4];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const union MHD_DaemonInfo *info;

	pthread_mutex_init(&f->r.lock, NULL);
	f->r.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				  0, NULL, NULL, handle, &f->r, MHD_OPTION_NOTIFY_COMPLETED,
				  completed, NULL, MHD_OPTION_END);
	assert_non_null(f->r.d);
	info = MHD_get_daemon_info(f->r.d, MHD_DAEMON_INFO_BIND_PORT);
	f->r.port = info->port;
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/v1/traces", f->r.port);
	exporter_opts_defaults(&f->o);
	f->o.url = f->url;
	f->o.batch_wait_ns = 20 * MS;
	f->o.backoff_ns = 20 * MS;
	f->o.flush_ns = 2000 * MS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	exporter__stop(f->x);
	if (f->r.d)
		MHD_stop_daemon(f->r.d);
	pthread_mutex_destroy(&f->r.lock);
	free(f);
	return 0;
}

/* A trajectory of n spans seen from both sides (2n OTLP spans). */
static void commit(struct fixture *f, uint64_t id, int n)
{
	struct weft_trajectory t = {.id = id, .nspans = n, .spans = f->spans};

	for (int i = 0; i < n; i++) {
		struct weft_span *s = &f->spans[i];

		memset(s, 0, sizeof(*s));
		s->id = id + (uint64_t)i;
		s->parent = i ? id : 0;
		s->client.observed = s->server.observed = true;
		s->client.start_ns = 1000;
		s->client.end_ns = 2000;
		s->server.start_ns = 1200;
		s->server.end_ns = 1800;
		s->protocol = WEFT_PROTO_HTTP;
		snprintf(s->request, sizeof(s->request), "GET /t%d", i);
	}
	exporter__stage(f->x, &t, NULL);
	exporter__commit(f->x);
}

static struct exporter_stats stats(struct fixture *f)
{
	struct exporter_stats st;

	exporter__stats(f->x, &st);
	return st;
}

/* Waits up to ms for the receiver to have accepted n spans. */
static bool wait_spans(struct fixture *f, int n, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		int got;

		pthread_mutex_lock(&f->r.lock);
		got = f->r.spans;
		pthread_mutex_unlock(&f->r.lock);
		if (got >= n && stats(f).sent >= (uint64_t)n)
			return true;
		usleep(10000);
	}
	return false;
}

static void stop(struct fixture *f)
{
	exporter__stop(f->x);
	f->x = NULL;
}

static void assert_balanced(const struct exporter_stats *st)
{
	assert_int_equal(st->queued,
			 st->sent + st->rejected + st->failed + st->superseded + st->queue_spans);
}

static void test_sends_everything(void **state)
{
	struct fixture *f = *state;
	struct exporter_stats st;

	f->o.headers[0] = "Authorization: Bearer s3cret";
	f->x = exporter__start(&f->o);
	assert_non_null(f->x);
	for (int i = 0; i < 5; i++)
		commit(f, 0x100 * (uint64_t)(i + 1), 1);
	assert_true(wait_spans(f, 10, 3000));
	st = stats(f);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.sent, 10);
	assert_int_equal(st.dropped + st.failed + st.retries, 0);
	assert_int_equal(st.queue_spans, 0);
	assert_int_equal(st.queue_bytes, 0);
	assert_true(st.last_success_ns > 0);
	assert_string_equal(f->r.content_type, "application/json");
	assert_string_equal(f->r.auth, "Bearer s3cret");
	assert_balanced(&st);
	stop(f);
}

static void test_batch_size(void **state)
{
	struct fixture *f = *state;
	uint64_t t0 = mono_ns();

	f->o.batch_spans = 4;
	f->o.batch_wait_ns = 10000 * MS; /* only full batches go before that */
	f->x = exporter__start(&f->o);
	for (int i = 0; i < 6; i++)
		commit(f, 0x1000 * (uint64_t)(i + 1), 1);
	assert_true(wait_spans(f, 12, 3000));
	assert_true(mono_ns() - t0 < 5000 * MS);
	assert_int_equal(f->r.max_batch, 4);
	assert_int_equal(f->r.accepted, 3);
	stop(f);
}

static void test_retries(void **state)
{
	struct fixture *f = *state;
	struct exporter_stats st;

	f->r.statuses[0] = 503;
	f->r.statuses[1] = 429;
	f->r.nstatuses = 2;
	f->x = exporter__start(&f->o);
	commit(f, 0x77, 1);
	assert_true(wait_spans(f, 2, 3000));
	st = stats(f);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.request_failures, 2);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.failed, 0);
	assert_non_null(strstr(st.last_error, "HTTP 429"));
	assert_balanced(&st);
	stop(f);
}

static void test_refused(void **state)
{
	struct fixture *f = *state;
	struct exporter_stats st;

	f->r.statuses[0] = 400;
	f->r.nstatuses = 1;
	f->x = exporter__start(&f->o);
	commit(f, 0x88, 1);
	for (int i = 0; i < 300 && stats(f).failed < 2; i++)
		usleep(10000);
	commit(f, 0x99, 2); /* the next one goes through */
	assert_true(wait_spans(f, 4, 3000));
	st = stats(f);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.sent, 4);
	assert_balanced(&st);
	stop(f);
}

static void test_queue_full_and_hung_receiver(void **state)
{
	struct fixture *f = *state;
	struct exporter_stats st;
	uint64_t t0;

	f->r.sleep_ms = 3000; /* hangs past the flush deadline */
	f->o.queue_spans = 10;
	f->o.batch_wait_ns = 10000 * MS;
	f->o.flush_ns = 300 * MS;
	f->x = exporter__start(&f->o);
	for (int i = 0; i < 10; i++)
		commit(f, 0x10000 * (uint64_t)(i + 1), 1);
	st = stats(f);
	assert_int_equal(st.queued, 10);
	assert_int_equal(st.dropped, 10);
	assert_int_equal(st.queue_spans, 10);
	t0 = mono_ns();
	stop(f); /* the request in flight is abandoned at the deadline */
	assert_true(mono_ns() - t0 < 2000 * MS);
}

static void test_newer_version_replaces(void **state)
{
	struct fixture *f = *state;
	struct exporter_stats st;

	f->o.batch_wait_ns = 300 * MS;
	f->x = exporter__start(&f->o);
	commit(f, 0x5000, 1); /* 2 spans */
	commit(f, 0x5000, 2); /* grown: 4 spans, same trajectory */
	st = stats(f);
	assert_int_equal(st.superseded, 2);
	assert_int_equal(st.queue_spans, 4);
	assert_true(wait_spans(f, 4, 3000));
	st = stats(f);
	assert_int_equal(f->r.accepted, 1);
	assert_int_equal(st.sent, 4);
	assert_int_equal(st.queued, 6);
	assert_string_equal(f->r.last, "0000000000005000 8000000000005000 "
				       "0000000000005001 8000000000005001 ");
	assert_balanced(&st);
	stop(f);
}

static void test_partial_success(void **state)
{
	struct fixture *f = *state;
	struct exporter_stats st;

	f->r.reply = "{\"partialSuccess\":{\"rejectedSpans\":\"1\",\"errorMessage\":\"too old\"}}";
	f->x = exporter__start(&f->o);
	commit(f, 0x6000, 1);
	for (int i = 0; i < 300 && stats(f).rejected == 0; i++)
		usleep(10000);
	st = stats(f);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.sent, 1);
	assert_balanced(&st);
	stop(f);
}

static void test_receiver_down(void **state)
{
	struct fixture *f = *state;
	struct exporter_stats st;
	uint64_t t0;

	MHD_stop_daemon(f->r.d); /* nothing listens there any more */
	f->r.d = NULL;
	f->o.flush_ns = 300 * MS;
	f->x = exporter__start(&f->o);
	commit(f, 0x7000, 1);
	for (int i = 0; i < 300 && stats(f).retries < 3; i++)
		usleep(10000);
	st = stats(f);
	assert_true(st.retries >= 3);
	assert_int_equal(st.failed, 0); /* the queue has room: it keeps trying */
	assert_non_null(st.last_error[0] ? st.last_error : NULL);
	t0 = mono_ns();
	stop(f);
	assert_true(mono_ns() - t0 < 1500 * MS);
}

static void test_discard(void **state)
{
	struct fixture *f = *state;
	struct weft_trajectory t = {.id = 0x8000, .nspans = 1, .spans = f->spans};
	struct exporter_stats st;

	f->x = exporter__start(&f->o);
	memset(f->spans, 0, sizeof(f->spans));
	f->spans[0].id = 0x8000;
	f->spans[0].client.observed = true;
	exporter__stage(f->x, &t, NULL);
	exporter__discard(f->x); /* the transaction was lost */
	exporter__commit(f->x);
	st = stats(f);
	assert_int_equal(st.queued + st.dropped, 0);
	stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sends_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_full_and_hung_receiver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_version_replaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_success, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receiver_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_discard, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

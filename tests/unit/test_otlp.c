/* Unit tests of the OTLP mapping: a trajectory built by hand (an HTTP root,
 * a failed call to another host with a skewed clock, a PostgreSQL query to
 * a service without a sensor, a JVM method call, a Redis call flagged as a
 * guess, a call of an unknown protocol) becomes exactly the expected
 * ExportTraceServiceRequest: ids, parents, kinds, times, resources,
 * attributes and statuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "export/otlp.h"
#include "export/services.h"
#include "export/textw.h"

enum {
	SVC_WRK = 0x11,
	SVC_NGINX = 0x22,
	SVC_APP = 0x33,
	SVC_PG = 0x44, /* external: no sensor there */
	SVC_REDIS = 0x55,
	SVC_RAW = 0x66, /* external, unknown protocol */
	SVC_GONE = 0x77 /* named by a span, never seen: not in the table */
};

#define SKEW (-99999000ll) /* h2's clock runs ahead of h1's */

struct fixture {
	struct svc_table *svcs;
	struct weft_span spans[7];
	struct weft_trajectory t;
	struct otlp_traj *q;
	json_object *doc;
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

static void side(struct weft_side *s, const char *host, uint32_t pid, uint32_t tid,
		 const char *comm, const char *addr, uint16_t port, uint64_t start, uint64_t end)
{
	s->observed = true;
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->pid = pid;
	s->tid = tid;
	snprintf(s->comm, sizeof(s->comm), "%s", comm);
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->port = port;
	s->start_ns = start;
	s->end_ns = end;
}

static struct weft_span *span(struct fixture *f, int i, uint64_t id, uint64_t parent, uint64_t csvc,
			      uint64_t ssvc, uint8_t proto, const char *request)
{
	struct weft_span *s = &f->spans[i];

	s->id = id;
	s->parent = parent;
	s->client_service = csvc;
	s->server_service = ssvc;
	s->protocol = proto;
	snprintf(s->request, sizeof(s->request), "%s", request);
	s->response_bytes = 100;
	s->request_bytes = 50;
	return s;
}

/* The encoder's text, which must parse as strict JSON. */
static json_object *encode(const struct otlp_traj *q, int max, char **text)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *doc;
	size_t len = 0;
	char *t = otlp_encode(q, max, &len);

	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	doc = json_tokener_parse_ex(tok, t, (int)len + 1);
	if (!doc)
		fail_msg("not strict JSON (%s): %.300s",
			 json_tokener_error_desc(json_tokener_get_error(tok)), t);
	json_tokener_free(tok);
	if (text)
		*text = t;
	else
		free(t);
	return doc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct weft_span *s;

	f->svcs = svc_table__new();
	add_svc(f->svcs, SVC_WRK, "h1", "/usr/bin/wrk", 0, NULL);
	add_svc(f->svcs, SVC_NGINX, "h1", "/usr/sbin/nginx", 80, NULL);
	add_svc(f->svcs, SVC_APP, "h2", "/usr/bin/python3", 8000, NULL);
	add_svc(f->svcs, SVC_PG, "", "", 5432, "10.0.0.9");
	add_svc(f->svcs, SVC_REDIS, "h2", "/usr/bin/redis-server", 6379, NULL);
	add_svc(f->svcs, SVC_RAW, "", "", 7000, "10.0.0.7");

	s = span(f, 0, 0x100, 0, SVC_WRK, SVC_NGINX, WEFT_PROTO_HTTP, "GET /order?id=7");
	side(&s->client, "h1", 10, 11, "wrk", "127.0.0.1", 40000, 1000, 9000);
	side(&s->server, "h1", 20, 21, "nginx", "127.0.0.1", 80, 1500, 8500);
	s->status = 200;

	s = span(f, 1, 0x200, 0x100, SVC_NGINX, SVC_APP, WEFT_PROTO_HTTP, "POST /pay");
	side(&s->client, "h1", 20, 21, "nginx", "10.0.0.1", 41000, 2000, 8000);
	side(&s->server, "h2", 30, 31, "python3", "10.0.0.2", 8000, 100002000, 100007000);
	s->display_offset_ns = SKEW;
	s->status = 503;
	s->error = true;
	snprintf(s->error_text, sizeof(s->error_text), "HTTP 503");
	s->link = WEFT_LINK_THREAD;

	s = span(f, 2, 0x300, 0x200, SVC_APP, SVC_PG, WEFT_PROTO_POSTGRES,
		 "QUERY select * from orders where id = $1");
	side(&s->client, "h2", 30, 31, "python3", "10.0.0.2", 42000, 100003000, 100004000);
	s->display_offset_ns = SKEW;
	s->link = WEFT_LINK_ADJACENT;
	s->uncertain = true;

	s = span(f, 3, 0x400, 0x200, SVC_APP, SVC_APP, WEFT_PROTO_METHOD, "com.shop.Orders.price");
	side(&s->server, "h2", 30, 31, "python3", "", 0, 100005000, 100006000);
	s->display_offset_ns = SKEW;
	s->link = WEFT_LINK_METHOD;
	s->request_bytes = s->response_bytes = 0;

	s = span(f, 4, 0x500, 0x200, SVC_APP, SVC_REDIS, WEFT_PROTO_REDIS, "REDIS GET");
	side(&s->client, "h2", 30, 32, "python3", "127.0.0.1", 43000, 100006100, 100006500);
	side(&s->server, "h2", 40, 41, "redis-server", "127.0.0.1", 6379, 100006200, 100006400);
	s->display_offset_ns = SKEW;
	s->link = WEFT_LINK_GUESS;
	s->uncertain = s->incomplete = true;

	s = span(f, 5, 0x600, 0x100, SVC_NGINX, SVC_RAW, WEFT_PROTO_UNKNOWN, "");
	side(&s->client, "h1", 20, 22, "nginx", "10.0.0.1", 44000, 2500, 3500);
	s->link = WEFT_LINK_CONNECT;

	/* a client whose service the table never heard of (its comm names it) */
	s = span(f, 6, 0x700, 0x100, SVC_GONE, SVC_RAW, 200 /* a protocol added later */, "PING");
	side(&s->client, "h1", 50, 51, "pinger", "10.0.0.1", 45000, 4000, 4100);

	f->t = (struct weft_trajectory){
	    .id = 0x100, .start_ns = 1000, .duration_ns = 8000, .nspans = 7, .spans = f->spans};
	f->q = otlp_traj_copy(&f->t, f->svcs);
	assert_non_null(f->q);
	f->doc = encode(f->q, 0, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	json_object_put(f->doc);
	free(f->q);
	svc_table__free(f->svcs);
	free(f);
	return 0;
}

/* ---- reading the document ----------------------------------------------------------------- */

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v ? json_object_get_string(v) : NULL;
}

/* The value object of attribute key in attrs ({"stringValue": ...}), or NULL. */
static json_object *attr(json_object *attrs, const char *key)
{
	for (size_t i = 0; attrs && i < json_object_array_length(attrs); i++) {
		json_object *a = json_object_array_get_idx(attrs, i);

		if (!strcmp(str(a, "key"), key))
			return get(a, "value");
	}
	return NULL;
}

static const char *attr_s(json_object *attrs, const char *key)
{
	return str(attr(attrs, key), "stringValue");
}

/* intValue is a string (64-bit integers in protobuf's JSON mapping). */
static long long attr_i(json_object *attrs, const char *key)
{
	const char *v = str(attr(attrs, key), "intValue");

	return v ? atoll(v) : -1;
}

static int attr_b(json_object *attrs, const char *key)
{
	json_object *v = get(attr(attrs, key), "boolValue");

	return v ? json_object_get_boolean(v) : -1;
}

/* The span with spanId id, and the resource it is under. */
static json_object *find_span(json_object *doc, const char *id, json_object **resource)
{
	json_object *rss = get(doc, "resourceSpans");

	for (size_t i = 0; i < json_object_array_length(rss); i++) {
		json_object *rs = json_object_array_get_idx(rss, i);
		json_object *ss = json_object_array_get_idx(get(rs, "scopeSpans"), 0);
		json_object *spans = get(ss, "spans");

		for (size_t k = 0; k < json_object_array_length(spans); k++) {
			json_object *sp = json_object_array_get_idx(spans, k);

			if (!strcmp(str(sp, "spanId"), id)) {
				if (resource)
					*resource = get(rs, "resource");
				return sp;
			}
		}
	}
	return NULL;
}

static size_t count_spans(json_object *doc)
{
	json_object *rss = get(doc, "resourceSpans");
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(rss); i++) {
		json_object *rs = json_object_array_get_idx(rss, i);

		n += json_object_array_length(
		    get(json_object_array_get_idx(get(rs, "scopeSpans"), 0), "spans"));
	}
	return n;
}

static void assert_span(json_object *sp, const char *parent, int kind, const char *name,
			const char *start, const char *end)
{
	assert_non_null(sp);
	assert_string_equal(str(sp, "traceId"), "00000000000000000000000000000100");
	if (parent)
		assert_string_equal(str(sp, "parentSpanId"), parent);
	else
		assert_null(get(sp, "parentSpanId"));
	assert_int_equal(json_object_get_int(get(sp, "kind")), kind);
	assert_string_equal(str(sp, "name"), name);
	assert_string_equal(str(sp, "startTimeUnixNano"), start);
	assert_string_equal(str(sp, "endTimeUnixNano"), end);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_copy(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(otlp_span_count(&f->t), 10);
	assert_int_equal(f->q->nout, 10);
	assert_int_equal(f->q->nsvcs, 6); /* every service named, SVC_GONE unknown */
	assert_int_equal(f->q->t.nspans, 7);
	assert_ptr_not_equal(f->q->t.spans, f->spans);
	assert_memory_equal(f->q->t.spans, f->spans, sizeof(f->spans));
	assert_int_equal(count_spans(f->doc), 10);
}

static void test_ids(void **state)
{
	char buf[33];

	(void)state;
	otlp_trace_id(0x6fa88236b0ce154eull, buf);
	assert_string_equal(buf, "00000000000000006fa88236b0ce154e");
	otlp_span_id(0x6fa88236b0ce154eull | OTLP_SERVER_SIDE, buf);
	assert_string_equal(buf, "efa88236b0ce154e");
}

static void test_http_root(void **state)
{
	struct fixture *f = *state;
	json_object *res, *cl = find_span(f->doc, "0000000000000100", &res), *a, *sv;

	assert_span(cl, NULL, 3, "GET /order", "1000", "9000");
	a = get(cl, "attributes");
	assert_string_equal(attr_s(a, "http.request.method"), "GET");
	assert_string_equal(attr_s(a, "url.path"), "/order");
	assert_string_equal(attr_s(a, "url.query"), "id=7");
	assert_int_equal(attr_i(a, "http.response.status_code"), 200);
	assert_string_equal(attr_s(a, "server.address"), "127.0.0.1");
	assert_int_equal(attr_i(a, "server.port"), 80);
	assert_string_equal(attr_s(a, "peer.service"), "nginx");
	assert_int_equal(attr_i(a, "thread.id"), 11);
	assert_string_equal(attr_s(a, "weft.span_id"), "0000000000000100");
	assert_string_equal(attr_s(a, "weft.protocol"), "http");
	assert_null(attr(a, "weft.link")); /* a root */
	assert_int_equal(attr_b(a, "weft.uncertain"), 0);
	assert_int_equal(attr_b(a, "weft.incomplete"), 0);
	assert_int_equal(attr_i(a, "weft.request.bytes"), 50);
	assert_int_equal(attr_i(a, "weft.response.bytes"), 100);
	assert_null(get(cl, "status"));

	a = get(res, "attributes");
	assert_string_equal(attr_s(a, "service.name"), "wrk");
	assert_string_equal(attr_s(a, "host.name"), "h1");
	assert_int_equal(attr_i(a, "process.pid"), 10);
	assert_string_equal(attr_s(a, "process.executable.path"), "/usr/bin/wrk");
	assert_string_equal(attr_s(a, "process.executable.name"), "wrk");
	assert_null(attr(a, "server.port")); /* serves nothing */
	assert_string_equal(attr_s(a, "weft.service.id"), "0000000000000011");

	sv = find_span(f->doc, "8000000000000100", &res);
	assert_span(sv, "0000000000000100", 2, "GET /order", "1500", "8500");
	a = get(sv, "attributes");
	assert_string_equal(attr_s(a, "client.address"), "127.0.0.1");
	assert_int_equal(attr_i(a, "client.port"), 40000);
	assert_int_equal(attr_i(a, "server.port"), 80);
	assert_int_equal(attr_i(a, "thread.id"), 21);
	assert_null(attr(a, "peer.service"));
	a = get(res, "attributes");
	assert_string_equal(attr_s(a, "service.name"), "nginx");
	assert_int_equal(attr_i(a, "server.port"), 80);
	assert_int_equal(attr_i(a, "process.pid"), 20);
}

static void test_error_and_skew(void **state)
{
	struct fixture *f = *state;
	json_object *cl = find_span(f->doc, "0000000000000200", NULL), *res;
	json_object *sv = find_span(f->doc, "8000000000000200", &res), *st;

	/* the client side runs on h1: its parent's offset (0); the server side
	 * on h2: its own, which puts it inside the client side */
	assert_span(cl, "8000000000000100", 3, "POST /pay", "2000", "8000");
	assert_span(sv, "0000000000000200", 2, "POST /pay", "3000", "8000");
	assert_string_equal(attr_s(get(cl, "attributes"), "weft.link"), "thread");
	assert_null(attr(get(sv, "attributes"), "weft.link")); /* its parent is by TCP sequence */
	assert_int_equal(attr_i(get(sv, "attributes"), "http.response.status_code"), 503);
	for (json_object *sp = cl; sp; sp = sp == cl ? sv : NULL) {
		st = get(sp, "status");
		assert_non_null(st);
		assert_int_equal(json_object_get_int(get(st, "code")), 2);
		assert_string_equal(str(st, "message"), "HTTP 503");
	}
	assert_string_equal(attr_s(get(res, "attributes"), "service.name"), "python3");
	assert_string_equal(attr_s(get(res, "attributes"), "host.name"), "h2");
}

static void test_database_without_sensor(void **state)
{
	struct fixture *f = *state;
	json_object *res, *cl = find_span(f->doc, "0000000000000300", &res), *a;

	assert_null(find_span(f->doc, "8000000000000300", NULL)); /* no sensor: no server span */
	assert_span(cl, "8000000000000200", 3, "SELECT", "4000", "5000");
	a = get(cl, "attributes");
	assert_string_equal(attr_s(a, "db.system"), "postgresql");
	assert_string_equal(attr_s(a, "db.statement"), "select * from orders where id = $1");
	assert_string_equal(attr_s(a, "db.operation"), "SELECT");
	assert_string_equal(attr_s(a, "server.address"), "10.0.0.9");
	assert_int_equal(attr_i(a, "server.port"), 5432);
	assert_string_equal(attr_s(a, "peer.service"), "10.0.0.9");
	assert_string_equal(attr_s(a, "weft.link"), "adjacent");
	assert_int_equal(attr_b(a, "weft.uncertain"), 1);
	assert_null(attr(a, "http.request.method"));
	/* the python process's resource holds its server side and its calls */
	assert_string_equal(attr_s(get(res, "attributes"), "service.name"), "python3");
	assert_int_equal(attr_i(get(res, "attributes"), "process.pid"), 30);
}

static void test_method_call(void **state)
{
	struct fixture *f = *state;
	json_object *sp = find_span(f->doc, "8000000000000400", NULL), *a;

	assert_null(find_span(f->doc, "0000000000000400", NULL));
	assert_span(sp, "8000000000000200", 1, "com.shop.Orders.price", "6000", "7000");
	a = get(sp, "attributes");
	assert_string_equal(attr_s(a, "code.namespace"), "com.shop.Orders");
	assert_string_equal(attr_s(a, "code.function"), "price");
	assert_string_equal(attr_s(a, "weft.link"), "method");
	assert_string_equal(attr_s(a, "weft.protocol"), "method");
	assert_null(attr(a, "network.transport"));
	assert_int_equal(attr_i(a, "thread.id"), 31);
}

static void test_redis_guess(void **state)
{
	struct fixture *f = *state;
	json_object *res, *cl = find_span(f->doc, "0000000000000500", NULL);
	json_object *sv = find_span(f->doc, "8000000000000500", &res), *a;

	assert_span(cl, "8000000000000200", 3, "GET", "7100", "7500");
	assert_span(sv, "0000000000000500", 2, "GET", "7200", "7400");
	a = get(cl, "attributes");
	assert_string_equal(attr_s(a, "db.system"), "redis");
	assert_string_equal(attr_s(a, "db.operation"), "GET");
	assert_null(attr(a, "db.statement"));
	assert_string_equal(attr_s(a, "weft.link"), "guess");
	a = get(sv, "attributes");
	assert_int_equal(attr_b(a, "weft.incomplete"), 1);
	assert_int_equal(attr_b(a, "weft.uncertain"), 1);
	assert_string_equal(attr_s(get(res, "attributes"), "service.name"), "redis-server");
	assert_int_equal(attr_i(get(res, "attributes"), "server.port"), 6379);
}

static void test_other_protocols(void **state)
{
	struct fixture *f = *state;
	json_object *res, *raw = find_span(f->doc, "0000000000000600", NULL);
	json_object *ping = find_span(f->doc, "0000000000000700", &res), *a;

	/* no request text: the protocol and the server's port name it */
	assert_span(raw, "8000000000000100", 3, "tcp :7000", "2500", "3500");
	a = get(raw, "attributes");
	assert_string_equal(attr_s(a, "weft.protocol"), "tcp");
	assert_string_equal(attr_s(a, "weft.link"), "connect");
	assert_null(attr(a, "http.request.method"));
	assert_null(attr(a, "db.system"));
	/* a protocol number this build does not know: generic, named by its text */
	assert_span(ping, "8000000000000100", 3, "PING", "4000", "4100");
	a = get(res, "attributes");
	assert_string_equal(attr_s(a, "service.name"), "pinger");
	assert_string_equal(attr_s(a, "process.executable.name"), "pinger");
	assert_null(attr(a, "process.executable.path"));
}

static void test_resources(void **state)
{
	struct fixture *f = *state;
	json_object *rss = get(f->doc, "resourceSpans");

	/* wrk, nginx, python3, redis-server, pinger: one per process */
	assert_int_equal(json_object_array_length(rss), 5);
	for (size_t i = 0; i < json_object_array_length(rss); i++) {
		json_object *ss = get(json_object_array_get_idx(rss, i), "scopeSpans");
		json_object *scope = get(json_object_array_get_idx(ss, 0), "scope");

		assert_int_equal(json_object_array_length(ss), 1);
		assert_string_equal(str(scope, "name"), "weft");
		assert_non_null(str(scope, "version"));
	}
}

/* The same trajectory encodes to the same bytes: a receiver that removes
 * identical duplicates (Jaeger) can. Two trajectories share resources. */
static void test_deterministic_and_batched(void **state)
{
	struct fixture *f = *state;
	char *t1, *t2;
	json_object *two;
	struct otlp_traj *q2;

	json_object_put(encode(f->q, 0, &t1));
	json_object_put(encode(f->q, 0, &t2));
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);

	f->t.id = f->spans[0].id = 0x1100;
	f->spans[1].parent = f->spans[5].parent = f->spans[6].parent = 0x1100;
	q2 = otlp_traj_copy(&f->t, f->svcs);
	assert_non_null(q2);
	f->q->next = q2;
	two = encode(f->q, 0, NULL);
	assert_int_equal(json_object_array_length(get(two, "resourceSpans")), 5);
	assert_int_equal(count_spans(two), 20);
	assert_non_null(find_span(two, "0000000000001100", NULL));
	json_object_put(two);
	two = encode(f->q, 1, NULL); /* at most one trajectory */
	assert_int_equal(count_spans(two), 10);
	json_object_put(two);
	f->q->next = NULL;
	free(q2);
}

/* Request texts are bytes from the wire: control characters are escaped
 * and what is not UTF-8 becomes U+FFFD, so the document stays valid. */
static void test_bytes_from_the_wire(void **state)
{
	struct fixture *f = *state;
	struct weft_span *s = &f->spans[5];
	json_object *doc, *sp;

	snprintf(s->request, sizeof(s->request), "%s",
		 "BIN \"q\\\x01\t\xff\xc3\x28\xe2\x82\xac\xed\xa0\x80");
	snprintf(s->error_text, sizeof(s->error_text), "%s", "bad \xc0\xaf");
	s->error = true;
	free(f->q);
	f->q = otlp_traj_copy(&f->t, f->svcs);
	doc = encode(f->q, 0, NULL);
	sp = find_span(doc, "0000000000000600", NULL);
	assert_string_equal(str(sp, "name"), "BIN \"q\\\x01\t\xef\xbf\xbd\xef\xbf\xbd(\xe2\x82\xac"
					     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(str(get(sp, "status"), "message"), "bad \xef\xbf\xbd\xef\xbf\xbd");
	json_object_put(doc);
}

/* Where a UTF-8 sequence is valid and how long, at its edges. */
static void test_utf8(void **state)
{
	static const struct {
		const char *bytes;
		size_t n, want;
	} cases[] = {
	    {"a", 1, 1},
	    {"\xc2\x80", 2, 2},
	    {"\xc1\xbf", 2, 0}, /* overlong */
	    {"\xc2", 1, 0},
	    {"\xe0\xa0\x80", 3, 3},
	    {"\xe0\x9f\xbf", 3, 0},
	    {"\xed\x9f\xbf", 3, 3},
	    {"\xed\xa0\x80", 3, 0}, /* a surrogate */
	    {"\xef\xbf\xbd", 3, 3},
	    {"\xf0\x90\x80\x80", 4, 4},
	    {"\xf0\x8f\xbf\xbf", 4, 0},
	    {"\xf4\x8f\xbf\xbf", 4, 4},
	    {"\xf4\x90\x80\x80", 4, 0}, /* past U+10FFFF */
	    {"\xf5\x80\x80\x80", 4, 0},
	    {"\x80", 1, 0},
	    {"\xe2\x82", 2, 0},
	    {"\xe2\x28\xac", 3, 0},
	    {"", 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (utf8_seq((const unsigned char *)cases[i].bytes, cases[i].n) != cases[i].want)
			fail_msg("case %zu: %zu, expected %zu", i,
				 utf8_seq((const unsigned char *)cases[i].bytes, cases[i].n),
				 cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_http_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_and_skew, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_database_without_sensor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_method_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redis_guess, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_protocols, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deterministic_and_batched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bytes_from_the_wire, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

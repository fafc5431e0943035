/* The AMQP 0-9-1 parser on streams built frame by frame: a whole session
 * fed at once, split at every byte and byte by byte (the records must not
 * change), frames across chunks, calls captured in part, gaps that hide a
 * frame header, malformed frames, sequence numbers wrapping at 2^32, and
 * random damage that must never crash it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/amqp.h"

#include "amqp_frames.h"

static const char order_body[] = "{\"order\":7,\"items\":[{\"sku\":\"A-1\",\"qty\":2},"
				 "{\"sku\":\"B-9\",\"qty\":1}],\"note\":\"leave at the door\"}";

/* ---- the session ------------------------------------------------------------------------- */

#define NOT_FOUND_TEXT "NOT_FOUND - no exchange 'nope' in vhost '/'"

/* Client to server: the records it gives, in order. */
static void session_client(struct wbuf *w)
{
	size_t half = sizeof(order_body) / 2, n = sizeof(order_body) - 1;

	proto_header(w);
	conn_start_ok(w);
	conn_tune(w, 31, 131072);
	conn_open(w, "/");
	one_sstr(w, 1, 20, 10, ""); /* channel.open */
	queue_declare(w, 1, "tasks", 0x02);
	basic_consume(w, 1, "tasks", "ctag-1");
	basic_publish(w, 1, "", "tasks", true);
	header_rich(w, 1, n);
	body(w, 1, order_body, half); /* the body in two frames */
	body(w, 1, order_body + half, n - half);
	basic_tag(w, 1, 80, 1, 0); /* ack */
	basic_publish(w, 1, "nope", "x", false);
	header_plain(w, 1, 0, NULL); /* an empty body: no body frame */
	no_args(w, 1, 20, 41);	     /* channel.close-ok */
	close_method(w, 0, 200, "Goodbye", 0, 0);
}

static void session_server(struct wbuf *w)
{
	conn_start(w);
	conn_tune(w, 30, 131072);
	one_sstr(w, 0, 10, 41, ""); /* connection.open-ok */
	channel_open_ok(w, 1);
	queue_declare_ok(w, 1, "tasks", 0, 0);
	one_sstr(w, 1, 60, 21, "ctag-1"); /* consume-ok */
	basic_deliver(w, 1, "ctag-1", 1, false, "", "tasks");
	header_rich(w, 1, sizeof(order_body) - 1);
	body(w, 1, order_body, sizeof(order_body) - 1);
	heartbeat(w);
	close_method(w, 1, 404, NOT_FOUND_TEXT, 60, 40);
	no_args(w, 0, 10, 51); /* connection.close-ok */
}

/* ---- collecting records ------------------------------------------------------------------ */

struct got {
	struct amqp_record *r;
	int n, cap;
};

static void collect(const struct amqp_record *r, void *ctx)
{
	struct got *g = ctx;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->r = realloc(g->r, (size_t)g->cap * sizeof(*g->r));
		assert_non_null(g->r);
	}
	memcpy(&g->r[g->n++], r, sizeof(*r));
}

static void got_reset(struct got *g)
{
	g->n = 0;
}

static void got_free(struct got *g)
{
	free(g->r);
	memset(g, 0, sizeof(*g));
}

static struct amqp_stream *stream_new(void)
{
	struct amqp_stream *s = amqp_stream__new(NULL);

	assert_non_null(s);
	return s;
}

static uint64_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static const struct amqp_record *method(const struct got *g, int i, uint16_t cls, uint16_t mth)
{
	assert_true(i < g->n);
	assert_int_equal(g->r[i].kind, AMQP_REC_METHOD);
	assert_int_equal(g->r[i].class_id, cls);
	assert_int_equal(g->r[i].method_id, mth);
	return &g->r[i];
}

/* Feeds the whole buffer from seq in chunks ending at the cuts given. */
static int feed_cuts(struct amqp_stream *s, uint32_t seq, const struct wbuf *w, const size_t *cuts,
		     int ncuts, struct got *g)
{
	size_t from = 0;
	int rc = 0;

	for (int i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : w->n;

		if (to > from)
			rc |= amqp_stream__feed(s, seq + (uint32_t)from, (uint32_t)(to - from),
						w->b + from, (uint32_t)(to - from), collect, g);
		from = to;
	}
	return rc;
}

static void check_rich_props(const struct amqp_record *r)
{
	const struct amqp_props *p = &r->props;

	assert_int_equal(p->flags,
			 0x8000 | 0x2000 | 0x1000 | 0x0400 | 0x0200 | 0x0080 | 0x0040 | 0x0008);
	assert_string_equal(p->content_type, "application/json");
	assert_int_equal(p->delivery_mode, 2);
	assert_string_equal(p->correlation_id, "corr-7");
	assert_string_equal(p->reply_to, "amq.rabbitmq.reply-to");
	assert_string_equal(p->message_id, "msg-42");
	assert_int_equal(p->timestamp, 1700000000);
	assert_string_equal(p->app_id, "checkout");
	assert_string_equal(p->content_encoding, "");
	assert_int_equal(p->header_count, HEADER_COUNT);
	assert_int_equal(p->header_found, 1 << 0 | 1 << 2); /* traceparent, x-request-id */
	assert_string_equal(p->header[0], TRACEPARENT);
	assert_string_equal(p->header[2], "req-99");
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_sniff(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t amqp10[] = "AMQP\x00\x01\x00\x00";
	static const uint8_t body_frame[] = {3, 0, 1, 0, 0, 0, 2, 'h', 'i', 0xce};

	(void)state;
	assert_int_equal(amqp_sniff((const uint8_t *)"AMQP\x00\x00\x09\x01", 8), AMQP_SNIFF_HEADER);
	assert_int_equal(amqp_sniff((const uint8_t *)"AMQ", 3), AMQP_SNIFF_MORE);
	assert_int_equal(amqp_sniff(amqp10, 8), AMQP_SNIFF_NO);
	assert_int_equal(amqp_sniff(http, sizeof(http) - 1), AMQP_SNIFF_NO);
	assert_int_equal(amqp_sniff(body_frame, sizeof(body_frame)), AMQP_SNIFF_NO);
	assert_int_equal(amqp_sniff(NULL, 0), AMQP_SNIFF_MORE);

	conn_start(w);
	assert_int_equal(amqp_sniff(w->b, w->n), AMQP_SNIFF_FRAME);
	assert_int_equal(amqp_sniff(w->b, 11), AMQP_SNIFF_FRAME);
	assert_int_equal(amqp_sniff(w->b, 10), AMQP_SNIFF_MORE);
	w->b[w->n - 1] = 0x41; /* the end octet, visible: wrong */
	assert_int_equal(amqp_sniff(w->b, w->n), AMQP_SNIFF_NO);

	w->n = 0;
	basic_tag(w, 1, 80, 5, 0);
	assert_int_equal(amqp_sniff(w->b, w->n), AMQP_SNIFF_FRAME);
	w->b[2] = 0; /* basic on channel 0 */
	assert_int_equal(amqp_sniff(w->b, w->n), AMQP_SNIFF_NO);
	w->b[2] = 1;
	w->b[10] = 81; /* no such method */
	assert_int_equal(amqp_sniff(w->b, w->n), AMQP_SNIFF_NO);

	w->n = 0;
	header_plain(w, 1, 10, "m");
	assert_int_equal(amqp_sniff(w->b, w->n), AMQP_SNIFF_FRAME);
	w->n = 0;
	heartbeat(w);
	assert_int_equal(amqp_sniff(w->b, w->n), AMQP_SNIFF_FRAME);
	assert_int_equal(amqp_sniff(w->b, 7), AMQP_SNIFF_MORE);
	assert_int_equal(amqp_sniff(NULL, 5), AMQP_SNIFF_NO);

	assert_string_equal(amqp_method_name(60, 40), "basic.publish");
	assert_string_equal(amqp_method_name(60, 120), "basic.nack");
	assert_null(amqp_method_name(60, 41));
	assert_string_equal(amqp_record_kind_name(AMQP_REC_GET_OK), "get-ok");
	free(w);
}

static void check_client_records(const struct got *g, uint32_t seq)
{
	const struct amqp_record *r;
	size_t n = sizeof(order_body) - 1;

	assert_int_equal(g->n, 11);
	method(g, 0, 10, 11);
	r = method(g, 1, 10, 31);
	assert_int_equal(r->channel_max, 2047);
	assert_int_equal(r->frame_max, 131072);
	assert_int_equal(r->heartbeat, 60);
	r = method(g, 2, 10, 40);
	assert_string_equal(r->vhost, "/");
	r = method(g, 3, 20, 10);
	assert_int_equal(r->channel, 1);
	r = method(g, 4, 50, 10);
	assert_string_equal(r->queue, "tasks");
	assert_int_equal(r->flags, AMQP_RF_DURABLE);
	r = method(g, 5, 60, 20);
	assert_string_equal(r->queue, "tasks");
	assert_string_equal(r->consumer_tag, "ctag-1");

	r = &g->r[6];
	assert_int_equal(r->kind, AMQP_REC_PUBLISH);
	assert_int_equal(r->channel, 1);
	assert_string_equal(r->exchange, "");
	assert_string_equal(r->routing_key, "tasks");
	assert_int_equal(r->flags, AMQP_RF_MANDATORY);
	check_rich_props(r);
	assert_int_equal(r->body_size, n);
	assert_int_equal(r->body_seen, n);
	assert_int_equal(r->body_captured, n);
	assert_int_equal(r->body_fp_len, AMQP_FINGERPRINT_LEN);
	assert_true(r->body_fp == fnv(order_body, AMQP_FINGERPRINT_LEN));
	assert_true(r->start - seq > 8 && r->end - r->start > n);

	r = method(g, 7, 60, 80);
	assert_int_equal(r->delivery_tag, 1);
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->end - r->start, ACK_LEN);

	r = &g->r[8];
	assert_int_equal(r->kind, AMQP_REC_PUBLISH);
	assert_string_equal(r->exchange, "nope");
	assert_int_equal(r->body_size, 0);
	assert_int_equal(r->body_fp_len, 0);
	assert_int_equal(r->flags, 0);

	method(g, 9, 20, 41);
	r = method(g, 10, 10, 50);
	assert_int_equal(r->reply_code, 200);
	assert_string_equal(r->reply_text, "Goodbye");
	assert_false(r->flags & AMQP_RF_ERROR);
}

static void check_server_records(const struct got *g)
{
	const struct amqp_record *r;
	size_t n = sizeof(order_body) - 1;

	assert_int_equal(g->n, 9);
	method(g, 0, 10, 10);
	r = method(g, 1, 10, 30);
	assert_int_equal(r->frame_max, 131072);
	method(g, 2, 10, 41);
	method(g, 3, 20, 11);
	r = method(g, 4, 50, 11);
	assert_string_equal(r->queue, "tasks");
	r = method(g, 5, 60, 21);
	assert_string_equal(r->consumer_tag, "ctag-1");

	r = &g->r[6];
	assert_int_equal(r->kind, AMQP_REC_DELIVER);
	assert_string_equal(r->consumer_tag, "ctag-1");
	assert_int_equal(r->delivery_tag, 1);
	assert_string_equal(r->routing_key, "tasks");
	check_rich_props(r);
	assert_int_equal(r->body_size, n);
	assert_int_equal(r->body_captured, n);
	/* The consumer's fingerprint is the publisher's. */
	assert_true(r->body_fp == fnv(order_body, AMQP_FINGERPRINT_LEN));

	r = method(g, 7, 20, 40);
	assert_int_equal(r->reply_code, 404);
	assert_string_equal(r->reply_text, NOT_FOUND_TEXT);
	assert_int_equal(r->fail_class_id, 60);
	assert_int_equal(r->fail_method_id, 40);
	assert_true(r->flags & AMQP_RF_ERROR);
	method(g, 8, 10, 51);
}

static void test_session_whole(void **state)
{
	struct wbuf *c = calloc(1, sizeof(*c)), *sv = calloc(1, sizeof(*sv));
	struct amqp_stream *s;
	struct amqp_stats st;
	struct got g = {0};
	uint32_t seq = 1000;

	(void)state;
	session_client(c);
	session_server(sv);

	s = stream_new();
	assert_int_equal(feed_cuts(s, seq, c, NULL, 0, &g), 0);
	check_client_records(&g, seq);
	amqp_stream__stats(s, &st);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_OK);
	assert_null(amqp_stream__error(s));
	assert_int_equal(st.frames, 15);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.methods, 9);
	assert_int_equal(st.desyncs + st.bytes_skipped + st.errors + st.frames_orphan, 0);
	amqp_stream__free(s);

	got_reset(&g);
	s = stream_new();
	assert_int_equal(feed_cuts(s, seq, sv, NULL, 0, &g), 0);
	check_server_records(&g);
	amqp_stream__stats(s, &st);
	assert_int_equal(st.heartbeats, 1);
	assert_int_equal(st.frames, 12);
	amqp_stream__free(s);
	got_free(&g);
	free(c);
	free(sv);
}

static void expect_same(const struct got *ref, const struct amqp_stats *ref_st,
			struct amqp_stream *s, const struct got *g, size_t where)
{
	struct amqp_stats st;

	amqp_stream__stats(s, &st);
	if (g->n != ref->n)
		fail_msg("cut at %zu: %d records, expected %d", where, g->n, ref->n);
	for (int i = 0; i < ref->n; i++)
		if (memcmp(&g->r[i], &ref->r[i], sizeof(g->r[i])))
			fail_msg("cut at %zu: record %d differs", where, i);
	if (memcmp(&st, ref_st, sizeof(st)))
		fail_msg("cut at %zu: counters differ", where);
}

/* One stream fed whole, then in two chunks cut at every byte, then byte by
 * byte, from a sequence number 100 bytes before 2^32. */
static void split_everywhere(const struct wbuf *w)
{
	uint32_t seq = 0xffffff9cu;
	struct got ref = {0}, g = {0};
	struct amqp_stats ref_st;
	struct amqp_stream *s = stream_new();
	size_t *cuts = calloc(w->n, sizeof(*cuts));

	assert_int_equal(feed_cuts(s, seq, w, NULL, 0, &ref), 0);
	amqp_stream__stats(s, &ref_st);
	amqp_stream__free(s);
	assert_true(ref.n > 5);

	for (size_t cut = 1; cut < w->n; cut++) {
		got_reset(&g);
		s = stream_new();
		assert_int_equal(feed_cuts(s, seq, w, &cut, 1, &g), 0);
		expect_same(&ref, &ref_st, s, &g, cut);
		amqp_stream__free(s);
	}

	for (size_t i = 0; i + 1 < w->n; i++)
		cuts[i] = i + 1;
	got_reset(&g);
	s = stream_new();
	assert_int_equal(feed_cuts(s, seq, w, cuts, (int)w->n - 1, &g), 0);
	expect_same(&ref, &ref_st, s, &g, 1);
	amqp_stream__free(s);
	free(cuts);
	got_free(&ref);
	got_free(&g);
}

static void test_session_split_everywhere(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));

	(void)state;
	session_client(w);
	split_everywhere(w);
	w->n = 0;
	session_server(w);
	split_everywhere(w);
	free(w);
}

/* Several frames in one chunk, and a message whose frames cross three
 * chunks (the header frame itself cut twice). */
static void test_frames_across_chunks(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stream *s = stream_new();
	struct got g = {0};
	size_t hdr_at, cuts[2];

	(void)state;
	proto_header(w);
	one_sstr(w, 1, 20, 10, "");
	basic_qos(w, 1, 50);
	exchange_declare(w, 1, "orders", "topic");
	queue_bind(w, 1, "billing", "orders", "order.*");
	basic_publish(w, 1, "orders", "order.created", false);
	hdr_at = w->n;
	header_plain(w, 1, 5, "m-1");
	body(w, 1, "hello", 5);
	cuts[0] = hdr_at + 3;  /* inside the header frame's header */
	cuts[1] = hdr_at + 16; /* inside its properties */
	assert_int_equal(feed_cuts(s, 7, w, cuts, 2, &g), 0);

	assert_int_equal(g.n, 5);
	method(&g, 0, 20, 10);
	assert_int_equal(method(&g, 1, 60, 10)->prefetch_count, 50);
	assert_string_equal(method(&g, 2, 40, 10)->exchange_type, "topic");
	assert_int_equal(g.r[2].flags, AMQP_RF_DURABLE);
	assert_string_equal(method(&g, 3, 50, 20)->routing_key, "order.*");
	assert_string_equal(g.r[3].exchange, "orders");
	assert_string_equal(g.r[3].queue, "billing");
	assert_int_equal(g.r[4].kind, AMQP_REC_PUBLISH);
	assert_string_equal(g.r[4].routing_key, "order.created");
	assert_string_equal(g.r[4].props.message_id, "m-1");
	assert_int_equal(g.r[4].body_size, 5);
	assert_true(g.r[4].body_fp == fnv("hello", 5));
	assert_int_equal(g.r[4].body_fp_len, 5);
	assert_int_equal(g.r[4].end, 7 + w->n);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* A call of 5000 bytes of which 256 were captured: a publish with a large
 * body. The message is whole (its size is known, its bytes need not be);
 * the next call starts exactly where the body frame ends: still in sync. */
static void test_large_publish_partly_captured(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stream *s = stream_new();
	struct amqp_stats st;
	struct got g = {0};
	uint8_t *big = malloc(5000);
	size_t head, body_len, total;
	uint32_t seq = 5000000;

	(void)state;
	for (int i = 0; i < 5000; i++)
		big[i] = (uint8_t)(i * 7 + 3);
	proto_header(w);
	assert_int_equal(amqp_stream__feed(s, seq, 8, w->b, 8, collect, &g), 0);
	w->n = 0;
	basic_publish(w, 1, "orders", "order.created", false);
	header_plain(w, 1, 0, "m-big");
	head = w->n;
	body_len = 5000 - head - 8;
	w->n = 0;
	basic_publish(w, 1, "orders", "order.created", false);
	header_plain(w, 1, body_len, "m-big");
	body(w, 1, big, body_len);
	assert_int_equal(w->n, 5000);

	assert_int_equal(amqp_stream__feed(s, seq + 8, 5000, w->b, 256, collect, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.r[0].kind, AMQP_REC_PUBLISH);
	assert_string_equal(g.r[0].props.message_id, "m-big");
	assert_int_equal(g.r[0].body_size, body_len);
	assert_int_equal(g.r[0].body_seen, body_len);
	assert_int_equal(g.r[0].body_captured, 256 - head - 7);
	assert_int_equal(g.r[0].body_fp_len, AMQP_FINGERPRINT_LEN);
	assert_true(g.r[0].body_fp == fnv(big, AMQP_FINGERPRINT_LEN));
	assert_int_equal(g.r[0].flags, 0);
	assert_int_equal(g.r[0].start, seq + 8);
	assert_int_equal(g.r[0].end, seq + 8 + 5000);

	/* The body frame split over a call captured in part and one never
	 * reported: still in sync at the call after. */
	w->n = 0;
	basic_publish(w, 2, "orders", "order.paid", false);
	header_plain(w, 2, 3000, NULL);
	body(w, 2, big, 3000);
	total = w->n;
	head = total - 3008; /* the body frame's first byte */
	assert_int_equal(amqp_stream__feed(s, seq + 5008, 1000, w->b, 100, collect, &g), 0);
	w->n = 0;
	basic_tag(w, 1, 80, 9, 1);
	assert_int_equal(amqp_stream__feed(s, seq + 5008 + (uint32_t)total, (uint32_t)w->n, w->b,
					   (uint32_t)w->n, collect, &g),
			 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.r[1].channel, 2);
	assert_int_equal(g.r[1].body_seen, 3000);
	assert_int_equal(g.r[1].body_captured, 100 - head - 7);
	assert_int_equal(g.r[1].end, seq + 5008 + total);
	assert_int_equal(g.r[2].flags, AMQP_RF_MULTIPLE);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_OK);
	amqp_stream__stats(s, &st);
	assert_int_equal(st.desyncs, 0);
	assert_int_equal(st.frames_partial, 2);
	free(big);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* Acks in a call captured in part: the capture ends inside a frame header,
 * so sync is lost; a later call that starts mid-frame is refused, one that
 * starts on a frame is taken; the gap is reported. Then a gap between calls
 * (one never reported) that hides headers: the next call resyncs at once. */
static void test_gap_hides_header(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stream *s = stream_new();
	struct amqp_stats st;
	struct got g = {0};
	uint32_t seq = 77, lost;

	(void)state;
	proto_header(w);
	one_sstr(w, 1, 20, 10, "");
	assert_int_equal(feed_cuts(s, seq, w, NULL, 0, &g), 0);
	seq += (uint32_t)w->n;
	assert_int_equal(g.n, 1);

	w->n = 0;
	for (int i = 1; i <= 4; i++)
		basic_tag(w, 1, 80, (uint64_t)i, 0);
	/* ack 1 whole, 4 bytes of ack 2's header */
	assert_int_equal(amqp_stream__feed(s, seq, (uint32_t)w->n, w->b, ACK_LEN + 4, collect, &g),
			 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.r[1].delivery_tag, 1);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_NONE);
	lost = seq + ACK_LEN;
	seq += (uint32_t)w->n;

	/* a call starting 5 bytes into an ack frame: refused */
	w->n = 0;
	basic_tag(w, 1, 80, 5, 0);
	assert_int_equal(
	    amqp_stream__feed(s, seq + 5, ACK_LEN - 5, w->b + 5, ACK_LEN - 5, collect, &g), 0);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_NONE);
	seq += ACK_LEN;

	/* a call starting on a frame: sync again, the gap reported first */
	w->n = 0;
	basic_tag(w, 1, 80, 6, 0);
	basic_tag(w, 1, 80, 7, 1);
	assert_int_equal(feed_cuts(s, seq, w, NULL, 0, &g), 0);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_OK);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.r[2].kind, AMQP_REC_GAP);
	assert_int_equal(g.r[2].start, lost);
	assert_int_equal(g.r[2].end, seq);
	assert_int_equal(g.r[2].gap_bytes, 4 * ACK_LEN);
	assert_int_equal(g.r[3].delivery_tag, 6);
	assert_int_equal(g.r[4].delivery_tag, 7);
	assert_int_equal(g.r[4].flags, AMQP_RF_MULTIPLE);
	seq += (uint32_t)w->n;

	/* two acks never reported, then a call of a third */
	w->n = 0;
	basic_tag(w, 1, 80, 10, 0);
	assert_int_equal(
	    amqp_stream__feed(s, seq + 2 * ACK_LEN, ACK_LEN, w->b, ACK_LEN, collect, &g), 0);
	assert_int_equal(g.n, 7);
	assert_int_equal(g.r[5].kind, AMQP_REC_GAP);
	assert_int_equal(g.r[5].start, seq);
	assert_int_equal(g.r[5].gap_bytes, 2 * ACK_LEN);
	assert_int_equal(g.r[6].delivery_tag, 10);

	amqp_stream__stats(s, &st);
	assert_int_equal(st.desyncs, 2);
	assert_int_equal(st.resyncs, 2);
	assert_int_equal(st.resync_rejects, 1);
	assert_int_equal(st.bytes_skipped, 6 * ACK_LEN);
	assert_int_equal(st.errors, 0);
	assert_null(amqp_stream__error(s));
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* A message in flight when sync is lost is emitted, flagged incomplete;
 * its body frames after the resync are orphans. */
static void test_message_cut_by_gap(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stream *s = stream_new();
	struct amqp_stats st;
	struct got g = {0};
	size_t cut;

	(void)state;
	basic_deliver(w, 3, "c", 41, true, "x", "rk");
	header_plain(w, 3, 20, NULL);
	body(w, 3, "0123456789", 10);
	cut = w->n;
	body(w, 3, "abcdefghij", 10);
	/* the server's stream from the middle: a deliver starts it */
	assert_int_equal(
	    amqp_stream__feed(s, 900, (uint32_t)cut + 2, w->b, (uint32_t)cut + 2, collect, &g), 0);
	assert_int_equal(g.n, 0);
	/* the rest of the call never seen; then the body's next frame alone
	 * cannot resync (body frames carry nothing to check) */
	assert_int_equal(
	    amqp_stream__feed(s, 900 + (uint32_t)cut + 4, 3, w->b + cut + 4, 3, collect, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.r[0].kind, AMQP_REC_DELIVER);
	assert_int_equal(g.r[0].flags, AMQP_RF_INCOMPLETE | AMQP_RF_REDELIVERED);
	assert_int_equal(g.r[0].delivery_tag, 41);
	assert_int_equal(g.r[0].body_size, 20);
	assert_int_equal(g.r[0].body_seen, 10);
	assert_int_equal(g.r[0].body_fp_len, 10);
	assert_int_equal(g.r[0].end, 900 + cut);

	/* a message emitted whole, and one left in flight for flush */
	w->n = 0;
	basic_deliver(w, 3, "c", 42, false, "x", "rk");
	header_plain(w, 3, 0, NULL);
	basic_deliver(w, 4, "c", 43, false, "x", "rk");
	assert_int_equal(
	    amqp_stream__feed(s, 2000, (uint32_t)w->n, w->b, (uint32_t)w->n, collect, &g), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.r[1].kind, AMQP_REC_GAP);
	assert_int_equal(g.r[2].delivery_tag, 42);
	assert_int_equal(g.r[2].flags, 0);
	amqp_stream__flush(s, collect, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.r[3].delivery_tag, 43);
	assert_int_equal(g.r[3].flags, AMQP_RF_INCOMPLETE);
	amqp_stream__stats(s, &st);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.messages_incomplete, 2);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* Messages of two channels interleaved frame by frame; get, get-ok,
 * get-empty, return, nack and reject. */
static void test_channels_and_methods(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stream *s = stream_new();
	struct got g = {0};

	(void)state;
	basic_deliver(w, 1, "a", 1, false, "", "q1");
	basic_deliver(w, 2, "b", 1, false, "", "q2");
	header_plain(w, 2, 4, "two");
	header_plain(w, 1, 3, "one");
	body(w, 1, "one", 3);
	body(w, 2, "two2", 4);
	basic_get_ok(w, 5, 8, "ex", "k", 17);
	header_plain(w, 5, 2, NULL);
	body(w, 5, "ok", 2);
	one_sstr(w, 5, 60, 72, ""); /* get-empty */
	basic_return(w, 6, 312, "NO_ROUTE", "ex", "nowhere");
	header_plain(w, 6, 1, NULL);
	body(w, 6, "r", 1);
	basic_tag(w, 1, 120, 77, 3); /* nack multiple requeue */
	basic_tag(w, 1, 90, 78, 0);  /* reject */
	assert_int_equal(amqp_stream__feed(s, 1, (uint32_t)w->n, w->b, (uint32_t)w->n, collect, &g),
			 0);

	assert_int_equal(g.n, 7);
	assert_int_equal(g.r[0].channel, 1); /* ended first */
	assert_string_equal(g.r[0].props.message_id, "one");
	assert_true(g.r[0].body_fp == fnv("one", 3));
	assert_int_equal(g.r[1].channel, 2);
	assert_string_equal(g.r[1].props.message_id, "two");
	assert_true(g.r[1].body_fp == fnv("two2", 4));
	assert_int_equal(g.r[2].kind, AMQP_REC_GET_OK);
	assert_int_equal(g.r[2].delivery_tag, 8);
	assert_int_equal(g.r[2].message_count, 17);
	method(&g, 3, 60, 72);
	assert_int_equal(g.r[4].kind, AMQP_REC_RETURN);
	assert_int_equal(g.r[4].reply_code, 312);
	assert_string_equal(g.r[4].reply_text, "NO_ROUTE");
	assert_string_equal(g.r[4].routing_key, "nowhere");
	assert_true(g.r[4].flags & AMQP_RF_ERROR);
	assert_int_equal(method(&g, 5, 60, 120)->delivery_tag, 77);
	assert_int_equal(g.r[5].flags, AMQP_RF_MULTIPLE | AMQP_RF_REQUEUE);
	assert_int_equal(method(&g, 6, 60, 90)->flags, 0);

	/* basic.get before its answer, on the client's side */
	got_reset(&g);
	w->n = 0;
	basic_get(w, 5, "jobs");
	assert_int_equal(
	    amqp_stream__feed(s, 1 + 4096, (uint32_t)w->n, w->b, (uint32_t)w->n, collect, &g), 0);
	assert_int_equal(g.n, 2); /* a gap (4096 is past the last frame), then the get */
	assert_int_equal(g.r[0].kind, AMQP_REC_GAP);
	assert_string_equal(method(&g, 1, 60, 70)->queue, "jobs");
	assert_int_equal(g.r[1].flags, AMQP_RF_NO_ACK);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* Bytes reported twice are ignored, in sync and out of it. */
static void test_overlap(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stream *s = stream_new();
	struct amqp_stats st;
	struct got g = {0};

	(void)state;
	proto_header(w);
	basic_tag(w, 1, 80, 1, 0);
	basic_tag(w, 1, 80, 2, 0);
	assert_int_equal(amqp_stream__feed(s, 10, 8 + ACK_LEN, w->b, 8 + ACK_LEN, collect, &g), 0);
	assert_int_equal(amqp_stream__feed(s, 10, 8 + ACK_LEN, w->b, 8 + ACK_LEN, collect, &g), 0);
	/* overlapping the first ack's last 5 bytes, then the second */
	assert_int_equal(amqp_stream__feed(s, 10 + 8 + ACK_LEN - 5, ACK_LEN + 5,
					   w->b + 8 + ACK_LEN - 5, ACK_LEN + 5, collect, &g),
			 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.r[1].delivery_tag, 2);
	amqp_stream__stats(s, &st);
	assert_int_equal(st.bytes_overlap, 8 + ACK_LEN + 5);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* A content header cut by the end of the capture: its properties as far as
 * they go, flagged truncated; the body size was captured, so the message
 * still ends where it should. A small buffer_max has the same effect on a
 * fully captured frame. */
static void test_truncated_properties(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_opts o = {.buffer_max = 40, .headers = {"x-request-id"}};
	struct amqp_stream *s = stream_new();
	struct got g = {0};
	size_t cut, call;

	(void)state;
	basic_publish(w, 1, "", "rpc", false);
	cut = w->n + 7 + 14 + 1 + 10; /* 10 bytes into the content type */
	header_rich(w, 1, 3);
	call = w->n;
	body(w, 1, "abc", 3);
	basic_tag(w, 1, 80, 1, 0);
	assert_int_equal(amqp_stream__feed(s, 0, (uint32_t)call, w->b, (uint32_t)cut, collect, &g),
			 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(amqp_stream__feed(s, (uint32_t)call, (uint32_t)(w->n - call), w->b + call,
					   (uint32_t)(w->n - call), collect, &g),
			 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.r[0].flags, AMQP_RF_TRUNCATED);
	assert_string_equal(g.r[0].props.content_type, "applicatio");
	assert_int_equal(g.r[0].props.delivery_mode, 0); /* after the cut */
	assert_int_equal(g.r[0].body_size, 3);
	assert_int_equal(g.r[0].body_captured, 3);
	assert_int_equal(g.r[0].body_fp_len, 3);
	assert_int_equal(g.r[1].delivery_tag, 1);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_OK);
	amqp_stream__free(s);

	got_reset(&g);
	s = amqp_stream__new(&o);
	assert_non_null(s);
	assert_int_equal(amqp_stream__feed(s, 0, (uint32_t)w->n, w->b, (uint32_t)w->n, collect, &g),
			 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.r[0].flags, AMQP_RF_TRUNCATED);
	assert_string_equal(g.r[0].props.content_type, "application/json");
	assert_int_equal(g.r[0].body_captured, 3);
	assert_int_equal(g.r[1].delivery_tag, 1);
	amqp_stream__free(s);

	/* named headers of one's own choosing */
	got_reset(&g);
	o.buffer_max = 0;
	s = amqp_stream__new(&o);
	assert_non_null(s);
	assert_int_equal(amqp_stream__feed(s, 0, (uint32_t)w->n, w->b, (uint32_t)w->n, collect, &g),
			 0);
	assert_int_equal(g.r[0].props.header_found, 1);
	assert_string_equal(g.r[0].props.header[0], "req-99");
	assert_string_equal(g.r[0].props.header[1], "");
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* Every method of the 0-9-1 spec (with RabbitMQ's extensions), built with
 * its arguments at their smallest: o octet, s short, l long, L long long,
 * S short string, X long string, T table, b an octet of bits. Each must be
 * recognised by sniffing and decoded without error; one byte short, it
 * must be refused by both. */
static const struct {
	uint16_t cls, mth;
	const char *args;
} all_methods[] = {
    {10, 10, "ooTXX"},	{10, 11, "TSXS"},   {10, 20, "X"},   {10, 21, "X"},	{10, 30, "sls"},
    {10, 31, "sls"},	{10, 40, "SSb"},    {10, 41, "S"},   {10, 50, "sSss"},	{10, 51, ""},
    {10, 60, "S"},	{10, 61, ""},	    {10, 70, "XS"},  {10, 71, ""},	{20, 10, "S"},
    {20, 11, "X"},	{20, 20, "b"},	    {20, 21, "b"},   {20, 40, "sSss"},	{20, 41, ""},
    {40, 10, "sSSbT"},	{40, 11, ""},	    {40, 20, "sSb"}, {40, 21, ""},	{40, 30, "sSSSbT"},
    {40, 31, ""},	{40, 40, "sSSSbT"}, {40, 51, ""},    {50, 10, "sSbT"},	{50, 11, "Sll"},
    {50, 20, "sSSSbT"}, {50, 21, ""},	    {50, 30, "sSb"}, {50, 31, "l"},	{50, 40, "sSb"},
    {50, 41, "l"},	{50, 50, "sSSST"},  {50, 51, ""},    {60, 10, "lsb"},	{60, 11, ""},
    {60, 20, "sSSbT"},	{60, 21, "S"},	    {60, 30, "Sb"},  {60, 31, "S"},	{60, 40, "sSSb"},
    {60, 50, "sSSS"},	{60, 60, "SLbSS"},  {60, 70, "sSb"}, {60, 71, "LbSSl"}, {60, 72, "S"},
    {60, 80, "Lb"},	{60, 90, "Lb"},	    {60, 100, "b"},  {60, 110, "b"},	{60, 111, ""},
    {60, 120, "Lb"},	{85, 10, "b"},	    {85, 11, ""},    {90, 10, ""},	{90, 11, ""},
    {90, 20, ""},	{90, 21, ""},	    {90, 30, ""},    {90, 31, ""},
};

static void minimal_method(struct wbuf *w, uint16_t cls, uint16_t mth, const char *args,
			   bool short_by_one)
{
	size_t f = method_open(w, cls == 10 ? 0 : 1, cls, mth);

	for (const char *a = args; *a; a++) {
		switch (*a) {
		case 'o':
		case 'b':
			put_u8(w, 0);
			break;
		case 's':
			put_u16(w, 0);
			break;
		case 'l':
			put_u32(w, 0);
			break;
		case 'L':
			put_u64(w, 0);
			break;
		case 'S':
			put_sstr(w, "");
			break;
		default: /* X, T: an empty long string or table */
			put_u32(w, 0);
		}
	}
	if (short_by_one)
		w->n--;
	frame_close(w, f);
}

static void test_every_method(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct got g = {0};

	(void)state;
	assert_int_equal(sizeof(all_methods) / sizeof(all_methods[0]), 64);
	for (size_t i = 0; i < sizeof(all_methods) / sizeof(all_methods[0]); i++) {
		uint16_t cls = all_methods[i].cls, mth = all_methods[i].mth;
		struct amqp_stream *s = stream_new();
		int rc;

		assert_non_null(amqp_method_name(cls, mth));
		w->n = 0;
		minimal_method(w, cls, mth, all_methods[i].args, false);
		if (amqp_sniff(w->b, w->n) != AMQP_SNIFF_FRAME)
			fail_msg("%s not recognised", amqp_method_name(cls, mth));
		got_reset(&g);
		assert_int_equal(
		    amqp_stream__feed(s, 0, 8, (const uint8_t *)"AMQP\0\0\x09\x01", 8, collect, &g),
		    0);
		assert_int_equal(feed_cuts(s, 8, w, NULL, 0, &g), 0);
		amqp_stream__flush(s, collect, &g); /* content methods wait for content */
		assert_int_equal(g.n, 1);
		assert_int_equal(g.r[0].class_id, cls);
		assert_int_equal(g.r[0].method_id, mth);
		assert_int_equal(g.r[0].end - g.r[0].start, w->n);
		amqp_stream__free(s);

		if (!all_methods[i].args[0])
			continue;
		w->n = 0;
		minimal_method(w, cls, mth, all_methods[i].args, true);
		if (amqp_sniff(w->b, w->n) != AMQP_SNIFF_NO)
			fail_msg("short %s recognised", amqp_method_name(cls, mth));
		s = stream_new();
		amqp_stream__feed(s, 0, 8, (const uint8_t *)"AMQP\0\0\x09\x01", 8, collect, &g);
		rc = feed_cuts(s, 8, w, NULL, 0, &g);
		if (rc != -EPROTO || !strstr(amqp_stream__error(s), "overrun"))
			fail_msg("short %s: %d", amqp_method_name(cls, mth), rc);
		amqp_stream__free(s);
	}
	for (uint8_t k = AMQP_REC_PUBLISH; k <= AMQP_REC_GAP; k++)
		assert_string_not_equal(amqp_record_kind_name(k), "?");
	assert_string_equal(amqp_record_kind_name(0), "?");
	got_free(&g);
	free(w);
}

/* More messages in flight than pending_max: the oldest is given up; a
 * second content header loses the body of the first; a header value longer
 * than a record's field is cut. */
static void test_limits(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_opts o = {.pending_max = 2, .fingerprint_len = 4};
	struct amqp_stream *s = amqp_stream__new(&o);
	struct amqp_stats st;
	struct got g = {0};
	char long_value[400];
	size_t f, t;

	(void)state;
	assert_non_null(s);
	memset(long_value, 'v', sizeof(long_value));
	for (uint16_t ch = 1; ch <= 3; ch++)
		basic_deliver(w, ch, "c", ch, false, "", "q");
	body(w, 3, "x", 1);	     /* a body before its header: an orphan */
	header_plain(w, 2, 8, NULL); /* channel 2's header... */
	header_plain(w, 2, 8, NULL); /* ...twice: the message is lost */
	f = frame_open(w, 2, 9);
	put_u16(w, 60);
	put_u16(w, 0);
	put_u64(w, 0);
	put_u16(w, 0x2000);
	t = len_open(w);
	put_sstr(w, "x-request-id");
	put_u8(w, 'S');
	put_lstr(w, long_value, sizeof(long_value));
	len_close(w, t);
	frame_close(w, f);
	basic_deliver(w, 9, "c", 9, false, "", "q");
	header_plain(w, 9, 6, NULL);
	body(w, 9, "abcdef", 6);
	assert_int_equal(amqp_stream__feed(s, 0, (uint32_t)w->n, w->b, (uint32_t)w->n, collect, &g),
			 0);
	amqp_stream__stats(s, &st);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.r[0].delivery_tag, 1); /* evicted by channel 3's */
	assert_int_equal(g.r[0].flags, AMQP_RF_INCOMPLETE);
	assert_int_equal(g.r[1].delivery_tag, 3); /* its header was lost */
	assert_int_equal(g.r[1].flags, AMQP_RF_INCOMPLETE);
	assert_int_equal(g.r[2].delivery_tag, 2);
	assert_int_equal(g.r[2].flags, AMQP_RF_INCOMPLETE);
	assert_int_equal(g.r[3].delivery_tag, 9);
	assert_int_equal(g.r[3].flags, 0);
	assert_int_equal(g.r[3].body_fp_len, 4);
	assert_true(g.r[3].body_fp == fnv("abcd", 4));
	assert_int_equal(st.frames_orphan, 3); /* the body, the second header, channel 9's header */
	amqp_stream__free(s);

	/* the long value on a channel with its message */
	got_reset(&g);
	w->n = 0;
	basic_deliver(w, 9, "c", 10, false, "", "q");
	f = frame_open(w, 2, 9);
	put_u16(w, 60);
	put_u16(w, 0);
	put_u64(w, 0);
	put_u16(w, 0x2000);
	t = len_open(w);
	put_sstr(w, "x-request-id");
	put_u8(w, 'S');
	put_lstr(w, long_value, sizeof(long_value));
	len_close(w, t);
	frame_close(w, f);
	s = stream_new();
	assert_int_equal(amqp_stream__feed(s, 0, (uint32_t)w->n, w->b, (uint32_t)w->n, collect, &g),
			 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(strlen(g.r[0].props.header[2]), AMQP_STR_LEN - 1);
	assert_int_equal(g.r[0].props.header_found, 1 << 2);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* Arguments out of contract; a version other than 0-9-1. */
static void test_api_edges(void **state)
{
	static const uint8_t amqp10[] = "AMQP\x00\x01\x00\x00";
	struct amqp_stream *s = stream_new();
	struct amqp_stats st;
	struct got g = {0};
	uint8_t ack[ACK_LEN];
	struct wbuf *w = calloc(1, sizeof(*w));

	(void)state;
	assert_int_equal(amqp_stream__feed(NULL, 0, 1, ack, 1, collect, &g), -EINVAL);
	assert_int_equal(amqp_stream__feed(s, 0, 1, NULL, 1, collect, &g), -EINVAL);
	assert_int_equal(amqp_stream__feed(s, 0, 0, ack, 0, collect, &g), 0);
	amqp_stream__free(NULL);
	amqp_stream__flush(NULL, collect, &g);

	/* garbage first, then an AMQP 1.0 header: an error that names it */
	assert_int_equal(amqp_stream__feed(s, 100, 50, NULL, 0, collect, &g), 0);
	assert_int_equal(amqp_stream__feed(s, 150, 8, amqp10, 8, collect, &g), -EPROTO);
	assert_string_equal(amqp_stream__error(s),
			    "amqp: protocol header for version 1-0-0 at offset 150, not 0-9-1");
	amqp_stream__stats(s, &st);
	assert_int_equal(st.bytes_skipped, 58);

	/* more captured bytes than the call moved: the rest is not its */
	basic_tag(w, 1, 80, 3, 0);
	memcpy(ack, w->b, ACK_LEN);
	assert_int_equal(amqp_stream__feed(s, 158, ACK_LEN, ack, ACK_LEN + 100, collect, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.r[0].delivery_tag, 3);
	/* an emit callback of NULL: counted, not emitted */
	assert_int_equal(amqp_stream__feed(s, 158 + ACK_LEN, ACK_LEN, ack, ACK_LEN, NULL, NULL), 0);
	amqp_stream__stats(s, &st);
	assert_int_equal(st.methods, 2);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* ---- malformed input --------------------------------------------------------------------- */

struct bad_case {
	const char *name;
	void (*build)(struct wbuf *w);
	const char *error; /* expected error text, %u for the frame's offset */
	int offset_delta;  /* where the offset points, from the bad frame's start */
	int gap_delta;	   /* where the gap starts, from the bad frame's start */
	int flushed;	   /* messages in flight emitted incomplete by the error */
};

static void bad_end(struct wbuf *w)
{
	basic_tag(w, 1, 80, 1, 0);
	w->b[w->n - 1] = 0x41;
}

static void bad_size(struct wbuf *w)
{
	put_u8(w, 3);
	put_u16(w, 1);
	put_u32(w, 0x10000000);
	put_bytes(w, "xxxx", 4);
}

static void bad_frame_max(struct wbuf *w)
{
	uint8_t zero[8] = {0};

	put_u8(w, 3);
	put_u16(w, 1);
	put_u32(w, 5000); /* the session's frame-max is 4096 */
	put_bytes(w, zero, sizeof(zero));
}

static void bad_type(struct wbuf *w)
{
	frame_close(w, frame_open(w, 5, 1));
}

static void bad_args(struct wbuf *w)
{
	size_t f = method_open(w, 1, 60, 40);

	put_u16(w, 0);
	put_u8(w, 10); /* a 10-byte exchange name, 3 bytes left in the frame */
	put_bytes(w, "abc", 3);
	frame_close(w, f);
}

static void bad_short_method(struct wbuf *w)
{
	size_t f = frame_open(w, 1, 1);

	put_u16(w, 60);
	frame_close(w, f);
}

static void bad_table_len(struct wbuf *w)
{
	size_t f;

	basic_publish(w, 1, "", "q", false);
	f = frame_open(w, 2, 1);
	put_u16(w, 60);
	put_u16(w, 0);
	put_u64(w, 0);
	put_u16(w, 0x2000);
	put_u32(w, 1000); /* the table says 1000 bytes, the frame has 4 */
	put_u32(w, 0);
	frame_close(w, f);
}

static void bad_entry_len(struct wbuf *w)
{
	size_t f, t;

	basic_publish(w, 1, "", "q", false);
	f = frame_open(w, 2, 1);
	put_u16(w, 60);
	put_u16(w, 0);
	put_u64(w, 0);
	put_u16(w, 0x2000 | 0x0080);
	t = len_open(w);
	put_sstr(w, "k");
	put_u8(w, 'S');
	put_u32(w, 30); /* past the table's end, not the frame's */
	len_close(w, t);
	put_sstr(w, "a message id long enough to hold 30 bytes");
	frame_close(w, f);
}

static void bad_heartbeat(struct wbuf *w)
{
	frame_close(w, frame_open(w, 8, 2));
}

static void bad_header_class(struct wbuf *w)
{
	size_t f;

	basic_publish(w, 1, "", "q", false);
	f = frame_open(w, 2, 1);
	put_u16(w, 50);
	put_u16(w, 0);
	put_u64(w, 0);
	put_u16(w, 0);
	frame_close(w, f);
}

#define PUBLISH_Q_LEN 18 /* basic.publish to "" with routing key "q" */

static const struct bad_case bad_cases[] = {
    {"end octet", bad_end, "amqp: frame end 0x41 at offset %u, expected 0xce", ACK_LEN - 1, 0, 0},
    {"hard size", bad_size,
     "amqp: frame size 268435456 at offset %u exceeds the limit of 134217728", 0, 0, 0},
    {"frame-max", bad_frame_max, "amqp: frame size 5000 at offset %u exceeds the frame-max of 4096",
     0, 0, 0},
    {"type", bad_type, "amqp: unknown frame type 5 at offset %u", 0, 0, 0},
    {"arguments", bad_args, "amqp: basic.publish arguments overrun the 10-byte frame at offset %u",
     0, 0, 0},
    {"short method", bad_short_method, "amqp: method frame of 2 bytes at offset %u", 0, 0, 0},
    {"table length", bad_table_len, "amqp: content header of 22 bytes at offset %u is malformed",
     PUBLISH_Q_LEN, PUBLISH_Q_LEN, 1},
    {"entry length", bad_entry_len, "amqp: content header of 67 bytes at offset %u is malformed",
     PUBLISH_Q_LEN, PUBLISH_Q_LEN, 1},
    {"heartbeat", bad_heartbeat, "amqp: heartbeat on channel 2 at offset %u", 0, 0, 0},
    {"header class", bad_header_class,
     "amqp: content header of class 50 after basic.publish at offset %u", PUBLISH_Q_LEN,
     PUBLISH_Q_LEN, 1},
};

/* Each case after a good start: the stream breaks with the error text, the
 * rest of the chunk is ignored (a message in flight is emitted incomplete),
 * and a later chunk starting on a frame parses again. Without a frame-max
 * negotiated the limit is 128 MiB. */
static void test_malformed(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stats st;
	struct got g = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct amqp_stream *s = stream_new();
		uint32_t seq = 0xfffffff0u, bad_at;
		char want[200];
		bool hard = c->build == bad_size;
		int n;

		got_reset(&g);
		w->n = 0;
		proto_header(w);
		conn_tune(w, 31, hard ? 0 : 4096);
		one_sstr(w, 1, 20, 10, "");
		bad_at = seq + (uint32_t)w->n;
		c->build(w);
		basic_tag(w, 1, 80, 1, 0); /* lost with the rest of the chunk */
		assert_int_equal(feed_cuts(s, seq, w, NULL, 0, &g), -EPROTO);
		assert_int_equal(amqp_stream__state(s), AMQP_SYNC_BROKEN);
		snprintf(want, sizeof(want), c->error, bad_at + (uint32_t)c->offset_delta);
		if (!amqp_stream__error(s) || strcmp(amqp_stream__error(s), want))
			fail_msg("%s: error \"%s\", expected \"%s\"", c->name,
				 amqp_stream__error(s) ? amqp_stream__error(s) : "(none)", want);
		n = 2 + c->flushed; /* tune-ok, channel.open, the publish */
		assert_int_equal(g.n, n);
		if (c->flushed)
			assert_int_equal(g.r[2].flags, AMQP_RF_INCOMPLETE);
		seq += (uint32_t)w->n;

		/* ignored: it starts mid-frame */
		assert_int_equal(amqp_stream__feed(s, seq, 4, w->b + 1, 4, collect, &g), 0);
		assert_int_equal(amqp_stream__state(s), AMQP_SYNC_BROKEN);
		seq += 4;

		w->n = 0;
		basic_tag(w, 1, 80, 99, 0);
		assert_int_equal(feed_cuts(s, seq, w, NULL, 0, &g), 0);
		assert_int_equal(amqp_stream__state(s), AMQP_SYNC_OK);
		assert_int_equal(g.n, n + 2);
		assert_int_equal(g.r[n].kind, AMQP_REC_GAP);
		assert_int_equal(g.r[n].start, bad_at + (uint32_t)c->gap_delta);
		assert_int_equal(g.r[n].end, seq);
		assert_int_equal(g.r[n + 1].delivery_tag, 99);
		assert_string_equal(amqp_stream__error(s), want); /* it stays */
		amqp_stream__stats(s, &st);
		assert_int_equal(st.errors, 1);
		assert_int_equal(st.resyncs, 1);
		amqp_stream__free(s);
	}
	got_free(&g);
	free(w);
}

/* A false frame start taken on probation: a frame end that does not check
 * out there is a bad guess, not an error. */
static void test_probation(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stream *s = stream_new();
	struct amqp_stats st;
	struct got g = {0};

	(void)state;
	basic_tag(w, 1, 80, 1, 0);
	w->b[w->n - 1] = 0x00;
	assert_int_equal(amqp_stream__feed(s, 0, (uint32_t)w->n, w->b, (uint32_t)w->n, collect, &g),
			 0);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_NONE);
	assert_null(amqp_stream__error(s));
	amqp_stream__stats(s, &st);
	assert_int_equal(st.resync_rejects, 1);
	assert_int_equal(g.n, 0);
	w->n = 0;
	basic_tag(w, 1, 80, 2, 0);
	assert_int_equal(amqp_stream__feed(s, ACK_LEN, ACK_LEN, w->b, ACK_LEN, collect, &g), 0);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.r[0].delivery_tag, 2);
	amqp_stream__stats(s, &st);
	assert_int_equal(st.bytes_skipped, ACK_LEN);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* Offsets across 2^32: a large body crosses it uncaptured, a gap and a
 * resync straddle it. */
static void test_seq_wrap(void **state)
{
	struct wbuf *w = calloc(1, sizeof(*w));
	struct amqp_stream *s = stream_new();
	struct got g = {0};
	uint32_t seq = 0xffffff00u, next;
	uint8_t blob[600];

	(void)state;
	memset(blob, 'z', sizeof(blob));
	proto_header(w);
	basic_publish(w, 1, "", "wrap", false);
	header_plain(w, 1, sizeof(blob), NULL);
	body(w, 1, blob, sizeof(blob));
	assert_int_equal(amqp_stream__feed(s, seq, (uint32_t)w->n, w->b, 64, collect, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.r[0].start, seq + 8);
	next = seq + (uint32_t)w->n;
	assert_true(next < seq); /* wrapped */
	assert_int_equal(g.r[0].end, next);
	assert_int_equal(g.r[0].body_seen, sizeof(blob));

	/* three acks, the first two in a call captured up to ack 2's header */
	w->n = 0;
	basic_tag(w, 1, 80, 1, 0);
	basic_tag(w, 1, 80, 2, 0);
	assert_int_equal(amqp_stream__feed(s, next, (uint32_t)w->n, w->b, ACK_LEN + 3, collect, &g),
			 0);
	assert_int_equal(amqp_stream__state(s), AMQP_SYNC_NONE);
	w->n = 0;
	basic_tag(w, 1, 80, 3, 0);
	assert_int_equal(
	    amqp_stream__feed(s, next + 2 * ACK_LEN, ACK_LEN, w->b, ACK_LEN, collect, &g), 0);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.r[2].kind, AMQP_REC_GAP);
	assert_int_equal(g.r[2].start, next + ACK_LEN);
	assert_int_equal(g.r[2].gap_bytes, ACK_LEN);
	assert_int_equal(g.r[3].delivery_tag, 3);
	assert_int_equal(g.r[3].end, next + 3 * ACK_LEN);

	/* a call just before 2^32 lost, the next after it: still skipped by
	 * size, wrap or not */
	amqp_stream__free(s);
	s = stream_new();
	got_reset(&g);
	w->n = 0;
	seq = 0xfffffffeu;
	proto_header(w);
	basic_publish(w, 1, "", "wrap", false);
	header_plain(w, 1, sizeof(blob), NULL);
	next = (uint32_t)w->n; /* the body frame's header */
	body(w, 1, blob, sizeof(blob));
	basic_tag(w, 1, 80, 4, 0);
	assert_int_equal(
	    amqp_stream__feed(s, seq, (uint32_t)next + 9, w->b, (uint32_t)next + 9, collect, &g),
	    0);
	assert_int_equal(amqp_stream__feed(s, seq + (uint32_t)w->n - ACK_LEN, ACK_LEN,
					   w->b + w->n - ACK_LEN, ACK_LEN, collect, &g),
			 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.r[0].body_captured, 2);
	assert_int_equal(g.r[1].delivery_tag, 4);
	amqp_stream__free(s);
	got_free(&g);
	free(w);
}

/* ---- damage ------------------------------------------------------------------------------ */

static void check_record(const struct amqp_record *r, void *ctx)
{
	const char *strs[] = {r->exchange,
			      r->routing_key,
			      r->queue,
			      r->consumer_tag,
			      r->reply_text,
			      r->exchange_type,
			      r->vhost,
			      r->props.content_type,
			      r->props.correlation_id,
			      r->props.reply_to,
			      r->props.message_id,
			      r->props.app_id,
			      r->props.header[0],
			      r->props.header[3],
			      r->props.user_id,
			      r->props.expiration,
			      r->props.content_encoding,
			      r->props.type};

	++*(int *)ctx;
	assert_true(r->kind >= AMQP_REC_PUBLISH && r->kind <= AMQP_REC_GAP);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		assert_non_null(memchr(strs[i], 0, AMQP_STR_LEN));
	assert_true(r->body_captured <= r->body_seen);
	assert_true(r->body_fp_len <= r->body_captured);
	assert_true(r->body_fp_len <= 64);
}

static uint32_t rnd_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* The session damaged at random (bytes flipped, lengths raised, pieces cut
 * out), fed in random chunks partly captured: whatever comes out is well
 * formed, nothing crashes, leaks or reads out of bounds (ASan, UBSan). */
static void test_damage(void **state)
{
	struct wbuf *orig = calloc(1, sizeof(*orig)), *w = calloc(1, sizeof(*w));
	uint32_t x = 0x9e3779b9u;
	int records = 0;

	(void)state;
	session_server(orig);
	session_client(orig);
	for (int iter = 0; iter < 3000; iter++) {
		struct amqp_stream *s = stream_new();
		uint32_t seq = rnd_next(&x);
		size_t off = 0;
		int flips = 1 + (int)(rnd_next(&x) % 6);

		memcpy(w, orig, sizeof(*w));
		for (int k = 0; k < flips; k++) {
			size_t at = rnd_next(&x) % w->n;

			switch (rnd_next(&x) % 4) {
			case 0:
				w->b[at] ^= (uint8_t)(1u << (rnd_next(&x) % 8));
				break;
			case 1:
				w->b[at] = 0xff; /* a length byte at its largest */
				break;
			case 2: {
				size_t cut = 1 + rnd_next(&x) % 40;

				if (at + cut < w->n) {
					memmove(w->b + at, w->b + at + cut, w->n - at - cut);
					w->n -= cut;
				}
				break;
			}
			default:
				w->b[at] = (uint8_t)rnd_next(&x);
			}
		}
		while (off < w->n) {
			uint32_t r = rnd_next(&x), len = 1 + r % 200, ncap;

			if (len > w->n - off)
				len = (uint32_t)(w->n - off);
			ncap = (r >> 8) % 4 ? len : (r >> 12) % (len + 1);
			amqp_stream__feed(s, seq, len, ncap ? w->b + off : NULL, ncap, check_record,
					  &records);
			seq += len;
			off += len;
		}
		amqp_stream__flush(s, check_record, &records);
		amqp_stream__free(s);
		amqp_fuzz_one(w->b, w->n);
	}
	assert_true(records > 1000);
	free(orig);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sniff),
	    cmocka_unit_test(test_session_whole),
	    cmocka_unit_test(test_session_split_everywhere),
	    cmocka_unit_test(test_frames_across_chunks),
	    cmocka_unit_test(test_large_publish_partly_captured),
	    cmocka_unit_test(test_gap_hides_header),
	    cmocka_unit_test(test_message_cut_by_gap),
	    cmocka_unit_test(test_channels_and_methods),
	    cmocka_unit_test(test_overlap),
	    cmocka_unit_test(test_truncated_properties),
	    cmocka_unit_test(test_every_method),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_api_edges),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_probation),
	    cmocka_unit_test(test_seq_wrap),
	    cmocka_unit_test(test_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

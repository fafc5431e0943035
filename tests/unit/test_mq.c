/* Messages through a broker in trajectories: what an HTTP handler publishes
 * and a worker consumes on another host joins the handler's trajectory
 * (publish -> deliver -> the worker's calls), whichever host's events come
 * first; the broker's own side of the bytes adds nothing; alike messages
 * without ids are flagged guesses while message ids make them exact; an RPC
 * call's reply is its response; a rejected delivery is an error, and its
 * redelivery a second child of the same publish; a delivery
 * whose publisher was not observed starts its own trajectory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amqp_frames.h"
#include "analysis/correlator.h"
#include "bpf/sensor_event.h"

#define MS	   1000000ull
#define MAX_EVENTS 128
#define MAX_TRAJ   16
#define MAX_SPANS  16
#define AMQP_PORT  5672

/* ---- the sink: the latest version of every trajectory ---------------------------------- */

struct got {
	struct weft_trajectory t;
	struct weft_span spans[MAX_SPANS];
};

struct sink_state {
	struct got traj[MAX_TRAJ];
	int n;
};

static void on_traj(const struct weft_trajectory *t, void *ctx)
{
	struct sink_state *s = ctx;
	struct got *g = NULL;

	for (int i = 0; i < s->n && !g; i++)
		if (s->traj[i].t.id == t->id)
			g = &s->traj[i];
	if (!g) {
		assert_true(s->n < MAX_TRAJ);
		g = &s->traj[s->n++];
	}
	assert_true(t->nspans <= MAX_SPANS);
	g->t = *t;
	memcpy(g->spans, t->spans, (size_t)t->nspans * sizeof(*t->spans));
	g->t.spans = g->spans;
}

static void on_retract(uint64_t id, void *ctx)
{
	struct sink_state *s = ctx;

	for (int i = 0; i < s->n; i++) {
		if (s->traj[i].t.id == id) {
			s->traj[i] = s->traj[--s->n];
			s->traj[i].t.spans = s->traj[i].spans;
			return;
		}
	}
}

static const struct got *traj_named(const struct sink_state *out, const char *root)
{
	for (int i = 0; i < out->n; i++)
		if (!strcmp(out->traj[i].spans[0].request, root))
			return &out->traj[i];
	fail_msg("no trajectory rooted at '%s'", root);
	return NULL;
}

static const struct weft_span *span_named(const struct got *g, const char *request)
{
	for (int i = 0; i < g->t.nspans; i++)
		if (!strcmp(g->spans[i].request, request))
			return &g->spans[i];
	fail_msg("no span '%s'", request);
	return NULL;
}

static int spans_named(const struct sink_state *out, const char *request)
{
	int n = 0;

	for (int i = 0; i < out->n; i++)
		for (int j = 0; j < out->traj[i].t.nspans; j++)
			n += !strcmp(out->traj[i].spans[j].request, request);
	return n;
}

static void assert_child(const struct got *g, const char *parent, const char *child)
{
	assert_int_equal(span_named(g, child)->parent, span_named(g, parent)->id);
}

/* ---- the hosts: client, front (HTTP + publisher), broker, worker (consumer), stock ------- */

enum host { CLIENT, FRONT, BROKER, WORKER, STOCK, NHOSTS };

static const char *const host_names[NHOSTS] = {"client", "front", "broker", "worker", "stock"};

struct script {
	struct weft_event *ev[NHOSTS][MAX_EVENTS];
	int n[NHOSTS];
};

/* One TCP connection: its client's and its server's host, process and
 * thread, and the next sequence number of each direction. */
struct conn {
	enum host ch, sh;
	uint32_t cpid, spid, stid;
	uint16_t cport, sport;
	uint64_t csock, ssock;
	uint32_t seq[2]; /* [0] client -> server, [1] server -> client */
};

static uint64_t next_sock = 100;

static struct conn conn_new(enum host ch, uint32_t cpid, enum host sh, uint32_t spid, uint32_t stid,
			    uint16_t sport)
{
	struct conn k = {.ch = ch,
			 .sh = sh,
			 .cpid = cpid,
			 .spid = spid,
			 .stid = stid,
			 .cport = (uint16_t)(40000 + next_sock),
			 .sport = sport,
			 .csock = next_sock++,
			 .ssock = next_sock++};

	k.seq[0] = 0x7ffffff0u + (uint32_t)next_sock * 1000u;
	k.seq[1] = 0xfffffff0u - (uint32_t)next_sock * 7000u; /* wraps at 2^32 */
	return k;
}

static void put(struct script *s, enum host h, uint8_t type, uint8_t role, uint64_t sock,
		uint32_t pid, uint32_t tid, uint32_t seq, const void *p, size_t n, uint64_t ts,
		uint16_t lport, uint16_t rport, enum host peer)
{
	struct weft_event *e = calloc(1, sizeof(*e) + n);

	assert_non_null(e);
	assert_true(s->n[h] < MAX_EVENTS);
	s->ev[h][s->n[h]++] = e;
	e->type = type;
	e->role = role;
	e->sock_id = sock;
	e->pid = pid;
	e->tid = tid;
	e->seq = seq;
	e->len = (uint32_t)n;
	e->payload_len = (uint32_t)n;
	memcpy(e->payload, p, n);
	e->ts_ns = ts;
	e->duration_ns = 1000;
	e->flags = WEFT_EVF_DURATION;
	e->family = 2;
	e->sport = lport;
	e->dport = rport;
	e->saddr[0] = 10, e->saddr[1] = 77, e->saddr[3] = (uint8_t)(h + 1);
	e->daddr[0] = 10, e->daddr[1] = 77, e->daddr[3] = (uint8_t)(peer + 1);
	snprintf(e->comm, sizeof(e->comm), "%s", host_names[h]);
}

/* The connection's client thread ctid sends n bytes at ts; the server's
 * thread reads them 1 ms later. */
static void c2s(struct script *s, struct conn *k, uint32_t ctid, uint64_t ts, const void *p,
		size_t n)
{
	put(s, k->ch, WEFT_EV_SEND, WEFT_ROLE_CLIENT, k->csock, k->cpid, ctid, k->seq[0], p, n, ts,
	    k->cport, k->sport, k->sh);
	put(s, k->sh, WEFT_EV_RECV, WEFT_ROLE_SERVER, k->ssock, k->spid, k->stid, k->seq[0], p, n,
	    ts + MS, k->sport, k->cport, k->ch);
	k->seq[0] += (uint32_t)n;
}

static void s2c(struct script *s, struct conn *k, uint32_t ctid, uint64_t ts, const void *p,
		size_t n)
{
	put(s, k->sh, WEFT_EV_SEND, WEFT_ROLE_SERVER, k->ssock, k->spid, k->stid, k->seq[1], p, n,
	    ts, k->sport, k->cport, k->ch);
	put(s, k->ch, WEFT_EV_RECV, WEFT_ROLE_CLIENT, k->csock, k->cpid, ctid, k->seq[1], p, n,
	    ts + MS, k->cport, k->sport, k->sh);
	k->seq[1] += (uint32_t)n;
}

/* An HTTP exchange on k: request at ts, response 1 ms after it arrived. */
static void http(struct script *s, struct conn *k, uint32_t ctid, uint64_t ts, const char *path,
		 int status)
{
	char req[128], resp[64];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	snprintf(resp, sizeof(resp), "HTTP/1.1 %d OK\r\nContent-Length: 0\r\n\r\n", status);
	c2s(s, k, ctid, ts, req, strlen(req));
	s2c(s, k, ctid, ts + 2 * MS, resp, strlen(resp));
}

/* ---- AMQP: a message's three frames ------------------------------------------------------ */

struct props {
	const char *message_id, *correlation_id, *reply_to;
};

static void header(struct wbuf *w, uint16_t ch, uint64_t size, const struct props *p)
{
	size_t f = frame_open(w, 2, ch);
	uint16_t flags = (p->correlation_id ? 0x0400 : 0) | (p->reply_to ? 0x0200 : 0) |
			 (p->message_id ? 0x0080 : 0);

	put_u16(w, 60);
	put_u16(w, 0);
	put_u64(w, size);
	put_u16(w, flags);
	if (p->correlation_id)
		put_sstr(w, p->correlation_id);
	if (p->reply_to)
		put_sstr(w, p->reply_to);
	if (p->message_id)
		put_sstr(w, p->message_id);
	frame_close(w, f);
}

static void publish(struct wbuf *w, const char *rk, const char *text, const struct props *p)
{
	basic_publish(w, 1, "", rk, false);
	header(w, 1, strlen(text), p);
	body(w, 1, text, strlen(text));
}

static void deliver(struct wbuf *w, const char *tag, uint64_t dtag, const char *rk,
		    const char *text, const struct props *p)
{
	basic_deliver(w, 1, tag, dtag, false, "", rk);
	header(w, 1, strlen(text), p);
	body(w, 1, text, strlen(text));
}

/* A client's AMQP connection to the broker; the broker's thread 51 serves it. */
static struct conn amqp_conn(struct script *s, enum host h, uint32_t pid, uint32_t tid,
			     const char *consume_queue, const char *tag)
{
	struct conn k = conn_new(h, pid, BROKER, 50, 51, AMQP_PORT);
	struct wbuf *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	proto_header(w);
	c2s(s, &k, tid, 1, w->b, w->n);
	if (consume_queue) {
		w->n = 0;
		basic_consume(w, 1, consume_queue, "");
		c2s(s, &k, tid, 2 * MS, w->b, w->n);
		w->n = 0;
		one_sstr(w, 1, 60, 21, tag); /* consume-ok: the tag the broker made up */
		s2c(s, &k, tid, 4 * MS, w->b, w->n);
	}
	free(w);
	return k;
}

static void send_frames(struct script *s, struct conn *k, uint32_t tid, uint64_t ts, struct wbuf *w,
			bool from_client)
{
	if (from_client)
		c2s(s, k, tid, ts, w->b, w->n);
	else
		s2c(s, k, tid, ts, w->b, w->n);
	w->n = 0;
}

static void ack(struct script *s, struct conn *k, uint32_t tid, uint64_t ts, uint16_t method,
		uint64_t dtag)
{
	struct wbuf w = {0};

	basic_tag(&w, 1, method, dtag, 0);
	c2s(s, k, tid, ts, w.b, w.n);
}

/* Feeds the hosts in `order`, a second apart, emitting what has settled
 * after each (a tree emitted early is retracted when it joins a larger one),
 * then settles everything. */
static void run(struct script *s, const enum host *order, struct sink_state *out)
{
	struct corr_opts o = {.settle_ns = 100 * MS, .keep_ns = 60000 * MS};
	struct corr_sink sink = {.trajectory = on_traj, .retract = on_retract, .ctx = out};
	struct correlator *c = correlator__new(&o, &sink);

	assert_non_null(c);
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < NHOSTS; i++) {
		uint64_t now = (uint64_t)(i + 1) * 1000 * MS;

		for (int j = 0; j < s->n[order[i]]; j++)
			correlator__feed(c, host_names[order[i]], s->ev[order[i]][j], now);
		correlator__tick(c, now + 500 * MS);
	}
	correlator__tick(c, UINT64_MAX);
	correlator__free(c);
}

static void script_free(struct script *s)
{
	for (int h = 0; h < NHOSTS; h++)
		for (int i = 0; i < s->n[h]; i++)
			free(s->ev[h][i]);
	free(s);
}

static const enum host publisher_first[NHOSTS] = {CLIENT, FRONT, BROKER, WORKER, STOCK};
static const enum host consumer_first[NHOSTS] = {STOCK, WORKER, BROKER, FRONT, CLIENT};

/* ---- the scenarios ----------------------------------------------------------------------- */

/* GET /order publishes to the queue "orders"; a worker on another host takes
 * it, asks the stock service and acknowledges it. */
static struct script *work_queue(const char *message_id)
{
	struct script *s = calloc(1, sizeof(*s));
	struct wbuf *w = calloc(1, sizeof(*w));
	struct props p = {.message_id = message_id};
	struct conn web, pub, sub, stock;
	const char *text = "{\"order\":7,\"sku\":\"A-1\"}";

	assert_non_null(s);
	assert_non_null(w);
	pub = amqp_conn(s, FRONT, 10, 12, NULL, NULL);
	sub = amqp_conn(s, WORKER, 20, 21, "orders", "ctag-1");
	web = conn_new(CLIENT, 1, FRONT, 10, 11, 80);
	stock = conn_new(WORKER, 20, STOCK, 30, 31, 8080);

	c2s(s, &web, 2, 100 * MS, "GET /order HTTP/1.1\r\n\r\n", 23);
	publish(w, "orders", text, &p);
	send_frames(s, &pub, 11, 102 * MS, w, true);
	s2c(s, &web, 2, 104 * MS, "HTTP/1.1 202 Accepted\r\n\r\n", 25);

	deliver(w, "ctag-1", 1, "orders", text, &p);
	send_frames(s, &sub, 21, 106 * MS, w, false);
	http(s, &stock, 21, 108 * MS, "/stock", 200);
	ack(s, &sub, 21, 112 * MS, 80, 1);
	free(w);
	return s;
}

static void check_work_queue(const struct sink_state *out)
{
	const struct got *g = traj_named(out, "GET /order");
	const struct weft_span *d = span_named(g, "deliver orders");

	assert_int_equal(out->n, 1);
	assert_int_equal(g->t.nspans, 4);
	assert_child(g, "GET /order", "publish \"\" orders");
	assert_child(g, "publish \"\" orders", "deliver orders");
	assert_child(g, "deliver orders", "GET /stock");
	assert_int_equal(span_named(g, "publish \"\" orders")->protocol, WEFT_PROTO_AMQP);
	assert_int_equal(d->protocol, WEFT_PROTO_AMQP);
	assert_int_equal(d->link, WEFT_LINK_MESSAGE);
	assert_false(d->uncertain);
	assert_false(g->t.uncertain);
	/* the delivery lasts until the worker acknowledged it */
	assert_int_equal(d->server.end_ns, 112 * MS);
	assert_int_equal(d->server.tid, 21);
	/* the broker's own side of the bytes is no span */
	assert_int_equal(spans_named(out, "deliver orders"), 1);
}

static void test_work_queue_by_content(void **state)
{
	struct sink_state *out = calloc(1, sizeof(*out));
	struct script *s = work_queue(NULL);

	(void)state;
	assert_non_null(out);
	run(s, publisher_first, out);
	check_work_queue(out);
	run(s, consumer_first, out); /* the worker's batch first: the delivery waits */
	check_work_queue(out);
	script_free(s);
	free(out);
}

static void test_work_queue_by_message_id(void **state)
{
	struct sink_state *out = calloc(1, sizeof(*out));
	struct script *s = work_queue("m-7");

	(void)state;
	assert_non_null(out);
	run(s, consumer_first, out);
	check_work_queue(out);
	script_free(s);
	free(out);
}

/* Two requests publish messages; the worker takes them in the other order.
 * Alike and without ids, which is which is a guess and says so; with
 * message ids it is exact. */
static struct script *two_messages(bool ids, bool alike)
{
	struct script *s = calloc(1, sizeof(*s));
	struct wbuf *w = calloc(1, sizeof(*w));
	struct props pa = {.message_id = ids ? "m-a" : NULL},
		     pb = {.message_id = ids ? "m-b" : NULL};
	const char *ta = "{\"n\":1}", *tb = alike ? ta : "{\"n\":2}";
	struct conn a, b, pub, sub, stock;

	assert_non_null(s);
	assert_non_null(w);
	pub = amqp_conn(s, FRONT, 10, 12, NULL, NULL);
	sub = amqp_conn(s, WORKER, 20, 21, "orders", "ctag-1");
	a = conn_new(CLIENT, 1, FRONT, 10, 11, 80);
	b = conn_new(CLIENT, 1, FRONT, 10, 13, 80);
	stock = conn_new(WORKER, 20, STOCK, 30, 31, 8080);

	c2s(s, &a, 2, 100 * MS, "GET /a HTTP/1.1\r\n\r\n", 19);
	publish(w, "orders", ta, &pa);
	send_frames(s, &pub, 11, 102 * MS, w, true);
	s2c(s, &a, 2, 103 * MS, "HTTP/1.1 202 Accepted\r\n\r\n", 25);
	c2s(s, &b, 3, 104 * MS, "GET /b HTTP/1.1\r\n\r\n", 19);
	publish(w, "orders", tb, &pb);
	send_frames(s, &pub, 13, 106 * MS, w, true);
	s2c(s, &b, 3, 107 * MS, "HTTP/1.1 202 Accepted\r\n\r\n", 25);

	/* b's message first (a priority queue, a requeue) */
	deliver(w, "ctag-1", 1, "orders", tb, &pb);
	send_frames(s, &sub, 21, 110 * MS, w, false);
	http(s, &stock, 21, 112 * MS, "/stock?b", 200);
	ack(s, &sub, 21, 116 * MS, 80, 1);
	deliver(w, "ctag-1", 2, "orders", ta, &pa);
	send_frames(s, &sub, 21, 118 * MS, w, false);
	http(s, &stock, 21, 120 * MS, "/stock?a", 200);
	ack(s, &sub, 21, 124 * MS, 80, 2);
	free(w);
	return s;
}

static void test_alike_messages_are_flagged(void **state)
{
	struct sink_state *out = calloc(1, sizeof(*out));
	struct script *s = two_messages(false, true);

	(void)state;
	assert_non_null(out);
	run(s, publisher_first, out);
	assert_int_equal(out->n, 2);
	for (int i = 0; i < 2; i++) {
		const struct weft_span *d = span_named(&out->traj[i], "deliver orders");

		assert_int_equal(d->link, WEFT_LINK_MESSAGE);
		assert_true(d->uncertain); /* both picks: the second only follows the first */
		assert_true(out->traj[i].t.uncertain);
	}
	script_free(s);
	free(out);
}

static void check_two_exact(const struct sink_state *out)
{
	const struct got *a = traj_named(out, "GET /a"), *b = traj_named(out, "GET /b");

	assert_int_equal(out->n, 2);
	assert_child(a, "deliver orders", "GET /stock?a");
	assert_child(b, "deliver orders", "GET /stock?b");
	assert_false(a->t.uncertain);
	assert_false(b->t.uncertain);
}

static void test_message_ids_are_exact(void **state)
{
	struct sink_state *out = calloc(1, sizeof(*out));
	struct script *s = two_messages(true, true);

	(void)state;
	assert_non_null(out);
	run(s, publisher_first, out);
	check_two_exact(out);
	run(s, consumer_first, out);
	check_two_exact(out);
	script_free(s);
	free(out);

	/* Different bodies tell the messages apart without ids. */
	out = calloc(1, sizeof(*out));
	s = two_messages(false, false);
	assert_non_null(out);
	run(s, consumer_first, out);
	check_two_exact(out);
	script_free(s);
	free(out);
}

/* A message rejected and delivered again (redelivered set): both
 * deliveries are children of its one publish, the first an error. */
static void test_redelivery(void **state)
{
	struct sink_state *out = calloc(1, sizeof(*out));
	struct script *s = calloc(1, sizeof(*s));
	struct wbuf *w = calloc(1, sizeof(*w));
	struct props none = {0};
	struct conn web, pub, sub;
	const char *text = "{\"order\":9}";
	const struct got *g;
	int first = -1, second = -1;

	(void)state;
	assert_non_null(out);
	assert_non_null(s);
	assert_non_null(w);
	pub = amqp_conn(s, FRONT, 10, 12, NULL, NULL);
	sub = amqp_conn(s, WORKER, 20, 21, "orders", "ctag-1");
	web = conn_new(CLIENT, 1, FRONT, 10, 11, 80);
	c2s(s, &web, 2, 100 * MS, "GET /order HTTP/1.1\r\n\r\n", 23);
	publish(w, "orders", text, &none);
	send_frames(s, &pub, 11, 102 * MS, w, true);
	s2c(s, &web, 2, 104 * MS, "HTTP/1.1 202 Accepted\r\n\r\n", 25);
	deliver(w, "ctag-1", 1, "orders", text, &none);
	send_frames(s, &sub, 21, 106 * MS, w, false);
	ack(s, &sub, 21, 108 * MS, 120, 1); /* nack, requeue */
	basic_deliver(w, 1, "ctag-1", 2, true, "", "orders");
	header(w, 1, strlen(text), &none);
	body(w, 1, text, strlen(text));
	send_frames(s, &sub, 21, 110 * MS, w, false);
	ack(s, &sub, 21, 112 * MS, 80, 2);
	free(w);

	for (int k = 0; k < 2; k++) {
		run(s, k ? consumer_first : publisher_first, out);
		assert_int_equal(out->n, 1);
		g = traj_named(out, "GET /order");
		assert_int_equal(g->t.nspans, 4);
		for (int i = 0; i < g->t.nspans; i++) {
			if (strcmp(g->spans[i].request, "deliver orders"))
				continue;
			assert_int_equal(g->spans[i].parent,
					 span_named(g, "publish \"\" orders")->id);
			assert_false(g->spans[i].uncertain);
			if (g->spans[i].server.start_ns < 110 * MS)
				first = i;
			else
				second = i;
		}
		assert_true(first >= 0 && second >= 0);
		assert_true(g->spans[first].error);
		assert_false(g->spans[second].error);
		assert_false(g->t.uncertain);
	}
	script_free(s);
	free(out);
}

/* A consumer that acknowledges at once and hands the message to a pool
 * thread (oslo.messaging's casts): nothing shows which delivery the pool
 * thread's calls are for, so they are undecided and the deliveries before
 * them flagged as maybe missing a child, never silently complete. */
static void test_handed_off_work_is_flagged(void **state)
{
	struct sink_state *out = calloc(1, sizeof(*out));
	struct script *s = calloc(1, sizeof(*s));
	struct wbuf *w = calloc(1, sizeof(*w));
	struct props none = {0};
	struct conn web, pub, sub, stock;
	const struct got *g;

	(void)state;
	assert_non_null(out);
	assert_non_null(s);
	assert_non_null(w);
	pub = amqp_conn(s, FRONT, 10, 12, NULL, NULL);
	sub = amqp_conn(s, WORKER, 20, 21, "casts", "ctag-1");
	web = conn_new(CLIENT, 1, FRONT, 10, 11, 80);
	stock = conn_new(WORKER, 20, STOCK, 30, 31, 8080);
	for (int i = 0; i < 2; i++) {
		uint64_t t = (100 + 3000 * (uint64_t)i) * MS;

		c2s(s, &web, 2, t, "GET /cast HTTP/1.1\r\n\r\n", 22);
		publish(w, "casts", i ? "{\"n\":2}" : "{\"n\":1}", &none);
		send_frames(s, &pub, 11, t + 2 * MS, w, true);
		s2c(s, &web, 2, t + 3 * MS, "HTTP/1.1 202 Accepted\r\n\r\n", 25);
		deliver(w, "ctag-1", 1 + (uint64_t)i, "casts", i ? "{\"n\":2}" : "{\"n\":1}",
			&none);
		send_frames(s, &sub, 21, t + 5 * MS, w, false);
		ack(s, &sub, 21, t + 7 * MS, 80, 1 + (uint64_t)i); /* before the work */
		http(s, &stock, 22, t + 9 * MS, i ? "/stock?2" : "/stock?1", 200);
	}
	free(w);

	run(s, publisher_first, out);
	for (int i = 0; i < out->n; i++) {
		g = &out->traj[i];
		assert_true(g->t.uncertain);
		if (!strcmp(g->spans[0].request, "GET /cast")) {
			assert_true(span_named(g, "deliver casts")->incomplete);
			assert_int_equal(g->t.nspans, 3);
		} else {
			assert_int_equal(g->spans[0].link, WEFT_LINK_UNDECIDED);
		}
	}
	assert_int_equal(out->n, 4);
	script_free(s);
	free(out);
}

/* An RPC over the broker: GET /rpc calls the queue "rpc" with a reply queue
 * and a correlation id; the server asks the stock service and publishes the
 * reply, which the caller reads as its call's response. */
static void test_rpc_reply_is_the_response(void **state)
{
	struct sink_state *out = calloc(1, sizeof(*out));
	struct script *s = calloc(1, sizeof(*s));
	struct wbuf *w = calloc(1, sizeof(*w));
	struct props call = {.correlation_id = "c-1", .reply_to = "amq.rabbitmq.reply-to.g1h2AA"};
	struct props reply = {.correlation_id = "c-1"};
	struct conn web, cli, srv, stock;
	const struct weft_span *p, *d;
	const struct got *g;

	(void)state;
	assert_non_null(out);
	assert_non_null(s);
	assert_non_null(w);
	cli = amqp_conn(s, FRONT, 10, 11, "amq.rabbitmq.reply-to", "ctag-r");
	srv = amqp_conn(s, WORKER, 20, 21, "rpc", "ctag-s");
	web = conn_new(CLIENT, 1, FRONT, 10, 11, 80);
	stock = conn_new(WORKER, 20, STOCK, 30, 31, 8080);

	c2s(s, &web, 2, 100 * MS, "GET /rpc HTTP/1.1\r\n\r\n", 21);
	publish(w, "rpc", "{\"method\":\"price\"}", &call);
	send_frames(s, &cli, 11, 102 * MS, w, true);
	deliver(w, "ctag-s", 1, "rpc", "{\"method\":\"price\"}", &call);
	send_frames(s, &srv, 21, 104 * MS, w, false);
	http(s, &stock, 21, 106 * MS, "/db", 200);
	publish(w, "amq.rabbitmq.reply-to.g1h2AA", "{\"result\":9}", &reply);
	send_frames(s, &srv, 21, 110 * MS, w, true);
	deliver(w, "ctag-r", 1, "amq.rabbitmq.reply-to.g1h2AA", "{\"result\":9}", &reply);
	send_frames(s, &cli, 11, 112 * MS, w, false);
	s2c(s, &web, 2, 115 * MS, "HTTP/1.1 200 OK\r\n\r\n", 19);
	free(w);

	for (int k = 0; k < 2; k++) {
		run(s, k ? consumer_first : publisher_first, out);
		g = traj_named(out, "GET /rpc");
		assert_int_equal(out->n, 1);
		assert_child(g, "GET /rpc", "publish \"\" rpc");
		assert_child(g, "publish \"\" rpc", "deliver rpc");
		assert_child(g, "deliver rpc", "GET /db");
		assert_child(g, "deliver rpc", "publish \"\" amq.rabbitmq.reply-to");
		p = span_named(g, "publish \"\" rpc");
		d = span_named(g, "deliver rpc");
		/* the call waited for its reply; the server's work ended with the reply */
		assert_int_equal(p->client.end_ns, 113 * MS);
		assert_int_equal(d->server.end_ns, 110 * MS - 1000);
		assert_false(g->t.uncertain);
		/* the reply's delivery is the call's response, no span of its own */
		assert_int_equal(spans_named(out, "deliver amq.rabbitmq.reply-to"), 0);
	}
	script_free(s);
	free(out);
}

/* A rejected message is an error; a message whose publisher no sensor saw
 * starts its own trajectory at the broker. */
static void test_reject_and_unknown_publisher(void **state)
{
	struct sink_state *out = calloc(1, sizeof(*out));
	struct script *s = calloc(1, sizeof(*s));
	struct wbuf *w = calloc(1, sizeof(*w));
	struct props none = {0};
	struct conn sub, stock;
	const struct got *g;
	const struct weft_span *d;

	(void)state;
	assert_non_null(out);
	assert_non_null(s);
	assert_non_null(w);
	sub = amqp_conn(s, WORKER, 20, 21, "reply_0123456789abcdef0123456789abcdef", "ctag-1");
	stock = conn_new(WORKER, 20, STOCK, 30, 31, 8080);
	deliver(w, "ctag-1", 5, "x", "{\"from\":\"cron\"}", &none);
	send_frames(s, &sub, 21, 100 * MS, w, false);
	http(s, &stock, 21, 102 * MS, "/stock", 500);
	ack(s, &sub, 21, 106 * MS, 120, 5); /* nack */
	free(w);

	run(s, publisher_first, out);
	assert_int_equal(out->n, 1);
	g = traj_named(out, "deliver reply_*");
	d = &g->spans[0];
	assert_int_equal(d->link, WEFT_LINK_NONE);
	assert_true(d->error);
	assert_string_equal(d->error_text, "not acknowledged");
	assert_int_equal(d->server.end_ns, 106 * MS);
	assert_child(g, "deliver reply_*", "GET /stock");
	assert_true(g->t.error);
	assert_int_not_equal(d->client_service, d->server_service);
	script_free(s);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_work_queue_by_content),
	    cmocka_unit_test(test_work_queue_by_message_id),
	    cmocka_unit_test(test_alike_messages_are_flagged),
	    cmocka_unit_test(test_message_ids_are_exact),
	    cmocka_unit_test(test_redelivery),
	    cmocka_unit_test(test_handed_off_work_is_flagged),
	    cmocka_unit_test(test_rpc_reply_is_the_response),
	    cmocka_unit_test(test_reject_and_unknown_publisher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Message queues in trajectories: AMQP 0-9-1 through a broker (RabbitMQ).
 *
 * A broker breaks the request/response shape the rest of the correlator
 * reads: publishes run one way on the publisher's connection, deliveries the
 * other way on the consumer's, and the broker's own threads cannot be
 * followed. So an application's connection to a broker (port 5672, or any
 * connection that opens with AMQP's protocol header) is read frame by frame
 * (amqp.c) from both directions' calls, and turned into spans of its own:
 *
 * - a publish is a client half (publisher -> broker, "publish EXCHANGE KEY"),
 *   its parent decided by causality.c like any request's;
 * - a delivery is a server half (broker -> consumer, "deliver QUEUE") that
 *   the consuming thread works for, like a received request: what it does
 *   next is its child. It ends when the consumer acknowledges it;
 * - a delivery's parent is the publish of the same message, found by its
 *   message id or, without one, by its content (exchange, routing key, body
 *   size and a fingerprint of the body's first bytes), published or delivered
 *   in either order (the two hosts' batches race); several publishes alike
 *   make the pick (the oldest: queue order) a guess, flagged;
 * - an RPC call (a reply queue named, with a correlation id or oslo.messaging's
 *   _msg_id) gets its reply delivery as its response, as an HTTP call would;
 *   on the server the reply publish answers the delivery it is for, so a pool
 *   worker's calls before it are decided (causality.c's response rule).
 *
 * Only the application's side of a broker connection makes spans: the
 * broker's side of the same bytes is skipped. */
#include "analysis/correlator_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/amqp.h"
#include "common/str.h"

#define MQ_PORT	       5672
#define MQ_CONSUMERS   32
#define MQ_ASKED       8
#define MQ_UNACKED     256
#define MQ_FINGERPRINT AMQP_BODY_HEAD /* body bytes matched between publish and delivery */
#define MQ_TOKEN_MAX   128

struct mq_consumer {
	uint16_t channel;
	char tag[96];
	char queue[96];
};

/* An application's connection to a broker. */
struct mq_conn {
	struct amqp_stream *s[2]; /* [0] what the application sends, [1] what it receives */
	struct mq_consumer cons[MQ_CONSUMERS]; /* consumer tag -> queue */
	int ncons;
	struct {
		uint16_t channel;
		char queue[96];
	} asked[MQ_ASKED]; /* basic.consume sent, consume-ok not seen yet */
	int nasked;
	struct {
		uint16_t channel;
		uint64_t tag;
		uint64_t half;
	} unacked[MQ_UNACKED]; /* deliveries the consumer will acknowledge */
	int nunacked;
};

/* An entry of the correlator's message indexes. */
enum mq_kind {
	MQ_PUBLISHED = 1, /* a publish deliveries may still come for */
	MQ_WAITING,	  /* a delivery whose publish has not come */
	MQ_CALL,	  /* an RPC call's publish, waiting for its reply */
	MQ_SERVE,	  /* an RPC call's delivery, waiting for the reply that answers it */
};

struct mq_entry {
	uint64_t key;
	uint64_t half;
	uint64_t mono;	       /* when it came */
	uint64_t ts;	       /* the host's clock: queue order */
	uint8_t kind;	       /* enum mq_kind */
	bool contested;	       /* MQ_PUBLISHED: a delivery chose among it and others alike */
	uint32_t taken;	       /* MQ_PUBLISHED: deliveries linked to it */
	struct mq_entry *next; /* the same key and kind, oldest first */
	struct mq_entry *older, *newer; /* every entry, by arrival */
	UT_hash_handle hh;
};

struct mq_index {
	struct mq_entry *by_key; /* chain heads, keyed by key ^ kind */
	struct mq_entry *oldest, *newest;
};

/* ---- the indexes ------------------------------------------------------------------------ */

static uint64_t slot_key(uint64_t key, uint8_t kind)
{
	return fnv1a(key, &kind, 1);
}

static struct mq_entry *index_first(struct correlator *c, uint64_t key, uint8_t kind)
{
	uint64_t k = slot_key(key, kind);
	struct mq_entry *e;

	if (!c->mq)
		return NULL;
	HASH_FIND(hh, c->mq->by_key, &k, sizeof(k), e);
	return e;
}

static void index_add(struct correlator *c, uint64_t key, uint8_t kind, const struct half *h,
		      uint64_t now_mono)
{
	struct mq_entry *e, *head;

	if (!c->mq && !(c->mq = calloc(1, sizeof(*c->mq))))
		return;
	if (!(e = calloc(1, sizeof(*e))))
		return;
	e->key = slot_key(key, kind);
	e->half = h->id;
	e->kind = kind;
	e->mono = now_mono;
	e->ts = h->req_start;
	HASH_FIND(hh, c->mq->by_key, &e->key, sizeof(e->key), head);
	if (head) {
		while (head->next)
			head = head->next;
		head->next = e;
	} else {
		HASH_ADD(hh, c->mq->by_key, key, sizeof(e->key), e);
	}
	e->older = c->mq->newest;
	if (c->mq->newest)
		c->mq->newest->newer = e;
	else
		c->mq->oldest = e;
	c->mq->newest = e;
}

static void index_remove(struct correlator *c, struct mq_entry *e)
{
	struct mq_entry *head;

	HASH_FIND(hh, c->mq->by_key, &e->key, sizeof(e->key), head);
	if (head == e) {
		HASH_DEL(c->mq->by_key, e);
		if (e->next)
			HASH_ADD(hh, c->mq->by_key, key, sizeof(e->next->key), e->next);
	} else {
		while (head && head->next != e)
			head = head->next;
		if (head)
			head->next = e->next;
	}
	if (e->older)
		e->older->newer = e->newer;
	else
		c->mq->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->mq->newest = e->older;
	free(e);
}

/* ---- what identifies a message ----------------------------------------------------------- */

/* A message id names it; without one, its content does. */
static uint64_t message_key(const struct amqp_record *r)
{
	uint64_t h = 0xcbf29ce484222325ull;

	if (r->props.message_id[0])
		return fnv1a(fnv1a(h, "id", 2), r->props.message_id, strlen(r->props.message_id));
	h = fnv1a(h, r->exchange, strlen(r->exchange) + 1);
	h = fnv1a(h, r->routing_key, strlen(r->routing_key) + 1);
	h = fnv1a(h, &r->body_size, sizeof(r->body_size));
	h = fnv1a(h, &r->body_fp_len, sizeof(r->body_fp_len));
	return fnv1a(h, &r->body_fp, sizeof(r->body_fp));
}

/* The value of "NAME": "..." in a JSON text, or in a JSON text quoted inside
 * another (oslo.messaging's envelope: \"NAME\": \"...\"). */
static bool json_value(const uint8_t *p, size_t n, const char *name, char *out, size_t cap)
{
	size_t k = strlen(name);

	for (size_t i = 1; i + k + 1 < n; i++) {
		size_t j = i + k, o = 0;

		if (p[i - 1] != '"' || memcmp(p + i, name, k) || (p[j] != '"' && p[j] != '\\'))
			continue;
		/* past the closing quote, the colon and the opening quote */
		while (j < n && (p[j] == '\\' || p[j] == '"' || p[j] == ':' || p[j] == ' '))
			j++;
		while (j < n && p[j] != '\\' && p[j] != '"' && o + 1 < cap)
			out[o++] = (char)p[j++];
		out[o] = '\0';
		return j < n && o > 0;
	}
	return false;
}

/* What ties an RPC call to its reply: the correlation id, or the message id
 * oslo.messaging puts in both bodies. */
static bool rpc_token(const struct amqp_record *r, char *out, size_t cap)
{
	if (r->props.correlation_id[0]) {
		str_copy(out, cap, r->props.correlation_id);
		return true;
	}
	return json_value(r->body_head, r->body_head_len, "_msg_id", out, cap);
}

/* A call names where its reply goes. */
static bool rpc_wants_reply(const struct amqp_record *r)
{
	char q[MQ_TOKEN_MAX];

	return r->props.reply_to[0] ||
	       json_value(r->body_head, r->body_head_len, "_reply_q", q, sizeof(q));
}

static uint64_t token_key(const struct half *h, const char *token)
{
	uint64_t k = fnv1a(0xcbf29ce484222325ull, &h->host, sizeof(h->host));

	k = fnv1a(k, &h->pid, sizeof(h->pid));
	return fnv1a(k, token, strlen(token));
}

/* A queue's name as a span names it: the names a broker or a client makes up
 * for each caller (reply queues) are one name, else every call would be a
 * service's operation of its own. */
static const char *queue_name(const char *q)
{
	static const struct {
		const char *prefix, *name;
		bool hex; /* only when hex digits follow (oslo.messaging's reply_<uuid>) */
	} made_up[] = {
	    {"amq.rabbitmq.reply-to", "amq.rabbitmq.reply-to", false},
	    {"amq.gen-", "amq.gen-*", false},
	    {"reply_", "reply_*", true},
	};

	for (size_t i = 0; i < sizeof(made_up) / sizeof(made_up[0]); i++) {
		size_t k = strlen(made_up[i].prefix), n = 0;

		if (strncmp(q, made_up[i].prefix, k))
			continue;
		while (made_up[i].hex && isxdigit((unsigned char)q[k + n]))
			n++;
		if (!made_up[i].hex || (n >= 16 && !q[k + n]))
			return made_up[i].name;
	}
	return q;
}

/* ---- spans -------------------------------------------------------------------------------- */

/* A half for a message the event's call moved: keyed by the record's own
 * offset, since one call can carry several messages. */
static struct half *message_half(struct correlator *c, struct endpoint *ep,
				 const struct weft_event *e, const struct amqp_record *r,
				 uint8_t role)
{
	struct weft_event k = *e;
	struct half *h;

	k.seq = r->start;
	k.payload_len = 0;
	if (!(h = corr_half_new(c, ep, &k)))
		return NULL;
	h->role = role;
	h->proto = WEFT_PROTO_AMQP;
	h->req_seq = r->start;
	h->req_len = r->end - r->start;
	h->req_start = e->ts_ns - e->duration_ns;
	h->req_end = e->ts_ns;
	if (role == WEFT_ROLE_SERVER)
		h->sport = 0; /* a consumer serves on no port of its own */
	return h;
}

static void message_link(struct correlator *c, struct half *pub, struct half *d, bool guess,
			 uint64_t now_mono)
{
	d->msg_parent = pub;
	d->msg_sibling = pub->msg_child;
	pub->msg_child = d;
	d->link = WEFT_LINK_MESSAGE;
	d->uncertain = guess;
	corr_touch(c, d, now_mono);
	corr_touch(c, pub, now_mono);
}

/* The publish a delivery is of: the oldest one of its key not delivered
 * yet (queue order), else the oldest (a fanout, a redelivery). Among several
 * alike, the pick is a guess, and so is every later pick among them. */
static bool find_publish(struct correlator *c, struct half *d, uint64_t key, uint64_t now_mono)
{
	struct mq_entry *first = index_first(c, key, MQ_PUBLISHED), *pick = NULL;
	int fresh = 0;
	struct half *pub;

	for (struct mq_entry *e = first; e; e = e->next)
		if (!e->taken && corr_half_by_id(c, e->half) && fresh++ == 0)
			pick = e;
	if (!pick)
		pick = first;
	if (!pick || !(pub = corr_half_by_id(c, pick->half)))
		return false;
	if (fresh > 1)
		for (struct mq_entry *e = first; e; e = e->next)
			e->contested = true;
	pick->taken++;
	message_link(c, pub, d, pick->contested, now_mono);
	return true;
}

/* The queue a delivery came from: its consumer's, when the consumer was
 * seen subscribing; else its routing key, the queue's name for the default
 * exchange and by convention for direct and topic ones (a consumer older
 * than the sensor). */
static const char *consumer_queue(struct mq_conn *m, const struct amqp_record *r)
{
	for (int i = 0; i < m->ncons; i++)
		if (m->cons[i].channel == r->channel && !strcmp(m->cons[i].tag, r->consumer_tag))
			return m->cons[i].queue;
	return r->routing_key;
}

static void on_publish(struct correlator *c, struct endpoint *ep, const struct weft_event *e,
		       const struct amqp_record *r, uint64_t now_mono)
{
	struct half *p = message_half(c, ep, e, r, WEFT_ROLE_CLIENT);
	char token[MQ_TOKEN_MAX];
	struct mq_entry *w;
	uint64_t key;

	if (!p)
		return;
	snprintf(p->request, sizeof(p->request), "publish %.70s %.80s",
		 r->exchange[0] ? r->exchange : "\"\"", queue_name(r->routing_key));
	causality_request_out(c, p, ep, now_mono);
	if (rpc_token(r, token, sizeof(token))) {
		struct mq_entry *served = index_first(c, token_key(p, token), MQ_SERVE);
		struct half *d = served ? corr_half_by_id(c, served->half) : NULL;

		if (d) { /* the reply to a call this process was serving: it answers it */
			causality_answer(c, d, e->tid, e->coroutine, now_mono);
			d->has_resp = true;
			d->resp_start = d->resp_end = p->req_start;
			corr_touch(c, d, now_mono);
			index_remove(c, served);
		} else if (rpc_wants_reply(r)) {
			index_add(c, token_key(p, token), MQ_CALL, p, now_mono);
		}
	}
	key = message_key(r);
	index_add(c, key, MQ_PUBLISHED, p, now_mono);
	/* Deliveries that came first (their host's batch won the race). */
	while ((w = index_first(c, key, MQ_WAITING))) {
		struct half *d = corr_half_by_id(c, w->half);

		index_remove(c, w);
		if (d)
			find_publish(c, d, key, now_mono);
	}
	corr_touch(c, p, now_mono);
}

static void on_deliver(struct correlator *c, struct endpoint *ep, struct mq_conn *m,
		       const struct weft_event *e, const struct amqp_record *r, uint64_t now_mono)
{
	char token[MQ_TOKEN_MAX];
	bool has_token = rpc_token(r, token, sizeof(token));
	struct half *d, probe = {.host = ep->key.host, .pid = e->pid};
	uint64_t key;

	if (has_token) { /* a reply to this process's call: that call's response */
		struct mq_entry *call = index_first(c, token_key(&probe, token), MQ_CALL);
		struct half *p = call ? corr_half_by_id(c, call->half) : NULL;

		if (p) {
			p->has_resp = true;
			p->resp_seq = r->start;
			p->resp_start = p->resp_end = e->ts_ns;
			p->resp_len = r->body_size;
			causality_response_in(c, p, e->tid, e->coroutine, now_mono);
			corr_touch(c, p, now_mono);
			index_remove(c, call);
			return;
		}
	}
	if (!(d = message_half(c, ep, e, r, WEFT_ROLE_SERVER)))
		return;
	snprintf(d->request, sizeof(d->request), "%s %.140s",
		 r->kind == AMQP_REC_GET_OK ? "get" : "deliver",
		 queue_name(r->kind == AMQP_REC_GET_OK ? r->routing_key : consumer_queue(m, r)));
	causality_request_in(c, d, now_mono);
	if (has_token && rpc_wants_reply(r)) {
		index_add(c, token_key(d, token), MQ_SERVE, d, now_mono);
		d->awaits_reply = true;
	}
	if (m->nunacked < MQ_UNACKED) {
		m->unacked[m->nunacked].channel = r->channel;
		m->unacked[m->nunacked].tag = r->delivery_tag;
		m->unacked[m->nunacked++].half = d->id;
	}
	key = message_key(r);
	if (!find_publish(c, d, key, now_mono))
		index_add(c, key, MQ_WAITING, d, now_mono);
	corr_touch(c, d, now_mono);
}

/* basic.ack, nack or reject: the deliveries it names are done. */
static void on_ack(struct correlator *c, struct mq_conn *m, const struct weft_event *e,
		   const struct amqp_record *r, uint64_t now_mono)
{
	bool failed = r->method_id != 80; /* nack (120) or reject (90) */
	int keep = 0;

	for (int i = 0; i < m->nunacked; i++) {
		struct half *d;

		if (m->unacked[i].channel != r->channel ||
		    (m->unacked[i].tag != r->delivery_tag &&
		     !((r->flags & AMQP_RF_MULTIPLE) && m->unacked[i].tag < r->delivery_tag))) {
			m->unacked[keep++] = m->unacked[i];
			continue;
		}
		if (!(d = corr_half_by_id(c, m->unacked[i].half)))
			continue;
		d->has_resp = true;
		d->resp_start = d->resp_end = e->ts_ns;
		if (failed) {
			d->error = true;
			snprintf(d->error_text, sizeof(d->error_text), "%s",
				 r->method_id == 90 ? "rejected" : "not acknowledged");
		}
		causality_answer(c, d, e->tid, e->coroutine, now_mono);
		causality_acked(c, d, now_mono);
		corr_touch(c, d, now_mono);
	}
	m->nunacked = keep;
}

static void on_consume(struct mq_conn *m, const struct amqp_record *r, bool ok)
{
	if (!ok) { /* basic.consume: its tag comes with consume-ok */
		if (m->nasked == MQ_ASKED)
			memmove(&m->asked[0], &m->asked[1], sizeof(m->asked[0]) * --m->nasked);
		m->asked[m->nasked].channel = r->channel;
		str_copy(m->asked[m->nasked++].queue, sizeof(m->asked[0].queue), r->queue);
		return;
	}
	for (int i = 0; i < m->nasked; i++) {
		if (m->asked[i].channel != r->channel)
			continue;
		if (m->ncons == MQ_CONSUMERS)
			memmove(&m->cons[0], &m->cons[1], sizeof(m->cons[0]) * --m->ncons);
		m->cons[m->ncons].channel = r->channel;
		str_copy(m->cons[m->ncons].tag, sizeof(m->cons[0].tag), r->consumer_tag);
		str_copy(m->cons[m->ncons++].queue, sizeof(m->cons[0].queue), m->asked[i].queue);
		memmove(&m->asked[i], &m->asked[i + 1], sizeof(m->asked[0]) * (m->nasked - i - 1));
		m->nasked--;
		return;
	}
}

struct feed_ctx {
	struct correlator *c;
	struct endpoint *ep;
	const struct weft_event *e;
	uint64_t now_mono;
	bool rx;
};

static void on_record(const struct amqp_record *r, void *ctx)
{
	struct feed_ctx *f = ctx;
	struct mq_conn *m = f->ep->mq;

	switch (r->kind) {
	case AMQP_REC_PUBLISH:
		if (!f->rx)
			on_publish(f->c, f->ep, f->e, r, f->now_mono);
		return;
	case AMQP_REC_DELIVER:
	case AMQP_REC_GET_OK:
		if (f->rx)
			on_deliver(f->c, f->ep, m, f->e, r, f->now_mono);
		return;
	case AMQP_REC_METHOD:
		if (r->class_id != 60) /* basic */
			return;
		if (r->method_id == 20 && !f->rx) /* consume */
			on_consume(m, r, false);
		else if (r->method_id == 21 && f->rx) /* consume-ok */
			on_consume(m, r, true);
		else if (!f->rx &&
			 (r->method_id == 80 || r->method_id == 90 || r->method_id == 120))
			on_ack(f->c, m, f->e, r, f->now_mono);
		return;
	}
}

bool mq_claims(struct correlator *c, struct endpoint *ep, const struct weft_event *e)
{
	enum amqp_sniff sn;

	(void)c;
	if (ep->mq || ep->mq_broker)
		return true;
	if (ep->mq_checked || (e->type != WEFT_EV_SEND && e->type != WEFT_EV_RECV))
		return false;
	ep->mq_checked = true;
	sn = amqp_sniff(e->payload, e->payload_len);
	/* On the broker's port, a connection older than the sensor may first be
	 * seen mid-frame: the parser finds the frames again by itself. */
	if (sn != AMQP_SNIFF_HEADER && ep->sport != MQ_PORT && ep->dport != MQ_PORT)
		return false;
	/* The broker's side of a connection: its application's side tells. */
	if (ep->role != WEFT_ROLE_CLIENT) {
		ep->mq_broker = true;
		return true;
	}
	struct amqp_opts o = {.fingerprint_len = MQ_FINGERPRINT};

	ep->mq = calloc(1, sizeof(*ep->mq));
	if (!ep->mq || !(ep->mq->s[0] = amqp_stream__new(&o)) ||
	    !(ep->mq->s[1] = amqp_stream__new(&o))) {
		mq_conn_free(ep->mq);
		ep->mq = NULL;
		ep->mq_broker = true; /* no memory: skipped rather than misread */
	}
	return true;
}

void mq_feed(struct correlator *c, struct endpoint *ep, const struct weft_event *e,
	     uint64_t now_mono)
{
	struct feed_ctx f = {c, ep, e, now_mono, e->type == WEFT_EV_RECV};

	if (!ep->mq || (e->type != WEFT_EV_SEND && e->type != WEFT_EV_RECV))
		return;
	amqp_stream__feed(ep->mq->s[f.rx], e->seq, e->len, e->payload, e->payload_len, on_record,
			  &f);
}

void mq_conn_free(struct mq_conn *m)
{
	if (!m)
		return;
	amqp_stream__free(m->s[0]);
	amqp_stream__free(m->s[1]);
	free(m);
}

void mq_expire(struct correlator *c, uint64_t now_mono)
{
	while (c->mq && c->mq->oldest) {
		struct mq_entry *e = c->mq->oldest;
		uint64_t age = now_mono - e->mono;

		/* As long as the exchanges: a late delivery, a slow reply. */
		if (age < c->opts.keep_ns && now_mono != UINT64_MAX)
			break;
		index_remove(c, e);
	}
}

void mq_bound(struct correlator *c, size_t max)
{
	while (c->mq && c->mq->oldest && HASH_COUNT(c->mq->by_key) > max)
		index_remove(c, c->mq->oldest);
}

void mq_free(struct correlator *c)
{
	struct mq_entry *e, *tmp;

	if (!c->mq)
		return;
	HASH_ITER(hh, c->mq->by_key, e, tmp)
	{
		HASH_DEL(c->mq->by_key, e);
	}
	for (e = c->mq->oldest; e; e = tmp) {
		tmp = e->newer;
		free(e);
	}
	free(c->mq);
	c->mq = NULL;
}

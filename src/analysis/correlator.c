/* Events to exchanges: messages are runs of bytes in one direction on one
 * connection; on a client the request is what it sends and the response what
 * it receives next, on a server the other way round. The two sides of an
 * exchange are joined by the TCP sequence number of the request's first
 * byte (confirmed by the response's when both are known): addresses and
 * clocks of the two hosts are never compared, so NAT and skew do not matter.
 *
 * Which request each request was sent for is causality.c's business. */
#include "analysis/correlator_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/app_protocol.h"
#include "common/event_util.h"
#include "common/log.h"

#define ENDPOINT_LINGER_NS 5000000000ull /* a closed connection's late events still land */

uint32_t corr_host_id(struct correlator *c, const char *name)
{
	struct host_entry *h;

	HASH_FIND_STR(c->hosts, name, h);
	if (h)
		return h->id;
	h = calloc(1, sizeof(*h));
	if (!h)
		return 0;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->id = ++c->next_host;
	HASH_ADD_STR(c->hosts, name, h);
	return h->id;
}

const char *corr_host_name(struct correlator *c, uint32_t id)
{
	for (struct host_entry *h = c->hosts; h; h = h->hh.next)
		if (h->id == id)
			return h->name;
	return "";
}

struct proc_entry *corr_proc(struct correlator *c, uint32_t host, uint32_t pid)
{
	struct proc_key k = {host, pid};
	struct proc_entry *p;

	HASH_FIND(hh, c->procs, &k, sizeof(k), p);
	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->key = k;
	HASH_ADD(hh, c->procs, key, sizeof(k), p);
	return p;
}

struct half *corr_half_by_id(struct correlator *c, uint64_t id)
{
	struct half *h;

	HASH_FIND(hh_id, c->by_id, &id, sizeof(id), h);
	return h;
}

struct correlator *correlator__new(const struct corr_opts *opts, const struct corr_sink *sink)
{
	struct correlator *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->opts = *opts;
	c->sink = *sink;
	return c;
}

void correlator__process(struct correlator *c, const char *host, uint32_t pid, const char *comm,
			 const char *exe)
{
	struct proc_entry *p = corr_proc(c, corr_host_id(c, host), pid);

	if (!p)
		return;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
}

/* ---- the list of all halves, least recently touched first ---------------------------- */

static void all_unlink(struct correlator *c, struct half *h)
{
	if (h->all_prev)
		h->all_prev->all_next = h->all_next;
	else
		c->all_head = h->all_next;
	if (h->all_next)
		h->all_next->all_prev = h->all_prev;
	else
		c->all_tail = h->all_prev;
	h->all_prev = h->all_next = NULL;
}

static void all_append(struct correlator *c, struct half *h)
{
	h->all_prev = c->all_tail;
	h->all_next = NULL;
	if (c->all_tail)
		c->all_tail->all_next = h;
	else
		c->all_head = h;
	c->all_tail = h;
}

void corr_touch(struct correlator *c, struct half *h, uint64_t now_mono)
{
	h->touched_mono = now_mono;
	all_unlink(c, h);
	all_append(c, h);
	if (h->dirty)
		return;
	if (c->ndirty == c->dirty_cap) {
		size_t cap = c->dirty_cap ? c->dirty_cap * 2 : 1024;
		struct half **d = realloc(c->dirty, cap * sizeof(*d));

		if (!d)
			return; /* it will be emitted with the next change of its tree */
		c->dirty = d;
		c->dirty_cap = cap;
	}
	h->dirty = true;
	c->dirty[c->ndirty++] = h;
}

static void unlink_child(struct half *h)
{
	struct half *p = h->parent;

	if (!p)
		return;
	for (struct half **pp = &p->child; *pp; pp = &(*pp)->sibling) {
		if (*pp == h) {
			*pp = h->sibling;
			break;
		}
	}
	h->parent = NULL;
	h->sibling = NULL;
}

/* A delivery's link to its publish, and a publish's to its deliveries. */
static void unlink_message(struct half *h)
{
	struct half *p = h->msg_parent;

	for (struct half **pp = p ? &p->msg_child : NULL; pp && *pp; pp = &(*pp)->msg_sibling) {
		if (*pp == h) {
			*pp = h->msg_sibling;
			break;
		}
	}
	h->msg_parent = h->msg_sibling = NULL;
	for (struct half *d = h->msg_child, *next; d; d = next) {
		next = d->msg_sibling;
		d->msg_parent = d->msg_sibling = NULL;
	}
	h->msg_child = NULL;
}

/* ---- matching the two sides ------------------------------------------------------------ */

static void match_remove(struct correlator *c, struct half *h)
{
	if (h->in_match) {
		HASH_DELETE(hh_match, c->match, h);
		h->in_match = false;
	}
}

/* Halves evicted before their other side came: that side, when it comes,
 * is flagged instead of standing as a whole span. Direct-mapped: a newer
 * key takes an older one's slot. */
#define EVICTED_SLOTS 65536

static uint64_t match_hash(uint32_t req_seq, uint8_t role)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ull, &req_seq, sizeof(req_seq));

	h = fnv1a(h, &role, sizeof(role));
	return h ? h : 1;
}

static void evicted_note(struct correlator *c, const struct half *h)
{
	uint64_t k = match_hash(h->req_seq, h->role);

	if (!c->evicted_keys && !(c->evicted_keys = calloc(EVICTED_SLOTS, sizeof(uint64_t))))
		return;
	c->evicted_keys[k % EVICTED_SLOTS] = k;
}

static bool evicted_peer(const struct correlator *c, const struct half *h)
{
	uint64_t k = match_hash(h->req_seq,
				h->role == WEFT_ROLE_CLIENT ? WEFT_ROLE_SERVER : WEFT_ROLE_CLIENT);

	return c->evicted_keys && c->evicted_keys[k % EVICTED_SLOTS] == k;
}

/* Joins h with the waiting half of the opposite role and the same request
 * sequence number, or makes h wait. */
static void match(struct correlator *c, struct half *h, uint64_t now_mono)
{
	struct match_key k = {.req_seq = h->req_seq,
			      .role = h->role == WEFT_ROLE_CLIENT ? WEFT_ROLE_SERVER
								  : WEFT_ROLE_CLIENT};
	struct half *o;

	HASH_FIND(hh_match, c->match, &k, sizeof(k), o);
	if (o && !o->peer && (o->host != h->host || o->ep != h->ep) &&
	    (!o->has_resp || !h->has_resp || o->resp_seq == h->resp_seq ||
	     (h->ep && h->ep->tls_plain))) {
		match_remove(c, o);
		o->peer = h;
		h->peer = o;
		c->stats.matched++;
		corr_touch(c, o, now_mono);
		return;
	}
	if (evicted_peer(c, h))
		h->uncertain = true;
	h->mkey = (struct match_key){.req_seq = h->req_seq, .role = h->role};
	HASH_ADD(hh_match, c->match, mkey, sizeof(h->mkey), h);
	h->in_match = true;
}

/* ---- halves ------------------------------------------------------------------------------ */

struct half *corr_half_new(struct correlator *c, struct endpoint *ep, const struct weft_event *e)
{
	struct half *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->host = ep->key.host;
	h->role = ep->role;
	h->pid = e->pid;
	h->tid = e->tid;
	h->coro = e->coroutine;
	memcpy(h->comm, e->comm, sizeof(h->comm));
	h->family = ep->family;
	h->sport = ep->sport;
	h->dport = ep->dport;
	memcpy(h->saddr, ep->saddr, 16);
	memcpy(h->daddr, ep->daddr, 16);
	h->req_seq = e->seq;
	/* Deterministic: replaying the same events yields the same ids. */
	h->id = fnv1a(0xcbf29ce484222325ull, &ep->key, sizeof(ep->key));
	h->id = fnv1a(h->id, &e->seq, sizeof(e->seq));
	h->id = fnv1a(h->id, &e->ts_ns, sizeof(e->ts_ns)) >> 1; /* positive in SQL */
	if (!h->id)
		h->id = 1;
	HASH_ADD(hh_id, c->by_id, id, sizeof(h->id), h);
	all_append(c, h);
	c->stats.exchanges++;
	c->stats.live_halves++;
	return h;
}

void corr_half_free(struct correlator *c, struct half *h)
{
	calls_half_free(h);
	match_remove(c, h);
	causality_half_free(c, h);
	HASH_DELETE(hh_id, c->by_id, h);
	unlink_child(h);
	unlink_message(h);
	for (struct half *ch = h->child, *next; ch; ch = next) {
		next = ch->sibling;
		ch->parent = NULL;
		ch->sibling = NULL;
	}
	if (h->peer)
		h->peer->peer = NULL;
	if (h->ep && h->ep->cur == h)
		h->ep->cur = NULL;
	all_unlink(c, h);
	c->stats.live_halves--;
	free(h);
}

/* A request starts on ep: the previous exchange there is complete. */
static void name_request(struct endpoint *ep, struct half *h, const uint8_t *p, size_t n)
{
	protocol_request(p, n, ep->role == WEFT_ROLE_CLIENT ? ep->dport : ep->sport, &h->proto,
			 h->request, sizeof(h->request));
	if (h->proto == WEFT_PROTO_HTTP)
		protocol_http_keys(p, n, &h->line_key, &h->trace_key);
}

/* More of the request's first bytes: named again from all of them. */
static void request_more(struct endpoint *ep, struct half *h, const struct weft_event *e)
{
	size_t n = e->payload_len;

	if (!ep->pre_len || ep->cur != h)
		return;
	if (n > sizeof(ep->pre) - ep->pre_len)
		n = sizeof(ep->pre) - ep->pre_len;
	memcpy(ep->pre + ep->pre_len, e->payload, n);
	name_request(ep, h, ep->pre, ep->pre_len + n);
	ep->pre_len = ep->pre_len + n < sizeof(ep->pre) ? (uint8_t)(ep->pre_len + n) : 0;
}

static struct half *request_start(struct correlator *c, struct endpoint *ep,
				  const struct weft_event *e, uint64_t now_mono)
{
	struct half *h = corr_half_new(c, ep, e);

	if (!h)
		return NULL;
	if (ep->cur) {
		if (ep->cur->role == WEFT_ROLE_SERVER) /* answered by nothing: not open */
			causality_closed(c, ep->cur);
		ep->cur->ep = NULL;
	}
	ep->cur = h;
	h->ep = ep;
	/* A client's request starts when its first send starts; a server's when
	 * its first recv returns with the bytes. */
	h->req_start = ep->role == WEFT_ROLE_CLIENT ? e->ts_ns - e->duration_ns : e->ts_ns;
	name_request(ep, h, e->payload, e->payload_len);
	/* Kept while short: the rest of the request's first bytes may come in
	 * its next calls (Go's server reads a request's first byte alone). */
	ep->pre_len = e->payload_len < sizeof(ep->pre) ? (uint8_t)e->payload_len : 0;
	memcpy(ep->pre, e->payload, ep->pre_len);
	if (ep->role == WEFT_ROLE_SERVER)
		causality_request_in(c, h, now_mono);
	else
		causality_request_out(c, h, ep, now_mono);
	ep->used = true;
	match(c, h, now_mono);
	return h;
}

static void response_start(struct correlator *c, struct half *h, const struct weft_event *e,
			   uint64_t now_mono)
{
	struct protocol_result r;

	h->has_resp = true;
	h->resp_seq = e->seq;
	h->resp_start = h->role == WEFT_ROLE_SERVER ? e->ts_ns - e->duration_ns : e->ts_ns;
	protocol_response(h->proto, e->payload, e->payload_len, &r);
	h->status = r.status;
	if (r.error) {
		h->error = true;
		snprintf(h->error_text, sizeof(h->error_text), "%s", r.error_text);
	}
	if (h->role == WEFT_ROLE_SERVER)
		causality_answer(c, h, e->tid, e->coroutine, now_mono);
	else
		causality_response_in(c, h, e->tid, e->coroutine, now_mono);
	/* Joined on the request alone: the responses must agree too (but for
	 * TLS, whose session tickets a client reads inside its first response). */
	if (h->peer && h->peer->has_resp && h->peer->resp_seq != h->resp_seq &&
	    !(e->flags & WEFT_EVF_TLS)) {
		h->peer->peer = NULL;
		h->peer = NULL;
	}
}

/* TLS. The handshake is no exchange: a message that starts with a
 * handshake, change-cipher-spec or alert record is skipped whole. When the
 * library's plaintext is read (uprobes), only calls made inside its reads
 * and writes carry the application's messages: the rest (the handshake,
 * session tickets, alerts) is skipped, and the first such call starts a
 * message whatever came before. Returns whether the call is TLS's own. */
static bool tls_own(struct endpoint *ep, const struct weft_event *e)
{
	const uint8_t *p = e->payload;

	if (e->flags & WEFT_EVF_TLS) {
		if (!ep->tls_plain)
			ep->dir = 0;
		ep->tls_plain = true;
		return false;
	}
	if (ep->tls_plain)
		return true;
	if (ep->tls_skip == e->type)
		return true;
	ep->tls_skip = 0;
	if (ep->dir != e->type && e->payload_len >= 3 && p[0] >= 20 && p[0] <= 22 && p[1] == 3 &&
	    p[2] <= 4) {
		ep->tls_skip = e->type;
		return true;
	}
	return false;
}

/* A TLS library's read returned plaintext: it names the message it came in
 * (a server's request, a client's response), once. */
static void on_plaintext(struct correlator *c, struct endpoint *ep, const struct weft_event *e,
			 uint64_t now_mono)
{
	struct half *h = ep->cur;
	struct protocol_result r;

	if (!h || ep->tls_named || ep->dir != WEFT_EV_RECV)
		return;
	ep->tls_named = true;
	if (ep->role == WEFT_ROLE_SERVER) {
		name_request(ep, h, e->payload, e->payload_len);
	} else if (h->has_resp) {
		protocol_response(h->proto, e->payload, e->payload_len, &r);
		h->status = r.status;
		if (r.error) {
			h->error = true;
			snprintf(h->error_text, sizeof(h->error_text), "%s", r.error_text);
		}
	}
	corr_touch(c, h, now_mono);
}

static void on_message(struct correlator *c, struct endpoint *ep, const struct weft_event *e,
		       uint64_t now_mono)
{
	bool is_request, new_message;
	struct half *h;

	if (tls_own(ep, e))
		return;
	is_request = (ep->role == WEFT_ROLE_CLIENT) == (e->type == WEFT_EV_SEND);
	new_message = ep->dir != e->type;
	if (new_message)
		ep->tls_named = false;
	ep->dir = e->type;
	if (is_request && new_message) {
		h = request_start(c, ep, e, now_mono);
	} else {
		h = ep->cur;
		if (!h)
			return; /* a response whose request came before the sensor */
		if (!is_request && new_message)
			response_start(c, h, e, now_mono);
		else if (e->type == WEFT_EV_RECV) /* more of a message: its reader works for it */
			causality_more_in(c, h, e->tid, e->coroutine, e->ts_ns, now_mono);
	}
	if (!h)
		return;
	if (is_request) {
		if (!new_message && (e->flags & WEFT_EVF_MORE))
			request_more(ep, h, e);
		h->req_len += e->len;
		h->req_end = e->ts_ns;
	} else {
		h->resp_len += e->len;
		h->resp_end = e->ts_ns;
	}
	corr_touch(c, h, now_mono);
}

/* A failed connect is an exchange that never got to send its request. */
static void on_connect_failed(struct correlator *c, struct endpoint *ep, const struct weft_event *e,
			      uint64_t now_mono)
{
	struct half *h = corr_half_new(c, ep, e);

	if (!h)
		return;
	h->req_start = e->ts_ns - e->duration_ns;
	h->req_end = h->resp_end = e->ts_ns;
	h->error = true;
	snprintf(h->error_text, sizeof(h->error_text), "connection %s",
		 weft_connect_result(e->err));
	snprintf(h->request, sizeof(h->request), "connect");
	causality_connect(c, ep, e->pid, e->tid, e->coroutine, h->req_start);
	causality_request_out(c, h, ep, now_mono);
	ep->used = true;
	corr_touch(c, h, now_mono);
}

struct endpoint *corr_endpoint(struct correlator *c, uint32_t host, uint64_t sock_id)
{
	struct ep_key k = {.host = host, .sock_id = sock_id};
	struct endpoint *ep;

	HASH_FIND(hh, c->endpoints, &k, sizeof(k), ep);
	return ep;
}

static struct endpoint *endpoint_get(struct correlator *c, uint32_t host,
				     const struct weft_event *e)
{
	struct ep_key k = {.host = host, .sock_id = e->sock_id};
	struct endpoint *ep;

	HASH_FIND(hh, c->endpoints, &k, sizeof(k), ep);
	if (ep)
		return ep;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	ep->key = k;
	ep->role = weft_role_infer(e);
	ep->family = e->family;
	ep->sport = e->sport;
	ep->dport = e->dport;
	memcpy(ep->saddr, e->saddr, 16);
	memcpy(ep->daddr, e->daddr, 16);
	HASH_ADD(hh, c->endpoints, key, sizeof(k), ep);
	c->stats.endpoints++;
	return ep;
}

static void endpoint_free(struct correlator *c, struct endpoint *ep)
{
	if (ep->cur) {
		if (ep->cur->role == WEFT_ROLE_SERVER)
			causality_closed(c, ep->cur);
		ep->cur->ep = NULL;
	}
	HASH_DEL(c->endpoints, ep);
	c->stats.endpoints--;
	mq_conn_free(ep->mq);
	free(ep);
}

void correlator__feed(struct correlator *c, const char *host, const struct weft_event *e,
		      uint64_t now_mono)
{
	uint32_t hid = corr_host_id(c, host);
	struct endpoint *ep;

	c->stats.events++;
	if (e->type == WEFT_EV_WAKE) { /* no connection: goroutines of a Go program */
		if (e->flags & WEFT_EVF_ENDED)
			causality_coro_end(c, hid, e->pid, e->coroutine, now_mono);
		else
			causality_wake(c, hid, e->pid, e->coroutine, e->sock_id, e->ts_ns,
				       now_mono);
		return;
	}
	ep = endpoint_get(c, hid, e);
	if (!ep)
		return;
	ep->last_mono = now_mono;
	if (!ep->sport && e->sport) /* learnt late for a connect in progress */
		ep->sport = e->sport;
	switch (e->type) {
	case WEFT_EV_SEND:
	case WEFT_EV_RECV:
		if (mq_claims(c, ep, e))
			mq_feed(c, ep, e, now_mono);
		else
			on_message(c, ep, e, now_mono);
		break;
	case WEFT_EV_PLAINTEXT:
		on_plaintext(c, ep, e, now_mono);
		break;
	case WEFT_EV_CONNECT:
		if (e->err)
			on_connect_failed(c, ep, e, now_mono);
		else if (ep->role == WEFT_ROLE_CLIENT)
			causality_connect(c, ep, e->pid, e->tid, e->coroutine,
					  e->ts_ns - e->duration_ns);
		break;
	case WEFT_EV_RESET:
		if (ep->cur) {
			ep->cur->error = true;
			snprintf(ep->cur->error_text, sizeof(ep->cur->error_text),
				 "connection reset");
			corr_touch(c, ep->cur, now_mono);
		}
		break;
	case WEFT_EV_CLOSE:
		if (ep->cur && !ep->cur->has_resp && ep->role == WEFT_ROLE_CLIENT &&
		    ep->cur->req_len) {
			ep->cur->error = true;
			snprintf(ep->cur->error_text, sizeof(ep->cur->error_text),
				 "closed before a response");
			corr_touch(c, ep->cur, now_mono);
		}
		if (ep->cur && ep->cur->role == WEFT_ROLE_SERVER)
			causality_closed(c, ep->cur);
		ep->closed = true;
		ep->closed_mono = now_mono;
		break;
	}
}

/* Forgets closed connections and idle exchanges. */
static void expire(struct correlator *c, uint64_t now_mono)
{
	struct endpoint *ep, *tmp;

	HASH_ITER(hh, c->endpoints, ep, tmp)
	{
		if ((ep->closed && now_mono - ep->closed_mono > ENDPOINT_LINGER_NS) ||
		    (now_mono - ep->last_mono > c->opts.keep_ns))
			endpoint_free(c, ep);
	}
	while (c->all_head && !c->all_head->dirty &&
	       now_mono - c->all_head->touched_mono > c->opts.keep_ns)
		corr_half_free(c, c->all_head);
	mq_expire(c, now_mono);
}

/* Forgets a half before its time (out of the assembly list already). What
 * it was joined to is flagged: its parent may miss a child, its children
 * lost their parent, its other side what hung from it. */
static void flag_and_touch(struct correlator *c, struct half *h, bool incomplete, uint64_t now_mono)
{
	if (h->evicting)
		return; /* going too */
	if (incomplete)
		h->incomplete = true;
	else
		h->uncertain = true;
	corr_touch(c, h, now_mono);
}

static void evict_half(struct correlator *c, struct half *h, uint64_t now_mono)
{
	if (h->parent)
		flag_and_touch(c, h->parent, true, now_mono);
	if (h->peer) {
		flag_and_touch(c, h->peer, false, now_mono);
		if (h->peer->role == WEFT_ROLE_SERVER)
			flag_and_touch(c, h->peer, true, now_mono);
	}
	for (struct half *ch = h->child; ch; ch = ch->sibling)
		flag_and_touch(c, ch, false, now_mono);
	for (struct half *d = h->msg_child; d; d = d->msg_sibling)
		flag_and_touch(c, d, false, now_mono);
	if (!h->peer)
		evicted_note(c, h);
	corr_half_free(c, h);
	c->stats.evicted_exchanges++;
}

/* The least recently touched halves past max: chosen first, taken out of
 * the assembly list in one pass, then forgotten. */
static void evict_halves(struct correlator *c, size_t max, uint64_t now_mono)
{
	size_t n = c->stats.live_halves > max ? c->stats.live_halves - max : 0, k = 0, keep = 0;
	struct half **victims, *h;

	if (!n || !(victims = malloc(n * sizeof(*victims))))
		return;
	for (h = c->all_head; h && k < n; h = h->all_next) {
		h->evicting = true;
		victims[k++] = h;
	}
	for (size_t i = 0; i < c->ndirty; i++) {
		if (c->dirty[i]->evicting)
			c->dirty[i]->dirty = false;
		else
			c->dirty[keep++] = c->dirty[i];
	}
	c->ndirty = keep;
	for (size_t i = 0; i < k; i++)
		evict_half(c, victims[i], now_mono);
	free(victims);
}

/* The bounds of corr_opts.max_exchanges: what was touched least recently
 * goes first. Connections and processes go in the order they came. */
static void bound(struct correlator *c, uint64_t now_mono)
{
	size_t max = c->opts.max_exchanges ? c->opts.max_exchanges : CORR_MAX_EXCHANGES;
	struct endpoint *ep, *etmp;
	struct proc_entry *p, *ptmp;
	size_t scan;

	evict_halves(c, max, now_mono);
	HASH_ITER(hh, c->endpoints, ep, etmp)
	{
		if (HASH_COUNT(c->endpoints) <= max)
			break;
		endpoint_free(c, ep);
		c->stats.evicted_connections++;
	}
	causality_bound(c, max);
	scan = HASH_COUNT(c->procs) > max / 4 ? 2 * (HASH_COUNT(c->procs) - max / 4) + 1024 : 0;
	HASH_ITER(hh, c->procs, p, ptmp)
	{
		if (HASH_COUNT(c->procs) <= max / 4 || !scan--)
			break;
		if (p->nopen)
			continue;
		HASH_DEL(c->procs, p);
		free(p->acked);
		free(p);
		c->stats.evicted_processes++;
	}
	mq_bound(c, max);
}

void correlator__tick(struct correlator *c, uint64_t now_mono)
{
	/* Before assembly: a request that waited long enough for its thread to
	 * answer goes out now as an uncertain root (at the end, all of them). */
	causality_expire(c, now_mono);
	assemble_pass(c, now_mono);
	if (now_mono != UINT64_MAX) {
		expire(c, now_mono);
		calls_expire(c, now_mono);
		bound(c, now_mono);
	}
}

void correlator__stats(const struct correlator *c, struct corr_stats *out)
{
	*out = c->stats;
}

void correlator__free(struct correlator *c)
{
	struct host_entry *h, *htmp;
	struct proc_entry *p, *ptmp;
	struct endpoint *ep, *etmp;

	if (!c)
		return;
	HASH_CLEAR(hh_match, c->match);
	HASH_CLEAR(hh_id, c->by_id);
	while (c->all_head) {
		struct half *x = c->all_head;

		c->all_head = x->all_next;
		x->ct = NULL; /* the threads go below */
		calls_half_free(x);
		free(x);
	}
	calls_free(c);
	HASH_ITER(hh, c->endpoints, ep, etmp)
	{
		HASH_DEL(c->endpoints, ep);
		mq_conn_free(ep->mq);
		free(ep);
	}
	mq_free(c);
	causality_free(c);
	assemble_free(c);
	free(c->evicted_keys);
	HASH_ITER(hh, c->procs, p, ptmp)
	{
		HASH_DEL(c->procs, p);
		free(p->acked);
		free(p);
	}
	HASH_ITER(hh, c->hosts, h, htmp)
	{
		HASH_DEL(c->hosts, h);
		free(h);
	}
	struct service_seen *sv, *stmp;

	HASH_ITER(hh, c->services, sv, stmp)
	{
		HASH_DEL(c->services, sv);
		free(sv);
	}
	free(c->dirty);
	free(c->spans);
	free(c->span_parent_idx);
	free(c);
}

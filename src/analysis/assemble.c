/* Halves to trajectories. A span is one exchange: its client half, its
 * server half, or both once matched. A span's parent is the server half its
 * client half was sent for (causality.c); the trajectory is the tree under
 * the topmost span. A client half still undecided holds its tree back. Trees are emitted when they
 * have been quiet for settle_ns, and emitted again whenever they change (a late host's batch, a
 * response finishing), so the store always holds the latest complete view. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/correlator_int.h"
#include "common/event_util.h"
#include "common/log.h"
#include "common/str.h"

#define MAX_DEPTH 64

static struct half *span_client(struct half *h)
{
	return h->role == WEFT_ROLE_CLIENT ? h : h->peer;
}

static struct half *span_server(struct half *h)
{
	return h->role == WEFT_ROLE_SERVER ? h : h->peer;
}

/* A half of the span above this one, if any: the server half its request
 * was sent for, or the publish of the message it delivers. */
static struct half *span_up(struct half *h)
{
	struct half *cl = span_client(h), *sv = span_server(h);

	if (cl)
		return cl->parent;
	return sv ? sv->msg_parent : NULL;
}

static struct half *span_root(struct half *h)
{
	struct half *p;

	for (int i = 0; i < MAX_DEPTH && (p = span_up(h)); i++)
		h = p;
	return h;
}

uint64_t service_id(const char *host, const char *exe, uint16_t port, const char *addr)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *parts[] = {host, exe, addr};

	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; p && *p; p++)
			h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull;
	}
	h = (h ^ port) * 0x100000001b3ull;
	return h >> 1; /* positive as a signed 64-bit SQL integer */
}

static void service_emit(struct correlator *c, const struct weft_service *svc)
{
	struct service_seen *s;

	HASH_FIND(hh, c->services, &svc->id, sizeof(svc->id), s);
	if (s)
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	s->id = svc->id;
	HASH_ADD(hh, c->services, id, sizeof(s->id), s);
	if (c->sink.service)
		c->sink.service(svc, c->sink.ctx);
}

/* host + executable + port; the executable is the comm until the sensor
 * has told us the process's path. */
static uint64_t service_local(struct correlator *c, uint32_t host, uint32_t pid, const char *comm,
			      uint16_t port)
{
	struct proc_entry *p = corr_proc(c, host, pid);
	struct weft_service svc = {.port = port};

	str_copy(svc.host, sizeof(svc.host), corr_host_name(c, host));
	str_copy(svc.exe, sizeof(svc.exe), p && p->exe[0] ? p->exe : comm);
	str_copy(svc.comm, sizeof(svc.comm), p && p->comm[0] ? p->comm : comm);
	svc.id = service_id(svc.host, svc.exe, port, NULL);
	service_emit(c, &svc);
	return svc.id;
}

static uint64_t service_external_at(struct correlator *c, const char *addr, uint16_t port)
{
	struct weft_service svc = {.port = port, .external = true};

	str_copy(svc.addr, sizeof(svc.addr), addr);
	svc.id = service_id(NULL, NULL, port, svc.addr);
	service_emit(c, &svc);
	return svc.id;
}

static uint64_t service_external(struct correlator *c, uint16_t family, const uint8_t *addr,
				 uint16_t port)
{
	char a[WEFT_ADDR_STRLEN];

	weft_addr_str(family, addr, a);
	return service_external_at(c, a, port);
}

/* The unobserved clients of one service: the first few by address, the rest
 * as one node (address "*"), or a public service would draw a node per
 * client on the map. */
#define EXTERNAL_CLIENTS_MAX 16

struct client_set {
	uint64_t server;
	uint64_t addr[EXTERNAL_CLIENTS_MAX]; /* hashes of the addresses shown apart */
	int n;
	UT_hash_handle hh;
};

static uint64_t external_client(struct correlator *c, uint64_t server, uint16_t family,
				const uint8_t *addr)
{
	char a[WEFT_ADDR_STRLEN];
	struct client_set *set;
	uint64_t k;

	weft_addr_str(family, addr, a);
	k = fnv1a(0xcbf29ce484222325ull, a, strlen(a));
	HASH_FIND(hh, c->ext_clients, &server, sizeof(server), set);
	if (!set && (set = calloc(1, sizeof(*set)))) {
		set->server = server;
		HASH_ADD(hh, c->ext_clients, server, sizeof(set->server), set);
	}
	for (int i = 0; set && i < set->n; i++)
		if (set->addr[i] == k)
			return service_external_at(c, a, 0);
	if (set && set->n < EXTERNAL_CLIENTS_MAX) {
		set->addr[set->n++] = k;
		return service_external_at(c, a, 0);
	}
	return service_external_at(c, "*", 0);
}

void assemble_free(struct correlator *c)
{
	struct client_set *set, *tmp;

	HASH_ITER(hh, c->ext_clients, set, tmp)
	{
		HASH_DEL(c->ext_clients, set);
		free(set);
	}
}

/* The service a client half calls from: the one its thread serves, or the
 * one its process serves (a hand-off between threads), or the process
 * itself when it serves nothing (a load generator, a batch job). */
static uint64_t client_service(struct correlator *c, struct half *cl)
{
	struct proc_entry *p;

	if (cl->parent)
		return service_local(c, cl->parent->host, cl->parent->pid, cl->parent->comm,
				     cl->parent->sport);
	p = corr_proc(c, cl->host, cl->pid);
	return service_local(c, cl->host, cl->pid, cl->comm, p ? p->served_port : 0);
}

static void fill_side(struct correlator *c, struct weft_side *s, const struct half *h)
{
	s->observed = true;
	str_copy(s->host, sizeof(s->host), corr_host_name(c, h->host));
	s->pid = h->pid;
	s->tid = h->tid;
	memcpy(s->comm, h->comm, sizeof(s->comm));
	weft_addr_str(h->family, h->saddr, s->addr);
	s->port = h->sport;
	s->start_ns = h->req_start;
	s->end_ns = h->has_resp ? h->resp_end : h->req_end;
}

static struct weft_span *span_slot(struct correlator *c, size_t n)
{
	if (n >= c->spans_cap) {
		size_t cap = c->spans_cap ? c->spans_cap * 2 : 64;
		struct weft_span *s = realloc(c->spans, cap * sizeof(*s));
		int *pi = realloc(c->span_parent_idx, cap * sizeof(*pi));

		if (s)
			c->spans = s;
		if (pi)
			c->span_parent_idx = pi;
		if (!s || !pi)
			return NULL;
		c->spans_cap = cap;
	}
	memset(&c->spans[n], 0, sizeof(c->spans[n]));
	return &c->spans[n];
}

struct walk {
	size_t n;
	int depth;
	bool settled;
	uint64_t now;
	uint64_t old_ids[32]; /* trajectories emitted earlier for parts of this tree */
	int nold;
};

static void note_old(struct walk *w, const struct half *h)
{
	if (!h->emitted_root)
		return;
	for (int i = 0; i < w->nold; i++)
		if (w->old_ids[i] == h->emitted_root)
			return;
	if (w->nold < 32)
		w->old_ids[w->nold++] = h->emitted_root;
}

/* The method calls in a server half, as spans under its span: a call inside
 * another call is that one's child. Only the server side is observed. */
static void walk_calls(struct correlator *c, struct walk *w, struct half *sv, size_t sv_idx,
		       int depth)
{
	size_t open[MAX_DEPTH]; /* the enclosing calls' spans, outermost first */
	int nopen = 0;

	calls_adopt(c, sv);
	for (const struct mcall *m = sv->calls; m; m = m->next) {
		size_t idx = w->n, parent;
		struct weft_span *s;
		uint64_t h;

		while (nopen && c->spans[open[nopen - 1]].server.end_ns < m->end_ns)
			nopen--;
		parent = nopen ? open[nopen - 1] : sv_idx;
		if (!(s = span_slot(c, w->n)))
			return;
		w->n++;
		c->span_parent_idx[idx] = (int)parent;
		/* the same call keeps its span id when the trajectory is emitted again */
		h = fnv1a(sv->id, &m->start_ns, sizeof(m->start_ns));
		h = fnv1a(h, &m->end_ns, sizeof(m->end_ns));
		h = fnv1a(h, m->name, strlen(m->name)) >> 1; /* positive in SQL */
		s->id = h ? h : 1;
		s->parent = c->spans[parent].id;
		s->client_service = s->server_service = c->spans[sv_idx].server_service;
		s->display_offset_ns = c->spans[sv_idx].display_offset_ns;
		s->server.observed = true;
		str_copy(s->server.host, sizeof(s->server.host), corr_host_name(c, sv->host));
		s->server.pid = m->pid;
		s->server.tid = m->tid;
		memcpy(s->server.comm, sv->comm, sizeof(s->server.comm));
		s->server.start_ns = m->start_ns;
		s->server.end_ns = m->end_ns;
		s->protocol = WEFT_PROTO_METHOD;
		s->link = WEFT_LINK_METHOD;
		str_copy(s->request, sizeof(s->request), m->name);
		if (depth + 1 + nopen > w->depth)
			w->depth = depth + 1 + nopen;
		if (nopen < MAX_DEPTH)
			open[nopen++] = idx;
	}
}

/* Depth-first: parents before children in c->spans. */
static void walk_span(struct correlator *c, struct walk *w, struct half *cl, struct half *sv,
		      int parent_idx, int depth, int64_t client_offset)
{
	struct weft_span *s;
	size_t idx = w->n;

	if (depth > MAX_DEPTH || !(s = span_slot(c, w->n)))
		return;
	w->n++;
	c->span_parent_idx[idx] = parent_idx;
	if (depth > w->depth)
		w->depth = depth;
	for (int k = 0; k < 2; k++) {
		struct half *h = k ? sv : cl;

		if (!h)
			continue;
		if ((w->now != UINT64_MAX && w->now - h->touched_mono < c->opts.settle_ns) ||
		    h->undecided)
			w->settled = false;
		note_old(w, h);
	}
	s->id = cl ? cl->id : sv->id;
	s->parent = parent_idx >= 0 ? c->spans[parent_idx].id : 0;
	if (cl) {
		fill_side(c, &s->client, cl);
		s->client_service = client_service(c, cl);
		s->uncertain = cl->uncertain;
		s->link = cl->parent ? cl->link : cl->uncertain ? WEFT_LINK_UNDECIDED : 0;
	}
	if (sv) {
		fill_side(c, &s->server, sv);
		s->incomplete = sv->incomplete;
		s->uncertain |= sv->incomplete;
		s->server_service = service_local(c, sv->host, sv->pid, sv->comm, sv->sport);
	} else {
		s->server_service = service_external(c, cl->family, cl->daddr, cl->dport);
	}
	if (!cl) /* its client evicted, or a delivery whose publish is a guess */
		s->uncertain |= sv->uncertain;
	if (!cl && sv->msg_parent) /* a delivery: the broker passed it on */
		s->link = sv->link;
	if (!cl && sv->proto == WEFT_PROTO_AMQP) /* the broker delivering a message */
		s->client_service = service_external(c, sv->family, sv->daddr, sv->dport);
	else if (!cl) /* a client no sensor saw */
		s->client_service = external_client(c, s->server_service, sv->family, sv->daddr);

	/* Skew: centre the server's interval in the client's, as NTP assumes
	 * the two directions of the network take equally long. */
	s->display_offset_ns = client_offset;
	if (cl && sv)
		s->display_offset_ns += (int64_t)((s->client.start_ns / 2 + s->client.end_ns / 2) -
						  (s->server.start_ns / 2 + s->server.end_ns / 2));

	for (int k = 0; k < 2; k++) {
		struct half *h = k ? sv : cl;

		if (!h)
			continue;
		if (!s->request[0] && h->request[0]) {
			str_copy(s->request, sizeof(s->request), h->request);
			s->protocol = h->proto;
		}
		if (h->status)
			s->status = h->status;
		if (h->error && !s->error) {
			s->error = true;
			str_copy(s->error_text, sizeof(s->error_text), h->error_text);
		}
		if (h->req_len > s->request_bytes)
			s->request_bytes = h->req_len;
		if (h->resp_len > s->response_bytes)
			s->response_bytes = h->resp_len;
	}
	for (struct half *d = cl ? cl->msg_child : NULL; d; d = d->msg_sibling)
		walk_span(c, w, NULL, d, (int)idx, depth + 1, c->spans[idx].display_offset_ns);
	if (!sv)
		return;
	for (struct half *ch = sv->child; ch; ch = ch->sibling)
		walk_span(c, w, ch, ch->peer, (int)idx, depth + 1, c->spans[idx].display_offset_ns);
	walk_calls(c, w, sv, idx, depth);
}

static uint64_t span_duration(const struct weft_span *s)
{
	const struct weft_side *d = s->server.observed ? &s->server : &s->client;

	return d->end_ns > d->start_ns ? d->end_ns - d->start_ns : 0;
}

static uint64_t client_duration(const struct weft_span *s)
{
	if (!s->client.observed)
		return span_duration(s);
	return s->client.end_ns > s->client.start_ns ? s->client.end_ns - s->client.start_ns : 0;
}

/* The first root-cause answer: the span with the largest own time and the
 * hop with the largest network time. */
static void root_cause(struct correlator *c, struct weft_trajectory *t)
{
	uint64_t best_own = 0, best_net = 0;
	uint64_t *child_sum = calloc((size_t)(t->nspans > 0 ? t->nspans : 1), sizeof(*child_sum));

	if (!child_sum)
		return;
	for (int i = 1; i < t->nspans; i++)
		child_sum[c->span_parent_idx[i]] += client_duration(&t->spans[i]);
	t->slowest_span = t->spans[0].id;
	for (int i = 0; i < t->nspans; i++) {
		const struct weft_span *s = &t->spans[i];
		uint64_t d = span_duration(s);
		uint64_t own = d > child_sum[i] ? d - child_sum[i] : 0;

		if (own > best_own) {
			best_own = own;
			t->slowest_span = s->id;
		}
		if (s->client.observed && s->server.observed) {
			uint64_t cd = client_duration(s);
			uint64_t net = cd > d ? cd - d : 0;

			if (net > best_net || !t->slowest_hop) {
				best_net = net;
				t->slowest_hop = s->id;
			}
		}
	}
	free(child_sum);
}

/* Emits the tree under root; returns false when it is not quiet yet. */
static bool emit_tree(struct correlator *c, struct half *root, uint64_t now)
{
	struct walk w = {.settled = true, .now = now};
	struct half *cl = span_client(root), *sv = span_server(root);
	struct weft_trajectory t = {0};
	const struct weft_span *r;

	walk_span(c, &w, cl, sv, -1, 1, 0);
	if (!w.settled || !w.n)
		return false;
	t.spans = c->spans;
	t.nspans = (int)w.n;
	t.depth = w.depth;
	r = &t.spans[0];
	t.id = r->id;
	t.start_ns = r->client.observed ? r->client.start_ns : r->server.start_ns;
	t.duration_ns = client_duration(r);
	t.root_service = r->server_service;
	for (int i = 0; i < t.nspans; i++) {
		t.error |= t.spans[i].error;
		t.uncertain |= t.spans[i].uncertain;
	}
	root_cause(c, &t);
	for (int i = 0; i < w.nold; i++) {
		if (w.old_ids[i] == t.id)
			t.revised = true;
		else if (c->sink.retract)
			c->sink.retract(w.old_ids[i], c->sink.ctx);
	}
	if (c->sink.trajectory)
		c->sink.trajectory(&t, c->sink.ctx);
	c->stats.trajectories++;
	if (cl) {
		cl->emitted_root = t.id;
		cl->emitted_gen = c->gen;
	}
	if (sv) {
		sv->emitted_root = t.id;
		sv->emitted_gen = c->gen;
	}
	return true;
}

/* Clears emitted_root below a span: those ids were retracted. */
static void clear_below(struct half *cl, struct half *sv, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	for (struct half *d = cl ? cl->msg_child : NULL; d; d = d->msg_sibling) {
		d->emitted_root = 0;
		clear_below(NULL, d, depth + 1);
	}
	for (struct half *ch = sv ? sv->child : NULL; ch; ch = ch->sibling) {
		ch->emitted_root = 0;
		if (ch->peer)
			ch->peer->emitted_root = 0;
		clear_below(ch, ch->peer, depth + 1);
	}
}

void assemble_pass(struct correlator *c, uint64_t now)
{
	size_t keep = 0;

	c->gen++;
	for (size_t i = 0; i < c->ndirty; i++) {
		struct half *d = c->dirty[i], *root;

		if (now != UINT64_MAX && now - d->touched_mono < c->opts.settle_ns) {
			c->dirty[keep++] = d; /* still changing */
			continue;
		}
		root = span_root(d);
		if (root->emitted_gen == c->gen || emit_tree(c, root, now)) {
			clear_below(span_client(root), span_server(root), 1);
			d->dirty = false;
		} else {
			c->dirty[keep++] = d;
		}
	}
	c->ndirty = keep;
}

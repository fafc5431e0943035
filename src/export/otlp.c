/* Trajectories to OTLP/JSON (see otlp.h for the model). The protocol
 * mapping is a table: each row names a weft protocol and the OpenTelemetry
 * semantic conventions its spans follow; a protocol without a row is
 * exported with weft's own attributes only. */
#include "export/otlp.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "export/textw.h"

#include "version.h"

enum otlp_kind {
	OTLP_KIND_INTERNAL = 1,
	OTLP_KIND_SERVER = 2,
	OTLP_KIND_CLIENT = 3,
};

#define OTLP_STATUS_ERROR 2

enum otlp_sem {
	OTLP_SEM_NONE = 0, /* weft's attributes only */
	OTLP_SEM_HTTP,
	OTLP_SEM_DB,
	OTLP_SEM_MESSAGING,
	OTLP_SEM_CODE, /* a method call inside a process */
};

/* Rows are found by the protocol's name (weft_protocol_name), not by its
 * number: a protocol added to weft's enum under a name listed here (amqp)
 * is mapped without a change in this file. */
static const struct proto_map {
	const char *weft;   /* weft_protocol_name() */
	enum otlp_sem sem;  /* which conventions */
	const char *system; /* db.system, messaging.system */
} proto_maps[] = {
    {"http", OTLP_SEM_HTTP, NULL},
    {"postgresql", OTLP_SEM_DB, "postgresql"},
    {"mysql", OTLP_SEM_DB, "mysql"},
    {"redis", OTLP_SEM_DB, "redis"},
    {"amqp", OTLP_SEM_MESSAGING, "rabbitmq"},
    {"method", OTLP_SEM_CODE, NULL},
};

static const struct proto_map *proto_find(uint8_t proto)
{
	static const struct proto_map none = {"tcp", OTLP_SEM_NONE, NULL};
	const char *name = weft_protocol_name(proto);

	for (size_t i = 0; i < sizeof(proto_maps) / sizeof(proto_maps[0]); i++)
		if (!strcmp(proto_maps[i].weft, name))
			return &proto_maps[i];
	return &none;
}

/* ---- ids ------------------------------------------------------------------------------------ */

void otlp_trace_id(uint64_t trajectory, char *buf)
{
	snprintf(buf, 33, "%016" PRIx64 "%016" PRIx64, (uint64_t)0, trajectory);
}

void otlp_span_id(uint64_t id, char *buf)
{
	snprintf(buf, 17, "%016" PRIx64, id);
}

/* ---- the queued copy ------------------------------------------------------------------------ */

int otlp_span_count(const struct weft_trajectory *t)
{
	int n = 0;

	for (int i = 0; i < t->nspans; i++)
		n += t->spans[i].client.observed + t->spans[i].server.observed;
	return n;
}

/* Adds id's entry to found[] unless it is there or unknown. */
static void svc_collect(const struct svc_table *svcs, uint64_t id, const struct svc_entry **found,
			int *n)
{
	const struct svc_entry *e = svcs ? svc_table__get(svcs, id) : NULL;

	if (!e)
		return;
	for (int i = 0; i < *n; i++)
		if (found[i] == e)
			return;
	found[(*n)++] = e;
}

struct otlp_traj *otlp_traj_copy(const struct weft_trajectory *t, const struct svc_table *svcs)
{
	size_t nspans = t->nspans > 0 ? (size_t)t->nspans : 0, bytes;
	const struct svc_entry *few[64], **found = few; /* most trajectories name a few */
	struct otlp_traj *q = NULL;
	int nfound = 0;

	if (2 * nspans > sizeof(few) / sizeof(few[0]))
		found = calloc(2 * nspans, sizeof(*found));
	if (!found)
		goto cleanup;
	for (size_t i = 0; i < nspans; i++) {
		svc_collect(svcs, t->spans[i].client_service, found, &nfound);
		svc_collect(svcs, t->spans[i].server_service, found, &nfound);
	}
	bytes = sizeof(*q) + nspans * sizeof(struct weft_span) +
		(size_t)nfound * sizeof(struct weft_service);
	q = malloc(bytes);
	if (!q)
		goto cleanup;
	q->next = NULL;
	q->bytes = bytes;
	q->t = *t;
	q->t.spans = (struct weft_span *)(q + 1);
	memcpy(q->t.spans, t->spans, nspans * sizeof(struct weft_span));
	q->nout = otlp_span_count(t);
	q->nsvcs = nfound;
	q->svcs = (struct weft_service *)(q->t.spans + nspans);
	for (int i = 0; i < nfound; i++)
		q->svcs[i] = found[i]->svc;
cleanup:
	if (!q)
		errno = ENOMEM;
	if (found != few)
		free(found);
	return q;
}

static const struct weft_service *traj_svc(const struct otlp_traj *q, uint64_t id)
{
	for (int i = 0; i < q->nsvcs; i++)
		if (q->svcs[i].id == id)
			return &q->svcs[i];
	return NULL;
}

/* ---- attributes ----------------------------------------------------------------------------- */

/* An attributes array being written. */
struct attrs {
	struct textw *w;
	int n;
};

static void attr_key(struct attrs *a, const char *key, const char *type)
{
	textw_cstr(a->w, a->n++ ? ",{\"key\":\"" : "{\"key\":\"");
	textw_cstr(a->w, key); /* keys are literals: nothing to escape */
	textw_cstr(a->w, "\",\"value\":{\"");
	textw_cstr(a->w, type);
	textw_cstr(a->w, "\":");
}

static void attr_strn(struct attrs *a, const char *key, const char *v, size_t n)
{
	attr_key(a, key, "stringValue");
	textw_json(a->w, v, n);
	textw_cstr(a->w, "}}");
}

static void attr_str(struct attrs *a, const char *key, const char *v)
{
	attr_strn(a, key, v, strlen(v));
}

/* 64-bit integers are strings in the protobuf JSON mapping. */
static void attr_int(struct attrs *a, const char *key, int64_t v)
{
	attr_key(a, key, "intValue");
	textw_char(a->w, '"');
	textw_i64(a->w, v);
	textw_cstr(a->w, "\"}}");
}

static void attr_bool(struct attrs *a, const char *key, bool v)
{
	attr_key(a, key, "boolValue");
	textw_cstr(a->w, v ? "true}}" : "false}}");
}

/* "key":"<ns>" with the comma before it; negative times are 0. */
static void time_field(struct textw *w, const char *key, int64_t ns)
{
	textw_cstr(w, key);
	textw_u64(w, ns > 0 ? (uint64_t)ns : 0);
	textw_char(w, '"');
}

static void id_field(struct textw *w, const char *key, uint64_t id)
{
	char buf[17];

	otlp_span_id(id, buf);
	textw_cstr(w, key);
	textw_raw(w, buf, 16);
	textw_char(w, '"');
}

/* ---- resources ------------------------------------------------------------------------------ */

struct res_key {
	uint64_t svc;
	uint64_t pid; /* 64 bits: no padding inside the hashed key */
};

/* One resource's part of the document: its attributes, then its spans. */
struct res {
	struct res_key key;
	struct textw head;  /* {"resource":...,"scopeSpans":[{"scope":...,"spans":[ */
	struct textw spans; /* its spans, comma-separated */
	UT_hash_handle hh;
};

struct build {
	struct res *by_key; /* in order of first use (uthash keeps it) */
	struct textw attrs; /* scratch: one span's attributes */
};

static void resource_head(struct textw *w, const struct weft_service *svc,
			  const struct weft_side *side, uint64_t svc_id)
{
	struct attrs a = {.w = w};
	char name[WEFT_EXE_LEN], id[17];
	const char *exe = svc && svc->exe[0] ? svc->exe : side->comm, *base = strrchr(exe, '/');

	if (svc)
		svc_short_name(svc, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", side->comm);
	textw_cstr(w, "{\"resource\":{\"attributes\":[");
	attr_str(&a, "service.name", name[0] ? name : "unknown");
	attr_str(&a, "host.name", side->host);
	attr_int(&a, "process.pid", side->pid);
	attr_str(&a, "process.executable.name", base ? base + 1 : exe);
	if (base)
		attr_str(&a, "process.executable.path", exe);
	if (svc && svc->port)
		attr_int(&a, "server.port", svc->port);
	otlp_span_id(svc_id, id);
	attr_str(&a, "weft.service.id", id);
	textw_cstr(w, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"weft\",\"version\":");
	textw_json(w, WEFT_VERSION, strlen(WEFT_VERSION));
	textw_cstr(w, "},\"spans\":[");
}

/* The resource that (service, side's process) makes, added the first time. */
static struct res *resource_of(struct build *b, const struct otlp_traj *q, uint64_t svc_id,
			       const struct weft_side *side)
{
	struct res_key key = {.svc = svc_id, .pid = side->pid};
	struct res *r;

	HASH_FIND(hh, b->by_key, &key, sizeof(key), r);
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->key = key;
	resource_head(&r->head, traj_svc(q, svc_id), side, svc_id);
	HASH_ADD(hh, b->by_key, key, sizeof(r->key), r);
	return r;
}

/* ---- protocol conventions ------------------------------------------------------------------- */

/* The request text's first word and the rest after one space. */
static size_t first_word(const char *s, const char **rest)
{
	size_t n = strcspn(s, " ");

	*rest = s[n] ? s + n + 1 : s + n;
	return n;
}

static void http_attrs(struct attrs *attrs, const struct weft_span *s, char *name, size_t cap)
{
	const char *target, *q;
	size_t m = first_word(s->request, &target), p;

	if (!m) {
		snprintf(name, cap, "%s", "HTTP");
		return;
	}
	attr_strn(attrs, "http.request.method", s->request, m);
	p = strcspn(target, "?");
	if (p)
		attr_strn(attrs, "url.path", target, p);
	q = target[p] == '?' ? target + p + 1 : NULL;
	if (q && *q)
		attr_str(attrs, "url.query", q);
	if (s->status)
		attr_int(attrs, "http.response.status_code", s->status);
	/* "GET /order": the query string left out of the name */
	snprintf(name, cap, "%.*s%s%.*s", (int)m, s->request, p ? " " : "", (int)p, target);
}

/* Request texts: "QUERY <sql>" and "PARSE <sql>" (PostgreSQL, MySQL),
 * "REDIS <COMMAND>", or a message name ("BIND", "STARTUP"). */
static void db_attrs(struct attrs *attrs, const struct proto_map *pm, const struct weft_span *s,
		     char *name, size_t cap)
{
	const char *rest, *op = s->request;
	size_t m = first_word(s->request, &rest), opn;

	attr_str(attrs, "db.system", pm->system);
	if ((m == 5 && (!strncmp(s->request, "QUERY", 5) || !strncmp(s->request, "PARSE", 5))) &&
	    *rest) {
		attr_str(attrs, "db.statement", rest);
		op = rest;
	} else if (m == 5 && !strncmp(s->request, "REDIS", 5) && *rest) {
		op = rest;
	}
	opn = strcspn(op, " \t\r\n(;");
	if (op != s->request && opn) {
		char word[32];
		size_t k;

		for (k = 0; k < opn && k + 1 < sizeof(word); k++)
			word[k] = (char)toupper((unsigned char)op[k]);
		word[k] = '\0';
		attr_str(attrs, "db.operation", word);
		snprintf(name, cap, "%s", word);
	} else {
		snprintf(name, cap, "%s", s->request[0] ? s->request : pm->system);
	}
}

/* Request texts start with the operation: "publish ...", "deliver ...". */
static void messaging_attrs(struct attrs *attrs, const struct proto_map *pm,
			    const struct weft_span *s, char *name, size_t cap)
{
	const char *rest;
	size_t m = first_word(s->request, &rest);
	char op[16];
	size_t k;

	attr_str(attrs, "messaging.system", pm->system);
	for (k = 0; k < m && k + 1 < sizeof(op); k++)
		op[k] = (char)tolower((unsigned char)s->request[k]);
	op[k] = '\0';
	if (!strcmp(op, "publish") || !strcmp(op, "deliver") || !strcmp(op, "receive"))
		attr_str(attrs, "messaging.operation", op);
	snprintf(name, cap, "%s", s->request[0] ? s->request : pm->system);
}

/* "com.shop.Orders.price": code.namespace and code.function. */
static void code_attrs(struct attrs *attrs, const struct weft_span *s, char *name, size_t cap)
{
	const char *dot = strrchr(s->request, '.');

	if (dot && dot > s->request) {
		attr_strn(attrs, "code.namespace", s->request, (size_t)(dot - s->request));
		attr_str(attrs, "code.function", dot + 1);
	} else if (s->request[0]) {
		attr_str(attrs, "code.function", s->request);
	}
	snprintf(name, cap, "%s", s->request[0] ? s->request : "method");
}

/* The protocol's attributes into attrs and the span's name into name;
 * port: the server's, for a name when there is nothing better. */
static void protocol_attrs(struct attrs *attrs, const struct weft_span *s, uint16_t port,
			   char *name, size_t cap)
{
	const struct proto_map *pm = proto_find(s->protocol);

	switch (pm->sem) {
	case OTLP_SEM_HTTP:
		http_attrs(attrs, s, name, cap);
		return;
	case OTLP_SEM_DB:
		db_attrs(attrs, pm, s, name, cap);
		return;
	case OTLP_SEM_MESSAGING:
		messaging_attrs(attrs, pm, s, name, cap);
		return;
	case OTLP_SEM_CODE:
		code_attrs(attrs, s, name, cap);
		return;
	case OTLP_SEM_NONE:
		break;
	}
	if (s->request[0])
		snprintf(name, cap, "%s", s->request);
	else
		snprintf(name, cap, "%s :%u", pm->weft, port);
}

/* ---- spans ---------------------------------------------------------------------------------- */

struct id_idx {
	uint64_t id;
	int idx;
};

static int id_idx_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct id_idx *)a)->id, y = ((const struct id_idx *)b)->id;

	return x < y ? -1 : x > y;
}

/* The parent weft span of s, NULL at the root or when it is not in t. */
static const struct weft_span *parent_of(const struct weft_trajectory *t,
					 const struct id_idx *index, const struct weft_span *s)
{
	struct id_idx key = {.id = s->parent}, *hit;

	if (!s->parent)
		return NULL;
	hit = bsearch(&key, index, (size_t)t->nspans, sizeof(*index), id_idx_cmp);
	return hit ? &t->spans[hit->idx] : NULL;
}

/* The OTLP span id a child of weft span p hangs from: p's server side, or
 * its client side when it has no server side. */
static uint64_t parent_side_id(const struct weft_span *p, uint64_t parent_id)
{
	if (!p) /* not in the tree: a weft parent is a server half */
		return parent_id | OTLP_SERVER_SIDE;
	return p->server.observed ? p->id | OTLP_SERVER_SIDE : p->id;
}

/* What both sides of a span carry beyond the protocol's conventions. */
static void weft_attrs(struct attrs *attrs, const struct weft_span *s, bool linked_side)
{
	char id[17];
	const char *link = weft_link_name(s->link);

	otlp_span_id(s->id, id);
	attr_str(attrs, "weft.span_id", id);
	attr_str(attrs, "weft.protocol", weft_protocol_name(s->protocol));
	/* the side whose parent was decided by causality carries how */
	if (linked_side && link)
		attr_str(attrs, "weft.link", link);
	attr_bool(attrs, "weft.uncertain", s->uncertain);
	attr_bool(attrs, "weft.incomplete", s->incomplete);
	if (s->request_bytes)
		attr_int(attrs, "weft.request.bytes", (int64_t)s->request_bytes);
	if (s->response_bytes)
		attr_int(attrs, "weft.response.bytes", (int64_t)s->response_bytes);
}

/* Where each side says the other is. */
static void peer_attrs(struct attrs *attrs, const struct otlp_traj *q, const struct weft_span *s,
		       bool server_side)
{
	const struct weft_service *peer =
	    traj_svc(q, server_side ? s->client_service : s->server_service);
	char name[WEFT_EXE_LEN];

	if (server_side) {
		if (s->client.observed && s->client.addr[0]) {
			attr_str(attrs, "client.address", s->client.addr);
			attr_int(attrs, "client.port", s->client.port);
		} else if (peer && peer->external && peer->addr[0]) {
			attr_str(attrs, "client.address", peer->addr);
		}
		if (s->server.addr[0])
			attr_str(attrs, "server.address", s->server.addr);
		attr_int(attrs, "server.port", s->server.port);
	} else {
		if (s->server.observed && s->server.addr[0])
			attr_str(attrs, "server.address", s->server.addr);
		else if (peer && peer->addr[0])
			attr_str(attrs, "server.address", peer->addr);
		if (s->server.observed)
			attr_int(attrs, "server.port", s->server.port);
		else if (peer && peer->port)
			attr_int(attrs, "server.port", peer->port);
		if (peer) {
			svc_short_name(peer, name, sizeof(name));
			if (name[0])
				attr_str(attrs, "peer.service", name);
		}
	}
	attr_int(attrs, "thread.id", server_side ? s->server.tid : s->client.tid);
	attr_str(attrs, "network.transport", "tcp");
}

/* One OTLP span for one side of s, into w. */
static void side_write(struct build *b, struct textw *w, const struct otlp_traj *q,
		       const struct weft_span *s, const struct weft_span *p, bool server_side)
{
	const struct weft_side *side = server_side ? &s->server : &s->client;
	struct attrs a = {.w = &b->attrs};
	bool method = s->protocol == WEFT_PROTO_METHOD;
	const struct weft_service *peer = traj_svc(q, s->server_service);
	/* a client side runs on its parent's host: the parent's offset */
	int64_t off = server_side ? s->display_offset_ns : p ? p->display_offset_ns : 0;
	int64_t start = (int64_t)side->start_ns + off, end = (int64_t)side->end_ns + off;
	uint64_t parent = 0;
	char name[WEFT_REQUEST_LEN + 16];

	if (server_side && s->client.observed)
		parent = s->id;
	else if (s->parent)
		parent = parent_side_id(p, s->parent);
	b->attrs.len = 0;
	protocol_attrs(&a, s,
		       s->server.observed ? s->server.port
		       : peer		  ? peer->port
					  : 0,
		       name, sizeof(name));
	if (!method)
		peer_attrs(&a, q, s, server_side);
	else
		attr_int(&a, "thread.id", side->tid);
	weft_attrs(&a, s, server_side ? !s->client.observed : true);

	textw_cstr(w,
		   w->len ? ",{\"traceId\":\"0000000000000000" : "{\"traceId\":\"0000000000000000");
	id_field(w, "", q->t.id);
	id_field(w, ",\"spanId\":\"", server_side ? s->id | OTLP_SERVER_SIDE : s->id);
	if (parent)
		id_field(w, ",\"parentSpanId\":\"", parent);
	textw_cstr(w, ",\"name\":");
	textw_json(w, name, strlen(name));
	textw_cstr(w, method ? ",\"kind\":1" : server_side ? ",\"kind\":2" : ",\"kind\":3");
	time_field(w, ",\"startTimeUnixNano\":\"", start);
	time_field(w, ",\"endTimeUnixNano\":\"", end > start ? end : start);
	textw_cstr(w, ",\"attributes\":[");
	textw_raw(w, b->attrs.p ? b->attrs.p : "", b->attrs.len);
	textw_char(w, ']');
	if (s->error) {
		textw_cstr(w, ",\"status\":{\"code\":2,\"message\":");
		textw_json(w, s->error_text, strnlen(s->error_text, sizeof(s->error_text)));
		textw_char(w, '}');
	}
	textw_char(w, '}');
}

static int add_traj(struct build *b, const struct otlp_traj *q)
{
	const struct weft_trajectory *t = &q->t;
	struct id_idx *index = calloc((size_t)(t->nspans > 0 ? t->nspans : 1), sizeof(*index));

	if (!index)
		return -ENOMEM;
	for (int i = 0; i < t->nspans; i++)
		index[i] = (struct id_idx){.id = t->spans[i].id, .idx = i};
	qsort(index, (size_t)t->nspans, sizeof(*index), id_idx_cmp);
	for (int i = 0; i < t->nspans; i++) {
		const struct weft_span *s = &t->spans[i], *p = parent_of(t, index, s);

		for (int k = 0; k < 2; k++) {
			const struct weft_side *side = k ? &s->server : &s->client;
			struct res *r;

			if (!side->observed)
				continue;
			r = resource_of(b, q, k ? s->server_service : s->client_service, side);
			if (!r) {
				free(index);
				return -ENOMEM;
			}
			side_write(b, &r->spans, q, s, p, k);
		}
	}
	free(index);
	return 0;
}

char *otlp_encode(const struct otlp_traj *list, int max, size_t *len)
{
	struct build b = {0};
	struct textw out = {0};
	struct res *r, *tmp;
	int n = 0, err = 0;

	for (const struct otlp_traj *q = list; q && !err && (!max || n < max); q = q->next, n++)
		err = add_traj(&b, q);
	textw_cstr(&out, "{\"resourceSpans\":[");
	n = 0;
	HASH_ITER(hh, b.by_key, r, tmp)
	{
		if (n++)
			textw_char(&out, ',');
		textw_raw(&out, r->head.p ? r->head.p : "", r->head.len);
		textw_raw(&out, r->spans.p ? r->spans.p : "", r->spans.len);
		textw_cstr(&out, "]}]}");
		err |= r->head.oom || r->spans.oom;
		HASH_DEL(b.by_key, r);
		textw_free(&r->head);
		textw_free(&r->spans);
		free(r);
	}
	textw_cstr(&out, "]}");
	err |= b.attrs.oom;
	textw_free(&b.attrs);
	if (err) {
		textw_free(&out);
		return NULL;
	}
	return textw_take(&out, len);
}

/* Simulated hosts for the correlator's unit tests: each scenario writes the
 * events the sensors of several hosts would report, feeds them host by host
 * in a chosen order, and keeps the latest version of every trajectory that
 * comes out. Included by the test files (static helpers, no object of its
 * own). */
#ifndef WEFT_TEST_CORR_SIM_H
#define WEFT_TEST_CORR_SIM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/correlator.h"

#define HOSTS	   6
#define MAX_EVENTS 512
#define MAX_TRAJ   64
#define MS	   1000000ull

/* ---- the sink: the latest version of every trajectory ---------------------------------- */

struct got {
	struct weft_trajectory t;
	struct weft_span spans[32];
};

struct sink_state {
	struct got traj[MAX_TRAJ];
	int n;
	int retracted;
};

static struct got *find(struct sink_state *s, uint64_t id)
{
	for (int i = 0; i < s->n; i++)
		if (s->traj[i].t.id == id)
			return &s->traj[i];
	return NULL;
}

static void on_traj(const struct weft_trajectory *t, void *ctx)
{
	struct sink_state *s = ctx;
	struct got *g = find(s, t->id);

	if (!g) {
		assert_true(s->n < MAX_TRAJ);
		g = &s->traj[s->n++];
	}
	assert_true(t->nspans <= 32);
	g->t = *t;
	memcpy(g->spans, t->spans, t->nspans * sizeof(*t->spans));
	g->t.spans = g->spans;
}

static void on_retract(uint64_t id, void *ctx)
{
	struct sink_state *s = ctx;
	struct got *g = find(s, id);

	if (g) {
		*g = s->traj[--s->n];
		g->t.spans = g->spans;
		s->retracted++;
	}
}

/* ---- the simulated hosts ----------------------------------------------------------------- */

struct sim {
	const char *names[HOSTS];
	int64_t skew[HOSTS]; /* each host's clock error */
	struct {
		struct weft_event e;
		char payload[64];
	} ev[HOSTS][MAX_EVENTS];
	int n[HOSTS];
};

/* One TCP connection between two hosts. The client side may see other
 * addresses than the server side (NAT). */
struct conn {
	int chost, shost;
	uint64_t csock, ssock;
	uint32_t cseq, sseq; /* next sequence number client->server, server->client */
	uint16_t cport, sport;
	uint16_t cport_seen, sport_seen; /* what the other side sees (NAT) */
	uint8_t caddr, saddr;		 /* last octet of 10.77.0.x */
};

static uint64_t next_sock = 1000;

static struct conn conn_new(int chost, int shost, uint16_t sport, bool nat)
{
	struct conn k = {.chost = chost,
			 .shost = shost,
			 .csock = next_sock++,
			 .ssock = next_sock++,
			 .cseq = 0x10000000u * (uint32_t)(next_sock % 13) + 7,
			 .sseq = 0xf0000000u - 99 * (uint32_t)next_sock,
			 .cport = (uint16_t)(40000 + next_sock),
			 .sport = sport};
	k.cport_seen = nat ? (uint16_t)(k.cport + 1000) : k.cport;
	k.sport_seen = nat ? 8080 : sport;
	k.caddr = (uint8_t)(chost + 1);
	k.saddr = (uint8_t)(shost + 1);
	return k;
}

static void put(struct sim *s, int host, uint8_t type, uint8_t role, uint64_t sock, uint32_t pid,
		uint32_t tid, uint32_t seq, uint32_t len, uint64_t ts, const char *payload,
		uint16_t lport, uint16_t rport, uint8_t laddr, uint8_t raddr)
{
	struct weft_event *e;

	assert_true(s->n[host] < MAX_EVENTS);
	e = &s->ev[host][s->n[host]++].e;
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->role = role;
	e->sock_id = sock;
	e->pid = pid;
	e->tid = tid;
	e->seq = seq;
	e->len = len;
	e->ts_ns = ts + s->skew[host];
	e->duration_ns = 1000;
	e->family = 2;
	e->sport = lport;
	e->dport = rport;
	e->saddr[0] = 10, e->saddr[1] = 77, e->saddr[3] = laddr;
	e->daddr[0] = 10, e->daddr[1] = 77, e->daddr[3] = raddr;
	snprintf(e->comm, sizeof(e->comm), "p%u", pid);
	if (payload) {
		e->payload_len = (uint32_t)strlen(payload);
		memcpy(e->payload, payload, e->payload_len);
	}
}

/* The client sends a request (ts) and the server reads it 1 ms later. */
static void request(struct sim *s, struct conn *k, uint32_t cpid, uint32_t ctid, uint32_t spid,
		    uint32_t stid, uint64_t ts, const char *text)
{
	uint32_t len = (uint32_t)strlen(text) + 100;

	put(s, k->chost, WEFT_EV_SEND, WEFT_ROLE_CLIENT, k->csock, cpid, ctid, k->cseq, len, ts,
	    text, k->cport, k->sport_seen, k->caddr, 99);
	put(s, k->shost, WEFT_EV_RECV, WEFT_ROLE_SERVER, k->ssock, spid, stid, k->cseq, len,
	    ts + MS, text, k->sport, k->cport_seen, k->saddr, 98);
	k->cseq += len;
}

/* The server answers (ts) and the client reads it 1 ms later. */
static void respond(struct sim *s, struct conn *k, uint32_t cpid, uint32_t ctid, uint32_t spid,
		    uint32_t stid, uint64_t ts, const char *text)
{
	uint32_t len = (uint32_t)strlen(text) + 500;

	put(s, k->shost, WEFT_EV_SEND, WEFT_ROLE_SERVER, k->ssock, spid, stid, k->sseq, len, ts,
	    text, k->sport, k->cport_seen, k->saddr, 98);
	put(s, k->chost, WEFT_EV_RECV, WEFT_ROLE_CLIENT, k->csock, cpid, ctid, k->sseq, len,
	    ts + MS, text, k->cport, k->sport_seen, k->caddr, 99);
	k->sseq += len;
}

/* Feeds the hosts one after the other in `order`, then settles everything. */
static void run(struct sim *s, const int *order, int norder, struct sink_state *out)
{
	struct corr_opts o = {.settle_ns = 100 * MS, .keep_ns = 60000 * MS};
	struct corr_sink sink = {.trajectory = on_traj, .retract = on_retract, .ctx = out};
	struct correlator *c = correlator__new(&o, &sink);

	assert_non_null(c);
	for (int i = 0; i < norder; i++) {
		int h = order[i];

		for (int j = 0; j < s->n[h]; j++)
			correlator__feed(c, s->names[h], &s->ev[h][j].e, 1);
	}
	correlator__tick(c, UINT64_MAX);
	correlator__free(c);
}

static struct sim *sim_new(void)
{
	static const char *names[HOSTS] = {"client", "front",	"middle",
					   "back",   "client2", "front2"};
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	memcpy(s->names, names, sizeof(names));
	return s;
}

static const struct weft_span *span_named(const struct got *g, const char *request)
{
	for (int i = 0; i < g->t.nspans; i++)
		if (!strcmp(g->spans[i].request, request))
			return &g->spans[i];
	fail_msg("no span '%s'", request);
	return NULL;
}

static const struct got *traj_named(const struct sink_state *out, const char *root_request)
{
	for (int i = 0; i < out->n; i++)
		if (!strcmp(out->traj[i].spans[0].request, root_request))
			return &out->traj[i];
	fail_msg("no trajectory rooted at '%s'", root_request);
	return NULL;
}

enum { CL, FR, MI, BK, CL2, FR2 };

#endif

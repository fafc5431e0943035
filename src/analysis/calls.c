/* Method calls (the JVM agent's trace, shipped by the sensor) nested in the
 * server-side exchanges of their threads. A call belongs to the server half
 * whose thread ran it between receiving the request and sending the
 * response. Calls usually come after their half was emitted (the agent is
 * drained a few times a second): each thread remembers its last emitted
 * server halves, and a call taken by one of them makes its trajectory
 * emitted again. A call that comes first waits on its thread until its half
 * is assembled, for at most keep_ns. */
#include <stdlib.h>
#include <string.h>

#include "analysis/correlator_int.h"
#include "common/str.h"

#define CALLS_PER_HALF	  256  /* more are counted as unmatched */
#define CALLS_WAITING_MAX 4096 /* per thread */

static struct call_thread *call_thread(struct correlator *c, uint32_t host, uint32_t tid,
				       bool create)
{
	struct thread_key k = {.host = host, .id = tid};
	struct call_thread *t;

	HASH_FIND(hh, c->call_threads, &k, sizeof(k), t);
	if (t || !create)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->key = k;
	HASH_ADD(hh, c->call_threads, key, sizeof(t->key), t);
	return t;
}

static bool host_traced(const struct correlator *c, uint32_t host)
{
	return host < c->traced_cap && c->traced[host];
}

static void mark_traced(struct correlator *c, uint32_t host)
{
	if (host >= c->traced_cap) {
		size_t cap = host + 16;
		uint8_t *t = realloc(c->traced, cap);

		if (!t)
			return;
		memset(t + c->traced_cap, 0, cap - c->traced_cap);
		c->traced = t;
		c->traced_cap = cap;
	}
	c->traced[host] = 1;
}

/* Whether the call ran inside the half's exchange (same process). */
static bool contains(const struct half *h, const struct mcall *m)
{
	return h->pid == m->pid && h->req_start <= m->start_ns &&
	       (!h->has_resp || m->end_ns <= h->resp_end);
}

/* Keeps h->calls by start, an enclosing call before the calls inside it. */
static bool take(struct correlator *c, struct half *h, struct mcall *m)
{
	struct mcall **pp = &h->calls;

	if (h->ncalls >= CALLS_PER_HALF) {
		c->stats.calls_unmatched++;
		free(m);
		return false;
	}
	while (*pp && ((*pp)->start_ns < m->start_ns ||
		       ((*pp)->start_ns == m->start_ns && (*pp)->end_ns >= m->end_ns)))
		pp = &(*pp)->next;
	m->next = *pp;
	*pp = m;
	h->ncalls++;
	return true;
}

void correlator__call(struct correlator *c, const char *host, const struct weft_call *call,
		      uint64_t now_mono)
{
	uint32_t hid = corr_host_id(c, host);
	struct call_thread *t;
	struct mcall *m;

	c->stats.calls++;
	if (!hid || call->end_ns < call->start_ns || !(t = call_thread(c, hid, call->tid, true)) ||
	    !(m = calloc(1, sizeof(*m)))) {
		c->stats.calls_unmatched++;
		return;
	}
	mark_traced(c, hid);
	m->start_ns = call->start_ns;
	m->end_ns = call->end_ns;
	m->arrived_mono = now_mono;
	m->pid = call->pid;
	m->tid = call->tid;
	str_copy(m->name, sizeof(m->name), call->name);
	for (int i = 0; i < CALL_RECENT; i++) {
		struct half *h = t->recent[i];

		if (h && contains(h, m)) {
			if (take(c, h, m))
				corr_touch(c, h, now_mono);
			return;
		}
	}
	if (t->npending >= CALLS_WAITING_MAX) {
		c->stats.calls_unmatched++;
		free(m);
		return;
	}
	m->next = t->pending;
	t->pending = m;
	t->npending++;
}

static void forget(struct call_thread *t, const struct half *h)
{
	for (int i = 0; i < CALL_RECENT; i++)
		if (t->recent[i] == h)
			t->recent[i] = NULL;
}

void calls_adopt(struct correlator *c, struct half *sv)
{
	struct call_thread *t;

	if (!host_traced(c, sv->host) || !(t = call_thread(c, sv->host, sv->tid, true)))
		return;
	if (!sv->ct) {
		struct half *old = t->recent[t->next_slot];

		if (old)
			old->ct = NULL;
		t->recent[t->next_slot] = sv;
		t->next_slot = (t->next_slot + 1) % CALL_RECENT;
		sv->ct = t;
	}
	for (struct mcall **pp = &t->pending; *pp;) {
		struct mcall *m = *pp;

		if (!contains(sv, m)) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		t->npending--;
		take(c, sv, m);
	}
}

void calls_half_free(struct half *h)
{
	if (h->ct)
		forget(h->ct, h);
	h->ct = NULL;
	while (h->calls) {
		struct mcall *m = h->calls;

		h->calls = m->next;
		free(m);
	}
	h->ncalls = 0;
}

void calls_expire(struct correlator *c, uint64_t now_mono)
{
	struct call_thread *t, *tmp;

	HASH_ITER(hh, c->call_threads, t, tmp)
	{
		bool remembered = false;

		for (struct mcall **pp = &t->pending; *pp;) {
			struct mcall *m = *pp;

			if (now_mono - m->arrived_mono <= c->opts.keep_ns) {
				pp = &m->next;
				continue;
			}
			*pp = m->next;
			t->npending--;
			c->stats.calls_unmatched++;
			free(m);
		}
		for (int i = 0; i < CALL_RECENT; i++)
			remembered |= t->recent[i] != NULL;
		if (!t->pending && !remembered) {
			HASH_DEL(c->call_threads, t);
			free(t);
		}
	}
}

void calls_free(struct correlator *c)
{
	struct call_thread *t, *tmp;

	HASH_ITER(hh, c->call_threads, t, tmp)
	{
		while (t->pending) {
			struct mcall *m = t->pending;

			t->pending = m->next;
			free(m);
		}
		HASH_DEL(c->call_threads, t);
		free(t);
	}
	free(c->traced);
}

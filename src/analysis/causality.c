/* Which request each outgoing request was sent for. The thread rule (a
 * request sent by a thread belongs to the request that thread received and
 * has not answered) is exact for thread-per-request servers, pre-forked ones
 * and pools whose worker serves a request from start to finish; the rules
 * below extend it to what breaks it, each from evidence in the messages
 * themselves, and every link records which rule made it:
 *
 * - adjacency: a thread works for the request behind the last message it
 *   received: the request itself, or the request a downstream response
 *   belongs to. Event loops (nginx, Node.js) and Go's scheduler run a
 *   callback or goroutine to its next wait, so what a thread sends follows
 *   from what it last read. On a thread-per-request server this is the thread
 *   rule itself.
 * - contest: a request the thread read and has not acted on since (sent
 *   nothing for it, not answered it) competes with the one adjacency names;
 *   the link is then a guess and says so (HAProxy reads several sockets
 *   before it forwards anything).
 * - connect: the first request on a connection belongs to what its thread
 *   worked for when it called connect() (a proxy connects upstream while
 *   handling a request, and writes once the connection is up, by when it
 *   may have read other requests).
 * - forward: a request whose method and target, trace id (traceparent) or
 *   X-Request-ID equal those of exactly one request open in its process was
 *   forwarded from it (reverse proxies); several equal ones make a guess.
 * - response: a thread with nothing to go on (a pool worker that took a
 *   request from a queue, woken or not) sends undecided; when it then answers
 *   a request itself, what it sent since belongs to that request.
 * What none of these decides is an uncertain root, and the requests it may
 * have belonged to are marked incomplete: nothing is guessed silently.
 *
 * In a Go program goroutines move between threads and park without a system
 * call (on a channel, a mutex), so threads interleave requests that no
 * message shows. Its events carry their goroutine (the sensor reads the g
 * register), and a goroutine that has received something itself works for
 * that request, whatever the thread did in between. A goroutine that never
 * receives (net/http's per-connection writer, handed each request through
 * a channel) runs right after the goroutine that woke it, on its thread:
 * the thread's adjacency decides for it. */
#include "analysis/correlator_int.h"

#include <stdlib.h>
#include <string.h>

#define UNDECIDED_WAIT_NS 2000000000ull /* how long an undecided request waits for an answer */
#define CANDIDATE_SCAN	  4096		/* recent halves searched for an orphan's candidates */
#define DIAL_HANDOFF_NS	  50000000ull	/* a dialer hands its connection over at once */

static struct thread_entry *entry_get(struct correlator *c, struct thread_key k, bool create)
{
	struct thread_entry *t;

	HASH_FIND(hh, c->threads, &k, sizeof(k), t);
	if (t || !create)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->key = k;
	HASH_ADD(hh, c->threads, key, sizeof(k), t);
	return t;
}

struct thread_entry *thread_get(struct correlator *c, uint32_t host, uint32_t tid, bool create)
{
	return entry_get(c, (struct thread_key){.host = host, .id = tid}, create);
}

/* A Go program's goroutine; NULL when the event ran in none. */
static struct thread_entry *coro_get(struct correlator *c, uint32_t host, uint32_t pid,
				     uint64_t coro, bool create)
{
	struct thread_entry *g;

	if (!coro)
		return NULL;
	g = entry_get(c, (struct thread_key){.host = host, .pid = pid, .id = coro}, create);
	if (g)
		g->pid = pid;
	return g;
}

/* ---- open requests: per thread that read them, per process -------------------------- */

static void open_add(struct correlator *c, struct thread_entry *t, struct half *sv)
{
	struct proc_entry *p = corr_proc(c, sv->host, sv->pid);

	sv->thread = t;
	sv->open_next = t->open;
	t->open = sv;
	t->nopen++;
	if (p) {
		sv->proc = p;
		sv->popen_next = p->open;
		p->open = sv;
		p->nopen++;
		p->serves = true;
		if (sv->sport) /* a consumer's deliveries come on no port of its own */
			p->served_port = sv->sport;
	}
}

/* The server half is answered, replaced or gone: it is no longer open. */
static void open_remove(struct half *sv)
{
	struct thread_entry *t = sv->thread;
	struct proc_entry *p = sv->proc;

	for (struct half **pp = t ? &t->open : NULL; pp && *pp; pp = &(*pp)->open_next) {
		if (*pp == sv) {
			*pp = sv->open_next;
			t->nopen--;
			break;
		}
	}
	for (struct half **pp = p ? &p->open : NULL; pp && *pp; pp = &(*pp)->popen_next) {
		if (*pp == sv) {
			*pp = sv->popen_next;
			p->nopen--;
			break;
		}
	}
	sv->thread = NULL;
	sv->open_next = NULL;
	sv->proc = NULL;
	sv->popen_next = NULL;
}

void causality_closed(struct correlator *c, struct half *sv)
{
	(void)c;
	open_remove(sv);
}

static struct half *open_half(struct correlator *c, uint64_t id)
{
	struct half *h = id ? corr_half_by_id(c, id) : NULL;

	return h && h->proc ? h : NULL;
}

/* ---- what a thread read and has not acted on ------------------------------------------- */

static void waiting_add(struct thread_entry *t, uint64_t id, uint64_t ts)
{
	for (int i = 0; i < t->nwaiting; i++)
		if (t->waiting[i].id == id)
			return;
	if (t->nwaiting == THREAD_WAITING) { /* the oldest was left unacted on long enough */
		memmove(&t->waiting[0], &t->waiting[1],
			sizeof(t->waiting[0]) * (THREAD_WAITING - 1));
		t->nwaiting--;
	}
	t->waiting[t->nwaiting].id = id;
	t->waiting[t->nwaiting].ts = ts;
	t->nwaiting++;
}

/* Removes id, and with before != 0 only if it was read before that time. */
static void waiting_remove(struct thread_entry *t, uint64_t id, uint64_t before)
{
	for (int i = 0; i < t->nwaiting; i++) {
		if (t->waiting[i].id != id || (before && t->waiting[i].ts > before))
			continue;
		memmove(&t->waiting[i], &t->waiting[i + 1],
			sizeof(t->waiting[0]) * (size_t)(t->nwaiting - i - 1));
		t->nwaiting--;
		return;
	}
}

/* Drops what has been answered since; returns how many open requests other
 * than `except` still wait, the newest in *newest. */
static int waiting_others(struct correlator *c, struct thread_entry *t, uint64_t except,
			  struct half **newest)
{
	int n = 0, keep = 0;

	*newest = NULL;
	for (int i = 0; i < t->nwaiting; i++) {
		struct half *h = open_half(c, t->waiting[i].id);

		if (!h)
			continue;
		t->waiting[keep++] = t->waiting[i];
		if (h->id != except) {
			n++;
			*newest = h;
		}
	}
	t->nwaiting = keep;
	return n;
}

static void mark_incomplete(struct correlator *c, struct half *sv, uint64_t now_mono)
{
	if (sv->incomplete)
		return;
	sv->incomplete = true;
	corr_touch(c, sv, now_mono);
}

/* A guess was made for this thread: whatever else waited may miss a child. */
static void waiting_mark_incomplete(struct correlator *c, struct thread_entry *t, uint64_t except,
				    uint64_t now_mono)
{
	for (int i = 0; i < t->nwaiting; i++) {
		struct half *h = open_half(c, t->waiting[i].id);

		if (h && h->id != except)
			mark_incomplete(c, h, now_mono);
	}
}

/* ---- the thread's context over time ---------------------------------------------------- */

/* Records the thread's context from ts on, and whether another request it
 * read was still waiting for it then. */
static void hist_push(struct correlator *c, struct thread_entry *t, uint64_t ts)
{
	int slot = t->nhist++ % THREAD_HISTORY;
	struct half *other;

	t->hist[slot].ts = ts;
	t->hist[slot].ref = t->cur;
	t->hist[slot].contested =
	    waiting_others(c, t, t->cur.state == CTX_HALF ? t->cur.id : 0, &other) > 0;
}

/* What the thread worked for at time ts; NULL when its history does not
 * reach back that far. */
static const struct ctx_ref *hist_at(const struct thread_entry *t, uint64_t ts, bool *contested)
{
	int n = t->nhist < THREAD_HISTORY ? t->nhist : THREAD_HISTORY;

	for (int i = 1; i <= n; i++) {
		int slot = (t->nhist - i) % THREAD_HISTORY;

		if (t->hist[slot].ts <= ts) {
			*contested = t->hist[slot].contested;
			return &t->hist[slot].ref;
		}
	}
	if (t->nhist <= THREAD_HISTORY) { /* before anything it did: it had no context */
		static const struct ctx_ref unknown = {0};

		*contested = false;
		return &unknown;
	}
	return NULL;
}

/* The context a client half hands on to what follows it on its thread. */
static struct ctx_ref ref_of(const struct half *cl)
{
	if (cl->parent)
		return (struct ctx_ref){.id = cl->parent->id,
					.state = CTX_HALF,
					.link = cl->link,
					.uncertain = cl->uncertain};
	if (cl->undecided)
		return (struct ctx_ref){.id = cl->id, .state = CTX_UNDECIDED};
	return (struct ctx_ref){0};
}

/* A reference as it stands now: an answered request is no context any
 * more, and an undecided one may have been decided since. */
static struct ctx_ref ref_now(struct correlator *c, struct ctx_ref r)
{
	struct half *h;

	if (r.state == CTX_HALF && !open_half(c, r.id))
		return (struct ctx_ref){0};
	if (r.state == CTX_UNDECIDED) {
		h = corr_half_by_id(c, r.id);
		if (!h)
			return (struct ctx_ref){0};
		if (!h->undecided)
			return ref_now(c, ref_of(h));
	}
	return r;
}

/* ---- decisions ---------------------------------------------------------------------------- */

static void link_child(struct half *parent, struct half *cl, uint8_t link, bool uncertain)
{
	cl->parent = parent;
	cl->link = link;
	cl->uncertain = uncertain;
	cl->sibling = parent->child;
	parent->child = cl;
}

static void undecided_add(struct thread_entry *t, struct half *cl)
{
	cl->undecided = true;
	cl->link = WEFT_LINK_UNDECIDED;
	cl->und = t;
	cl->und_next = t->undecided;
	t->undecided = cl;
}

static void undecided_remove(struct half *cl)
{
	struct thread_entry *t = cl->und;

	for (struct half **pp = t ? &t->undecided : NULL; pp && *pp; pp = &(*pp)->und_next) {
		if (*pp == cl) {
			*pp = cl->und_next;
			break;
		}
	}
	cl->und = NULL;
	cl->und_next = NULL;
	cl->undecided = false;
}

/* An undecided request nothing decided: an uncertain root, and every
 * request its process had open when it was sent may miss it. */
static void orphan(struct correlator *c, struct half *cl, uint64_t now_mono)
{
	int n = 0;

	undecided_remove(cl);
	cl->uncertain = true;
	cl->link = WEFT_LINK_UNDECIDED;
	for (struct half *h = c->all_tail, *prev; h && n < CANDIDATE_SCAN; h = prev, n++) {
		prev = h->all_prev; /* marking moves h to the tail */
		if (h->role == WEFT_ROLE_SERVER && h->host == cl->host && h->pid == cl->pid &&
		    h->req_start <= cl->req_start &&
		    (!h->has_resp || h->resp_start >= cl->req_start))
			mark_incomplete(c, h, now_mono);
	}
	corr_touch(c, cl, now_mono);
}

/* A message consumer may acknowledge a delivery at once and hand it to a
 * pool thread (oslo.messaging's casts): no message shows which delivery the
 * thread's requests are for. Deliveries acknowledged with nothing sent for
 * them are remembered until a request of the process goes undecided soon
 * after one: from then on the process is known to hand its deliveries off,
 * and every such delivery is marked as maybe missing children. */
#define ACKED_MAX 32

struct acked_ring {
	struct {
		uint64_t id, ts;
	} e[ACKED_MAX];
	int n;
};

void causality_acked(struct correlator *c, struct half *sv, uint64_t now_mono)
{
	struct proc_entry *p = corr_proc(c, sv->host, sv->pid);

	if (!p || sv->child || sv->awaits_reply)
		return;
	if (p->hands_off) {
		mark_incomplete(c, sv, now_mono);
		return;
	}
	if (!p->acked && !(p->acked = calloc(1, sizeof(*p->acked))))
		return;
	if (p->acked->n == ACKED_MAX)
		memmove(&p->acked->e[0], &p->acked->e[1], sizeof(p->acked->e[0]) * --p->acked->n);
	p->acked->e[p->acked->n].id = sv->id;
	p->acked->e[p->acked->n++].ts = sv->req_start;
}

static void handed_off_check(struct correlator *c, struct proc_entry *p, const struct half *cl,
			     uint64_t now_mono)
{
	bool recent = false;

	for (int i = 0; i < p->acked->n; i++)
		recent |= cl->req_start - p->acked->e[i].ts < UNDECIDED_WAIT_NS;
	if (!recent)
		return;
	p->hands_off = true;
	for (int i = 0; i < p->acked->n; i++) {
		struct half *sv = corr_half_by_id(c, p->acked->e[i].id);

		if (sv)
			mark_incomplete(c, sv, now_mono);
	}
	free(p->acked);
	p->acked = NULL;
}

static bool forwarded(const struct half *sv, const struct half *cl, bool by_trace)
{
	uint64_t want = by_trace ? cl->trace_key : cl->line_key;

	return want && want == (by_trace ? sv->trace_key : sv->line_key);
}

/* Among open requests of the process, those the client half was forwarded
 * from: by trace id, or else by request line. Returns how many; the one to
 * take in *pick: when several are equal, the one the thread read first and
 * has not acted on (proxies forward in the order they read), else the one
 * it works for, else the newest. */
static int forwarded_from(struct correlator *c, struct proc_entry *p, struct thread_entry *t,
			  const struct half *cl, const struct ctx_ref *ref, struct half **pick,
			  bool by_trace)
{
	int n = 0;

	*pick = NULL;
	for (struct half *sv = p ? p->open : NULL; sv; sv = sv->popen_next) {
		if (!forwarded(sv, cl, by_trace))
			continue;
		n++;
		if (!*pick || sv->req_start > (*pick)->req_start)
			*pick = sv;
	}
	if (n < 2)
		return n;
	for (int i = 0; i < t->nwaiting; i++) {
		struct half *h = open_half(c, t->waiting[i].id);

		if (h && forwarded(h, cl, by_trace)) {
			*pick = h;
			return n;
		}
	}
	if (ref->state == CTX_HALF) {
		struct half *h = open_half(c, ref->id);

		if (h && forwarded(h, cl, by_trace))
			*pick = h;
	}
	return n;
}

static void mark_other_matches(struct correlator *c, struct proc_entry *p, const struct half *cl,
			       const struct half *pick, bool by_trace, uint64_t now_mono)
{
	for (struct half *sv = p->open; sv; sv = sv->popen_next)
		if (sv != pick &&
		    (by_trace ? sv->trace_key == cl->trace_key : sv->line_key == cl->line_key))
			mark_incomplete(c, sv, now_mono);
}

void causality_request_in(struct correlator *c, struct half *sv, uint64_t now_mono)
{
	struct thread_entry *t = thread_get(c, sv->host, sv->tid, true);

	if (!t)
		return;
	t->pid = sv->pid;
	t->last_mono = now_mono;
	/* A thread that reads a request serves it itself: what it sent undecided
	 * before can no longer be told apart by what it answers. */
	while (t->undecided)
		orphan(c, t->undecided, now_mono);
	open_add(c, t, sv);
	t->cur = (struct ctx_ref){.id = sv->id, .state = CTX_HALF, .link = WEFT_LINK_THREAD};
	if (sv->coro) {
		/* Its goroutine, not the thread, waits with it (see above). */
		struct thread_entry *g = coro_get(c, sv->host, sv->pid, sv->coro, true);

		if (g) {
			while (g->undecided)
				orphan(c, g->undecided, now_mono);
			g->last_mono = now_mono;
			g->cur = t->cur;
			g->inherited = false;
			hist_push(c, g, sv->req_start);
		}
	} else {
		waiting_add(t, sv->id, sv->req_start);
	}
	hist_push(c, t, sv->req_start);
}

void causality_response_in(struct correlator *c, struct half *cl, uint32_t tid, uint64_t coro,
			   uint64_t now_mono)
{
	struct thread_entry *t = thread_get(c, cl->host, tid, true);
	struct thread_entry *g = coro_get(c, cl->host, cl->pid, coro, true);

	if (g) {
		g->last_mono = now_mono;
		g->cur = ref_of(cl);
		g->inherited = false;
		hist_push(c, g, cl->resp_start);
	}
	if (!t)
		return;
	t->last_mono = now_mono;
	t->cur = ref_of(cl);
	hist_push(c, t, cl->resp_start);
}

/* y, sent undecided, belongs to what the goroutine or thread e that took
 * its response over works for, when that is a request of its own open since
 * before y (net/http's caller reads the body; its reader hands it the head). */
static bool resolve_by_reader(struct correlator *c, struct half *y, struct thread_entry *e,
			      uint64_t now_mono)
{
	struct ctx_ref r;
	struct half *a;

	if (!y->undecided || !e || e->inherited)
		return false;
	r = ref_now(c, e->cur);
	if (r.state != CTX_HALF || !(a = open_half(c, r.id)) || a->pid != y->pid ||
	    a->req_start > y->req_start)
		return false;
	undecided_remove(y);
	link_child(a, y, WEFT_LINK_WAKEUP, false);
	corr_touch(c, y, now_mono);
	return true;
}

void causality_more_in(struct correlator *c, struct half *h, uint32_t tid, uint64_t coro,
		       uint64_t ts, uint64_t now_mono)
{
	struct thread_entry *t = thread_get(c, h->host, tid, true);
	struct thread_entry *g = coro_get(c, h->host, h->pid, coro, true);
	struct ctx_ref ref;

	if (h->role == WEFT_ROLE_SERVER) {
		if (!h->proc)
			return; /* answered already: late bytes of it say nothing */
		ref = (struct ctx_ref){.id = h->id, .state = CTX_HALF, .link = WEFT_LINK_THREAD};
	} else {
		/* The rest of a response read by a goroutine that works for a
		 * request of its own: that is where the undecided request goes,
		 * and the goroutine keeps its context. */
		if (g && resolve_by_reader(c, h, g, now_mono))
			return;
		ref = ref_of(h);
		if (ref.state == CTX_UNDECIDED)
			return;
	}
	if (t) {
		t->last_mono = now_mono;
		t->cur = ref;
		hist_push(c, t, ts);
	}
	if (g) {
		g->last_mono = now_mono;
		g->cur = ref;
		g->inherited = false;
		hist_push(c, g, ts);
	}
}

void causality_request_out(struct correlator *c, struct half *cl, struct endpoint *ep,
			   uint64_t now_mono)
{
	struct thread_entry *t = thread_get(c, cl->host, cl->tid, true);
	struct thread_entry *g = coro_get(c, cl->host, cl->pid, cl->coro, true);
	struct proc_entry *p = corr_proc(c, cl->host, cl->pid);
	struct ctx_ref ref;
	struct half *parent = NULL, *pick, *other;
	uint8_t link = WEFT_LINK_NONE;
	bool unc = false, by_trace = cl->trace_key != 0, own = false;
	int n;

	if (!t)
		return;
	t->pid = cl->pid;
	t->last_mono = now_mono;
	ref = ref_now(c, t->cur);
	if (g) {
		/* A goroutine that received something, or was handed work, works for
		 * that; one that was neither has nothing to go on: its thread ran
		 * other goroutines in between (measured: the thread's last message
		 * named the wrong request for 35 of 38 such requests). */
		g->last_mono = now_mono;
		ref = ref_now(c, g->cur);
		own = ref.state != CTX_UNKNOWN;
	}

	/* 1. A proxy forwarding what it received. */
	if ((n = forwarded_from(c, p, t, cl, &ref, &pick, true)) == 0)
		n = forwarded_from(c, p, t, cl, &ref, &pick, by_trace = false);
	if (n) {
		parent = pick;
		link = n == 1 ? WEFT_LINK_FORWARD : WEFT_LINK_GUESS;
		unc = n > 1;
		if (unc)
			mark_other_matches(c, p, cl, pick, by_trace, now_mono);
	}
	/* 2. The first request on a connection opened for a request (a goroutine
	 * that was handed its work knows better: net/http gives a dialed
	 * connection to whoever waits when it is up). */
	if (!parent && !own && !ep->used && ep->born_known) {
		struct ctx_ref b = ref_now(c, ep->born);

		if (b.state == CTX_HALF) {
			parent = open_half(c, b.id);
			link = WEFT_LINK_CONNECT;
			unc = b.uncertain;
		} else if (b.state == CTX_UNDECIDED) {
			ref = b;
		}
	}
	/* 3. What the thread (or the goroutine) last received, or the request of
	 * the goroutine that handed it the work. */
	if (!parent && ref.state == CTX_HALF) {
		parent = open_half(c, ref.id);
		link = parent->thread == t && t->nopen == 1 ? WEFT_LINK_THREAD : WEFT_LINK_ADJACENT;
		if (own && g->inherited)
			link = WEFT_LINK_WAKEUP;
		unc = ref.uncertain;
	}
	/* A request read and not acted on since competes with the one the last
	 * message named (a forward's content decided it; a connection's context
	 * was contested or not when connect() was called; a goroutine serves one
	 * request at a time). */
	if (link != WEFT_LINK_FORWARD && link != WEFT_LINK_CONNECT && !own &&
	    waiting_others(c, t, parent ? parent->id : 0, &other)) {
		if (!parent)
			parent = other;
		link = WEFT_LINK_GUESS;
		unc = true;
		waiting_mark_incomplete(c, t, parent->id, now_mono);
	}
	if (parent) {
		link_child(parent, cl, link, unc);
		waiting_remove(t, parent->id, 0);
	} else if (ref.state == CTX_UNDECIDED) {
		struct half *y = corr_half_by_id(c, ref.id);

		undecided_add(y && y->und ? y->und : t, cl);
	} else if (p && (p->serves || p->nopen)) {
		/* 4. A server's thread with nothing to go on: its next answer decides
		 * (a goroutine's own, in Go: its threads serve many at a time). */
		undecided_add(g ? g : t, cl);
		if (p->acked)
			handed_off_check(c, p, cl, now_mono);
	}
	t->cur = ref_of(cl);
	hist_push(c, t, cl->req_start);
	if (g) {
		/* What it was not given by a message it received, the next goroutine
		 * to hand it work replaces. */
		g->inherited |= !own;
		g->cur = t->cur;
		hist_push(c, g, cl->req_start);
	}
}

/* What the thread (or goroutine) t sent undecided since it received sv's
 * request was for sv: it serves one request at a time (else adjacency would
 * have had a request to go on). What it sent before then was not. */
static void answer_undecided(struct correlator *c, struct thread_entry *t, struct half *sv,
			     uint64_t now_mono)
{
	while (t->undecided) {
		struct half *cl = t->undecided;

		if (cl->pid == sv->pid && cl->req_start >= sv->req_start) {
			undecided_remove(cl);
			link_child(sv, cl, WEFT_LINK_RESPONSE, false);
			corr_touch(c, cl, now_mono);
		} else {
			orphan(c, cl, now_mono);
		}
	}
}

void causality_answer(struct correlator *c, struct half *sv, uint32_t tid, uint64_t coro,
		      uint64_t now_mono)
{
	struct thread_entry *t = thread_get(c, sv->host, tid, true);
	struct thread_entry *g = coro_get(c, sv->host, sv->pid, coro, false);
	struct half *newest;

	open_remove(sv);
	if (g) {
		answer_undecided(c, g, sv, now_mono);
		g->cur = (struct ctx_ref){0};
		hist_push(c, g, sv->resp_start);
	}
	if (!t)
		return;
	t->last_mono = now_mono;
	answer_undecided(c, t, sv, now_mono);
	waiting_remove(t, sv->id, 0);
	waiting_others(c, t, 0, &newest);
	t->cur =
	    newest ? (struct ctx_ref){.id = newest->id, .state = CTX_HALF, .link = WEFT_LINK_THREAD}
		   : (struct ctx_ref){0};
	hist_push(c, t, sv->resp_start);
}

void causality_connect(struct correlator *c, struct endpoint *ep, uint32_t pid, uint32_t tid,
		       uint64_t coro, uint64_t ts)
{
	struct thread_entry *t = thread_get(c, ep->key.host, tid, false);
	struct thread_entry *g = coro_get(c, ep->key.host, pid, coro, false);
	const struct ctx_ref *r = NULL;
	bool contested = false;

	ep->born_known = false;
	/* A goroutine dialing for others (net/http's) hands the connection to the
	 * goroutine it wakes next: that one's request decides (causality_wake). */
	if (coro && (g || (g = coro_get(c, ep->key.host, pid, coro, true)))) {
		g->dialed = ep->key.sock_id;
		g->dialed_ts = ts;
	}
	/* The goroutine that called connect(), when it worked for a request
	 * still open; a goroutine that did not (a dialer) decides when it hands
	 * the connection over, not by its thread (measured: the thread named
	 * the wrong request for 7 of about 1,300 connections); else the thread. */
	if (g && (r = hist_at(g, ts, &contested)) && ref_now(c, *r).state == CTX_UNKNOWN)
		r = NULL;
	if (!r && (coro || !t || t->pid != pid || !(r = hist_at(t, ts, &contested))))
		return;
	ep->born = *r;
	ep->born.uncertain |= contested;
	ep->born_known = true;
	/* connect() was the thread's action for that request. */
	if (t && r->state == CTX_HALF)
		waiting_remove(t, r->id, ts);
}

void causality_wake(struct correlator *c, uint32_t host, uint32_t pid, uint64_t waker,
		    uint64_t woken, uint64_t ts, uint64_t now_mono)
{
	struct thread_entry *w = coro_get(c, host, pid, waker, false), *x;
	struct ctx_ref wref;

	if (!w || !woken)
		return;
	/* Only what a goroutine received itself is handed on: helpers between
	 * goroutines pass things along that are not theirs (measured: net/http
	 * wakes its writer from such helpers, with another request's work). */
	wref = w->inherited ? (struct ctx_ref){0} : ref_now(c, w->cur);
	if (wref.state == CTX_UNKNOWN && !w->dialed)
		return; /* the runtime's own goroutines, or one between requests */
	x = coro_get(c, host, pid, woken, true);
	if (!x)
		return;
	if (w->dialed) { /* a connection handed over: its first request is x's */
		struct endpoint *ep = corr_endpoint(c, host, w->dialed);
		struct ctx_ref xref = ref_now(c, x->cur);

		if (ts - w->dialed_ts > DIAL_HANDOFF_NS || !ep || ep->used) {
			w->dialed = 0;		     /* put in a pool, or used already */
		} else if (xref.state == CTX_HALF) { /* not a runtime helper: a requester */
			ep->born = xref;
			ep->born_known = true;
			w->dialed = 0;
		}
	}
	x->last_mono = now_mono;
	if (wref.state == CTX_UNDECIDED) {
		/* The goroutine that read the response of a request sent undecided
		 * hands it to the one that made the request (net/http's reader to
		 * its caller): that one's request is its parent. */
		struct half *y = corr_half_by_id(c, wref.id);

		if (y)
			resolve_by_reader(c, y, x, now_mono);
		return;
	}
	if (wref.state == CTX_UNKNOWN)
		return;
	/* A goroutine that received something works for that, whoever wakes it
	 * (a handler woken with its response); one that works for what it was
	 * handed works for whatever it is handed next. */
	if (ref_now(c, x->cur).state != CTX_UNKNOWN && !x->inherited)
		return;
	x->cur = wref;
	x->inherited = true;
	hist_push(c, x, ts);
}

void causality_coro_end(struct correlator *c, uint32_t host, uint32_t pid, uint64_t coro,
			uint64_t now_mono)
{
	struct thread_entry *g = coro_get(c, host, pid, coro, false);

	if (!g)
		return;
	while (g->undecided)
		orphan(c, g->undecided, now_mono);
	HASH_DEL(c->threads, g);
	free(g);
}

void causality_half_free(struct correlator *c, struct half *h)
{
	(void)c;
	if (h->und)
		undecided_remove(h);
	open_remove(h);
}

void causality_expire(struct correlator *c, uint64_t now_mono)
{
	/* UINT64_MAX: the end (shutdown, replay): nothing can decide them any more. */
	struct thread_entry *t, *tmp;

	HASH_ITER(hh, c->threads, t, tmp)
	{
		struct half **pp = &t->undecided;

		while (*pp) {
			if (now_mono - (*pp)->touched_mono > UNDECIDED_WAIT_NS)
				orphan(c, *pp, now_mono); /* unlinks *pp */
			else
				pp = &(*pp)->und_next;
		}
		if (now_mono != UINT64_MAX && !t->open && !t->undecided &&
		    now_mono - t->last_mono > c->opts.keep_ns) {
			HASH_DEL(c->threads, t);
			free(t);
		}
	}
}

void causality_bound(struct correlator *c, size_t max)
{
	size_t n = HASH_COUNT(c->threads), scan;
	struct thread_entry *t, *tmp;

	if (n <= max)
		return;
	/* Threads with open requests stay: look at a bounded number of them. */
	scan = 2 * (n - max) + 1024;
	HASH_ITER(hh, c->threads, t, tmp) /* oldest first */
	{
		if (HASH_COUNT(c->threads) <= max || !scan--)
			return;
		if (t->open || t->undecided)
			continue;
		HASH_DEL(c->threads, t);
		free(t);
		c->stats.evicted_threads++;
	}
}

void causality_free(struct correlator *c)
{
	struct thread_entry *t, *tmp;

	HASH_ITER(hh, c->threads, t, tmp)
	{
		HASH_DEL(c->threads, t);
		free(t);
	}
}

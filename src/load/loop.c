#include "load/loop.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/clock.h"
#include "load/http_parse.h"

#define LOOP_EVENTS   256
#define LOOP_RBUF     (64 * 1024)  /* one read buffer per loop, shared by its connections */
#define LOOP_TICK_NS  100000000ull /* timeouts checked and the stop flag read this often */
#define LOOP_RETRY_NS 10000000ull  /* a user whose connect failed waits at least this */
#define NO_HEAP	      UINT32_MAX

enum conn_state {
	CONN_FREE,	 /* no request: closed, or an idle keep-alive connection */
	CONN_CONNECTING, /* connect() in progress */
	CONN_WRITING,	 /* request partly sent, waiting for room */
	CONN_READING,	 /* request sent, response not complete */
};

struct conn {
	int fd;		       /* socket, -1 when closed */
	enum conn_state state; /* what it waits for */
	uint32_t gen;	       /* bumped per socket: events of an old socket are ignored */
	uint32_t uri;	       /* request in flight */
	uint32_t heap_idx;     /* position in the wake heap, NO_HEAP when not in it */
	bool peer_closed;      /* the peer half-closed: do not reuse */
	uint64_t intended_ns;  /* latency origin: when the request should have started */
	uint64_t attempt_ns;   /* timeout origin: when this attempt began */
	uint64_t wake_ns;      /* closed loop: when the user starts its next request */
	size_t written;	       /* request bytes sent */
	struct http_resp resp; /* response parser */
	char *pend;	       /* bytes read but not yet parsed; owned */
	size_t npend;	       /* their count */
	size_t pend_cap;       /* allocated */
};

struct pending_req {
	uint64_t intended_ns; /* its place in the schedule */
	uint32_t uri;	      /* which request */
};

struct loop {
	int epfd;		  /* this loop's epoll instance */
	bool open_loop;		  /* rate-driven (else users) */
	struct conn *conns;	  /* users (closed loop) or the connection pool (open) */
	unsigned nconns;	  /* their count */
	uint32_t *heap;		  /* closed loop: users waiting to start, min wake_ns first */
	unsigned nheap;		  /* entries */
	uint32_t *idle;		  /* open loop: connections without a request (a stack) */
	unsigned nidle;		  /* entries */
	struct pending_req *q;	  /* open loop: due requests waiting for a connection (a ring) */
	size_t qhead, qlen, qcap; /* ring position, length, capacity */
	uint64_t next_global;	  /* open loop: this loop's next index in the global schedule */
	unsigned stride;	  /* threads: each takes every stride-th scheduled request */
	uint64_t next_send_ns;	  /* open loop: intended time of next_global */
	uint64_t scheduled;	  /* open loop: requests taken from the schedule */
	uint64_t issued;	  /* requests started */
	uint64_t budget;	  /* requests this loop may start, UINT64_MAX: no limit */
	uint64_t inflight;	  /* started, not finished */
	uint64_t next_sec_ns;	  /* end of the current second */
	uint64_t next_tick_ns;	  /* next timeout check */
	struct load_rng rng;	  /* mix and think times */
	struct load_sec_acc cur;  /* figures of the current second */
	char *rbuf;		  /* read buffer, LOOP_RBUF bytes */
};

void load_sec_acc__reset(struct load_sec_acc *a)
{
	a->requests = 0;
	memset(a->errors, 0, sizeof(a->errors));
	hist__reset(&a->hist);
}

void load_sec_acc__merge(struct load_sec_acc *dst, const struct load_sec_acc *src)
{
	dst->requests += src->requests;
	for (int k = 0; k < LOAD_ERR__COUNT; k++)
		dst->errors[k] += src->errors[k];
	hist__merge(&dst->hist, &src->hist);
}

/* ---- the wake heap (closed loop) ---- */

static bool wake_before(const struct loop *l, uint32_t a, uint32_t b)
{
	return l->conns[a].wake_ns < l->conns[b].wake_ns;
}

static void heap_swap(struct loop *l, unsigned i, unsigned j)
{
	uint32_t t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->conns[l->heap[i]].heap_idx = i;
	l->conns[l->heap[j]].heap_idx = j;
}

static void heap_push(struct loop *l, uint32_t c)
{
	unsigned i = l->nheap++;

	l->heap[i] = c;
	l->conns[c].heap_idx = i;
	while (i && wake_before(l, l->heap[i], l->heap[(i - 1) / 2])) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static uint32_t heap_pop(struct loop *l)
{
	uint32_t top = l->heap[0];
	unsigned i = 0;

	heap_swap(l, 0, --l->nheap);
	for (;;) {
		unsigned a = 2 * i + 1, b = a + 1, m = i;

		if (a < l->nheap && wake_before(l, l->heap[a], l->heap[m]))
			m = a;
		if (b < l->nheap && wake_before(l, l->heap[b], l->heap[m]))
			m = b;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
	l->conns[top].heap_idx = NO_HEAP;
	return top;
}

/* ---- figures ---- */

static void count_error(struct load_thread *t, uint32_t uri, enum load_err_kind k)
{
	t->uri[uri].errors[k]++;
	t->loop->cur.errors[k]++;
}

static void record(struct load_thread *t, uint32_t uri, uint64_t lat_ns)
{
	t->uri[uri].requests++;
	hist__record(&t->uri[uri].hist, lat_ns);
	t->loop->cur.requests++;
	hist__record(&t->loop->cur.hist, lat_ns);
}

static void publish_second(struct load_thread *t)
{
	pthread_mutex_lock(&t->lock);
	load_sec_acc__merge(&t->outbox, &t->loop->cur);
	pthread_mutex_unlock(&t->lock);
	load_sec_acc__reset(&t->loop->cur);
}

void load_thread__collect(struct load_thread *t, struct load_sec_acc *acc)
{
	pthread_mutex_lock(&t->lock);
	load_sec_acc__merge(acc, &t->outbox);
	load_sec_acc__reset(&t->outbox);
	pthread_mutex_unlock(&t->lock);
}

/* ---- connections ---- */

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->npend = 0;
	c->peer_closed = false;
}

static void conn_begin(struct load_thread *t, struct conn *c, uint64_t intended, uint32_t uri,
		       uint64_t now);

static uint32_t pick_uri(struct load_thread *t)
{
	return (uint32_t)load_mix__pick(&t->sh->mix, &t->loop->rng);
}

/* What a connection does once its request is over (done or failed). */
static void conn_next(struct load_thread *t, struct conn *c, uint64_t now, bool connect_failed)
{
	struct loop *l = t->loop;
	const struct load_config *cfg = t->sh->cfg;
	uint64_t think;

	if (l->open_loop) {
		l->idle[l->nidle++] = (uint32_t)(c - l->conns);
		return; /* the main loop hands it the next due request */
	}
	if (l->issued >= l->budget || now >= t->sh->end_ns)
		return; /* this user is done */
	think = load_think_sample(&l->rng, cfg->think, cfg->think_ns);
	if (connect_failed && think < LOOP_RETRY_NS)
		think = LOOP_RETRY_NS;
	if (!think) {
		conn_begin(t, c, now, pick_uri(t), now);
		return;
	}
	c->wake_ns = now + think;
	heap_push(l, (uint32_t)(c - l->conns));
}

static void conn_fail(struct load_thread *t, struct conn *c, enum load_err_kind k, uint64_t now)
{
	t->loop->inflight--;
	count_error(t, c->uri, k);
	conn_close(c);
	c->state = CONN_FREE;
	conn_next(t, c, now, k == LOAD_ERR_REFUSED || k == LOAD_ERR_CONNECT);
}

static void conn_complete(struct load_thread *t, struct conn *c, uint64_t now)
{
	int st = c->resp.status;

	t->loop->inflight--;
	if (st >= 500)
		count_error(t, c->uri, LOAD_ERR_HTTP_5XX);
	else if (st >= 400)
		count_error(t, c->uri, LOAD_ERR_HTTP_4XX);
	else
		record(t, c->uri, now - c->intended_ns);
	if (!t->sh->cfg->keepalive || !c->resp.keepalive || c->peer_closed)
		conn_close(c);
	c->state = CONN_FREE;
	c->npend = 0;
	conn_next(t, c, now, false);
}

static void conn_write(struct load_thread *t, struct conn *c, uint64_t now)
{
	const char *w = t->sh->wire[c->uri];
	size_t len = t->sh->wire_len[c->uri];
	ssize_t n;

	while (c->written < len) {
		n = send(c->fd, w + c->written, len - c->written, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->state = CONN_WRITING;
				return;
			}
			conn_fail(t, c, load_err_kind_of(errno, false), now);
			return;
		}
		c->written += n;
	}
	c->state = CONN_READING;
}

/* Opens the socket; on failure the request has failed (and conn_next ran). */
static int conn_connect(struct load_thread *t, struct conn *c, uint64_t now)
{
	const struct load_shared *sh = t->sh;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET};
	int one = 1, fd, err;

	fd = socket(sh->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->gen++;
	if (connect(fd, (const struct sockaddr *)&sh->addr, sh->addrlen) == 0)
		c->state = CONN_WRITING;
	else if (errno == EINPROGRESS)
		c->state = CONN_CONNECTING;
	else
		goto fail;
	/* Registered once, edge-triggered for both directions: a keep-alive
	 * connection then costs no epoll_ctl per request. */
	ev.data.u64 = (uint64_t)c->gen << 32 | (uint32_t)(c - t->loop->conns);
	if (epoll_ctl(t->loop->epfd, EPOLL_CTL_ADD, fd, &ev))
		goto fail;
	return 0;
fail:
	err = errno;
	conn_fail(t, c, load_err_kind_of(err, true), now);
	return -1;
}

static void conn_begin(struct load_thread *t, struct conn *c, uint64_t intended, uint32_t uri,
		       uint64_t now)
{
	struct loop *l = t->loop;

	c->uri = uri;
	c->intended_ns = intended;
	c->attempt_ns = now;
	c->written = 0;
	c->npend = 0;
	http_resp__init(&c->resp);
	l->issued++;
	l->inflight++;
	if (c->fd < 0 && conn_connect(t, c, now))
		return;
	if (c->fd >= 0 && c->state != CONN_CONNECTING)
		conn_write(t, c, now);
}

/* Keeps the unparsed tail of buf for the next read. */
static int conn_keep(struct conn *c, const char *buf, size_t n)
{
	if (n > c->pend_cap) {
		char *p = realloc(c->pend, n);

		if (!p)
			return -1;
		c->pend = p;
		c->pend_cap = n;
	}
	if (n) /* pend may still be NULL, and memcpy wants a buffer even for 0 bytes */
		memcpy(c->pend, buf, n);
	c->npend = n;
	return 0;
}

/* Feeds buf[0..*have) to the parser. Returns 1 when the response is
 * complete, 0 when more is needed (*have: what is kept), -1 on a bad one. */
static int conn_parse(struct conn *c, char *buf, size_t *have)
{
	long k = http_resp__feed(&c->resp, buf, *have);

	if (k < 0)
		return -1;
	if (c->resp.state == HTTP_RESP_DONE)
		return 1;
	memmove(buf, buf + k, *have - k);
	*have -= k;
	return *have == LOOP_RBUF ? -1 : 0;
}

static void conn_read(struct load_thread *t, struct conn *c, uint64_t now)
{
	char *buf = t->loop->rbuf;
	size_t have = c->npend;
	ssize_t n;
	int r;

	if (have)
		memcpy(buf, c->pend, have);
	for (;;) {
		n = read(c->fd, buf + have, LOOP_RBUF - have);
		if (n > 0) {
			t->bytes_read += n;
			have += n;
			r = conn_parse(c, buf, &have);
			if (r > 0)
				conn_complete(t, c, now);
			else if (r < 0)
				conn_fail(t, c, LOAD_ERR_PARSE, now);
			if (r)
				return;
			continue;
		}
		if (n == 0) {
			c->peer_closed = true;
			if (!http_resp__eof(&c->resp))
				conn_complete(t, c, now);
			else
				conn_fail(t, c, LOAD_ERR_CLOSED, now);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			conn_fail(t, c, load_err_kind_of(errno, false), now);
		else if (conn_keep(c, buf, have))
			conn_fail(t, c, LOAD_ERR_OTHER, now);
		return;
	}
}

static void conn_event(struct load_thread *t, struct conn *c, uint32_t events)
{
	uint64_t now = mono_ns();
	int err = 0;
	socklen_t len = sizeof(err);

	switch (c->state) {
	case CONN_FREE: /* idle keep-alive connection: the peer closed it, or sent junk */
		if (c->fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			conn_close(c);
		return;
	case CONN_CONNECTING:
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & EPOLLHUP)) {
			conn_fail(t, c, load_err_kind_of(err ? err : ECONNREFUSED, true), now);
			return;
		}
		conn_write(t, c, now);
		return;
	case CONN_WRITING:
		if (events & EPOLLERR) {
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			conn_fail(t, c, load_err_kind_of(err, false), now);
			return;
		}
		if (events & EPOLLOUT)
			conn_write(t, c, now);
		if (c->state != CONN_READING || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)))
			return;
		/* the response may already be there */
		__attribute__((fallthrough));
	case CONN_READING:
		if (events & EPOLLRDHUP)
			c->peer_closed = true;
		conn_read(t, c, now);
		return;
	}
}

/* ---- timers ---- */

static void check_timeouts(struct load_thread *t, uint64_t now)
{
	struct loop *l = t->loop;
	uint64_t limit = t->sh->cfg->timeout_ns;

	for (unsigned i = 0; i < l->nconns; i++) {
		struct conn *c = &l->conns[i];

		if (c->state != CONN_FREE && now - c->attempt_ns >= limit)
			conn_fail(t, c, LOAD_ERR_TIMEOUT, now);
	}
}

/* Intended time of the global request number g in the open loop: the rate
 * rises linearly over the ramp (so the count grows as t^2), then stays. */
static uint64_t open_schedule_ns(const struct load_config *cfg, uint64_t g)
{
	double r = cfg->rate, ramp = (double)cfg->ramp_ns / 1e9, n = (double)g, s;

	if (ramp > 0 && n < r * ramp / 2)
		s = sqrt(2 * n * ramp / r);
	else
		s = ramp / 2 + n / r;
	return (uint64_t)(s * 1e9);
}

static int queue_push(struct loop *l, uint64_t intended, uint32_t uri)
{
	if (l->qlen == l->qcap) {
		size_t cap = l->qcap ? 2 * l->qcap : 1024;
		struct pending_req *q = malloc(cap * sizeof(*q));

		if (!q)
			return -1;
		for (size_t i = 0; i < l->qlen; i++)
			q[i] = l->q[(l->qhead + i) % l->qcap];
		free(l->q);
		l->q = q;
		l->qcap = cap;
		l->qhead = 0;
	}
	l->q[(l->qhead + l->qlen++) % l->qcap] = (struct pending_req){intended, uri};
	return 0;
}

static void fire_open(struct load_thread *t, uint64_t now)
{
	struct loop *l = t->loop;
	const struct load_shared *sh = t->sh;

	while (l->scheduled < l->budget && l->next_send_ns <= now && l->next_send_ns < sh->end_ns) {
		if (queue_push(l, l->next_send_ns, pick_uri(t)))
			break;
		l->scheduled++;
		l->next_global += l->stride;
		l->next_send_ns = sh->start_ns + open_schedule_ns(sh->cfg, l->next_global);
	}
	while (l->qlen && l->nidle) {
		struct pending_req r = l->q[l->qhead];

		l->qhead = (l->qhead + 1) % l->qcap;
		l->qlen--;
		conn_begin(t, &l->conns[l->idle[--l->nidle]], r.intended_ns, r.uri, now);
	}
}

static void fire_due(struct load_thread *t, uint64_t now)
{
	struct loop *l = t->loop;

	if (l->open_loop) {
		fire_open(t, now);
		return;
	}
	while (l->nheap && l->conns[l->heap[0]].wake_ns <= now) {
		struct conn *c = &l->conns[heap_pop(l)];

		if (l->issued < l->budget)
			conn_begin(t, c, c->wake_ns, pick_uri(t), now);
	}
}

static uint64_t next_deadline(const struct load_thread *t)
{
	const struct loop *l = t->loop;
	uint64_t d = l->next_sec_ns < l->next_tick_ns ? l->next_sec_ns : l->next_tick_ns;

	if (t->sh->end_ns < d)
		d = t->sh->end_ns;
	if (l->open_loop && l->scheduled < l->budget && l->next_send_ns < d)
		d = l->next_send_ns;
	if (!l->open_loop && l->nheap && l->conns[l->heap[0]].wake_ns < d)
		d = l->conns[l->heap[0]].wake_ns;
	return d;
}

static bool loop_done(const struct loop *l)
{
	uint64_t started = l->open_loop ? l->scheduled : l->issued;

	return started >= l->budget && !l->inflight && !l->qlen;
}

static void loop_dispatch(struct load_thread *t, const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		uint32_t idx = (uint32_t)evs[i].data.u64, gen = (uint32_t)(evs[i].data.u64 >> 32);
		struct conn *c = &t->loop->conns[idx];

		if (c->gen == gen && c->fd >= 0)
			conn_event(t, c, evs[i].events);
	}
}

static void loop_run(struct load_thread *t)
{
	struct loop *l = t->loop;
	struct epoll_event evs[LOOP_EVENTS];
	struct timespec ts;
	uint64_t now, wait;
	int n;

	for (;;) {
		now = mono_ns();
		if (now >= l->next_sec_ns) {
			publish_second(t);
			while (l->next_sec_ns <= now)
				l->next_sec_ns += 1000000000ull;
		}
		if (now >= t->sh->end_ns ||
		    atomic_load_explicit(&t->sh->stop, memory_order_relaxed) || loop_done(l))
			break;
		if (now >= l->next_tick_ns) {
			check_timeouts(t, now);
			l->next_tick_ns = now + LOOP_TICK_NS;
		}
		fire_due(t, now);
		now = mono_ns();
		wait = next_deadline(t);
		wait = wait > now ? wait - now : 0;
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		n = epoll_pwait2(l->epfd, evs, LOOP_EVENTS, &ts, NULL);
		if (n < 0 && errno != EINTR) {
			t->err = -errno;
			break;
		}
		loop_dispatch(t, evs, n > 0 ? n : 0);
	}
}

static void loop_finish(struct load_thread *t)
{
	struct loop *l = t->loop;

	t->end_ns = mono_ns();
	t->unfinished = l->inflight + l->qlen;
	for (unsigned i = 0; i < l->nconns; i++)
		conn_close(&l->conns[i]);
	publish_second(t);
	atomic_store(&t->finished, true);
}

void *load_thread__main(void *arg)
{
	struct load_thread *t = arg;
	struct loop *l = t->loop;
	struct timespec at = {(time_t)(t->sh->start_ns / 1000000000ull),
			      (long)(t->sh->start_ns % 1000000000ull)};

	prctl(PR_SET_TIMERSLACK, 1000UL); /* wake-ups within 1 us of their deadline */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
	for (unsigned i = 0; i < l->nheap; i++) /* a constant shift keeps the heap order */
		l->conns[l->heap[i]].wake_ns += t->sh->start_ns;
	l->next_sec_ns = t->sh->start_ns + 1000000000ull;
	l->next_tick_ns = t->sh->start_ns + LOOP_TICK_NS;
	l->next_send_ns = t->sh->start_ns + open_schedule_ns(t->sh->cfg, l->next_global);
	loop_run(t);
	loop_finish(t);
	return NULL;
}

/* Splits the users and the request budget evenly; in the closed loop every
 * user starts at its place in the ramp. */
static void loop_share(struct load_thread *t, unsigned id, unsigned nthreads)
{
	const struct load_config *cfg = t->sh->cfg;
	struct loop *l = t->loop;
	unsigned first = (unsigned)((uint64_t)id * cfg->connections / nthreads);
	uint64_t m = cfg->max_requests;

	l->budget = m ? m / nthreads + (id < m % nthreads) : UINT64_MAX;
	l->next_global = id;
	l->stride = nthreads;
	for (unsigned i = 0; i < l->nconns; i++) {
		l->conns[i].fd = -1;
		l->conns[i].heap_idx = NO_HEAP;
		if (l->open_loop) {
			l->idle[l->nidle++] = l->nconns - 1 - i; /* conn 0 on top */
			continue;
		}
		/* relative to the start, which is not known yet: see load_thread__main */
		l->conns[i].wake_ns =
		    (uint64_t)((double)cfg->ramp_ns * (first + i) / cfg->connections);
		heap_push(l, i);
	}
}

int load_thread__init(struct load_thread *t, struct load_shared *sh, unsigned id, unsigned nthreads)
{
	const struct load_config *cfg = sh->cfg;
	unsigned first = (unsigned)((uint64_t)id * cfg->connections / nthreads);
	unsigned next = (unsigned)((uint64_t)(id + 1) * cfg->connections / nthreads);
	struct loop *l;

	memset(t, 0, sizeof(*t));
	t->sh = sh;
	t->id = id;
	pthread_mutex_init(&t->lock, NULL);
	load_sec_acc__reset(&t->outbox);
	t->uri = calloc(cfg->nuris, sizeof(*t->uri));
	l = t->loop = calloc(1, sizeof(*l));
	if (l)
		l->epfd = -1;
	if (!t->uri || !l)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nuris; i++)
		hist__reset(&t->uri[i].hist);
	load_sec_acc__reset(&l->cur);
	load_rng__seed(&l->rng, cfg->seed * 1000003u + id);
	l->open_loop = cfg->rate > 0;
	l->nconns = next - first;
	l->conns = calloc(l->nconns, sizeof(*l->conns));
	l->heap = calloc(l->nconns, sizeof(*l->heap));
	l->idle = calloc(l->nconns, sizeof(*l->idle));
	l->rbuf = malloc(LOOP_RBUF);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	if (!l->conns || !l->heap || !l->idle || !l->rbuf)
		return -ENOMEM;
	loop_share(t, id, nthreads);
	return 0;
}

void load_thread__free(struct load_thread *t)
{
	struct loop *l = t->loop;

	if (l) {
		for (unsigned i = 0; l->conns && i < l->nconns; i++) {
			conn_close(&l->conns[i]);
			free(l->conns[i].pend);
		}
		if (l->epfd >= 0)
			close(l->epfd);
		free(l->conns);
		free(l->heap);
		free(l->idle);
		free(l->q);
		free(l->rbuf);
		free(l);
	}
	free(t->uri);
	pthread_mutex_destroy(&t->lock);
	t->loop = NULL;
	t->uri = NULL;
}

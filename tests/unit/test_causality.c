/* Causality beyond the thread rule, on constructed event sequences: an
 * interleaved event loop, a hand-off through a queue to several workers (one
 * of which takes the next request without sleeping), a pooled upstream
 * connection opened for one request and reused by others, a proxy's
 * forwarded requests, concurrent calls answered out of order, a request
 * nothing decides, and goroutines that move between threads. Each link must be right and say how it
 * was decided, or be flagged. */
#include "corr_sim.h"

#include "analysis/trajectory.h"

/* The connection k's client (thread ctid of cpid) called connect() at ts and
 * the handshake took 50 us. */
static void connect_ev(struct sim *s, struct conn *k, uint32_t cpid, uint32_t ctid, uint64_t ts)
{
	struct weft_event *e;

	put(s, k->chost, WEFT_EV_CONNECT, WEFT_ROLE_CLIENT, k->csock, cpid, ctid, 0, 0, ts + 50000,
	    NULL, k->cport, k->sport_seen, k->caddr, 99);
	e = &s->ev[k->chost][s->n[k->chost] - 1].e;
	e->duration_ns = 50000;
	e->flags = WEFT_EVF_NO_TASK | WEFT_EVF_DURATION;
}

static const struct weft_span *child_of(const struct got *g, const char *request)
{
	const struct weft_span *s = span_named(g, request);

	assert_int_equal(s->parent, g->spans[0].id);
	return s;
}

static struct sink_state *sink_new(void)
{
	struct sink_state *out = calloc(1, sizeof(*out));

	assert_non_null(out);
	return out;
}

/* One event-loop thread (20/20) serves three requests at once; each request
 * calls the back end, and /a calls it twice, the second time from the
 * callback of the first call's response, after the others' requests were
 * read. Every link is adjacent and certain. */
static void test_interleaved_event_loop(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = sink_new();
	struct conn ca = conn_new(CL, FR, 80, false), cb = conn_new(CL2, FR, 80, false),
		    cc = conn_new(CL, FR, 80, false);
	struct conn u1 = conn_new(FR, BK, 6379, false), u2 = conn_new(FR, BK, 6379, false),
		    u3 = conn_new(FR, BK, 6379, false);
	const int order[] = {CL, CL2, FR, BK};
	const struct got *g;

	(void)state;
	/* on the front: read /a at 101 ms, call at 101.5, read /b at 102, ... */
	request(s, &ca, 10, 11, 20, 20, 100 * MS, "GET /a HTTP/1.1\r\n");
	request(s, &u1, 20, 20, 40, 41, 101 * MS + MS / 2, "*2\r\n$3\r\nGET\r\n$2\r\na1\r\n");
	request(s, &cb, 12, 13, 20, 20, 101 * MS, "GET /b HTTP/1.1\r\n");
	request(s, &u2, 20, 20, 40, 42, 102 * MS + MS / 2, "*2\r\n$3\r\nGET\r\n$2\r\nb1\r\n");
	request(s, &cc, 14, 15, 20, 20, 102 * MS, "GET /c HTTP/1.1\r\n");
	request(s, &u3, 20, 20, 40, 43, 103 * MS + MS / 2, "*2\r\n$3\r\nGET\r\n$2\r\nc1\r\n");
	respond(s, &u1, 20, 20, 40, 41, 104 * MS, "$1\r\nx\r\n");
	request(s, &u1, 20, 20, 40, 41, 105 * MS + MS / 2, "*2\r\n$3\r\nSET\r\n$2\r\na2\r\n");
	respond(s, &u3, 20, 20, 40, 43, 106 * MS, "$1\r\nx\r\n");
	respond(s, &cc, 14, 15, 20, 20, 107 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	respond(s, &u2, 20, 20, 40, 42, 108 * MS, "$1\r\nx\r\n");
	respond(s, &cb, 12, 13, 20, 20, 109 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	respond(s, &u1, 20, 20, 40, 41, 110 * MS, "+OK\r\n");
	respond(s, &ca, 10, 11, 20, 20, 111 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	run(s, order, 4, out);

	assert_int_equal(out->n, 3);
	g = traj_named(out, "GET /a");
	assert_int_equal(g->t.nspans, 3);
	assert_false(g->t.uncertain);
	/* the first call while /a was the thread's only open request, the
	 * second after /b and /c were read too */
	assert_int_equal(child_of(g, "REDIS GET")->link, WEFT_LINK_THREAD);
	assert_int_equal(child_of(g, "REDIS SET")->link, WEFT_LINK_ADJACENT);
	for (int i = 0; i < 2; i++) {
		g = traj_named(out, i ? "GET /c" : "GET /b");
		assert_int_equal(g->t.nspans, 2);
		assert_false(g->t.uncertain);
		assert_int_equal(g->spans[1].server.tid, i ? 43 : 42);
	}
	free(s);
	free(out);
}

/* A reader thread (20/21) reads every request and hands it to a pool; the
 * workers (22, 23) call a back end and answer themselves. Worker 22 takes
 * /q3 right after answering /q1, without sleeping or reading anything. */
static void test_queue_hand_off(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = sink_new();
	struct conn c1 = conn_new(CL, FR, 8080, false), c2 = conn_new(CL2, FR, 8080, false),
		    c3 = conn_new(CL, FR, 8080, false);
	struct conn d22 = conn_new(FR, BK, 8088, false), d23 = conn_new(FR, BK, 8088, false);
	const int order[] = {FR, BK, CL, CL2};

	(void)state;
	/* the reader reads the three at 101 ms; the workers call from 102 ms */
	request(s, &c1, 10, 11, 20, 21, 100 * MS, "GET /q1 HTTP/1.1\r\n");
	request(s, &c2, 12, 13, 20, 21, 100 * MS + 10000, "GET /q2 HTTP/1.1\r\n");
	request(s, &c3, 14, 15, 20, 21, 100 * MS + 20000, "GET /q3 HTTP/1.1\r\n");
	request(s, &d22, 20, 22, 40, 41, 102 * MS, "GET /db/1 HTTP/1.1\r\n");
	request(s, &d23, 20, 23, 40, 42, 102 * MS + 5000, "GET /db/2 HTTP/1.1\r\n");
	respond(s, &d22, 20, 22, 40, 41, 103 * MS, "HTTP/1.1 200 OK\r\n");
	request(s, &d22, 20, 22, 40, 41, 104 * MS + MS / 2, "GET /db/11 HTTP/1.1\r\n");
	respond(s, &d23, 20, 23, 40, 42, 104 * MS + 5000, "HTTP/1.1 200 OK\r\n");
	respond(s, &c2, 12, 13, 20, 23, 105 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	respond(s, &d22, 20, 22, 40, 41, 106 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &c1, 10, 11, 20, 22, 107 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	/* worker 22 goes straight on with the next request in the queue */
	request(s, &d22, 20, 22, 40, 41, 108 * MS, "GET /db/3 HTTP/1.1\r\n");
	respond(s, &d22, 20, 22, 40, 41, 109 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &c3, 14, 15, 20, 22, 110 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	run(s, order, 4, out);

	assert_int_equal(out->n, 3);
	const struct got *g1 = traj_named(out, "GET /q1"), *g2 = traj_named(out, "GET /q2"),
			 *g3 = traj_named(out, "GET /q3");
	assert_int_equal(g1->t.nspans, 3);
	assert_int_equal(child_of(g1, "GET /db/1")->link, WEFT_LINK_RESPONSE);
	assert_int_equal(child_of(g1, "GET /db/11")->link, WEFT_LINK_RESPONSE);
	assert_int_equal(g2->t.nspans, 2);
	assert_int_equal(child_of(g2, "GET /db/2")->server.tid, 42);
	assert_int_equal(g3->t.nspans, 2);
	assert_int_equal(child_of(g3, "GET /db/3")->link, WEFT_LINK_RESPONSE);
	for (int i = 0; i < 3; i++)
		assert_false(out->traj[i].t.uncertain);
	free(s);
	free(out);
}

/* An event loop opens an upstream connection while handling /first, reads
 * /second before the handshake is done, then writes /first's request on the
 * new connection: the connection says whose it is, not what was read last.
 * Later the pooled connection carries /second's request. */
static void test_pooled_upstream(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = sink_new();
	struct conn c1 = conn_new(CL, FR, 80, false), c2 = conn_new(CL2, FR, 80, false);
	struct conn u = conn_new(FR, BK, 8080, false);
	const int order[] = {FR, BK, CL, CL2};
	const struct got *g;

	(void)state;
	/* on the front: /first read at 101 ms, connect() at 101.1, /second read
	 * at 102, the upstream request written at 102.5 */
	request(s, &c1, 10, 11, 20, 20, 100 * MS, "GET /first HTTP/1.1\r\n");
	connect_ev(s, &u, 20, 20, 101 * MS + 100000);
	request(s, &c2, 12, 13, 20, 20, 101 * MS, "GET /second HTTP/1.1\r\n");
	request(s, &u, 20, 20, 40, 41, 102 * MS + MS / 2, "GET /up/1 HTTP/1.1\r\n");
	respond(s, &u, 20, 20, 40, 41, 103 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &c1, 10, 11, 20, 20, 104 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	request(s, &u, 20, 20, 40, 41, 105 * MS, "GET /up/2 HTTP/1.1\r\n");
	respond(s, &u, 20, 20, 40, 41, 105 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	respond(s, &c2, 12, 13, 20, 20, 107 * MS, "HTTP/1.1 200 OK\r\n");
	run(s, order, 4, out);

	assert_int_equal(out->n, 2);
	g = traj_named(out, "GET /first");
	assert_int_equal(g->t.nspans, 2);
	assert_int_equal(child_of(g, "GET /up/1")->link, WEFT_LINK_CONNECT);
	assert_false(g->t.uncertain);
	g = traj_named(out, "GET /second");
	assert_int_equal(g->t.nspans, 2);
	assert_int_equal(child_of(g, "GET /up/2")->link, WEFT_LINK_THREAD);
	assert_false(g->t.uncertain);
	free(s);
	free(out);
}

/* A proxy reads two requests, then forwards both (HAProxy runs its tasks
 * after reading every ready socket): the request lines decide. When two
 * inbound requests have the same line, the forwards are guesses and every
 * candidate is flagged. */
static void test_proxy_forwarding(void **state)
{
	(void)state;
	for (int same = 0; same < 2; same++) {
		struct sim *s = sim_new();
		struct sink_state *out = sink_new();
		struct conn c1 = conn_new(CL, FR, 80, false), c2 = conn_new(CL2, FR, 80, false);
		struct conn u1 = conn_new(FR, BK, 8080, false), u2 = conn_new(FR, BK, 8080, false);
		const int order[] = {FR, BK, CL, CL2};
		const char *r1 = "GET /x?id=1 HTTP/1.1\r\nHost: a\r\n",
			   *r2 = same ? r1 : "GET /x?id=2 HTTP/1.1\r\nHost: a\r\n";

		request(s, &c1, 10, 11, 20, 20, 100 * MS, r1);
		request(s, &c2, 12, 13, 20, 20, 100 * MS + 5000, r2);
		request(s, &u1, 20, 20, 40, 41, 101 * MS, r1);
		request(s, &u2, 20, 20, 40, 42, 101 * MS + 5000, r2);
		respond(s, &u2, 20, 20, 40, 42, 102 * MS, "HTTP/1.1 200 OK\r\n");
		respond(s, &c2, 12, 13, 20, 20, 102 * MS + 5000, "HTTP/1.1 200 OK\r\n");
		respond(s, &u1, 20, 20, 40, 41, 103 * MS, "HTTP/1.1 200 OK\r\n");
		respond(s, &c1, 10, 11, 20, 20, 103 * MS + 5000, "HTTP/1.1 200 OK\r\n");
		run(s, order, 4, out);

		assert_int_equal(out->n, 2);
		for (int i = 0; i < 2; i++) {
			const struct got *g = &out->traj[i];

			assert_int_equal(g->t.nspans, 2);
			if (same) { /* flagged, and each still got one */
				assert_true(g->t.uncertain);
				assert_int_equal(g->spans[1].link, WEFT_LINK_GUESS);
				continue;
			}
			assert_false(g->t.uncertain);
			assert_int_equal(g->spans[1].link, WEFT_LINK_FORWARD);
			/* the same id in the upstream request as in the client's */
			assert_string_equal(g->spans[1].request, g->spans[0].request);
		}
		free(s);
		free(out);
	}
}

/* Node.js's Promise.all: each request starts two calls at once; a response
 * that completes nothing is read between another request's responses, and
 * the call that follows the last one belongs to the request whose response
 * came last. */
static void test_concurrent_calls(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = sink_new();
	struct conn ca = conn_new(CL, FR, 80, false), cb = conn_new(CL2, FR, 80, false);
	struct conn p1 = conn_new(FR, BK, 8081, false), p2 = conn_new(FR, MI, 8082, false),
		    p3 = conn_new(FR, BK, 8081, false), p4 = conn_new(FR, MI, 8082, false);
	const int order[] = {FR, MI, BK, CL, CL2};
	const struct got *g;

	(void)state;
	request(s, &ca, 10, 11, 20, 20, 100 * MS, "GET /a HTTP/1.1\r\n");
	request(s, &p1, 20, 20, 40, 41, 101 * MS + 100000, "GET /stock/a HTTP/1.1\r\n");
	request(s, &p2, 20, 20, 30, 31, 101 * MS + 200000, "GET /price/a HTTP/1.1\r\n");
	request(s, &cb, 12, 13, 20, 20, 101 * MS, "GET /b HTTP/1.1\r\n");
	request(s, &p3, 20, 20, 40, 42, 102 * MS + 100000, "GET /stock/b HTTP/1.1\r\n");
	request(s, &p4, 20, 20, 30, 32, 102 * MS + 200000, "GET /price/b HTTP/1.1\r\n");
	respond(s, &p1, 20, 20, 40, 41, 103 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &p3, 20, 20, 40, 42, 104 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &p2, 20, 20, 30, 31, 105 * MS, "HTTP/1.1 200 OK\r\n");
	request(s, &p1, 20, 20, 40, 41, 106 * MS + MS / 2, "GET /audit/a HTTP/1.1\r\n");
	respond(s, &p1, 20, 20, 40, 41, 107 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &ca, 10, 11, 20, 20, 108 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	respond(s, &p4, 20, 20, 30, 32, 109 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &cb, 12, 13, 20, 20, 110 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	run(s, order, 5, out);

	assert_int_equal(out->n, 2);
	g = traj_named(out, "GET /a");
	assert_int_equal(g->t.nspans, 4);
	assert_false(g->t.uncertain);
	child_of(g, "GET /stock/a");
	child_of(g, "GET /price/a");
	assert_int_equal(child_of(g, "GET /audit/a")->link, WEFT_LINK_ADJACENT);
	g = traj_named(out, "GET /b");
	assert_int_equal(g->t.nspans, 3);
	assert_false(g->t.uncertain);
	free(s);
	free(out);
}

/* A server's thread sends a request with nothing to go on and never answers
 * anything (a background job, or a worker whose reply another thread
 * writes): an uncertain root, and the request that was open in its process
 * at the time is flagged as possibly missing a child. */
static void test_undecided_orphan(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = sink_new();
	struct conn c1 = conn_new(CL, FR, 8080, false), d = conn_new(FR, BK, 6379, false);
	const int order[] = {FR, BK, CL};
	const struct got *g;

	(void)state;
	request(s, &c1, 10, 11, 20, 21, 100 * MS, "GET /job HTTP/1.1\r\n");
	request(s, &d, 20, 29, 40, 41, 101 * MS + MS / 2, "*1\r\n$4\r\nPING\r\n");
	respond(s, &d, 20, 29, 40, 41, 102 * MS, "+PONG\r\n");
	respond(s, &c1, 10, 11, 20, 21, 103 * MS, "HTTP/1.1 200 OK\r\n");
	run(s, order, 3, out);

	assert_int_equal(out->n, 2);
	g = traj_named(out, "REDIS PING");
	assert_true(g->t.uncertain);
	assert_int_equal(g->spans[0].link, WEFT_LINK_UNDECIDED);
	g = traj_named(out, "GET /job");
	assert_int_equal(g->t.nspans, 1);
	assert_true(g->t.uncertain);
	assert_true(g->spans[0].incomplete);
	free(s);
	free(out);
}

/* The coroutine of the last event the host reported (a Go program's). */
static void coro(struct sim *s, int host, uint64_t g)
{
	s->ev[host][s->n[host] - 1].e.coroutine = g;
}

/* Goroutine waker of a Go program (pid 20, thread tid) made woken runnable
 * at ts (runtime.goready). */
static void wake_ev(struct sim *s, int host, uint32_t tid, uint64_t waker, uint64_t woken,
		    uint64_t ts)
{
	struct weft_event *e;

	assert_true(s->n[host] < MAX_EVENTS);
	e = &s->ev[host][s->n[host]++].e;
	memset(e, 0, sizeof(*e));
	e->type = WEFT_EV_WAKE;
	e->pid = 20;
	e->tid = tid;
	e->ts_ns = ts + s->skew[host];
	e->coroutine = waker;
	e->sock_id = woken;
}

/* A Go service (pid 20, threads 21 and 22): goroutine 0xa1 reads /a and
 * waits on a channel (a pool of connections) without a system call; 0xb2
 * reads /b on the same thread and calls Redis; 0xa1 then calls Redis from
 * the other thread and hands its back-end call to net/http's writer
 * goroutine 0xc3 (which never receives anything) through a channel. The
 * thread alone would give /a's Redis call to /b; the goroutines and the
 * hand-off put everything in its place. */
static void test_goroutines(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = sink_new();
	struct conn ca = conn_new(CL, FR, 8090, false), cb = conn_new(CL2, FR, 8090, false);
	struct conn r1 = conn_new(FR, MI, 6379, false), r2 = conn_new(FR, MI, 6379, false);
	struct conn u = conn_new(FR, BK, 8000, false);
	const int order[] = {FR, MI, BK, CL, CL2};
	const struct got *g;

	(void)state;
	request(s, &ca, 10, 11, 20, 21, 100 * MS, "GET /go?a HTTP/1.1\r\n");
	coro(s, FR, 0xa1);
	request(s, &cb, 12, 13, 20, 21, 101 * MS, "GET /go?b HTTP/1.1\r\n");
	coro(s, FR, 0xb2);
	request(s, &r2, 20, 21, 30, 31, 102 * MS + MS / 2, "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
	coro(s, FR, 0xb2);
	request(s, &r1, 20, 22, 30, 32, 103 * MS, "*2\r\n$3\r\nSET\r\n$1\r\na\r\n");
	coro(s, FR, 0xa1);
	respond(s, &r1, 20, 22, 30, 32, 104 * MS, "+OK\r\n");
	coro(s, FR, 0xa1);
	wake_ev(s, FR, 22, 0xa1, 0xc3, 105 * MS + MS / 4);
	request(s, &u, 20, 22, 40, 41, 105 * MS + MS / 2, "GET /back?a HTTP/1.1\r\n");
	coro(s, FR, 0xc3);
	respond(s, &r2, 20, 21, 30, 31, 106 * MS, "$1\r\nx\r\n");
	coro(s, FR, 0xb2);
	respond(s, &cb, 12, 13, 20, 21, 107 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	coro(s, FR, 0xb2);
	respond(s, &u, 20, 21, 40, 41, 108 * MS, "HTTP/1.1 200 OK\r\n");
	coro(s, FR, 0xd4); /* net/http's reader goroutine */
	respond(s, &ca, 10, 11, 20, 21, 109 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	coro(s, FR, 0xa1);
	run(s, order, 5, out);

	assert_int_equal(out->n, 2);
	g = traj_named(out, "GET /go?a");
	assert_int_equal(g->t.nspans, 3);
	assert_false(g->t.uncertain);
	assert_int_equal(child_of(g, "REDIS SET")->link, WEFT_LINK_ADJACENT);
	assert_int_equal(child_of(g, "GET /back?a")->link, WEFT_LINK_WAKEUP);
	g = traj_named(out, "GET /go?b");
	assert_int_equal(g->t.nspans, 2);
	assert_false(g->t.uncertain);
	child_of(g, "REDIS GET");
	free(s);
	free(out);
}

/* net/http dials a connection for /a's goroutine (0xa1) from a dialer
 * goroutine (0xd1) that runs on /a's thread; by the time it is up, /a took
 * an idle one, and the dialer hands the new connection to /b's goroutine
 * (0xb2) instead. A writer goroutine created with the connection (0xc5,
 * never woken: the request was waiting in its channel) sends /b's request
 * on it. What the dialer's thread worked for would say /a; whom the dialer
 * handed the connection to says /b. A writer that nothing handed work to
 * and that reuses a connection is undecided, not guessed from its thread. */
static void test_dial_hand_off(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = sink_new();
	struct conn ca = conn_new(CL, FR, 8090, false), cb = conn_new(CL2, FR, 8090, false);
	struct conn u = conn_new(FR, BK, 8000, false), v = conn_new(FR, BK, 8000, false);
	const int order[] = {FR, BK, CL, CL2};
	const struct got *g;

	(void)state;
	request(s, &ca, 10, 11, 20, 21, 100 * MS, "GET /go?a HTTP/1.1\r\n");
	coro(s, FR, 0xa1);
	request(s, &cb, 12, 13, 20, 22, 100 * MS + MS / 2, "GET /go?b HTTP/1.1\r\n");
	coro(s, FR, 0xb2);
	connect_ev(s, &u, 20, 21, 101 * MS + MS / 4);
	coro(s, FR, 0xd1);
	wake_ev(s, FR, 21, 0xd1, 0xe7, 101 * MS + MS / 2); /* a runtime helper first */
	wake_ev(s, FR, 21, 0xe7, 0xd1, 101 * MS + MS / 2 + 1000);
	wake_ev(s, FR, 21, 0xd1, 0xb2, 102 * MS);
	request(s, &u, 20, 22, 40, 41, 102 * MS + MS / 2, "GET /back?b HTTP/1.1\r\n");
	coro(s, FR, 0xc5);
	request(s, &v, 20, 21, 40, 42, 103 * MS, "GET /back?a HTTP/1.1\r\n");
	coro(s, FR, 0xc6);
	respond(s, &u, 20, 22, 40, 41, 104 * MS, "HTTP/1.1 200 OK\r\n");
	coro(s, FR, 0xb2);
	respond(s, &v, 20, 21, 40, 42, 104 * MS + MS / 2, "HTTP/1.1 200 OK\r\n");
	coro(s, FR, 0xa1);
	respond(s, &cb, 12, 13, 20, 22, 106 * MS, "HTTP/1.1 200 OK\r\n");
	coro(s, FR, 0xb2);
	respond(s, &ca, 10, 11, 20, 21, 107 * MS, "HTTP/1.1 200 OK\r\n");
	coro(s, FR, 0xa1);
	run(s, order, 4, out);

	g = traj_named(out, "GET /go?b");
	assert_int_equal(g->t.nspans, 2);
	assert_int_equal(child_of(g, "GET /back?b")->link, WEFT_LINK_CONNECT);
	assert_false(child_of(g, "GET /back?b")->uncertain);
	g = traj_named(out, "GET /back?a"); /* nothing handed 0xc6 its work */
	assert_int_equal(g->spans[0].link, WEFT_LINK_UNDECIDED);
	assert_true(g->t.uncertain);
	/* and both requests open then may miss it */
	assert_true(traj_named(out, "GET /go?a")->spans[0].incomplete);
	assert_true(traj_named(out, "GET /go?b")->spans[0].incomplete);
	free(s);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interleaved_event_loop),
	    cmocka_unit_test(test_queue_hand_off),
	    cmocka_unit_test(test_pooled_upstream),
	    cmocka_unit_test(test_proxy_forwarding),
	    cmocka_unit_test(test_concurrent_calls),
	    cmocka_unit_test(test_undecided_orphan),
	    cmocka_unit_test(test_goroutines),
	    cmocka_unit_test(test_dial_hand_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

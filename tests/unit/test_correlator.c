/* The correlator on synthetic event streams: each scenario writes the events
 * the sensors of several hosts would report, feeds them host by host in a
 * chosen order, and checks the trajectories that come out. */
#include "corr_sim.h"

/* client -> front -> middle -> back; NAT between client and front; the
 * front's clock 5 s ahead; hosts fed last-tier first. */
static void test_chain_nat_skew_out_of_order(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, true), b = conn_new(FR, MI, 8081, false),
		    c = conn_new(MI, BK, 5432, false);
	const int order[] = {BK, MI, FR, CL};
	const struct got *g;

	(void)state;
	s->skew[FR] = 5000 * MS;
	s->skew[BK] = -3000 * MS;
	request(s, &a, 10, 11, 20, 21, 100 * MS, "GET /home HTTP/1.1\r\n");
	request(s, &b, 20, 21, 30, 31, 103 * MS, "GET /mid HTTP/1.1\r\n");
	request(s, &c, 30, 31, 40, 41, 106 * MS, "Q\0\0\0\x10SELECT 1");
	respond(s, &c, 30, 31, 40, 41, 110 * MS, "T");
	respond(s, &b, 20, 21, 30, 31, 115 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a, 10, 11, 20, 21, 120 * MS, "HTTP/1.1 200 OK\r\n");
	run(s, order, 4, out);

	assert_int_equal(out->n, 1);
	g = &out->traj[0];
	assert_int_equal(g->t.nspans, 3);
	assert_int_equal(g->t.depth, 3);
	assert_false(g->t.uncertain);
	assert_string_equal(g->spans[0].request, "GET /home");
	assert_int_equal(g->spans[0].parent, 0);
	assert_string_equal(g->spans[1].request, "GET /mid");
	assert_int_equal(g->spans[1].parent, g->spans[0].id);
	assert_int_equal(g->spans[2].parent, g->spans[1].id);
	for (int i = 0; i < 3; i++) {
		assert_true(g->spans[i].client.observed);
		assert_true(g->spans[i].server.observed);
	}
	assert_string_equal(g->spans[0].client.host, "client");
	assert_string_equal(g->spans[0].server.host, "front");
	assert_string_equal(g->spans[2].server.host, "back");
	assert_int_equal(g->spans[0].status, 200);
	/* Stored times stay the hosts' own; the display offset undoes the skew. */
	assert_true(g->spans[0].server.start_ns > g->spans[0].client.start_ns + 4000 * MS);
	assert_true(g->spans[0].server.start_ns + g->spans[0].display_offset_ns >=
		    g->spans[0].client.start_ns);
	assert_true(g->spans[0].server.end_ns + g->spans[0].display_offset_ns <=
		    g->spans[0].client.end_ns);
	free(s);
	free(out);
}

/* Three requests on one keep-alive connection, each calling the back end on
 * another keep-alive connection. */
static void test_keep_alive(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, false), b = conn_new(FR, BK, 6379, false);
	const int order[] = {FR, BK, CL};
	char req[64], sub[64];

	(void)state;
	for (int i = 0; i < 3; i++) {
		uint64_t t = (100 + 50 * i) * MS;

		snprintf(req, sizeof(req), "GET /item/%d HTTP/1.1\r\n", i);
		snprintf(sub, sizeof(sub), "*2\r\n$3\r\nGET\r\n$5\r\nitem%d\r\n", i);
		request(s, &a, 10, 11, 20, 21, t, req);
		request(s, &b, 20, 21, 40, 41, t + 3 * MS, sub);
		respond(s, &b, 20, 21, 40, 41, t + 6 * MS, "$3\r\nabc\r\n");
		respond(s, &a, 10, 11, 20, 21, t + 9 * MS, "HTTP/1.1 200 OK\r\n");
	}
	run(s, order, 3, out);
	assert_int_equal(out->n, 3);
	for (int i = 0; i < 3; i++) {
		const struct got *g;

		snprintf(req, sizeof(req), "GET /item/%d", i);
		g = traj_named(out, req);
		assert_int_equal(g->t.nspans, 2);
		assert_string_equal(g->spans[1].request, "REDIS GET");
		assert_int_equal(g->spans[1].protocol, WEFT_PROTO_REDIS);
		/* the right child: its bytes came after this request's */
		assert_true(g->spans[1].client.start_ns > g->spans[0].server.start_ns);
		assert_true(g->spans[1].client.end_ns < g->spans[0].server.end_ns);
	}
	free(s);
	free(out);
}

/* Two requests sent back to back before any response: one run of bytes,
 * one exchange, both downstream calls inside it. */
static void test_pipelining(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, false), b = conn_new(FR, BK, 8081, false);
	const int order[] = {CL, FR, BK};

	(void)state;
	request(s, &a, 10, 11, 20, 21, 100 * MS, "GET /1 HTTP/1.1\r\n");
	request(s, &a, 10, 11, 20, 21, 100 * MS + 10, "GET /2 HTTP/1.1\r\n");
	request(s, &b, 20, 21, 40, 41, 104 * MS, "GET /b1 HTTP/1.1\r\n");
	respond(s, &b, 20, 21, 40, 41, 106 * MS, "HTTP/1.1 200 OK\r\n");
	request(s, &b, 20, 21, 40, 41, 108 * MS, "GET /b2 HTTP/1.1\r\n");
	respond(s, &b, 20, 21, 40, 41, 110 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a, 10, 11, 20, 21, 112 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a, 10, 11, 20, 21, 112 * MS + 10, "HTTP/1.1 200 OK\r\n");
	run(s, order, 3, out);
	assert_int_equal(out->n, 1);
	assert_int_equal(out->traj[0].t.nspans, 3);
	assert_string_equal(out->traj[0].spans[0].request, "GET /1");
	assert_false(out->traj[0].t.uncertain);
	free(s);
	free(out);
}

/* A thread pool: two workers of one process serve two clients at the same
 * time, each calling the back end. And a pre-forked server: two processes. */
static void check_two_workers(uint32_t pid_a, uint32_t pid_b)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a1 = conn_new(CL, FR, 80, false), a2 = conn_new(CL2, FR, 80, false);
	struct conn b1 = conn_new(FR, BK, 8081, false), b2 = conn_new(FR, BK, 8081, false);
	const int order[] = {BK, CL2, FR, CL};

	request(s, &a1, 10, 11, pid_a, 201, 100 * MS, "GET /one HTTP/1.1\r\n");
	request(s, &a2, 12, 13, pid_b, 202, 101 * MS, "GET /two HTTP/1.1\r\n");
	request(s, &b2, pid_b, 202, 40, 41, 103 * MS, "GET /two-sub HTTP/1.1\r\n");
	request(s, &b1, pid_a, 201, 40, 42, 104 * MS, "GET /one-sub HTTP/1.1\r\n");
	respond(s, &b1, pid_a, 201, 40, 42, 106 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &b2, pid_b, 202, 40, 41, 107 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a2, 12, 13, pid_b, 202, 109 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a1, 10, 11, pid_a, 201, 110 * MS, "HTTP/1.1 200 OK\r\n");
	run(s, order, 4, out);
	assert_int_equal(out->n, 2);
	assert_string_equal(traj_named(out, "GET /one")->spans[1].request, "GET /one-sub");
	assert_string_equal(traj_named(out, "GET /two")->spans[1].request, "GET /two-sub");
	assert_false(traj_named(out, "GET /one")->t.uncertain);
	assert_int_equal(span_named(traj_named(out, "GET /two"), "GET /two-sub")->server.tid, 41);
	free(s);
	free(out);
}

static void test_thread_pool(void **state)
{
	(void)state;
	check_two_workers(20, 20);
}

static void test_prefork(void **state)
{
	(void)state;
	check_two_workers(20, 21);
}

/* One thread reads two requests before it calls anything: which one the
 * call belongs to cannot be told, and both trajectories say so. */
static void test_event_loop_uncertain(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a1 = conn_new(CL, FR, 80, false), a2 = conn_new(CL2, FR, 80, false);
	struct conn b = conn_new(FR, BK, 8081, false);
	const int order[] = {CL, CL2, FR, BK};
	const struct got *g;

	(void)state;
	request(s, &a1, 10, 11, 20, 20, 100 * MS, "GET /one HTTP/1.1\r\n");
	request(s, &a2, 12, 13, 20, 20, 101 * MS, "GET /two HTTP/1.1\r\n");
	request(s, &b, 20, 20, 40, 41, 103 * MS, "GET /sub HTTP/1.1\r\n");
	respond(s, &b, 20, 20, 40, 41, 105 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a1, 10, 11, 20, 20, 107 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a2, 12, 13, 20, 20, 108 * MS, "HTTP/1.1 200 OK\r\n");
	run(s, order, 4, out);
	assert_int_equal(out->n, 2);
	g = traj_named(out, "GET /two");
	assert_int_equal(g->t.nspans, 2);
	assert_true(g->t.uncertain);
	assert_true(span_named(g, "GET /sub")->uncertain);
	assert_int_equal(span_named(g, "GET /sub")->link, WEFT_LINK_GUESS);
	/* /one was read and not acted on: the call may be its, so its tree is
	 * flagged as possibly missing a child. */
	g = traj_named(out, "GET /one");
	assert_true(g->t.uncertain);
	assert_true(g->spans[0].incomplete);
	free(s);
	free(out);
}

/* Two applications that share no connection never share a trajectory. */
static void test_two_applications(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, false), b = conn_new(FR, BK, 8081, false);
	struct conn x = conn_new(CL2, FR2, 80, false), y = conn_new(FR2, MI, 8081, false);
	const int order[] = {FR2, FR, MI, BK, CL, CL2};

	(void)state;
	request(s, &a, 10, 11, 20, 21, 100 * MS, "GET /shop HTTP/1.1\r\n");
	request(s, &x, 12, 13, 22, 23, 100 * MS, "GET /blog HTTP/1.1\r\n");
	request(s, &b, 20, 21, 40, 41, 102 * MS, "GET /shop-db HTTP/1.1\r\n");
	request(s, &y, 22, 23, 30, 31, 102 * MS, "GET /blog-db HTTP/1.1\r\n");
	respond(s, &b, 20, 21, 40, 41, 104 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &y, 22, 23, 30, 31, 104 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a, 10, 11, 20, 21, 106 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &x, 12, 13, 22, 23, 106 * MS, "HTTP/1.1 200 OK\r\n");
	run(s, order, 6, out);
	assert_int_equal(out->n, 2);
	assert_string_equal(span_named(traj_named(out, "GET /shop"), "GET /shop-db")->server.host,
			    "back");
	assert_string_equal(span_named(traj_named(out, "GET /blog"), "GET /blog-db")->server.host,
			    "middle");
	assert_int_not_equal(traj_named(out, "GET /shop")->t.root_service,
			     traj_named(out, "GET /blog")->t.root_service);
	free(s);
	free(out);
}

/* A refused connect and a 503 inside a request: failed spans, and the slow
 * span found as the root cause. */
static void test_errors_and_root_cause(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, false), b = conn_new(FR, BK, 8081, false);
	const int order[] = {CL, FR, BK};
	const struct got *g;

	(void)state;
	request(s, &a, 10, 11, 20, 21, 100 * MS, "GET /pay HTTP/1.1\r\n");
	put(s, FR, WEFT_EV_CONNECT, WEFT_ROLE_CLIENT, 77, 20, 21, 0, 0, 102 * MS, NULL, 41000, 9999,
	    2, 9);
	s->ev[FR][s->n[FR] - 1].e.err = -111;
	request(s, &b, 20, 21, 40, 41, 103 * MS, "GET /slow HTTP/1.1\r\n");
	respond(s, &b, 20, 21, 40, 41, 403 * MS, "HTTP/1.1 503 Service Unavailable\r\n");
	respond(s, &a, 10, 11, 20, 21, 405 * MS, "HTTP/1.1 503 Service Unavailable\r\n");
	run(s, order, 3, out);
	assert_int_equal(out->n, 1);
	g = &out->traj[0];
	assert_int_equal(g->t.nspans, 3);
	assert_true(g->t.error);
	assert_true(span_named(g, "connect")->error);
	assert_string_equal(span_named(g, "connect")->error_text, "connection refused");
	assert_int_equal(span_named(g, "GET /slow")->status, 503);
	assert_true(span_named(g, "GET /slow")->error);
	assert_int_equal(g->t.slowest_span, span_named(g, "GET /slow")->id);
	free(s);
	free(out);
}

/* A tier's batch arrives after its callee's trajectory was emitted: the
 * early, partial trajectory is retracted and replaced by the whole one. */
static void test_late_parent_retracts(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, false), b = conn_new(FR, BK, 8081, false);
	struct corr_opts o = {.settle_ns = 10, .keep_ns = 60000 * MS};
	struct corr_sink sink = {.trajectory = on_traj, .retract = on_retract, .ctx = out};
	struct correlator *c = correlator__new(&o, &sink);
	uint64_t now = 1;

	(void)state;
	request(s, &a, 10, 11, 20, 21, 100 * MS, "GET /late HTTP/1.1\r\n");
	request(s, &b, 20, 21, 40, 41, 102 * MS, "GET /early HTTP/1.1\r\n");
	respond(s, &b, 20, 21, 40, 41, 104 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a, 10, 11, 20, 21, 106 * MS, "HTTP/1.1 200 OK\r\n");
	for (int j = 0; j < s->n[BK]; j++)
		correlator__feed(c, "back", &s->ev[BK][j].e, now);
	correlator__tick(c, now += 1000);
	assert_int_equal(out->n, 1); /* the back end's view alone */
	for (int h = CL; h <= FR; h++)
		for (int j = 0; j < s->n[h]; j++)
			correlator__feed(c, s->names[h], &s->ev[h][j].e, now);
	correlator__tick(c, now += 1000);
	assert_int_equal(out->n, 1);
	assert_int_equal(out->retracted, 1);
	assert_int_equal(out->traj[0].t.nspans, 2);
	assert_string_equal(out->traj[0].spans[0].request, "GET /late");
	correlator__free(c);
	free(s);
	free(out);
}

/* A host's batch that only adds to a trajectory (the same root) updates it
 * in place, flagged as a revision so that the store replaces its spans. */
static void test_revision_in_place(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, false), b = conn_new(FR, BK, 8081, false);
	struct corr_opts o = {.settle_ns = 10, .keep_ns = 60000 * MS};
	struct corr_sink sink = {.trajectory = on_traj, .retract = on_retract, .ctx = out};
	struct correlator *c = correlator__new(&o, &sink);
	uint64_t now = 1, id;

	(void)state;
	request(s, &a, 10, 11, 20, 21, 100 * MS, "GET /whole HTTP/1.1\r\n");
	request(s, &b, 20, 21, 40, 41, 102 * MS, "GET /part HTTP/1.1\r\n");
	respond(s, &b, 20, 21, 40, 41, 104 * MS, "HTTP/1.1 200 OK\r\n");
	respond(s, &a, 10, 11, 20, 21, 106 * MS, "HTTP/1.1 200 OK\r\n");
	for (int h = CL; h <= FR; h++)
		for (int j = 0; j < s->n[h]; j++)
			correlator__feed(c, s->names[h], &s->ev[h][j].e, now);
	correlator__tick(c, now += 1000);
	assert_int_equal(out->n, 1);
	assert_false(out->traj[0].t.revised);
	id = out->traj[0].t.id;
	for (int j = 0; j < s->n[BK]; j++)
		correlator__feed(c, "back", &s->ev[BK][j].e, now);
	correlator__tick(c, now += 1000);
	assert_int_equal(out->n, 1);
	assert_int_equal(out->retracted, 0);
	assert_int_equal(out->traj[0].t.id, id);
	assert_true(out->traj[0].t.revised);
	assert_true(out->traj[0].spans[1].server.observed); /* the back end's side, added */
	correlator__free(c);
	free(s);
	free(out);
}

static void call(struct correlator *c, uint32_t tid, uint64_t start, uint64_t end, const char *name,
		 uint64_t now)
{
	struct weft_call k = {.pid = 20, .tid = tid, .start_ns = start, .end_ns = end};

	snprintf(k.name, sizeof(k.name), "%s", name);
	correlator__call(c, "front", &k, now);
}

/* Method calls of the front's serving thread nest in its span: one that
 * comes before the trajectory is assembled is in its first emission; one
 * that comes after makes it emitted again, the inner call now under the
 * outer one. Calls of another thread, or outside the exchange, match
 * nothing and are counted once they expire. */
static void test_method_calls(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, false);
	struct corr_opts o = {.settle_ns = 10, .keep_ns = 60000 * MS};
	struct corr_sink sink = {.trajectory = on_traj, .retract = on_retract, .ctx = out};
	struct correlator *c = correlator__new(&o, &sink);
	const struct weft_span *root, *outer, *inner;
	struct corr_stats st;
	uint64_t now = 1;

	(void)state;
	request(s, &a, 10, 11, 20, 21, 100 * MS, "GET /m HTTP/1.1\r\n");
	respond(s, &a, 10, 11, 20, 21, 110 * MS, "HTTP/1.1 200 OK\r\n");
	for (int h = CL; h <= FR; h++)
		for (int j = 0; j < s->n[h]; j++)
			correlator__feed(c, s->names[h], &s->ev[h][j].e, now);
	call(c, 21, 103 * MS, 104 * MS, "A.inner", now); /* before assembly: waits */
	call(c, 22, 102 * MS, 103 * MS, "B.other", now); /* another thread */
	call(c, 21, 90 * MS, 91 * MS, "A.before", now);	 /* before the request came */
	correlator__tick(c, now += 1000);
	assert_int_equal(out->n, 1);
	assert_int_equal(out->traj[0].t.nspans, 2);
	assert_false(out->traj[0].t.revised);
	inner = span_named(&out->traj[0], "A.inner");
	assert_non_null(inner);
	assert_int_equal(inner->protocol, WEFT_PROTO_METHOD);
	assert_int_equal(inner->parent, out->traj[0].t.id);

	call(c, 21, 102 * MS, 108 * MS, "A.outer", now); /* after emission: taken late */
	correlator__tick(c, now += 1000);
	assert_int_equal(out->n, 1);
	assert_true(out->traj[0].t.revised);
	assert_int_equal(out->traj[0].t.nspans, 3);
	assert_int_equal(out->traj[0].t.depth, 3);
	root = span_named(&out->traj[0], "GET /m");
	outer = span_named(&out->traj[0], "A.outer");
	inner = span_named(&out->traj[0], "A.inner");
	assert_non_null(root);
	assert_non_null(outer);
	assert_non_null(inner);
	assert_int_equal(outer->parent, root->id);
	assert_int_equal(inner->parent, outer->id);
	assert_true(outer->server.observed && !outer->client.observed);
	assert_int_equal(outer->server.tid, 21);
	assert_int_equal(outer->server.start_ns, 102 * MS);
	assert_int_equal(outer->server.end_ns, 108 * MS);
	assert_int_equal(outer->server_service, root->server_service);

	correlator__tick(c, now += o.keep_ns + 1);
	correlator__stats(c, &st);
	assert_int_equal(st.calls, 4);
	assert_int_equal(st.calls_unmatched, 2);
	correlator__free(c);
	free(s);
	free(out);
}

/* A server reads a request's first byte alone, then the rest (Go's server
 * does): the sensor sends the rest's first bytes too, and the request is
 * named from all of them. */
static void test_request_in_pieces(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct conn a = conn_new(CL, FR, 80, false);
	const int order[] = {FR, CL};
	struct weft_event *e;

	(void)state;
	request(s, &a, 10, 11, 20, 21, 100 * MS, "GET /split?x=1 HTTP/1.1\r\n");
	/* the front's read: first "G" alone, then the rest */
	e = &s->ev[FR][0].e;
	e->payload_len = 1;
	e->len = 1;
	put(s, FR, WEFT_EV_RECV, WEFT_ROLE_SERVER, a.ssock, 20, 21, e->seq + 1, 122, 101 * MS + 10,
	    "ET /split?x=1 HTTP/1.1\r\n", a.sport, a.cport_seen, a.saddr, 98);
	s->ev[FR][1].e.flags = WEFT_EVF_MORE;
	respond(s, &a, 10, 11, 20, 21, 103 * MS, "HTTP/1.1 200 OK\r\n");
	/* the client side named it whole: only the front names the span */
	s->ev[CL][0].e.payload_len = 0;
	run(s, order, 2, out);
	assert_int_equal(out->n, 1);
	assert_string_equal(out->traj[0].spans[0].request, "GET /split?x=1");
	free(s);
	free(out);
}

/* A correlator bounded far below its load: 60 requests through front and
 * back, at most 30 exchanges in memory, ticking as the events come. It
 * stays within its bound, counts what it forgot, and every tree that lost
 * a part says so. */
static void test_bounded_memory(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	struct corr_opts o = {.settle_ns = 100 * MS, .keep_ns = 60000 * MS, .max_exchanges = 30};
	struct corr_sink sink = {.trajectory = on_traj, .retract = on_retract, .ctx = out};
	struct correlator *c = correlator__new(&o, &sink);
	const int order[] = {CL, FR, BK};
	struct corr_stats st;
	uint64_t now = 0;
	int partial = 0;

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < 60; i++) {
		struct conn a = conn_new(CL, FR, 80, false), b = conn_new(FR, BK, 8081, false);
		uint64_t t = (100 + 10 * (uint64_t)i) * MS;

		request(s, &a, 10, 11, 20, 21, t, "GET /front HTTP/1.1\r\n");
		request(s, &b, 20, 21, 30, 31, t + 2 * MS, "GET /back HTTP/1.1\r\n");
		respond(s, &b, 20, 21, 30, 31, t + 4 * MS, "HTTP/1.1 200 OK\r\n");
		respond(s, &a, 10, 11, 20, 21, t + 6 * MS, "HTTP/1.1 200 OK\r\n");
	}
	for (int k = 0; k < 3; k++) {
		for (int j = 0; j < s->n[order[k]]; j++) {
			correlator__feed(c, s->names[order[k]], &s->ev[order[k]][j].e, now += MS);
			if (j % 10 == 9) {
				correlator__tick(c, now);
				correlator__stats(c, &st);
				assert_true(st.live_halves <= 30);
			}
		}
	}
	correlator__tick(c, UINT64_MAX);
	correlator__stats(c, &st);
	assert_true(st.evicted_exchanges > 0);
	assert_true(st.evicted_connections > 0);
	for (int i = 0; i < out->n; i++) {
		const struct got *g = &out->traj[i];
		bool front = false, back = false, both = true;

		for (int j = 0; j < g->t.nspans; j++) {
			front |= !strcmp(g->spans[j].request, "GET /front");
			back |= !strcmp(g->spans[j].request, "GET /back");
			both &= g->spans[j].client.observed && g->spans[j].server.observed;
		}
		if (!(front && back && both)) {
			partial++;
			if (!g->t.uncertain)
				for (int j = 0; j < g->t.nspans; j++)
					print_message("# unflagged: %s client %d server %d\n",
						      g->spans[j].request,
						      g->spans[j].client.observed,
						      g->spans[j].server.observed);
			assert_true(g->t.uncertain);
		}
	}
	assert_true(partial > 0);
	correlator__free(c);
	free(s);
	free(out);
}

/* A public service: 20 clients no sensor saw, each from its own address.
 * The first 16 are nodes of their own, the rest one node, "*". */
static void test_many_external_clients(void **state)
{
	struct sim *s = sim_new();
	struct sink_state *out = calloc(1, sizeof(*out));
	const int order[] = {FR};
	uint64_t ids[20];
	int distinct = 0;

	(void)state;
	for (int i = 0; i < 20; i++) {
		uint64_t t = (100 + 10 * (uint64_t)i) * MS;

		put(s, FR, WEFT_EV_RECV, WEFT_ROLE_SERVER, 500 + i, 20, 21, 1000 * i, 40, t,
		    "GET /pub HTTP/1.1\r\n", 80, 40000, 2, (uint8_t)(100 + i));
		put(s, FR, WEFT_EV_SEND, WEFT_ROLE_SERVER, 500 + i, 20, 21, 7000 * i, 40, t + MS,
		    "HTTP/1.1 200 OK\r\n", 80, 40000, 2, (uint8_t)(100 + i));
	}
	run(s, order, 1, out);
	assert_int_equal(out->n, 20);
	for (int i = 0; i < 20; i++) {
		bool seen = false;

		ids[i] = out->traj[i].spans[0].client_service;
		for (int j = 0; j < i; j++)
			seen |= ids[j] == ids[i];
		distinct += !seen;
	}
	assert_int_equal(distinct, 17);
	free(s);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain_nat_skew_out_of_order),
	    cmocka_unit_test(test_keep_alive),
	    cmocka_unit_test(test_pipelining),
	    cmocka_unit_test(test_thread_pool),
	    cmocka_unit_test(test_prefork),
	    cmocka_unit_test(test_event_loop_uncertain),
	    cmocka_unit_test(test_two_applications),
	    cmocka_unit_test(test_errors_and_root_cause),
	    cmocka_unit_test(test_late_parent_retracts),
	    cmocka_unit_test(test_revision_in_place),
	    cmocka_unit_test(test_method_calls),
	    cmocka_unit_test(test_request_in_pieces),
	    cmocka_unit_test(test_bounded_memory),
	    cmocka_unit_test(test_many_external_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

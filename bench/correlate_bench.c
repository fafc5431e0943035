/* Correlation throughput and memory, on synthetic traffic.
 *
 *   build/bench/correlate_bench [EVENTS] [--store DB] [--metrics] [--otlp URL]
 *   build/bench/correlate_bench --flood CONNECTIONS [--max-exchanges N]
 *
 * Generates the events three hosts (client, front, back) would report for
 * client -> front -> back requests over many keep-alive connections, then
 * feeds them to one correlator on one thread and reports events per second;
 * with --store the trajectories go into a SQLite file through the store,
 * with --metrics they are counted for /metrics as the server does, and with
 * --otlp they are also exported as the server does (staged, queued at each
 * commit, sent by the exporter's thread). Then it opens many connections
 * with a request in flight and reports the correlator's heap per in-flight
 * connection. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/correlator.h"
#include "common/clock.h"
#include "common/heap.h"
#include "export/exporter.h"
#include "export/metrics.h"
#include "export/services.h"
#include "store/store.h"

#define CONNS 256

struct gen {
	struct weft_event *ev; /* fixed-size records: header + 32 payload bytes */
	const char **host;
	size_t n, cap;
};

#define REC_SIZE (sizeof(struct weft_event) + 32)

static struct weft_event *rec(struct gen *g, size_t i)
{
	return (struct weft_event *)((char *)g->ev + i * REC_SIZE);
}

static void put(struct gen *g, const char *host, uint8_t type, uint8_t role, uint64_t sock,
		uint32_t tid, uint32_t seq, uint32_t len, uint64_t ts, const char *payload,
		uint16_t lport, uint16_t rport)
{
	struct weft_event *e;

	if (g->n == g->cap)
		return;
	e = rec(g, g->n);
	memset(e, 0, REC_SIZE);
	e->type = type;
	e->role = role;
	e->sock_id = sock;
	e->pid = tid / 100 * 100;
	e->tid = tid;
	e->seq = seq;
	e->len = len;
	e->ts_ns = ts;
	e->duration_ns = 1000;
	e->family = 2;
	e->sport = lport;
	e->dport = rport;
	strcpy(e->comm, "svc");
	if (payload) {
		e->payload_len = (uint32_t)strlen(payload);
		memcpy(e->payload, payload, e->payload_len);
	}
	g->host[g->n++] = host;
}

/* One hop's request and response, both sides. */
static void hop(struct gen *g, const char *ch, const char *sh, uint64_t cs, uint64_t ss,
		uint32_t ctid, uint32_t stid, uint32_t *cseq, uint32_t *sseq, uint64_t t,
		uint16_t cport, uint16_t sport, int req)
{
	if (req) {
		put(g, ch, WEFT_EV_SEND, WEFT_ROLE_CLIENT, cs, ctid, *cseq, 200, t,
		    "GET /item HTTP/1.1\r\n", cport, sport);
		put(g, sh, WEFT_EV_RECV, WEFT_ROLE_SERVER, ss, stid, *cseq, 200, t + 1000,
		    "GET /item HTTP/1.1\r\n", sport, cport);
		*cseq += 200;
	} else {
		put(g, sh, WEFT_EV_SEND, WEFT_ROLE_SERVER, ss, stid, *sseq, 900, t,
		    "HTTP/1.1 200 OK\r\n", sport, cport);
		put(g, ch, WEFT_EV_RECV, WEFT_ROLE_CLIENT, cs, ctid, *sseq, 900, t + 1000,
		    "HTTP/1.1 200 OK\r\n", cport, sport);
		*sseq += 900;
	}
}

static void generate(struct gen *g)
{
	uint32_t seq[CONNS][4];
	uint64_t t = 1000000000ull;

	for (int k = 0; k < CONNS; k++)
		for (int j = 0; j < 4; j++)
			seq[k][j] = (uint32_t)(k * 7919u * (j + 1) + 17);
	for (uint64_t r = 0; g->n + 8 <= g->cap; r++) {
		int k = (int)(r % CONNS);
		uint64_t a = 10 + 4 * k, b = a + 1, c = a + 2, d = a + 3;

		/* client -> front (front tid k), front -> back (back tid k) */
		hop(g, "client", "front", a, b, 1000 + k, 2000 + k, &seq[k][0], &seq[k][1], t,
		    (uint16_t)(40000 + k), 80, 1);
		hop(g, "front", "back", c, d, 2000 + k, 3000 + k, &seq[k][2], &seq[k][3], t + 2000,
		    (uint16_t)(50000 + k), 5432, 1);
		hop(g, "front", "back", c, d, 2000 + k, 3000 + k, &seq[k][2], &seq[k][3], t + 4000,
		    (uint16_t)(50000 + k), 5432, 0);
		hop(g, "client", "front", a, b, 1000 + k, 2000 + k, &seq[k][0], &seq[k][1],
		    t + 6000, (uint16_t)(40000 + k), 80, 0);
		t += 10000;
	}
}

/* Where trajectories go: what the server's sink does, each part optional. */
struct bench_sink {
	struct store *store;
	struct svc_table *svcs;
	struct metrics *metrics;
	struct exporter *exporter;
};

static void sink_traj(const struct weft_trajectory *t, void *ctx)
{
	struct bench_sink *b = ctx;

	if (b->store)
		store__put_trajectory(b->store, t);
	if (b->metrics)
		metrics__trajectory(b->metrics, t, b->svcs, mono_ns());
	if (b->exporter)
		exporter__stage(b->exporter, t, b->svcs);
}

static void sink_retract(uint64_t id, void *ctx)
{
	struct bench_sink *b = ctx;

	if (b->store)
		store__delete_trajectory(b->store, id);
}

static void sink_service(const struct weft_service *svc, void *ctx)
{
	struct bench_sink *b = ctx;

	if (b->store)
		store__put_service(b->store, svc, 1);
	svc_table__put(b->svcs, svc);
}

static void bench_commit(struct bench_sink *b)
{
	store__commit(b->store);
	if (b->exporter)
		exporter__commit(b->exporter);
	store__begin(b->store);
}

static double throughput(struct gen *g, struct bench_sink *b)
{
	struct corr_opts o = {.settle_ns = 1000000, .keep_ns = 2000000000ull};
	struct corr_sink sink = {sink_traj, sink_retract, sink_service, b};
	struct correlator *c = correlator__new(&o, &sink);
	struct store *st = b->store;
	struct corr_stats cs;
	/* this thread's CPU: the exporter's thread is counted apart */
	uint64_t start = clock_ns(CLOCK_THREAD_CPUTIME_ID),
		 pstart = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	uint64_t now = 1;

	if (st)
		store__begin(st);
	for (size_t i = 0; i < g->n; i++) {
		correlator__feed(c, g->host[i], rec(g, i), now);
		if ((i & 4095) == 4095) { /* a tick every 4096 events, time moving on */
			now += 10000000;
			correlator__tick(c, now);
			/* a commit every 16,384 events: the server commits every
			 * 50 ms, which is this many at 330,000 events a second */
			if (st && (i & 16383) == 16383)
				bench_commit(b);
		}
	}
	correlator__tick(c, UINT64_MAX);
	if (st)
		store__commit(st);
	if (b->exporter)
		exporter__commit(b->exporter);
	correlator__stats(c, &cs);
	double secs = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - start) / 1e9;
	double others = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - pstart) / 1e9 - secs;
	printf("  %zu events, %llu exchanges, %llu matched, %llu trajectories written in %.3f s "
	       "CPU (%.3f s in other threads)\n",
	       g->n, (unsigned long long)cs.exchanges, (unsigned long long)cs.matched,
	       (unsigned long long)cs.trajectories, secs, others);
	correlator__free(c);
	return g->n / secs;
}

/* Heap held per connection with one request in flight on each side. */
static void memory_per_connection(void)
{
	struct corr_opts o = {.settle_ns = 1000000000ull, .keep_ns = 60000000000ull};
	struct corr_sink sink = {0};
	struct correlator *c = correlator__new(&o, &sink);
	struct gen g = {.cap = 2};
	size_t before, after;
	const int n = 100000;

	g.ev = calloc(2, REC_SIZE);
	g.host = calloc(2, sizeof(char *));
	before = mallinfo2().uordblks;
	for (int k = 0; k < n; k++) {
		g.n = 0;
		put(&g, "client", WEFT_EV_SEND, WEFT_ROLE_CLIENT, 1000000 + 2 * k, 7, k * 31u, 200,
		    1000, "GET / HTTP/1.1\r\n", 40000, 80);
		put(&g, "front", WEFT_EV_RECV, WEFT_ROLE_SERVER, 1000001 + 2 * k, 8 + k, k * 31u,
		    200, 2000, "GET / HTTP/1.1\r\n", 80, 40000);
		correlator__feed(c, g.host[0], rec(&g, 0), 1);
		correlator__feed(c, g.host[1], rec(&g, 1), 1);
	}
	after = mallinfo2().uordblks;
	printf("memory: %.0f bytes per in-flight connection (both ends, %d connections)\n",
	       (double)(after - before) / n, n);
	correlator__free(c);
	free(g.ev);
	free(g.host);
}

/* A flood: n connections, each with a request in flight on both sides and
 * nothing ever answered, ticking as the server does. The correlator's
 * bound (max exchanges, 0: its default) caps what it holds. */
static void memory_under_flood(int n, uint64_t max_exchanges)
{
	struct corr_opts o = {
	    .settle_ns = 1000000000ull, .keep_ns = 60000000000ull, .max_exchanges = max_exchanges};
	struct corr_sink sink = {0};
	struct correlator *c = correlator__new(&o, &sink);
	struct gen g = {.cap = 2};
	struct corr_stats st;
	size_t before, peak = 0, now;

	g.ev = calloc(2, REC_SIZE);
	g.host = calloc(2, sizeof(char *));
	before = mallinfo2().uordblks;
	for (int k = 0; k < n; k++) {
		g.n = 0;
		put(&g, "client", WEFT_EV_SEND, WEFT_ROLE_CLIENT, 1000000 + 2 * (uint64_t)k, 7,
		    k * 31u, 200, 1000, "GET / HTTP/1.1\r\n", 40000, 80);
		put(&g, "front", WEFT_EV_RECV, WEFT_ROLE_SERVER, 1000001 + 2 * (uint64_t)k, 8 + k,
		    k * 31u, 200, 2000, "GET / HTTP/1.1\r\n", 80, 40000);
		correlator__feed(c, g.host[0], rec(&g, 0), 1 + k);
		correlator__feed(c, g.host[1], rec(&g, 1), 1 + k);
		if (k % 100000 == 99999) {
			correlator__tick(c, 1 + k);
			if ((now = mallinfo2().uordblks) > peak)
				peak = now;
		}
	}
	correlator__stats(c, &st);
	printf("flood: %d connections in flight: heap %.0f MiB at most, %llu exchanges and %llu "
	       "connections held, %llu and %llu evicted, %llu threads evicted\n",
	       n, (double)(peak - before) / (1 << 20), (unsigned long long)st.live_halves,
	       (unsigned long long)st.endpoints, (unsigned long long)st.evicted_exchanges,
	       (unsigned long long)st.evicted_connections, (unsigned long long)st.evicted_threads);
	correlator__free(c);
	free(g.ev);
	free(g.host);
}

/* The exporter's counters once it has sent what it could (5 s at most). */
static void exporter_report(struct exporter *x)
{
	struct exporter_stats st;
	uint64_t start = mono_ns();

	for (int i = 0; i < 500; i++) {
		exporter__stats(x, &st);
		if (!st.queue_spans)
			break;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	exporter__stats(x, &st);
	printf("otlp: %llu spans queued, %llu sent in %llu requests, %llu dropped (queue full), "
	       "%llu failed; the queue drained %.2f s after the last commit\n",
	       (unsigned long long)st.queued, (unsigned long long)st.sent,
	       (unsigned long long)st.requests, (unsigned long long)st.dropped,
	       (unsigned long long)st.failed, (mono_ns() - start) / 1e9);
}

int main(int argc, char **argv)
{
	struct gen g = {.cap = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000};
	struct bench_sink b = {.svcs = svc_table__new()};
	struct store_opts so = {0};
	struct metrics_opts mo;
	struct exporter_opts xo;
	uint64_t flood_max = 0;
	int flood = 0;

	heap_keep_large_blocks(); /* as the server does */
	metrics_opts_defaults(&mo);
	exporter_opts_defaults(&xo);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--store") && i + 1 < argc) {
			b.store = store__open(argv[++i], &so);
			if (!b.store)
				return 1;
		} else if (!strcmp(argv[i], "--flood") && i + 1 < argc) {
			flood = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--max-exchanges") && i + 1 < argc) {
			flood_max = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--metrics") && !b.metrics) {
			b.metrics = metrics__new(&mo);
		} else if (!strcmp(argv[i], "--otlp") && i + 1 < argc) {
			xo.url = argv[++i];
			b.exporter = exporter__start(&xo);
			if (!b.metrics)
				b.metrics = metrics__new(&mo);
			if (!b.exporter)
				return 1;
		} else {
			fprintf(stderr,
				"usage: %s [EVENTS] [--store DB] [--metrics] [--otlp URL] "
				"[--flood CONNECTIONS [--max-exchanges N]]\n",
				argv[0]);
			return 2;
		}
	}
	if (flood) {
		memory_under_flood(flood, flood_max);
		return 0;
	}
	g.ev = malloc(g.cap * REC_SIZE);
	g.host = malloc(g.cap * sizeof(char *));
	if (!g.ev || !g.host || !b.svcs)
		return 1;
	generate(&g);
	printf("correlation %s%s%s:\n", b.store ? "with storage (SQLite)" : "without storage",
	       b.metrics ? ", metrics" : "", b.exporter ? ", OTLP export" : "");
	printf("throughput: %.0f events/s on one core\n", throughput(&g, &b));
	if (b.exporter)
		exporter_report(b.exporter);
	if (!b.store && !b.metrics)
		memory_per_connection();
	exporter__stop(b.exporter);
	metrics__free(b.metrics);
	svc_table__free(b.svcs);
	store__close(b.store);
	free(g.ev);
	free(g.host);
	return 0;
}

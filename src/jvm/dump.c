/* JSON replies (see dump.h). */
#include "jvm/dump.h"

#include <stdlib.h>
#include <string.h>

#include "jvm/gcring.h"
#include "jvm/registry.h"

struct agg {
	int64_t calls, total, min, max, thrown; /* over all threads */
	int64_t hist[DUMP_NB];
};

/* Walks the per-thread blocks; calls `fn` for each; -1 if malformed. */
typedef void (*thread_fn)(void *ctx, int64_t tid, int64_t unbalanced, const int64_t *stat,
			  size_t nstat);

static int walk(const int64_t *v, size_t n, thread_fn fn, void *ctx)
{
	if (n < 1 || v[0] < 0)
		return -1;
	size_t o = 1;
	for (int64_t t = 0; t < v[0]; t++) {
		if (o + 3 > n || v[o + 2] < 0 || (uint64_t)v[o + 2] > n - o - 3)
			return -1;
		fn(ctx, v[o], v[o + 1], v + o + 3, (size_t)v[o + 2]);
		o += 3 + (size_t)v[o + 2];
	}
	return o == n ? 0 : -1;
}

struct agg_ctx {
	struct agg *a;
	int nm;
};

static void add_thread(void *vctx, int64_t tid, int64_t unbalanced, const int64_t *s, size_t ns)
{
	struct agg_ctx *c = vctx;
	(void)tid;
	(void)unbalanced;
	for (int id = 0; id < c->nm && ((size_t)id + 1) * DUMP_STRIDE <= ns; id++) {
		const int64_t *m = s + (size_t)id * DUMP_STRIDE;
		struct agg *a = &c->a[id];
		if (m[0] <= 0)
			continue;
		if (!a->calls || m[2] < a->min)
			a->min = m[2];
		if (m[3] > a->max)
			a->max = m[3];
		a->calls += m[0];
		a->total += m[1];
		a->thrown += m[4];
		for (int k = 0; k < DUMP_NB; k++)
			a->hist[k] += m[5 + k];
	}
}

static void method_json(struct sbuf *out, int id, const struct agg *a)
{
	const struct method_entry *e = registry__get(id);
	sbuf__printf(out, "%s{\"id\":%d,\"class\":", id ? "," : "", id);
	sbuf__json_str(out, e ? e->cls : "");
	sbuf__printf(out, ",\"method\":");
	sbuf__json_str(out, e ? e->name : "");
	sbuf__printf(out, ",\"desc\":");
	sbuf__json_str(out, e ? e->desc : "");
	sbuf__printf(out,
		     ",\"calls\":%lld,\"exceptions\":%lld,\"total_ns\":%lld,\"min_ns\":%lld,"
		     "\"max_ns\":%lld,\"hist\":[",
		     (long long)a->calls, (long long)a->thrown, (long long)a->total,
		     (long long)a->min, (long long)a->max);
	/* Bucket k holds durations d with 2^(k-1) <= d < 2^k ns (k = 0: d = 0). */
	int first = 1;
	for (int k = 0; k < DUMP_NB; k++) {
		if (!a->hist[k])
			continue;
		sbuf__printf(out, "%s{\"ge_ns\":%lld,", first ? "" : ",", k ? 1LL << (k - 1) : 0LL);
		if (k < DUMP_NB - 1)
			sbuf__printf(out, "\"lt_ns\":%lld,", 1LL << k);
		sbuf__printf(out, "\"count\":%lld}", (long long)a->hist[k]);
		first = 0;
	}
	sbuf__printf(out, "]}");
}

struct thr_ctx {
	struct sbuf *out;
	int nm, first;
};

static void thread_json(void *vctx, int64_t tid, int64_t unbalanced, const int64_t *s, size_t ns)
{
	struct thr_ctx *c = vctx;
	int first = 1;
	sbuf__printf(c->out, "%s{\"tid\":%lld,\"unbalanced\":%lld,\"methods\":[",
		     c->first ? "" : ",", (long long)tid, (long long)unbalanced);
	c->first = 0;
	for (int id = 0; id < c->nm && ((size_t)id + 1) * DUMP_STRIDE <= ns; id++) {
		const int64_t *m = s + (size_t)id * DUMP_STRIDE;
		if (m[0] <= 0)
			continue;
		sbuf__printf(
		    c->out, "%s{\"id\":%d,\"calls\":%lld,\"total_ns\":%lld,\"exceptions\":%lld}",
		    first ? "" : ",", id, (long long)m[0], (long long)m[1], (long long)m[4]);
		first = 0;
	}
	sbuf__printf(c->out, "]}");
}

int dump__probe_json(const int64_t *snap, size_t n, struct sbuf *out)
{
	int nm = registry__count();
	struct agg *a = calloc(nm ? (size_t)nm : 1, sizeof(*a));
	struct agg_ctx ac = {a, nm};
	if (!a || walk(snap, n, add_thread, &ac)) {
		free(a);
		return -1;
	}
	sbuf__printf(out, "\"methods\":[");
	for (int id = 0; id < nm; id++)
		method_json(out, id, &a[id]);
	sbuf__printf(out, "],\"threads\":[");
	struct thr_ctx tc = {out, nm, 1};
	walk(snap, n, thread_json, &tc);
	sbuf__printf(out, "]");
	free(a);
	return 0;
}

int dump__calls_json(const int64_t *v, size_t n, struct sbuf *out)
{
	if (n < 1 || (n - 1) % 4)
		return -1;
	sbuf__printf(out, "{\"calls\":[");
	for (size_t i = 0; i + 1 < n; i += 4)
		sbuf__printf(out, "%s[%lld,%lld,%lld,%lld]", i ? "," : "", (long long)v[i],
			     (long long)v[i + 1], (long long)v[i + 2], (long long)v[i + 3]);
	sbuf__printf(out, "],\"lost\":%lld}", (long long)v[n - 1]);
	return 0;
}

void dump__gc_json(struct sbuf *out)
{
	static struct gc_pause p[GC_RING]; /* only the control thread calls this */
	struct gc_stats st;
	size_t k = gc_ring__snapshot(p, GC_RING, &st);
	sbuf__printf(out, "{\"count\":%llu,\"total_ns\":%llu,\"max_ns\":%llu,\"pauses\":[",
		     (unsigned long long)st.count, (unsigned long long)st.total_ns,
		     (unsigned long long)st.max_ns);
	for (size_t i = 0; i < k; i++)
		sbuf__printf(out, "%s[%llu,%llu]", i ? "," : "", (unsigned long long)p[i].start_ns,
			     (unsigned long long)p[i].end_ns);
	sbuf__printf(out, "]}");
}

/* GC pause ring (see gcring.h). Start and finish come from the one thread
 * that runs the collection, so there is a single writer; readers take a
 * consistent-enough copy through the published count. */
#include "jvm/gcring.h"

static struct gc_pause ring[GC_RING];
static uint64_t pending_start;	       /* start of the pause in progress */
static uint64_t count, total, longest; /* written by the single writer */

void gc_ring__start(uint64_t now_ns)
{
	__atomic_store_n(&pending_start, now_ns, __ATOMIC_RELAXED);
}

void gc_ring__finish(uint64_t now_ns)
{
	uint64_t s = __atomic_load_n(&pending_start, __ATOMIC_RELAXED);
	uint64_t n = __atomic_load_n(&count, __ATOMIC_RELAXED);
	if (!s || now_ns < s)
		s = now_ns;
	ring[n % GC_RING] = (struct gc_pause){s, now_ns};
	__atomic_store_n(&total, total + (now_ns - s), __ATOMIC_RELAXED);
	if (now_ns - s > longest)
		__atomic_store_n(&longest, now_ns - s, __ATOMIC_RELAXED);
	__atomic_store_n(&count, n + 1, __ATOMIC_RELEASE);
}

size_t gc_ring__snapshot(struct gc_pause *out, size_t max, struct gc_stats *st)
{
	uint64_t n = __atomic_load_n(&count, __ATOMIC_ACQUIRE);
	st->count = n;
	st->total_ns = __atomic_load_n(&total, __ATOMIC_RELAXED);
	st->max_ns = __atomic_load_n(&longest, __ATOMIC_RELAXED);
	uint64_t k = n < GC_RING ? n : GC_RING;
	if (k > max)
		k = max;
	for (uint64_t i = 0; i < k; i++)
		out[i] = ring[(n - k + i) % GC_RING];
	return (size_t)k;
}

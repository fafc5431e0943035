#include "load/histogram.h"

#include <string.h>

void hist__reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint32_t hist_bucket(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * HIST_SUB)
		return (uint32_t)v;
	msb = 63 - (unsigned)__builtin_clzll(v);
	if (msb >= HIST_MAX_BITS)
		return HIST_BUCKETS - 1;
	shift = msb - HIST_SUB_BITS; /* >= 1: the mantissa keeps HIST_SUB_BITS + 1 bits */
	return 2 * HIST_SUB + (shift - 1) * HIST_SUB + (uint32_t)((v >> shift) - HIST_SUB);
}

void hist_bucket_range(uint32_t b, uint64_t *lo, uint64_t *hi)
{
	unsigned shift;
	uint64_t mant;

	if (b < 2 * HIST_SUB) {
		*lo = *hi = b;
		return;
	}
	shift = (b - 2 * HIST_SUB) / HIST_SUB + 1;
	mant = HIST_SUB + (b - 2 * HIST_SUB) % HIST_SUB;
	*lo = mant << shift;
	*hi = ((mant + 1) << shift) - 1;
}

void hist__record(struct hist *h, uint64_t v)
{
	h->counts[hist_bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist__merge(struct hist *dst, const struct hist *src)
{
	if (!src->count)
		return;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist__quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, lo, hi, mid;

	if (!h->count)
		return 0;
	if (q >= 1.0)
		return h->max;
	rank = (uint64_t)(q * (double)h->count + 0.999999999);
	if (rank < 1)
		rank = 1;
	for (uint32_t b = 0; b < HIST_BUCKETS; b++) {
		seen += h->counts[b];
		if (seen < rank)
			continue;
		hist_bucket_range(b, &lo, &hi);
		mid = lo + (hi - lo) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max;
}

double hist__mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

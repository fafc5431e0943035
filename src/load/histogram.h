/* Latency histogram with log-linear buckets: values below 256 ns are exact,
 * above that each power of two is split into 128 equal buckets, so a bucket
 * is at most 1/128 of its lower bound wide and the midpoint reported for it
 * is within 0.4% of any value recorded in it. Fixed size, no allocation:
 * a struct can live on the stack, in an array, or be copied and merged. */
#ifndef WEFT_LOAD_HISTOGRAM_H
#define WEFT_LOAD_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 7 /* 128 buckets per power of two */
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_MAX_BITS 41 /* values up to 2^41 ns (~36 min) */
#define HIST_BUCKETS  (2 * HIST_SUB + (HIST_MAX_BITS - HIST_SUB_BITS - 1) * HIST_SUB)

struct hist {
	uint64_t count;		       /* values recorded */
	uint64_t sum;		       /* their sum, ns (for the mean) */
	uint64_t min;		       /* smallest value exactly, UINT64_MAX when empty */
	uint64_t max;		       /* largest value exactly */
	uint64_t counts[HIST_BUCKETS]; /* per bucket; see hist_bucket() */
};

/* Empties h. */
void hist__reset(struct hist *h);
/* Records one value in ns; values past the range land in the last bucket
 * (max and the mean stay exact). */
void hist__record(struct hist *h, uint64_t v);
/* Adds every count of src into dst. */
void hist__merge(struct hist *dst, const struct hist *src);
/* The value at quantile q in [0, 1]: the midpoint of the bucket holding the
 * ceil(q * count)-th smallest value, clamped to [min, max]; q = 1 is max.
 * 0 for an empty histogram. */
uint64_t hist__quantile(const struct hist *h, double q);
/* Mean in ns, 0 when empty. */
double hist__mean(const struct hist *h);

/* Bucket of a value and the [lo, hi] range a bucket covers (exposed for tests). */
uint32_t hist_bucket(uint64_t v);
void hist_bucket_range(uint32_t b, uint64_t *lo, uint64_t *hi);

#endif

/* Histogram: the bucket layout, the 1% error bound, quantiles, merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>

#include "load/histogram.h"
#include "load/sample.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Buckets tile the value range with no gap or overlap. */
static void test_buckets_are_contiguous(void **state)
{
	uint64_t lo, hi, prev_hi = 0;

	(void)state;
	hist_bucket_range(0, &lo, &hi);
	assert_int_equal(lo, 0);
	for (uint32_t b = 1; b < HIST_BUCKETS; b++) {
		hist_bucket_range(b, &lo, &hi);
		assert_int_equal(lo, prev_hi + 1);
		assert_true(hi >= lo);
		assert_int_equal(hist_bucket(lo), b);
		assert_int_equal(hist_bucket(hi), b);
		prev_hi = hi;
	}
}

/* Every value's bucket midpoint is within 1% (in fact 0.4%) of the value. */
static void test_error_bound(void **state)
{
	struct load_rng r;
	uint64_t lo, hi;

	(void)state;
	load_rng__seed(&r, 7);
	for (int i = 0; i < 200000; i++) {
		uint64_t v = (uint64_t)exp(load_rng__unit(&r) * log(1e12)) + 1;
		double mid;

		if (v >= (1ull << HIST_MAX_BITS))
			continue;
		hist_bucket_range(hist_bucket(v), &lo, &hi);
		mid = lo + (hi - lo) / 2;
		assert_true(v >= lo && v <= hi);
		assert_true(fabs(mid - (double)v) <= 0.01 * (double)v);
		assert_true(fabs(mid - (double)v) <= 0.004 * (double)v + 1);
	}
}

/* Quantiles against the exact order statistics of random samples. */
static void test_quantiles_match_exact(void **state)
{
	static const double qs[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
	enum { N = 100000 };
	uint64_t *v = malloc(N * sizeof(*v));
	struct hist *h = malloc(sizeof(*h));
	struct load_rng r;

	(void)state;
	assert_non_null(v);
	assert_non_null(h);
	hist__reset(h);
	load_rng__seed(&r, 42);
	for (int i = 0; i < N; i++) {
		/* a log-normal-ish spread from microseconds to seconds */
		v[i] = (uint64_t)(1000.0 * exp(8.0 * load_rng__unit(&r) * load_rng__unit(&r)));
		hist__record(h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		size_t rank = (size_t)ceil(qs[k] * N);
		double exact = (double)v[rank - 1], got = (double)hist__quantile(h, qs[k]);

		assert_true(fabs(got - exact) <= 0.01 * exact);
	}
	assert_int_equal(hist__quantile(h, 1.0), v[N - 1]);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->count, N);
	free(v);
	free(h);
}

/* A fixed value comes back exactly (clamped to min/max); the mean is exact. */
static void test_single_value_and_mean(void **state)
{
	struct hist *h = malloc(sizeof(*h));

	(void)state;
	hist__reset(h);
	assert_int_equal(hist__quantile(h, 0.5), 0);
	assert_true(hist__mean(h) == 0);
	for (int i = 0; i < 10; i++)
		hist__record(h, 20000000);
	assert_int_equal(hist__quantile(h, 0.5), 20000000);
	assert_int_equal(hist__quantile(h, 0.99), 20000000);
	hist__record(h, 9000000);
	assert_true(fabs(hist__mean(h) - 19000000.0) < 1e-6);
	free(h);
}

/* Merging two halves equals recording everything in one. */
static void test_merge(void **state)
{
	struct hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));

	(void)state;
	hist__reset(a);
	hist__reset(b);
	hist__reset(all);
	for (uint64_t v = 1; v < 5000000; v = v * 3 / 2 + 1) {
		hist__record((v & 1) ? a : b, v);
		hist__record(all, v);
	}
	hist__merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->counts, all->counts, sizeof(a->counts));
	free(a);
	free(b);
	free(all);
}

/* Values past the range land in the last bucket; max stays exact. */
static void test_overflow(void **state)
{
	struct hist *h = malloc(sizeof(*h));

	(void)state;
	hist__reset(h);
	hist__record(h, UINT64_MAX / 2);
	assert_int_equal(h->counts[HIST_BUCKETS - 1], 1);
	assert_int_equal(hist__quantile(h, 0.5), UINT64_MAX / 2);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buckets_are_contiguous),
	    cmocka_unit_test(test_error_bound),
	    cmocka_unit_test(test_quantiles_match_exact),
	    cmocka_unit_test(test_single_value_and_mean),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

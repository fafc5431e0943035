/* Random choices: weighted mix selection and think-time distributions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "load/sample.h"

/* Each index comes up in proportion to its weight (within 1 point over 10^6 picks). */
static void test_mix_follows_weights(void **state)
{
	static const uint32_t w[] = {1, 3, 6, 0 + 10, 80};
	enum { N = 1000000, K = sizeof(w) / sizeof(w[0]) };
	uint64_t seen[K] = {0}, total = 0;
	struct load_mix m;
	struct load_rng r;

	(void)state;
	for (int i = 0; i < K; i++)
		total += w[i];
	assert_int_equal(load_mix__init(&m, w, K), 0);
	load_rng__seed(&r, 3);
	for (int i = 0; i < N; i++) {
		size_t k = load_mix__pick(&m, &r);

		assert_true(k < K);
		seen[k]++;
	}
	for (int i = 0; i < K; i++)
		assert_true(fabs((double)seen[i] / N - (double)w[i] / total) < 0.01);
	load_mix__free(&m);
}

static void test_mix_single(void **state)
{
	static const uint32_t w[] = {5};
	struct load_mix m;
	struct load_rng r;

	(void)state;
	assert_int_equal(load_mix__init(&m, w, 1), 0);
	load_rng__seed(&r, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(load_mix__pick(&m, &r), 0);
	load_mix__free(&m);
}

/* The exponential think time has the requested mean (within 1%); fixed is exact. */
static void test_think_means(void **state)
{
	enum { N = 400000 };
	const uint64_t mean = 500000000; /* 500 ms */
	struct load_rng r;
	double sum = 0, sumsq = 0;

	(void)state;
	load_rng__seed(&r, 11);
	for (int i = 0; i < N; i++) {
		double x = (double)load_think_sample(&r, LOAD_THINK_EXP, mean);

		assert_true(x <= 10.0 * mean);
		sum += x;
		sumsq += x * x;
	}
	assert_true(fabs(sum / N - mean) < 0.01 * mean);
	/* exponential: the standard deviation equals the mean */
	assert_true(fabs(sqrt(sumsq / N - (sum / N) * (sum / N)) - mean) < 0.02 * mean);
	assert_int_equal(load_think_sample(&r, LOAD_THINK_FIXED, mean), mean);
	assert_int_equal(load_think_sample(&r, LOAD_THINK_EXP, 0), 0);
}

static void test_unit_range(void **state)
{
	struct load_rng r;

	(void)state;
	load_rng__seed(&r, 0);
	for (int i = 0; i < 100000; i++) {
		double u = load_rng__unit(&r);

		assert_true(u >= 0.0 && u < 1.0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mix_follows_weights),
	    cmocka_unit_test(test_mix_single),
	    cmocka_unit_test(test_think_means),
	    cmocka_unit_test(test_unit_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

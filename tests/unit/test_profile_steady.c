/* Steady-state detection on synthetic series: ramps, plateaus with small and
 * large noise, series that never settle, several series together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <cmocka.h>

#include "load/sample.h"
#include "profile/steady.h"

/* Feeds n samples of f(i) to a one-series detector and returns the index of
 * the first steady sample, -1 if none; checks push agrees with reached_at. */
static long feed(struct steady *s, double (*f)(unsigned i, void *arg), void *arg, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		double x = f(i, arg);
		bool steady = steady__push(s, &x);

		if (steady && steady__reached_at(s) < 0)
			fail_msg("push said steady but reached_at is -1");
		if (steady)
			return (long)i;
	}
	return -1;
}

static void test_bad_args(void **state)
{
	(void)state;
	errno = 0;
	assert_null(steady__new(0, 5, 0.05));
	assert_int_equal(errno, EINVAL);
	assert_null(steady__new(1, 0, 0.05));
	assert_null(steady__new(1, STEADY_W_MAX + 1, 0.05));
	assert_null(steady__new(1, 5, 0));
	assert_null(steady__new(1, 5, -0.1));
	assert_null(steady__new(1, 5, NAN));
	assert_null(steady__new(1, 5, INFINITY));
	steady__free(NULL);
}

static double ramp_to_100(unsigned i, void *arg)
{
	(void)arg;
	return i < 10 ? 10.0 * i : 100.0;
}

/* 0, 10, ..., 90, then 100 from sample 10 on. With eps = 1% any window
 * holding a ramp sample is too far off (90 in five samples of 100 is 2%), so
 * steadiness comes exactly when the plateau fills both windows: at sample
 * 10 + 2w - 1, not one before. */
static void test_ramp_then_plateau(void **state)
{
	static const unsigned ws[] = {3, 5, 8};

	(void)state;
	for (size_t k = 0; k < sizeof(ws) / sizeof(ws[0]); k++) {
		unsigned w = ws[k];
		struct steady *s = steady__new(1, w, 0.01);
		double x100;

		assert_non_null(s);
		for (unsigned i = 0; i < 10 + 2 * w - 1; i++) {
			double x = ramp_to_100(i, NULL);

			assert_false(steady__push(s, &x));
			assert_true(isnan(steady__diff(s, 0)) == (i < 2 * w - 1));
		}
		assert_int_equal(steady__reached_at(s), -1);
		x100 = 100;
		assert_true(steady__push(s, &x100));
		assert_int_equal(steady__reached_at(s), 10 + 2 * w - 1);
		assert_int_equal(steady__count(s), 10 + 2 * w);
		assert_true(steady__diff(s, 0) == 0);
		steady__free(s);
	}
}

/* The Autoprofiler's own parameters on the same series: 5% lets the window
 * holding 90 (2% low) pass, so the ramp is over sooner: the old window
 * starts at sample 9, the newest sample is 18. */
static void test_ramp_default_parameters(void **state)
{
	struct steady *s = steady__new(1, STEADY_W_DEFAULT, STEADY_EPS_DEFAULT);

	(void)state;
	assert_int_equal(feed(s, ramp_to_100, NULL, 100), 18);
	assert_true(fabs(steady__diff(s, 0) - 0.02) < 1e-12);
	steady__free(s);
}

static double geometric(unsigned i, void *arg)
{
	return 50.0 * pow(*(double *)arg, i);
}

/* Geometric growth by g a sample has the exact difference 1 - g^-w: w and
 * eps decide on both sides of it. */
static void test_window_and_threshold(void **state)
{
	static const struct {
		unsigned w;
		double eps;
		long want;
	} cases[] = {
	    {5, 0.05, 9},   /* 1 - 1.01^-5 = 0.0485 < 0.05 */
	    {5, 0.045, -1}, /* but not < 0.045 */
	    {6, 0.05, -1},  /* 1 - 1.01^-6 = 0.0570 */
	    {4, 0.05, 7},   /* 0.0390 */
	    {6, 0.06, 11},
	};
	double g = 1.01;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct steady *s = steady__new(1, cases[k].w, cases[k].eps);

		assert_int_equal(feed(s, geometric, &g, 200), cases[k].want);
		assert_true(fabs(steady__diff(s, 0) - (1 - pow(g, -(double)cases[k].w))) < 1e-12);
		steady__free(s);
	}
}

struct noise {
	struct load_rng rng;
	double amp; /* relative: 0.02 is +-2% */
};

static double noisy_100(unsigned i, void *arg)
{
	struct noise *n = arg;

	(void)i;
	return 100.0 * (1 + n->amp * (2 * load_rng__unit(&n->rng) - 1));
}

/* +-2% around 100: two window averages differ by at most 4 out of at least
 * 98, under 5% whatever the draw, so the first comparison passes. */
static void test_small_noise_is_steady(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct noise n = {.amp = 0.02};
		struct steady *s = steady__new(1, 5, 0.05);

		load_rng__seed(&n.rng, seed);
		assert_int_equal(feed(s, noisy_100, &n, 200), 9);
		steady__free(s);
		/* and with a hold of 4w the rule holds from there on */
		s = steady__new(1, 5, 0.05);
		steady__set_hold(s, 20);
		load_rng__seed(&n.rng, seed);
		assert_int_equal(feed(s, noisy_100, &n, 200), 9 + 19);
		steady__free(s);
	}
}

/* +-30% around 100: the difference of two window averages has a standard
 * deviation of 11, so a single comparison passes by chance about one time
 * in three and the bare rule is fooled within a few samples. Asking the rule
 * to hold for 4w consecutive samples is fooled in about one run of 200
 * samples out of 2500 (measured over 5000 seeds); these seeds are not. */
static void test_large_noise_is_not_steady(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct noise n = {.amp = 0.30};
		struct steady *s = steady__new(1, 5, 0.05);

		steady__set_hold(s, 20);
		load_rng__seed(&n.rng, seed);
		assert_int_equal(feed(s, noisy_100, &n, 200), -1);
		assert_int_equal(steady__reached_at(s), -1);
		steady__free(s);

		s = steady__new(1, 5, 0.05);
		load_rng__seed(&n.rng, seed);
		assert_true(feed(s, noisy_100, &n, 200) >= 9);
		steady__free(s);
	}
}

/* Growth by 2% a sample never settles: 1 - 1.02^-5 = 9.4% every time. */
static void test_never_settles(void **state)
{
	struct steady *s = steady__new(1, 5, 0.05);
	double g = 1.02;

	(void)state;
	assert_int_equal(feed(s, geometric, &g, 1000), -1);
	assert_int_equal(steady__count(s), 1000);
	assert_int_equal(steady__reached_at(s), -1);
	assert_true(fabs(steady__diff(s, 0) - (1 - pow(1.02, -5))) < 1e-9);
	steady__free(s);
}

/* Throughput level, response time growing: not steady until both are. */
static void test_every_series_must_be_steady(void **state)
{
	struct steady *s = steady__new(2, 5, 0.05);
	double x[2];

	(void)state;
	for (unsigned i = 0; i < 50; i++) {
		x[0] = 200;
		x[1] = 0.010 * pow(1.02, i);
		assert_false(steady__push(s, x));
	}
	assert_true(steady__diff(s, 0) == 0);
	assert_true(steady__diff(s, 1) > 0.05);
	assert_true(isnan(steady__diff(s, 2)));
	/* response time levels off: both windows must fill with the level */
	for (unsigned i = 0; i < 9; i++) {
		x[1] = 0.040;
		assert_false(steady__push(s, x));
	}
	assert_true(steady__push(s, x));
	assert_int_equal(steady__reached_at(s), 59);
	steady__free(s);
}

/* No traffic at all is not a steady state unless asked for. */
static void test_zeros(void **state)
{
	struct steady *s = steady__new(1, 2, 0.05);
	double z = 0;

	(void)state;
	for (int i = 0; i < 10; i++)
		assert_false(steady__push(s, &z));
	assert_true(steady__diff(s, 0) == 0);
	steady__set_zero_ok(s, true);
	assert_true(steady__push(s, &z));
	assert_int_equal(steady__reached_at(s), 10);
	steady__free(s);
}

/* A NaN sample spoils the windows it is in; reached_at stays the first. */
static void test_nan_and_latch(void **state)
{
	struct steady *s = steady__new(1, 3, 0.05);
	double x = 10, bad = NAN;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_false(steady__push(s, &x));
	assert_true(steady__push(s, &x));
	assert_int_equal(steady__reached_at(s), 5);
	assert_false(steady__push(s, &bad));
	assert_true(isnan(steady__diff(s, 0)));
	for (int i = 0; i < 5; i++)
		assert_false(steady__push(s, &x));
	assert_true(steady__push(s, &x));
	assert_int_equal(steady__reached_at(s), 5);
	assert_int_equal(steady__count(s), 13);
	steady__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_ramp_then_plateau),
	    cmocka_unit_test(test_ramp_default_parameters),
	    cmocka_unit_test(test_window_and_threshold),
	    cmocka_unit_test(test_small_noise_is_steady),
	    cmocka_unit_test(test_large_noise_is_not_steady),
	    cmocka_unit_test(test_never_settles),
	    cmocka_unit_test(test_every_series_must_be_steady),
	    cmocka_unit_test(test_zeros),
	    cmocka_unit_test(test_nan_and_latch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Mean Value Analysis against cases solved by hand and against Buzen's
 * convolution algorithm (the normalization constant of the product-form
 * solution), written here independently of the solver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <math.h>
#include <cmocka.h>

#include "load/sample.h"
#include "profile/mva.h"

static void near(double got, double want, double rel, const char *what, unsigned n)
{
	if (!(fabs(got - want) <= rel * fmax(fabs(want), 1e-300)))
		fail_msg("%s at n=%u: got %.15g, want %.15g", what, n, got, want);
}

static void solve_ok(const struct mva_station *st, size_t k, double z, unsigned nmax,
		     struct mva_result *r)
{
	int rc = mva_solve(st, k, z, nmax, r);

	if (rc)
		fail_msg("mva_solve: %d", rc);
}

/* One station, D = 1, no think time: always busy, X = 1, R = n. */
static void test_one_station(void **state)
{
	struct mva_station st[] = {{"cpu", 1.0, 1}};
	struct mva_result r;

	(void)state;
	solve_ok(st, 1, 0, 10, &r);
	for (unsigned n = 1; n <= 10; n++) {
		struct mva_point *p = &r.points[n - 1];

		assert_int_equal(p->n, n);
		near(p->x, 1, 1e-15, "X", n);
		near(p->r_s, n, 1e-15, "R", n);
		near(p->q[0], n, 1e-15, "Q", n);
		near(p->u[0], 1, 1e-15, "U", n);
	}
	mva_result__free(&r);
	assert_null(r.points);
	mva_result__free(&r);
}

/* Two balanced stations, D = 1 each, Z = 0: X(n) = n/(n+1), R(n) = n+1. */
static void test_two_balanced(void **state)
{
	struct mva_station st[] = {{"a", 1.0, 1}, {"b", 1.0, 1}};
	struct mva_result r;

	(void)state;
	solve_ok(st, 2, 0, 20, &r);
	for (unsigned n = 1; n <= 20; n++) {
		near(r.points[n - 1].x, n / (n + 1.0), 1e-14, "X", n);
		near(r.points[n - 1].r_s, n + 1.0, 1e-14, "R", n);
		near(r.points[n - 1].q[0], n / 2.0, 1e-14, "Q", n);
	}
	mva_result__free(&r);
}

/* One station D = 1 with Z = 1, by hand: R = 1, 1.5, 2.2; X = 0.5, 0.8,
 * 0.9375. */
static void test_think_by_hand(void **state)
{
	struct mva_station st[] = {{"cpu", 1.0, 1}};
	static const double want_r[] = {1.0, 1.5, 2.2}, want_x[] = {0.5, 0.8, 0.9375};
	struct mva_result r;

	(void)state;
	solve_ok(st, 1, 1.0, 3, &r);
	for (unsigned n = 1; n <= 3; n++) {
		near(r.points[n - 1].r_s, want_r[n - 1], 1e-15, "R", n);
		near(r.points[n - 1].x, want_x[n - 1], 1e-15, "X", n);
	}
	mva_result__free(&r);
}

/* G(0..nmax) of K load-independent stations and a delay station of think
 * time z (Buzen 1973, with the delay's z^n/n! as the first factor). */
static void buzen(const double *dem, size_t k, double z, unsigned nmax, double *g)
{
	g[0] = 1;
	for (unsigned n = 1; n <= nmax; n++)
		g[n] = g[n - 1] * z / n;
	for (size_t j = 0; j < k; j++)
		for (unsigned n = 1; n <= nmax; n++)
			g[n] += dem[j] * g[n - 1];
}

/* A CPU and two disks behind terminals with 1 s think time, 1..60 users
 * (well past the knee at 27): X, R, Q and U from MVA equal the ones from
 * the normalization constant: X = G(N-1)/G(N), Q_k = sum_j D_k^j G(N-j)/G(N). */
static void test_three_stations_against_convolution(void **state)
{
	enum { K = 3, N = 60 };
	static const double dem[K] = {0.040, 0.030, 0.025};
	struct mva_station st[K] = {{"cpu", dem[0], 1}, {"disk1", dem[1], 1}, {"disk2", dem[2], 1}};
	double g[N + 1], z = 1.0;
	struct mva_result r;

	(void)state;
	solve_ok(st, K, z, N, &r);
	buzen(dem, K, z, N, g);
	for (unsigned n = 1; n <= N; n++) {
		struct mva_point *p = &r.points[n - 1];
		double x = g[n - 1] / g[n];

		near(p->x, x, 1e-9, "X", n);
		near(p->r_s, n / x - z, 1e-9, "R", n);
		for (size_t j = 0; j < K; j++) {
			double q = 0, dj = 1;

			for (unsigned i = 1; i <= n; i++) {
				dj *= dem[j];
				q += dj * g[n - i] / g[n];
			}
			near(p->q[j], q, 1e-9, "Q", n);
			near(p->u[j], x * dem[j], 1e-9, "U", n);
			near(p->r_k[j], q / x, 1e-9, "R_k", n);
		}
	}
	assert_int_equal(r.bottleneck, 0);
	near(r.x_max, 25, 1e-15, "x_max", 0);
	near(r.d_total, 0.095, 1e-15, "D", 0);
	near(r.n_star, 1.095 / 0.040, 1e-14, "n*", 0);
	mva_result__free(&r);
}

/* On random networks, multi-server stations included: the asymptotic bounds
 * X(n) <= min(n / (D + Z), c_b / D_b), the pessimistic bound
 * X(n) >= n / (nD + Z), monotone throughput, Little's law, and saturation
 * of the bottleneck far past the knee. */
static void test_bounds(void **state)
{
	struct load_rng rng;

	(void)state;
	load_rng__seed(&rng, 11);
	for (int t = 0; t < 50; t++) {
		struct mva_station st[4];
		size_t k = 1 + load_rng__next(&rng) % 4;
		double z = load_rng__unit(&rng) * 2, prev = 0;
		unsigned nmax = 200;
		struct mva_result r;

		for (size_t j = 0; j < k; j++) {
			st[j].name = "s";
			st[j].demand_s = 0.001 + load_rng__unit(&rng) * 0.1;
			st[j].servers = 1 + load_rng__next(&rng) % 4;
		}
		solve_ok(st, k, z, nmax, &r);
		for (unsigned n = 1; n <= nmax; n++) {
			struct mva_point *p = &r.points[n - 1];
			double qsum = 0;

			assert_true(p->x <= fmin(n / (r.d_total + z), r.x_max) * (1 + 1e-12));
			assert_true(p->x >= n / (n * r.d_total + z) * (1 - 1e-12));
			assert_true(p->x >= prev * (1 - 1e-12));
			near(p->x * (z + p->r_s), n, 1e-12, "Little", n);
			for (size_t j = 0; j < k; j++) {
				qsum += p->q[j];
				assert_true(p->u[j] <= st[j].servers * (1 + 1e-12));
			}
			near(qsum, p->x * p->r_s, 1e-12, "sum Q", n);
			prev = p->x;
		}
		if (nmax > 10 * r.n_star)
			assert_true(r.points[nmax - 1].x > 0.9 * r.x_max);
		mva_result__free(&r);
	}
}

/* Seidmann with one server is plain MVA, to the bit. */
static void test_seidmann_one_server_is_exact(void **state)
{
	struct mva_station st[] = {{"a", 0.2, 1}, {"b", 0.5, 1}};
	struct mva_result r;

	(void)state;
	solve_ok(st, 2, 3.0, 30, &r);
	/* plain MVA written out */
	{
		double q[2] = {0, 0};

		for (unsigned n = 1; n <= 30; n++) {
			double r0 = 0.2 * (1 + q[0]), r1 = 0.5 * (1 + q[1]);
			double x = n / (3.0 + (r0 + r1));

			q[0] = x * r0;
			q[1] = x * r1;
			assert_true(r.points[n - 1].x == x);
			assert_true(r.points[n - 1].r_s == r0 + r1);
		}
	}
	mva_result__free(&r);
}

/* A c-server station is a queue of D/c plus a delay of D(c-1)/c: the same
 * throughput as a one-server D/c station with that delay added to the think
 * time, and a response time longer by the delay. */
static void test_seidmann_is_queue_plus_delay(void **state)
{
	struct mva_station multi[] = {{"cpu", 0.8, 4}, {"disk", 0.1, 1}};
	struct mva_station single[] = {{"cpu", 0.2, 1}, {"disk", 0.1, 1}};
	double delay = 0.8 * 3 / 4;
	struct mva_result a, b;

	(void)state;
	solve_ok(multi, 2, 1.0, 40, &a);
	solve_ok(single, 2, 1.0 + delay, 40, &b);
	for (unsigned n = 1; n <= 40; n++) {
		near(a.points[n - 1].x, b.points[n - 1].x, 1e-12, "X", n);
		near(a.points[n - 1].r_s, b.points[n - 1].r_s + delay, 1e-12, "R", n);
		near(a.points[n - 1].u[0], a.points[n - 1].x * 0.8, 1e-15, "U", n);
	}
	near(a.points[0].r_s, 0.9, 1e-15, "R(1) = D", 1);
	near(a.x_max, 5, 1e-15, "x_max", 0);
	assert_int_equal(a.bottleneck, 0);
	mva_result__free(&a);
	mva_result__free(&b);
}

/* Exact throughput of one c-server station of demand D with N users
 * thinking z: a birth-death chain on the number at the station. */
static double exact_multiserver(double d, unsigned c, double z, unsigned n)
{
	double p = 1, sum = 1, x = 0;

	for (unsigned j = 1; j <= n; j++) {
		p *= ((n - j + 1) / z) / ((j < c ? j : c) / d);
		sum += p;
		x += p * (j < c ? j : c) / d;
	}
	return x / sum;
}

/* How far Seidmann's approximation is from the exact multi-server answer
 * with a think time of 4D: exact at n = 1 and far past the knee
 * (n* = 5c), below the exact throughput in between and by at most 4% (3.0%,
 * 3.7% and 3.4% near the knee for 2, 4 and 8 servers). */
static void test_seidmann_error(void **state)
{
	static const unsigned cs[] = {2, 4, 8};

	(void)state;
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		struct mva_station st[] = {{"cpu", 1.0, cs[i]}};
		struct mva_result r;

		solve_ok(st, 1, 4.0, 200, &r);
		for (unsigned n = 1; n <= 200; n++) {
			double exact = exact_multiserver(1.0, cs[i], 4.0, n);

			assert_true(r.points[n - 1].x <= exact * (1 + 1e-12));
			near(r.points[n - 1].x, exact, n == 1 || n == 200 ? 1e-12 : 0.04, "X", n);
		}
		mva_result__free(&r);
	}
}

static void test_bad_arguments(void **state)
{
	struct mva_station ok[] = {{"a", 1, 1}};
	struct mva_station zero_servers[] = {{"a", 1, 0}};
	struct mva_station negative[] = {{"a", -1, 1}};
	struct mva_station nan_demand[] = {{"a", NAN, 1}};
	struct mva_station no_demand[] = {{"a", 0, 1}, {"b", 0, 2}};
	struct mva_result r;

	(void)state;
	assert_int_equal(mva_solve(NULL, 1, 0, 1, &r), -EINVAL);
	assert_int_equal(mva_solve(ok, 0, 0, 1, &r), -EINVAL);
	assert_int_equal(mva_solve(ok, 1, 0, 0, &r), -EINVAL);
	assert_int_equal(mva_solve(ok, 1, -1, 1, &r), -EINVAL);
	assert_int_equal(mva_solve(ok, 1, INFINITY, 1, &r), -EINVAL);
	assert_int_equal(mva_solve(zero_servers, 1, 0, 1, &r), -EINVAL);
	assert_int_equal(mva_solve(negative, 1, 0, 1, &r), -EINVAL);
	assert_int_equal(mva_solve(nan_demand, 1, 0, 1, &r), -EINVAL);
	assert_int_equal(mva_solve(no_demand, 2, 1, 1, &r), -EINVAL);
	assert_null(r.points);
	assert_null(r.buf);
}

/* General multi-class convolution over the population lattice (class 0
 * counting fastest): g(m) += sum_c D_cj g(m - e_c) station by station, on
 * top of the delay's prod_c z_c^m_c / m_c!. Returns X_c = G(n - e_c)/G(n). */
static void convolution_multi(const double *d, size_t k, size_t nc, const unsigned *n,
			      const double *z, double *x)
{
	size_t stride[4], total = 1;
	double *g;

	assert_true(nc <= 4);
	for (size_t c = 0; c < nc; c++) {
		stride[c] = total;
		total *= n[c] + 1;
	}
	g = calloc(total, sizeof(*g));
	assert_non_null(g);
	for (size_t idx = 0; idx < total; idx++) {
		g[idx] = 1;
		for (size_t c = 0; c < nc; c++) {
			unsigned m = idx / stride[c] % (n[c] + 1);

			for (unsigned i = 1; i <= m; i++)
				g[idx] *= z[c] / i;
		}
	}
	for (size_t j = 0; j < k; j++)
		for (size_t idx = 0; idx < total; idx++)
			for (size_t c = 0; c < nc; c++)
				if (idx / stride[c] % (n[c] + 1))
					g[idx] += d[c * k + j] * g[idx - stride[c]];
	for (size_t c = 0; c < nc; c++)
		x[c] = n[c] ? g[total - 1 - stride[c]] / g[total - 1] : 0;
	free(g);
}

/* One class of the multi-class solver is the single-class solver. */
static void test_multi_one_class_is_single(void **state)
{
	struct mva_station st[] = {{"cpu", 0.05, 2}, {"disk", 0.03, 1}, {"net", 0.01, 1}};
	double d[3] = {0.05, 0.03, 0.01}, x, r, u[3], z = 0.5;
	unsigned servers[3] = {2, 1, 1};
	struct mva_result ref;

	(void)state;
	solve_ok(st, 3, z, 40, &ref);
	for (unsigned n = 1; n <= 40; n++) {
		assert_int_equal(mva_solve_multi(d, servers, 3, 1, &n, &z, &x, &r, u), 0);
		near(x, ref.points[n - 1].x, 1e-12, "X", n);
		near(r, ref.points[n - 1].r_s, 1e-12, "R", n);
		for (size_t j = 0; j < 3; j++)
			near(u[j], ref.points[n - 1].u[j], 1e-12, "U", n);
	}
	mva_result__free(&ref);
}

/* Two and three classes against the convolution algorithm. */
static void test_multi_against_convolution(void **state)
{
	enum { K = 3 };
	/* browse is CPU-heavy, buy is disk-heavy, report uses both */
	static const double d[3 * K] = {0.20, 0.50, 0.10, 0.40, 0.10, 0.30, 0.05, 0.05, 0.60};
	static const double z[3] = {1.0, 2.0, 5.0};
	static const struct {
		size_t nc;
		unsigned n[3];
	} cases[] = {{2, {3, 2}}, {2, {1, 1}}, {2, {6, 9}}, {3, {2, 5, 3}}, {3, {4, 0, 7}}};

	(void)state;
	for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
		size_t nc = cases[t].nc;
		const unsigned *pops = cases[t].n;
		double x[3], r[3], u[K], want[3];

		assert_int_equal(mva_solve_multi(d, NULL, K, nc, pops, z, x, r, u), 0);
		convolution_multi(d, K, nc, pops, z, want);
		for (size_t c = 0; c < nc; c++) {
			near(x[c], want[c], 1e-9, "X_c", (unsigned)t);
			if (pops[c])
				near(r[c], pops[c] / want[c] - z[c], 1e-9, "R_c", (unsigned)t);
			else
				assert_true(x[c] == 0 && r[c] == 0);
		}
		for (size_t j = 0; j < K; j++) {
			double uj = 0;

			for (size_t c = 0; c < nc; c++)
				uj += want[c] * d[c * K + j];
			near(u[j], uj, 1e-9, "U", (unsigned)t);
		}
	}
}

/* Class order does not matter (the solver reorders its lattice). */
static void test_multi_class_order(void **state)
{
	static const double d[] = {0.1, 0.2, 0.3, 0.1, 0.05, 0.4};
	static const double dp[] = {0.05, 0.4, 0.1, 0.2, 0.3, 0.1};
	static const unsigned n[] = {2, 7, 4}, np[] = {4, 2, 7};
	static const double z[] = {1, 2, 3}, zp[] = {3, 1, 2};
	unsigned servers[] = {1, 3};
	double x[3], r[3], u[2], xp[3], rp[3], up[2];

	(void)state;
	assert_int_equal(mva_solve_multi(d, servers, 2, 3, n, z, x, r, u), 0);
	assert_int_equal(mva_solve_multi(dp, servers, 2, 3, np, zp, xp, rp, up), 0);
	for (size_t c = 0; c < 3; c++) {
		near(xp[(c + 1) % 3], x[c], 1e-12, "X", (unsigned)c);
		near(rp[(c + 1) % 3], r[c], 1e-12, "R", (unsigned)c);
	}
	near(up[0], u[0], 1e-12, "U", 0);
	near(up[1], u[1], 1e-12, "U", 1);
}

static void test_multi_limits(void **state)
{
	static const double d[] = {0.1, 0.2};
	static const double zz[] = {0, 0};
	unsigned big[] = {2000, 1000}, edge[] = {1999, 999}, one = 1, zero_srv[] = {0};
	double x[2], r[2], u[1];

	(void)state;
	assert_int_equal(mva_solve_multi(d, NULL, 1, 2, big, NULL, x, r, u), -E2BIG);
	/* exactly MVA_MAX_POPULATIONS is allowed */
	assert_int_equal(mva_solve_multi(d, NULL, 1, 2, edge, NULL, x, r, u), 0);
	near(u[0], 1, 1e-9, "saturated U", 0);
	assert_int_equal(mva_solve_multi(d, zero_srv, 1, 1, &one, NULL, x, r, u), -EINVAL);
	assert_int_equal(mva_solve_multi(d, NULL, 1, 0, &one, NULL, x, r, u), -EINVAL);
	assert_int_equal(mva_solve_multi(d, NULL, 0, 1, &one, NULL, x, r, u), -EINVAL);
	assert_int_equal(mva_solve_multi(NULL, NULL, 1, 1, &one, NULL, x, r, u), -EINVAL);
	{
		double dz[] = {0, 0};

		/* a class with users, no demand and no think time */
		assert_int_equal(mva_solve_multi(dz, NULL, 1, 2, edge, zz, x, r, u), -EINVAL);
	}
	{
		double neg[] = {-0.1};

		assert_int_equal(mva_solve_multi(neg, NULL, 1, 1, &one, NULL, x, r, u), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_station),
	    cmocka_unit_test(test_two_balanced),
	    cmocka_unit_test(test_think_by_hand),
	    cmocka_unit_test(test_three_stations_against_convolution),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_seidmann_one_server_is_exact),
	    cmocka_unit_test(test_seidmann_is_queue_plus_delay),
	    cmocka_unit_test(test_seidmann_error),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_multi_one_class_is_single),
	    cmocka_unit_test(test_multi_against_convolution),
	    cmocka_unit_test(test_multi_class_order),
	    cmocka_unit_test(test_multi_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

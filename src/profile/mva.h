/* The capacity model of weft profile: a closed queueing network solved by
 * exact Mean Value Analysis (Reiser and Lavenberg, 1980).
 *
 * N users alternate between thinking for Z seconds (a pure delay) and one
 * transaction that visits K stations. Station k costs D_k seconds of service
 * per transaction, visits already folded in (D = V * S). For n = 1..N, with
 * Q_k(0) = 0:
 *
 *     R_k(n) = D_k * (1 + Q_k(n - 1))        residence time at station k
 *     X(n)   = n / (Z + sum_k R_k(n))        throughput
 *     Q_k(n) = X(n) * R_k(n)                 mean number at station k
 *
 * A station with c > 1 servers (a host's CPUs) uses Seidmann's approximation:
 * it becomes a single-server queue of demand D/c followed by a pure delay of
 * D(c-1)/c, so R_k(n) = D_k/c * (1 + Qq_k(n - 1)) + D_k(c-1)/c where Qq_k
 * counts the queue part only. It is exact for c = 1, at n = 1 and in the
 * limit X -> c/D, and approximate in between. Utilization is counted in busy
 * servers, U_k = X * D_k, from 0 to c_k: a 4-CPU host at U = 2 is half busy.
 *
 * Asymptotic bounds, with b the station of the largest D_k/c_k:
 *     X(n) <= min(n / (D + Z), c_b / D_b),   D = sum_k D_k
 * and the knee where the two meet, n* = (D + Z) / (D_b / c_b). */
#ifndef WEFT_PROFILE_MVA_H
#define WEFT_PROFILE_MVA_H

#include <stddef.h>

#define MVA_MAX_POPULATIONS 2000000 /* mva_solve_multi's sub-populations */

struct mva_station {
	const char *name; /* for the caller's reports; not used by the solver */
	double demand_s;  /* service demand per transaction, s (visits folded in), >= 0 */
	unsigned servers; /* >= 1 */
};

struct mva_point {
	unsigned n;  /* users */
	double x;    /* throughput, transactions/s */
	double r_s;  /* response time without think time, s */
	double *u;   /* per station: utilization in busy servers, X * D_k (0..servers) */
	double *q;   /* per station: mean number there, queued or in service (X * R_k) */
	double *r_k; /* per station: residence time per transaction, s (sums to r_s) */
};

struct mva_result {
	size_t nstations;	  /* K */
	unsigned nmax;		  /* N */
	struct mva_point *points; /* n = 1..nmax at points[n - 1]; owned */
	size_t bottleneck;	  /* station with the largest D/servers (the first of equals) */
	double x_max;		  /* asymptotic bound: servers_b / D_b, tx/s */
	double n_star;		  /* knee: (sum D + Z) / (D_b / servers_b), users */
	double d_total;		  /* sum of demands, s */
	double *buf;		  /* backing store of every point's arrays; owned */
};

/* Solves the network of the k stations st with think time z_s for 1..nmax
 * users into *out, which the caller frees with mva_result__free. Returns 0,
 * -EINVAL (no station, nmax 0, a negative or non-finite demand or think
 * time, servers 0, or every demand zero) or -ENOMEM; *out is empty then. */
int mva_solve(const struct mva_station *st, size_t k, double z_s, unsigned nmax,
	      struct mva_result *out);
/* Frees what r holds and empties it; safe on an empty result. */
void mva_result__free(struct mva_result *r);

/* Multi-class exact MVA: several transaction types mixed in one network.
 * Class c has population n[c], think time z[c] (NULL: none) and demand
 * d[c * k + j] at station j; station j has servers[j] servers (NULL: one
 * each; more than one uses Seidmann's approximation as above). Solves at
 * exactly the population vector n, recurring over every sub-population:
 *
 *     R_cj(m) = D_cj * (1 + Q_j(m - e_c))
 *     X_c(m)  = m_c / (Z_c + sum_j R_cj(m))
 *     Q_j(m)  = sum_c X_c(m) * R_cj(m)
 *
 * Writes per class the throughput x[c] (tx/s) and response time r[c] (s,
 * think excluded; both 0 for a class with no users) and per station the
 * total utilization u[j] in busy servers. Returns 0, -EINVAL (no class or
 * station, a negative or non-finite demand or think time, servers 0, or a
 * class with users but neither demand nor think time), -E2BIG when the
 * product of (n[c] + 1) exceeds MVA_MAX_POPULATIONS, or -ENOMEM. */
int mva_solve_multi(const double *d, const unsigned *servers, size_t k, size_t nclasses,
		    const unsigned *n, const double *z, double *x, double *r, double *u);

#endif

#include "profile/mva.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool good_time(double v)
{
	return v >= 0 && isfinite(v);
}

/* Seidmann's split of a station: the queueing part's demand and the delay. */
static double queue_part(double d, unsigned c)
{
	return d / c;
}

static double delay_part(double d, unsigned c)
{
	return d * (c - 1) / c;
}

static int check_stations(const struct mva_station *st, size_t k, double z_s, unsigned nmax)
{
	bool any = false;

	if (!st || !k || !nmax || !good_time(z_s))
		return -EINVAL;
	for (size_t j = 0; j < k; j++) {
		if (!good_time(st[j].demand_s) || !st[j].servers)
			return -EINVAL;
		any |= st[j].demand_s > 0;
	}
	return any ? 0 : -EINVAL;
}

/* The bottleneck and the asymptotic bounds. */
static void bounds(const struct mva_station *st, size_t k, double z_s, struct mva_result *out)
{
	double best = -1;

	out->d_total = 0;
	for (size_t j = 0; j < k; j++) {
		double per_server = st[j].demand_s / st[j].servers;

		out->d_total += st[j].demand_s;
		if (per_server > best) {
			best = per_server;
			out->bottleneck = j;
		}
	}
	out->x_max = 1 / best;
	out->n_star = (out->d_total + z_s) / best;
}

/* points and one block for their u, q and r_k arrays. */
static int alloc_points(struct mva_result *out, size_t k, unsigned nmax)
{
	if ((size_t)nmax > SIZE_MAX / sizeof(double) / 3 / k)
		return -ENOMEM;
	out->points = calloc(nmax, sizeof(*out->points));
	out->buf = calloc((size_t)nmax * 3 * k, sizeof(double));
	if (!out->points || !out->buf)
		return -ENOMEM;
	for (unsigned i = 0; i < nmax; i++) {
		out->points[i].u = out->buf + (size_t)i * 3 * k;
		out->points[i].q = out->points[i].u + k;
		out->points[i].r_k = out->points[i].q + k;
	}
	return 0;
}

int mva_solve(const struct mva_station *st, size_t k, double z_s, unsigned nmax,
	      struct mva_result *out)
{
	double *qq = NULL; /* queue part of Q_k(n - 1) */
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_stations(st, k, z_s, nmax);
	if (rc)
		return rc;
	rc = alloc_points(out, k, nmax);
	qq = calloc(k, sizeof(*qq));
	if (rc || !qq) {
		rc = -ENOMEM;
		goto cleanup;
	}
	out->nstations = k;
	out->nmax = nmax;
	bounds(st, k, z_s, out);
	for (unsigned n = 1; n <= nmax; n++) {
		struct mva_point *p = &out->points[n - 1];

		p->n = n;
		p->r_s = 0;
		for (size_t j = 0; j < k; j++) {
			/* q holds the queue part's residence until X is known */
			p->q[j] = queue_part(st[j].demand_s, st[j].servers) * (1 + qq[j]);
			p->r_k[j] = p->q[j] + delay_part(st[j].demand_s, st[j].servers);
			p->r_s += p->r_k[j];
		}
		p->x = n / (z_s + p->r_s);
		for (size_t j = 0; j < k; j++) {
			qq[j] = p->x * p->q[j];
			p->q[j] = p->x * p->r_k[j];
			p->u[j] = p->x * st[j].demand_s;
		}
	}
cleanup:
	free(qq);
	if (rc)
		mva_result__free(out);
	return rc;
}

void mva_result__free(struct mva_result *r)
{
	if (!r)
		return;
	free(r->points);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* The sub-populations of mva_solve_multi in mixed-radix order, class ord[0]
 * counting fastest. m - e_c sits stride[c] places before m, and the largest
 * stride is that of the last class in ord: only that many populations back
 * are ever read, so the queue lengths live in a ring of window slots. The
 * class with the most users goes last to keep the ring small. */
struct lattice {
	size_t nclasses; /* C */
	size_t *ord;	 /* classes, the one with the most users last */
	size_t *stride;	 /* per class: places between m and m - e_c */
	unsigned *m;	 /* the current population */
	size_t total;	 /* populations, the product of (n[c] + 1) */
	size_t window;	 /* ring slots: the largest stride + 1 */
};

static int lattice__init(struct lattice *l, size_t nclasses, const unsigned *n)
{
	size_t big = 0, s = 1;

	l->nclasses = nclasses;
	l->ord = calloc(nclasses, sizeof(*l->ord));
	l->stride = calloc(nclasses, sizeof(*l->stride));
	l->m = calloc(nclasses, sizeof(*l->m));
	if (!l->ord || !l->stride || !l->m)
		return -ENOMEM;
	for (size_t c = 0; c < nclasses; c++) {
		l->ord[c] = c;
		if (n[c] > n[big])
			big = c;
	}
	l->ord[big] = nclasses - 1;
	l->ord[nclasses - 1] = big;
	for (size_t i = 0; i < nclasses; i++) {
		l->stride[l->ord[i]] = s;
		s *= (size_t)n[l->ord[i]] + 1; /* bounded by the caller's check */
	}
	l->total = s;
	l->window = l->stride[big] + 1;
	return 0;
}

/* Moves m to the next population in the order. */
static void lattice__next(struct lattice *l, const unsigned *n)
{
	for (size_t i = 0; i < l->nclasses; i++) {
		size_t c = l->ord[i];

		if (l->m[c] < n[c]) {
			l->m[c]++;
			return;
		}
		l->m[c] = 0;
	}
}

static void lattice__free(struct lattice *l)
{
	free(l->ord);
	free(l->stride);
	free(l->m);
}

static int check_multi(const double *d, const unsigned *servers, size_t k, size_t nclasses,
		       const unsigned *n, const double *z)
{
	uint64_t pops = 1;

	if (!d || !n || !k || !nclasses)
		return -EINVAL;
	for (size_t j = 0; j < k; j++)
		if (servers && !servers[j])
			return -EINVAL;
	for (size_t c = 0; c < nclasses; c++) {
		double sum = z ? z[c] : 0;

		if (!good_time(sum))
			return -EINVAL;
		for (size_t j = 0; j < k; j++) {
			if (!good_time(d[c * k + j]))
				return -EINVAL;
			sum += d[c * k + j];
		}
		if (n[c] && !(sum > 0))
			return -EINVAL;
	}
	for (size_t c = 0; c < nclasses; c++) {
		pops *= (uint64_t)n[c] + 1;
		if (pops > MVA_MAX_POPULATIONS)
			return -E2BIG;
	}
	return 0;
}

/* One step of the recursion at population l->m: fills x[c], r[c] and the
 * queue parts qq[slot * k + j] from the populations before it. rq is
 * scratch for C x K queue-part residence times. */
static void multi_step(const double *d, const unsigned *servers, size_t k, const double *z,
		       const struct lattice *l, size_t idx, double *qq, double *rq, double *x,
		       double *r)
{
	double *now = qq + (idx % l->window) * k;

	for (size_t j = 0; j < k; j++)
		now[j] = 0;
	for (size_t c = 0; c < l->nclasses; c++) {
		const double *before;

		x[c] = r[c] = 0;
		if (!l->m[c])
			continue;
		before = qq + ((idx - l->stride[c]) % l->window) * k;
		for (size_t j = 0; j < k; j++) {
			unsigned s = servers ? servers[j] : 1;
			double dcj = d[c * k + j];

			rq[c * k + j] = queue_part(dcj, s) * (1 + before[j]);
			r[c] += rq[c * k + j] + delay_part(dcj, s);
		}
		x[c] = l->m[c] / ((z ? z[c] : 0) + r[c]);
	}
	for (size_t c = 0; c < l->nclasses; c++)
		for (size_t j = 0; j < k && l->m[c]; j++)
			now[j] += x[c] * rq[c * k + j];
}

int mva_solve_multi(const double *d, const unsigned *servers, size_t k, size_t nclasses,
		    const unsigned *n, const double *z, double *x, double *r, double *u)
{
	struct lattice l = {0};
	double *qq = NULL, *rq = NULL;
	int rc;

	rc = check_multi(d, servers, k, nclasses, n, z);
	if (rc)
		return rc;
	if (!x || !r || !u)
		return -EINVAL;
	rc = lattice__init(&l, nclasses, n);
	if (rc)
		goto cleanup;
	qq = calloc(l.window * k, sizeof(*qq));
	rq = calloc(nclasses * k, sizeof(*rq));
	if (!qq || !rq) {
		rc = -ENOMEM;
		goto cleanup;
	}
	/* population 0 has empty queues: slot 0 is already zero */
	for (size_t c = 0; c < nclasses; c++)
		x[c] = r[c] = 0;
	for (size_t idx = 1; idx < l.total; idx++) {
		lattice__next(&l, n);
		multi_step(d, servers, k, z, &l, idx, qq, rq, x, r);
	}
	for (size_t j = 0; j < k; j++) {
		u[j] = 0;
		for (size_t c = 0; c < nclasses; c++)
			u[j] += x[c] * d[c * k + j];
	}
cleanup:
	free(qq);
	free(rq);
	lattice__free(&l);
	return rc;
}

#include "profile/steady.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

struct steady {
	unsigned nseries; /* series fed together */
	unsigned w;	  /* window, samples */
	double eps;	  /* threshold on the normalized difference */
	bool zero_ok;	  /* two zero averages count as steady */
	unsigned hold;	  /* consecutive passing samples needed, >= 1 */
	unsigned run;	  /* consecutive passing samples so far */
	unsigned count;	  /* samples fed */
	unsigned pos;	  /* ring slot of the last sample */
	bool full;	  /* the ring holds 2w samples */
	long reached_at;  /* first steady sample, -1 before */
	double *ring;	  /* 2w samples of series i at ring[i * 2w ...] */
	double *diff;	  /* last normalized difference per series */
};

struct steady *steady__new(unsigned nseries, unsigned w, double eps)
{
	struct steady *s;

	if (!nseries || !w || w > STEADY_W_MAX || !(eps > 0) || !isfinite(eps)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->nseries = nseries;
	s->w = w;
	s->eps = eps;
	s->hold = 1;
	s->reached_at = -1;
	s->ring = calloc((size_t)nseries * 2 * w, sizeof(*s->ring));
	s->diff = calloc(nseries, sizeof(*s->diff));
	if (!s->ring || !s->diff) {
		steady__free(s);
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned i = 0; i < nseries; i++)
		s->diff[i] = NAN;
	return s;
}

void steady__free(struct steady *s)
{
	if (!s)
		return;
	free(s->ring);
	free(s->diff);
	free(s);
}

void steady__set_zero_ok(struct steady *s, bool zero_ok)
{
	s->zero_ok = zero_ok;
}

void steady__set_hold(struct steady *s, unsigned hold)
{
	s->hold = hold ? hold : 1;
}

/* The normalized difference of series i's two windows, the newest ending
 * at s->pos. */
static double window_diff(const struct steady *s, unsigned i, bool *both_zero)
{
	const double *r = s->ring + (size_t)i * 2 * s->w;
	unsigned n = 2 * s->w;
	double a1 = 0, a2 = 0, m;

	for (unsigned j = 0; j < s->w; j++) {
		a2 += r[(s->pos + n - j) % n];
		a1 += r[(s->pos + n - s->w - j) % n];
	}
	a1 /= s->w;
	a2 /= s->w;
	*both_zero = false;
	if (!isfinite(a1) || !isfinite(a2))
		return NAN;
	m = fmax(fabs(a1), fabs(a2));
	if (m == 0) {
		*both_zero = true;
		return 0;
	}
	return fabs(a2 - a1) / m;
}

bool steady__push(struct steady *s, const double *x)
{
	unsigned n = 2 * s->w;
	bool pass = true, both_zero;

	s->pos = s->count || s->full ? (s->pos + 1) % n : 0;
	for (unsigned i = 0; i < s->nseries; i++)
		s->ring[(size_t)i * n + s->pos] = x[i];
	s->count++;
	if (s->pos == n - 1)
		s->full = true;
	if (!s->full)
		return false;
	for (unsigned i = 0; i < s->nseries; i++) {
		s->diff[i] = window_diff(s, i, &both_zero);
		/* NaN fails the comparison: an unusable sample is never steady */
		if (!(s->diff[i] < s->eps) || (both_zero && !s->zero_ok))
			pass = false;
	}
	if (!pass)
		s->run = 0;
	else if (s->run < UINT_MAX)
		s->run++;
	if (s->run < s->hold)
		return false;
	if (s->reached_at < 0)
		s->reached_at = (long)s->count - 1;
	return true;
}

unsigned steady__count(const struct steady *s)
{
	return s->count;
}

long steady__reached_at(const struct steady *s)
{
	return s->reached_at;
}

double steady__diff(const struct steady *s, unsigned i)
{
	return i < s->nseries ? s->diff[i] : NAN;
}

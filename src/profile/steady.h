/* Steady-state detection for weft profile (the Autoprofiler's warm-up rule):
 * a series is steady when the averages of two adjacent, non-overlapping
 * windows of w samples (the last w and the w before them) differ by less
 * than eps relative to the larger:
 *
 *     |a2 - a1| / max(|a1|, |a2|) < eps
 *
 * Several series (throughput, mean response time, ...) are fed together and
 * the whole is steady only when every one is. Two zero averages mean no
 * traffic rather than a steady state, unless zero_ok is set.
 *
 * The rule compares levels, not spreads: it tells a trend from a plateau.
 * A noisy but level series passes it now and then by chance, and so does a
 * slow oscillation near its extremes; steady__set_hold asks for the rule to
 * hold over several consecutive samples to guard against that. A linear
 * ramp passes once its slope times w is below eps times its level. */
#ifndef WEFT_PROFILE_STEADY_H
#define WEFT_PROFILE_STEADY_H

#include <stdbool.h>

#define STEADY_W_DEFAULT   5	/* the Autoprofiler's window */
#define STEADY_EPS_DEFAULT 0.05 /* and its threshold */
#define STEADY_W_MAX	   (1u << 20)

struct steady;

/* A detector for nseries series with windows of w samples (1..STEADY_W_MAX)
 * and threshold eps (finite, > 0). NULL with errno EINVAL on bad arguments,
 * ENOMEM when out of memory. */
struct steady *steady__new(unsigned nseries, unsigned w, double eps);
void steady__free(struct steady *s);
/* Whether two zero averages count as steady (default false). */
void steady__set_zero_ok(struct steady *s, bool zero_ok);
/* How many consecutive samples the rule must hold for (default 1: the
 * Autoprofiler's rule as is). 0 is taken as 1. */
void steady__set_hold(struct steady *s, unsigned hold);
/* Feeds one sample of every series (x[nseries]); returns true when steady
 * after this sample. A non-finite sample makes its windows unsteady until
 * it leaves them. */
bool steady__push(struct steady *s, const double *x);
/* Samples fed so far. */
unsigned steady__count(const struct steady *s);
/* The index (0-based) of the sample at which steadiness was first reached,
 * -1 if never. */
long steady__reached_at(const struct steady *s);
/* The last normalized difference of series i: NaN before 2w samples or for
 * an out-of-range i, 0 when both averages are zero. */
double steady__diff(const struct steady *s, unsigned i);

#endif

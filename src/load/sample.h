/* Random choices of a run: a small fast generator per thread, think times,
 * and the weighted pick of the next request in a mix. */
#ifndef WEFT_LOAD_SAMPLE_H
#define WEFT_LOAD_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct load_rng {
	uint64_t s[4]; /* xoshiro256** state, never all zero */
};

/* Seeds the generator (any seed, 0 included). */
void load_rng__seed(struct load_rng *r, uint64_t seed);
uint64_t load_rng__next(struct load_rng *r);
/* Uniform in [0, 1). */
double load_rng__unit(struct load_rng *r);

enum load_think_dist {
	LOAD_THINK_FIXED, /* every think time is the mean */
	LOAD_THINK_EXP,	  /* exponential with that mean (TPC-W), capped at 10x the mean */
};

/* One think time in ns for the given mean. */
uint64_t load_think_sample(struct load_rng *r, enum load_think_dist d, uint64_t mean_ns);

struct load_mix {
	uint64_t *cum; /* cumulative weights, cum[n-1] is the total; owned */
	size_t n;      /* entries */
};

/* Builds the mix of n weights. Returns 0 or -ENOMEM. */
int load_mix__init(struct load_mix *m, const uint32_t *weights, size_t n);
/* Picks an index with probability weight/total. */
size_t load_mix__pick(const struct load_mix *m, struct load_rng *r);
void load_mix__free(struct load_mix *m);

#endif

#include "load/sample.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void load_rng__seed(struct load_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t load_rng__next(struct load_rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double load_rng__unit(struct load_rng *r)
{
	return (double)(load_rng__next(r) >> 11) * 0x1.0p-53;
}

uint64_t load_think_sample(struct load_rng *r, enum load_think_dist d, uint64_t mean_ns)
{
	double x;

	if (d == LOAD_THINK_FIXED || !mean_ns)
		return mean_ns;
	/* TPC-W truncates its negative exponential at 10x the mean; the
	 * truncation lowers the mean by e^-10 relative, i.e. not measurably. */
	x = -log(1.0 - load_rng__unit(r));
	if (x > 10.0)
		x = 10.0;
	return (uint64_t)(x * (double)mean_ns);
}

int load_mix__init(struct load_mix *m, const uint32_t *weights, size_t n)
{
	uint64_t total = 0;

	m->cum = malloc((n ? n : 1) * sizeof(*m->cum));
	if (!m->cum)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		m->cum[i] = total += weights[i];
	m->n = n;
	return 0;
}

size_t load_mix__pick(const struct load_mix *m, struct load_rng *r)
{
	uint64_t x;
	size_t lo = 0, hi;

	if (m->n <= 1)
		return 0;
	x = load_rng__next(r) % m->cum[m->n - 1];
	hi = m->n - 1;
	while (lo < hi) { /* first i with cum[i] > x */
		size_t mid = lo + (hi - lo) / 2;

		if (m->cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void load_mix__free(struct load_mix *m)
{
	free(m->cum);
	m->cum = NULL;
	m->n = 0;
}

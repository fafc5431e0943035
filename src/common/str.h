/* Small string helpers for hot paths, where snprintf showed up in profiles:
 * a bounded copy (glibc has no strlcpy before 2.38) and decimal integers. */
#ifndef WEFT_STR_H
#define WEFT_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Copies src into dst of cap > 0 bytes, truncated, always NUL-terminated. */
static inline void str_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Writes v's decimal digits at p (no NUL); returns the end. Two digits a
 * step, straight into place: nanosecond times and socket ids run to 19 and
 * 20 digits. */
static inline char *str_put_u64(char *p, uint64_t v)
{
	static const char two[201] = "00010203040506070809101112131415161718192021222324"
				     "25262728293031323334353637383940414243444546474849"
				     "50515253545556575859606162636465666768697071727374"
				     "75767778798081828384858687888990919293949596979899";
	static const uint64_t pow10[20] = {1,
					   10,
					   100,
					   1000,
					   10000,
					   100000,
					   1000000,
					   10000000,
					   100000000,
					   1000000000,
					   10000000000ull,
					   100000000000ull,
					   1000000000000ull,
					   10000000000000ull,
					   100000000000000ull,
					   1000000000000000ull,
					   10000000000000000ull,
					   100000000000000000ull,
					   1000000000000000000ull,
					   10000000000000000000ull};
	/* the digit count from the bit length (1233/4096 ~ log10 2), no division */
	int t = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12, n = t + (v >= pow10[t]);
	char *end = p + (n ? n : 1);

	p = end;
	while (v >= 100) {
		p -= 2;
		memcpy(p, two + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(p - 2, two + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
	return end;
}

static inline char *str_put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return str_put_u64(p, -(uint64_t)v);
	}
	return str_put_u64(p, (uint64_t)v);
}

#endif

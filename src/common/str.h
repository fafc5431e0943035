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

/* Writes v's decimal digits at p (no NUL); returns the end. */
static inline char *str_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
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

/* Bounded string copy (glibc has no strlcpy before 2.38): snprintf("%s")
 * does the same, but showed up in the correlator's profile. */
#ifndef WEFT_STR_H
#define WEFT_STR_H

#include <stddef.h>
#include <string.h>

/* Copies src into dst of cap > 0 bytes, truncated, always NUL-terminated. */
static inline void str_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

#endif

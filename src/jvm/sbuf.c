/* Growable string buffer (see sbuf.h). */
#include "jvm/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int reserve(struct sbuf *b, size_t more)
{
	if (b->bad)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s) {
		b->bad = 1;
		return -1;
	}
	b->s = s;
	b->cap = cap;
	return 0;
}

void sbuf__printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sbuf__json_str(struct sbuf *b, const char *s)
{
	sbuf__printf(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sbuf__printf(b, "\\%c", c);
		else if (c < 0x20)
			sbuf__printf(b, "\\u%04x", c);
		else
			sbuf__printf(b, "%c", c);
	}
	sbuf__printf(b, "\"");
}

const char *sbuf__str(const struct sbuf *b)
{
	return b->bad ? NULL : b->s ? b->s : "";
}

void sbuf__free(struct sbuf *b)
{
	free(b->s);
	*b = (struct sbuf){0};
}

/* The exports' text writer (see textw.h). */
#include "export/textw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

/* Room for n more bytes and a NUL. */
static bool reserve(struct textw *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->oom)
		return false;
	if (w->len + n < w->cap)
		return true;
	cap = w->cap ? w->cap : 4096;
	while (cap <= w->len + n)
		cap *= 2;
	p = realloc(w->p, cap);
	if (!p) {
		w->oom = true;
		return false;
	}
	w->p = p;
	w->cap = cap;
	return true;
}

void textw_raw(struct textw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

void textw_cstr(struct textw *w, const char *s)
{
	textw_raw(w, s, strlen(s));
}

void textw_char(struct textw *w, char c)
{
	textw_raw(w, &c, 1);
}

void textw_u64(struct textw *w, uint64_t v)
{
	char buf[24];

	textw_raw(w, buf, (size_t)(str_put_u64(buf, v) - buf));
}

void textw_i64(struct textw *w, int64_t v)
{
	char buf[24];

	textw_raw(w, buf, (size_t)(str_put_i64(buf, v) - buf));
}

void textw_printf(struct textw *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(w, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	w->len += (size_t)n;
}

size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */

	if (!n)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0; /* a continuation byte, an overlong lead, or past U+10FFFF */
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* Writes s with fn deciding each ASCII byte's escape; runs of plain bytes
 * are copied at once. */
static void escaped(struct textw *w, const char *s, size_t n,
		    const char *(*esc)(unsigned char c, char *buf))
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	char buf[8];

	while (i < n) {
		size_t k = p[i] < 0x80 ? 1 : utf8_seq(p + i, n - i);
		const char *e = k == 1 && p[i] < 0x80 ? esc(p[i], buf) : k ? NULL : REPLACEMENT;

		if (!e) {
			i += k;
			continue;
		}
		textw_raw(w, s + run, i - run);
		textw_cstr(w, e);
		i += k ? k : 1;
		run = i;
	}
	textw_raw(w, s + run, i - run);
}

static const char *json_esc(unsigned char c, char *buf)
{
	if (c == '"')
		return "\\\"";
	if (c == '\\')
		return "\\\\";
	if (c >= 0x20 && c != 0x7f)
		return NULL;
	if (c == '\n')
		return "\\n";
	if (c == '\r')
		return "\\r";
	if (c == '\t')
		return "\\t";
	snprintf(buf, 8, "\\u%04x", c);
	return buf;
}

static const char *label_esc(unsigned char c, char *buf)
{
	(void)buf;
	if (c == '"')
		return "\\\"";
	if (c == '\\')
		return "\\\\";
	if (c == '\n')
		return "\\n";
	return NULL;
}

void textw_json(struct textw *w, const char *s, size_t n)
{
	textw_char(w, '"');
	escaped(w, s, n, json_esc);
	textw_char(w, '"');
}

void textw_label(struct textw *w, const char *s)
{
	escaped(w, s, strlen(s), label_esc);
}

char *textw_take(struct textw *w, size_t *len)
{
	char *p;

	if (w->oom || !reserve(w, 0)) {
		textw_free(w);
		return NULL;
	}
	p = w->p;
	*len = w->len;
	*w = (struct textw){0};
	return p;
}

void textw_free(struct textw *w)
{
	free(w->p);
	*w = (struct textw){0};
}

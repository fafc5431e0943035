/* Filter patterns (see filter.h). */
#include "jvm/filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_MAX_PATTERNS 256
#define FILTER_MAX_LEN	    4096

struct filter {
	char *spec; /* as given */
	char **pat; /* each pattern, NUL-terminated */
	unsigned n; /* number of patterns */
};

int filter_glob(const char *p, const char *s, int prefix)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p && *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else
			return 0;
	}
	if (prefix)
		return 1;
	while (*p == '*')
		p++;
	return *p == 0;
}

static int valid_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '$' || ch == '.' || ch == '*' || ch >= 0x80;
}

static int check_pattern(const char *p, size_t n, char *err, size_t errlen)
{
	const char *why = NULL;
	if (n == 0)
		why = "empty pattern";
	else if (p[0] == '.' || p[n - 1] == '.')
		why = "pattern starts or ends with '.'";
	for (size_t i = 0; !why && i < n; i++) {
		if (!valid_char((unsigned char)p[i]))
			why = "character not allowed in a pattern";
		else if (p[i] == '.' && i + 1 < n && p[i + 1] == '.')
			why = "empty name between dots";
	}
	if (!why)
		return 0;
	snprintf(err, errlen, "bad pattern '%.*s': %s", (int)(n > 200 ? 200 : n), p, why);
	return -1;
}

void filter__free(struct filter *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->n; i++)
		free(f->pat[i]);
	free(f->pat);
	free(f->spec);
	free(f);
}

struct filter *filter__parse(const char *spec, char *err, size_t errlen)
{
	struct filter *f = calloc(1, sizeof(*f));
	size_t len = strlen(spec);
	if (!f || !(f->spec = strdup(spec)) ||
	    !(f->pat = calloc(FILTER_MAX_PATTERNS, sizeof(*f->pat)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (len > FILTER_MAX_LEN) {
		snprintf(err, errlen, "filter longer than %d characters", FILTER_MAX_LEN);
		goto fail;
	}
	for (const char *p = spec; len && *p;) {
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (check_pattern(p, n, err, errlen))
			goto fail;
		if (f->n == FILTER_MAX_PATTERNS) {
			snprintf(err, errlen, "more than %d patterns", FILTER_MAX_PATTERNS);
			goto fail;
		}
		if (!(f->pat[f->n] = strndup(p, n))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		f->n++;
		if (!e)
			break;
		p = e + 1;
		if (!*p) {
			snprintf(err, errlen, "bad pattern '': empty pattern");
			goto fail;
		}
	}
	return f;
fail:
	filter__free(f);
	return NULL;
}

const char *filter__spec(const struct filter *f)
{
	return f ? f->spec : "";
}
int filter__empty(const struct filter *f)
{
	return !f || f->n == 0;
}

int filter__match_method(const struct filter *f, const char *cls, const char *method)
{
	if (!f || !f->n)
		return 0;
	size_t lc = strlen(cls), lm = strlen(method);
	char stack[512], *full = lc + lm + 2 <= sizeof(stack) ? stack : malloc(lc + lm + 2);
	if (!full)
		return 0;
	memcpy(full, cls, lc);
	full[lc] = '.';
	memcpy(full + lc + 1, method, lm + 1);
	int hit = 0;
	for (unsigned i = 0; i < f->n && !hit; i++)
		hit = filter_glob(f->pat[i], cls, 0) || filter_glob(f->pat[i], full, 0);
	if (full != stack)
		free(full);
	return hit;
}

int filter__may_match_class(const struct filter *f, const char *cls)
{
	if (!f || !f->n)
		return 0;
	size_t lc = strlen(cls);
	char stack[512], *dot = lc + 2 <= sizeof(stack) ? stack : malloc(lc + 2);
	if (!dot)
		return 0;
	memcpy(dot, cls, lc);
	dot[lc] = '.';
	dot[lc + 1] = 0;
	int hit = 0;
	for (unsigned i = 0; i < f->n && !hit; i++)
		hit = filter_glob(f->pat[i], cls, 0) || filter_glob(f->pat[i], dot, 1);
	if (dot != stack)
		free(dot);
	return hit;
}

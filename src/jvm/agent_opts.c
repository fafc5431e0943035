/* Agent option parsing (see opts.h). */
#include "jvm/agent_opts.h"

#include "jvm/filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *v, int *port, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long p = strtol(v, &end, 10);
	if (!*v || *end || errno || p < 1 || p > 65535) {
		snprintf(err, errlen, "bad port '%s': want 1..65535", v);
		return -1;
	}
	*port = (int)p;
	return 0;
}

static int parse_pair(const char *kv, size_t n, struct jvm_opts *o, unsigned *seen, char *err,
		      size_t errlen)
{
	static const char *const keys[] = {"port", "filter", "trace"};
	const char *eq = memchr(kv, '=', n);
	if (!eq) {
		snprintf(err, errlen, "option '%.*s' is not key=value", (int)n, kv);
		return -1;
	}
	size_t kl = (size_t)(eq - kv);
	char *v = strndup(eq + 1, n - kl - 1);
	int rc = -1;
	unsigned k;
	for (k = 0; k < 3; k++)
		if (strlen(keys[k]) == kl && !memcmp(kv, keys[k], kl))
			break;
	if (!v)
		snprintf(err, errlen, "out of memory");
	else if (k == 3)
		snprintf(err, errlen, "unknown option '%.*s'", (int)kl, kv);
	else if (*seen & (1u << k))
		snprintf(err, errlen, "option '%s' given twice", keys[k]);
	else if (k == 0)
		rc = parse_port(v, &o->port, err, errlen);
	else if (k == 1) {
		struct filter *f = filter__parse(v, err, errlen);
		filter__free(f);
		if (f) {
			o->filter = v;
			v = NULL;
			rc = 0;
		}
	} else if (!strcmp(v, "on") || !strcmp(v, "off")) {
		o->trace = !strcmp(v, "on");
		rc = 0;
	} else
		snprintf(err, errlen, "bad trace '%s': want on or off", v);
	*seen |= 1u << k;
	free(v);
	return rc;
}

int jvm_opts__parse(const char *s, struct jvm_opts *o, char *err, size_t errlen)
{
	unsigned seen = 0;
	*o = (struct jvm_opts){0};
	for (const char *p = s; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (parse_pair(p, n, o, &seen, err, errlen)) {
			free(o->filter);
			o->filter = NULL;
			return -1;
		}
		if (!e)
			break;
		p = e + 1;
		if (!*p) {
			snprintf(err, errlen, "empty option after ','");
			free(o->filter);
			o->filter = NULL;
			return -1;
		}
	}
	return 0;
}

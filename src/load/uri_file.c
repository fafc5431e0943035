#include "load/uri_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"

#define URI_FILE_MAX (64u << 20) /* a URI file larger than this is refused */

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

int load_url_parse(const char *url, char host[LOAD_HOST_MAX], char port[8], const char **path,
		   char *err, size_t errlen)
{
	const char *auth, *end, *colon = NULL;
	size_t hlen;

	if (!strncmp(url, "https://", 8)) {
		snprintf(err, errlen, "'%s': https is not supported, only http://", url);
		return -EINVAL;
	}
	if (strncmp(url, "http://", 7)) {
		snprintf(err, errlen, "'%s' is not an http:// URL", url);
		return -EINVAL;
	}
	auth = url + 7;
	end = auth + strcspn(auth, "/?#");
	if (*auth == '[') {
		const char *close = memchr(auth, ']', end - auth);

		if (!close || (close + 1 != end && close[1] != ':'))
			goto bad;
		hlen = close - auth - 1;
		memcpy(host, auth + 1, hlen < LOAD_HOST_MAX ? hlen : 0);
		colon = close + 1 != end ? close + 1 : NULL;
	} else {
		colon = memchr(auth, ':', end - auth);
		hlen = (colon ? colon : end) - auth;
		memcpy(host, auth, hlen < LOAD_HOST_MAX ? hlen : 0);
	}
	if (hlen == 0 || hlen >= LOAD_HOST_MAX)
		goto bad;
	host[hlen] = '\0';
	if (colon) {
		char tmp[8];
		uint64_t p;
		size_t plen = end - colon - 1;

		if (plen == 0 || plen >= sizeof(tmp))
			goto bad;
		memcpy(tmp, colon + 1, plen);
		tmp[plen] = '\0';
		if (parse_u64(tmp, &p, 1, 65535))
			goto bad;
		snprintf(port, 8, "%u", (unsigned)p);
	} else {
		strcpy(port, "80");
	}
	*path = *end == '/' ? end : (*end == '?' ? end : "/");
	if (*end == '?' || *end == '#') {
		snprintf(err, errlen, "'%s': the path must start with '/'", url);
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen, "'%s': bad host or port in URL", url);
	return -EINVAL;
}

static struct load_uri *set_push(struct uri_set *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct load_uri *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	s->v[s->n].weight = 1;
	return &s->v[s->n++];
}

static void uri_free(struct load_uri *u)
{
	free(u->method);
	free(u->path);
	free(u->headers);
	free(u->body);
}

/* Takes the target of a full URL: the first one sets it, later ones must match. */
static int set_target(struct uri_set *s, const char *url, const char **path, char *err,
		      size_t errlen)
{
	char host[LOAD_HOST_MAX], port[8];

	if (load_url_parse(url, host, port, path, err, errlen))
		return -EINVAL;
	if (s->host[0] && (strcmp(s->host, host) || strcmp(s->port, port))) {
		snprintf(err, errlen, "'%s': every URL must name the same host and port (%s:%s)",
			 url, s->host, s->port);
		return -EINVAL;
	}
	strcpy(s->host, host);
	strcpy(s->port, port);
	return 0;
}

int uri_set__add_url(struct uri_set *s, const char *url, char *err, size_t errlen)
{
	const char *path;
	struct load_uri *u;

	if (set_target(s, url, &path, err, errlen))
		return -EINVAL;
	u = set_push(s);
	if (!u || !(u->method = strdup("GET")) || !(u->path = strdup(path)) ||
	    !(u->headers = strdup(""))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* One field of a line, unquoted into out (NUL-terminated, at most outlen).
 * Returns the position after it, or NULL with a reason in *why. */
static const char *next_token(const char *p, const char *end, char *out, size_t outlen, size_t *n,
			      const char **why)
{
	char q = 0;

	*n = 0;
	for (; p < end && (q || !isblank((unsigned char)*p)); p++) {
		char c = *p;

		if (!q && (c == '"' || c == '\'')) {
			q = c;
			continue;
		}
		if (q && c == q) {
			q = 0;
			continue;
		}
		if (q == '"' && c == '\\' && p + 1 < end) {
			static const char from[] = "nrt\"\\", to[] = "\n\r\t\"\\";
			const char *k = strchr(from, *++p);

			c = k && *p ? to[k - from] : *p;
		}
		if (*n + 1 >= outlen) {
			*why = "field too long";
			return NULL;
		}
		out[(*n)++] = c;
	}
	out[*n] = '\0';
	if (q) {
		*why = "unterminated quote";
		return NULL;
	}
	return p;
}

static char *append_header(char *headers, const char *h, const char **why)
{
	size_t old = strlen(headers), add = strlen(h);
	const char *colon = strchr(h, ':');
	char *v;

	if (!colon || colon == h || strpbrk(h, "\r\n")) {
		*why = "header must be \"Name: value\"";
		return NULL;
	}
	v = realloc(headers, old + add + 3);
	if (!v) {
		*why = "out of memory";
		return NULL;
	}
	memcpy(v + old, h, add);
	memcpy(v + old + add, "\r\n", 3);
	return v;
}

/* Applies one key=value field to u. */
static int apply_field(struct load_uri *u, const char *tok, size_t n, const char **why)
{
	uint64_t w;

	if (!strncmp(tok, "header=", 7)) {
		char *h = append_header(u->headers, tok + 7, why);

		if (!h)
			return -EINVAL;
		u->headers = h;
	} else if (!strncmp(tok, "body=", 5)) {
		free(u->body);
		u->body_len = n - 5;
		u->body = malloc(u->body_len + 1);
		if (!u->body) {
			*why = "out of memory";
			return -ENOMEM;
		}
		memcpy(u->body, tok + 5, u->body_len + 1);
	} else if (!strncmp(tok, "weight=", 7)) {
		if (parse_u64(tok + 7, &w, 1, 1000000)) {
			*why = "weight must be an integer from 1 to 1000000";
			return -EINVAL;
		}
		u->weight = (uint32_t)w;
	} else {
		*why = "unknown field (expected header=, body= or weight=)";
		return -EINVAL;
	}
	return 0;
}

static int check_method(const char *m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(m, methods[i]))
			return 0;
	return -EINVAL;
}

/* Parses one non-empty line into a new entry of s. */
static int parse_line(struct uri_set *s, const char *p, const char *end, unsigned lineno, char *tok,
		      size_t toklen, char *err, size_t errlen, const char *name)
{
	const char *why = NULL, *path;
	struct load_uri *u;
	size_t n;
	char uerr[256];

	u = set_push(s);
	if (!u || !(u->headers = strdup("")))
		goto nomem;
	u->line = lineno;
	p = next_token(p, end, tok, toklen, &n, &why);
	if (!p)
		goto bad;
	/* A line that starts with the path or URL is a GET (the seed's
	 * orderstatus.uris lists bare paths). */
	if (tok[0] == '/' || !strncmp(tok, "http://", 7)) {
		if (!(u->method = strdup("GET")))
			goto nomem;
	} else {
		if (check_method(tok)) {
			snprintf(err, errlen,
				 "%s:%u: unknown method '%s' (GET, POST, PUT, DELETE, PATCH, "
				 "OPTIONS), or a path starting with '/'",
				 name, lineno, tok);
			return -EINVAL;
		}
		if (!(u->method = strdup(tok)))
			goto nomem;
		while (p < end && isblank((unsigned char)*p))
			p++;
		p = next_token(p, end, tok, toklen, &n, &why);
		if (!p)
			goto bad;
		if (!n) {
			why = "missing path after the method";
			goto bad;
		}
	}
	path = tok;
	if (tok[0] != '/') {
		if (set_target(s, tok, &path, uerr, sizeof(uerr))) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, uerr);
			return -EINVAL;
		}
	}
	if (!(u->path = strdup(path)))
		goto nomem;
	for (;;) {
		while (p < end && isblank((unsigned char)*p))
			p++;
		if (p >= end)
			break;
		p = next_token(p, end, tok, toklen, &n, &why);
		if (!p || apply_field(u, tok, n, &why))
			goto bad;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
bad:
	snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
	return -EINVAL;
}

int uri_set__parse(struct uri_set *s, const char *text, size_t len, const char *name, char *err,
		   size_t errlen)
{
	const char *p = text, *end = text + len, *eol, *q;
	unsigned lineno = 0;
	size_t before = s->n;
	char *tok = malloc(len + 1);
	int ret = 0;

	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (; p < end && !ret; p = eol + 1) {
		lineno++;
		eol = memchr(p, '\n', end - p);
		if (!eol)
			eol = end;
		q = eol;
		while (q > p && isspace((unsigned char)q[-1]))
			q--;
		while (p < q && isblank((unsigned char)*p))
			p++;
		if (p == q || *p == '#')
			continue;
		ret = parse_line(s, p, q, lineno, tok, len + 1, err, errlen, name);
	}
	if (!ret && s->n == before) {
		snprintf(err, errlen, "%s: no requests in the file", name);
		ret = -EINVAL;
	}
	free(tok);
	return ret;
}

int uri_set__load(struct uri_set *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len;
	long size;
	int ret = -EINVAL;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto cleanup;
	}
	if ((size_t)size > URI_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u MiB", path, URI_FILE_MAX >> 20);
		goto cleanup;
	}
	text = malloc(size + 1);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	len = fread(text, 1, size, f);
	if (len != (size_t)size) {
		snprintf(err, errlen, "%s: short read", path);
		goto cleanup;
	}
	ret = uri_set__parse(s, text, len, path, err, errlen);
cleanup:
	free(text);
	fclose(f);
	return ret;
}

void uri_set__free(struct uri_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		uri_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

char *load_uri__render(const struct load_uri *u, const char *host_header, bool keepalive,
		       size_t *len)
{
	const char *extra = u->headers ? u->headers : "";
	char clen[48] = "";
	size_t head;
	char *buf;
	int n;

	if (u->body)
		snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", u->body_len);
	head = strlen(u->method) + strlen(u->path) + strlen(host_header) + strlen(extra) +
	       strlen(clen) + 64;
	buf = malloc(head + u->body_len);
	if (!buf)
		return NULL;
	n = snprintf(buf, head, "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", u->method, u->path,
		     host_header, extra, clen, keepalive ? "" : "Connection: close\r\n");
	if (u->body_len)
		memcpy(buf + n, u->body, u->body_len);
	*len = n + u->body_len;
	return buf;
}

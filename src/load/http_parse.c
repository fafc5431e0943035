#include "load/http_parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void http_resp__init(struct http_resp *p)
{
	memset(p, 0, sizeof(*p));
	p->state = HTTP_RESP_HEAD;
}

/* Does the comma-separated header value contain token (case-insensitive)? */
static bool value_has(const char *v, size_t n, const char *token)
{
	size_t t = strlen(token);

	for (size_t i = 0; i + t <= n; i++)
		if (!strncasecmp(v + i, token, t))
			return true;
	return false;
}

static int parse_u64_hex_or_dec(const char *s, size_t n, int base, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	for (; i < n && isxdigit((unsigned char)s[i]); i++) {
		int d = isdigit((unsigned char)s[i]) ? s[i] - '0'
						     : (tolower((unsigned char)s[i]) - 'a' + 10);

		if (d >= base || v > (UINT64_MAX >> 4))
			return -1;
		v = v * base + d;
	}
	if (i == 0)
		return -1;
	*out = v;
	return (int)i;
}

/* Applies one header line (without CRLF) to the framing state. */
static int head_line(struct http_resp *p, const char *l, size_t n, bool *chunked, bool *has_len)
{
	const char *colon = memchr(l, ':', n);
	size_t name_len, vlen;
	const char *v;

	if (!colon)
		return -1;
	name_len = colon - l;
	v = colon + 1;
	vlen = n - name_len - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	if (name_len == 14 && !strncasecmp(l, "content-length", 14)) {
		int k = parse_u64_hex_or_dec(v, vlen, 10, &p->remaining);

		if (k < 0)
			return -1;
		*has_len = true;
	} else if (name_len == 17 && !strncasecmp(l, "transfer-encoding", 17)) {
		*chunked = value_has(v, vlen, "chunked");
	} else if (name_len == 10 && !strncasecmp(l, "connection", 10)) {
		if (value_has(v, vlen, "close"))
			p->keepalive = false;
		else if (value_has(v, vlen, "keep-alive"))
			p->keepalive = true;
	}
	return 0;
}

/* Parses a complete head of n bytes (ending with the blank line). */
static int parse_head(struct http_resp *p, const char *h, size_t n)
{
	const char *end = h + n, *l, *eol;
	bool chunked = false, has_len = false;

	if (n < 12 || memcmp(h, "HTTP/1.", 7) || (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
	    !isdigit((unsigned char)h[9]) || !isdigit((unsigned char)h[10]) ||
	    !isdigit((unsigned char)h[11]))
		return -1;
	p->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	p->keepalive = h[7] == '1';
	l = memchr(h, '\n', n) + 1;
	for (; l < end; l = eol + 1) {
		eol = memchr(l, '\n', end - l);
		if (eol - l <= 1)
			break; /* the blank line */
		if (head_line(p, l, eol - l - (eol[-1] == '\r'), &chunked, &has_len))
			return -1;
	}
	p->head_bytes = n;
	if (p->status < 200 || p->status == 204 || p->status == 304)
		p->state = p->status < 200 ? HTTP_RESP_HEAD : HTTP_RESP_DONE;
	else if (chunked)
		p->state = HTTP_RESP_CHUNK_SIZE;
	else if (has_len)
		p->state = p->remaining ? HTTP_RESP_BODY_LEN : HTTP_RESP_DONE;
	else {
		p->state = HTTP_RESP_BODY_EOF;
		p->keepalive = false;
	}
	return 0;
}

static long feed_head(struct http_resp *p, const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);

	if (!end)
		return len > HTTP_RESP_HEAD_MAX ? -1 : 0;
	if (parse_head(p, buf, end + 4 - buf))
		return -1;
	return end + 4 - buf;
}

static long feed_chunk_size(struct http_resp *p, const char *buf, size_t len)
{
	const char *eol = memchr(buf, '\n', len);
	int k;

	if (!eol)
		return len > 1024 ? -1 : 0;
	k = parse_u64_hex_or_dec(buf, eol - buf, 16, &p->remaining);
	if (k < 0)
		return -1;
	p->state = p->remaining ? HTTP_RESP_CHUNK_DATA : HTTP_RESP_TRAILERS;
	return eol + 1 - buf;
}

static long feed_trailer(struct http_resp *p, const char *buf, size_t len)
{
	const char *eol = memchr(buf, '\n', len);

	if (!eol)
		return len > HTTP_RESP_HEAD_MAX ? -1 : 0;
	if (eol == buf || (eol == buf + 1 && buf[0] == '\r'))
		p->state = HTTP_RESP_DONE;
	return eol + 1 - buf;
}

static long feed_body(struct http_resp *p, size_t len, enum http_resp_state next)
{
	size_t take = len < p->remaining ? len : (size_t)p->remaining;

	p->remaining -= take;
	p->body_bytes += take;
	if (!p->remaining)
		p->state = next;
	return (long)take;
}

static long feed_one(struct http_resp *p, const char *buf, size_t len)
{
	switch (p->state) {
	case HTTP_RESP_HEAD:
		return feed_head(p, buf, len);
	case HTTP_RESP_BODY_LEN:
		return feed_body(p, len, HTTP_RESP_DONE);
	case HTTP_RESP_CHUNK_SIZE:
		return feed_chunk_size(p, buf, len);
	case HTTP_RESP_CHUNK_DATA:
		return feed_body(p, len, HTTP_RESP_CHUNK_CRLF);
	case HTTP_RESP_CHUNK_CRLF:
		if (len < 2)
			return 0;
		if (buf[0] != '\r' || buf[1] != '\n')
			return -1;
		p->state = HTTP_RESP_CHUNK_SIZE;
		return 2;
	case HTTP_RESP_TRAILERS:
		return feed_trailer(p, buf, len);
	case HTTP_RESP_BODY_EOF:
		p->body_bytes += len;
		return (long)len;
	case HTTP_RESP_DONE:
		break;
	}
	return 0;
}

long http_resp__feed(struct http_resp *p, const char *buf, size_t len)
{
	size_t off = 0;
	long k;

	while (off < len && p->state != HTTP_RESP_DONE) {
		k = feed_one(p, buf + off, len - off);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		off += k;
	}
	return (long)off;
}

int http_resp__eof(struct http_resp *p)
{
	if (p->state == HTTP_RESP_BODY_EOF) {
		p->state = HTTP_RESP_DONE;
		return 0;
	}
	return p->state == HTTP_RESP_DONE ? 0 : -1;
}

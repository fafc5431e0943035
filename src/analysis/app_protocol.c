#include "analysis/app_protocol.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *weft_protocol_name(uint8_t proto)
{
	switch (proto) {
	case WEFT_PROTO_HTTP:
		return "http";
	case WEFT_PROTO_REDIS:
		return "redis";
	case WEFT_PROTO_POSTGRES:
		return "postgresql";
	case WEFT_PROTO_MYSQL:
		return "mysql";
	case WEFT_PROTO_METHOD:
		return "method";
	case WEFT_PROTO_AMQP:
		return "amqp";
	}
	return "tcp";
}

/* Copies printable text up to a stop character, at most cap-1 bytes. */
static size_t copy_text(char *out, size_t cap, const uint8_t *p, size_t n, const char *stops)
{
	size_t i;

	for (i = 0; i < n && i + 1 < cap && p[i] && !strchr(stops, p[i]); i++)
		out[i] = isprint(p[i]) ? (char)p[i] : ' ';
	out[i] = '\0';
	return i;
}

static bool http_request(const uint8_t *p, size_t n, char *summary, size_t cap)
{
	static const char *const methods[] = {"GET ",	  "POST ",  "PUT ",	"DELETE ", "HEAD ",
					      "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t m = strlen(methods[i]);

		if (n > m && !memcmp(p, methods[i], m)) {
			size_t k = copy_text(summary, cap, p, n, " \r\n");

			if (k + 1 < cap) {
				summary[k++] = ' ';
				copy_text(summary + k, cap - k, p + m, n - m, " \r\n");
			}
			return true;
		}
	}
	return false;
}

/* RESP: "*<n>\r\n$<len>\r\n<command>\r\n..." */
static bool redis_request(const uint8_t *p, size_t n, char *summary, size_t cap)
{
	const uint8_t *q, *end = p + n;

	if (n < 8 || p[0] != '*' || !isdigit(p[1]))
		return false;
	q = memchr(p, '\n', n);
	if (!q || q + 1 >= end || q[1] != '$')
		return false;
	q = memchr(q + 1, '\n', end - q - 1);
	if (!q || q + 1 >= end)
		return false;
	strcpy(summary, "REDIS ");
	q++;
	for (size_t i = 6; i + 1 < cap && q < end && *q != '\r'; i++, q++)
		summary[i] = (char)toupper(*q), summary[i + 1] = '\0';
	return true;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Frontend messages: a type byte, a 32-bit length; the startup message has
 * no type byte but protocol 3.0 (196608) or an SSL request. */
static bool postgres_request(const uint8_t *p, size_t n, uint16_t port, char *summary, size_t cap)
{
	if (n >= 8 && (be32(p + 4) == 196608 || be32(p + 4) == 80877103)) {
		snprintf(summary, cap, "%s", be32(p + 4) == 196608 ? "STARTUP" : "SSL REQUEST");
		return true;
	}
	if (n < 5 || be32(p + 1) < 4 || be32(p + 1) > (1u << 30))
		return false;
	switch (p[0]) {
	case 'Q':
		snprintf(summary, cap, "QUERY ");
		copy_text(summary + 6, cap - 6, p + 5, n - 5, "");
		return true;
	case 'P': {
		const uint8_t *q = memchr(p + 5, '\0', n - 5); /* statement name */

		snprintf(summary, cap, "PARSE ");
		if (q)
			copy_text(summary + 6, cap - 6, q + 1, n - (q + 1 - p), "");
		return true;
	}
	case 'B':
	case 'E':
	case 'S':
	case 'X':
	case 'D':
	case 'p':
		if (port != 5432) /* single letters are too weak a sign alone */
			return false;
		snprintf(summary, cap, "%s",
			 p[0] == 'B'   ? "BIND"
			 : p[0] == 'E' ? "EXECUTE"
			 : p[0] == 'S' ? "SYNC"
			 : p[0] == 'X' ? "TERMINATE"
			 : p[0] == 'D' ? "DESCRIBE"
				       : "PASSWORD");
		return true;
	}
	return false;
}

/* A packet: 3-byte little-endian length, sequence id, then the command. */
static bool mysql_request(const uint8_t *p, size_t n, uint16_t port, char *summary, size_t cap)
{
	uint32_t len;

	if (n < 5 || port != 3306)
		return false;
	len = p[0] | p[1] << 8 | p[2] << 16;
	if (len == 0 || p[3] != 0)
		return false;
	if (p[4] == 0x03) {
		snprintf(summary, cap, "QUERY ");
		copy_text(summary + 6, cap - 6, p + 5, n - 5, "");
	} else {
		snprintf(summary, cap, "COMMAND %u", p[4]);
	}
	return true;
}

void protocol_request(const uint8_t *p, size_t n, uint16_t server_port, uint8_t *proto,
		      char *summary, size_t cap)
{
	summary[0] = '\0';
	*proto = WEFT_PROTO_UNKNOWN;
	if (!n)
		return;
	if (http_request(p, n, summary, cap))
		*proto = WEFT_PROTO_HTTP;
	else if (redis_request(p, n, summary, cap))
		*proto = WEFT_PROTO_REDIS;
	else if (postgres_request(p, n, server_port, summary, cap))
		*proto = WEFT_PROTO_POSTGRES;
	else if (mysql_request(p, n, server_port, summary, cap))
		*proto = WEFT_PROTO_MYSQL;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/* The value of header `name` (lower case, with its colon) in an HTTP head,
 * found case-insensitively at the start of a line; its length in *len. */
static const uint8_t *header_value(const uint8_t *p, size_t n, const char *name, size_t *len)
{
	size_t k = strlen(name);

	for (size_t i = 0; i + 2 + k <= n; i++) {
		size_t j, v;

		if (p[i] != '\n')
			continue;
		for (j = 0; j < k && tolower(p[i + 1 + j]) == name[j]; j++)
			;
		if (j < k)
			continue;
		v = i + 1 + k;
		while (v < n && (p[v] == ' ' || p[v] == '\t'))
			v++;
		for (*len = 0; v + *len < n && p[v + *len] != '\r' && p[v + *len] != '\n'; (*len)++)
			;
		return v + *len < n ? p + v : NULL; /* only a value seen whole */
	}
	return NULL;
}

void protocol_http_keys(const uint8_t *p, size_t n, uint64_t *line, uint64_t *trace)
{
	const uint8_t *v;
	size_t len, sp = 0, i;

	*line = *trace = 0;
	for (i = 0; i < n && p[i] != '\r' && p[i] != '\n'; i++)
		if (p[i] == ' ' && ++sp == 2)
			break;
	if (sp == 2) /* method and target, whatever the version */
		*line = hash_bytes(p, i);
	/* traceparent: 00-<trace id>-<parent id>-<flags>: the trace id stays
	 * across hops, the parent id changes at each. */
	if ((v = header_value(p, n, "traceparent:", &len)) && len >= 35 && v[2] == '-')
		*trace = hash_bytes(v + 3, 32);
	else if ((v = header_value(p, n, "x-request-id:", &len)) && len)
		*trace = hash_bytes(v, len);
}

void protocol_response(uint8_t proto, const uint8_t *p, size_t n, struct protocol_result *r)
{
	memset(r, 0, sizeof(*r));
	switch (proto) {
	case WEFT_PROTO_HTTP:
		if (n >= 12 && !memcmp(p, "HTTP/1.", 7) && isdigit(p[9]) && isdigit(p[10]) &&
		    isdigit(p[11])) {
			r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
			if (r->status >= 500) {
				r->error = true;
				snprintf(r->error_text, sizeof(r->error_text), "HTTP %d",
					 r->status);
			}
		}
		return;
	case WEFT_PROTO_REDIS:
		if (n && p[0] == '-') {
			r->error = true;
			copy_text(r->error_text, sizeof(r->error_text), p + 1, n - 1, "\r\n");
		}
		return;
	case WEFT_PROTO_POSTGRES:
		if (n >= 5 && p[0] == 'E') {
			r->error = true;
			snprintf(r->error_text, sizeof(r->error_text), "PostgreSQL error");
		}
		return;
	case WEFT_PROTO_MYSQL:
		if (n >= 5 && p[4] == 0xff) {
			r->error = true;
			snprintf(r->error_text, sizeof(r->error_text), "MySQL error");
		}
		return;
	}
}

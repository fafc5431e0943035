/* Application protocols recognized from a message's first bytes: enough to
 * name a span ("GET /order?id=7", "REDIS GET", "QUERY SELECT ...") and to
 * tell a failed response (HTTP 5xx, a Redis or PostgreSQL error). */
#ifndef WEFT_APP_PROTOCOL_H
#define WEFT_APP_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/trajectory.h"

/* From a request's prefix: the protocol and a one-line summary. */
void protocol_request(const uint8_t *p, size_t n, uint16_t server_port, uint8_t *proto,
		      char *summary, size_t cap);

struct protocol_result {
	int status; /* HTTP status, 0 otherwise */
	bool error;
	char error_text[48]; /* why it failed */
};

/* What identifies an HTTP request across a proxy, from its prefix: *line
 * hashes its method and target (a reverse proxy forwards them unchanged),
 * *trace its trace id (traceparent) or X-Request-ID. 0 when absent or not
 * seen whole. */
void protocol_http_keys(const uint8_t *p, size_t n, uint64_t *line, uint64_t *trace);

/* From a response's prefix, for a request of protocol proto. */
void protocol_response(uint8_t proto, const uint8_t *p, size_t n, struct protocol_result *r);

#endif

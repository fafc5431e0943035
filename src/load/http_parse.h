/* Incremental HTTP/1.x response parser: status, framing (Content-Length,
 * chunked, or until close) and whether the connection may be reused. It keeps
 * no bytes: the caller owns the buffer, feeds what it has, drops what was
 * consumed and keeps the rest for the next call. */
#ifndef WEFT_LOAD_HTTP_PARSE_H
#define WEFT_LOAD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_RESP_HEAD_MAX 16384 /* a head longer than this is an error */

enum http_resp_state {
	HTTP_RESP_HEAD,	      /* waiting for the complete status line and headers */
	HTTP_RESP_BODY_LEN,   /* Content-Length body, `remaining` bytes to go */
	HTTP_RESP_CHUNK_SIZE, /* waiting for a chunk-size line */
	HTTP_RESP_CHUNK_DATA, /* inside a chunk, `remaining` bytes to go */
	HTTP_RESP_CHUNK_CRLF, /* the CRLF after a chunk's data */
	HTTP_RESP_TRAILERS,   /* trailer lines after the last chunk */
	HTTP_RESP_BODY_EOF,   /* body ends when the peer closes */
	HTTP_RESP_DONE,	      /* a complete response was parsed */
};

struct http_resp {
	enum http_resp_state state; /* where the parser is */
	int status;		    /* status code once the head is parsed */
	bool keepalive;		    /* the connection may carry another request */
	uint64_t remaining;	    /* body or chunk bytes still expected */
	uint64_t body_bytes;	    /* body bytes seen so far (chunk framing excluded) */
	uint64_t head_bytes;	    /* bytes of the final head */
};

/* Prepares p for a new response. */
void http_resp__init(struct http_resp *p);
/* Parses from buf[0..len). Returns the bytes consumed (possibly 0 when a
 * head or chunk line is still incomplete: call again with more bytes after
 * them), or -1 on a malformed response. The response is complete when
 * p->state == HTTP_RESP_DONE; bytes after it are not consumed. */
long http_resp__feed(struct http_resp *p, const char *buf, size_t len);
/* The peer closed the connection. Returns 0 when that ends the response
 * (a body delimited by close; state becomes DONE), -1 when it was cut short. */
int http_resp__eof(struct http_resp *p);

#endif

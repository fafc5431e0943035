/* Response parser: framing by length, chunks and close; keep-alive; errors;
 * every response also fed one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "load/http_parse.h"

struct resp_case {
	const char *name; /* what it shows */
	const char *wire; /* one response, possibly followed by extra bytes */
	size_t used;	  /* bytes that belong to the response (0: the whole wire) */
	int status;	  /* expected status, or -1 for a parse error */
	bool keepalive;	  /* expected reuse */
	uint64_t body;	  /* expected body bytes */
	bool needs_eof;	  /* complete only when the peer closes */
};

static const struct resp_case cases[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 200, true, 5},
    {"zero length", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", 0, 200, true, 0},
    {"extra bytes stay", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1", 40, 200, true,
     2},
    {"chunked",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
     "4;ext=1\r\ndefg\r\n0\r\n\r\n",
     0, 200, true, 7},
    {"chunked with trailer",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
     "A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
     0, 200, true, 10},
    {"connection close",
     "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", 0, 404, false, 1},
    {"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", 0,
     200, true, 1},
    {"1.0 default close", "HTTP/1.0 503 X\r\nContent-Length: 1\r\n\r\nx", 0, 503, false, 1},
    {"body until close", "HTTP/1.1 200 OK\r\n\r\nall of it", 0, 200, false, 9, true},
    {"204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 0, 204, true, 0},
    {"100 continue first",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
     "Content-Length: 2\r\n\r\nok",
     0, 201, true, 2},
    {"not http", "SSH-2.0-OpenSSH\r\n\r\n", 0, -1},
    {"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", 0, -1},
    {"bad length", "HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n", 0, -1},
    {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, -1},
    {"bad chunk end", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY0\r\n\r\n", 0,
     -1},
};

/* Feeds wire in steps of `step` bytes the way a connection does: unconsumed
 * bytes are kept and fed again with the next ones. Returns consumed or -1. */
static long feed_in_steps(struct http_resp *p, const char *wire, size_t len, size_t step)
{
	char buf[1024];
	size_t have = 0, off = 0, used = 0;

	while (p->state != HTTP_RESP_DONE) {
		size_t n = len - off < step ? len - off : step;
		long k;

		if (!n && !have)
			break;
		memcpy(buf + have, wire + off, n);
		off += n;
		have += n;
		k = http_resp__feed(p, buf, have);
		if (k < 0)
			return -1;
		used += k;
		memmove(buf, buf + k, have - k);
		have -= k;
		if (!n)
			break;
	}
	return (long)used;
}

static void check_case(const struct resp_case *c, size_t step)
{
	struct http_resp p;
	size_t len = strlen(c->wire), used = c->used ? c->used : len;
	long k;

	http_resp__init(&p);
	k = feed_in_steps(&p, c->wire, len, step);
	if (c->status < 0) {
		assert_int_equal(k, -1);
		return;
	}
	if (c->needs_eof) {
		assert_int_equal(p.state, HTTP_RESP_BODY_EOF);
		assert_int_equal(http_resp__eof(&p), 0);
	}
	assert_int_equal(p.state, HTTP_RESP_DONE);
	assert_int_equal(k, (long)used);
	assert_int_equal(p.status, c->status);
	assert_int_equal(p.keepalive, c->keepalive);
	assert_int_equal(p.body_bytes, c->body);
}

static void test_cases_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("# %s\n", cases[i].name);
		check_case(&cases[i], 1024);
	}
}

static void test_cases_byte_by_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("# %s\n", cases[i].name);
		check_case(&cases[i], 1);
	}
}

/* A response cut short by the peer is an error, not a success. */
static void test_eof_mid_body(void **state)
{
	static const char w[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
	struct http_resp p;

	(void)state;
	http_resp__init(&p);
	assert_int_equal(http_resp__feed(&p, w, sizeof(w) - 1), (long)sizeof(w) - 1);
	assert_int_equal(p.state, HTTP_RESP_BODY_LEN);
	assert_int_equal(http_resp__eof(&p), -1);
	http_resp__init(&p);
	assert_int_equal(http_resp__eof(&p), -1); /* nothing at all */
}

/* An endless head is refused once past the limit. */
static void test_head_limit(void **state)
{
	static char big[HTTP_RESP_HEAD_MAX + 100];
	struct http_resp p;

	(void)state;
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'a', sizeof(big) - 20);
	http_resp__init(&p);
	assert_int_equal(http_resp__feed(&p, big, 100), 0);
	assert_int_equal(http_resp__feed(&p, big, sizeof(big)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases_whole),
	    cmocka_unit_test(test_cases_byte_by_byte),
	    cmocka_unit_test(test_eof_mid_body),
	    cmocka_unit_test(test_head_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

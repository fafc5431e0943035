/* Unit tests of the common helpers: number, duration, size and address
 * parsing, base64, decimal and string writers, the names of events, and
 * options in any order around operands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"
#include "common/event_util.h"
#include "common/opts.h"
#include "common/parse.h"
#include "common/str.h"

static void test_parse_u64(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint64_t want;
	} cases[] = {
	    {"0", 1, 0},     {"42", 1, 42},
	    {"100", 1, 100}, {"101", 0, 0},
	    {"-1", 0, 0},    {"", 0, 0},
	    {"4x", 0, 0},    {" 4", 0, 0},
	    {"+4", 0, 0},    {"99999999999999999999999", 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;
		int err = parse_u64(cases[i].in, &v, 0, 100);

		assert_int_equal(err == 0, cases[i].ok);
		assert_int_equal(v, cases[i].ok ? cases[i].want : 7);
	}
}

static void test_parse_duration(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_duration_ns("30", &v, 1000000000ull), 0);
	assert_int_equal(v, 30000000000ull);
	assert_int_equal(parse_duration_ns("250ms", &v, 1), 0);
	assert_int_equal(v, 250000000ull);
	assert_int_equal(parse_duration_ns("1.5s", &v, 1), 0);
	assert_int_equal(v, 1500000000ull);
	assert_int_equal(parse_duration_ns("2m", &v, 1), 0);
	assert_int_equal(v, 120000000000ull);
	assert_int_equal(parse_duration_ns("1d", &v, 1), 0);
	assert_int_equal(v, 86400000000000ull);
	assert_int_not_equal(parse_duration_ns("5 s", &v, 1), 0);
	assert_int_not_equal(parse_duration_ns("-1s", &v, 1), 0);
	assert_int_not_equal(parse_duration_ns("s", &v, 1), 0);
	assert_int_not_equal(parse_duration_ns("3fortnights", &v, 1), 0);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("4096", &v, 0, UINT64_MAX), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("64KiB", &v, 0, UINT64_MAX), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size("8MiB", &v, 0, UINT64_MAX), 0);
	assert_int_equal(v, 8u << 20);
	assert_int_equal(parse_size("1G", &v, 0, UINT64_MAX), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_not_equal(parse_size("2KiB", &v, 0, 1024), 0);
	assert_int_not_equal(parse_size("1TB", &v, 0, UINT64_MAX), 0);
}

static void test_parse_host_port(void **state)
{
	char host[64];
	uint16_t port;

	(void)state;
	assert_int_equal(parse_host_port("127.0.0.1:7071", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7071);
	assert_int_equal(parse_host_port("[::1]:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_not_equal(parse_host_port("localhost", host, sizeof(host), &port), 0);
	assert_int_not_equal(parse_host_port("h:0", host, sizeof(host), &port), 0);
	assert_int_not_equal(parse_host_port(":80", host, sizeof(host), &port), 0);
	assert_int_not_equal(parse_host_port("[::1:80", host, sizeof(host), &port), 0);
}

static void test_base64_roundtrip(void **state)
{
	static const struct {
		const char *plain, *encoded;
	} vectors[] = {/* RFC 4648, section 10 */
		       {"", ""},
		       {"f", "Zg=="},
		       {"fo", "Zm8="},
		       {"foo", "Zm9v"},
		       {"foob", "Zm9vYg=="},
		       {"fooba", "Zm9vYmE="},
		       {"foobar", "Zm9vYmFy"}};
	char enc[64];
	unsigned char dec[64];

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t n = strlen(vectors[i].plain);

		assert_int_equal(base64_encode((const unsigned char *)vectors[i].plain, n, enc),
				 strlen(vectors[i].encoded));
		assert_string_equal(enc, vectors[i].encoded);
		assert_int_equal(base64_decode(enc, strlen(enc), dec), n);
		assert_memory_equal(dec, vectors[i].plain, n);
	}
	assert_int_equal(base64_decode("Zm9", 3, dec), -1);
	assert_int_equal(base64_decode("Zm*v", 4, dec), -1);
}

static void test_role_infer(void **state)
{
	struct weft_event e = {.role = WEFT_ROLE_UNKNOWN, .sport = 45000, .dport = 80};

	(void)state;
	assert_int_equal(weft_role_infer(&e), WEFT_ROLE_CLIENT);
	e.sport = 5432;
	e.dport = 51000;
	assert_int_equal(weft_role_infer(&e), WEFT_ROLE_SERVER);
	e.role = WEFT_ROLE_CLIENT; /* a known side is never second-guessed */
	assert_int_equal(weft_role_infer(&e), WEFT_ROLE_CLIENT);
	assert_string_equal(weft_connect_result(-111), "refused");
	assert_string_equal(weft_connect_result(-110), "timeout");
	assert_string_equal(weft_connect_result(0), "ok");
}

/* The decimal writers against printf at every digit count's edges, and the
 * bounded copy. */
static void test_str_writers(void **state)
{
	uint64_t u[] = {0,
			9,
			10,
			99,
			100,
			999,
			1000,
			4294967295ull,
			4294967296ull,
			999999999999999999ull,
			1000000000000000000ull,
			9999999999999999999ull,
			10000000000000000000ull,
			UINT64_MAX};
	int64_t i[] = {0, -1, 7, -10, 123456789, INT64_MAX, INT64_MIN};
	char got[32], want[32], *end;

	(void)state;
	for (uint64_t p = 1, k = 0; k < 20; k++, p *= 10) { /* every power of ten and one below */
		for (uint64_t v = p - 1; v <= p; v++) {
			end = str_put_u64(got, v);
			*end = '\0';
			snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
			assert_string_equal(got, want);
		}
	}
	for (size_t k = 0; k < sizeof(u) / sizeof(u[0]); k++) {
		end = str_put_u64(got, u[k]);
		*end = '\0';
		snprintf(want, sizeof(want), "%llu", (unsigned long long)u[k]);
		assert_string_equal(got, want);
	}
	for (size_t k = 0; k < sizeof(i) / sizeof(i[0]); k++) {
		end = str_put_i64(got, i[k]);
		*end = '\0';
		snprintf(want, sizeof(want), "%lld", (long long)i[k]);
		assert_string_equal(got, want);
	}
	str_copy(got, 4, "abcdef");
	assert_string_equal(got, "abc");
	str_copy(got, 4, "ab");
	assert_string_equal(got, "ab");
}

struct seen {
	int threads;
	const char *json;
};

static int on_opt(int key, const char *arg, void *ctx)
{
	struct seen *s = ctx;

	if (key == 't')
		s->threads = atoi(arg);
	else
		s->json = arg;
	return 0;
}

/* Options before, between and after operands, as GNU tools take them; "--"
 * makes what follows an operand even when it looks like an option. */
static void test_opts_order(void **state)
{
	static const struct weft_opt opts[] = {
	    {"threads", 't', "N", "threads"}, {"json", 256, "FILE", "json"}, {0}};
	char *argv[] = {"load", "http://x/", "-t2", "--json", "o.json", "extra", "--", "-t9", NULL};
	struct seen s = {0};
	int first;

	(void)state;
	assert_int_equal(opts_parse(8, argv, "load", opts, on_opt, &s, &first), 0);
	assert_int_equal(s.threads, 2);
	assert_string_equal(s.json, "o.json");
	assert_int_equal(first, 5);
	assert_string_equal(argv[5], "http://x/");
	assert_string_equal(argv[6], "extra");
	assert_string_equal(argv[7], "-t9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_u64),	     cmocka_unit_test(test_parse_duration),
	    cmocka_unit_test(test_parse_size),	     cmocka_unit_test(test_parse_host_port),
	    cmocka_unit_test(test_base64_roundtrip), cmocka_unit_test(test_role_infer),
	    cmocka_unit_test(test_str_writers),	     cmocka_unit_test(test_opts_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

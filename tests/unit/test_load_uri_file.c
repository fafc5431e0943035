/* URL operands, URI files (fields, quoting, errors with line numbers) and
 * the wire form of a request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "load/uri_file.h"

static void test_url_parse(void **state)
{
	static const struct {
		const char *url, *host, *port, *path;
	} good[] = {
	    {"http://127.0.0.1:8080/x?y=1", "127.0.0.1", "8080", "/x?y=1"},
	    {"http://localhost", "localhost", "80", "/"},
	    {"http://[::1]:9000/a", "::1", "9000", "/a"},
	    {"http://[::1]", "::1", "80", "/"},
	};
	static const char *const bad[] = {"ftp://x/",	  "https://x/",	  "http://",
					  "http://:80/",  "http://x:0/",  "http://x:70000/",
					  "http://[::1/", "http://x:8a/", "127.0.0.1:80"};
	char host[LOAD_HOST_MAX], port[8], err[256];
	const char *path;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(load_url_parse(good[i].url, host, port, &path, err, sizeof(err)),
				 0);
		assert_string_equal(host, good[i].host);
		assert_string_equal(port, good[i].port);
		assert_string_equal(path, good[i].path);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("# %s\n", bad[i]);
		assert_int_not_equal(load_url_parse(bad[i], host, port, &path, err, sizeof(err)),
				     0);
		assert_true(strlen(err) > 0);
	}
}

static void test_file_fields(void **state)
{
	static const char text[] =
	    "# a mix\n"
	    "\n"
	    "GET /a\n"
	    "  POST /b header=\"Content-Type: application/json\" body='{\"k\": \"v w\"}' weight=3\n"
	    "PUT http://10.0.0.1:81/c body=\"line\\nnext\" header='X-A: 1' header=\"X-B: 2\"\r\n"
	    "DELETE /d weight=2   \n";
	struct uri_set s = {.port = "80"};
	char err[256];

	(void)state;
	assert_int_equal(uri_set__parse(&s, text, strlen(text), "mix.txt", err, sizeof(err)), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.v[0].method, "GET");
	assert_string_equal(s.v[0].path, "/a");
	assert_int_equal(s.v[0].weight, 1);
	assert_int_equal(s.v[0].line, 3);
	assert_null(s.v[0].body);
	assert_string_equal(s.v[1].headers, "Content-Type: application/json\r\n");
	assert_string_equal(s.v[1].body, "{\"k\": \"v w\"}");
	assert_int_equal(s.v[1].weight, 3);
	assert_string_equal(s.v[2].path, "/c");
	assert_string_equal(s.v[2].body, "line\nnext");
	assert_string_equal(s.v[2].headers, "X-A: 1\r\nX-B: 2\r\n");
	assert_string_equal(s.host, "10.0.0.1");
	assert_string_equal(s.port, "81");
	assert_int_equal(s.v[3].weight, 2);
	assert_int_equal(s.v[3].line, 6);
	uri_set__free(&s);
}

/* Every malformed line is reported with its file name and line number. */
/* A line that starts with its path or URL is a GET, as in the Autoprofiler's
 * orderstatus.uris; fields still follow it. */
static void test_bare_paths(void **state)
{
	static const char text[] = "/orderstatus?id=1\n"
				   "http://10.0.0.1:8080/orderstatus?id=2 weight=2\n"
				   "POST /cancel body=x\n";
	struct uri_set s = {.port = "80"};
	char err[256];

	(void)state;
	assert_int_equal(uri_set__parse(&s, text, strlen(text), "o.uris", err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0].method, "GET");
	assert_string_equal(s.v[0].path, "/orderstatus?id=1");
	assert_int_equal(s.v[0].weight, 1);
	assert_string_equal(s.v[1].method, "GET");
	assert_string_equal(s.v[1].path, "/orderstatus?id=2");
	assert_int_equal(s.v[1].weight, 2);
	assert_string_equal(s.host, "10.0.0.1");
	assert_string_equal(s.port, "8080");
	assert_string_equal(s.v[2].method, "POST");
	uri_set__free(&s);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"GET /a\nFETCH /b\n", "f.txt:2: unknown method 'FETCH'"},
	    {"orders\n", "f.txt:1: unknown method 'orders' (GET, POST, PUT, DELETE, PATCH, "
			 "OPTIONS), or a path starting with '/'"},
	    {"\n\nGET\n", "f.txt:3: missing path after the method"},
	    {"GET /a weight=0\n", "f.txt:1: weight must be"},
	    {"GET /a weight=x\n", "f.txt:1: weight must be"},
	    {"GET /a color=red\n", "f.txt:1: unknown field"},
	    {"GET /a header=NoColon\n", "f.txt:1: header must be"},
	    {"# x\nGET /a body=\"open\n", "f.txt:2: unterminated quote"},
	    {"GET http://a:1/x\nGET http://b:1/y\n",
	     "f.txt:2: 'http://b:1/y': every URL must name"},
	    {"GET ftp://a/x\n", "f.txt:1: 'ftp://a/x' is not an http:// URL"},
	    {"# only a comment\n\n", "f.txt: no requests in the file"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct uri_set s = {.port = "80"};

		err[0] = '\0';
		assert_int_not_equal(uri_set__parse(&s, cases[i].text, strlen(cases[i].text),
						    "f.txt", err, sizeof(err)),
				     0);
		print_message("# %s\n", err);
		assert_non_null(strstr(err, cases[i].want));
		uri_set__free(&s);
	}
}

static void test_load_missing_file(void **state)
{
	struct uri_set s = {.port = "80"};
	char err[256];

	(void)state;
	assert_int_not_equal(uri_set__load(&s, "/nonexistent/uris.txt", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/uris.txt: No such file"));
	uri_set__free(&s);
}

static void test_render(void **state)
{
	struct uri_set s = {.port = "80"};
	static const char text[] = "POST /p header=\"X-A: 1\" body=abc\nGET /g\n";
	char err[256], *w;
	size_t len;

	(void)state;
	assert_int_equal(uri_set__parse(&s, text, strlen(text), "t", err, sizeof(err)), 0);
	w = load_uri__render(&s.v[0], "h:8080", true, &len);
	assert_non_null(w);
	assert_int_equal(len, strlen("POST /p HTTP/1.1\r\nHost: h:8080\r\nX-A: 1\r\n"
				     "Content-Length: 3\r\n\r\nabc"));
	assert_memory_equal(
	    w, "POST /p HTTP/1.1\r\nHost: h:8080\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nabc", len);
	free(w);
	w = load_uri__render(&s.v[1], "h", false, &len);
	assert_non_null(w);
	assert_memory_equal(w, "GET /g HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", len);
	free(w);
	uri_set__free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_parse),	      cmocka_unit_test(test_file_fields),
	    cmocka_unit_test(test_bare_paths),	      cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_load_missing_file), cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

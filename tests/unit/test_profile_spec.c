/* Transaction specification: the Autoprofiler's example, several
 * transactions, and every kind of error named by file and line. Run from
 * the repository root (fixtures in tests/data/profile). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "load/uri_file.h"
#include "profile/spec.h"

#define DIR "tests/data/profile/"

static void load_ok(struct profile_spec *s, const char *path)
{
	char err[512];
	int rc = profile_spec__load(s, path, err, sizeof(err));

	if (rc)
		fail_msg("%s: %d %s", path, rc, err);
}

/* The seed's file, DOCTYPE pointing at a DTD that does not exist and
 * whitespace around values included. */
static void test_seed_example(void **state)
{
	struct profile_spec s;
	struct profile_trans *t;
	struct profile_node *n;

	(void)state;
	load_ok(&s, DIR "orderstatus.xml");
	assert_string_equal(s.path, DIR "orderstatus.xml");
	assert_int_equal(s.ntrans, 1);
	t = &s.trans[0];
	assert_string_equal(t->name, "Order Status");
	assert_string_equal(t->host, "10.129.112.175");
	assert_string_equal(t->port, "8080");
	assert_string_equal(t->uri_file, DIR "orderstatus.uris");
	assert_int_equal(t->line, 4);
	assert_int_equal(t->nnodes, 2);

	n = &t->nodes[0];
	assert_true(n->java);
	assert_string_equal(n->node, "10.129.112.175");
	assert_string_equal(n->process, "java");
	assert_int_equal(n->line, 12);
	assert_int_equal(n->ncomponents, 1);
	assert_string_equal(n->components[0].name, "com.sun.ecperf.webbeans.OrderSesBean");
	assert_string_equal(n->components[0].interface, "getOrderStatus");
	assert_int_equal(n->components[0].line, 16);

	n = &t->nodes[1];
	assert_false(n->java);
	assert_string_equal(n->node, "metcalfe.it.iitb.ac.in");
	assert_string_equal(n->process, "postmaster");
	assert_int_equal(n->line, 24);
	assert_int_equal(n->ncomponents, 0);
	assert_null(n->components);
	profile_spec__free(&s);
	assert_null(s.trans);
	assert_int_equal(s.ntrans, 0);
	profile_spec__free(&s); /* twice is harmless */
}

/* Two transactions; several nodes in one NodesInfo; full URLs with and
 * without <port>; relative and absolute URI files. */
static void test_two_transactions(void **state)
{
	struct profile_spec s;
	struct profile_trans *t;

	(void)state;
	load_ok(&s, DIR "two.xml");
	assert_int_equal(s.ntrans, 2);

	t = &s.trans[0];
	assert_string_equal(t->name, "Browse");
	assert_string_equal(t->host, "shop.example");
	assert_string_equal(t->port, "8081"); /* from the URL: no <port> */
	assert_string_equal(t->uri_file, DIR "uris/browse.uris");
	assert_int_equal(t->nnodes, 3);
	assert_false(t->nodes[0].java);
	assert_string_equal(t->nodes[0].node, "web1");
	assert_string_equal(t->nodes[0].process, "nginx");
	assert_true(t->nodes[1].java);
	assert_string_equal(t->nodes[1].node, "app1");
	assert_int_equal(t->nodes[1].ncomponents, 2);
	assert_string_equal(t->nodes[1].components[1].name, "shop.Cart");
	assert_string_equal(t->nodes[1].components[1].interface, "add");
	assert_string_equal(t->nodes[2].node, "10.0.0.3");
	assert_string_equal(t->nodes[2].process, "postgres");

	t = &s.trans[1];
	assert_string_equal(t->name, "Buy & pay");
	assert_string_equal(t->host, "fd00::2");
	assert_string_equal(t->port, "443"); /* <port> wins over the URL's */
	assert_string_equal(t->uri_file, "/srv/uris/buy.uris");
	assert_int_equal(t->nnodes, 1);
	assert_int_equal(t->nodes[0].ncomponents, 0);
	profile_spec__free(&s);
}

/* The shipped example parses, and its URI file is one weft load reads. */
static void test_shipped_example(void **state)
{
	struct profile_spec s;
	struct uri_set u = {0};
	char err[512];

	(void)state;
	load_ok(&s, "examples/profile/orderstatus.xml");
	assert_int_equal(s.ntrans, 1);
	assert_string_equal(s.trans[0].name, "Order Status");
	assert_string_equal(s.trans[0].host, "10.129.112.175");
	assert_string_equal(s.trans[0].port, "8080");
	assert_int_equal(s.trans[0].nnodes, 2);
	assert_true(s.trans[0].nodes[0].java);
	assert_string_equal(s.trans[0].nodes[1].process, "postmaster");
	assert_string_equal(s.trans[0].uri_file, "examples/profile/orderstatus.uris");
	if (uri_set__load(&u, s.trans[0].uri_file, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.v[0].method, "GET");
	assert_string_equal(u.v[0].path, "/orderstatus?id=1");
	uri_set__free(&u);
	profile_spec__free(&s);
}

struct bad_case {
	const char *file; /* under DIR */
	int rc;		  /* expected return */
	int line;	  /* expected line in the message, 0 for none */
	const char *what; /* expected in the message */
};

static const struct bad_case bad_cases[] = {
    {"malformed.xml", -EINVAL, 8, "mismatch"},
    {"no_process.xml", -EINVAL, 14, "nativeNode"},
    {"unknown_element.xml", -EINVAL, 14, "Heap"},
    {"bad_port.xml", -EINVAL, 7, "port '70000' is not a number in 1..65535"},
    {"duplicate.xml", -EINVAL, 9, "duplicate transaction name 'Order Status' (first at line 3)"},
    {"empty_node.xml", -EINVAL, 8, "empty <Node>"},
    {"empty_name.xml", -EINVAL, 4, "empty <Name>"},
    {"external_entity.xml", -EINVAL, 10, "entity &host; is not supported"},
    {"wrong_root.xml", -EINVAL, 3, "not <services>"},
    {"host_port_url.xml", -EINVAL, 6, "give the port in <port>"},
};

/* Every error names the file and the line, and leaves the spec empty. */
static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct profile_spec s;
		char path[256], want[300], err[512];
		int rc;

		snprintf(path, sizeof(path), DIR "%s", c->file);
		memset(&s, 0x5a, sizeof(s));
		rc = profile_spec__load(&s, path, err, sizeof(err));
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d (%s)", c->file, rc, c->rc, err);
		snprintf(want, sizeof(want), "%s:%d: ", path, c->line);
		if (strncmp(err, want, strlen(want)) || !strstr(err, c->what))
			fail_msg("%s: got '%s', want '%s...%s'", c->file, err, want, c->what);
		assert_null(strchr(err, '\n'));
		assert_null(s.trans);
		assert_null(s.path);
		assert_int_equal(s.ntrans, 0);
	}
}

static void test_missing_file(void **state)
{
	struct profile_spec s;
	char err[256];

	(void)state;
	assert_int_equal(profile_spec__load(&s, DIR "nope.xml", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, DIR "nope.xml: No such file or directory");
	assert_int_equal(profile_spec__load(&s, DIR, err, sizeof(err)), -EISDIR);
	assert_int_equal(s.ntrans, 0);
}

/* libxml2 reports through us only: nothing reaches stderr. A short error
 * buffer truncates the message rather than overflowing. */
static void test_quiet_and_truncated(void **state)
{
	struct profile_spec s;
	char err[16], big[512];
	FILE *tmp = tmpfile();
	int saved = dup(2);

	(void)state;
	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), 2) == 2);
	assert_int_equal(profile_spec__load(&s, DIR "malformed.xml", big, sizeof(big)), -EINVAL);
	assert_int_equal(profile_spec__load(&s, DIR "unknown_element.xml", big, sizeof(big)),
			 -EINVAL);
	assert_int_equal(profile_spec__load(&s, DIR "external_entity.xml", err, sizeof(err)),
			 -EINVAL);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	assert_int_equal(ftell(tmp), 0);
	fclose(tmp);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(strncmp(err, DIR, sizeof(err) - 1), 0);
}

/* Loading twice after an error gives the same answer: no state is kept. */
static void test_repeatable(void **state)
{
	struct profile_spec s;
	char a[512], b[512];

	(void)state;
	assert_int_equal(profile_spec__load(&s, DIR "no_process.xml", a, sizeof(a)), -EINVAL);
	load_ok(&s, DIR "orderstatus.xml");
	profile_spec__free(&s);
	assert_int_equal(profile_spec__load(&s, DIR "no_process.xml", b, sizeof(b)), -EINVAL);
	assert_string_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_example),
	    cmocka_unit_test(test_two_transactions),
	    cmocka_unit_test(test_shipped_example),
	    cmocka_unit_test(test_errors_name_file_and_line),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_quiet_and_truncated),
	    cmocka_unit_test(test_repeatable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

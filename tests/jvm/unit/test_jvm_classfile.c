/* Class-file rewriter, method registry, JSON dump and GC ring. The class
 * files are the test application's, compiled by javac at build time; that
 * the rewritten classes verify and behave is checked in a real JVM by
 * tests/integration/jvm_agent.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jvm/classfile.h"
#include "jvm/dump.h"
#include "jvm/gcring.h"
#include "jvm/registry.h"

static uint8_t *slurp(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", WEFT_TEST_BUILD_DIR, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (make jvm)", path);
	uint8_t *b = malloc(1 << 20);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

struct sel {
	int all;	/* select every method offered */
	int offered;	/* methods offered */
	char seen[512]; /* their names, space-separated */
};

static int sel_fn(void *ctx, const char *cls, const char *name, const char *desc, int *id)
{
	struct sel *s = ctx;
	(void)desc;
	assert_non_null(cls);
	strncat(s->seen, name, sizeof(s->seen) - strlen(s->seen) - 2);
	strcat(s->seen, " ");
	*id = s->offered++;
	return s->all;
}

static void test_instrument_cart(void **state)
{
	size_t len, olen = 0;
	uint8_t *in = slurp("jvm/app/com/shop/Cart.class", &len), *out = NULL;
	struct sel s = {.all = 1};
	char err[256] = "", name[256];
	(void)state;
	int rc = cf_instrument(in, len, sel_fn, &s, &out, &olen, err, sizeof(err));
	if (rc < 0)
		fail_msg("cf_instrument: %s", err);
	/* slow, work, boom, mixed; never the constructor. */
	assert_int_equal(rc, 4);
	assert_null(strstr(s.seen, "<init>"));
	assert_true(olen > len);
	assert_int_equal(cf_class_name(out, olen, name, sizeof(name)), 0);
	assert_string_equal(name, "com/shop/Cart");

	/* The result parses again, and can even be rewritten again. */
	struct sel none = {.all = 0};
	uint8_t *out2 = NULL;
	size_t olen2 = 0;
	assert_int_equal(cf_instrument(out, olen, sel_fn, &none, &out2, &olen2, err, sizeof(err)),
			 0);
	assert_null(out2);
	assert_int_equal(none.offered, 4);
	struct sel again = {.all = 1};
	assert_int_equal(cf_instrument(out, olen, sel_fn, &again, &out2, &olen2, err, sizeof(err)),
			 4);
	assert_true(olen2 > olen);
	free(out2);
	free(out);
	free(in);
}

static void test_nothing_selected(void **state)
{
	size_t len, olen = 0;
	uint8_t *in = slurp("jvm/app/com/shop/Shop.class", &len), *out = NULL;
	struct sel s = {.all = 0};
	char err[256];
	(void)state;
	assert_int_equal(cf_instrument(in, len, sel_fn, &s, &out, &olen, err, sizeof(err)), 0);
	assert_null(out);
	assert_non_null(strstr(s.seen, "main"));
	free(in);
}

/* Truncated and corrupted class files: an error or a result, never a read
 * outside the input (ASan watches) nor a leak. */
static void test_damaged_input(void **state)
{
	size_t len;
	uint8_t *in = slurp("jvm/app/com/shop/Cart.class", &len);
	uint8_t *copy = malloc(len);
	char err[256];
	(void)state;
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1), *out = NULL;
		size_t olen;
		struct sel s = {.all = 1};
		memcpy(cut, in, n);
		int rc = cf_instrument(cut, n, sel_fn, &s, &out, &olen, err, sizeof(err));
		if (rc > 0)
			fail_msg("truncated at %zu accepted", n);
		free(cut);
	}
	for (size_t i = 0; i < len; i++) {
		for (unsigned flip = 1; flip < 256; flip <<= 3) {
			uint8_t *out = NULL;
			size_t olen;
			struct sel s = {.all = 1};
			memcpy(copy, in, len);
			copy[i] ^= (uint8_t)flip;
			if (cf_instrument(copy, len, sel_fn, &s, &out, &olen, err, sizeof(err)) > 0)
				free(out);
		}
	}
	free(copy);
	free(in);
}

static void test_not_a_class(void **state)
{
	static const uint8_t junk[] = {0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 99, 0, 1};
	uint8_t *out = NULL;
	size_t olen;
	struct sel s = {.all = 1};
	char err[256] = "";
	(void)state;
	assert_int_equal(
	    cf_instrument(junk, sizeof(junk), sel_fn, &s, &out, &olen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "version"));
	assert_int_equal(cf_instrument(junk, 3, sel_fn, &s, &out, &olen, err, sizeof(err)), -1);
}

static void test_registry(void **state)
{
	(void)state;
	int a = registry__id("com.x.A", "f", "()V");
	int b = registry__id("com.x.A", "f", "(I)V");
	int c = registry__id("com.x.B", "f", "()V");
	assert_true(a >= 0 && b >= 0 && c >= 0);
	assert_true(a != b && b != c && a != c);
	assert_int_equal(registry__id("com.x.A", "f", "()V"), a);
	assert_string_equal(registry__get(b)->desc, "(I)V");
	assert_null(registry__get(1 << 20));
	registry__set_class("com.x.A", 1);
	assert_true(registry__instrumented("com.x.A"));
	assert_false(registry__instrumented("com.x.B"));
	int n = registry__classes();
	registry__set_class("com.x.A", 0);
	assert_int_equal(registry__classes(), n - 1);
	assert_false(registry__instrumented("com.x.A"));
}

static void test_dump(void **state)
{
	(void)state;
	int id = registry__id("com.d.C", "m", "()V");
	size_t nstat = ((size_t)id + 1) * DUMP_STRIDE;
	size_t n = 1 + 2 * (3 + nstat);
	int64_t *v = calloc(n, sizeof(*v));
	v[0] = 2;
	for (int t = 0; t < 2; t++) {
		int64_t *b = v + 1 + t * (3 + nstat);
		b[0] = 100 + t; /* tid */
		b[2] = (int64_t)nstat;
		int64_t *m = b + 3 + (size_t)id * DUMP_STRIDE;
		m[0] = 2;	       /* calls */
		m[1] = 3000;	       /* total */
		m[2] = 1000 + t * 500; /* min */
		m[3] = 2000;	       /* max */
		m[4] = t;	       /* thrown */
		m[5 + 11] = 2;	       /* 1024 <= d < 2048 */
	}
	struct sbuf out = {0};
	assert_int_equal(dump__probe_json(v, n, &out), 0);
	char want[256];
	snprintf(want, sizeof(want),
		 "{\"id\":%d,\"class\":\"com.d.C\",\"method\":\"m\",\"desc\":\"()V\",\"calls\":4,"
		 "\"exceptions\":1,\"total_ns\":6000,\"min_ns\":1000,\"max_ns\":2000,"
		 "\"hist\":[{\"ge_ns\":1024,\"lt_ns\":2048,\"count\":4}]}",
		 id);
	if (!strstr(sbuf__str(&out), want))
		fail_msg("%s\nlacks\n%s", sbuf__str(&out), want);
	assert_non_null(strstr(sbuf__str(&out), "{\"tid\":101,\"unbalanced\":0,\"methods\":[{"));
	sbuf__free(&out);
	assert_int_equal(dump__probe_json(v, n - 1, &out), -1); /* malformed */
	sbuf__free(&out);
	free(v);

	static const int64_t calls[] = {3, 77, 10, 20, 0};
	assert_int_equal(dump__calls_json(calls, 5, &out), 0);
	assert_string_equal(sbuf__str(&out), "{\"calls\":[[3,77,10,20]],\"lost\":0}");
	sbuf__free(&out);
	assert_int_equal(dump__calls_json(calls, 4, &out), -1);
	sbuf__free(&out);
}

static void test_gc_ring(void **state)
{
	struct gc_pause p[GC_RING];
	struct gc_stats st;
	(void)state;
	for (uint64_t i = 0; i < GC_RING + 10; i++) {
		gc_ring__start(1000 * i + 1);
		gc_ring__finish(1000 * i + 1 + i);
	}
	size_t k = gc_ring__snapshot(p, GC_RING, &st);
	assert_int_equal(k, GC_RING);
	assert_int_equal(st.count, GC_RING + 10);
	assert_int_equal(st.max_ns, GC_RING + 9);
	assert_int_equal(p[k - 1].end_ns - p[k - 1].start_ns, GC_RING + 9);
	assert_int_equal(p[0].start_ns, 1000 * 10 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_instrument_cart), cmocka_unit_test(test_nothing_selected),
	    cmocka_unit_test(test_damaged_input),   cmocka_unit_test(test_not_a_class),
	    cmocka_unit_test(test_registry),	    cmocka_unit_test(test_dump),
	    cmocka_unit_test(test_gc_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

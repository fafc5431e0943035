/* Filter patterns and agent options: table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jvm/filter.h"
#include "jvm/agent_opts.h"

static void test_glob(void **state)
{
	static const struct {
		const char *pat, *s;
		int prefix, want;
	} cases[] = {
	    {"com.shop.*", "com.shop.Cart", 0, 1},
	    {"com.shop.*", "com.shop.sub.Cart", 0, 1},
	    {"com.shop.*", "com.shopping.Cart", 0, 0},
	    {"com.shop.*", "com.shop", 0, 0},
	    {"*", "anything.at.all", 0, 1},
	    {"com.*.Cart", "com.a.b.Cart", 0, 1},
	    {"com.*.Cart", "com.a.b.Carts", 0, 0},
	    {"a*b*c", "aXXbYYc", 0, 1},
	    {"a*b*c", "aXXbYY", 0, 0},
	    {"com.shop.Cart.get*", "com.shop.Cart.", 1, 1},
	    {"com.shop.Cart", "com.shop.Cart.", 1, 0},
	    {"com.shop.Cart.add", "com.shop.", 1, 1},
	    {"com.shop.Cart.add", "com.other.", 1, 0},
	    {"*get", "com.x.Y.", 1, 1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (filter_glob(cases[i].pat, cases[i].s, cases[i].prefix) != cases[i].want)
			fail_msg("glob('%s', '%s', %d) != %d", cases[i].pat, cases[i].s,
				 cases[i].prefix, cases[i].want);
}

static void test_match(void **state)
{
	char err[256];
	(void)state;
	struct filter *f = filter__parse(
	    "com.shop.*;com.sun.ecperf.webbeans.OrderSesBean.getOrderStatus", err, sizeof(err));
	assert_non_null(f);
	assert_string_equal(filter__spec(f),
			    "com.shop.*;com.sun.ecperf.webbeans.OrderSesBean.getOrderStatus");
	assert_true(filter__match_method(f, "com.shop.Cart", "add"));
	assert_true(
	    filter__match_method(f, "com.sun.ecperf.webbeans.OrderSesBean", "getOrderStatus"));
	assert_false(filter__match_method(f, "com.sun.ecperf.webbeans.OrderSesBean", "other"));
	assert_false(filter__match_method(f, "com.other.Util", "helper"));
	assert_true(filter__may_match_class(f, "com.shop.Cart"));
	assert_true(filter__may_match_class(f, "com.sun.ecperf.webbeans.OrderSesBean"));
	assert_false(filter__may_match_class(f, "com.sun.ecperf.webbeans.OrderSesBeanX"));
	assert_false(filter__may_match_class(f, "com.other.Util"));
	filter__free(f);

	f = filter__parse("", err, sizeof(err));
	assert_non_null(f);
	assert_true(filter__empty(f));
	assert_false(filter__may_match_class(f, "com.shop.Cart"));
	filter__free(f);
}

static void test_bad_patterns(void **state)
{
	static const char *const bad[] = {"com..x", ".com",	"com.",	    "com.shop.*;", ";com",
					  "a;;b",   "com shop", "com/shop", "com.shop(",   "a,b"};
	char err[256];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		struct filter *f = filter__parse(bad[i], err, sizeof(err));
		if (f)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err, "pattern"));
	}
}

static void test_options(void **state)
{
	static const struct {
		const char *s;
		int ok, port, trace;
		const char *filter, *why;
	} cases[] = {
	    {NULL, 1, 0, 0, NULL, NULL},
	    {"", 1, 0, 0, NULL, NULL},
	    {"port=7072", 1, 7072, 0, NULL, NULL},
	    {"port=7072,filter=com.shop.*;com.x.Y.z", 1, 7072, 0, "com.shop.*;com.x.Y.z", NULL},
	    {"filter=,trace=on", 1, 0, 1, "", NULL},
	    {"port=0", 0, 0, 0, NULL, "bad port"},
	    {"port=65536", 0, 0, 0, NULL, "bad port"},
	    {"port=12x", 0, 0, 0, NULL, "bad port"},
	    {"port=", 0, 0, 0, NULL, "bad port"},
	    {"Port=1", 0, 0, 0, NULL, "unknown option"},
	    {"port = 1", 0, 0, 0, NULL, "unknown option"},
	    {"bogus=1", 0, 0, 0, NULL, "unknown option"},
	    {"port", 0, 0, 0, NULL, "not key=value"},
	    {"port=1,port=2", 0, 0, 0, NULL, "twice"},
	    {"port=1,", 0, 0, 0, NULL, "empty option"},
	    {"trace=yes", 0, 0, 0, NULL, "bad trace"},
	    {"filter=com..x", 0, 0, 0, NULL, "bad pattern"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jvm_opts o;
		char err[256] = "";
		int rc = jvm_opts__parse(cases[i].s, &o, err, sizeof(err));
		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': rc %d (%s)", cases[i].s ? cases[i].s : "(null)", rc, err);
		if (!cases[i].ok) {
			if (!strstr(err, cases[i].why))
				fail_msg("'%s': error '%s' lacks '%s'", cases[i].s, err,
					 cases[i].why);
			continue;
		}
		assert_int_equal(o.port, cases[i].port);
		assert_int_equal(o.trace, cases[i].trace);
		if (cases[i].filter)
			assert_string_equal(o.filter, cases[i].filter);
		else
			assert_null(o.filter);
		free(o.filter);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_glob),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_bad_patterns),
	    cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

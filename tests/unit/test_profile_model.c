/* The capacity model's inputs from synthetic profiles: station demands
 * (regression with background load, mean, floor at the listed processes),
 * machines grouped by boot id, the delay station, and the JVM components
 * per transaction. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "common/jsonv.h"
#include "profile/profile.h"

/* One measured point: on each (node, boot id) machine of `cpus` CPUs,
 * `busy` CPUs host-wide and the listed process's demand `proc_ms`. */
struct machine {
	const char *node, *boot;
	unsigned cpus;
	double busy, proc_ms;
};

static json_object *point(unsigned users, double x, double r_ms, const struct machine *m, size_t nm)
{
	json_object *pt = json_object_new_object(), *hosts = json_object_new_array();
	json_object *nodes = json_object_new_array(), *rt = json_object_new_object();

	json_object_object_add(pt, "users", json_object_new_int((int)users));
	json_object_object_add(pt, "throughput", json_object_new_double(x));
	json_object_object_add(rt, "mean", json_object_new_double(r_ms));
	json_object_object_add(pt, "response_ms", rt);
	for (size_t i = 0; i < nm; i++) {
		json_object *h = json_object_new_object(), *prof = json_object_new_object();
		json_object *host = json_object_new_object(), *n = json_object_new_object();

		json_object_object_add(host, "cpu_utilization",
				       json_object_new_double(m[i].busy / m[i].cpus));
		json_object_object_add(prof, "host", host);
		json_object_object_add(prof, "cpus", json_object_new_int((int)m[i].cpus));
		json_object_object_add(prof, "boot_id", json_object_new_string(m[i].boot));
		json_object_object_add(h, "node", json_object_new_string(m[i].node));
		json_object_object_add(h, "profile", prof);
		json_object_array_add(hosts, h);
		json_object_object_add(n, "node", json_object_new_string(m[i].node));
		json_object_object_add(n, "demand_ms", json_object_new_double(m[i].proc_ms));
		json_object_array_add(nodes, n);
	}
	json_object_object_add(pt, "hosts", hosts);
	json_object_object_add(pt, "nodes", nodes);
	return pt;
}

static json_object *trans(json_object **pts, size_t n)
{
	json_object *t = json_object_new_object(), *list = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(list, pts[i]);
	json_object_object_add(t, "points", list);
	return t;
}

static json_object *station(json_object *t, size_t i)
{
	return json_object_array_get_idx(jv_member(jv_member(t, "model"), "stations"), i);
}

/* Three populations: the slope of busy CPUs against X is the demand, and
 * the background (the intercept) slows the station: D c / (c - U0). */
static void test_regression_with_background(void **state)
{
	const double d = 0.002, u0 = 0.2, xs[] = {100, 200, 400};
	json_object *pts[3], *t;

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct machine m = {"web1", "boot-a", 2, u0 + d * xs[i], 1.5};

		pts[i] = point(1 + 4 * (unsigned)i, xs[i], 3, &m, 1);
	}
	t = trans(pts, 3);
	assert_int_equal(profile_model(t, 0.01), 0);
	assert_float_equal(jv_num(station(t, 0), "demand_ms"), 2.0 * 2 / (2 - u0), 1e-9);
	assert_float_equal(jv_num(station(t, 0), "process_demand_ms"), 1.5, 1e-9);
	assert_int_equal(jv_int(station(t, 0), "servers"), 2);
	assert_float_equal(jv_num(jv_member(t, "model"), "x_max"), 2 / (2.0 * 2 / (2 - u0) / 1e3),
			   1e-6);
	json_object_put(t);
}

/* Two populations: the mean of busy time per transaction; never below the
 * listed processes' demand. */
static void test_mean_and_floor(void **state)
{
	struct machine a = {"web1", "boot-a", 2, 0.4, 1.5}, b = {"web1", "boot-a", 2, 0.6, 1.5};
	struct machine c = {"web1", "boot-a", 2, 0.01, 1.5};
	json_object *pts[2], *t;

	(void)state;
	pts[0] = point(1, 100, 3, &a, 1);
	pts[1] = point(2, 200, 3, &b, 1);
	t = trans(pts, 2);
	assert_int_equal(profile_model(t, 0.01), 0);
	assert_float_equal(jv_num(station(t, 0), "demand_ms"), (4.0 + 3.0) / 2, 1e-9);
	json_object_put(t);

	pts[0] = point(1, 100, 3, &c, 1); /* host busy 0.1 ms a transaction, process 1.5 */
	t = trans(pts, 1);
	assert_int_equal(profile_model(t, 0.01), 0);
	assert_float_equal(jv_num(station(t, 0), "demand_ms"), 1.5, 1e-9);
	json_object_put(t);
}

/* Nodes sharing a boot id are one machine; others are their own. */
static void test_machines_by_boot_id(void **state)
{
	struct machine m[3] = {{"web1", "boot-a", 2, 0.2, 1.0},
			       {"db1", "boot-a", 2, 0.2, 0.5},
			       {"cache1", "boot-b", 4, 0.4, 2.0}};
	json_object *pts[1], *t, *st;

	(void)state;
	pts[0] = point(1, 100, 10, m, 3);
	t = trans(pts, 1);
	assert_int_equal(profile_model(t, 0.01), 0);
	st = jv_member(jv_member(t, "model"), "stations");
	assert_int_equal(json_object_array_length(st), 2);
	assert_string_equal(jv_str(station(t, 0), "name"), "web1+db1");
	assert_float_equal(jv_num(station(t, 0), "process_demand_ms"), 1.5, 1e-9);
	assert_float_equal(jv_num(station(t, 0), "demand_ms"), 2.0, 1e-9); /* 0.2 CPUs / 100/s */
	assert_string_equal(jv_str(station(t, 1), "name"), "cache1");
	assert_int_equal(jv_int(station(t, 1), "servers"), 4);
	assert_float_equal(jv_num(station(t, 1), "demand_ms"), 4.0, 1e-9);
	/* the largest D / c is the bottleneck: 2.0/2 against 4.0/4 ties, the first wins */
	assert_string_equal(jv_str(jv_member(t, "model"), "bottleneck"), "web1+db1");
	json_object_put(t);
}

/* What the CPUs do not explain at the smallest population is a delay: one
 * user, one CPU, D = 2 ms, measured R = 10 ms -> delay 8 ms, and the model
 * then predicts the measured point. */
static void test_delay_station(void **state)
{
	struct machine m = {"app1", "boot-a", 1, 0, 2.0};
	double x = 1 / (0.010 + 0.1);
	json_object *pts[1], *t, *meas;

	(void)state;
	m.busy = 0.002 * x;
	pts[0] = point(1, x, 10, &m, 1);
	t = trans(pts, 1);
	assert_int_equal(profile_model(t, 0.1), 0);
	assert_float_equal(jv_num(jv_member(t, "model"), "delay_ms"), 8.0, 1e-6);
	meas = json_object_array_get_idx(jv_member(jv_member(t, "model"), "measured"), 0);
	assert_float_equal(jv_num(meas, "predicted_throughput"), x, 1e-6);
	assert_float_equal(jv_num(meas, "predicted_response_ms"), 10.0, 1e-6);
	json_object_put(t);
}

/* Two JVMs of one process: their methods summed, then per transaction. */
static void test_components(void **state)
{
	const char *dump = "{\"jvms\":["
			   "{\"pid\":1,\"reply\":{\"methods\":[{\"class\":\"A\",\"method\":\"f\","
			   "\"calls\":100,\"total_ns\":50000000,\"max_ns\":2000000}],"
			   "\"gc\":{\"count\":1,\"total_ns\":3000000}}},"
			   "{\"pid\":2,\"reply\":{\"methods\":[{\"class\":\"A\",\"method\":\"f\","
			   "\"calls\":200,\"total_ns\":150000000,\"max_ns\":5000000}],"
			   "\"gc\":{\"count\":2,\"total_ns\":1000000}}}]}";
	json_object *d = json_tokener_parse(dump), *c, *m;

	(void)state;
	c = profile_components(d, 100);
	m = json_object_array_get_idx(jv_member(c, "methods"), 0);
	assert_int_equal(json_object_array_length(jv_member(c, "methods")), 1);
	assert_float_equal(jv_num(m, "calls"), 300, 1e-9);
	assert_float_equal(jv_num(m, "calls_per_transaction"), 3, 1e-9);
	assert_float_equal(jv_num(m, "mean_ms"), 200.0 / 300, 1e-9);
	assert_float_equal(jv_num(m, "demand_ms"), 2.0, 1e-9);
	assert_float_equal(jv_num(m, "max_ms"), 5.0, 1e-9);
	assert_float_equal(jv_num(jv_member(c, "gc"), "count"), 3, 1e-9);
	assert_float_equal(jv_num(jv_member(c, "gc"), "per_transaction_ms"), 0.04, 1e-9);
	json_object_put(c);
	json_object_put(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regression_with_background),
	    cmocka_unit_test(test_mean_and_floor),
	    cmocka_unit_test(test_machines_by_boot_id),
	    cmocka_unit_test(test_delay_station),
	    cmocka_unit_test(test_components),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

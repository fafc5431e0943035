/* The sensor's JSON lines parse as JSON and carry every documented key with
 * the event's values, strings escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "sensor/event_format.h"

static void test_json_keys_and_values(void **state)
{
	static char buf[sizeof(struct weft_event) + 8];
	struct weft_event *e = (struct weft_event *)buf;
	struct event_context x = {.host = "web\"1", .exe = "/usr/bin/x\\y", .ts_wall_ns = 1234};
	static const char *keys[] = {"ts_ns", "host",  "pid",	 "tid",	    "comm",    "type",
				     "role",  "saddr", "sport",	 "daddr",   "dport",   "seq",
				     "len",   "netns", "cgroup", "payload", "sock_id", "exe"};
	char line[EVENT_LINE_MAX];
	struct json_object *o, *v;
	size_t n;

	(void)state;
	memset(buf, 0, sizeof(buf));
	e->type = WEFT_EV_SEND;
	e->role = WEFT_ROLE_CLIENT;
	e->pid = 10;
	e->tid = 11;
	e->seq = 4000000000u; /* above INT32_MAX: must stay unsigned */
	e->len = 5;
	e->family = 2;
	e->saddr[0] = 127, e->saddr[3] = 1;
	e->daddr[0] = 10, e->daddr[1] = 77, e->daddr[3] = 2;
	e->sport = 40000;
	e->dport = 80;
	e->payload_len = 3;
	memcpy(e->payload, "GET", 3);
	strcpy(e->comm, "cur\nl");

	n = event_format_json(line, e, &x);
	assert_true(n > 0 && line[n - 1] == '\n');
	o = json_tokener_parse(line);
	assert_non_null(o);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_true(json_object_object_get_ex(o, keys[i], NULL));
	json_object_object_get_ex(o, "seq", &v);
	assert_int_equal(json_object_get_int64(v), 4000000000ll);
	json_object_object_get_ex(o, "host", &v);
	assert_string_equal(json_object_get_string(v), "web\"1");
	json_object_object_get_ex(o, "comm", &v);
	assert_string_equal(json_object_get_string(v), "cur\nl");
	json_object_object_get_ex(o, "daddr", &v);
	assert_string_equal(json_object_get_string(v), "10.77.0.2");
	json_object_object_get_ex(o, "payload", &v);
	assert_string_equal(json_object_get_string(v), "R0VU");
	json_object_object_get_ex(o, "type", &v);
	assert_string_equal(json_object_get_string(v), "send");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_json_keys_and_values)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The profile commands of the sensor's control language, without a kernel
 * capture: the replies of find, start, stop, abort and list, malformed
 * commands answered with the usage, the session limit, and a profile cut
 * to the busiest threads when it would not fit the reply. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "sensor/control.h"
#include "sensor/control_profile.h"

#define SLEEPERS 20

static char self_name[16];
static char reply[COMMAND_REPLY_MAX];

/* The control table with the profile commands of p (none when p is NULL). */
static struct control *table(struct profiles *p)
{
	struct control *c = control__new();

	assert_non_null(c);
	if (p)
		assert_int_equal(profiles__add_commands(p, c, NULL), 0);
	return c;
}

static int exec_in(struct profiles *p, const char *line, char *out, size_t cap)
{
	struct control *c = table(p);
	int err;

	memset(out, 0, cap);
	err = control__exec(c, line, out, cap);
	control__free(c);
	return err;
}

static int run(struct profiles *p, const char *line)
{
	return exec_in(p, line, reply, sizeof(reply));
}

static void test_find(void **state)
{
	struct profiles *p = profiles__new("testhost", 0);
	char want[64], line[64];

	(void)state;
	snprintf(line, sizeof(line), "profile find %s", self_name);
	snprintf(want, sizeof(want), "ok %s=%d\n", self_name, (int)getpid());
	assert_int_equal(run(p, line), 0);
	assert_string_equal(reply, want);
	snprintf(line, sizeof(line), "profile find %s,wps-none", self_name);
	assert_int_equal(run(p, line), -ESRCH);
	assert_string_equal(reply, "error: no process named 'wps-none' on testhost\n");
	assert_int_equal(run(p, "profile find a/b"), -EINVAL);
	assert_string_equal(reply, "error: bad process name 'a/b'\n");
	profiles__free(p);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {"profile",
				    "profile bogus",
				    "profile find",
				    "profile start",
				    "profile start id",
				    "profile start bad/id x",
				    "profile start 012345678901234567890123456789012 x",
				    "profile stop",
				    "profile stop a b",
				    "profile list x",
				    "profile find a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"};
	struct profiles *p = profiles__new("testhost", 0);

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run(p, bad[i]), -EINVAL);
		assert_non_null(strstr(reply, "error: bad command"));
		assert_non_null(strstr(reply, "profile start ID NAME"));
	}
	/* A table without the family does not know the verb. */
	assert_int_equal(run(NULL, "profile list"), -EINVAL);
	assert_non_null(strstr(reply, "error: bad command 'profile list'"));
	profiles__free(p);
}

static void test_sessions(void **state)
{
	struct profiles *p = profiles__new("testhost", 0);
	char line[128], want[64];

	(void)state;
	snprintf(want, sizeof(want), "ok pids=%d\n", (int)getpid());
	for (int i = 0; i < PROFILES_MAX; i++) {
		snprintf(line, sizeof(line), "profile start s%d %s", i, self_name);
		assert_int_equal(run(p, line), 0);
		assert_string_equal(reply, want);
	}
	snprintf(line, sizeof(line), "profile start s0 %s", self_name);
	assert_int_equal(run(p, line), -EEXIST);
	assert_string_equal(reply, "error: profile 's0' is running already\n");
	snprintf(line, sizeof(line), "profile start s9 %s", self_name);
	assert_int_equal(run(p, line), -EBUSY);
	assert_int_equal(run(p, "profile start s9 wps-none"), -EBUSY);
	assert_int_equal(run(p, "profile list"), 0);
	assert_string_equal(reply, "ok s0 s1 s2 s3\n");
	assert_int_equal(run(p, "profile abort s1"), 0);
	assert_string_equal(reply, "ok\n");
	assert_int_equal(run(p, "profile abort s1"), -ENOENT);
	assert_string_equal(reply, "error: no profile 's1' is running\n");
	assert_int_equal(run(p, "profile start s9 wps-none"), -ESRCH);
	assert_string_equal(reply, "error: no process named 'wps-none' on testhost\n");

	assert_int_equal(run(p, "profile stop s2"), 0);
	assert_memory_equal(reply, "ok {", 4);
	assert_int_equal(reply[strlen(reply) - 1], '\n');
	json_object *doc = json_tokener_parse(reply + 3);
	assert_non_null(doc);
	json_object *procs, *proc, *net;
	assert_true(json_object_object_get_ex(doc, "processes", &procs));
	proc = json_object_array_get_idx(procs, 0);
	/* No capture to count with: network bytes are null, not zero. */
	assert_true(json_object_object_get_ex(proc, "net_rx_bytes", &net));
	assert_null(net);
	json_object_put(doc);
	assert_int_equal(run(p, "profile list"), 0);
	assert_string_equal(reply, "ok s0 s3\n");
	profiles__free(p); /* s0 and s3 still run: freed here, no leak */
}

/* ---- a reply with a limit ------------------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool done;

static void *sleeper(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void test_cut_to_fit(void **state)
{
	struct profiles *p = profiles__new("testhost", 0);
	pthread_t t[SLEEPERS];
	json_object *doc, *proc, *v;
	char line[64], small[2048];
	size_t full;

	(void)state;
	for (int i = 0; i < SLEEPERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sleeper, NULL), 0);
	snprintf(line, sizeof(line), "profile start big %s", self_name);
	assert_int_equal(run(p, line), 0);
	assert_int_equal(run(p, "profile stop big"), 0);
	full = strlen(reply);
	print_message("# %d threads: %zu bytes\n", SLEEPERS + 1, full);
	assert_true(full > sizeof(small));

	snprintf(line, sizeof(line), "profile start big %s", self_name);
	assert_int_equal(run(p, line), 0);
	assert_int_equal(exec_in(p, "profile stop big", small, sizeof(small)), 0);
	print_message("# cut to %zu bytes\n", strlen(small));
	assert_memory_equal(small, "ok {", 4);
	doc = json_tokener_parse(small + 3);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "processes", &v));
	proc = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(proc, "threads_total", &v));
	assert_int_equal(json_object_get_int(v), SLEEPERS + 1);
	assert_true(json_object_object_get_ex(proc, "threads_omitted", &v));
	assert_true(json_object_get_int(v) > 0);
	json_object_put(doc);

	/* Not even without threads: an error, and the session is gone. */
	assert_int_equal(run(p, line), 0);
	assert_int_equal(exec_in(p, "profile stop big", small, 200), -E2BIG);
	assert_non_null(strstr(small, "too large"));
	assert_int_equal(run(p, "profile list"), 0);
	assert_string_equal(reply, "ok\n");

	pthread_mutex_lock(&lock);
	done = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < SLEEPERS; i++)
		pthread_join(t[i], NULL);
	profiles__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_sessions),
	    cmocka_unit_test(test_cut_to_fit),
	};

	snprintf(self_name, sizeof(self_name), "wpsC%d", (int)getpid() % 100000);
	prctl(PR_SET_NAME, self_name);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Profiles from /proc: the test process finds itself by a name of its own,
 * a thread that burns CPU shows up with that CPU, a child reaped during the
 * window is counted through cutime, network bytes land on the right name,
 * and the JSON has every documented key. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "hostprof/procfs.h"
#include "hostprof/procfs_int.h"

static char self_name[16]; /* this process's comm, unique to the run */

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void burn(double seconds)
{
	double until = thread_cpu_s() + seconds;
	volatile uint64_t x = 0;

	while (thread_cpu_s() < until)
		for (int i = 0; i < 10000; i++)
			x += (uint64_t)i;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("key '%s' missing", key);
	return v;
}

static double num(json_object *o, const char *key)
{
	return json_object_get_double(get(o, key));
}

static void test_stat_parse(void **state)
{
	char line[] = "42 (a) (b c)) S 7 42 42 0 -1 4194560 10 0 0 0 150 25 30 5 20 0 3 0 "
		      "123456 1000 77 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0";
	char bad[] = "42 a S 7";
	struct proc_stat st;

	(void)state;
	assert_int_equal(proc_stat_parse(line, &st), 0);
	assert_string_equal(st.comm, "a) (b c)");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 7);
	assert_int_equal(st.utime, 150);
	assert_int_equal(st.stime, 25);
	assert_int_equal(st.cutime, 30);
	assert_int_equal(st.cstime, 5);
	assert_int_equal(st.starttime, 123456);
	assert_int_equal(st.rss, 77);
	assert_int_equal(proc_stat_parse(bad, &st), -EINVAL);
}

static void test_find_self(void **state)
{
	uint32_t pids[8], ns = proc_netns((uint32_t)getpid());
	int n;

	(void)state;
	n = procfs_find(self_name, 0, pids, 8);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], (uint32_t)getpid());
	assert_true(ns != 0);
	assert_int_equal(procfs_find(self_name, ns, pids, 8), 1);
	assert_int_equal(procfs_find(self_name, ns + 1, pids, 8), 0);
	assert_int_equal(procfs_find("wps-no-such-process", 0, pids, 8), 0);
	assert_int_equal(procfs_find("a/b", 0, pids, 8), -EINVAL);
	assert_int_equal(procfs_find("", 0, pids, 8), -EINVAL);
	/* cap 0: counts without writing */
	assert_int_equal(procfs_find(self_name, 0, NULL, 0), 1);
}

static void test_unknown_name(void **state)
{
	const char *names[] = {self_name, "wps-no-such-process"};
	struct prof_session *s = (void *)1;
	char err[128];

	(void)state;
	assert_int_equal(prof_session__start(&s, names, 2, 0, err, sizeof(err)), -ESRCH);
	assert_null(s);
	assert_string_equal(err, "no process named 'wps-no-such-process'");
	assert_int_equal(prof_session__start(&s, names + 1, 1, 4026531999u, err, sizeof(err)),
			 -ESRCH);
	assert_string_equal(err, "no process named 'wps-no-such-process' in network namespace "
				 "4026531999");
	names[0] = "bad/name";
	assert_int_equal(prof_session__start(&s, names, 1, 0, err, sizeof(err)), -EINVAL);
}

/* ---- a burning thread ------------------------------------------------------------------ */

struct burner {
	pthread_t t;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool burnt, release;
	pid_t tid;
};

static void *burner_main(void *arg)
{
	struct burner *b = arg;

	prctl(PR_SET_NAME, "wpsburn");
	b->tid = gettid();
	burn(0.2);
	pthread_mutex_lock(&b->lock);
	b->burnt = true;
	pthread_cond_broadcast(&b->cond);
	while (!b->release) /* stay alive until the stop has seen this thread */
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static void run_burner(void *arg)
{
	struct burner *b = arg;

	pthread_create(&b->t, NULL, burner_main, b);
	pthread_mutex_lock(&b->lock);
	while (!b->burnt)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

static void release_burner(struct burner *b)
{
	pthread_mutex_lock(&b->lock);
	b->release = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->t, NULL);
}

static json_object *run_session(const char *const *names, size_t n, void (*fn)(void *), void *arg,
				bool net, struct prof_session **keep)
{
	struct prof_session *s = NULL;
	char err[128], *json = NULL;
	json_object *doc;

	assert_int_equal(prof_session__start(&s, names, n, 0, err, sizeof(err)), 0);
	prof_session__set_net_counting(s, net);
	if (fn)
		fn(arg);
	assert_int_equal(prof_session__stop(s, &json), 0);
	doc = json_tokener_parse(json);
	assert_non_null(doc);
	assert_null(strchr(json, '\n'));
	free(json);
	if (keep)
		*keep = s;
	else
		prof_session__free(s);
	return doc;
}

static void test_burning_thread(void **state)
{
	static struct burner b = {.lock = PTHREAD_MUTEX_INITIALIZER,
				  .cond = PTHREAD_COND_INITIALIZER};
	const char *names[] = {self_name};
	json_object *doc, *proc, *threads;
	double cpu, interval, burner_cpu = -1;
	struct prof_session *s;
	char *json;

	(void)state;
	doc = run_session(names, 1, run_burner, &b, false, &s);
	interval = num(doc, "interval_s");
	proc = json_object_array_get_idx(get(doc, "processes"), 0);
	cpu = num(proc, "cpu_s");
	print_message("# interval %.3f s, cpu %.3f s\n", interval, cpu);
	assert_true(cpu >= 0.15);
	assert_true(cpu <= interval + 0.02); /* one tick of slack at either end */
	assert_true(json_object_get_uint64(get(proc, "threads_total")) >= 2);
	threads = get(proc, "threads");
	for (size_t i = 0; i < json_object_array_length(threads); i++) {
		json_object *t = json_object_array_get_idx(threads, i);

		if ((pid_t)json_object_get_int64(get(t, "tid")) == b.tid) {
			assert_string_equal(json_object_get_string(get(t, "comm")), "wpsburn");
			assert_int_equal(json_object_get_int64(get(t, "pid")), getpid());
			burner_cpu = num(t, "cpu_user_s") + num(t, "cpu_system_s");
		}
	}
	print_message("# burning thread %.3f s\n", burner_cpu);
	assert_true(burner_cpu >= 0.15);
	assert_true(burner_cpu >= 0.7 * cpu);
	/* The thread with the most CPU comes first, and the list can be cut. */
	assert_int_equal(json_object_get_int64(get(json_object_array_get_idx(threads, 0), "tid")),
			 b.tid);
	json_object_put(doc);
	assert_int_equal(prof_session__render(s, 1, &json), 0);
	doc = json_tokener_parse(json);
	proc = json_object_array_get_idx(get(doc, "processes"), 0);
	assert_int_equal(json_object_array_length(get(proc, "threads")), 1);
	assert_int_equal(json_object_get_uint64(get(proc, "threads_omitted")),
			 json_object_get_uint64(get(proc, "threads_total")) - 1);
	free(json);
	json_object_put(doc);
	prof_session__free(s);
	release_burner(&b);
}

/* ---- a child reaped during the window ------------------------------------------------- */

static void fork_burn_reap(void *arg)
{
	pid_t pid = fork(), *out = arg;
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		burn(0.2);
		_exit(0);
	}
	*out = pid;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
}

static void test_reaped_child(void **state)
{
	const char *names[] = {self_name};
	json_object *doc, *proc;
	double cpu, children;
	pid_t child = 0;

	(void)state;
	doc = run_session(names, 1, fork_burn_reap, &child, false, NULL);
	proc = json_object_array_get_idx(get(doc, "processes"), 0);
	cpu = num(proc, "cpu_s");
	children = num(proc, "children_cpu_s");
	print_message("# cpu %.3f s, of which children %.3f s, interval %.3f s\n", cpu, children,
		      num(doc, "interval_s"));
	assert_true(children >= 0.15);
	assert_true(cpu >= children);
	assert_true(cpu <= num(doc, "interval_s") + 0.02);
	json_object_put(doc);
}

/* ---- network bytes ---------------------------------------------------------------------- */

/* A child named name that sleeps until killed; returns its pid. */
static pid_t named_child(const char *name)
{
	int fds[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, name);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

struct net_case {
	char other[16];
	pid_t late; /* started during the window */
};

static void test_count_net(void **state)
{
	struct net_case nc;
	const char *names[2] = {self_name, nc.other};
	struct prof_session *s = NULL;
	json_object *doc, *p0, *p1;
	char err[128], *json;
	pid_t early;

	(void)state;
	snprintf(nc.other, sizeof(nc.other), "wpsN%d", (int)getpid() % 100000);
	early = named_child(nc.other);
	assert_int_equal(prof_session__start(&s, names, 2, 0, err, sizeof(err)), 0);
	prof_session__set_net_counting(s, true);
	nc.late = named_child(nc.other);
	prof_session__count_net(s, (uint32_t)getpid(), 100, 200);
	prof_session__count_net(s, (uint32_t)early, 5, 7);
	prof_session__count_net(s, (uint32_t)nc.late, 1000, 0);
	prof_session__count_net(s, (uint32_t)nc.late, 1, 0);
	prof_session__count_net(s, 1, 1u << 20, 1u << 20); /* init: not ours */
	prof_session__count_net(s, (uint32_t)getpid(), 1, 1);
	assert_int_equal(prof_session__stop(s, &json), 0);
	prof_session__count_net(s, (uint32_t)getpid(), 99, 99); /* after the stop: ignored */
	doc = json_tokener_parse(json);
	free(json);
	p0 = json_object_array_get_idx(get(doc, "processes"), 0);
	p1 = json_object_array_get_idx(get(doc, "processes"), 1);
	assert_string_equal(json_object_get_string(get(p0, "name")), self_name);
	assert_int_equal(json_object_get_uint64(get(p0, "net_rx_bytes")), 101);
	assert_int_equal(json_object_get_uint64(get(p0, "net_tx_bytes")), 201);
	assert_int_equal(json_object_get_uint64(get(p1, "net_rx_bytes")), 1006);
	assert_int_equal(json_object_get_uint64(get(p1, "net_tx_bytes")), 7);
	assert_int_equal(json_object_array_length(get(p1, "pids")), 2);
	assert_int_equal(json_object_array_length(get(p1, "started_pids")), 1);
	assert_int_equal(
	    json_object_get_int64(json_object_array_get_idx(get(p1, "started_pids"), 0)), nc.late);
	assert_true(json_object_get_boolean(get(doc, "net_counted")));
	json_object_put(doc);
	prof_session__free(s);
	end_child(nc.late);

	/* Nobody counting: null, not zero. */
	doc = run_session(names, 2, NULL, NULL, false, NULL);
	p1 = json_object_array_get_idx(get(doc, "processes"), 1);
	assert_true(json_object_is_type(get(p1, "net_rx_bytes"), json_type_null));
	assert_false(json_object_get_boolean(get(doc, "net_counted")));
	json_object_put(doc);
	end_child(early);
}

/* ---- the document ----------------------------------------------------------------------- */

static void test_json_keys(void **state)
{
	static const char *top[] = {"interval_s", "clk_tck", "cpus", "host", "processes"};
	static const char *host[] = {
	    "cpu_user_s",	"cpu_system_s", "cpu_idle_s",	    "cpu_iowait_s",
	    "cpu_utilization",	"mem_total_kb", "mem_available_kb", "disk_read_bytes",
	    "disk_write_bytes", "net_rx_bytes", "net_tx_bytes",	    "lo_rx_bytes",
	    "lo_tx_bytes",	"ctxt"};
	static const char *proc[] = {
	    "name",	    "pids",	      "cpu_user_s",	  "cpu_system_s", "cpu_s",
	    "utilization",  "rss_kb",	      "read_bytes",	  "write_bytes",  "net_rx_bytes",
	    "net_tx_bytes", "voluntary_ctxt", "involuntary_ctxt", "threads"};
	static const char *thread[] = {"pid", "tid", "comm", "cpu_user_s", "cpu_system_s"};
	const char *names[] = {self_name};
	json_object *doc, *h, *p, *t;

	(void)state;
	doc = run_session(names, 1, NULL, NULL, true, NULL);
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		get(doc, top[i]);
	h = get(doc, "host");
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
		get(h, host[i]);
	p = json_object_array_get_idx(get(doc, "processes"), 0);
	for (size_t i = 0; i < sizeof(proc) / sizeof(proc[0]); i++)
		get(p, proc[i]);
	t = json_object_array_get_idx(get(p, "threads"), 0);
	assert_non_null(t);
	for (size_t i = 0; i < sizeof(thread) / sizeof(thread[0]); i++)
		get(t, thread[i]);
	assert_int_equal(json_object_get_int64(get(doc, "clk_tck")), sysconf(_SC_CLK_TCK));
	assert_true(json_object_get_int64(get(doc, "cpus")) >= 1);
	assert_true(json_object_get_uint64(get(h, "mem_total_kb")) > 0);
	assert_true(json_object_get_uint64(get(p, "rss_kb")) > 0);
	assert_true(json_object_is_type(get(h, "net_rx_bytes"), json_type_int));
	json_object_put(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stat_parse),	 cmocka_unit_test(test_find_self),
	    cmocka_unit_test(test_unknown_name), cmocka_unit_test(test_burning_thread),
	    cmocka_unit_test(test_reaped_child), cmocka_unit_test(test_count_net),
	    cmocka_unit_test(test_json_keys),
	};

	snprintf(self_name, sizeof(self_name), "wpsT%d", (int)getpid() % 100000);
	prctl(PR_SET_NAME, self_name);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The library API end to end against an in-process server on loopback:
 * request counts, the per-second callback stopping a run, and the errors
 * load_run reports before it starts. Under ASan, this also checks that a
 * whole run frees what it takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "load/load.h"

static int listen_fd = -1;
static char port_str[8];
static pthread_t accept_thread;

/* Serves one connection: a 200 for every request head, until the peer closes. */
static void *serve_conn(void *arg)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	size_t have = 0;
	ssize_t n;

	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *end;

		have += n;
		buf[have] = '\0';
		while ((end = strstr(buf, "\r\n\r\n"))) {
			size_t used = end + 4 - buf;

			if (write(fd, resp, sizeof(resp) - 1) < 0)
				goto out;
			memmove(buf, buf + used, have - used + 1);
			have -= used;
		}
	}
out:
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	int fd;
	pthread_t t;

	(void)arg;
	while ((fd = accept(listen_fd, NULL, NULL)) >= 0) {
		if (pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd) == 0)
			pthread_detach(t);
		else
			close(fd);
	}
	return NULL;
}

static int setup(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	(void)state;
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(listen_fd, 128) || getsockname(listen_fd, (struct sockaddr *)&a, &len))
		return -1;
	snprintf(port_str, sizeof(port_str), "%u", ntohs(a.sin_port));
	return pthread_create(&accept_thread, NULL, accept_loop, NULL);
}

static int teardown(void **state)
{
	(void)state;
	shutdown(listen_fd, SHUT_RDWR);
	close(listen_fd);
	pthread_join(accept_thread, NULL);
	return 0;
}

static struct load_uri uri = {.method = "GET", .path = "/", .headers = "", .weight = 1};

static struct load_config base_config(void)
{
	struct load_config c = LOAD_CONFIG_INIT;

	c.uris = &uri;
	c.nuris = 1;
	c.host = "127.0.0.1";
	c.port = port_str;
	c.threads = 2;
	c.connections = 4;
	return c;
}

static void test_request_count(void **state)
{
	struct load_config c = base_config();
	struct load_result r;

	(void)state;
	c.duration_ns = 0;
	c.max_requests = 301;
	assert_int_equal(load_run(&c, &r), 0);
	assert_int_equal(r.requests, 301);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.unfinished, 0);
	assert_int_equal(r.per_uri[0].requests, 301);
	assert_int_equal(r.hist->count, 301);
	assert_true(r.latency.p50_ms > 0 && r.latency.p50_ms <= r.latency.max_ms);
	assert_true(r.nseries >= 1);
	assert_int_equal(r.series[r.nseries - 1].total_requests, 301);
	load_result__free(&r);
}

struct seen {
	unsigned calls;	 /* callbacks so far */
	uint64_t summed; /* requests over them */
};

static int stop_after_two(const struct load_second *s, void *ctx)
{
	struct seen *seen = ctx;

	seen->calls++;
	seen->summed += s->requests;
	assert_int_equal(s->second, seen->calls - 1);
	assert_true(s->remaining_s > 0);
	return seen->calls == 2;
}

/* The callback can end a run; the series holds what it was shown. */
static void test_callback_stops_run(void **state)
{
	struct load_config c = base_config();
	struct seen seen = {0};
	struct load_result r;
	uint64_t t0 = mono_ns();

	(void)state;
	c.duration_ns = 20000000000ull;
	c.think_ns = 1000000; /* 1 ms: a light load under the sanitizers */
	c.on_second = stop_after_two;
	c.ctx = &seen;
	assert_int_equal(load_run(&c, &r), 0);
	assert_true(mono_ns() - t0 < 5000000000ull);
	assert_true(r.stopped);
	assert_int_equal(seen.calls, 2);
	assert_true(r.requests > 0);
	assert_true(r.nseries >= 2);
	assert_int_equal(r.series[0].requests + r.series[1].requests, seen.summed);
	load_result__free(&r);
}

/* Open loop at 400/s for 1 s: the schedule is kept, connections reused. */
static void test_open_loop(void **state)
{
	struct load_config c = base_config();
	struct load_result r;

	(void)state;
	c.rate = 400;
	c.duration_ns = 1000000000ull;
	assert_int_equal(load_run(&c, &r), 0);
	assert_true(r.requests + r.unfinished >= 395 && r.requests + r.unfinished <= 401);
	assert_int_equal(r.errors, 0);
	load_result__free(&r);
}

/* Without keep-alive every request opens and closes its own connection. */
static void test_no_keepalive(void **state)
{
	struct load_config c = base_config();
	struct load_result r;

	(void)state;
	c.keepalive = false;
	c.duration_ns = 0;
	c.max_requests = 200;
	assert_int_equal(load_run(&c, &r), 0);
	assert_int_equal(r.requests, 200);
	assert_int_equal(r.errors, 0);
	load_result__free(&r);
}

static void test_errors_before_start(void **state)
{
	struct load_config c = base_config();
	struct load_result r;

	(void)state;
	c.port = "1";
	assert_int_equal(load_run(&c, &r), -ECONNREFUSED);
	assert_non_null(strstr(r.error, "Connection refused"));
	load_result__free(&r);
	c = base_config();
	c.nuris = 0;
	assert_int_equal(load_run(&c, &r), -EINVAL);
	load_result__free(&r);
	c = base_config();
	c.host = "no-such-host.invalid";
	assert_true(load_run(&c, &r) < 0);
	assert_non_null(strstr(r.error, "cannot resolve host"));
	load_result__free(&r);
}

/* Socket errors by kind: what the integration tests cannot provoke on demand
 * (an established connection failing with anything but a reset or a timeout,
 * as after an ICMP error outlives the retransmissions) lands in "other". */
static void test_error_kinds(void **state)
{
	(void)state;
	assert_int_equal(load_err_kind_of(ECONNREFUSED, true), LOAD_ERR_REFUSED);
	assert_int_equal(load_err_kind_of(EACCES, true), LOAD_ERR_CONNECT);
	assert_int_equal(load_err_kind_of(ENETUNREACH, true), LOAD_ERR_CONNECT);
	assert_int_equal(load_err_kind_of(ETIMEDOUT, true), LOAD_ERR_TIMEOUT);
	assert_int_equal(load_err_kind_of(ECONNRESET, false), LOAD_ERR_RESET);
	assert_int_equal(load_err_kind_of(EPIPE, false), LOAD_ERR_RESET);
	assert_int_equal(load_err_kind_of(EHOSTUNREACH, false), LOAD_ERR_OTHER);
	assert_int_equal(load_err_kind_of(ENETDOWN, false), LOAD_ERR_OTHER);
	assert_string_equal(load_err_name(LOAD_ERR_CONNECT), "connect_other");
	assert_string_equal(load_err_name(LOAD_ERR_OTHER), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_count),	cmocka_unit_test(test_callback_stops_run),
	    cmocka_unit_test(test_open_loop),		cmocka_unit_test(test_no_keepalive),
	    cmocka_unit_test(test_errors_before_start), cmocka_unit_test(test_error_kinds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/* The sensor's per-event formatting cost: a JSON line for events like those
 * of nginx under wrk (a 256-byte payload prefix on the responses, an
 * 80-byte request), formatted in a loop on one core.
 *
 *   build/bench/event_format_bench [EVENTS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sensor/event_format.h"

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	static char buf[2][sizeof(struct weft_event) + WEFT_PAYLOAD_MAX];
	struct event_context x = {.host = "web-1.example", .exe = "/usr/sbin/nginx"};
	static char line[EVENT_LINE_MAX];
	size_t bytes = 0;
	double t0;

	for (int k = 0; k < 2; k++) {
		struct weft_event *e = (struct weft_event *)buf[k];

		e->type = k ? WEFT_EV_SEND : WEFT_EV_RECV;
		e->role = WEFT_ROLE_SERVER;
		e->pid = 4321;
		e->tid = 4321;
		e->seq = 3000000000u;
		e->len = k ? 1260 : 80;
		e->family = 2;
		e->saddr[0] = 127, e->saddr[3] = 1;
		e->daddr[0] = 127, e->daddr[3] = 1;
		e->sport = 18181;
		e->dport = 40312;
		e->netns = 4026531840u;
		e->cgroup_id = 4242;
		e->sock_id = 0xffff888812345678ull;
		e->duration_ns = 5123;
		e->flags = 0;
		strcpy(e->comm, "nginx");
		e->payload_len = k ? 256 : 80;
		for (unsigned i = 0; i < e->payload_len; i++)
			e->payload[i] =
			    (uint8_t)("GET /index.html HTTP/1.1\r\nHost: x\r\n"[i % 34] + k);
	}
	t0 = cpu_s();
	for (long i = 0; i < n; i++) {
		x.ts_wall_ns = 1795000000000000000ull + (uint64_t)i * 1000;
		bytes += event_format_json(line, (const struct weft_event *)buf[i & 1], &x);
	}
	t0 = cpu_s() - t0;
	printf("%ld events, %.1f bytes a line, %.1f ns an event on one core\n", n,
	       (double)bytes / n, t0 * 1e9 / n);
	return 0;
}

/* store_fill: synthetic data for the store's benchmark and the query
 * commands' tests, written through the store API, and a bare API server.
 *   store_fill fill DB N      N trajectories (2 spans each) over the last day,
 *                             three applications, 2% failed, in batches
 *   store_fill serve DB PORT  the HTTP API on 127.0.0.1:PORT until SIGINT/SIGTERM */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/parse.h"
#include "store/store.h"

#define DAY_NS (86400ull * 1000000000ull)
#define BATCH  10000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void services(struct store *s, uint64_t now)
{
	static const char *const comms[] = {"load", "nginx", "postgres"};
	static const uint16_t ports[] = {0, 80, 5432};

	for (int app = 0; app < 3; app++) {
		for (int k = 0; k < 3; k++) {
			struct weft_service svc = {.id = 0x1000 * (app + 1) + k, .port = ports[k]};

			snprintf(svc.host, sizeof(svc.host), "host%d", app * 3 + k);
			snprintf(svc.exe, sizeof(svc.exe), "/usr/sbin/%s", comms[k]);
			snprintf(svc.comm, sizeof(svc.comm), "%s", comms[k]);
			store__put_service(s, &svc, now);
		}
	}
}

/* Trajectory i: load -> nginx (root) and nginx -> postgres, in one of
 * three applications. */
static int put_one(struct store *s, uint64_t i, uint64_t start, uint64_t *seed)
{
	uint64_t app = 0x1000 * (i % 3 + 1), dur = (rnd(seed) % 500 + 1) * 1000000ull;
	uint64_t db = dur / (rnd(seed) % 4 + 2);
	struct weft_span sp[2] = {
	    {.id = i + 1,
	     .client_service = app,
	     .server_service = app + 1,
	     .protocol = WEFT_PROTO_HTTP,
	     .status = 200},
	    {.id = (i + 1) | 1ull << 62,
	     .parent = i + 1,
	     .client_service = app + 1,
	     .server_service = app + 2,
	     .protocol = WEFT_PROTO_POSTGRES},
	};
	struct weft_trajectory t = {.id = i + 1,
				    .start_ns = start,
				    .duration_ns = dur,
				    .root_service = app,
				    .nspans = 2,
				    .depth = 2,
				    .slowest_span = i + 1,
				    .slowest_hop = sp[1].id,
				    .spans = sp};

	sp[0].error = t.error = rnd(seed) % 50 == 0;
	sp[0].status = sp[0].error ? 503 : 200;
	sp[0].client = (struct weft_side){
	    .observed = true, .pid = 100, .tid = 100, .start_ns = start, .end_ns = start + dur};
	sp[0].server = (struct weft_side){.observed = true,
					  .pid = 200 + i % 4,
					  .port = 80,
					  .start_ns = start + 50000,
					  .end_ns = start + dur - 50000};
	sp[1].client = (struct weft_side){.observed = true,
					  .pid = 200 + i % 4,
					  .start_ns = start + 100000,
					  .end_ns = start + 100000 + db};
	/* the database host's clock runs 5 ms ahead: stored as seen, corrected
	 * for display */
	sp[1].display_offset_ns = -5000000;
	sp[1].server = (struct weft_side){.observed = true,
					  .pid = 300,
					  .port = 5432,
					  .start_ns = start + 5000000 + 120000,
					  .end_ns = start + 5000000 + 80000 + db};
	strcpy(sp[0].client.comm, "load");
	strcpy(sp[0].server.comm, "nginx");
	strcpy(sp[1].client.comm, "nginx");
	strcpy(sp[1].server.comm, "postgres");
	snprintf(sp[0].request, sizeof(sp[0].request), "GET /item/%" PRIu64, rnd(seed) % 1000);
	snprintf(sp[1].request, sizeof(sp[1].request), "QUERY SELECT * FROM items");
	return store__put_trajectory(s, &t);
}

static int fill(const char *path, uint64_t n)
{
	struct store *s = store__open(path, NULL);
	uint64_t now = wall_ns(), seed = 88172645463325252ull, t0 = mono_ns();
	int err = 0;

	if (!s)
		return 1;
	services(s, now);
	for (uint64_t i = 0; !err && i < n; i += BATCH) {
		err = store__begin(s);
		for (uint64_t j = i; !err && j < i + BATCH && j < n; j++)
			err = put_one(s, j, now - DAY_NS + j * (DAY_NS / n), &seed);
		err = err ? store__rollback(s), err : store__commit(s);
	}
	fprintf(stderr, "store_fill: %" PRIu64 " trajectories in %.1f s\n", n,
		(double)(mono_ns() - t0) / 1e9);
	store__close(s);
	return err ? 1 : 0;
}

static int serve(const char *path, const char *port_arg)
{
	struct api *a;
	uint64_t port;

	if (parse_u64(port_arg, &port, 1, 65535))
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	a = api__start("127.0.0.1", (uint16_t)port, path, NULL);
	if (!a)
		return 1;
	while (!stop)
		usleep(100000);
	api__stop(a);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n;

	weft_log_level = WEFT_LOG_WARN;
	if (argc == 4 && !strcmp(argv[1], "fill") && !parse_u64(argv[3], &n, 1, 100000000))
		return fill(argv[2], n);
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3]);
	fprintf(stderr, "usage: store_fill fill DB N | store_fill serve DB PORT\n");
	return 2;
}

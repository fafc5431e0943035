/* The HTTP JSON API: a libmicrohttpd daemon with its own thread pool that
 * answers the dashboard and the CLI from the store, through read-only
 * handles that never block the ingest writer (WAL). Routes:
 *   GET  /api/map?since=&until=&window=
 *   GET  /api/trajectories?limit=&offset=&since=&until=&min_ms=&max_ms=
 *                          &application=&request=&errors=
 *   GET  /api/trajectories/{id}
 *   GET  /api/sensors
 *   GET  /api/health
 *   GET  /metrics                       (Prometheus text format 0.0.4)
 *   POST /api/sensors/{id}/control      (body: one command line)
 *   GET  / and /<file>                   (static files from web_root, if set)
 * Every answer is JSON ({"error":"..."} with 400, 404, 405, 500, 501, 502, 503),
 * except static files and /metrics. */
#ifndef WEFT_API_H
#define WEFT_API_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* What the server lends the API. Every member may be NULL. Callbacks run on
 * the API's threads, concurrently: they must be thread-safe. */
struct api_hooks {
	/* Forwards a control command to a connected sensor; writes the sensor's
	 * reply (NUL-terminated) into reply, whose cap is 64 KiB (a reply can
	 * hold a profile). 0 on success; -ENOENT for an
	 * unknown or disconnected sensor (404), -EINVAL for a command the
	 * sensor refused (400), another -errno otherwise (502). */
	int (*control)(const char *sensor, const char *command, char *reply, size_t cap, void *ctx);
	/* Adds the server's own fields to the /api/health document. */
	void (*health)(json_object *doc, void *ctx);
	/* The /metrics text (malloc'ed, the API frees it; *len without a NUL),
	 * NULL when it cannot be made (500). */
	char *(*metrics)(size_t *len, void *ctx);
	void *ctx;	      /* passed to every callback */
	const char *web_root; /* directory of static files for the dashboard */
};

/* Starts serving on addr:port (addr NULL: 127.0.0.1; port 0: an ephemeral
 * one, see api__port) from the database at db_path, which the writer must
 * have created. The hooks are copied; web_root and ctx must outlive the
 * API. NULL with errno set after logging why. */
struct api *api__start(const char *addr, uint16_t port, const char *db_path,
		       const struct api_hooks *hooks);
/* The port actually bound. */
uint16_t api__port(const struct api *a);
/* Stops the daemon, waits for its threads and closes every handle. */
void api__stop(struct api *a);

#endif

/* Internals of the API shared by its files: one request in flight and the
 * helpers routes answer with. */
#ifndef WEFT_API_INT_H
#define WEFT_API_INT_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "store/store.h"

struct api;

/* One request being answered. */
struct api_call {
	struct api *api;
	struct MHD_Connection *conn;
	const char *url;
	const char *arg;	  /* the path segment a route's '*' matched, or NULL */
	const char *body;	  /* request body, NUL-terminated ("" when none) */
	int status;		  /* the answer: HTTP status ... */
	json_object *doc;	  /* ... and document, owned by the call */
	struct MHD_Response *raw; /* or a ready response (static files) */
};

/* Sets an {"error": ...} answer. */
void api_error(struct api_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets a 200 answer, taking doc. */
void api_ok(struct api_call *c, json_object *doc);

/* A store reader from the pool, NULL (and a 503 set) when the database
 * cannot be opened; give it back with api_release. */
struct store *api_acquire(struct api_call *c);
void api_release(struct api_call *c, struct store *s);
const struct api_hooks *api_hooks(const struct api_call *c);

/* Query parameters: each returns 0 and sets *out (left alone when the
 * parameter is absent), or sets a 400 answer and returns -EINVAL. */
const char *api_param(struct api_call *c, const char *name);
int api_param_u64(struct api_call *c, const char *name, uint64_t min, uint64_t max, uint64_t *out);
/* Milliseconds (fractions allowed, >= 0) into nanoseconds. */
int api_param_ms(struct api_call *c, const char *name, uint64_t *out_ns);
/* Wall-clock ns, or a duration ("15m") meaning that long before now. */
int api_param_time(struct api_call *c, const char *name, uint64_t now, uint64_t *out_ns);
/* A duration ("15m", "30s"; bare numbers are seconds). */
int api_param_duration(struct api_call *c, const char *name, uint64_t *out_ns);
int api_param_bool(struct api_call *c, const char *name, bool *out);

/* Routes (api_routes.c). */
void api_route_map(struct api_call *c);
void api_route_trajectories(struct api_call *c);
void api_route_trajectory(struct api_call *c);
void api_route_sensors(struct api_call *c);
void api_route_health(struct api_call *c);
void api_route_control(struct api_call *c);
void api_route_metrics(struct api_call *c);
/* Static files (api_static.c): GET of any path outside /api. */
void api_route_static(struct api_call *c);

#endif

/* The API's daemon: libmicrohttpd with a thread pool, a pool of store
 * readers, request bodies, and the one dispatcher on method and path. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "common/log.h"
#include "common/parse.h"

#define API_THREADS   4	   /* libmicrohttpd's pool; also the number of readers */
#define API_BODY_MAX  4096 /* control commands are one short line */
#define API_TIMEOUT_S 30

struct api {
	struct MHD_Daemon *daemon;
	char *db_path;
	struct api_hooks hooks;
	uint16_t port;			    /* bound port */
	pthread_mutex_t lock;		    /* guards the reader pool */
	pthread_cond_t freed;		    /* a reader came back */
	struct store *readers[API_THREADS]; /* opened on first use */
	bool busy[API_THREADS];		    /* lent to a request */
};

/* The part of a request that outlives one call of the handler: its body. */
struct api_upload {
	char *body;
	size_t len;
	bool too_big;
};

struct api_route {
	const char *method;
	const char *pattern; /* '*' matches one path segment */
	void (*fn)(struct api_call *c);
};

static const struct api_route routes[] = {
    {"GET", "/api/map", api_route_map},
    {"GET", "/api/trajectories", api_route_trajectories},
    {"GET", "/api/trajectories/*", api_route_trajectory},
    {"GET", "/api/sensors", api_route_sensors},
    {"GET", "/api/health", api_route_health},
    {"POST", "/api/sensors/*/control", api_route_control},
    {"GET", "/metrics", api_route_metrics},
    {0},
};

/* ---- answers -------------------------------------------------------------------------------- */

void api_error(struct api_call *c, int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_put(c->doc);
	c->doc = json_object_new_object();
	json_object_object_add(c->doc, "error", json_object_new_string(msg));
	c->status = status;
}

void api_ok(struct api_call *c, json_object *doc)
{
	json_object_put(c->doc);
	c->doc = doc;
	c->status = MHD_HTTP_OK;
}

const struct api_hooks *api_hooks(const struct api_call *c)
{
	return &c->api->hooks;
}

static enum MHD_Result send_call(struct api_call *c)
{
	struct MHD_Response *resp = c->raw;
	enum MHD_Result ret;

	if (!resp) {
		const char *text;

		if (!c->doc)
			api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no answer");
		text = json_object_to_json_string_ext(c->doc, JSON_C_TO_STRING_PLAIN);
		resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
						       MHD_RESPMEM_MUST_COPY);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	ret = MHD_queue_response(c->conn, c->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- readers -------------------------------------------------------------------------------- */

struct store *api_acquire(struct api_call *c)
{
	struct api *a = c->api;
	struct store *s = NULL;
	int i;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		for (i = 0; i < API_THREADS && a->busy[i]; i++)
			;
		if (i < API_THREADS)
			break;
		pthread_cond_wait(&a->freed, &a->lock);
	}
	if (!a->readers[i])
		a->readers[i] = store__open_reader(a->db_path);
	if (a->readers[i]) {
		a->busy[i] = true;
		s = a->readers[i];
	}
	pthread_mutex_unlock(&a->lock);
	if (!s)
		api_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "database not available");
	return s;
}

void api_release(struct api_call *c, struct store *s)
{
	struct api *a = c->api;

	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < API_THREADS; i++)
		if (a->readers[i] == s)
			a->busy[i] = false;
	pthread_cond_signal(&a->freed);
	pthread_mutex_unlock(&a->lock);
}

/* ---- dispatch ------------------------------------------------------------------------------- */

/* Matches url against pattern; the segment under '*' goes to seg. */
static bool route_match(const char *pattern, const char *url, char *seg, size_t cap)
{
	while (*pattern && *url) {
		if (*pattern == '*') {
			size_t n = strcspn(url, "/");

			if (n == 0 || n >= cap)
				return false;
			memcpy(seg, url, n);
			seg[n] = '\0';
			url += n;
			pattern++;
			continue;
		}
		if (*pattern++ != *url++)
			return false;
	}
	return !*pattern && !*url;
}

static void dispatch(struct api_call *c, const char *method)
{
	char seg[256];
	bool path_known = false;

	for (const struct api_route *r = routes; r->method; r++) {
		if (!route_match(r->pattern, c->url, seg, sizeof(seg)))
			continue;
		path_known = true;
		if (strcmp(r->method, method))
			continue;
		c->arg = strchr(r->pattern, '*') ? seg : NULL;
		r->fn(c);
		return;
	}
	if (path_known)
		api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed on %s", method, c->url);
	else if (strncmp(c->url, "/api/", 5) && strcmp(c->url, "/api") &&
		 (!strcmp(method, "GET") || !strcmp(method, "HEAD")))
		api_route_static(c);
	else
		api_error(c, MHD_HTTP_NOT_FOUND, "no such path: %s", c->url);
}

/* Collects a body over several calls; marks it too_big past the limit. */
static void upload_append(struct api_upload *up, const char *data, size_t n)
{
	char *p;

	if (up->too_big || up->len + n > API_BODY_MAX) {
		up->too_big = true;
		return;
	}
	p = realloc(up->body, up->len + n + 1);
	if (!p) {
		up->too_big = true;
		return;
	}
	memcpy(p + up->len, data, n);
	up->len += n;
	p[up->len] = '\0';
	up->body = p;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct api_upload *up = *con_cls;
	struct api_call c = {.api = cls, .conn = conn, .url = url, .body = ""};
	enum MHD_Result ret;

	(void)version;
	if (!up) { /* first call: headers only */
		up = calloc(1, sizeof(*up));
		if (!up)
			return MHD_NO;
		*con_cls = up;
		if (strcmp(method, "POST") && strcmp(method, "PUT"))
			goto answer;
		return MHD_YES;
	}
	if (*upload_data_size) {
		upload_append(up, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
answer:
	if (up->too_big) {
		api_error(&c, 413 /* content too large */, "body over %d bytes", API_BODY_MAX);
	} else {
		c.body = up->body ? up->body : "";
		dispatch(&c, method);
	}
	ret = send_call(&c);
	json_object_put(c.doc);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct api_upload *up = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (up) {
		free(up->body);
		free(up);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's own messages, as one warning line each. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("api: %s", msg);
}

/* ---- life cycle ----------------------------------------------------------------------------- */

static struct MHD_Daemon *start_daemon(struct api *a, const char *addr, uint16_t port)
{
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	const struct sockaddr *sa = (const struct sockaddr *)&sa4;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;

	if (inet_pton(AF_INET, addr, &sa4.sin_addr) != 1) {
		if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) != 1) {
			log_error("api: '%s' is not an IP address", addr);
			errno = EINVAL;
			return NULL;
		}
		sa = (const struct sockaddr *)&sa6;
		flags |= MHD_USE_IPv6;
	}
	return MHD_start_daemon(flags, port, NULL, NULL, handle, a, MHD_OPTION_EXTERNAL_LOGGER,
				mhd_log, a, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE,
				(unsigned int)API_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)API_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, completed,
				a, MHD_OPTION_END);
}

struct api *api__start(const char *addr, uint16_t port, const char *db_path,
		       const struct api_hooks *hooks)
{
	struct api *a = calloc(1, sizeof(*a));
	const union MHD_DaemonInfo *info;

	if (!a || !(a->db_path = strdup(db_path))) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	if (hooks)
		a->hooks = *hooks;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->freed, NULL);
	a->daemon = start_daemon(a, addr ? addr : "127.0.0.1", port);
	if (!a->daemon) {
		int err = errno ? errno : EADDRINUSE;

		log_error("api: cannot listen on %s:%u", addr ? addr : "127.0.0.1", port);
		api__stop(a);
		errno = err;
		return NULL;
	}
	info = MHD_get_daemon_info(a->daemon, MHD_DAEMON_INFO_BIND_PORT);
	a->port = info ? info->port : port;
	log_info("api: listening on %s:%u", addr ? addr : "127.0.0.1", a->port);
	return a;
}

uint16_t api__port(const struct api *a)
{
	return a->port;
}

void api__stop(struct api *a)
{
	if (!a)
		return;
	if (a->daemon)
		MHD_stop_daemon(a->daemon);
	for (int i = 0; i < API_THREADS; i++)
		store__close(a->readers[i]);
	pthread_cond_destroy(&a->freed);
	pthread_mutex_destroy(&a->lock);
	free(a->db_path);
	free(a);
}

/* ---- parameters ----------------------------------------------------------------------------- */

const char *api_param(struct api_call *c, const char *name)
{
	return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

int api_param_u64(struct api_call *c, const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *v = api_param(c, name);

	if (!v)
		return 0;
	if (parse_u64(v, out, min, max)) {
		api_error(c, MHD_HTTP_BAD_REQUEST, "%s: expected an integer in %llu..%llu", name,
			  (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

int api_param_ms(struct api_call *c, const char *name, uint64_t *out_ns)
{
	const char *v = api_param(c, name);
	double ms;

	if (!v)
		return 0;
	if (parse_double(v, &ms, 0, 1e12)) {
		api_error(c, MHD_HTTP_BAD_REQUEST, "%s: expected milliseconds >= 0", name);
		return -EINVAL;
	}
	*out_ns = (uint64_t)(ms * 1e6);
	return 0;
}

int api_param_time(struct api_call *c, const char *name, uint64_t now, uint64_t *out_ns)
{
	const char *v = api_param(c, name);
	uint64_t d;

	if (!v)
		return 0;
	if (!strcmp(v, "now")) {
		*out_ns = now;
		return 0;
	}
	if (!parse_u64(v, out_ns, 0, INT64_MAX))
		return 0;
	if (parse_duration_ns(v, &d, 1000000000ull) || d > now) {
		api_error(c, MHD_HTTP_BAD_REQUEST,
			  "%s: expected wall-clock nanoseconds or a duration like 15m", name);
		return -EINVAL;
	}
	*out_ns = now - d;
	return 0;
}

int api_param_duration(struct api_call *c, const char *name, uint64_t *out_ns)
{
	const char *v = api_param(c, name);
	uint64_t d;

	if (!v)
		return 0;
	if (parse_duration_ns(v, &d, 1000000000ull) || d == 0) {
		api_error(c, MHD_HTTP_BAD_REQUEST, "%s: expected a duration like 15m", name);
		return -EINVAL;
	}
	*out_ns = d;
	return 0;
}

int api_param_bool(struct api_call *c, const char *name, bool *out)
{
	const char *v = api_param(c, name);

	if (!v)
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !*v) {
		*out = true;
	} else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) {
		*out = false;
	} else {
		api_error(c, MHD_HTTP_BAD_REQUEST, "%s: expected true or false", name);
		return -EINVAL;
	}
	return 0;
}

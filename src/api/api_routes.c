/* The API's routes: each reads its parameters, asks the store or a hook,
 * and sets the answer on the call. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "common/clock.h"
#include "common/log.h"
#include "version.h"
#include "wire/command.h"

#define MAP_WINDOW_NS	   (15ull * 60 * 1000000000ull)
#define TRAJ_LIMIT_DEFAULT 50
#define TRAJ_LIMIT_MAX	   1000
#define TRAJ_OFFSET_MAX	   100000000

/* The status a store error answers with. */
static void store_error(struct api_call *c, int err, const char *what)
{
	if (err == -ENOENT)
		api_error(c, MHD_HTTP_NOT_FOUND, "no such %s", what);
	else if (err == -EINVAL)
		api_error(c, MHD_HTTP_BAD_REQUEST, "invalid %s query", what);
	else if (err == -EBUSY)
		api_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "database busy");
	else
		api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "reading %s failed: %s", what,
			  strerror(-err));
}

void api_route_map(struct api_call *c)
{
	uint64_t now = wall_ns(), window = MAP_WINDOW_NS, until = now, since = 0;
	struct store_map_query q;
	json_object *doc = NULL;
	struct store *s;
	int err;

	if (api_param_duration(c, "window", &window) || api_param_time(c, "until", now, &until) ||
	    api_param_time(c, "since", now, &since))
		return;
	if (!api_param(c, "since"))
		since = until > window ? until - window : 0;
	if (since >= until) {
		api_error(c, MHD_HTTP_BAD_REQUEST, "since must be before until");
		return;
	}
	q = (struct store_map_query){.since_ns = since, .until_ns = until};
	s = api_acquire(c);
	if (!s)
		return;
	err = store__query_map(s, &q, &doc);
	api_release(c, s);
	if (err)
		store_error(c, err, "map");
	else
		api_ok(c, doc);
}

/* Trajectory ids are 64-bit, written as up to 16 hex digits. */
static int parse_id(const char *arg, uint64_t *id)
{
	char *end;

	if (!strncmp(arg, "0x", 2))
		arg += 2;
	if (!*arg || strlen(arg) > 16 || !isxdigit((unsigned char)*arg))
		return -EINVAL;
	errno = 0;
	*id = strtoull(arg, &end, 16);
	return errno || *end ? -EINVAL : 0;
}

/* The trajectory filters of the query string into q; -EINVAL after a 400. */
static int traj_query(struct api_call *c, struct store_traj_query *q)
{
	uint64_t now = wall_ns(), limit = TRAJ_LIMIT_DEFAULT, offset = 0;

	*q = (struct store_traj_query){0};
	if (api_param_u64(c, "limit", 1, TRAJ_LIMIT_MAX, &limit) ||
	    api_param_u64(c, "offset", 0, TRAJ_OFFSET_MAX, &offset) ||
	    api_param_time(c, "since", now, &q->since_ns) ||
	    api_param_time(c, "until", now, &q->until_ns) ||
	    api_param_ms(c, "min_ms", &q->min_ns) || api_param_ms(c, "max_ms", &q->max_ns) ||
	    api_param_bool(c, "errors", &q->errors_only))
		return -EINVAL;
	q->limit = (int)limit;
	q->offset = (int)offset;
	if (api_param(c, "before") && store__parse_cursor(api_param(c, "before"), q)) {
		api_error(c, MHD_HTTP_BAD_REQUEST,
			  "before: expected a list's \"next\" (START_NS.ID)");
		return -EINVAL;
	}
	q->application = api_param(c, "application");
	q->request = api_param(c, "request");
	if (q->application && !*q->application)
		q->application = NULL;
	if (q->max_ns && q->max_ns < q->min_ns) {
		api_error(c, MHD_HTTP_BAD_REQUEST, "max_ms is below min_ms");
		return -EINVAL;
	}
	if (q->request && strlen(q->request) >= WEFT_REQUEST_LEN) {
		api_error(c, MHD_HTTP_BAD_REQUEST, "request: longer than %d", WEFT_REQUEST_LEN - 1);
		return -EINVAL;
	}
	return 0;
}

void api_route_trajectories(struct api_call *c)
{
	struct store_traj_query q;
	json_object *doc = NULL;
	struct store *s;
	int err;

	if (traj_query(c, &q))
		return;
	s = api_acquire(c);
	if (!s)
		return;
	err = store__query_trajectories(s, &q, &doc);
	api_release(c, s);
	if (err)
		store_error(c, err, "trajectories");
	else
		api_ok(c, doc);
}

void api_route_trajectory(struct api_call *c)
{
	json_object *doc = NULL;
	struct store *s;
	uint64_t id;
	int err;

	if (parse_id(c->arg, &id)) {
		api_error(c, MHD_HTTP_BAD_REQUEST, "trajectory id: expected hex digits");
		return;
	}
	s = api_acquire(c);
	if (!s)
		return;
	err = store__query_trajectory(s, id, &doc);
	api_release(c, s);
	if (err)
		store_error(c, err, "trajectory");
	else
		api_ok(c, doc);
}

void api_route_sensors(struct api_call *c)
{
	json_object *doc = NULL;
	struct store *s = api_acquire(c);
	int err;

	if (!s)
		return;
	err = store__query_sensors(s, &doc);
	api_release(c, s);
	if (err)
		store_error(c, err, "sensors");
	else
		api_ok(c, doc);
}

void api_route_health(struct api_call *c)
{
	const struct api_hooks *h = api_hooks(c);
	json_object *doc = json_object_new_object();
	struct store *s = api_acquire(c);

	json_object_object_add(doc, "status", json_object_new_string("ok"));
	json_object_object_add(doc, "version", json_object_new_string(WEFT_VERSION));
	json_object_object_add(doc, "store", json_object_new_string(s ? "ok" : "unavailable"));
	if (s)
		api_release(c, s);
	if (h->health)
		h->health(doc, h->ctx);
	api_ok(c, doc); /* replaces a 503 that api_acquire may have set */
}

/* The command of a control body: its first line, without surrounding
 * blanks; or the "command" member of a JSON object. */
static int control_command(const char *body, char *cmd, size_t cap)
{
	json_object *doc = NULL, *v;
	size_t n;
	bool ok;

	while (isspace((unsigned char)*body))
		body++;
	if (*body == '{') {
		doc = json_tokener_parse(body);
		if (!doc || !json_object_object_get_ex(doc, "command", &v) ||
		    !json_object_is_type(v, json_type_string)) {
			json_object_put(doc);
			return -EINVAL;
		}
		n = (size_t)json_object_get_string_len(v);
		ok = n && n < cap && !memchr(json_object_get_string(v), '\n', n);
		if (ok)
			memcpy(cmd, json_object_get_string(v), n + 1);
		json_object_put(doc);
		return ok ? 0 : -EINVAL;
	}
	n = strcspn(body, "\r\n");
	while (n && isspace((unsigned char)body[n - 1]))
		n--;
	if (!n || n >= cap)
		return -EINVAL;
	memcpy(cmd, body, n);
	cmd[n] = '\0';
	return 0;
}

/* An "ok {...}" reply carries a JSON document (a profile): parsed, for the
 * client's convenience; NULL otherwise. */
static json_object *reply_document(const char *reply)
{
	json_object *doc;

	if (strncmp(reply, "ok {", 4))
		return NULL;
	doc = json_tokener_parse(reply + 3);
	if (doc && !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return NULL;
	}
	return doc;
}

void api_route_control(struct api_call *c)
{
	const struct api_hooks *h = api_hooks(c);
	char cmd[COMMAND_LINE_MAX], *reply;
	json_object *doc, *result;
	int err;

	if (!h->control) {
		api_error(c, MHD_HTTP_NOT_IMPLEMENTED, "this server forwards no control commands");
		return;
	}
	if (control_command(c->body, cmd, sizeof(cmd))) {
		api_error(c, MHD_HTTP_BAD_REQUEST, "body: expected one command line");
		return;
	}
	reply = calloc(1, COMMAND_REPLY_MAX);
	if (!reply) {
		api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	err = h->control(c->arg, cmd, reply, COMMAND_REPLY_MAX, h->ctx);
	reply[COMMAND_REPLY_MAX - 1] = '\0';
	if (err == -ENOENT)
		api_error(c, MHD_HTTP_NOT_FOUND, "no connected sensor '%s'", c->arg);
	else if (err == -EINVAL)
		api_error(c, MHD_HTTP_BAD_REQUEST, "%s", *reply ? reply : "command refused");
	else if (err)
		api_error(c, MHD_HTTP_BAD_GATEWAY, "sensor '%s': %s", c->arg,
			  *reply ? reply : strerror(-err));
	if (err) {
		free(reply);
		return;
	}
	doc = json_object_new_object();
	json_object_object_add(doc, "sensor", json_object_new_string(c->arg));
	json_object_object_add(doc, "command", json_object_new_string(cmd));
	json_object_object_add(doc, "reply", json_object_new_string(reply));
	result = reply_document(reply);
	if (result)
		json_object_object_add(doc, "result", result);
	free(reply);
	api_ok(c, doc);
}

/* Prometheus scrapes: the text the server's hook renders from its last
 * published snapshot, never the database. */
void api_route_metrics(struct api_call *c)
{
	const struct api_hooks *h = api_hooks(c);
	size_t len = 0;
	char *text;

	if (!h->metrics) {
		api_error(c, MHD_HTTP_NOT_IMPLEMENTED, "this server keeps no metrics");
		return;
	}
	text = h->metrics(&len, h->ctx);
	if (!text) {
		api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics: out of memory");
		return;
	}
	c->raw = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!c->raw) {
		free(text);
		api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics: out of memory");
		return;
	}
	MHD_add_response_header(c->raw, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(c->raw, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	c->status = MHD_HTTP_OK;
}

/* Trajectory and sensor queries of the SQLite backend, as JSON documents. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/parse.h"
#include "store/store_sqlite.h"

#define TRAJ_TOTAL_CAP	10000			  /* "total" says no more than this */
#define TRAJ_COUNT_SCAN 100000			  /* counting walks no more rows than this */
#define APP_WINDOW_NS	(3600ull * 1000000000ull) /* application membership without since */

/* Protocol names as the API spells them (kept here so that the store does
 * not depend on the analysis code). */
static const char *protocol_name(int proto)
{
	static const char *const names[] = {
	    [WEFT_PROTO_UNKNOWN] = "unknown", [WEFT_PROTO_HTTP] = "http",
	    [WEFT_PROTO_REDIS] = "redis",     [WEFT_PROTO_POSTGRES] = "postgres",
	    [WEFT_PROTO_MYSQL] = "mysql",     [WEFT_PROTO_METHOD] = "method",
	    [WEFT_PROTO_AMQP] = "amqp",
	};

	if (proto < 0 || proto >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[proto];
}

static json_object *text_json(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return json_object_new_string(t ? (const char *)t : "");
}

static json_object *i64_json(sqlite3_stmt *st, int col)
{
	return json_object_new_int64(sqlite3_column_int64(st, col));
}

static json_object *bool_json(sqlite3_stmt *st, int col)
{
	return json_object_new_boolean(sqlite3_column_int(st, col) != 0);
}

static json_object *col_id_json(sqlite3_stmt *st, int col)
{
	return store_id_json(store_id_from_db(sqlite3_column_int64(st, col)));
}

/* ---- trajectory lists ----------------------------------------------------------------------- */

/* Which filters a query uses (STORE_TRAJ_* bits). */
static int traj_variant(const struct store_traj_query *q, const char *app_ids)
{
	return (q->min_ns || q->max_ns ? STORE_TRAJ_DUR : 0) |
	       (q->errors_only ? STORE_TRAJ_ERR : 0) |
	       (q->request && q->request[0] ? STORE_TRAJ_REQ : 0) | (app_ids ? STORE_TRAJ_APP : 0) |
	       (q->before ? STORE_TRAJ_BEFORE : 0);
}

/* The conditions of a filter set, joined by AND ("1" for none), tested on
 * each row as the walk in time order meets it. */
static void traj_conditions(int variant, char *buf, size_t cap)
{
	snprintf(buf, cap, "1%s%s%s%s%s",
		 variant & STORE_TRAJ_DUR ? " AND duration_ns >= ?3 AND duration_ns <= ?4" : "",
		 variant & STORE_TRAJ_ERR ? " AND error" : "",
		 variant & STORE_TRAJ_REQ ? " AND instr(root_request, ?6) > 0" : "",
		 variant & STORE_TRAJ_APP ? " AND root_service IN (SELECT value FROM json_each(?7))"
					  : "",
		 variant & STORE_TRAJ_BEFORE ? " AND (start_ns < ?11 OR id < ?12)" : "");
}

/* The page (ids, newest first, ?8 rows after ?9) or count statement of a
 * filter set, prepared on first use and kept. Counting walks at most ?8
 * rows of the window, newest first, and stops after ?10 matches. */
static sqlite3_stmt *traj_stmt(struct store *s, enum store_traj_kind kind, int variant)
{
	sqlite3_stmt **st = &s->traj[kind][variant];
	char cond[256], sql[768];

	if (*st) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
		return *st;
	}
	traj_conditions(variant, cond, sizeof(cond));
	if (kind == STORE_TRAJ_PAGE)
		snprintf(
		    sql, sizeof(sql),
		    "SELECT id, start_ns FROM trajectories WHERE start_ns >= ?1 AND start_ns <= ?2"
		    " AND %s ORDER BY start_ns DESC, id DESC LIMIT ?8 OFFSET ?9",
		    cond);
	else
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM (SELECT 1 FROM (SELECT (%s) AS m FROM trajectories"
			 " WHERE start_ns >= ?1 AND start_ns <= ?2"
			 " ORDER BY start_ns DESC, id DESC LIMIT ?8) WHERE m LIMIT ?10)",
			 cond);
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		store_fail(s, "preparing a trajectory query");
		return NULL;
	}
	return *st;
}

/* Binds the window and the filters; a parameter the variant lacks is
 * ignored by SQLite (SQLITE_RANGE). */
static void bind_filters(sqlite3_stmt *st, const struct store_traj_query *q, const char *app_ids)
{
	sqlite3_bind_int64(st, 1, (sqlite3_int64)q->since_ns);
	sqlite3_bind_int64(st, 2, q->until_ns ? (sqlite3_int64)q->until_ns : INT64_MAX);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)q->min_ns);
	sqlite3_bind_int64(st, 4, q->max_ns ? (sqlite3_int64)q->max_ns : INT64_MAX);
	sqlite3_bind_text(st, 6, q->request, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, app_ids, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)q->before_start_ns);
	sqlite3_bind_int64(st, 12, store_id_to_db(q->before_id));
}

/* The summary of one trajectory, from its row joined with its root service. */
static json_object *summary_json(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object(), *root = json_object_new_object();

	json_object_object_add(root, "service", col_id_json(st, 3));
	json_object_object_add(root, "host", text_json(st, 11));
	json_object_object_add(root, "exe", text_json(st, 12));
	json_object_object_add(root, "comm", text_json(st, 13));
	json_object_object_add(root, "request", text_json(st, 4));
	json_object_object_add(o, "id", col_id_json(st, 0));
	json_object_object_add(o, "start_ns", i64_json(st, 1));
	json_object_object_add(o, "duration_ns", i64_json(st, 2));
	json_object_object_add(o, "root", root);
	json_object_object_add(o, "spans", i64_json(st, 5));
	json_object_object_add(o, "depth", i64_json(st, 6));
	json_object_object_add(o, "error", bool_json(st, 7));
	json_object_object_add(o, "uncertain", bool_json(st, 8));
	return o;
}

/* Fetches the trajectory row of id; 0 with the statement on its row,
 * -ENOENT, or another -errno. The caller resets the statement. */
static int traj_row(struct store *s, uint64_t id, sqlite3_stmt **out)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_TRAJ_ROW);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_id_to_db(id));
	rc = sqlite3_step(st);
	*out = st;
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : store_fail(s, "reading a trajectory");
}

/* The ids of one page, newest first, into ids (at most q->limit); the last
 * one's start in *last_start. */
static int page_ids(struct store *s, const struct store_traj_query *q, const char *app_ids,
		    uint64_t *ids, int *n, uint64_t *last_start)
{
	sqlite3_stmt *st = traj_stmt(s, STORE_TRAJ_PAGE, traj_variant(q, app_ids));
	int rc;

	if (!st)
		return -EIO;
	bind_filters(st, q, app_ids);
	/* The cursor's start is the walk's upper bound: one seek, and only rows
	 * of that same start are tested against its id. */
	if (q->before && (!q->until_ns || q->before_start_ns < q->until_ns))
		sqlite3_bind_int64(st, 2, (sqlite3_int64)q->before_start_ns);
	sqlite3_bind_int(st, 8, q->limit);
	sqlite3_bind_int(st, 9, q->offset);
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < q->limit) {
		ids[(*n)++] = store_id_from_db(sqlite3_column_int64(st, 0));
		*last_start = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail(s, "paging trajectories");
}

/* The rows of the window, counted up to limit. */
static int count_window(struct store *s, const struct store_traj_query *q, int limit, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_TRAJ_WINDOW);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)q->since_ns);
	sqlite3_bind_int64(st, 2, q->until_ns ? (sqlite3_int64)q->until_ns : INT64_MAX);
	sqlite3_bind_int(st, 3, limit);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, "counting trajectories");
}

/* Matches among the newest TRAJ_COUNT_SCAN rows of the window, up to
 * TRAJ_TOTAL_CAP + 1. *exact when that is the true count: under the cap,
 * and the walk reached the window's end (only in doubt under filters). */
static int count_matches(struct store *s, const struct store_traj_query *q, const char *app_ids,
			 int64_t *total, bool *exact)
{
	/* the total is the window's, wherever the cursor stands */
	int variant = traj_variant(q, app_ids) & ~STORE_TRAJ_BEFORE, rc, err = 0;
	sqlite3_stmt *st = traj_stmt(s, STORE_TRAJ_COUNT, variant);
	int64_t window;

	if (!st)
		return -EIO;
	bind_filters(st, q, app_ids);
	sqlite3_bind_int(st, 8, TRAJ_COUNT_SCAN);
	sqlite3_bind_int(st, 10, TRAJ_TOTAL_CAP + 1);
	rc = sqlite3_step(st);
	*total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, "counting trajectories");
	*exact = *total <= TRAJ_TOTAL_CAP;
	if (*exact && variant) {
		err = count_window(s, q, TRAJ_COUNT_SCAN, &window);
		*exact = window < TRAJ_COUNT_SCAN;
	}
	return err;
}

static int app_filter(struct store *s, const struct store_traj_query *q, char **app_ids)
{
	uint64_t until = q->until_ns ? q->until_ns : wall_ns() + 1;
	uint64_t since = q->since_ns;

	*app_ids = NULL;
	if (!q->application)
		return 0;
	if (!since)
		since = until > APP_WINDOW_NS ? until - APP_WINDOW_NS : 0;
	return store_map_app_services(s, since, until, q->application, app_ids);
}

/* The summaries of the page's ids into list; an id deleted since the page
 * was read is skipped. */
static int page_rows(struct store *s, const uint64_t *ids, int n, json_object *list)
{
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *st;
		int err = traj_row(s, ids[i], &st);

		if (!err)
			json_object_array_add(list, summary_json(st));
		sqlite3_reset(st);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

/* A list's "next": its last row's key, the order it is walked in. */
#define CURSOR_FORMAT "%" PRIu64 ".%016" PRIx64

int store__parse_cursor(const char *next, struct store_traj_query *q)
{
	const char *dot = strchr(next, '.');
	char start[24], *end;
	uint64_t ns, id;
	size_t n = dot ? (size_t)(dot - next) : 0;

	if (!n || n >= sizeof(start) || !dot[1] || strlen(dot + 1) > 16 ||
	    !isxdigit((unsigned char)dot[1]))
		return -EINVAL;
	memcpy(start, next, n);
	start[n] = '\0';
	if (parse_u64(start, &ns, 0, INT64_MAX))
		return -EINVAL;
	errno = 0;
	id = strtoull(dot + 1, &end, 16);
	if (errno || *end)
		return -EINVAL;
	q->before = true;
	q->before_start_ns = ns;
	q->before_id = id;
	return 0;
}

/* The whole list document, read inside one snapshot by the caller. */
static int traj_list(struct store *s, const struct store_traj_query *q, uint64_t *ids,
		     json_object **out)
{
	json_object *doc = NULL, *list;
	char *app_ids = NULL;
	int64_t total = 0;
	bool exact = true;
	int n = 0, err;
	uint64_t last_start = 0;
	char next[48];

	err = app_filter(s, q, &app_ids);
	if (!err)
		err = page_ids(s, q, app_ids, ids, &n, &last_start);
	if (!err)
		err = count_matches(s, q, app_ids, &total, &exact);
	if (err)
		goto cleanup;
	doc = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(doc, "trajectories", list);
	err = page_rows(s, ids, n, list);
	if (err)
		goto cleanup;
	json_object_object_add(
	    doc, "total", json_object_new_int64(total > TRAJ_TOTAL_CAP ? TRAJ_TOTAL_CAP : total));
	/* capped: "total" is a lower bound, not a count */
	json_object_object_add(doc, "total_capped", json_object_new_boolean(!exact));
	json_object_object_add(doc, "limit", json_object_new_int(q->limit));
	json_object_object_add(doc, "offset", json_object_new_int(q->offset));
	/* a full page may have more after it */
	snprintf(next, sizeof(next), CURSOR_FORMAT, last_start, n ? ids[n - 1] : 0);
	json_object_object_add(doc, "next", n == q->limit ? json_object_new_string(next) : NULL);
	*out = doc;
	doc = NULL;
cleanup:
	json_object_put(doc);
	free(app_ids);
	return err;
}

int store__query_trajectories(struct store *s, const struct store_traj_query *q, json_object **out)
{
	json_object *doc = NULL;
	uint64_t *ids;
	int err;

	if (q->limit < 1 || q->limit > 1000 || q->offset < 0)
		return -EINVAL;
	ids = calloc(q->limit, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	err = store_read_begin(s);
	if (!err)
		err = store_read_end(s, traj_list(s, q, ids, &doc));
	if (!err)
		*out = doc;
	else
		json_object_put(doc);
	free(ids);
	return err;
}

/* ---- one trajectory ------------------------------------------------------------------------- */

/* One side of a span from its eight columns at col, or null. */
static json_object *side_json(sqlite3_stmt *st, int col)
{
	json_object *o;

	if (!sqlite3_column_int(st, col))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "host", text_json(st, col + 1));
	json_object_object_add(o, "pid", i64_json(st, col + 2));
	json_object_object_add(o, "tid", i64_json(st, col + 3));
	json_object_object_add(o, "comm", text_json(st, col + 4));
	json_object_object_add(o, "addr", text_json(st, col + 5));
	json_object_object_add(o, "port", i64_json(st, col + 6));
	return o;
}

/* Column positions in `SELECT * FROM spans` (see the schema). */
enum {
	SP_ID = 2,
	SP_PARENT,
	SP_CSVC,
	SP_SSVC,
	SP_START,
	SP_DUR,
	SP_PORT,
	SP_CLIENT,
	SP_SERVER = SP_CLIENT + 9,
	SP_OFFSET = SP_SERVER + 9,
	SP_PROTO,
	SP_REQUEST,
	SP_STATUS,
	SP_ERROR,
	SP_ERROR_TEXT,
	SP_UNCERTAIN,
	SP_REQ_BYTES,
	SP_RESP_BYTES,
	SP_CPROC,
	SP_SPROC,
	SP_LINK,
	SP_INCOMPLETE
};

static json_object *span_json(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();
	bool server = sqlite3_column_int(st, SP_SERVER) != 0;
	int64_t start = sqlite3_column_int64(st, SP_START);
	const char *link;

	json_object_object_add(o, "id", col_id_json(st, SP_ID));
	json_object_object_add(
	    o, "parent", sqlite3_column_int64(st, SP_PARENT) ? col_id_json(st, SP_PARENT) : NULL);
	json_object_object_add(o, "client_service", col_id_json(st, SP_CSVC));
	json_object_object_add(o, "server_service", col_id_json(st, SP_SSVC));
	json_object_object_add(o, "client", side_json(st, SP_CLIENT));
	json_object_object_add(o, "server", side_json(st, SP_SERVER));
	json_object_object_add(o, "start_ns", json_object_new_int64(start));
	json_object_object_add(o, "end_ns",
			       json_object_new_int64(start + sqlite3_column_int64(st, SP_DUR)));
	json_object_object_add(o, "duration_ns", i64_json(st, SP_DUR));
	json_object_object_add(o, "server_start_ns", server ? i64_json(st, SP_SERVER + 7) : NULL);
	json_object_object_add(o, "server_end_ns", server ? i64_json(st, SP_SERVER + 8) : NULL);
	json_object_object_add(o, "display_offset_ns", i64_json(st, SP_OFFSET));
	json_object_object_add(
	    o, "protocol", json_object_new_string(protocol_name(sqlite3_column_int(st, SP_PROTO))));
	json_object_object_add(o, "request", text_json(st, SP_REQUEST));
	json_object_object_add(o, "status", i64_json(st, SP_STATUS));
	json_object_object_add(o, "error", bool_json(st, SP_ERROR));
	json_object_object_add(o, "error_text", text_json(st, SP_ERROR_TEXT));
	json_object_object_add(o, "uncertain", bool_json(st, SP_UNCERTAIN));
	json_object_object_add(o, "incomplete", bool_json(st, SP_INCOMPLETE));
	link = weft_link_name((uint8_t)sqlite3_column_int(st, SP_LINK));
	json_object_object_add(o, "link", link ? json_object_new_string(link) : NULL);
	json_object_object_add(o, "request_bytes", i64_json(st, SP_REQ_BYTES));
	json_object_object_add(o, "response_bytes", i64_json(st, SP_RESP_BYTES));
	return o;
}

static int spans_json(struct store *s, uint64_t id, json_object *arr)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_TRAJ_SPANS);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_id_to_db(id));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_array_add(arr, span_json(st));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "reading spans");
}

static int traj_doc(struct store *s, uint64_t id, json_object **out);

int store__query_trajectory(struct store *s, uint64_t id, json_object **out)
{
	int err = store_read_begin(s);

	return err ? err : store_read_end(s, traj_doc(s, id, out));
}

/* The row and the spans of one trajectory, read inside the caller's snapshot. */
static int traj_doc(struct store *s, uint64_t id, json_object **out)
{
	json_object *doc = NULL, *spans;
	sqlite3_stmt *st;
	int err;

	err = traj_row(s, id, &st);
	if (err) {
		sqlite3_reset(st);
		return err;
	}
	doc = summary_json(st);
	json_object_object_add(doc, "slowest_span",
			       sqlite3_column_int64(st, 9) ? col_id_json(st, 9) : NULL);
	json_object_object_add(doc, "slowest_hop",
			       sqlite3_column_int64(st, 10) ? col_id_json(st, 10) : NULL);
	sqlite3_reset(st);
	/* "spans" holds the count in lists and the spans themselves here */
	spans = json_object_new_array();
	json_object_object_add(doc, "spans", spans);
	err = spans_json(s, id, spans);
	if (err) {
		json_object_put(doc);
		return err;
	}
	*out = doc;
	return 0;
}

/* ---- sensors -------------------------------------------------------------------------------- */

static json_object *sensor_json(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", text_json(st, 0));
	json_object_object_add(o, "host", text_json(st, 1));
	json_object_object_add(o, "last_seen_ns", i64_json(st, 2));
	json_object_object_add(o, "events", i64_json(st, 3));
	json_object_object_add(o, "drops", i64_json(st, 4));
	json_object_object_add(o, "spool_drops", i64_json(st, 5));
	json_object_object_add(o, "lag_ns", i64_json(st, 6));
	json_object_object_add(o, "mode", text_json(st, 7));
	json_object_object_add(o, "connected", bool_json(st, 8));
	return o;
}

int store__query_sensors(struct store *s, json_object **out)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_SENSORS);
	json_object *doc, *list;
	int rc;

	if (!st)
		return -EIO;
	doc = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(doc, "sensors", list);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_array_add(list, sensor_json(st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_object_put(doc);
		return store_fail(s, "reading sensors");
	}
	*out = doc;
	return 0;
}

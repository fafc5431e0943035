/* The SQLite backend: connections, the statement cache, transactions and
 * every write. Queries that build JSON live in store_query.c and
 * store_map.c; the schema in store_schema.c. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/str.h"
#include "store/store_sqlite.h"

#define BUSY_TIMEOUT_MS 5000

/* The map's statements leave out method calls (protocol 5): they are spans
 * inside one process, not traffic between services. */
_Static_assert(WEFT_PROTO_METHOD == 5, "the map's SQL names the method protocol by number");

static const char *const stmt_sql[STORE_ST_COUNT] = {
    [STORE_ST_BEGIN] = "BEGIN IMMEDIATE",
    [STORE_ST_COMMIT] = "COMMIT",
    [STORE_ST_ROLLBACK] = "ROLLBACK",
    [STORE_ST_SAVEPOINT] = "SAVEPOINT weft_put",
    [STORE_ST_RELEASE] = "RELEASE weft_put",
    [STORE_ST_ROLLBACK_TO] = "ROLLBACK TO weft_put",
    [STORE_ST_READ_BEGIN] = "SAVEPOINT weft_read",
    [STORE_ST_READ_END] = "RELEASE weft_read",
    [STORE_ST_LAST_BATCH] = "SELECT seq FROM batch_seq WHERE sensor = ?1",
    [STORE_ST_JOURNAL_INSERT] = "INSERT OR IGNORE INTO journal (sensor, seq, received_ns, data)"
				" VALUES (?1, ?2, ?3, ?4)",
    [STORE_ST_BATCH_SEQ] = "INSERT INTO batch_seq VALUES (?1, ?2) ON CONFLICT (sensor)"
			   " DO UPDATE SET seq = max(seq, excluded.seq)",
    [STORE_ST_REPLAY] = "SELECT sensor, seq, data FROM journal WHERE received_ns >= ?1"
			" ORDER BY id",
    [STORE_ST_PUT_SENSOR] = "INSERT OR REPLACE INTO sensors VALUES"
			    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [STORE_ST_PUT_PROCESS] = "INSERT INTO processes VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
			     " ON CONFLICT (host, pid) DO UPDATE SET comm = excluded.comm,"
			     " exe = excluded.exe,"
			     " last_seen_ns = max(last_seen_ns, excluded.last_seen_ns)",
    [STORE_ST_PUT_SERVICE] = "INSERT INTO services VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
			     " ON CONFLICT (id) DO UPDATE SET comm = excluded.comm,"
			     " last_seen_ns = max(last_seen_ns, excluded.last_seen_ns)",
    [STORE_ST_DEL_SPANS] = "DELETE FROM spans WHERE (start_ns, trajectory, ord) IN"
			   " (SELECT j.value, t.id, j.key FROM trajectories t,"
			   " json_each(t.span_starts) j WHERE t.id = ?1)",
    [STORE_ST_DEL_TRAJ] = "DELETE FROM trajectories WHERE id = ?1",
    [STORE_ST_PUT_TRAJ] = "INSERT OR REPLACE INTO trajectories VALUES"
			  " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [STORE_ST_PUT_SPAN] = "INSERT OR REPLACE INTO spans VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
			  " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
			  " ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27,"
			  " ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40)",
    [STORE_ST_PRUNE_SPANS] = "DELETE FROM spans WHERE (start_ns, trajectory, ord) IN"
			     " (SELECT j.value, t.id, j.key FROM trajectories t,"
			     " json_each(t.span_starts) j WHERE t.start_ns < ?1)",
    [STORE_ST_PRUNE_TRAJ] = "DELETE FROM trajectories WHERE start_ns < ?1",
    [STORE_ST_PRUNE_PROCS] = "DELETE FROM processes WHERE last_seen_ns < ?1",
    [STORE_ST_PRUNE_SVCS] = "DELETE FROM services WHERE last_seen_ns < ?1",
    [STORE_ST_PRUNE_JOURNAL] = "DELETE FROM journal WHERE received_ns < ?1",
    [STORE_ST_MAP_EDGES] = "SELECT client_service, server_service, port, duration_ns, error,"
			   " request_bytes + response_bytes, c_proc, s_proc FROM spans"
			   " WHERE start_ns >= ?1 AND start_ns < ?2 AND protocol <> 5",
    [STORE_ST_SVC_PORT] = "SELECT port FROM services WHERE id = ?1",
    [STORE_ST_MAP_PAIRS] = "SELECT DISTINCT client_service, server_service FROM spans"
			   " WHERE start_ns >= ?1 AND start_ns < ?2 AND protocol <> 5",
    [STORE_ST_MAP_SERVICE] = "SELECT host, exe, comm, port, external, addr FROM services"
			     " WHERE id = ?1",
    [STORE_ST_TRAJ_WINDOW] = "SELECT count(*) FROM (SELECT 1 FROM trajectories"
			     " WHERE start_ns >= ?1 AND start_ns <= ?2 LIMIT ?3)",
    [STORE_ST_TRAJ_ROW] = "SELECT t.id, t.start_ns, t.duration_ns, t.root_service,"
			  " t.root_request, t.nspans, t.depth, t.error, t.uncertain,"
			  " t.slowest_span, t.slowest_hop, sv.host, sv.exe, sv.comm"
			  " FROM trajectories t LEFT JOIN services sv ON sv.id = t.root_service"
			  " WHERE t.id = ?1",
    [STORE_ST_TRAJ_SPANS] = "SELECT s.* FROM trajectories t, json_each(t.span_starts) j"
			    " JOIN spans s ON s.start_ns = j.value AND s.trajectory = t.id"
			    " AND s.ord = j.key WHERE t.id = ?1 ORDER BY s.ord",
    [STORE_ST_SENSORS] = "SELECT id, host, last_seen_ns, events, drops, spool_drops, lag_ns,"
			 " mode, connected FROM sensors ORDER BY id",
};

int store_fail(struct store *s, const char *what)
{
	int rc = sqlite3_errcode(s->db);

	log_error("store: %s: %s", what, sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
		return -EINVAL;
	default:
		return -EIO;
	}
}

sqlite3_stmt *store_stmt(struct store *s, enum store_stmt which)
{
	sqlite3_stmt *st = s->stmt[which];

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (!stmt_sql[which]) { /* a statement added to the enum but not to the table */
		log_error("store: statement %d has no SQL", which);
		return NULL;
	}
	if (sqlite3_prepare_v3(s->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		store_fail(s, "preparing a statement");
		return NULL;
	}
	s->stmt[which] = st;
	return st;
}

/* Runs a statement that returns no rows (bindings done); 0 or -errno. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return store_fail(s, what);
}

static int exec_pragma(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	log_error("store: %s: %s", sql, msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -EIO;
}

/* Before SQLite's first use: no global memory statistics, whose mutex
 * every allocation of every connection would take. */
static void configure_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens the connection with the settings both kinds of handle share. */
static struct store *open_conn(const char *path, int flags)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	pthread_once(&once, configure_sqlite);
	if (!s)
		goto fail;
	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err = s->db ? store_fail(s, path) : -ENOMEM;
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	return s;
fail:
	store__close(s);
	errno = -err;
	return NULL;
}

struct store *store__open(const char *path, const struct store_opts *opts)
{
	struct store *s = open_conn(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int err;

	if (!s)
		return NULL;
	if (opts)
		s->opts = *opts;
	/* the WAL file shrinks back to 64 MiB after a checkpoint that emptied it */
	err = store_sql_functions(s->db);
	if (!err)
		err = exec_pragma(s, "PRAGMA journal_mode = WAL");
	if (!err)
		err = exec_pragma(s, "PRAGMA journal_size_limit = 67108864");
	if (!err)
		err = exec_pragma(s, s->opts.sync_full ? "PRAGMA synchronous = FULL"
						       : "PRAGMA synchronous = NORMAL");
	/* The writer's transactions are large: keep their pages in memory
	 * instead of spilling them to the WAL mid-transaction, and checkpoint
	 * in bigger steps. */
	if (!err)
		err = exec_pragma(s, "PRAGMA cache_size = -131072");
	if (!err)
		err = exec_pragma(s, "PRAGMA wal_autocheckpoint = 16384");
	/* Each put is a savepoint inside the writer's transaction, and a
	 * savepoint's statement journal is a temporary file: in memory, it
	 * stops costing a write per page a trajectory touches. */
	if (!err)
		err = exec_pragma(s, "PRAGMA temp_store = MEMORY");
	if (!err)
		err = store_schema_migrate(s);
	if (err) {
		store__close(s);
		errno = -err;
		return NULL;
	}
	return s;
}

/* Readers open read-write but refuse every write (query_only): a strictly
 * read-only connection cannot create the WAL index when the writer is not
 * running, and must never migrate. */
struct store *store__open_reader(const char *path)
{
	struct store *s = open_conn(path, SQLITE_OPEN_READWRITE);
	int err;

	if (!s)
		return NULL;
	s->reader = true;
	err = exec_pragma(s, "PRAGMA query_only = 1");
	if (!err)
		err = store_schema_check(s);
	if (err) {
		store__close(s);
		errno = -err;
		return NULL;
	}
	return s;
}

void store__close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < STORE_ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	for (int k = 0; k < STORE_TRAJ_KINDS; k++)
		for (int v = 0; v < STORE_TRAJ_VARIANTS; v++)
			sqlite3_finalize(s->traj[k][v]);
	free(s->starts);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_error("store: close: %s", sqlite3_errmsg(s->db));
	free(s);
}

static int run_simple(struct store *s, enum store_stmt which, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, which);

	return st ? step_done(s, st, what) : -EIO;
}

int store__begin(struct store *s)
{
	return run_simple(s, STORE_ST_BEGIN, "begin");
}

int store__commit(struct store *s)
{
	return run_simple(s, STORE_ST_COMMIT, "commit");
}

int store__rollback(struct store *s)
{
	return run_simple(s, STORE_ST_ROLLBACK, "rollback");
}

int store_read_begin(struct store *s)
{
	return run_simple(s, STORE_ST_READ_BEGIN, "starting a read");
}

int store_read_end(struct store *s, int err)
{
	int end = run_simple(s, STORE_ST_READ_END, "ending a read");

	return err ? err : end;
}

/* ---- ingest ------------------------------------------------------------------------------ */

int store__last_batch(struct store *s, const char *sensor, uint64_t *seq)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_LAST_BATCH);
	int rc;

	if (!st)
		return -EIO;
	*seq = 0;
	sqlite3_bind_text(st, 1, sensor, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = store_id_from_db(sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, "last batch");
}

int store__journal_batch(struct store *s, const char *sensor, uint64_t seq, uint64_t now_ns,
			 const void *data, size_t len)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_JOURNAL_INSERT);
	int err;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, sensor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_id_to_db(seq));
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now_ns);
	sqlite3_bind_blob64(st, 4, len ? data : "", len, SQLITE_STATIC);
	err = step_done(s, st, "journaling a batch");
	if (err)
		return err;
	if (sqlite3_changes(s->db) == 0)
		return 1; /* (sensor, seq) already there */
	st = store_stmt(s, STORE_ST_BATCH_SEQ);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, sensor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_id_to_db(seq));
	return step_done(s, st, "recording a batch's sequence number");
}

int store__replay(struct store *s, uint64_t since_ns,
		  int (*fn)(const char *sensor, uint64_t seq, const void *data, size_t len,
			    void *ctx),
		  void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_REPLAY);
	int rc, err = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since_ns);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *data = sqlite3_column_blob(st, 2);
		size_t len = sqlite3_column_bytes(st, 2);

		err = fn((const char *)sqlite3_column_text(st, 0),
			 store_id_from_db(sqlite3_column_int64(st, 1)), data, len, ctx);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = store_fail(s, "replaying the journal");
	sqlite3_reset(st);
	return err;
}

int store__put_sensor(struct store *s, const struct store_sensor_status *ss)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_PUT_SENSOR);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, ss->sensor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ss->host ? ss->host : ss->sensor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ss->last_seen_ns);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)ss->events);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)ss->drops);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)ss->spool_drops);
	sqlite3_bind_int64(st, 7, ss->lag_ns);
	sqlite3_bind_text(st, 8, ss->mode ? ss->mode : "messages", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, ss->connected);
	return step_done(s, st, "storing a sensor's status");
}

int store__put_process(struct store *s, const char *host, uint32_t pid, const char *comm,
		       const char *exe, uint64_t seen_ns)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_PUT_PROCESS);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_text(st, 3, comm ? comm : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, exe ? exe : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)seen_ns);
	return step_done(s, st, "storing a process");
}

int store__put_service(struct store *s, const struct weft_service *svc, uint64_t seen_ns)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_PUT_SERVICE);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_id_to_db(svc->id));
	sqlite3_bind_text(st, 2, svc->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, svc->exe, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, svc->comm, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, svc->port);
	sqlite3_bind_int(st, 6, svc->external);
	sqlite3_bind_text(st, 7, svc->addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)seen_ns);
	return step_done(s, st, "storing a service");
}

/* Binds one side's eight columns from column `col` on. */
static void bind_side(sqlite3_stmt *st, int col, const struct weft_side *d)
{
	sqlite3_bind_int(st, col, d->observed);
	if (!d->observed)
		return; /* the rest stay NULL */
	sqlite3_bind_text(st, col + 1, d->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, col + 2, d->pid);
	sqlite3_bind_int64(st, col + 3, d->tid);
	sqlite3_bind_text(st, col + 4, d->comm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, col + 5, d->addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, col + 6, d->port);
	sqlite3_bind_int64(st, col + 7, (sqlite3_int64)d->start_ns);
	sqlite3_bind_int64(st, col + 8, (sqlite3_int64)d->end_ns);
}

/* The side whose clock times the span: the client when it was observed. */
static const struct weft_side *timing_side(const struct weft_span *sp)
{
	return sp->client.observed || !sp->server.observed ? &sp->client : &sp->server;
}

int64_t store_proc_key(const char *host, uint32_t pid)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = host ? host : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	h = (h ^ pid) * 0x100000001b3ull;
	return (int64_t)(h ? h : 1);
}

/* weft_proc_key(host, pid) for SQL: what migrations backfill with. */
static void sql_proc_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_result_int64(ctx, store_proc_key((const char *)sqlite3_value_text(argv[0]),
						 (uint32_t)sqlite3_value_int64(argv[1])));
}

int store_sql_functions(sqlite3 *db)
{
	return sqlite3_create_function(db, "weft_proc_key", 2,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				       sql_proc_key, NULL, NULL) == SQLITE_OK
		   ? 0
		   : -ENOMEM;
}

/* The process of a side as one integer for the map; 0 when unobserved. */
static sqlite3_int64 proc_key(const struct weft_side *d)
{
	return d->observed ? store_proc_key(d->host, d->pid) : 0;
}

/* The port a span's edge is on: the server's own when a sensor saw it, else
 * the listening port of the server's service, if stored. */
static int edge_port(struct store *s, const struct weft_span *sp)
{
	sqlite3_stmt *st;
	int port = 0;

	if (sp->server.observed)
		return sp->server.port;
	st = store_stmt(s, STORE_ST_SVC_PORT);
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, store_id_to_db(sp->server_service));
	if (sqlite3_step(st) == SQLITE_ROW)
		port = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return port;
}

static int put_span(struct store *s, uint64_t traj, int ord, const struct weft_span *sp)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_PUT_SPAN);
	const struct weft_side *t = timing_side(sp);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_id_to_db(traj));
	sqlite3_bind_int(st, 2, ord);
	sqlite3_bind_int64(st, 3, store_id_to_db(sp->id));
	sqlite3_bind_int64(st, 4, store_id_to_db(sp->parent));
	sqlite3_bind_int64(st, 5, store_id_to_db(sp->client_service));
	sqlite3_bind_int64(st, 6, store_id_to_db(sp->server_service));
	sqlite3_bind_int64(st, 7, (sqlite3_int64)t->start_ns);
	sqlite3_bind_int64(st, 8,
			   t->end_ns > t->start_ns ? (sqlite3_int64)(t->end_ns - t->start_ns) : 0);
	sqlite3_bind_int(st, 9, edge_port(s, sp));
	bind_side(st, 10, &sp->client);
	bind_side(st, 19, &sp->server);
	sqlite3_bind_int64(st, 28, sp->display_offset_ns);
	sqlite3_bind_int(st, 29, sp->protocol);
	sqlite3_bind_text(st, 30, sp->request, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 31, sp->status);
	sqlite3_bind_int(st, 32, sp->error);
	sqlite3_bind_text(st, 33, sp->error_text, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 34, sp->uncertain);
	sqlite3_bind_int64(st, 35, (sqlite3_int64)sp->request_bytes);
	sqlite3_bind_int64(st, 36, (sqlite3_int64)sp->response_bytes);
	sqlite3_bind_int64(st, 37, proc_key(&sp->client));
	sqlite3_bind_int64(st, 38, proc_key(&sp->server));
	sqlite3_bind_int(st, 39, sp->link);
	sqlite3_bind_int(st, 40, sp->incomplete);
	return step_done(s, st, "storing a span");
}

/* The root span's request, for filtering without reading the spans. */
static const char *root_request(const struct weft_trajectory *t)
{
	for (int i = 0; i < t->nspans; i++)
		if (t->spans[i].id == t->id)
			return t->spans[i].request;
	return t->nspans > 0 ? t->spans[0].request : "";
}

/* The spans' start times as a JSON array in span order: the first column of
 * each span's key, by which the trajectory finds them. NULL when out of
 * memory. */
static const char *span_starts(struct store *s, const struct weft_trajectory *t)
{
	size_t need = 3 + (size_t)t->nspans * 21, n = 0;
	char *b = s->starts;

	if (need > s->starts_cap) {
		b = realloc(s->starts, need);
		if (!b)
			return NULL;
		s->starts = b;
		s->starts_cap = need;
	}
	b[n++] = '[';
	for (int i = 0; i < t->nspans; i++) {
		if (i)
			b[n++] = ',';
		n = (size_t)(str_put_i64(b + n, (int64_t)timing_side(&t->spans[i])->start_ns) - b);
	}
	b[n++] = ']';
	b[n] = '\0';
	return b;
}

static int put_traj_row(struct store *s, const struct weft_trajectory *t)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_PUT_TRAJ);
	const char *starts = span_starts(s, t);

	if (!st)
		return -EIO;
	if (!starts)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, store_id_to_db(t->id));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)t->start_ns);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)t->duration_ns);
	sqlite3_bind_int64(st, 4, store_id_to_db(t->root_service));
	sqlite3_bind_text(st, 5, root_request(t), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, t->nspans);
	sqlite3_bind_int(st, 7, t->depth);
	sqlite3_bind_int(st, 8, t->error);
	sqlite3_bind_int(st, 9, t->uncertain);
	sqlite3_bind_int64(st, 10, store_id_to_db(t->slowest_span));
	sqlite3_bind_int64(st, 11, store_id_to_db(t->slowest_hop));
	sqlite3_bind_text(st, 12, starts, -1, SQLITE_STATIC);
	return step_done(s, st, "storing a trajectory");
}

/* Deletes a trajectory's row and spans (inside the caller's savepoint). */
static int delete_traj(struct store *s, uint64_t id)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_DEL_SPANS);
	int err;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_id_to_db(id));
	err = step_done(s, st, "deleting spans");
	if (err)
		return err;
	st = store_stmt(s, STORE_ST_DEL_TRAJ);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, store_id_to_db(id));
	return step_done(s, st, "deleting a trajectory");
}

/* Savepoints make a call atomic when no transaction is open. */
static int savepoint_end(struct store *s, int err)
{
	if (err) {
		run_simple(s, STORE_ST_ROLLBACK_TO, "rolling back to a savepoint");
		run_simple(s, STORE_ST_RELEASE, "releasing a savepoint");
		return err;
	}
	return run_simple(s, STORE_ST_RELEASE, "releasing a savepoint");
}

static int put_traj(struct store *s, const struct weft_trajectory *t)
{
	int err = 0;

	/* A revision may have fewer spans than what it replaces. A first
	 * emission replaces only what an earlier run of the server stored
	 * (replaying its journal), which is the same tree again. */
	if (t->revised)
		err = delete_traj(s, t->id);
	if (!err)
		err = put_traj_row(s, t);
	for (int i = 0; !err && i < t->nspans; i++)
		err = put_span(s, t->id, i, &t->spans[i]);
	return err;
}

int store__put_trajectory(struct store *s, const struct weft_trajectory *t)
{
	int err;

	/* Inside the caller's transaction (the server's batches) a savepoint per
	 * trajectory cost about a sixth of the store's time: a failure instead
	 * takes back what was written of this trajectory by hand. */
	if (!sqlite3_get_autocommit(s->db)) {
		err = put_traj(s, t);
		if (err)
			delete_traj(s, t->id);
		return err;
	}
	err = run_simple(s, STORE_ST_SAVEPOINT, "savepoint");
	if (err)
		return err;
	return savepoint_end(s, put_traj(s, t));
}

int store__delete_trajectory(struct store *s, uint64_t id)
{
	int err = run_simple(s, STORE_ST_SAVEPOINT, "savepoint");

	if (err)
		return err;
	return savepoint_end(s, delete_traj(s, id));
}

static int prune_one(struct store *s, enum store_stmt which, uint64_t before_ns)
{
	sqlite3_stmt *st = store_stmt(s, which);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before_ns);
	return step_done(s, st, "pruning");
}

int store__prune(struct store *s, uint64_t older_than_ns, uint64_t journal_before_ns)
{
	static const enum store_stmt derived[] = {STORE_ST_PRUNE_SPANS, STORE_ST_PRUNE_TRAJ,
						  STORE_ST_PRUNE_PROCS, STORE_ST_PRUNE_SVCS};
	int err = run_simple(s, STORE_ST_SAVEPOINT, "savepoint");

	if (err)
		return err;
	for (size_t i = 0; !err && i < sizeof(derived) / sizeof(derived[0]); i++)
		err = prune_one(s, derived[i], older_than_ns);
	if (!err && !s->opts.keep_events)
		err = prune_one(s, STORE_ST_PRUNE_JOURNAL, journal_before_ns);
	return savepoint_end(s, err);
}

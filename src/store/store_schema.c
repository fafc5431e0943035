/* The SQLite schema and its migrations. Each migration is one step from
 * version N-1 to N, run in its own transaction; the meta table records the
 * version reached. To change the schema, append a step: never edit one that
 * has shipped. */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "store/store_sqlite.h"

/* Version 1: sensors, the batch journal, processes, services, trajectories
 * and spans, with the indexes the API's queries walk. */
static const char schema_v1[] =
    "CREATE TABLE sensors ("
    "  id TEXT PRIMARY KEY, host TEXT NOT NULL, last_seen_ns INTEGER NOT NULL,"
    "  events INTEGER NOT NULL, drops INTEGER NOT NULL, spool_drops INTEGER NOT NULL,"
    "  lag_ns INTEGER NOT NULL, mode TEXT NOT NULL, connected INTEGER NOT NULL);"
    /* the highest batch seq per sensor survives pruning of the journal */
    "CREATE TABLE batch_seq (sensor TEXT PRIMARY KEY, seq INTEGER NOT NULL);"
    /* rowid order is arrival order */
    "CREATE TABLE journal ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, sensor TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  received_ns INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE (sensor, seq));"
    "CREATE INDEX journal_received ON journal (received_ns);"
    "CREATE TABLE processes ("
    "  host TEXT NOT NULL, pid INTEGER NOT NULL, comm TEXT NOT NULL, exe TEXT NOT NULL,"
    "  first_seen_ns INTEGER NOT NULL, last_seen_ns INTEGER NOT NULL,"
    "  PRIMARY KEY (host, pid));"
    "CREATE INDEX processes_seen ON processes (last_seen_ns);"
    "CREATE TABLE services ("
    "  id INTEGER PRIMARY KEY, host TEXT NOT NULL, exe TEXT NOT NULL, comm TEXT NOT NULL,"
    "  port INTEGER NOT NULL, external INTEGER NOT NULL, addr TEXT NOT NULL,"
    "  first_seen_ns INTEGER NOT NULL, last_seen_ns INTEGER NOT NULL);"
    "CREATE INDEX services_seen ON services (last_seen_ns);"
    "CREATE TABLE trajectories ("
    "  id INTEGER PRIMARY KEY, start_ns INTEGER NOT NULL, duration_ns INTEGER NOT NULL,"
    "  root_service INTEGER NOT NULL, root_request TEXT NOT NULL, nspans INTEGER NOT NULL,"
    "  depth INTEGER NOT NULL, error INTEGER NOT NULL, uncertain INTEGER NOT NULL,"
    "  slowest_span INTEGER NOT NULL, slowest_hop INTEGER NOT NULL);"
    /* newest-first paging; the filtered columns ride along so that walking
     * and skipping rows never leaves the index */
    "CREATE INDEX traj_newest ON trajectories (start_ns, id, duration_ns, error, root_service);"
    "CREATE TABLE spans ("
    "  trajectory INTEGER NOT NULL, ord INTEGER NOT NULL, id INTEGER NOT NULL,"
    "  parent INTEGER NOT NULL, client_service INTEGER NOT NULL,"
    "  server_service INTEGER NOT NULL,"
    "  start_ns INTEGER NOT NULL,"    /* client's start, else the server's */
    "  duration_ns INTEGER NOT NULL," /* client-observed, else the server's */
    "  port INTEGER NOT NULL,"	      /* server's port when observed, else 0 */
    "  c_observed INTEGER NOT NULL, c_host TEXT, c_pid INTEGER, c_tid INTEGER, c_comm TEXT,"
    "  c_addr TEXT, c_port INTEGER, c_start_ns INTEGER, c_end_ns INTEGER,"
    "  s_observed INTEGER NOT NULL, s_host TEXT, s_pid INTEGER, s_tid INTEGER, s_comm TEXT,"
    "  s_addr TEXT, s_port INTEGER, s_start_ns INTEGER, s_end_ns INTEGER,"
    "  display_offset_ns INTEGER NOT NULL, protocol INTEGER NOT NULL, request TEXT NOT NULL,"
    "  status INTEGER NOT NULL, error INTEGER NOT NULL, error_text TEXT NOT NULL,"
    "  uncertain INTEGER NOT NULL, request_bytes INTEGER NOT NULL,"
    "  response_bytes INTEGER NOT NULL, PRIMARY KEY (trajectory, ord)) WITHOUT ROWID;"
    /* the map's window scan, covering */
    "CREATE INDEX spans_window ON spans (start_ns, client_service, server_service, port,"
    "  duration_ns, error, request_bytes, response_bytes);";

/* Version 2: each side's process as one integer (weft_proc_key(host, pid),
 * 0 when unobserved) in the map's covering index, so that instances are
 * counted without reading rows; and the port of an unobserved server taken
 * from its service, so that the map needs no join. */
static const char schema_v2[] =
    "ALTER TABLE spans ADD COLUMN c_proc INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE spans ADD COLUMN s_proc INTEGER NOT NULL DEFAULT 0;"
    "UPDATE spans SET c_proc = weft_proc_key(c_host, c_pid) WHERE c_observed;"
    "UPDATE spans SET s_proc = weft_proc_key(s_host, s_pid) WHERE s_observed;"
    "UPDATE spans SET port = coalesce((SELECT sv.port FROM services sv"
    "  WHERE sv.id = spans.server_service), 0) WHERE port = 0;"
    "DROP INDEX spans_window;"
    "CREATE INDEX spans_window ON spans (start_ns, client_service, server_service, port,"
    "  duration_ns, error, request_bytes, response_bytes, c_proc, s_proc);";

struct migration {
	int version;	 /* the version this step reaches */
	const char *sql; /* statements run in one transaction */
};

/* Version 3: trajectories and spans clustered by time. Both were keyed by
 * their ids, which are hashes, so every insert landed on a random page of a
 * wide table and each commit rewrote much of it into the WAL; two covering
 * indexes were written besides. Keyed by (start_ns, ...), rows append and a
 * time window (the map's, paging's) is a range of the table itself. A
 * trajectory finds its spans by their keys, whose start times it lists in
 * span_starts (a JSON array in span order), so spans need no index of
 * their own; only the narrow trajectory id index takes random inserts.
 * About twice the events a second into SQLite (bench/README.md). */
static const char schema_v3[] =
    "CREATE TABLE trajectories_v3 ("
    "  id INTEGER NOT NULL, start_ns INTEGER NOT NULL, duration_ns INTEGER NOT NULL,"
    "  root_service INTEGER NOT NULL, root_request TEXT NOT NULL, nspans INTEGER NOT NULL,"
    "  depth INTEGER NOT NULL, error INTEGER NOT NULL, uncertain INTEGER NOT NULL,"
    "  slowest_span INTEGER NOT NULL, slowest_hop INTEGER NOT NULL,"
    "  span_starts TEXT NOT NULL, PRIMARY KEY (start_ns, id)) WITHOUT ROWID;"
    "INSERT INTO trajectories_v3 SELECT t.*, (SELECT json_group_array(s.start_ns) FROM"
    "  (SELECT start_ns FROM spans WHERE trajectory = t.id ORDER BY ord) s)"
    "  FROM trajectories t;"
    "DROP TABLE trajectories;"
    "ALTER TABLE trajectories_v3 RENAME TO trajectories;"
    "CREATE UNIQUE INDEX traj_id ON trajectories (id);"
    "CREATE TABLE spans_v3 ("
    "  trajectory INTEGER NOT NULL, ord INTEGER NOT NULL, id INTEGER NOT NULL,"
    "  parent INTEGER NOT NULL, client_service INTEGER NOT NULL,"
    "  server_service INTEGER NOT NULL, start_ns INTEGER NOT NULL,"
    "  duration_ns INTEGER NOT NULL, port INTEGER NOT NULL,"
    "  c_observed INTEGER NOT NULL, c_host TEXT, c_pid INTEGER, c_tid INTEGER, c_comm TEXT,"
    "  c_addr TEXT, c_port INTEGER, c_start_ns INTEGER, c_end_ns INTEGER,"
    "  s_observed INTEGER NOT NULL, s_host TEXT, s_pid INTEGER, s_tid INTEGER, s_comm TEXT,"
    "  s_addr TEXT, s_port INTEGER, s_start_ns INTEGER, s_end_ns INTEGER,"
    "  display_offset_ns INTEGER NOT NULL, protocol INTEGER NOT NULL, request TEXT NOT NULL,"
    "  status INTEGER NOT NULL, error INTEGER NOT NULL, error_text TEXT NOT NULL,"
    "  uncertain INTEGER NOT NULL, request_bytes INTEGER NOT NULL,"
    "  response_bytes INTEGER NOT NULL, c_proc INTEGER NOT NULL DEFAULT 0,"
    "  s_proc INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (start_ns, trajectory, ord)) WITHOUT ROWID;"
    "INSERT INTO spans_v3 SELECT * FROM spans;"
    "DROP TABLE spans;"
    "ALTER TABLE spans_v3 RENAME TO spans;";

/* Version 4: how each span's parent was decided (enum weft_link), and
 * whether a request that may be its child went elsewhere. */
static const char schema_v4[] =
    "ALTER TABLE spans ADD COLUMN link INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE spans ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0;";

/* The next version appends {5, schema_v5} here. */
static const struct migration migrations[] = {
    {1, schema_v1},
    {2, schema_v2},
    {3, schema_v3},
    {4, schema_v4},
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The schema version recorded in meta; 0 for an empty database. */
static int schema_version(struct store *s, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	*version = 0;
	rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
				&st, NULL);
	if (rc != SQLITE_OK) {
		/* no meta table yet: a new database */
		sqlite3_finalize(st);
		return 0;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		err = store_fail(s, "reading the schema version");
	sqlite3_finalize(st);
	return err;
}

static int exec(struct store *s, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	log_error("store: %s: %s", what, msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -EIO;
}

/* One step: its statements and the new version, atomically. */
static int migrate_step(struct store *s, const struct migration *m)
{
	char *bump = NULL;
	int err;

	err = exec(s, "BEGIN IMMEDIATE", "starting a migration");
	if (err)
		return err;
	bump = sqlite3_mprintf("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);"
			       "INSERT OR REPLACE INTO meta VALUES ('schema_version', %d);",
			       m->version);
	if (!bump) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = exec(s, m->sql, "migrating the schema");
	if (!err)
		err = exec(s, bump, "recording the schema version");
	if (!err)
		err = exec(s, "COMMIT", "committing a migration");
cleanup:
	if (err)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_free(bump);
	return err;
}

int store_schema_migrate(struct store *s)
{
	return store_schema_migrate_to(s, STORE_SCHEMA_VERSION);
}

int store_schema_migrate_to(struct store *s, int target)
{
	int version, err;

	err = schema_version(s, &version);
	if (err)
		return err;
	if (version > STORE_SCHEMA_VERSION) {
		log_error("store: database schema version %d is newer than this weft's (%d)",
			  version, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	for (int i = 0; i < NMIGRATIONS; i++) {
		if (migrations[i].version <= version || migrations[i].version > target)
			continue;
		err = migrate_step(s, &migrations[i]);
		if (err)
			return err;
		log_info("store: schema migrated to version %d", migrations[i].version);
	}
	return 0;
}

int store_schema_check(struct store *s)
{
	int version, err;

	err = schema_version(s, &version);
	if (err)
		return err;
	if (version != STORE_SCHEMA_VERSION) {
		log_error("store: database schema version %d, this weft reads %d", version,
			  STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	return 0;
}

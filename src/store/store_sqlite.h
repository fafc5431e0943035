/* Internals shared by the SQLite backend's files: the connection, its
 * statement cache and the schema. Nothing outside src/store includes this. */
#ifndef WEFT_STORE_SQLITE_H
#define WEFT_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store.h"

/* Every statement the backend runs more than once, prepared on first use
 * and kept until store__close(). */
enum store_stmt {
	STORE_ST_BEGIN,
	STORE_ST_COMMIT,
	STORE_ST_ROLLBACK,
	STORE_ST_SAVEPOINT,
	STORE_ST_RELEASE,
	STORE_ST_ROLLBACK_TO,
	STORE_ST_READ_BEGIN,
	STORE_ST_READ_END,
	STORE_ST_LAST_BATCH,
	STORE_ST_JOURNAL_INSERT,
	STORE_ST_BATCH_SEQ,
	STORE_ST_REPLAY,
	STORE_ST_PUT_SENSOR,
	STORE_ST_PUT_PROCESS,
	STORE_ST_PUT_SERVICE,
	STORE_ST_DEL_SPANS,
	STORE_ST_DEL_TRAJ,
	STORE_ST_PUT_TRAJ,
	STORE_ST_PUT_SPAN,
	STORE_ST_PRUNE_SPANS,
	STORE_ST_PRUNE_TRAJ,
	STORE_ST_PRUNE_PROCS,
	STORE_ST_PRUNE_SVCS,
	STORE_ST_PRUNE_JOURNAL,
	STORE_ST_MAP_EDGES,
	STORE_ST_MAP_PAIRS,
	STORE_ST_MAP_SERVICE,
	STORE_ST_SVC_PORT,
	STORE_ST_TRAJ_WINDOW,
	STORE_ST_TRAJ_ROW,
	STORE_ST_TRAJ_SPANS,
	STORE_ST_SENSORS,
	STORE_ST_COUNT,
};

/* Trajectory list statements come in variants, one per set of active
 * filters, so that no row pays for a condition nobody asked for. */
enum store_traj_kind { STORE_TRAJ_PAGE, STORE_TRAJ_COUNT, STORE_TRAJ_KINDS };
#define STORE_TRAJ_DUR	    1  /* duration bounds, ?3 and ?4 */
#define STORE_TRAJ_ERR	    2  /* errors only */
#define STORE_TRAJ_REQ	    4  /* root request substring, ?6 */
#define STORE_TRAJ_APP	    8  /* root service in a JSON array of ids, ?7 */
#define STORE_TRAJ_BEFORE   16 /* older than the cursor (?11, ?12); pages only */
#define STORE_TRAJ_VARIANTS 32

struct store {
	sqlite3 *db;
	bool reader;			    /* opened by store__open_reader() */
	struct store_opts opts;		    /* as given to store__open() */
	sqlite3_stmt *stmt[STORE_ST_COUNT]; /* prepared on first use; NULL before */
	sqlite3_stmt *traj[STORE_TRAJ_KINDS][STORE_TRAJ_VARIANTS]; /* likewise, by filter set */
	char *starts;	   /* a trajectory's span_starts, reused */
	size_t starts_cap; /* bytes at starts */
};

/* The cached statement, reset with its bindings cleared; NULL after
 * logging when it cannot be prepared. */
sqlite3_stmt *store_stmt(struct store *s, enum store_stmt which);
/* One consistent snapshot across several statements of a query; works on
 * readers and inside the writer's transaction alike. end returns err. */
int store_read_begin(struct store *s);
int store_read_end(struct store *s, int err);
/* Logs sqlite's message for what failed and returns it as a negative errno. */
int store_fail(struct store *s, const char *what);

/* Brings the database's schema to STORE_SCHEMA_VERSION; 0 or -errno. */
int store_schema_migrate(struct store *s);
/* The same, stopping at version target (tests build old databases so). */
int store_schema_migrate_to(struct store *s, int target);
/* Registers the SQL functions the schema's migrations use (weft_proc_key). */
int store_sql_functions(sqlite3 *db);
/* A process's identity in one integer: FNV-1a over the host name and the
 * pid, never 0 (0 means "not observed"). */
int64_t store_proc_key(const char *host, uint32_t pid);
/* 0 when the database's schema is the one this code reads (for readers). */
int store_schema_check(struct store *s);
#define STORE_SCHEMA_VERSION 4

/* Ids are unsigned 64-bit; SQLite integers are signed: stored bit for bit. */
static inline sqlite3_int64 store_id_to_db(uint64_t id)
{
	return (sqlite3_int64)id;
}

static inline uint64_t store_id_from_db(sqlite3_int64 v)
{
	return (uint64_t)v;
}

/* The JSON spelling of an id: 16 hex digits (JavaScript numbers cannot hold
 * 64 bits). Returns a new json string. */
json_object *store_id_json(uint64_t id);
/* The id of an application: "app-" and the smallest service id in hex. */
void store_app_id(uint64_t smallest, char *buf, size_t cap);

/* Application membership over a window: the services of the component whose
 * id is app_id, as a JSON array of (signed) integers for json_each(), in
 * *ids_json (caller frees). NULL when no such component in the window. */
int store_map_app_services(struct store *s, uint64_t since_ns, uint64_t until_ns,
			   const char *app_id, char **ids_json);

#endif

/* Storage behind one narrow interface: the correlator writes through it,
 * the API reads through it, and neither knows the backend. SQLite is the
 * default (store_sqlite.c); a column store for large deployments would be a
 * second implementation of these functions.
 *
 * Threading: one writer (the server's ingest loop) owns a store opened with
 * store__open(); each API thread uses its own handle from store__open_reader()
 * on the same path. Every function returns 0 or a negative errno and logs
 * what failed, unless said otherwise. */
#ifndef WEFT_STORE_H
#define WEFT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "analysis/trajectory.h"

struct store;

struct store_opts {
	bool keep_events; /* keep raw batches beyond the replay window */
	bool sync_full;	  /* fsync every commit (power-loss durable) */
};

/* Opens or creates the database at path, migrating its schema to the
 * current version. NULL with errno set after logging why. */
struct store *store__open(const char *path, const struct store_opts *opts);
/* A read-only handle for a query thread. */
struct store *store__open_reader(const char *path);
void store__close(struct store *s);

/* Writes are grouped: everything between begin and commit is one
 * transaction, durable when commit returns 0. */
int store__begin(struct store *s);
int store__commit(struct store *s);
int store__rollback(struct store *s);

/* ---- ingest --------------------------------------------------------------------------- */

/* The highest batch sequence number stored for a sensor, 0 if none. */
int store__last_batch(struct store *s, const char *sensor, uint64_t *seq);
/* Records a received batch (its raw bytes go to the journal, replayed after
 * a restart). Returns 1 if the (sensor, seq) pair was already stored: the
 * caller acknowledges it again and does nothing else. */
int store__journal_batch(struct store *s, const char *sensor, uint64_t seq, uint64_t now_ns,
			 const void *data, size_t len);
/* Calls fn for every journaled batch received at or after since_ns, in
 * arrival order: what the correlator replays at start. */
int store__replay(struct store *s, uint64_t since_ns,
		  int (*fn)(const char *sensor, uint64_t seq, const void *data, size_t len,
			    void *ctx),
		  void *ctx);

struct store_sensor_status {
	const char *sensor; /* sensor id (its host name) */
	const char *host;
	uint64_t last_seen_ns; /* wall clock, server's */
	uint64_t events;       /* events received in total */
	uint64_t drops;	       /* ring-buffer drops the sensor reported */
	uint64_t spool_drops;  /* batches the sensor's full spool discarded */
	int64_t lag_ns;	       /* server receive time minus newest event time */
	const char *mode;      /* "messages" or "connections" */
	bool connected;
};
int store__put_sensor(struct store *s, const struct store_sensor_status *st);

int store__put_process(struct store *s, const char *host, uint32_t pid, const char *comm,
		       const char *exe, uint64_t seen_ns);
int store__put_service(struct store *s, const struct weft_service *svc, uint64_t seen_ns);

/* Inserts or replaces a trajectory and all its spans (same id: replaced). */
int store__put_trajectory(struct store *s, const struct weft_trajectory *t);
/* Removes a trajectory that turned out to be part of a larger one. */
int store__delete_trajectory(struct store *s, uint64_t id);

/* Deletes derived data older than the retention, and journaled batches
 * older than journal_before_ns unless keep_events. */
int store__prune(struct store *s, uint64_t older_than_ns, uint64_t journal_before_ns);

/* ---- queries (JSON documents for the API; the caller owns the result) ------------------ */

struct store_map_query {
	uint64_t since_ns; /* window start, wall clock */
	uint64_t until_ns; /* window end; 0 for now */
};
/* {"nodes":[{id,host,exe,comm,ports,instances,application,external}],
 *  "edges":[{source,target,port,calls,errors,bytes,p50_ms,p95_ms,p99_ms}],
 *  "applications":[{id,name,services}]}. Applications are the connected
 * components of the services over the window's edges. */
int store__query_map(struct store *s, const struct store_map_query *q, json_object **out);

struct store_traj_query {
	int limit;		  /* 1..1000 */
	int offset;		  /* rows skipped (after the cursor, if any) */
	bool before;		  /* a cursor: only trajectories older than */
	uint64_t before_start_ns; /* (before_start_ns, before_id) in the */
	uint64_t before_id;	  /* list's order (its "next") */
	uint64_t since_ns;	  /* start_ns >= since_ns */
	uint64_t until_ns;	  /* 0: no bound */
	uint64_t min_ns;	  /* duration_ns >= min_ns */
	uint64_t max_ns;	  /* 0: no bound */
	const char *application;  /* NULL: all; else an application id from the map */
	const char *request;	  /* NULL: all; else a substring of the root request */
	bool errors_only;
};
/* {"trajectories":[{id,start_ns,duration_ns,root:{service,host,exe,request},
 *   spans,depth,error,uncertain}], "total":N, "next":CURSOR|null}, newest
 * first. "next" ("START_NS.ID", ID in hex) continues after the page's last
 * row in one index seek, however deep; total counts the whole window. */
int store__query_trajectories(struct store *s, const struct store_traj_query *q, json_object **out);
/* A list's "next" into q's cursor; -EINVAL when it is not one. */
int store__parse_cursor(const char *next, struct store_traj_query *q);
/* {"id",...,"spans":[{id,parent,client:{host,pid,tid,comm,addr,port}|null,
 *   server:{...}|null,start_ns,end_ns,server_start_ns,server_end_ns,
 *   display_offset_ns,protocol,request,status,error,uncertain}],
 *   "slowest_span","slowest_hop"}. -ENOENT when there is no such trajectory. */
int store__query_trajectory(struct store *s, uint64_t id, json_object **out);
/* {"sensors":[{id,host,last_seen_ns,events,drops,spool_drops,lag_ns,mode,connected}]} */
int store__query_sensors(struct store *s, json_object **out);

#endif

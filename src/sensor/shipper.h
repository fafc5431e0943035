/* Ships events to a weft server: batches them, keeps every batch in the
 * spool until the server acknowledges it, reconnects when the server goes
 * away, and answers the server's control commands. Never blocks: the
 * capture loop calls shipper__tick() every few milliseconds. */
#ifndef WEFT_SHIPPER_H
#define WEFT_SHIPPER_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/sensor_event.h"

struct capture;
struct control;
struct shipper;

struct shipper_opts {
	const char *server;    /* "host:port" */
	const char *sensor_id; /* stable across restarts: batches are deduplicated by it */
	const char *host;      /* host name reported */
	const char *spool_dir;
	uint64_t spool_max; /* bytes */
	bool trace_self;    /* trace the server's own connections too (its API, its ingest) */
};

/* Parses the address and opens the spool; does not connect yet. NULL after
 * logging why. */
struct shipper *shipper__new(const struct shipper_opts *opts);
void shipper__add_event(struct shipper *s, const struct weft_event *e, uint64_t wall_ns);
void shipper__add_process(struct shipper *s, uint32_t pid, const char *comm, const char *exe);
/* A JVM's method call, times on this host's wall clock. */
void shipper__add_call(struct shipper *s, uint32_t pid, uint32_t tid, uint64_t start_ns,
		       uint64_t end_ns, const char *name);
/* Seals a batch when due, moves bytes in both directions, reports cap's
 * counters and runs the server's control commands through ctl. */
void shipper__tick(struct shipper *s, struct capture *cap, const struct control *ctl);
/* Seals what is pending and tries for up to timeout_ms to have everything
 * acknowledged; what is left stays in the spool for the next run. */
void shipper__flush(struct shipper *s, struct capture *cap, const struct control *ctl,
		    int timeout_ms);
uint64_t shipper__spool_drops(const struct shipper *s);
void shipper__free(struct shipper *s);

#endif

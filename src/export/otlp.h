/* weft's trajectories as OpenTelemetry traces: the OTLP/HTTP JSON encoding
 * of an ExportTraceServiceRequest (opentelemetry-proto's
 * collector/trace/v1), written straight into one buffer.
 *
 * The model: a weft span is one exchange seen from its client side, its
 * server side, or both. Each observed side becomes one OTLP span: kind
 * CLIENT for the client side, SERVER for the server side (INTERNAL for a
 * method call inside a process), the server side a child of the client
 * side, the client side a child of its parent weft span's server side (its
 * client side when that has none). Resources are one per service process
 * (host + executable + port, and the pid).
 *
 * Ids are stable, so a trajectory emitted again (it grew, or a response
 * came in) is exported under the same ids and a receiver never sees two
 * traces for it: the trace id is the weft trajectory id in the low 64 bits
 * (the high 64 are zero), a client side's span id is the weft span id, a
 * server side's the weft span id with the top bit set (weft ids are below
 * 2^63). Times are placed on the root's timeline with each span's display
 * offset, as the dashboard draws them.
 *
 * Threading: none of its own; the functions touch only what they are given. */
#ifndef WEFT_EXPORT_OTLP_H
#define WEFT_EXPORT_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/trajectory.h"
#include "export/services.h"

#define OTLP_SERVER_SIDE (1ull << 63) /* or'ed into a server side's span id */

/* One trajectory as queued for export: a copy of its spans and of every
 * known service they name, in one block, so the exporter's thread needs
 * nothing from the thread that made it. */
struct otlp_traj {
	struct otlp_traj *next;
	size_t bytes;		   /* the whole block */
	int nout;		   /* OTLP spans it becomes */
	struct weft_trajectory t;  /* t.spans points into the block */
	int nsvcs;		   /* services named by the spans and known */
	struct weft_service *svcs; /* into the block too */
};

/* Copies t, and the entries of svcs that its spans name (svcs may be NULL).
 * NULL with errno set. Free with free(). */
struct otlp_traj *otlp_traj_copy(const struct weft_trajectory *t, const struct svc_table *svcs);

/* How many OTLP spans t becomes: one per observed side. */
int otlp_span_count(const struct weft_trajectory *t);

/* The ExportTraceServiceRequest for a list of trajectories linked by next,
 * stopping after `max` of them (0: all), as JSON text (NUL-terminated, *len
 * without the NUL; valid UTF-8 whatever the request texts hold). The caller
 * frees it; NULL when out of memory. */
char *otlp_encode(const struct otlp_traj *list, int max, size_t *len);

/* "000...0" + the id, 32 hex digits; buf holds at least 33 bytes. */
void otlp_trace_id(uint64_t trajectory, char *buf);
/* 16 hex digits; buf holds at least 17 bytes. */
void otlp_span_id(uint64_t id, char *buf);

#endif

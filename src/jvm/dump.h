/* JSON for DUMP, CALLS and GC replies, built from the probe's arrays (see
 * Probe.snapshot and Probe.drain) and the GC ring. One line, no newline. */
#ifndef WEFT_JVM_DUMP_H
#define WEFT_JVM_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "jvm/sbuf.h"

#define DUMP_NB	    40		  /* histogram buckets, as Probe.NB */
#define DUMP_STRIDE (5 + DUMP_NB) /* longs per method, as Probe.S */

/* Appends `"methods":[...],"threads":[...]` from a snapshot of `n` longs.
 * Returns 0, or -1 when the snapshot is malformed. */
int dump__probe_json(const int64_t *snap, size_t n, struct sbuf *out);

/* Appends `{"calls":[[id,tid,start_ns,end_ns],...],"lost":N}` from a drain
 * of `n` longs (groups of four, then the lost count). 0 or -1. */
int dump__calls_json(const int64_t *v, size_t n, struct sbuf *out);

/* Appends `{"count":N,"total_ns":N,"max_ns":N,"pauses":[[start,end],...]}`. */
void dump__gc_json(struct sbuf *out);

#endif

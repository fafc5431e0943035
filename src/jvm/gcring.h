/* Garbage-collection pauses, recorded from the JVMTI GarbageCollectionStart
 * and GarbageCollectionFinish callbacks, which may call neither JNI nor most
 * of JVMTI: so they only store two timestamps into a fixed ring. */
#ifndef WEFT_JVM_GCRING_H
#define WEFT_JVM_GCRING_H

#include <stddef.h>
#include <stdint.h>

#define GC_RING 256 /* most recent pauses kept */

struct gc_pause {
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC, as System.nanoTime() */
};

struct gc_stats {
	uint64_t count;	   /* pauses since load */
	uint64_t total_ns; /* their summed duration */
	uint64_t max_ns;   /* the longest */
};

void gc_ring__start(uint64_t now_ns);
void gc_ring__finish(uint64_t now_ns);

/* Copies up to `max` most recent pauses, oldest first; returns how many. */
size_t gc_ring__snapshot(struct gc_pause *out, size_t max, struct gc_stats *st);

#endif

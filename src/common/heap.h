/* Large blocks made and freed many times a second (the sensor's quarter-
 * megabyte batches; SQLite's record buffers for the server's journaled
 * batches) would each be mapped from the kernel by glibc and unmapped when
 * freed; zeroing the fresh pages took half the sensor's time and 5% of the
 * server's (perf). Kept in the heap instead, their memory is reused. */
#ifndef WEFT_HEAP_H
#define WEFT_HEAP_H

#include <malloc.h>

static inline void heap_keep_large_blocks(void)
{
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

#endif

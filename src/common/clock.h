/* Clocks. Kernel events carry CLOCK_BOOTTIME, the JVM agent CLOCK_MONOTONIC;
 * people read wall-clock time. */
#ifndef WEFT_CLOCK_H
#define WEFT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* Offset to add to a reading of clock id to get wall-clock time. */
static inline int64_t clock_to_wall_offset(clockid_t id)
{
	uint64_t w1 = wall_ns(), c = clock_ns(id), w2 = wall_ns();

	return (int64_t)(w1 / 2 + w2 / 2) - (int64_t)c;
}

#endif

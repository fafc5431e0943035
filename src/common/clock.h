/* Clocks. Kernel events carry CLOCK_BOOTTIME; people read wall-clock time. */
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

/* Offset to add to a CLOCK_BOOTTIME reading to get wall-clock time. */
static inline int64_t boot_to_wall_offset(void)
{
	uint64_t w1 = wall_ns(), b = clock_ns(CLOCK_BOOTTIME), w2 = wall_ns();

	return (int64_t)(w1 / 2 + w2 / 2) - (int64_t)b;
}

#endif

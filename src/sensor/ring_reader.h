/* Reads the per-CPU BPF ring buffers in time order, in place. Each ring is
 * in time order; across rings, an event is handed on only once it is older
 * than a bound no ring can still deliver anything before. An event not yet
 * handed on stays in its ring: nothing is copied. */
#ifndef WEFT_RING_READER_H
#define WEFT_RING_READER_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/sensor_event.h"

struct ring_reader;

typedef void (*ring_event_fn)(const struct weft_event *e, void *ctx);

/* Maps n rings of `size` data bytes each. NULL with errno set on failure. */
struct ring_reader *ring_reader__new(const int *fds, int n, size_t size);
/* Waits at most timeout_ms for a ring to signal data (the kernel signals
 * only past a backlog). 0 or a negative errno; EINTR is not an error. */
int ring_reader__wait(struct ring_reader *r, int timeout_ms);
/* Hands over, oldest first, every event with ts_ns before `before`.
 * Returns how many. UINT64_MAX hands over everything committed. */
int ring_reader__read(struct ring_reader *r, uint64_t before, ring_event_fn fn, void *ctx);
void ring_reader__free(struct ring_reader *r);

#endif

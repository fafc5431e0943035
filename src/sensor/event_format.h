/* One event as one line: JSON for programs, text for people. */
#ifndef WEFT_EVENT_FORMAT_H
#define WEFT_EVENT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/sensor_event.h"

/* What user space adds to a kernel event. */
struct event_context {
	const char *host;
	const char *exe;
	uint64_t ts_wall_ns; /* the event's time as wall-clock ns */
};

#define EVENT_LINE_MAX (2048 + 2 * WEFT_PAYLOAD_MAX)

/* Each writes one line ending in '\n' into buf (EVENT_LINE_MAX bytes) and
 * returns its length. */
size_t event_format_json(char *buf, const struct weft_event *e, const struct event_context *x);
size_t event_format_text(char *buf, const struct weft_event *e, const struct event_context *x);

#endif

/* The sensor's control language: one command a line, one reply a line.
 * Spoken on the local control socket (--control PATH) and, later, on the
 * server's control channel, so both switch capture the same way.
 *
 *   messages on|off                       message-level capture, or lifecycle only
 *   select pid|comm|port|cgroup|netns V   narrow message capture (any match)
 *   select clear                          message capture for everything again
 *   status                                mode, selectors and counters
 *   profile find|start|stop|abort|list    profiling sessions (control_profile.h)
 *   trace NAME on [FILTER]|off, trace list JVM method calls into trajectories (jvm_trace.h)
 *
 * A reply is one line of at most CONTROL_REPLY_MAX bytes, its newline and
 * NUL included: a profile can be tens of KiB. */
#ifndef WEFT_CONTROL_H
#define WEFT_CONTROL_H

#include <stddef.h>

#include "sensor/capture.h"
#include "sensor/control_profile.h"

#define CONTROL_REPLY_MAX (64u << 10)

/* What commands act on. */
struct jvm_traces;

struct control_ctx {
	struct capture *cap;
	struct profiles *profiles; /* NULL: profile commands are refused */
	struct jvm_traces *traces; /* NULL (not shipping to a server): trace is refused */
};

/* Executes one line; the reply starts with "ok" or "error: " and ends with
 * a newline. Returns 0, -EINVAL for a bad command (which changes nothing),
 * or another negative errno when the command failed. */
int control_exec(const struct control_ctx *x, const char *line, char *reply, size_t cap);

struct control_server;

/* Listens on a unix socket at path (replacing a stale one). NULL + errno. */
struct control_server *control_server__open(const char *path);
/* Accepts and serves whatever is ready. Blocks only to write a long reply
 * to a client that reads it slowly (at most a second). */
void control_server__serve(struct control_server *s, const struct control_ctx *x);
void control_server__close(struct control_server *s);

#endif

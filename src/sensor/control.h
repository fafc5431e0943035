/* The sensor's control language: one command a line, one reply a line.
 * Spoken on the local control socket (--control PATH) and, later, on the
 * server's control channel, so both switch capture the same way.
 *
 *   messages on|off                       message-level capture, or lifecycle only
 *   select pid|comm|port|cgroup|netns V   narrow message capture (any match)
 *   select clear                          message capture for everything again
 *   status                                mode, selectors and counters
 */
#ifndef WEFT_CONTROL_H
#define WEFT_CONTROL_H

#include <stddef.h>

#include "sensor/capture.h"

/* Executes one line; the reply starts with "ok" or "error: ". Returns 0 or
 * -EINVAL for a bad command, which leaves the capture unchanged. */
int control_exec(struct capture *c, const char *line, char *reply, size_t cap);

struct control_server;

/* Listens on a unix socket at path (replacing a stale one). NULL + errno. */
struct control_server *control_server__open(const char *path);
/* Accepts and serves whatever is ready, without blocking. */
void control_server__serve(struct control_server *s, struct capture *c);
void control_server__close(struct control_server *s);

#endif

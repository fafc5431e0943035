/* The sensor's control language (wire/command.h) as a table of verbs: each
 * family of commands (capture, profile, trace) registers its verb with a
 * handler, and one dispatcher serves the local control socket and the
 * server's control channel alike. */
#ifndef WEFT_CONTROL_H
#define WEFT_CONTROL_H

#include <stddef.h>

#include "wire/command.h"

/* Runs what follows the verb on a command line (leading blanks skipped).
 * Returns 0 with "ok ...\n" in reply, or a negative errno; a handler that
 * leaves reply empty gets the usage for -EINVAL (a malformed command, which
 * must change nothing) and "error: <strerror>" otherwise. */
typedef int (*control_fn)(void *ctx, const char *args, char *reply, size_t cap);

struct control;

/* NULL + errno. */
struct control *control__new(void);
void control__free(struct control *c);
/* Adds a verb; usage is its part of the help ("messages on|off"), static.
 * -EEXIST for a verb already there, -ENOSPC past the table's size. */
int control__add(struct control *c, const char *verb, const char *usage, control_fn run, void *ctx);
/* Executes one line. The reply is always set and ends with a newline. */
int control__exec(const struct control *c, const char *line, char *reply, size_t cap);

struct control_server;

/* Listens on a unix socket at path (replacing a stale one). NULL + errno. */
struct control_server *control_server__open(const char *path);
/* Accepts and serves whatever is ready. Blocks only to write a long reply
 * to a client that reads it slowly (at most a second). */
void control_server__serve(struct control_server *s, const struct control *c);
void control_server__close(struct control_server *s);

#endif

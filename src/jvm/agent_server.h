/* The control server: a line protocol on 127.0.0.1 (docs/jvm-agent.md). */
#ifndef WEFT_JVM_AGENT_SERVER_H
#define WEFT_JVM_AGENT_SERVER_H

#include <jni.h>

#include "jvm/sbuf.h"

/* Binds and listens on 127.0.0.1:port. Returns the socket or -1 with errno
 * set; called at load time so a taken port is known before the JVM runs. */
int control__listen(int port);

/* Starts the server thread on socket `fd`; it attaches itself to `vm` as a
 * daemon thread and stops within 100 ms of agent__dying(). 0 or -1. */
int control__start(JavaVM *vm, int fd);

/* Runs one command line (no newline) and writes its one-line reply.
 * Returns 1 when the client asked to close the connection. */
int control__execute(JNIEnv *env, const char *line, struct sbuf *out);

#endif

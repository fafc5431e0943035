/* The control language a sensor speaks: one command a line, one reply a
 * line. The same commands arrive on a sensor's local socket (weft control)
 * and from the server (POST /api/sensors/ID/control, relayed in control
 * frames), so every part that carries them takes its limits from here.
 *
 *   messages on|off                       message-level capture, or lifecycle only
 *   select pid|comm|port|cgroup|netns V   narrow message capture (any match)
 *   select clear                          message capture for everything again
 *   status                                mode, selectors and counters
 *   profile find|start|stop|abort|list    profiling sessions (sensor/control_profile.h)
 *   profile jvm NAME COMMAND              a command to the weft agents of JVMs
 *   trace NAME on [FILTER]|off, trace list JVM method calls into trajectories
 *                                         (sensor/jvm_trace.h)
 *
 * A reply starts with "ok" or "error: " and ends with a newline. */
#ifndef WEFT_COMMAND_H
#define WEFT_COMMAND_H

/* A command line, NUL included. */
#define COMMAND_LINE_MAX 2048
/* A reply, newline and NUL included: a profile can be tens of KiB. */
#define COMMAND_REPLY_MAX (64u << 10)

#endif

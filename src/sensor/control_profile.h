/* The sensor as the Autoprofiler's slave: profiling sessions that control
 * commands start and stop (locally or relayed by the server), fed with the
 * network bytes of the sensor's own send and recv events.
 *
 *   profile find NAME[,NAME...]        ok NAME=PID,PID NAME2=PID
 *   profile start ID NAME[,NAME...]    ok pids=PID,PID,...
 *   profile stop ID                    ok {"interval_s":...} (the profile, one line)
 *   profile abort ID                   ok
 *   profile list                       ok ID ID ...
 *   profile jvm NAME COMMAND...        ok {"jvms":[{"pid":P,"reply":...}]}: COMMAND (FILTER,
 *                                      START, STOP, DUMP, RESET, STATUS, ...) sent to the weft
 *                                      agent of every JVM of that name (docs/jvm-agent.md)
 *
 * ID is 1 to 32 of [A-Za-z0-9_.-]; at most PROFILES_MAX sessions run at once. */
#ifndef WEFT_CONTROL_PROFILE_H
#define WEFT_CONTROL_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/sensor_event.h"
#include "sensor/capture.h"
#include "sensor/control.h"

#define PROFILES_MAX	  4
#define PROFILE_ID_MAX	  32
#define PROFILE_NAMES_MAX 16 /* names in one command */

struct profiles;

/* host names this sensor in error replies; netns (nonzero with --netns)
 * scopes every search to that network namespace. NULL + errno. */
struct profiles *profiles__new(const char *host, uint32_t netns);
/* Frees every session still running; NULL is fine. */
void profiles__free(struct profiles *p);

/* Registers the verb "profile" with c (see sensor/control.h for what its
 * handler answers). cap (the capture, may be NULL) says whether message
 * capture is on, without which network bytes cannot be counted; p and cap
 * outlive c. 0 or -errno. */
int profiles__add_commands(struct profiles *p, struct control *c, struct capture *cap);

/* Hands a send or recv event to every running session; returns at once
 * when none runs. p may be NULL. */
void profiles__event(struct profiles *p, const struct weft_event *e);

#endif

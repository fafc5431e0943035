/* Method calls of JVMs on this host into the trajectories: the sensor turns
 * on the trace of weft's JVM agent (docs/jvm-agent.md) in the JVMs it is
 * told to, drains their calls a few times a second and ships each with its
 * Linux thread id and its times on this host's wall clock; the server nests
 * them in the exchanges those threads were serving. The agents' control
 * ports are left out of capture: that traffic is weft's own.
 *
 *   trace NAME on [FILTER]   ok pids=PID,...   FILTER (the agent's patterns)
 *                                               set first; then TRACE on, START
 *   trace NAME off           ok                TRACE off, STOP
 *   trace list               ok NAME=PID ...
 */
#ifndef WEFT_SENSOR_JVM_TRACE_H
#define WEFT_SENSOR_JVM_TRACE_H

#include <stddef.h>
#include <stdint.h>

struct capture;
struct control;
struct jvm_traces;
struct shipper;

/* netns (nonzero with --netns) scopes the search for JVMs. NULL + errno. */
struct jvm_traces *jvm_traces__new(uint32_t netns);
/* Leaves the agents as they are (a sensor restart keeps the JVMs traced). */
void jvm_traces__free(struct jvm_traces *t);

/* Registers the verb "trace" with c (handlers as in sensor/control.h),
 * acting on t and cap, which outlive c. With t NULL (a sensor that ships to
 * no server has nowhere to send calls) the verb answers why it cannot.
 * 0 or -errno. */
int jvm_traces__add_commands(struct jvm_traces *t, struct control *c, struct capture *cap);

/* Drains the traced JVMs' calls into the shipper when due (every 200 ms). */
void jvm_traces__poll(struct jvm_traces *t, struct shipper *s, uint64_t now_mono);

#endif

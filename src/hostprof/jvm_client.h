/* A client of weft's JVM agent (build/libweftjvm.so, docs/jvm-agent.md) for
 * a JVM given by its pid: the agent's port comes from the JVM's own
 * -agentpath option, and the connection is made inside the JVM's network
 * namespace, so a sensor watching a namespace from outside reaches it. */
#ifndef WEFT_HOSTPROF_JVM_CLIENT_H
#define WEFT_HOSTPROF_JVM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The control port in pid's "-agentpath:...libweftjvm.so=...port=N" option;
 * -ENOENT when the JVM runs without the agent or without a port, -errno
 * when its command line cannot be read. */
int jvm_agent_port(uint32_t pid);
/* The same, with err saying why in one line when there is none. */
int jvm_agent_find_port(uint32_t pid, char *err, size_t errcap);

/* Sends one command line to pid's agent and returns its one reply line
 * (malloc'd, without the newline) in *reply. 0, or -errno with err saying
 * why in one line (no agent, refused, no reply within 2 s, ...). */
int jvm_agent_call(uint32_t pid, const char *cmd, char **reply, char *err, size_t errcap);
/* The same with the port already known (jvm_agent_port): for a caller that
 * talks to one agent again and again. */
int jvm_agent_call_port(uint32_t pid, int port, const char *cmd, char **reply, char *err,
			size_t errcap);

/* The same command to the agent of every JVM named name (comm or
 * executable, as procfs_find; in network namespace netns when nonzero):
 * {"jvms":[{"pid":P,"reply":R}]} in *out (caller puts it), R the agent's
 * JSON reply as JSON, its OK/ERR lines as strings. -ESRCH with "no process
 * named 'X'" in err when there is none; the first failing call's error
 * otherwise. */
int jvm_agents_call(const char *name, uint32_t netns, const char *cmd, json_object **out, char *err,
		    size_t errcap);

#endif

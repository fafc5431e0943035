/* The Autoprofiler's slaves: the sensor of each node, reached through the
 * server's control channel (POST /api/sensors/NODE/control), or, without a
 * server, this host's /proc read directly (single-host mode). Both speak
 * the same three steps: find the processes, start a profile, stop it and
 * get its JSON (see docs/profile.md). */
#ifndef WEFT_PROFILE_NODE_H
#define WEFT_PROFILE_NODE_H

#include <stddef.h>

#include <json-c/json.h>

struct prof_session;

struct prof_node {
	char *name;	     /* as the specification names it; owned */
	char *sensor;	     /* the sensor id it resolved to (remote mode); owned */
	char **procs;	     /* process names to profile on it; owned */
	char **filters;	     /* per process: the JVM agent's filter from ComponentInfo, or NULL;
				owned (NULL when no process has one) */
	json_object **dumps; /* per process: the agents' DUMP of the window ({"jvms":[...]}),
				or NULL; owned */
	size_t nprocs;
	const char *api; /* server API "host:port", NULL for single-host mode; borrowed */
	struct prof_session *local; /* single-host mode: the running session */
	json_object *last;	    /* the last profile's JSON; owned */
};

/* Resolves node->name to a sensor (remote) or checks it names this host
 * (local), and checks every process exists there, and that the JVMs of
 * processes with a filter run the weft agent. 0, or -errno after
 * writing one line saying why to err. */
int prof_node__check(struct prof_node *node, char *err, size_t errcap);
/* Starts profiling node->procs under id; the JVMs' agents are reset, given
 * their filter and started. */
int prof_node__start(struct prof_node *node, const char *id, char *err, size_t errcap);
/* Stops it; node->last holds the profile and node->dumps the agents'
 * figures (the agents are stopped: their cost is gone outside the window). */
int prof_node__stop(struct prof_node *node, const char *id, char *err, size_t errcap);
/* Abandons a started profile (errors ignored). */
void prof_node__abort(struct prof_node *node, const char *id);
void prof_node__free(struct prof_node *node);

#endif

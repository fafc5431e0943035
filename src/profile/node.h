/* The Autoprofiler's slaves: the sensor of each node, reached through the
 * server's control channel (POST /api/sensors/NODE/control), or, without a
 * server, this host's /proc read directly (single-host mode). Both speak
 * the same three steps: find the processes, start a profile, stop it and
 * get its JSON (see docs/profile.md). */
#ifndef WEFT_PROFILE_NODE_H
#define WEFT_PROFILE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct prof_session;

/* One process to profile on a node. */
struct prof_proc {
	char *name;	   /* as ps shows it (comm) or its executable's basename; owned */
	char *filter;	   /* a Java process's agent filter from ComponentInfo, or NULL; owned */
	json_object *dump; /* the agents' DUMP at the window's end ({"jvms":[...]}); owned */
	uint64_t agent_from_ns; /* the agents' clock (CLOCK_MONOTONIC) when they started */
	double agent_s;		/* how long they ran in the window, by that clock */
};

struct prof_node {
	char *name;		 /* as the specification names it; owned */
	char *sensor;		 /* the sensor id it resolved to (remote mode); owned */
	struct prof_proc *procs; /* what to profile on it; owned */
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
/* Starts profiling the node's processes under id; the JVMs' agents are reset, given
 * their filter and started. */
int prof_node__start(struct prof_node *node, const char *id, char *err, size_t errcap);
/* Stops it; node->last holds the profile and each Java process's dump the
 * agents' figures (the agents are stopped: their cost is gone outside the
 * window). */
int prof_node__stop(struct prof_node *node, const char *id, char *err, size_t errcap);
/* Abandons a started profile (errors ignored). */
void prof_node__abort(struct prof_node *node, const char *id);
void prof_node__free(struct prof_node *node);

#endif

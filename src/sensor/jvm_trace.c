#include "sensor/jvm_trace.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/str.h"
#include "hostprof/jvm_client.h"
#include "hostprof/procfs.h"
#include "sensor/capture.h"
#include "sensor/control.h"
#include "sensor/shipper.h"
#include "wire/command.h"

#define TRACED_MAX    16
#define TRACE_POLL_NS 200000000ull
#define NAME_MAX_LEN  64
#define METHOD_ID_MAX 32767 /* the agent numbers at most 32768 methods */

struct traced {
	uint32_t pid;
	int port;		 /* its agent's control port */
	char name[NAME_MAX_LEN]; /* as given to "trace NAME on" */
	char **methods;		 /* "class.method" by the agent's method id */
	size_t nmethods;
	uint64_t lost; /* calls the agent's rings overflowed, as last reported */
};

struct jvm_traces {
	uint32_t netns;
	struct traced jvms[TRACED_MAX];
	int n;
	uint64_t next_poll;
	struct capture *cap; /* the agents' ports are left out of it */
};

struct jvm_traces *jvm_traces__new(uint32_t netns)
{
	struct jvm_traces *t = calloc(1, sizeof(*t));

	if (t)
		t->netns = netns;
	return t;
}

static void traced_clear(struct traced *j)
{
	for (size_t i = 0; i < j->nmethods; i++)
		free(j->methods[i]);
	free(j->methods);
	memset(j, 0, sizeof(*j));
}

static void traced_drop(struct jvm_traces *t, int i)
{
	traced_clear(&t->jvms[i]);
	t->jvms[i] = t->jvms[--t->n];
	memset(&t->jvms[t->n], 0, sizeof(t->jvms[t->n]));
}

void jvm_traces__free(struct jvm_traces *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++)
		traced_clear(&t->jvms[i]);
	free(t);
}

/* One agent command that must answer "OK ..."; 0 or -errno with why. */
static int agent_ok(const struct traced *j, const char *cmd, char *why, size_t cap)
{
	char *reply = NULL;
	int err = jvm_agent_call_port(j->pid, j->port, cmd, &reply, why, cap);

	if (!err && strncmp(reply, "OK", 2)) {
		snprintf(why, cap, "JVM %u: %s: %s", j->pid, cmd, reply);
		err = -EINVAL;
	}
	free(reply);
	return err;
}

static int find_pid(const struct jvm_traces *t, uint32_t pid)
{
	for (int i = 0; i < t->n; i++)
		if (t->jvms[i].pid == pid)
			return i;
	return -1;
}

static int trace_on(struct jvm_traces *t, struct capture *capt, const char *name,
		    const char *filter, char *reply, size_t cap)
{
	uint32_t pids[TRACED_MAX];
	int found = procfs_find(name, t->netns, pids, TRACED_MAX);
	char why[256], cmd[COMMAND_LINE_MAX + 8];
	size_t len;

	if (found <= 0) {
		snprintf(reply, cap, "error: no process named '%s'\n", name);
		return found ? found : -ESRCH;
	}
	if (filter) {
		size_t n = strlen(filter);

		while (n && strchr(" \t\r\n", filter[n - 1]))
			n--;
		if (snprintf(cmd, sizeof(cmd), "FILTER %.*s", (int)n, filter) >= (int)sizeof(cmd))
			return -EINVAL;
	}
	for (int k = 0; k < found; k++) {
		struct traced j = {.pid = pids[k],
				   .port = jvm_agent_find_port(pids[k], why, sizeof(why))};
		int err = j.port < 0 ? j.port : 0;

		if (!err && capt)
			capture__ignore_port(capt, (uint16_t)j.port);
		err = err ?: (filter ? agent_ok(&j, cmd, why, sizeof(why)) : 0);
		err = err ?: agent_ok(&j, "TRACE on", why, sizeof(why));
		err = err ?: agent_ok(&j, "START", why, sizeof(why));
		if (err) {
			snprintf(reply, cap, "error: %s\n", why);
			return err;
		}
		if (find_pid(t, pids[k]) >= 0)
			continue;
		if (t->n == TRACED_MAX) {
			snprintf(reply, cap, "error: at most %d JVMs are traced at once\n",
				 TRACED_MAX);
			return -ENOSPC;
		}
		str_copy(j.name, sizeof(j.name), name);
		t->jvms[t->n++] = j;
		log_info("sensor: tracing method calls of JVM %u (%s)", pids[k], name);
	}
	len = (size_t)snprintf(reply, cap, "ok pids=");
	for (int k = 0; k < found && len < cap; k++)
		len += (size_t)snprintf(reply + len, cap - len, "%s%u", k ? "," : "", pids[k]);
	if (len < cap)
		snprintf(reply + len, cap - len, "\n");
	return 0;
}

static int trace_off(struct jvm_traces *t, const char *name, char *reply, size_t cap)
{
	char why[256];
	int n = 0, err = 0;

	for (int i = t->n - 1; i >= 0; i--) {
		if (strcmp(t->jvms[i].name, name))
			continue;
		n++;
		/* a JVM that exited meanwhile is simply forgotten */
		if (!agent_ok(&t->jvms[i], "TRACE off", why, sizeof(why)))
			agent_ok(&t->jvms[i], "STOP", why, sizeof(why));
		log_info("sensor: method calls of JVM %u no longer traced", t->jvms[i].pid);
		traced_drop(t, i);
	}
	if (!n) {
		snprintf(reply, cap, "error: no JVM named '%s' is traced\n", name);
		err = -ENOENT;
	} else {
		snprintf(reply, cap, "ok\n");
	}
	return err;
}

static int trace_verb(void *ctx, const char *args, char *reply, size_t cap)
{
	struct jvm_traces *t = ctx;
	char name[NAME_MAX_LEN], onoff[8];
	int used = 0;

	if (sscanf(args, " list %n", &used) >= 0 && used && !args[used]) {
		size_t len = (size_t)snprintf(reply, cap, "ok");

		for (int i = 0; i < t->n && len < cap; i++)
			len += (size_t)snprintf(reply + len, cap - len, " %s=%u", t->jvms[i].name,
						t->jvms[i].pid);
		if (len < cap)
			snprintf(reply + len, cap - len, "\n");
		return 0;
	}
	if (sscanf(args, " %63s %7s %n", name, onoff, &used) != 2)
		return -EINVAL;
	if (!strcmp(onoff, "on"))
		return trace_on(t, t->cap, name, args[used] ? args + used : NULL, reply, cap);
	if (!strcmp(onoff, "off") && !args[used])
		return trace_off(t, name, reply, cap);
	return -EINVAL;
}

static int trace_unavailable(void *ctx, const char *args, char *reply, size_t cap)
{
	(void)ctx, (void)args;
	snprintf(reply, cap, "error: tracing needs a sensor shipping to a server (--server)\n");
	return -ENOTSUP;
}

int jvm_traces__add_commands(struct jvm_traces *t, struct control *c, struct capture *cap)
{
	static const char usage[] = "trace NAME on [FILTER], trace NAME off, trace list";

	if (!t)
		return control__add(c, "trace", usage, trace_unavailable, NULL);
	t->cap = cap;
	return control__add(c, "trace", usage, trace_verb, t);
}

/* Room for method id k in j->methods; false when out of memory. */
static bool room_for(struct traced *j, size_t k)
{
	char **p;

	if (k < j->nmethods)
		return true;
	p = realloc(j->methods, (k + 1) * sizeof(*p));
	if (!p)
		return false;
	memset(p + j->nmethods, 0, (k + 1 - j->nmethods) * sizeof(*p));
	j->methods = p;
	j->nmethods = k + 1;
	return true;
}

/* Method names by id, from the agent's DUMP. */
static void learn_methods(struct traced *j)
{
	char *reply = NULL, why[256];
	json_object *doc = NULL, *methods;

	if (jvm_agent_call_port(j->pid, j->port, "DUMP", &reply, why, sizeof(why)) ||
	    !(doc = json_tokener_parse(reply)) ||
	    !json_object_object_get_ex(doc, "methods", &methods)) {
		free(reply);
		json_object_put(doc);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(methods); i++) {
		json_object *m = json_object_array_get_idx(methods, i), *id, *cls, *mn;
		int64_t k;
		char name[256];

		if (!json_object_object_get_ex(m, "id", &id) ||
		    !json_object_object_get_ex(m, "class", &cls) ||
		    !json_object_object_get_ex(m, "method", &mn) ||
		    (k = json_object_get_int64(id)) < 0 || k > METHOD_ID_MAX ||
		    !room_for(j, (size_t)k))
			continue;
		snprintf(name, sizeof(name), "%s.%s", json_object_get_string(cls),
			 json_object_get_string(mn));
		free(j->methods[k]);
		j->methods[k] = strdup(name);
	}
	json_object_put(doc);
	free(reply);
}

/* A method's name; an id the agent's DUMP does not know either is named
 * method#ID once and for all, so that it costs one DUMP, not one a call. */
static const char *method_name(struct traced *j, int64_t id, char *buf, size_t cap)
{
	bool known = id >= 0 && id <= METHOD_ID_MAX;

	if (known && ((size_t)id >= j->nmethods || !j->methods[id]))
		learn_methods(j);
	known = known && room_for(j, (size_t)id);
	if (known && j->methods[id])
		return j->methods[id];
	snprintf(buf, cap, "method#%lld", (long long)id);
	if (known)
		j->methods[id] = strdup(buf);
	return buf;
}

/* Ships one JVM's calls; -errno when its agent cannot be reached. */
static int drain(struct traced *j, struct shipper *s, int64_t offset)
{
	char *reply = NULL, why[256], buf[32];
	json_object *doc, *calls, *lost;
	int err = jvm_agent_call_port(j->pid, j->port, "CALLS", &reply, why, sizeof(why));

	if (err) {
		log_warn("sensor: %s; its calls are no longer traced", why);
		return err;
	}
	doc = json_tokener_parse(reply);
	free(reply);
	if (!doc || !json_object_object_get_ex(doc, "calls", &calls) ||
	    !json_object_is_type(calls, json_type_array)) {
		json_object_put(doc);
		return 0; /* an error line (the agent disabled itself): try again later */
	}
	for (size_t i = 0; i < json_object_array_length(calls); i++) {
		json_object *c = json_object_array_get_idx(calls, i);
		int64_t v[4];

		if (json_object_array_length(c) != 4)
			continue;
		for (int k = 0; k < 4; k++)
			v[k] = json_object_get_int64(json_object_array_get_idx(c, k));
		shipper__add_call(s, j->pid, (uint32_t)v[1], (uint64_t)(v[2] + offset),
				  (uint64_t)(v[3] + offset),
				  method_name(j, v[0], buf, sizeof(buf)));
	}
	if (json_object_object_get_ex(doc, "lost", &lost) &&
	    (uint64_t)json_object_get_int64(lost) > j->lost) {
		j->lost = (uint64_t)json_object_get_int64(lost);
		log_warn(
		    "sensor: JVM %u lost %llu calls in all (its rings overflowed between drains)",
		    j->pid, (unsigned long long)j->lost);
	}
	json_object_put(doc);
	return 0;
}

void jvm_traces__poll(struct jvm_traces *t, struct shipper *s, uint64_t now_mono)
{
	int64_t offset;

	if (!t->n || now_mono < t->next_poll)
		return;
	t->next_poll = now_mono + TRACE_POLL_NS;
	offset = clock_to_wall_offset(CLOCK_MONOTONIC); /* the JVM's System.nanoTime() */
	for (int i = t->n - 1; i >= 0; i--)
		if (drain(&t->jvms[i], s, offset))
			traced_drop(t, i);
}

#include "profile/node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "apiclient/api_client.h"
#include "common/jsonv.h"
#include "hostprof/jvm_client.h"
#include "hostprof/procfs.h"
#include "wire/command.h"

/* ---- remote: a sensor through the server's control channel ------------------------------ */

/* Sends one command; on success *reply is the sensor's answer after "ok". */
static int remote(struct prof_node *n, const char *cmd, json_object **doc, const char **reply,
		  char *err, size_t errcap)
{
	char path[512];
	char *esc = curl_easy_escape(NULL, n->sensor, 0);

	if (!esc)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/api/sensors/%s/control", esc);
	curl_free(esc);
	/* api_client_post prints the server's or the sensor's reason on stderr */
	if (api_client_post("profile", n->api, path, cmd, doc)) {
		snprintf(err, errcap, "node '%s': '%s' failed (reason above)", n->name, cmd);
		return -EIO;
	}
	*reply = jv_str(*doc, "reply");
	if (strncmp(*reply, "ok", 2)) {
		snprintf(err, errcap, "node '%s': %s", n->name, *reply);
		json_object_put(*doc);
		*doc = NULL;
		return -EIO;
	}
	*reply += 2;
	*reply += strspn(*reply, " ");
	return 0;
}

static int remote_resolve_once(struct prof_node *n, char *err, size_t errcap)
{
	json_object *doc, *list;
	char seen[512] = "";
	size_t len = 0;
	int found = 0;

	if (api_client_get("profile", n->api, "/api/sensors", &doc)) {
		snprintf(err, errcap, "node '%s': cannot list the server's sensors", n->name);
		return -EIO;
	}
	if (json_object_object_get_ex(doc, "sensors", &list)) {
		for (size_t i = 0; i < json_object_array_length(list) && !found; i++) {
			json_object *s = json_object_array_get_idx(list, i);
			const char *id = jv_str(s, "id"), *host = jv_str(s, "host");

			if (!jv_bool(s, "connected"))
				continue;
			if (!strcmp(id, n->name) || !strcmp(host, n->name)) {
				n->sensor = strdup(id);
				found = n->sensor ? 1 : -1;
			} else if (len < sizeof(seen) - 2) {
				len += snprintf(seen + len, sizeof(seen) - len, "%s%s",
						len ? ", " : "", id);
			}
		}
	}
	json_object_put(doc);
	if (found < 0)
		return -ENOMEM;
	if (!found) {
		snprintf(err, errcap,
			 "node '%s': no connected sensor with that id or host (connected: %s)",
			 n->name, len ? seen : "none");
		return -ENOENT;
	}
	return 0;
}

/* The server lists a sensor with its first status report, a second or so
 * after it connects: a sensor that has just started gets a few tries. */
static int remote_resolve(struct prof_node *n, char *err, size_t errcap)
{
	int ret;

	for (int i = 0; (ret = remote_resolve_once(n, err, errcap)) == -ENOENT && i < 4; i++)
		sleep(1);
	return ret;
}

/* "a,b,c" of the node's process names. */
static void proc_list(const struct prof_node *n, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n->nprocs && len < cap; i++)
		len += snprintf(out + len, cap - len, "%s%s", i ? "," : "", n->procs[i].name);
}

/* ---- local: this host's /proc -------------------------------------------------------------- */

static int local_check(struct prof_node *n, char *err, size_t errcap)
{
	char host[256] = "";
	uint32_t pid;

	gethostname(host, sizeof(host) - 1);
	if (strcmp(n->name, "localhost") && strcmp(n->name, host) && strncmp(n->name, "127.", 4) &&
	    strcmp(n->name, "::1")) {
		snprintf(err, errcap,
			 "node '%s' is not this host (%s): profiling other hosts needs their "
			 "sensors and --server",
			 n->name, host);
		return -EINVAL;
	}
	for (size_t i = 0; i < n->nprocs; i++) {
		int found = procfs_find(n->procs[i].name, 0, &pid, 1);

		if (found < 0) {
			snprintf(err, errcap, "node '%s': cannot read /proc: %s", n->name,
				 strerror(-found));
			return found;
		}
		if (!found) {
			snprintf(err, errcap, "node '%s': no process named '%s'", n->name,
				 n->procs[i].name);
			return -ESRCH;
		}
	}
	return 0;
}

/* ---- JVM agents ---------------------------------------------------------------------------- */

/* One agent command to the JVMs of process i: {"jvms":[{"pid","reply"}]}
 * in *out (caller puts it). An agent's "ERR ..." is an error. */
static int jvm_cmd(struct prof_node *n, size_t i, const char *cmd, json_object **out, char *err,
		   size_t errcap)
{
	char line[COMMAND_LINE_MAX];
	const char *reply;
	json_object *doc = NULL, *list;
	int ret;

	*out = NULL;
	if (!n->api) {
		char why[256];

		if ((ret = jvm_agents_call(n->procs[i].name, 0, cmd, out, why, sizeof(why))))
			snprintf(err, errcap, "node '%s': %s", n->name, why);
	} else {
		if (snprintf(line, sizeof(line), "profile jvm %s %s", n->procs[i].name, cmd) >=
		    (int)sizeof(line)) {
			snprintf(err, errcap,
				 "node '%s': the command for JVM '%s' exceeds %d bytes", n->name,
				 n->procs[i].name, COMMAND_LINE_MAX - 1);
			return -E2BIG;
		}
		if (!(ret = remote(n, line, &doc, &reply, err, errcap)) &&
		    !(*out = json_tokener_parse(reply))) {
			snprintf(err, errcap, "node '%s': a JVM reply that is not JSON", n->name);
			ret = -EBADMSG;
		}
		json_object_put(doc);
	}
	list = ret ? NULL : jv_member(*out, "jvms");
	for (size_t k = 0; list && k < json_object_array_length(list); k++) {
		const char *r = jv_str(json_object_array_get_idx(list, k), "reply");

		if (!strncmp(r, "ERR", 3)) {
			snprintf(err, errcap, "node '%s': JVM '%s' agent refused '%s': %s", n->name,
				 n->procs[i].name, cmd, r);
			ret = -EINVAL;
		}
	}
	if (ret) {
		json_object_put(*out);
		*out = NULL;
	}
	return ret;
}

/* The agents' clock in a reply that carries it (STATUS, DUMP): the first
 * JVM's, all of a host's JVMs share CLOCK_MONOTONIC. */
static uint64_t agent_clock(json_object *out)
{
	json_object *jvms = jv_member(out, "jvms");
	json_object *first = jvms ? json_object_array_get_idx(jvms, 0) : NULL;

	return (uint64_t)jv_int(jv_member(first, "reply"), "monotonic_ns");
}

static const char *const agents_stop[] = {"STOP"};

/* Runs cmds in turn on every JVM with a filter; stops at the first error.
 * A STATUS after START records when the agents started. */
static int jvms_do(struct prof_node *n, const char *const *cmds, size_t ncmds, char *err,
		   size_t errcap)
{
	char cmd[COMMAND_LINE_MAX];
	json_object *out;
	int ret;

	for (size_t i = 0; i < n->nprocs; i++) {
		struct prof_proc *p = &n->procs[i];

		for (size_t c = 0; p->filter && c < ncmds; c++) {
			if (snprintf(cmd, sizeof(cmd), "%s%s", cmds[c],
				     strcmp(cmds[c], "FILTER ") ? "" : p->filter) >=
			    (int)sizeof(cmd)) {
				snprintf(err, errcap,
					 "node '%s': the components of '%s' make a filter over %d "
					 "bytes",
					 n->name, p->name, COMMAND_LINE_MAX - 1);
				return -E2BIG;
			}
			if ((ret = jvm_cmd(n, i, cmd, &out, err, errcap)))
				return ret;
			if (!strcmp(cmds[c], "STATUS"))
				p->agent_from_ns = agent_clock(out);
			json_object_put(out);
		}
	}
	return 0;
}

/* ---- the interface ------------------------------------------------------------------------ */

int prof_node__check(struct prof_node *n, char *err, size_t errcap)
{
	char cmd[1024], names[900];
	const char *reply;
	json_object *doc;
	static const char *const status[] = {"STATUS"};
	int ret;

	if (!n->api) {
		ret = local_check(n, err, errcap);
	} else if (n->sensor || !(ret = remote_resolve(n, err, errcap))) {
		proc_list(n, names, sizeof(names));
		snprintf(cmd, sizeof(cmd), "profile find %s", names);
		ret = remote(n, cmd, &doc, &reply, err, errcap);
		json_object_put(doc);
	}
	return ret ? ret : jvms_do(n, status, 1, err, errcap);
}

int prof_node__start(struct prof_node *n, const char *id, char *err, size_t errcap)
{
	char cmd[1024], names[900];
	const char *reply;
	json_object *doc;
	static const char *const start[] = {"RESET", "FILTER ", "START", "STATUS"};
	int ret;

	if (!n->api) {
		const char **v = calloc(n->nprocs, sizeof(*v));

		for (size_t i = 0; v && i < n->nprocs; i++)
			v[i] = n->procs[i].name;
		ret = v ? prof_session__start(&n->local, v, n->nprocs, 0, err, errcap) : -ENOMEM;
		free(v);
	} else {
		proc_list(n, names, sizeof(names));
		snprintf(cmd, sizeof(cmd), "profile start %s %s", id, names);
		ret = remote(n, cmd, &doc, &reply, err, errcap);
		json_object_put(doc);
	}
	if (!ret && (ret = jvms_do(n, start, 4, err, errcap)))
		prof_node__abort(n, id);
	return ret;
}

int prof_node__stop(struct prof_node *n, const char *id, char *err, size_t errcap)
{
	char cmd[128], *json = NULL;
	const char *reply;
	json_object *doc = NULL;
	int ret;

	json_object_put(n->last);
	n->last = NULL;
	/* the agents' figures first, then their cost goes */
	for (size_t i = 0; i < n->nprocs; i++) {
		struct prof_proc *p = &n->procs[i];

		json_object_put(p->dump);
		p->dump = NULL;
		p->agent_s = 0;
		if (p->filter && jvm_cmd(n, i, "DUMP", &p->dump, err, errcap))
			fprintf(stderr, "weft profile: %s\n", err);
		else if (p->dump && agent_clock(p->dump) > p->agent_from_ns)
			p->agent_s = (double)(agent_clock(p->dump) - p->agent_from_ns) / 1e9;
	}
	if (jvms_do(n, agents_stop, 1, err, errcap))
		fprintf(stderr, "weft profile: %s\n", err);
	if (!n->api) {
		ret = prof_session__stop(n->local, &json);
		prof_session__free(n->local);
		n->local = NULL;
		if (ret) {
			snprintf(err, errcap, "node '%s': profile failed: %s", n->name,
				 strerror(-ret));
			return ret;
		}
		reply = json;
	} else {
		snprintf(cmd, sizeof(cmd), "profile stop %s", id);
		if ((ret = remote(n, cmd, &doc, &reply, err, errcap)))
			return ret;
	}
	n->last = json_tokener_parse(reply);
	free(json);
	json_object_put(doc);
	if (!n->last) {
		snprintf(err, errcap, "node '%s': the profile is not JSON", n->name);
		return -EBADMSG;
	}
	return 0;
}

void prof_node__abort(struct prof_node *n, const char *id)
{
	char cmd[128], err[256];
	const char *reply;
	json_object *doc = NULL;

	jvms_do(n, agents_stop, 1, err, sizeof(err));
	if (!n->api) {
		prof_session__free(n->local);
		n->local = NULL;
		return;
	}
	snprintf(cmd, sizeof(cmd), "profile abort %s", id);
	if (!remote(n, cmd, &doc, &reply, err, sizeof(err)))
		json_object_put(doc);
}

void prof_node__free(struct prof_node *n)
{
	if (!n)
		return;
	prof_session__free(n->local);
	for (size_t i = 0; i < n->nprocs; i++) {
		free(n->procs[i].name);
		free(n->procs[i].filter);
		json_object_put(n->procs[i].dump);
	}
	free(n->procs);
	free(n->name);
	free(n->sensor);
	json_object_put(n->last);
	memset(n, 0, sizeof(*n));
}

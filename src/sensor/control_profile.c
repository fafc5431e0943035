#include "sensor/control_profile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/log.h"
#include "hostprof/jvm_client.h"
#include "hostprof/procfs.h"

#define FIND_PIDS_MAX 1024 /* pids listed per name by "profile find" */

struct profile_slot {
	char id[PROFILE_ID_MAX + 1]; /* "" when free */
	struct prof_session *s;
};

struct profiles {
	char host[256];
	uint32_t netns;
	unsigned active; /* sessions running: events cost nothing while it is 0 */
	struct profile_slot slots[PROFILES_MAX];
	struct capture *cap; /* whether messages are captured (network bytes); may be NULL */
};

struct profiles *profiles__new(const char *host, uint32_t netns)
{
	struct profiles *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->host, sizeof(p->host), "%s", host);
	p->netns = netns;
	return p;
}

static void slot_free(struct profiles *p, struct profile_slot *sl)
{
	prof_session__free(sl->s);
	sl->s = NULL;
	sl->id[0] = '\0';
	p->active--;
}

void profiles__free(struct profiles *p)
{
	if (!p)
		return;
	for (int i = 0; i < PROFILES_MAX; i++)
		if (p->slots[i].s)
			slot_free(p, &p->slots[i]);
	free(p);
}

void profiles__event(struct profiles *p, const struct weft_event *e)
{
	if (!p || !p->active)
		return;
	for (int i = 0; i < PROFILES_MAX; i++)
		if (p->slots[i].s)
			prof_session__count_net(p->slots[i].s, e->pid,
						e->type == WEFT_EV_RECV ? e->len : 0,
						e->type == WEFT_EV_SEND ? e->len : 0);
}

/* Appends to a reply; false once it no longer fits (the reply is then cut). */
static bool __attribute__((format(printf, 4, 5)))
append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len) {
		*len = cap;
		return false;
	}
	*len += (size_t)n;
	return true;
}

static bool id_ok(const char *id)
{
	size_t n = strlen(id);

	if (!n || n > PROFILE_ID_MAX)
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static struct profile_slot *slot_find(struct profiles *p, const char *id)
{
	for (int i = 0; i < PROFILES_MAX; i++)
		if (p->slots[i].s && !strcmp(p->slots[i].id, id))
			return &p->slots[i];
	return NULL;
}

/* Splits "a,b,c" (modified in place) into names; 0 or -EINVAL. */
static int split_names(char *list, char **names, size_t *n)
{
	char *save = NULL;

	*n = 0;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == PROFILE_NAMES_MAX)
			return -EINVAL;
		names[(*n)++] = t;
	}
	return *n ? 0 : -EINVAL;
}

static int cmd_find(struct profiles *p, char **names, size_t n, char *reply, size_t cap)
{
	uint32_t *pids = malloc(FIND_PIDS_MAX * sizeof(*pids));
	size_t len = 0;
	int err = 0;

	if (!pids) {
		snprintf(reply, cap, "error: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	append(reply, cap, &len, "ok");
	for (size_t i = 0; i < n; i++) {
		int found = procfs_find(names[i], p->netns, pids, FIND_PIDS_MAX);

		if (found <= 0) {
			if (found == -EINVAL)
				snprintf(reply, cap, "error: bad process name '%s'\n", names[i]);
			else if (found < 0)
				snprintf(reply, cap, "error: cannot read /proc: %s\n",
					 strerror(-found));
			else
				snprintf(reply, cap, "error: no process named '%s' on %s\n",
					 names[i], p->host);
			err = found ? found : -ESRCH;
			break;
		}
		append(reply, cap, &len, " %s=", names[i]);
		for (int k = 0; k < found && k < FIND_PIDS_MAX; k++)
			append(reply, cap, &len, "%s%u", k ? "," : "", pids[k]);
		if (found > FIND_PIDS_MAX)
			append(reply, cap, &len, ",...(%d in all)", found);
	}
	free(pids);
	if (!err && !append(reply, cap, &len, "\n")) {
		snprintf(reply, cap, "error: too many processes to list\n");
		err = -E2BIG;
	}
	return err;
}

static int cmd_start(struct profiles *p, struct capture *cap, const char *id, char **names,
		     size_t n, char *reply, size_t replycap)
{
	struct profile_slot *sl = NULL;
	char err[PROF_NAME_MAX + 96];
	uint32_t pids[256];
	size_t len = 0, np;
	int ret;

	if (slot_find(p, id)) {
		snprintf(reply, replycap, "error: profile '%s' is running already\n", id);
		return -EEXIST;
	}
	for (int i = 0; i < PROFILES_MAX && !sl; i++)
		if (!p->slots[i].s)
			sl = &p->slots[i];
	if (!sl) {
		snprintf(reply, replycap, "error: %d profiles are running already (stop one)\n",
			 PROFILES_MAX);
		return -EBUSY;
	}
	ret =
	    prof_session__start(&sl->s, (const char *const *)names, n, p->netns, err, sizeof(err));
	if (ret) {
		snprintf(reply, replycap, "error: %s on %s\n", err, p->host);
		return ret;
	}
	/* Without message capture no send or recv event arrives to count. */
	prof_session__set_net_counting(sl->s, cap && capture__messages(cap));
	snprintf(sl->id, sizeof(sl->id), "%s", id);
	p->active++;
	np = prof_session__pids(sl->s, pids, sizeof(pids) / sizeof(pids[0]));
	append(reply, replycap, &len, "ok pids=");
	for (size_t i = 0; i < np && i < sizeof(pids) / sizeof(pids[0]); i++)
		append(reply, replycap, &len, "%s%u", i ? "," : "", pids[i]);
	if (np > sizeof(pids) / sizeof(pids[0]))
		append(reply, replycap, &len, ",...(%zu in all)", np);
	append(reply, replycap, &len, "\n");
	log_info("sensor: profile %s started (%zu processes)", id, np);
	return 0;
}

/* The session's profile with as many threads per process as fit in
 * replycap next to "ok " and the newline: the busiest ones. *json is NULL
 * when not even a profile without threads fits. A thread takes at least
 * 50 bytes, so no more than replycap / 50 of them can fit. */
static int render_to_fit(struct prof_session *s, size_t replycap, char **json)
{
	size_t lo = 0, hi = replycap / 50;
	int err = 0;

	*json = NULL;
	while (lo <= hi && !err) {
		size_t mid = lo + (hi - lo) / 2;
		char *j;

		err = prof_session__render(s, mid, &j);
		if (!err && strlen(j) + 5 <= replycap) {
			free(*json);
			*json = j;
			lo = mid + 1;
		} else {
			free(j);
			if (!mid)
				break;
			hi = mid - 1;
		}
	}
	return err;
}

/* Ends the session: "ok JSON\n" in reply, its thread lists cut to the
 * busiest threads when the whole profile would not fit. */
static int cmd_stop(struct profiles *p, struct capture *cap, struct profile_slot *sl, char *reply,
		    size_t replycap)
{
	char *json = NULL;
	int err;

	if (!cap || !capture__messages(cap)) /* switched off during the window */
		prof_session__set_net_counting(sl->s, false);
	err = prof_session__stop(sl->s, &json);
	if (!err && strlen(json) + 5 > replycap) {
		free(json);
		err = render_to_fit(sl->s, replycap, &json);
	}
	if (err) {
		snprintf(reply, replycap, "error: profile '%s' failed: %s\n", sl->id,
			 strerror(-err));
	} else if (!json) {
		snprintf(reply, replycap, "error: profile '%s' is too large for a reply\n", sl->id);
		err = -E2BIG;
	} else {
		snprintf(reply, replycap, "ok %s\n", json);
		log_info("sensor: profile %s stopped (%zu bytes)", sl->id, strlen(json));
	}
	if (err)
		log_warn("sensor: profile %s lost: %.*s", sl->id, (int)strcspn(reply, "\n"), reply);
	free(json);
	slot_free(p, sl);
	return err;
}

/* "jvm PROCESS COMMAND...": one command to the agent of every JVM of that
 * name here (jvm_agents_call), the replies as one line of JSON. */
static int cmd_jvm(struct profiles *p, const char *args, char *reply, size_t cap)
{
	char name[64], why[256];
	size_t nlen = strcspn(args, " \t");
	const char *cmd = args + nlen + strspn(args + nlen, " \t");
	json_object *doc;
	int err;

	if (!nlen || nlen >= sizeof(name) || !*cmd)
		return -EINVAL;
	memcpy(name, args, nlen);
	name[nlen] = '\0';
	err = jvm_agents_call(name, p->netns, cmd, &doc, why, sizeof(why));
	if (err) {
		snprintf(reply, cap, "error: %s on %s\n", why, p->host);
		return err;
	}
	if ((size_t)snprintf(reply, cap, "ok %s\n",
			     json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN)) >= cap) {
		snprintf(reply, cap, "error: the agents' replies exceed %zu bytes\n", cap);
		err = -E2BIG;
	}
	json_object_put(doc);
	return err;
}

static int profile_verb(void *ctx, const char *args, char *reply, size_t replycap)
{
	struct profiles *p = ctx;
	struct capture *cap = p->cap;
	char buf[1024], *tok[4] = {0}, *save = NULL, *names[PROFILE_NAMES_MAX];
	struct profile_slot *sl;
	size_t ntok = 0, nnames;
	const char *sub;

	args += strspn(args, " \t");
	if (!strncmp(args, "jvm ", 4))
		return cmd_jvm(p, args + 4 + strspn(args + 4, " \t"), reply, replycap);
	if (strlen(args) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, args);
	for (char *t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (ntok == 4)
			return -EINVAL;
		tok[ntok++] = t;
	}
	if (!ntok)
		return -EINVAL;
	sub = tok[0];
	if (!strcmp(sub, "list") && ntok == 1) {
		size_t len = 0;

		append(reply, replycap, &len, "ok");
		for (int i = 0; i < PROFILES_MAX; i++)
			if (p->slots[i].s)
				append(reply, replycap, &len, " %s", p->slots[i].id);
		append(reply, replycap, &len, "\n");
		return 0;
	}
	if (!strcmp(sub, "find") && ntok == 2)
		return split_names(tok[1], names, &nnames)
			   ?: cmd_find(p, names, nnames, reply, replycap);
	if (ntok < 2 || !id_ok(tok[1]))
		return -EINVAL;
	if (!strcmp(sub, "start") && ntok == 3)
		return split_names(tok[2], names, &nnames)
			   ?: cmd_start(p, cap, tok[1], names, nnames, reply, replycap);
	if ((strcmp(sub, "stop") && strcmp(sub, "abort")) || ntok != 2)
		return -EINVAL;
	sl = slot_find(p, tok[1]);
	if (!sl) {
		snprintf(reply, replycap, "error: no profile '%s' is running\n", tok[1]);
		return -ENOENT;
	}
	if (!strcmp(sub, "stop"))
		return cmd_stop(p, cap, sl, reply, replycap);
	log_info("sensor: profile %s aborted", sl->id);
	slot_free(p, sl);
	snprintf(reply, replycap, "ok\n");
	return 0;
}

int profiles__add_commands(struct profiles *p, struct control *c, struct capture *cap)
{
	p->cap = cap;
	return control__add(c, "profile",
			    "profile find NAME[,NAME...], profile start ID NAME[,NAME...], "
			    "profile stop|abort ID, profile list, profile jvm NAME COMMAND",
			    profile_verb, p);
}

/* The seed's "resource consumption profile" from weft's own trajectories:
 * for the trajectories of a measurement window, the time each tier spent on
 * a transaction (its server time minus the calls it made downstream), how
 * often a transaction visits it, and the message flows between tiers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiclient/api_client.h"
#include "common/jsonv.h"
#include "profile/profile.h"

#define TIERS_MAX 64
#define FLOWS_MAX 128

struct tier {
	char name[160];
	double self_ms, server_ms;
	unsigned visits;
};

struct flow {
	char from[160], to[160];
	double ms; /* client-observed time of the calls */
	unsigned calls;
};

/* "host/comm" of a side, or "" when that side was not observed. */
static void side_name(json_object *side, char *out, size_t cap)
{
	if (!side || json_object_get_type(side) != json_type_object)
		snprintf(out, cap, "%s", "");
	else
		snprintf(out, cap, "%s/%s", jv_str(side, "host"), jv_str(side, "comm"));
}

static struct tier *tier_of(struct tier *t, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	if (*n == TIERS_MAX)
		return NULL;
	memset(&t[*n], 0, sizeof(*t));
	snprintf(t[*n].name, sizeof(t->name), "%s", name);
	return &t[(*n)++];
}

static struct flow *flow_of(struct flow *f, size_t *n, const char *from, const char *to)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(f[i].from, from) && !strcmp(f[i].to, to))
			return &f[i];
	if (*n == FLOWS_MAX)
		return NULL;
	memset(&f[*n], 0, sizeof(*f));
	snprintf(f[*n].from, sizeof(f->from), "%s", from);
	snprintf(f[*n].to, sizeof(f->to), "%s", to);
	return &f[(*n)++];
}

static void add_trajectory(json_object *doc, struct tier *t, size_t *nt, struct flow *f, size_t *nf)
{
	json_object *spans = jv_member(doc, "spans");
	size_t n = spans ? json_object_array_length(spans) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *sp = json_object_array_get_idx(spans, i);
		const char *id = jv_str(sp, "id");
		char from[160], to[160];
		double dur = (double)jv_int(sp, "duration_ns") / 1e6, server, child = 0;
		struct tier *tr;
		struct flow *fl;

		side_name(jv_member(sp, "server"), to, sizeof(to));
		side_name(jv_member(sp, "client"), from, sizeof(from));
		if (!*to)
			snprintf(to, sizeof(to), "service %s", jv_str(sp, "server_service"));
		if (!*from)
			snprintf(from, sizeof(from), "%s", "client");
		server =
		    jv_member(sp, "server_end_ns") && jv_member(sp, "server_start_ns")
			? (double)(jv_int(sp, "server_end_ns") - jv_int(sp, "server_start_ns")) /
			      1e6
			: dur;
		for (size_t j = 0; j < n; j++) {
			json_object *c = json_object_array_get_idx(spans, j);

			if (!strcmp(jv_str(c, "parent"), id))
				child += (double)jv_int(c, "duration_ns") / 1e6;
		}
		if ((tr = tier_of(t, nt, to))) {
			tr->visits++;
			tr->server_ms += server;
			tr->self_ms += server > child ? server - child : 0;
		}
		if ((fl = flow_of(f, nf, from, to))) {
			fl->calls++;
			fl->ms += dur;
		}
	}
}

json_object *profile_breakdown(const char *api, unsigned long long since_ns,
			       unsigned long long until_ns, unsigned max_traj)
{
	struct tier *t = calloc(TIERS_MAX, sizeof(*t));
	struct flow *f = calloc(FLOWS_MAX, sizeof(*f));
	json_object *page = NULL, *list, *out = NULL, *tiers, *flows;
	size_t nt = 0, nf = 0, ntraj = 0;
	char path[256];

	if (!t || !f)
		goto cleanup;
	snprintf(path, sizeof(path), "/api/trajectories?since=%llu&until=%llu&limit=%u", since_ns,
		 until_ns, max_traj);
	if (api_client_get("profile", api, path, &page) ||
	    !(list = jv_member(page, "trajectories")))
		goto cleanup;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *doc;

		snprintf(path, sizeof(path), "/api/trajectories/%s",
			 jv_str(json_object_array_get_idx(list, i), "id"));
		if (api_client_get("profile", api, path, &doc))
			continue;
		add_trajectory(doc, t, &nt, f, &nf);
		json_object_put(doc);
		ntraj++;
	}
	if (!ntraj)
		goto cleanup;
	out = json_object_new_object();
	tiers = json_object_new_array();
	flows = json_object_new_array();
	json_object_object_add(out, "trajectories", json_object_new_int64((int64_t)ntraj));
	json_object_object_add(out, "trajectories_in_window",
			       json_object_new_int64(jv_int(page, "total")));
	for (size_t i = 0; i < nt; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "tier", json_object_new_string(t[i].name));
		json_object_object_add(o, "visits",
				       json_object_new_double((double)t[i].visits / ntraj));
		json_object_object_add(o, "self_ms", json_object_new_double(t[i].self_ms / ntraj));
		json_object_object_add(o, "server_ms",
				       json_object_new_double(t[i].server_ms / ntraj));
		json_object_array_add(tiers, o);
	}
	for (size_t i = 0; i < nf; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "from", json_object_new_string(f[i].from));
		json_object_object_add(o, "to", json_object_new_string(f[i].to));
		json_object_object_add(o, "per_transaction",
				       json_object_new_double((double)f[i].calls / ntraj));
		json_object_object_add(o, "mean_ms", json_object_new_double(f[i].ms / f[i].calls));
		json_object_array_add(flows, o);
	}
	json_object_object_add(out, "tiers", tiers);
	json_object_object_add(out, "flows", flows);
cleanup:
	json_object_put(page);
	free(t);
	free(f);
	return out;
}

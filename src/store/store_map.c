/* The dependency map: edges aggregated from the spans in a window, nodes
 * for the services seen there, and applications as connected components of
 * the services over those edges (union-find). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/store_sqlite.h"

#define MAP_MAX_PORTS 16

struct map_node {
	uint64_t id;                    /* service id, the hash key */
	struct map_node *up;            /* union-find parent; itself at a root */
	uint64_t comp_min;              /* at a root: smallest service id of the component */
	struct map_node *entry;         /* at a root: the entry service (naming) */
	bool incoming;                  /* some other service calls it in the window */
	uint16_t ports[MAP_MAX_PORTS];  /* ports it served on in the window */
	int nports;
	int64_t instances;              /* distinct (host, pid) acting as it */
	UT_hash_handle hh;
};

struct map_edge {
	uint64_t source, target; /* client and server service */
	uint16_t port;
	uint64_t calls, errors, bytes;
	double p50_ms, p95_ms, p99_ms;
};

struct map {
	struct map_node *nodes;  /* uthash by id */
	struct map_edge *edges;  /* nedges, sorted by (source, target, port) */
	size_t nedges, edges_cap;
	uint64_t *durs;          /* the current edge's durations, ascending */
	size_t ndurs, durs_cap;
};

static void map_free(struct map *m)
{
	struct map_node *n, *tmp;

	HASH_ITER(hh, m->nodes, n, tmp) {
		HASH_DEL(m->nodes, n);
		free(n);
	}
	free(m->edges);
	free(m->durs);
}

static struct map_node *node_get(struct map *m, uint64_t id)
{
	struct map_node *n;

	HASH_FIND(hh, m->nodes, &id, sizeof(id), n);
	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->id = id;
	n->up = n;
	HASH_ADD(hh, m->nodes, id, sizeof(n->id), n);
	return n;
}

static struct map_node *node_root(struct map_node *n)
{
	while (n->up != n) {
		n->up = n->up->up; /* path halving */
		n = n->up;
	}
	return n;
}

static void node_union(struct map_node *a, struct map_node *b)
{
	a = node_root(a);
	b = node_root(b);
	if (a != b)
		b->up = a;
}

static void node_add_port(struct map_node *n, uint16_t port)
{
	for (int i = 0; i < n->nports; i++)
		if (n->ports[i] == port)
			return;
	if (port && n->nports < MAP_MAX_PORTS)
		n->ports[n->nports++] = port;
}

/* Nearest-rank percentile of the sorted durations, in milliseconds. */
static double percentile_ms(const uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p * (double)n);

	if (!n)
		return 0;
	if (rank < 1)
		rank = 1;
	return (double)v[rank - 1] / 1e6;
}

static int push(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, (*cap ? *cap * 2 : 64) * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = *cap ? *cap * 2 : 64;
	return 0;
}

/* Closes the edge being accumulated: percentiles and graph links. */
static int edge_finish(struct map *m)
{
	struct map_edge *e = &m->edges[m->nedges - 1];
	struct map_node *src = node_get(m, e->source), *dst = node_get(m, e->target);

	if (!src || !dst)
		return -ENOMEM;
	e->p50_ms = percentile_ms(m->durs, m->ndurs, 0.50);
	e->p95_ms = percentile_ms(m->durs, m->ndurs, 0.95);
	e->p99_ms = percentile_ms(m->durs, m->ndurs, 0.99);
	m->ndurs = 0;
	node_union(src, dst);
	node_add_port(dst, e->port);
	if (src != dst)
		dst->incoming = true;
	return 0;
}

/* Adds one span row to the current edge or opens the next one. */
static int edge_row(struct map *m, sqlite3_stmt *st)
{
	uint64_t src = store_id_from_db(sqlite3_column_int64(st, 0));
	uint64_t dst = store_id_from_db(sqlite3_column_int64(st, 1));
	uint16_t port = (uint16_t)sqlite3_column_int(st, 2);
	struct map_edge *e = m->nedges ? &m->edges[m->nedges - 1] : NULL;
	int err;

	if (!e || e->source != src || e->target != dst || e->port != port) {
		if (e && (err = edge_finish(m)))
			return err;
		if ((err = push((void **)&m->edges, &m->edges_cap, m->nedges, sizeof(*e))))
			return err;
		e = &m->edges[m->nedges++];
		*e = (struct map_edge){.source = src, .target = dst, .port = port};
	}
	if ((err = push((void **)&m->durs, &m->durs_cap, m->ndurs, sizeof(*m->durs))))
		return err;
	m->durs[m->ndurs++] = (uint64_t)sqlite3_column_int64(st, 3);
	e->calls++;
	e->errors += sqlite3_column_int(st, 4) != 0;
	e->bytes += (uint64_t)sqlite3_column_int64(st, 5);
	return 0;
}

static int load_edges(struct store *s, struct map *m, uint64_t since, uint64_t until)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_MAP_EDGES);
	int rc, err = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)until);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = edge_row(m, st);
	if (!err && rc != SQLITE_DONE)
		err = store_fail(s, "aggregating the map");
	if (!err && m->nedges)
		err = edge_finish(m);
	sqlite3_reset(st);
	return err;
}

static int load_instances(struct store *s, struct map *m, uint64_t since, uint64_t until)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_MAP_INSTANCES);
	struct map_node *n;
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t id = store_id_from_db(sqlite3_column_int64(st, 0));

		HASH_FIND(hh, m->nodes, &id, sizeof(id), n);
		if (n)
			n->instances = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "counting instances");
}

static int by_id(struct map_node *a, struct map_node *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Components: each root learns its smallest id and its entry service, the
 * smallest id with no incoming edge (else the smallest id: a cycle). */
static void label_components(struct map *m)
{
	struct map_node *n, *tmp, *r;

	HASH_SORT(m->nodes, by_id);
	HASH_ITER(hh, m->nodes, n, tmp) {
		r = node_root(n);
		if (!r->entry) { /* ascending ids: the first member met is the smallest */
			r->comp_min = n->id;
			r->entry = n;
		} else if (r->entry->incoming && !n->incoming) {
			r->entry = n;
		}
	}
}

/* Builds the whole map of a window into m. */
static int map_build(struct store *s, struct map *m, uint64_t since, uint64_t until)
{
	int err = load_edges(s, m, since, until);

	if (!err)
		err = load_instances(s, m, since, until);
	if (!err)
		label_components(m);
	return err;
}

void store_app_id(uint64_t smallest, char *buf, size_t cap)
{
	snprintf(buf, cap, "app-%016" PRIx64, smallest);
}

json_object *store_id_json(uint64_t id)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%016" PRIx64, id);
	return json_object_new_string(buf);
}

/* ---- JSON ------------------------------------------------------------------------------- */

struct svc_info {
	char host[WEFT_HOST_LEN], exe[WEFT_EXE_LEN], comm[16], addr[WEFT_ADDR_LEN];
	int port;
	bool external, known; /* known: the services table has it */
};

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void svc_lookup(struct store *s, uint64_t id, struct svc_info *info)
{
	sqlite3_stmt *st = store_stmt(s, STORE_ST_MAP_SERVICE);

	memset(info, 0, sizeof(*info));
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, store_id_to_db(id));
	if (sqlite3_step(st) == SQLITE_ROW) {
		info->known = true;
		copy_col(info->host, sizeof(info->host), st, 0);
		copy_col(info->exe, sizeof(info->exe), st, 1);
		copy_col(info->comm, sizeof(info->comm), st, 2);
		info->port = sqlite3_column_int(st, 3);
		info->external = sqlite3_column_int(st, 4);
		copy_col(info->addr, sizeof(info->addr), st, 5);
	}
	sqlite3_reset(st);
}

/* A display name: the process name, else the executable's base name, else
 * the address, else the id. */
static void svc_name(const struct svc_info *info, uint64_t id, char *buf, size_t cap)
{
	const char *base = strrchr(info->exe, '/');

	if (info->comm[0])
		snprintf(buf, cap, "%s", info->comm);
	else if (info->exe[0])
		snprintf(buf, cap, "%s", base ? base + 1 : info->exe);
	else if (info->addr[0])
		snprintf(buf, cap, "%s:%d", info->addr, info->port);
	else
		snprintf(buf, cap, "%016" PRIx64, id);
}

static json_object *node_json(struct store *s, struct map_node *n)
{
	json_object *o = json_object_new_object(), *ports = json_object_new_array();
	struct svc_info info;
	char app[24], name[WEFT_EXE_LEN + 8];

	svc_lookup(s, n->id, &info);
	svc_name(&info, n->id, name, sizeof(name));
	store_app_id(node_root(n)->comp_min, app, sizeof(app));
	if (info.port)
		node_add_port(n, (uint16_t)info.port);
	for (int i = 0; i < n->nports; i++)
		json_object_array_add(ports, json_object_new_int(n->ports[i]));
	json_object_object_add(o, "id", store_id_json(n->id));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "host", json_object_new_string(info.host));
	json_object_object_add(o, "exe", json_object_new_string(info.exe));
	json_object_object_add(o, "comm", json_object_new_string(info.comm));
	json_object_object_add(o, "addr", json_object_new_string(info.addr));
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "instances", json_object_new_int64(n->instances));
	json_object_object_add(o, "application", json_object_new_string(app));
	json_object_object_add(o, "external", json_object_new_boolean(info.external));
	return o;
}

static json_object *edge_json(const struct map_edge *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "source", store_id_json(e->source));
	json_object_object_add(o, "target", store_id_json(e->target));
	json_object_object_add(o, "port", json_object_new_int(e->port));
	json_object_object_add(o, "calls", json_object_new_int64((int64_t)e->calls));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)e->errors));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)e->bytes));
	json_object_object_add(o, "p50_ms", json_object_new_double(e->p50_ms));
	json_object_object_add(o, "p95_ms", json_object_new_double(e->p95_ms));
	json_object_object_add(o, "p99_ms", json_object_new_double(e->p99_ms));
	return o;
}

/* One entry per component root, in order of smallest service id; nodes are
 * sorted by id, so a component's first node is its smallest. */
static json_object *apps_json(struct store *s, struct map *m)
{
	json_object *apps = json_object_new_array();
	struct map_node *n, *tmp;

	HASH_ITER(hh, m->nodes, n, tmp) {
		struct map_node *r = node_root(n), *x, *tmp2;
		json_object *o, *svcs;
		struct svc_info info;
		char app[24], name[WEFT_EXE_LEN + 8];

		if (n->id != r->comp_min)
			continue;
		o = json_object_new_object();
		svcs = json_object_new_array();
		svc_lookup(s, r->entry->id, &info);
		svc_name(&info, r->entry->id, name, sizeof(name));
		store_app_id(r->comp_min, app, sizeof(app));
		HASH_ITER(hh, m->nodes, x, tmp2)
			if (node_root(x) == r)
				json_object_array_add(svcs, store_id_json(x->id));
		json_object_object_add(o, "id", json_object_new_string(app));
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "entry", store_id_json(r->entry->id));
		json_object_object_add(o, "services", svcs);
		json_object_array_add(apps, o);
	}
	return apps;
}

static uint64_t window_end(uint64_t until_ns)
{
	return until_ns ? until_ns : wall_ns() + 1;
}

int store__query_map(struct store *s, const struct store_map_query *q, json_object **out)
{
	struct map m = {0};
	json_object *doc, *nodes, *edges;
	struct map_node *n, *tmp;
	int err;

	err = map_build(s, &m, q->since_ns, window_end(q->until_ns));
	if (err)
		goto cleanup;
	doc = json_object_new_object();
	nodes = json_object_new_array();
	edges = json_object_new_array();
	HASH_ITER(hh, m.nodes, n, tmp)
		json_object_array_add(nodes, node_json(s, n));
	for (size_t i = 0; i < m.nedges; i++)
		json_object_array_add(edges, edge_json(&m.edges[i]));
	json_object_object_add(doc, "since_ns", json_object_new_int64((int64_t)q->since_ns));
	json_object_object_add(doc, "until_ns",
			       json_object_new_int64((int64_t)window_end(q->until_ns)));
	json_object_object_add(doc, "nodes", nodes);
	json_object_object_add(doc, "edges", edges);
	json_object_object_add(doc, "applications", apps_json(s, &m));
	*out = doc;
cleanup:
	map_free(&m);
	return err;
}

int store_map_app_services(struct store *s, uint64_t since_ns, uint64_t until_ns,
			   const char *app_id, char **ids_json)
{
	struct map m = {0};
	struct map_node *n, *tmp;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	*ids_json = NULL;
	err = map_build(s, &m, since_ns, window_end(until_ns));
	if (err)
		goto cleanup;
	f = open_memstream(&buf, &len);
	if (!f) {
		err = -ENOMEM;
		goto cleanup;
	}
	fputc('[', f);
	HASH_ITER(hh, m.nodes, n, tmp) {
		char app[24];

		store_app_id(node_root(n)->comp_min, app, sizeof(app));
		if (!strcmp(app, app_id))
			fprintf(f, "%s%" PRId64, ftell(f) > 1 ? "," : "", (int64_t)n->id);
	}
	fputc(']', f);
	if (fclose(f)) {
		err = -ENOMEM;
		goto cleanup;
	}
	*ids_json = buf;
	buf = NULL;
cleanup:
	free(buf);
	map_free(&m);
	return err;
}

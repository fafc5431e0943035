/* weft map: the dependency map of a window from the API, as a table of
 * edges per application, a Graphviz digraph or the raw JSON. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "commands.h"
#include "common/opts.h"
#include "common/parse.h"

enum map_format { MAP_TABLE, MAP_DOT, MAP_JSON };

struct map_cfg {
	const char *api;
	const char *window;
	enum map_format format;
};

static const struct weft_opt map_opts[] = {
    {"api", CLI_OPT_API, "HOST:PORT", "the server's API (default " API_CLIENT_DEFAULT ")"},
    {"window", 'w', "DURATION", "how far back to look (default 15m)"},
    {"format", 'f', "FORMAT", "table, dot (Graphviz) or json (default table)"},
    {0},
};

static const struct weft_cmd_help map_help = {
    .usage = "weft map [OPTIONS]",
    .summary = "Prints the application dependency map the server derived from the last\n"
	       "window: which service calls which, how often, how many calls failed and\n"
	       "the client-observed latency percentiles.",
    .examples = "  weft map\n"
		"  weft map --window 1h --format dot | dot -Tsvg > map.svg\n",
};

static int map_opt(int key, const char *arg, void *ctx)
{
	struct map_cfg *cfg = ctx;
	uint64_t ns;

	switch (key) {
	case CLI_OPT_API:
		cfg->api = arg;
		return api_client_check("map", arg);
	case 'w':
		if (parse_duration_ns(arg, &ns, 1000000000ull) || !ns) {
			fprintf(stderr, "weft map: --window: expected a duration like 15m\n");
			return -EINVAL;
		}
		cfg->window = arg;
		return 0;
	case 'f':
		if (!strcmp(arg, "table"))
			cfg->format = MAP_TABLE;
		else if (!strcmp(arg, "dot"))
			cfg->format = MAP_DOT;
		else if (!strcmp(arg, "json"))
			cfg->format = MAP_JSON;
		else {
			fprintf(stderr, "weft map: --format: table, dot or json\n");
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static json_object *node_by_id(json_object *nodes, const char *id)
{
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i);

		if (!strcmp(jv_str(n, "id"), id))
			return n;
	}
	return NULL;
}

static const char *node_name(json_object *nodes, const char *id)
{
	json_object *n = node_by_id(nodes, id);

	return n && *jv_str(n, "name") ? jv_str(n, "name") : id;
}

static void print_table(json_object *doc)
{
	json_object *nodes = json_object_object_get(doc, "nodes");
	json_object *edges = json_object_object_get(doc, "edges");
	json_object *apps = json_object_object_get(doc, "applications");

	for (size_t a = 0; a < json_object_array_length(apps); a++) {
		json_object *app = json_object_array_get_idx(apps, a);

		printf("%sapplication %s (%s)\n", a ? "\n" : "", jv_str(app, "name"),
		       jv_str(app, "id"));
		printf("  %-20s %-20s %5s %8s %7s %9s %9s %9s\n", "CLIENT", "SERVER", "PORT",
		       "CALLS", "ERRORS", "P50 ms", "P95 ms", "P99 ms");
		for (size_t i = 0; i < json_object_array_length(edges); i++) {
			json_object *e = json_object_array_get_idx(edges, i);
			json_object *src = node_by_id(nodes, jv_str(e, "source"));

			if (strcmp(jv_str(src, "application"), jv_str(app, "id")))
				continue;
			printf("  %-20.20s %-20.20s %5lld %8lld %7lld %9.2f %9.2f %9.2f\n",
			       node_name(nodes, jv_str(e, "source")),
			       node_name(nodes, jv_str(e, "target")), (long long)jv_int(e, "port"),
			       (long long)jv_int(e, "calls"), (long long)jv_int(e, "errors"),
			       jv_num(e, "p50_ms"), jv_num(e, "p95_ms"), jv_num(e, "p99_ms"));
		}
	}
	if (!json_object_array_length(apps))
		printf("no traffic in the window\n");
}

/* A string fit for a quoted Graphviz label (quotes and backslashes
 * escaped, control characters dropped), truncated to fit buf. */
static const char *dot_quote(const char *in, char *buf, size_t cap)
{
	size_t n = 0;

	for (; *in && n + 3 < cap; in++) {
		if ((unsigned char)*in < 0x20)
			continue;
		if (*in == '"' || *in == '\\')
			buf[n++] = '\\';
		buf[n++] = *in;
	}
	buf[n] = '\0';
	return buf;
}

static void print_dot(json_object *doc)
{
	char q1[256], q2[128];

	json_object *nodes = json_object_object_get(doc, "nodes");
	json_object *edges = json_object_object_get(doc, "edges");
	json_object *apps = json_object_object_get(doc, "applications");

	printf("digraph weft {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans\"];\n");
	for (size_t a = 0; a < json_object_array_length(apps); a++) {
		json_object *app = json_object_array_get_idx(apps, a);

		printf("  subgraph \"cluster_%s\" {\n    label=\"%s\";\n", jv_str(app, "id"),
		       dot_quote(jv_str(app, "name"), q1, sizeof(q1)));
		for (size_t i = 0; i < json_object_array_length(nodes); i++) {
			json_object *n = json_object_array_get_idx(nodes, i);

			if (strcmp(jv_str(n, "application"), jv_str(app, "id")))
				continue;
			printf("    \"%s\" [label=\"%s\\n%s\\n%lld instance(s)\"%s];\n",
			       jv_str(n, "id"), dot_quote(jv_str(n, "name"), q1, sizeof(q1)),
			       dot_quote(*jv_str(n, "host") ? jv_str(n, "host") : jv_str(n, "addr"),
					 q2, sizeof(q2)),
			       (long long)jv_int(n, "instances"),
			       jv_bool(n, "external") ? ", style=dashed" : "");
		}
		printf("  }\n");
	}
	for (size_t i = 0; i < json_object_array_length(edges); i++) {
		json_object *e = json_object_array_get_idx(edges, i);

		printf("  \"%s\" -> \"%s\" [label=\":%lld\\n%lld calls, %lld errors\\np95 %.1f "
		       "ms\"%s];\n",
		       jv_str(e, "source"), jv_str(e, "target"), (long long)jv_int(e, "port"),
		       (long long)jv_int(e, "calls"), (long long)jv_int(e, "errors"),
		       jv_num(e, "p95_ms"), jv_int(e, "errors") ? ", color=red" : "");
	}
	printf("}\n");
}

int cmd_map(int argc, char **argv)
{
	struct map_cfg cfg = {.api = API_CLIENT_DEFAULT, .window = "15m", .format = MAP_TABLE};
	json_object *doc = NULL;
	char path[128];
	int first, rc;

	rc = opts_parse(argc, argv, "map", map_opts, map_opt, &cfg, &first);
	if (rc == 1) {
		opts_usage(stdout, &map_help, map_opts);
		return 0;
	}
	if (rc || first < argc) {
		if (!rc)
			fprintf(stderr, "weft map: unexpected argument '%s'\n", argv[first]);
		return 2;
	}
	snprintf(path, sizeof(path), "/api/map?window=%s", cfg.window);
	if (api_client_get("map", cfg.api, path, &doc))
		return 1;
	if (cfg.format == MAP_JSON)
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_SPACED));
	else if (cfg.format == MAP_DOT)
		print_dot(doc);
	else
		print_table(doc);
	json_object_put(doc);
	return 0;
}

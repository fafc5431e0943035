/* weft traces: the newest trajectories, filtered, as a table. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "commands.h"
#include "common/opts.h"
#include "common/parse.h"

struct traces_cfg {
	const char *api;
	uint64_t limit;
	const char *min_ms; /* passed through after checking */
	const char *since;
	const char *application;
	const char *request;
	bool errors;
};

static const struct weft_opt traces_opts[] = {
    {"api", CLI_OPT_API, "HOST:PORT", "the server's API (default " API_CLIENT_DEFAULT ")"},
    {"limit", 'n', "N", "how many, newest first (1..1000, default 20)"},
    {"min-ms", 'm', "MS", "only trajectories that took at least MS milliseconds"},
    {"errors", 'e', NULL, "only trajectories in which some call failed"},
    {"application", 'a', "ID", "only this application (an id from weft map)"},
    {"request", 'r', "TEXT", "only roots whose request contains TEXT"},
    {"since", 's', "DURATION", "only trajectories that started in the last DURATION"},
    {0},
};

static const struct weft_cmd_help traces_help = {
    .usage = "weft traces [OPTIONS]",
    .summary = "Lists the newest trajectories (trees of calls that one request caused\n"
	       "across the tiers) with their duration, size and failures.",
    .examples = "  weft traces --limit 50\n"
		"  weft traces --min-ms 250 --errors\n"
		"  weft trace ID        # one of them as a waterfall\n",
};

static int traces_opt(int key, const char *arg, void *ctx)
{
	struct traces_cfg *cfg = ctx;
	uint64_t v;
	double d;

	switch (key) {
	case CLI_OPT_API:
		cfg->api = arg;
		return api_client_check("traces", arg);
	case 'n':
		if (parse_u64(arg, &cfg->limit, 1, 1000)) {
			fprintf(stderr, "weft traces: --limit: expected 1..1000\n");
			return -EINVAL;
		}
		return 0;
	case 'm':
		if (parse_double(arg, &d, 0, 1e12)) {
			fprintf(stderr, "weft traces: --min-ms: expected milliseconds >= 0\n");
			return -EINVAL;
		}
		cfg->min_ms = arg;
		return 0;
	case 's':
		if (parse_duration_ns(arg, &v, 1000000000ull)) {
			fprintf(stderr, "weft traces: --since: expected a duration like 15m\n");
			return -EINVAL;
		}
		cfg->since = arg;
		return 0;
	case 'e':
		cfg->errors = true;
		return 0;
	case 'a':
		cfg->application = arg;
		return 0;
	case 'r':
		cfg->request = arg;
		return 0;
	}
	return -EINVAL;
}

/* Appends "&name=escaped(value)" to path. */
static void add_param(char *path, size_t cap, const char *name, const char *value)
{
	char *esc;

	if (!value)
		return;
	esc = curl_easy_escape(NULL, value, 0);
	if (!esc)
		return;
	snprintf(path + strlen(path), cap - strlen(path), "&%s=%s", name, esc);
	curl_free(esc);
}

static void print_row(json_object *t)
{
	json_object *root = json_object_object_get(t, "root");
	char when[40];

	cli_format_time((uint64_t)jv_int(t, "start_ns"), when, sizeof(when));
	printf("%-16s  %s  %10.3f  %5lld  %5lld  %c%c  %-16.16s  %s\n", jv_str(t, "id"), when,
	       (double)jv_int(t, "duration_ns") / 1e6, (long long)jv_int(t, "spans"),
	       (long long)jv_int(t, "depth"), jv_bool(t, "error") ? '!' : ' ',
	       jv_bool(t, "uncertain") ? '?' : ' ',
	       *jv_str(root, "comm") ? jv_str(root, "comm") : jv_str(root, "service"),
	       jv_str(root, "request"));
}

int cmd_traces(int argc, char **argv)
{
	struct traces_cfg cfg = {.api = API_CLIENT_DEFAULT, .limit = 20};
	json_object *doc = NULL, *list;
	char path[1024];
	int first, rc;

	rc = opts_parse(argc, argv, "traces", traces_opts, traces_opt, &cfg, &first);
	if (rc == 1) {
		opts_usage(stdout, &traces_help, traces_opts);
		return 0;
	}
	if (rc || first < argc) {
		if (!rc)
			fprintf(stderr, "weft traces: unexpected argument '%s'\n", argv[first]);
		return 2;
	}
	snprintf(path, sizeof(path), "/api/trajectories?limit=%llu", (unsigned long long)cfg.limit);
	add_param(path, sizeof(path), "min_ms", cfg.min_ms);
	add_param(path, sizeof(path), "since", cfg.since);
	add_param(path, sizeof(path), "application", cfg.application);
	add_param(path, sizeof(path), "request", cfg.request);
	add_param(path, sizeof(path), "errors", cfg.errors ? "true" : NULL);
	if (api_client_get("traces", cfg.api, path, &doc))
		return 1;
	list = json_object_object_get(doc, "trajectories");
	printf("%-16s  %-23s  %10s  %5s  %5s  %-2s  %-16s  %s\n", "ID", "START", "DURATION ms",
	       "SPANS", "DEPTH", "", "ROOT", "REQUEST");
	for (size_t i = 0; i < json_object_array_length(list); i++)
		print_row(json_object_array_get_idx(list, i));
	printf("%zu shown of %s%lld matching\n", json_object_array_length(list),
	       jv_bool(doc, "total_capped") ? "more than " : "", (long long)jv_int(doc, "total"));
	json_object_put(doc);
	return 0;
}

/* weft trace ID: one trajectory as a waterfall in the terminal. Each span is
 * a line, indented by its depth, with a bar on the root's timeline: '-' while
 * the client waited, '=' while the server worked (server times shifted by
 * display_offset_ns, the skew correction). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "commands.h"
#include "common/opts.h"

#define BAR_WIDTH 40
#define MAX_DEPTH 64

struct trace_cfg {
	const char *api;
};

static const struct weft_opt trace_opts[] = {
    {"api", CLI_OPT_API, "HOST:PORT", "the server's API (default " API_CLIENT_DEFAULT ")"},
    {0},
};

static const struct weft_cmd_help trace_help = {
    .usage = "weft trace [OPTIONS] ID",
    .summary = "Shows one trajectory as a waterfall: every call with its depth, when it\n"
	       "ran on the root's timeline, the time spent in the client, in the server\n"
	       "and on the network, its request and status. '!' marks a failed call,\n"
	       "'?' a link to the parent that could not be decided exactly.",
    .examples = "  weft traces --min-ms 100     # find one\n"
		"  weft trace 5f3a0c1d2e4b6a79\n",
};

static int trace_opt(int key, const char *arg, void *ctx)
{
	struct trace_cfg *cfg = ctx;

	if (key != CLI_OPT_API)
		return -EINVAL;
	cfg->api = arg;
	return api_client_check("trace", arg);
}

/* Where one span sits on the root's timeline (ns from the root's start). */
struct placed {
	int depth;
	int parent;    /* index, -1 at the root */
	double cs, ce; /* client (or the only observed side) */
	double ss, se; /* server, when observed */
	bool server;
};

static int find_span(json_object *spans, const char *id, int before)
{
	for (int i = 0; i < before; i++)
		if (!strcmp(jv_str(json_object_array_get_idx(spans, i), "id"), id))
			return i;
	return -1;
}

/* Client times are on the clock of the parent's server host: they take the
 * parent's offset; server times take the span's own. */
static void place(json_object *spans, struct placed *p, int n, int64_t t0)
{
	for (int i = 0; i < n; i++) {
		json_object *sp = json_object_array_get_idx(spans, i);
		int64_t own = jv_int(sp, "display_offset_ns"), coff;

		p[i].parent = find_span(spans, jv_str(sp, "parent"), i);
		p[i].depth = p[i].parent < 0 ? 0 : p[p[i].parent].depth + 1;
		if (p[i].depth > MAX_DEPTH)
			p[i].depth = MAX_DEPTH;
		coff = p[i].parent < 0 ? 0
				       : jv_int(json_object_array_get_idx(spans, p[i].parent),
						"display_offset_ns");
		if (json_object_is_type(json_object_object_get(sp, "client"), json_type_null))
			coff = own;
		p[i].cs = (double)(jv_int(sp, "start_ns") + coff - t0);
		p[i].ce = (double)(jv_int(sp, "end_ns") + coff - t0);
		p[i].server = !json_object_is_type(json_object_object_get(sp, "server_start_ns"),
						   json_type_null);
		p[i].ss = (double)(jv_int(sp, "server_start_ns") + own - t0);
		p[i].se = (double)(jv_int(sp, "server_end_ns") + own - t0);
	}
}

static int col(double t, double total)
{
	int c = total > 0 ? (int)(t / total * BAR_WIDTH) : 0;

	return c < 0 ? 0 : c > BAR_WIDTH ? BAR_WIDTH : c;
}

static void bar(const struct placed *p, double total, char *out)
{
	int a = col(p->cs, total), b = col(p->ce, total);

	memset(out, ' ', BAR_WIDTH);
	out[BAR_WIDTH] = '\0';
	for (int i = a; i < (b > a ? b : a + 1) && i < BAR_WIDTH; i++)
		out[i] = '-';
	if (p->server) {
		a = col(p->ss, total);
		b = col(p->se, total);
		for (int i = a; i < (b > a ? b : a + 1) && i < BAR_WIDTH; i++)
			out[i] = '=';
	}
}

static const char *side_comm(json_object *sp, const char *side, const char *svc)
{
	json_object *s = json_object_object_get(sp, side);

	if (s && !json_object_is_type(s, json_type_null) && *jv_str(s, "comm"))
		return jv_str(s, "comm");
	return jv_str(sp, svc);
}

static void print_span(json_object *doc, json_object *sp, const struct placed *p, double total)
{
	char b[BAR_WIDTH + 1], who[80], times[64] = "", code[16] = "-";
	double client_ms = (p->ce - p->cs) / 1e6, server_ms = (p->se - p->ss) / 1e6;

	bar(p, total, b);
	snprintf(who, sizeof(who), "%*s%s -> %s", 2 * p->depth, "",
		 side_comm(sp, "client", "client_service"),
		 side_comm(sp, "server", "server_service"));
	if (p->server && !json_object_is_type(json_object_object_get(sp, "client"), json_type_null))
		snprintf(times, sizeof(times), "%9.3f %9.3f %9.3f", client_ms, server_ms,
			 client_ms - server_ms);
	else
		snprintf(times, sizeof(times), "%9.3f %9s %9s", client_ms, p->server ? "" : "-",
			 "-");
	if (jv_int(sp, "status"))
		snprintf(code, sizeof(code), "%lld", (long long)jv_int(sp, "status"));
	printf("%9.3f |%s| %-34.34s %s %4s %c%c %s%s%s%s%s\n", p->cs / 1e6, b, who, times, code,
	       jv_bool(sp, "error") ? '!' : ' ', jv_bool(sp, "uncertain") ? '?' : ' ',
	       jv_str(sp, "request"), jv_bool(sp, "error") ? "  " : "",
	       jv_bool(sp, "error") ? jv_str(sp, "error_text") : "",
	       !strcmp(jv_str(sp, "id"), jv_str(doc, "slowest_span")) ? "  <- slowest" : "",
	       !strcmp(jv_str(sp, "id"), jv_str(doc, "slowest_hop")) ? "  <- slowest hop" : "");
}

static int print_waterfall(json_object *doc)
{
	json_object *spans = json_object_object_get(doc, "spans");
	int n = (int)json_object_array_length(spans);
	double total = (double)jv_int(doc, "duration_ns");
	struct placed *p;
	char when[40];

	if (n == 0) {
		printf("trajectory %s has no spans\n", jv_str(doc, "id"));
		return 0;
	}
	p = calloc(n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	place(spans, p, n, jv_int(json_object_array_get_idx(spans, 0), "start_ns"));
	cli_format_time((uint64_t)jv_int(doc, "start_ns"), when, sizeof(when));
	printf("trajectory %s  %s  %.3f ms  %d spans  depth %lld%s%s\n\n", jv_str(doc, "id"), when,
	       total / 1e6, n, (long long)jv_int(doc, "depth"),
	       jv_bool(doc, "error") ? "  failed" : "",
	       jv_bool(doc, "uncertain") ? "  uncertain links" : "");
	printf("%9s  %-*s  %-34s %9s %9s %9s %4s    %s\n", "at ms", BAR_WIDTH, "timeline", "call",
	       "client ms", "server ms", "net ms", "code", "request");
	for (int i = 0; i < n; i++)
		print_span(doc, json_object_array_get_idx(spans, i), &p[i], total);
	free(p);
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_cfg cfg = {.api = API_CLIENT_DEFAULT};
	json_object *doc = NULL;
	char path[128];
	int first, rc;

	rc = opts_parse(argc, argv, "trace", trace_opts, trace_opt, &cfg, &first);
	if (rc == 1) {
		opts_usage(stdout, &trace_help, trace_opts);
		return 0;
	}
	if (rc)
		return 2;
	if (first != argc - 1 || strlen(argv[first]) > 18 || strchr(argv[first], '/') ||
	    strchr(argv[first], '?')) {
		fprintf(stderr, "weft trace: expected one trajectory ID (see weft traces)\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/api/trajectories/%s", argv[first]);
	if (api_client_get("trace", cfg.api, path, &doc))
		return 1;
	rc = print_waterfall(doc);
	json_object_put(doc);
	return rc ? 1 : 0;
}

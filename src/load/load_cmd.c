/* weft load: the command line over the load library (load.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "common/opts.h"
#include "common/parse.h"
#include "common/stop.h"
#include "load/load.h"
#include "load/load_report.h"

enum {
	OPT_USERS = 256,
	OPT_THINK,
	OPT_THINK_DIST,
	OPT_RAMP,
	OPT_TIMEOUT,
	OPT_NO_KEEPALIVE,
	OPT_URIS,
	OPT_JSON,
	OPT_SEED,
};

struct load_cmd {
	struct load_config cfg; /* what the library runs */
	const char *uris_path;	/* --uris FILE */
	const char *json_path;	/* --json FILE */
	bool quiet;		/* no progress line */
	bool connections_given; /* -c or --users was set */
	bool duration_given;	/* -d was set */
};

static const struct weft_opt load_opts[] = {
    {"threads", 't', "N", "event loops, one thread each (default 2)"},
    {"connections", 'c', "N", "users (closed loop, default 10) or connection pool (open, 64)"},
    {"users", OPT_USERS, "N", "the same as --connections"},
    {"rate", 'r', "R/s", "open loop: R requests a second in all, on schedule"},
    {"think", OPT_THINK, "TIME", "closed loop: mean think time of a user (default 0)"},
    {"think-ms", OPT_THINK, "MS", "the same in milliseconds"},
    {"think-dist", OPT_THINK_DIST, "fixed|exp", "think time distribution (default fixed)"},
    {"ramp", OPT_RAMP, "TIME", "start users (or raise the rate) evenly over this time"},
    {"duration", 'd', "TIME", "run length (default 10s; e.g. 500ms, 30s, 2m)"},
    {"requests", 'n', "N", "stop after N requests (with -d: whichever is first)"},
    {"timeout", OPT_TIMEOUT, "TIME", "a request with no full response by then fails (5s)"},
    {"no-keepalive", OPT_NO_KEEPALIVE, NULL, "open a connection per request"},
    {"uris", OPT_URIS, "FILE", "requests to mix, one a line (format above)"},
    {"json", OPT_JSON, "FILE", "every figure and the per-second series as JSON (-: stdout)"},
    {"seed", OPT_SEED, "N", "seed of the random choices (mix, think times)"},
    {"quiet", 'q', NULL, "no live progress line"},
    {0},
};

static const struct weft_cmd_help load_help = {
    .usage = "weft load URL|--uris FILE [OPTIONS]",
    .summary = "HTTP/1.1 load generator: one epoll event loop per thread, keep-alive by\n"
	       "default. Closed loop (users who think between requests) or open loop at a\n"
	       "target rate, where latency counts from each request's intended send time so a\n"
	       "stalled server cannot hide its stall. Errors are counted by kind, never mixed\n"
	       "into latency.\n\n"
	       "URI file: one request a line, blank lines and '#' comments skipped:\n"
	       "  [METHOD] PATH|URL [header=\"Name: value\"]... [body='TEXT'] [weight=N]\n"
	       "METHOD is GET, POST, PUT, DELETE, PATCH or OPTIONS (GET when the line\n"
	       "starts with the path); weight (default 1) sets how often the line is\n"
	       "picked. Paths need a URL operand for the target.",
    .examples = "  weft load -t2 -c100 -d10s http://127.0.0.1:8080/        like wrk\n"
		"  weft load --rate 2000 -c200 -d30s http://127.0.0.1:8080/  open loop\n"
		"  weft load --users 50 --think-ms 500 --think-dist exp --uris mix.txt\n"
		"  weft load -n 10000 --json out.json http://[::1]:8080/api\n",
};

static int bad(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "weft load: --%s '%s': %s\n", opt, arg, want);
	return -EINVAL;
}

static int parse_rate(const char *arg, double *out)
{
	char buf[64];
	size_t n = strlen(arg);

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, arg, n + 1);
	if (n > 2 && !strcmp(buf + n - 2, "/s"))
		buf[n - 2] = '\0';
	return parse_double(buf, out, 0.001, 1e8);
}

static int parse_think_dist(const char *arg, enum load_think_dist *d)
{
	if (!strcmp(arg, "fixed"))
		*d = LOAD_THINK_FIXED;
	else if (!strcmp(arg, "exp") || !strcmp(arg, "exponential"))
		*d = LOAD_THINK_EXP;
	else
		return -EINVAL;
	return 0;
}

static int on_opt_limits(struct load_cmd *c, int key, const char *arg)
{
	uint64_t v;

	switch (key) {
	case 't':
		if (parse_u64(arg, &v, 1, 1024))
			return bad("threads", arg, "a number from 1 to 1024");
		c->cfg.threads = (unsigned)v;
		return 0;
	case 'c':
	case OPT_USERS:
		if (parse_u64(arg, &v, 1, 1000000))
			return bad("connections", arg, "a number from 1 to 1000000");
		c->cfg.connections = (unsigned)v;
		c->connections_given = true;
		return 0;
	case 'n':
		if (parse_u64(arg, &c->cfg.max_requests, 1, UINT64_MAX / 2))
			return bad("requests", arg, "a positive number");
		return 0;
	case OPT_SEED:
		if (parse_u64(arg, &c->cfg.seed, 0, UINT64_MAX))
			return bad("seed", arg, "a number");
		return 0;
	}
	return 1;
}

static int on_opt_times(struct load_cmd *c, int key, const char *arg)
{
	switch (key) {
	case 'd':
		c->duration_given = true;
		if (parse_duration_ns(arg, &c->cfg.duration_ns, 1000000000ull) ||
		    !c->cfg.duration_ns)
			return bad("duration", arg, "a positive time such as 10s or 500ms");
		return 0;
	case OPT_THINK: /* --think takes a time (bare: ms), --think-ms milliseconds */
		if (parse_duration_ns(arg, &c->cfg.think_ns, 1000000ull))
			return bad("think", arg, "a time such as 500ms or 2s");
		return 0;
	case OPT_RAMP:
		if (parse_duration_ns(arg, &c->cfg.ramp_ns, 1000000000ull))
			return bad("ramp", arg, "a time such as 5s");
		return 0;
	case OPT_TIMEOUT:
		if (parse_duration_ns(arg, &c->cfg.timeout_ns, 1000000000ull) || !c->cfg.timeout_ns)
			return bad("timeout", arg, "a positive time such as 2s");
		return 0;
	}
	return 1;
}

static int on_opt(int key, const char *arg, void *ctx)
{
	struct load_cmd *c = ctx;
	int r = on_opt_limits(c, key, arg);

	if (r <= 0)
		return r;
	if ((r = on_opt_times(c, key, arg)) <= 0)
		return r;
	switch (key) {
	case 'r':
		if (parse_rate(arg, &c->cfg.rate))
			return bad("rate", arg, "requests per second, e.g. 500 or 500/s");
		return 0;
	case OPT_THINK_DIST:
		if (parse_think_dist(arg, &c->cfg.think))
			return bad("think-dist", arg, "fixed or exp");
		return 0;
	case OPT_NO_KEEPALIVE:
		c->cfg.keepalive = false;
		return 0;
	case OPT_URIS:
		c->uris_path = arg;
		return 0;
	case OPT_JSON:
		c->json_path = arg;
		return 0;
	case 'q':
		c->quiet = true;
		return 0;
	}
	return -EINVAL;
}

static int on_second(const struct load_second *s, void *ctx)
{
	(void)ctx;
	load_report__progress(stderr, s);
	return 0;
}

/* Reads the URL operand and the URI file into set. */
static int load_requests(struct load_cmd *c, int argc, char **argv, int first, struct uri_set *set)
{
	char err[512];

	if (first < argc - 1) {
		fprintf(stderr, "weft load: one URL at most ('%s' is extra)\n", argv[first + 1]);
		return -EINVAL;
	}
	if (first == argc && !c->uris_path) {
		fprintf(stderr, "weft load: give a URL or --uris FILE; try 'weft load --help'\n");
		return -EINVAL;
	}
	if (first < argc && c->uris_path) {
		const char *path;
		char port[8];

		if (load_url_parse(argv[first], set->host, port, &path, err, sizeof(err)))
			goto fail;
		strcpy(set->port, port);
	} else if (first < argc && uri_set__add_url(set, argv[first], err, sizeof(err))) {
		goto fail;
	}
	if (c->uris_path && uri_set__load(set, c->uris_path, err, sizeof(err)))
		goto fail;
	if (!set->host[0]) {
		fprintf(stderr, "weft load: %s has only paths: give the target as a URL too\n",
			c->uris_path);
		return -EINVAL;
	}
	return 0;
fail:
	fprintf(stderr, "weft load: %s\n", err);
	return -EINVAL;
}

static int apply_defaults(struct load_cmd *c)
{
	if (c->cfg.rate > 0 && c->cfg.think_ns) {
		fprintf(stderr,
			"weft load: --think is for the closed loop; --rate sets the open loop\n");
		return -EINVAL;
	}
	if (c->cfg.rate > 0 && !c->connections_given)
		c->cfg.connections = 64;
	if (c->cfg.max_requests && !c->duration_given)
		c->cfg.duration_ns = 0;
	if (!c->quiet && isatty(STDERR_FILENO))
		c->cfg.on_second = on_second;
	return 0;
}

int cmd_load(int argc, char **argv)
{
	struct load_cmd c = {.cfg = LOAD_CONFIG_INIT};
	struct uri_set set = {.port = "80"};
	struct load_result res = {0};
	char err[512];
	int first, ret = 1, r;

	c.cfg.seed = (uint64_t)getpid();
	r = opts_parse(argc, argv, "load", load_opts, on_opt, &c, &first);
	if (r) {
		if (r > 0)
			opts_usage(stdout, &load_help, load_opts);
		return r > 0 ? 0 : 2;
	}
	if (load_requests(&c, argc, argv, first, &set) || apply_defaults(&c)) {
		ret = 2;
		goto cleanup;
	}
	c.cfg.uris = set.v;
	c.cfg.nuris = set.n;
	c.cfg.host = set.host;
	c.cfg.port = set.port;
	c.cfg.stop = &weft_stop_requested;
	stop_on_signals();
	if (load_run(&c.cfg, &res)) {
		fprintf(stderr, "weft load: %s\n", res.error);
		goto cleanup;
	}
	if (c.cfg.on_second)
		fputc('\n', stderr);
	/* with the JSON on stdout, the table goes where the diagnostics go */
	load_report__table(c.json_path && !strcmp(c.json_path, "-") ? stderr : stdout, &c.cfg,
			   &res);
	if (c.json_path && load_report__write_json(c.json_path, &c.cfg, &res, err, sizeof(err))) {
		fprintf(stderr, "weft load: %s\n", err);
		goto cleanup;
	}
	ret = 0;
cleanup:
	load_result__free(&res);
	uri_set__free(&set);
	return ret;
}

/* weft profile: the command line over the Autoprofiler (profile.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiclient/api_client.h"
#include "common/jsonv.h"
#include "commands.h"
#include "common/opts.h"
#include "common/parse.h"
#include "common/stop.h"
#include "profile/profile.h"

#define SWEEP_MAX 32

enum {
	OPT_USERS = 256,
	OPT_SWEEP,
	OPT_THINK,
	OPT_THINK_DIST,
	OPT_MEASURE,
	OPT_WARMUP_MAX,
	OPT_WINDOW,
	OPT_EPSILON,
	OPT_SERVER,
	OPT_OUT,
	OPT_THREADS,
	OPT_TIMEOUT,
	OPT_QUIET,
};

struct profile_cmd {
	struct prof_config cfg;
	unsigned users[SWEEP_MAX];
	const char *out_dir;
};

static const struct weft_opt profile_opts[] = {
    {"users", OPT_USERS, "N", "emulated users (closed loop; default 10)"},
    {"sweep", OPT_SWEEP, "N,N,...", "measure at each population in turn (e.g. 1,10,50,100)"},
    {"think-ms", OPT_THINK, "MS", "mean think time between a user's requests (default 0)"},
    {"think-dist", OPT_THINK_DIST, "fixed|exp", "think time distribution (default fixed)"},
    {"measure", OPT_MEASURE, "SECONDS", "measurement window once steady (default 30)"},
    {"warmup-max", OPT_WARMUP_MAX, "SECONDS", "give up waiting for a steady state (default 120)"},
    {"window", OPT_WINDOW, "W", "steady state: samples per moving window (default 5)"},
    {"epsilon", OPT_EPSILON, "E", "steady state: normalized difference bound (default 0.05)"},
    {"server", OPT_SERVER, "HOST:PORT",
     "a weft server's API: profile every node through its "
     "sensors (default: this host only)"},
    {"out", OPT_OUT, "DIR",
     "where report.json, report.html and the CSV files go "
     "(default weft-profile)"},
    {"threads", OPT_THREADS, "N", "load generator event loops (default 2)"},
    {"timeout", OPT_TIMEOUT, "SECONDS", "a request without a full response by then fails (5)"},
    {"quiet", OPT_QUIET, NULL, "no live progress line"},
    {0},
};

static const struct weft_cmd_help profile_help = {
    .usage = "weft profile SPEC.xml [OPTIONS]",
    .summary = "The Autoprofiler. For each transaction of the specification (XML, validated\n"
	       "against weft's services.dtd), generates load, waits for a steady state, has the\n"
	       "listed nodes' sensors profile the listed processes for the measurement window\n"
	       "(CPU, memory, disk, network, context switches, from /proc), and reports\n"
	       "throughput, response times, per-process utilization and service demand, the\n"
	       "per-tier breakdown from trajectories (with --server) and a queueing model (MVA)\n"
	       "that predicts throughput and response time against the number of users.\n"
	       "Without --server every node must be this host (single-host mode).",
    .examples = "  weft profile examples/profile/orderstatus.xml --users 20 --think-ms 100\n"
		"  weft profile shop.xml --server 127.0.0.1:7070 --sweep 1,10,50,100 --out prof\n",
};

static int parse_sweep(struct profile_cmd *c, const char *arg)
{
	char buf[512], *save = NULL;
	size_t n = 0;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (n == SWEEP_MAX || parse_u64(tok, &v, 1, 100000))
			return -EINVAL;
		c->users[n++] = (unsigned)v;
	}
	if (!n)
		return -EINVAL;
	c->cfg.npoints = n;
	return 0;
}

static int bad(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "weft profile: --%s '%s': expected %s\n", opt, arg, want);
	return -EINVAL;
}

static int on_opt(int key, const char *arg, void *ctx)
{
	struct profile_cmd *c = ctx;
	uint64_t v;
	double d;

	switch (key) {
	case OPT_USERS:
		if (parse_u64(arg, &v, 1, 100000))
			return bad("users", arg, "a number of users from 1");
		c->users[0] = (unsigned)v;
		c->cfg.npoints = 1;
		return 0;
	case OPT_SWEEP:
		return parse_sweep(c, arg) ? bad("sweep", arg, "populations like 1,10,50,100") : 0;
	case OPT_THINK:
		if (parse_double(arg, &d, 0, 3600e3))
			return bad("think-ms", arg, "milliseconds from 0");
		c->cfg.think_ms = d;
		return 0;
	case OPT_THINK_DIST:
		if (strcmp(arg, "fixed") && strcmp(arg, "exp"))
			return bad("think-dist", arg, "fixed or exp");
		c->cfg.think = strcmp(arg, "exp") ? LOAD_THINK_FIXED : LOAD_THINK_EXP;
		return 0;
	case OPT_MEASURE:
		if (parse_double(arg, &d, 1, 86400))
			return bad("measure", arg, "seconds from 1");
		c->cfg.measure_s = d;
		return 0;
	case OPT_WARMUP_MAX:
		if (parse_double(arg, &d, 2, 86400))
			return bad("warmup-max", arg, "seconds from 2");
		c->cfg.warmup_max_s = d;
		return 0;
	case OPT_WINDOW:
		if (parse_u64(arg, &v, 1, 1000))
			return bad("window", arg, "a number of samples from 1");
		c->cfg.window = (unsigned)v;
		return 0;
	case OPT_EPSILON:
		if (parse_double(arg, &d, 1e-6, 1))
			return bad("epsilon", arg, "a fraction in (0, 1]");
		c->cfg.epsilon = d;
		return 0;
	case OPT_SERVER:
		if (api_client_check("profile", arg))
			return -EINVAL;
		c->cfg.api = arg;
		return 0;
	case OPT_OUT:
		c->out_dir = arg;
		return 0;
	case OPT_THREADS:
		if (parse_u64(arg, &v, 1, 256))
			return bad("threads", arg, "1 to 256");
		c->cfg.threads = (unsigned)v;
		return 0;
	case OPT_TIMEOUT:
		if (parse_double(arg, &d, 0.001, 3600))
			return bad("timeout", arg, "seconds");
		c->cfg.timeout_s = d;
		return 0;
	case OPT_QUIET:
		c->cfg.progress = false;
		return 0;
	}
	return -EINVAL;
}

int cmd_profile(int argc, char **argv)
{
	struct profile_cmd c = {
	    .cfg = {.npoints = 1,
		    .measure_s = 30,
		    .warmup_max_s = 120,
		    .window = 5,
		    .epsilon = 0.05,
		    .threads = 2,
		    .timeout_s = 5,
		    .progress = isatty(STDERR_FILENO)},
	    .users = {10},
	    .out_dir = "weft-profile",
	};
	json_object *report = NULL;
	char err[1024];
	int first, r;

	r = opts_parse(argc, argv, "profile", profile_opts, on_opt, &c, &first);
	if (r) {
		if (r > 0)
			opts_usage(stdout, &profile_help, profile_opts);
		return r > 0 ? 0 : 2;
	}
	if (first != argc - 1) {
		if (first < argc)
			fprintf(stderr,
				"weft profile: one specification file only ('%s' is extra)\n",
				argv[first + 1]);
		else
			fprintf(stderr, "weft profile: give one specification file; try 'weft "
					"profile --help'\n");
		return 2;
	}
	c.cfg.spec_path = argv[first];
	c.cfg.users = c.users;
	c.cfg.stop = &weft_stop_requested;
	stop_on_signals();
	r = profile_run(&c.cfg, &report, err, sizeof(err));
	if (r) {
		fprintf(stderr, "weft profile: %s\n", err);
		return r == -ENOMEM || r == -EIO ? 1 : 2;
	}
	if (profile_write_reports(report, c.out_dir, err, sizeof(err))) {
		fprintf(stderr, "weft profile: %s\n", err);
		json_object_put(report);
		return 1;
	}
	printf("weft profile: %s/report.json, %s/report.html\n", c.out_dir, c.out_dir);
	json_object_put(report);
	return weft_stop_requested ? 130 : 0;
}

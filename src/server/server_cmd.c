/* weft server and weft up: the command lines around server_run(). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/parse.h"
#include "common/stop.h"
#include "server/server.h"

enum {
	OPT_LISTEN = 256,
	OPT_HTTP,
	OPT_DB,
	OPT_KEEP_EVENTS,
	OPT_RETENTION,
	OPT_SETTLE,
	OPT_WEB,
	OPT_SYNC_FULL,
	OPT_NO_SENSOR,
	OPT_OTLP,
	OPT_OTLP_HEADER,
	OPT_OTLP_QUEUE,
	OPT_MAX_EXCHANGES,
};

static const struct weft_opt server_opts[] = {
    {"listen", OPT_LISTEN, "HOST:PORT", "sensor ingest address (default 127.0.0.1:7071)"},
    {"http", OPT_HTTP, "HOST:PORT", "HTTP API and dashboard (default 127.0.0.1:7070)"},
    {"db", OPT_DB, "PATH", "SQLite database file (default ./weft.db)"},
    {"keep-events", OPT_KEEP_EVENTS, NULL, "keep raw event batches, not only derived data"},
    {"retention", OPT_RETENTION, "DURATION", "delete data older than this (default 7d)"},
    {"settle", OPT_SETTLE, "DURATION", "write a trajectory once quiet this long (default 500ms)"},
    {"web", OPT_WEB, "DIR", "serve the dashboard from DIR"},
    {"sync-full", OPT_SYNC_FULL, NULL, "fsync every commit (survives power loss, slower)"},
    {"max-exchanges", OPT_MAX_EXCHANGES, "N",
     "exchanges the correlator keeps in memory at most, about 0.7 KB each; past it the "
     "oldest go first and their neighbours are flagged (default 500000)"},
    {"otlp", OPT_OTLP, "URL",
     "export trajectories as OTLP traces (OTLP/HTTP JSON), e.g. http://host:4318/v1/traces"},
    {"otlp-header", OPT_OTLP_HEADER, "'NAME: VALUE'",
     "a header for every export request (authentication), up to 8"},
    {"otlp-queue", OPT_OTLP_QUEUE, "SPANS",
     "spans waiting for export at most, past which they are dropped (default 10000)"},
    {"verbose", 'v', NULL, "more diagnostics"},
    {0},
};

static const struct weft_opt up_opts[] = {
    {"db", OPT_DB, "PATH", "SQLite database file (default ./weft.db)"},
    {"http", OPT_HTTP, "HOST:PORT", "HTTP API and dashboard (default 127.0.0.1:7070)"},
    {"listen", OPT_LISTEN, "HOST:PORT", "sensor ingest address (default 127.0.0.1:7071)"},
    {"no-sensor", OPT_NO_SENSOR, NULL, "start the server alone"},
    {"otlp", OPT_OTLP, "URL", "export trajectories as OTLP traces (see weft server --help)"},
    {"verbose", 'v', NULL, "more diagnostics"},
    {0},
};

struct cmd_state {
	struct server_config cfg;
	bool no_sensor;
};

static int host_port_opt(const char *name, const char *arg, char *host, size_t cap, uint16_t *port)
{
	if (parse_host_port(arg, host, (int)cap, port)) {
		fprintf(stderr, "weft: bad value '%s' for --%s: expected HOST:PORT\n", arg, name);
		return -EINVAL;
	}
	return 0;
}

static int otlp_opt(struct server_config *cfg, int key, const char *arg)
{
	uint64_t n;

	switch (key) {
	case OPT_OTLP:
		if (strncmp(arg, "http://", 7) && strncmp(arg, "https://", 8)) {
			fprintf(stderr,
				"weft: bad value '%s' for --otlp: expected an http:// or "
				"https:// URL, like http://127.0.0.1:4318/v1/traces\n",
				arg);
			return -EINVAL;
		}
		cfg->otlp_url = arg;
		return 0;
	case OPT_OTLP_HEADER:
		if (!strchr(arg, ':') || *arg == ':' || strpbrk(arg, "\r\n") ||
		    cfg->notlp_headers >= EXPORTER_HEADERS_MAX) {
			fprintf(stderr,
				"weft: bad value '%s' for --otlp-header: expected 'NAME: VALUE' on "
				"one line, at most %d of them\n",
				arg, EXPORTER_HEADERS_MAX);
			return -EINVAL;
		}
		cfg->otlp_headers[cfg->notlp_headers++] = arg;
		return 0;
	case OPT_OTLP_QUEUE:
		if (parse_u64(arg, &n, 100, 10000000)) {
			fprintf(stderr,
				"weft: bad value '%s' for --otlp-queue: spans, 100 to 10000000\n",
				arg);
			return -EINVAL;
		}
		cfg->otlp_queue_spans = n;
		return 0;
	}
	return -EINVAL;
}

static int server_opt(int key, const char *arg, void *ctx)
{
	struct cmd_state *st = ctx;
	struct server_config *cfg = &st->cfg;

	switch (key) {
	case OPT_LISTEN:
		return host_port_opt("listen", arg, cfg->ingest_addr, sizeof(cfg->ingest_addr),
				     &cfg->ingest_port);
	case OPT_HTTP:
		return host_port_opt("http", arg, cfg->http_addr, sizeof(cfg->http_addr),
				     &cfg->http_port);
	case OPT_DB:
		cfg->db_path = arg;
		return 0;
	case OPT_KEEP_EVENTS:
		cfg->keep_events = true;
		return 0;
	case OPT_RETENTION:
		if (parse_duration_ns(arg, &cfg->retention_ns, 86400000000000ull) ||
		    cfg->retention_ns < 60000000000ull) {
			fprintf(stderr,
				"weft: bad value '%s' for --retention: a duration of at "
				"least 1m, like 7d or 12h\n",
				arg);
			return -EINVAL;
		}
		return 0;
	case OPT_SETTLE:
		if (parse_duration_ns(arg, &cfg->settle_ns, 1000000ull) ||
		    cfg->settle_ns > 10000000000ull) {
			fprintf(stderr, "weft: bad value '%s' for --settle: up to 10s\n", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_WEB:
		cfg->web_root = arg;
		return 0;
	case OPT_SYNC_FULL:
		cfg->sync_full = true;
		return 0;
	case OPT_MAX_EXCHANGES:
		if (parse_u64(arg, &cfg->max_exchanges, 1000, 1000000000ull)) {
			fprintf(stderr,
				"weft: bad value '%s' for --max-exchanges: a count from 1000 to "
				"1000000000\n",
				arg);
			return -EINVAL;
		}
		return 0;
	case OPT_NO_SENSOR:
		st->no_sensor = true;
		return 0;
	case OPT_OTLP:
	case OPT_OTLP_HEADER:
	case OPT_OTLP_QUEUE:
		return otlp_opt(cfg, key, arg);
	case 'v':
		weft_log_level = WEFT_LOG_DEBUG;
		return 0;
	}
	return -EINVAL;
}

static int parse(int argc, char **argv, const char *name, const struct weft_opt *opts,
		 const struct weft_cmd_help *help, struct cmd_state *st)
{
	int first, err;

	server_config_defaults(&st->cfg);
	err = opts_parse(argc, argv, name, opts, server_opt, st, &first);
	if (err > 0) {
		opts_usage(stdout, help, opts);
		return 1;
	}
	if (err)
		return -EINVAL;
	if (first < argc) {
		fprintf(stderr, "weft %s: unexpected argument '%s'\n", name, argv[first]);
		return -EINVAL;
	}
	stop_on_signals();
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int cmd_server(int argc, char **argv)
{
	static const struct weft_cmd_help help = {
	    .usage = "weft server [OPTIONS]",
	    .summary = "Takes events from sensors, joins what every host saw into exchanges,\n"
		       "an application dependency map and trajectories, stores them in SQLite\n"
		       "and serves them over HTTP.",
	    .examples = "  weft server --db /var/lib/weft/weft.db\n"
			"  weft server --listen 0.0.0.0:7071 --http 127.0.0.1:7070\n"
			"  weft server --otlp http://127.0.0.1:4318/v1/traces\n"
			"  curl http://127.0.0.1:7070/metrics\n",
	};
	struct cmd_state st = {0};
	int err = parse(argc, argv, "server", server_opts, &help, &st);

	if (err)
		return err > 0 ? 0 : 2;
	return server_run(&st.cfg, &weft_stop_requested);
}

/* The port of an http:// or https:// URL. */
static unsigned int url_port(const char *url)
{
	const char *host = strstr(url, "://"), *end, *colon;
	unsigned int port = 0;

	if (!host)
		return 0;
	host += 3;
	end = host + strcspn(host, "/?#");
	colon = memrchr(host, ':', (size_t)(end - host));
	if (colon && !memchr(colon, ']', (size_t)(end - colon)) &&
	    sscanf(colon + 1, "%u", &port) == 1)
		return port;
	return strncmp(url, "https", 5) ? 80 : 443;
}

/* The sensor runs as a child process: a crash of one never takes the other,
 * and it is the same binary with the same options a remote host would use. */
static pid_t start_sensor(const struct server_config *cfg)
{
	char server[160], host[256] = "localhost", http_port[8], otlp_port[8];
	pid_t pid;

	gethostname(host, sizeof(host) - 1);
	snprintf(server, sizeof(server), "%s:%u", cfg->ingest_addr, cfg->ingest_port);
	snprintf(http_port, sizeof(http_port), "%u", cfg->http_port);
	/* without an exporter, ignoring the API's port again changes nothing */
	snprintf(otlp_port, sizeof(otlp_port), "%u",
		 cfg->otlp_url ? url_port(cfg->otlp_url) : cfg->http_port);
	pid = fork();
	if (pid == 0) {
		/* The dashboard's own polling is not an application to map, nor
		 * the export of trajectories. */
		execl("/proc/self/exe", "weft", "sensor", "--server", server, "--host", host,
		      "--ignore-port", http_port, "--ignore-port", otlp_port, (char *)NULL);
		fprintf(stderr, "weft up: cannot start the sensor: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

int cmd_up(int argc, char **argv)
{
	static const struct weft_cmd_help help = {
	    .usage = "weft up [OPTIONS]",
	    .summary = "Starts a server and a sensor for this host in one command, with the\n"
		       "database in the current directory. Needs root for the sensor.",
	    .examples = "  sudo weft up\n"
			"  weft map; weft traces; weft trace ID\n",
	};
	struct cmd_state st = {0};
	int err = parse(argc, argv, "up", up_opts, &help, &st), status = 0, ret;
	pid_t sensor = -1;

	if (err)
		return err > 0 ? 0 : 2;
	if (!st.no_sensor && geteuid() != 0) {
		fprintf(stderr, "weft up: the sensor needs root; run 'sudo weft up' (or 'weft up "
				"--no-sensor' for the server alone)\n");
		return 1;
	}
	if (!st.no_sensor)
		sensor = start_sensor(&st.cfg);
	fprintf(stderr, "weft up: dashboard and API on http://%s:%u/ (Ctrl-C stops)\n",
		st.cfg.http_addr, st.cfg.http_port);
	ret = server_run(&st.cfg, &weft_stop_requested);
	if (sensor > 0) {
		kill(sensor, SIGTERM);
		waitpid(sensor, &status, 0);
	}
	return ret;
}

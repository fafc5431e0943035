/* weft sensor: the per-host daemon. Captures every TCP message with the
 * thread that moved it and prints the events (or, with --server, ships them). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/parse.h"
#include "common/stop.h"
#include "sensor/capture.h"
#include "sensor/control.h"
#include "sensor/control_capture.h"
#include "sensor/control_profile.h"
#include "sensor/event_format.h"
#include "sensor/go_procs.h"
#include "sensor/tls_libs.h"
#include "sensor/jvm_trace.h"
#include "sensor/proc_info.h"
#include "sensor/shipper.h"

enum {
	OPT_PID = 256,
	OPT_COMM,
	OPT_PORT,
	OPT_CONN_ONLY,
	OPT_RING,
	OPT_CONTROL,
	OPT_JSON,
	OPT_SERVER,
	OPT_SPOOL,
	OPT_SPOOL_MAX,
	OPT_IGNORE_PORT,
	OPT_CALL_TIME,
	OPT_TRACE_SELF,
	OPT_NO_GO,
	OPT_NO_TLS,
	OPT_PAYLOAD_PORT,
};

#define MAX_SELECTORS 64

struct sensor_config {
	uint64_t duration_ns; /* 0: until a signal */
	const char *netns;    /* name under /run/netns or a path */
	char host[256];
	uint64_t payload;
	uint64_t ring_bytes;
	bool connections_only;
	bool call_time;
	bool trace_self;
	bool no_go;  /* Go programs followed by thread only: no g register, no uprobes */
	bool no_tls; /* no uprobes on TLS libraries: TLS requests matched, not named */
	bool json;
	const char *control_path;
	const char *server; /* ship to this server instead of printing */
	const char *spool_dir;
	uint64_t spool_max;
	uint32_t pids[MAX_SELECTORS];
	int npids;
	const char *comms[MAX_SELECTORS];
	int ncomms;
	uint16_t ports[MAX_SELECTORS];
	int nports;
	uint16_t ignore_ports[MAX_SELECTORS];
	int nignore;
	struct {
		uint16_t port, bytes; /* bytes 0: the default port taken back */
	} payload_ports[MAX_SELECTORS];
	int npayload_ports;
};

static const struct weft_opt sensor_opts[] = {
    {"json", OPT_JSON, NULL, "print one JSON object a line per event"},
    {"duration", 'd', "SECONDS", "stop after this long (e.g. 30, 500ms, 5m)"},
    {"netns", 'n', "NAME|PATH", "only sockets of this network namespace"},
    {"host", 'H', "NAME", "host name to report (default: the netns name or hostname)"},
    {"payload", 'p', "BYTES",
     "a message's first bytes to capture, 0 disables (default 256, max 4096)"},
    {"payload-port", OPT_PAYLOAD_PORT, "PORT[=BYTES]",
     "capture the first BYTES (default 4096) of every call on this port, not only where a "
     "message starts: message brokers send runs of messages one way (repeatable; 5672, "
     "AMQP, by default; PORT=0 takes a port back)"},
    {"connections-only", OPT_CONN_ONLY, NULL, "lifecycle events only, no messages"},
    {"call-time", OPT_CALL_TIME, NULL,
     "also hook system calls: each send and recv carries its call's duration and accept "
     "events the thread accept() returned in (costs more: every system call of every "
     "process takes the kernel's slow path)"},
    {"pid", OPT_PID, "PID", "message capture for this process (repeatable)"},
    {"comm", OPT_COMM, "NAME", "message capture for this process name (repeatable)"},
    {"port", OPT_PORT, "PORT", "message capture for this local or remote port (repeatable)"},
    {"ring-size", OPT_RING, "SIZE",
     "kernel ring buffer bytes, shared out among the CPUs (default 8MiB)"},
    {"control", OPT_CONTROL, "PATH", "unix socket taking control commands at run time"},
    {"ignore-port", OPT_IGNORE_PORT, "PORT", "never trace connections on this port (repeatable)"},
    {"no-goroutines", OPT_NO_GO, NULL,
     "follow Go programs by thread only: no goroutine ids, no uprobes on their runtime "
     "(each goroutine hand-off costs a uprobe trap, about 6 us on a nested VM)"},
    {"no-tls", OPT_NO_TLS, NULL,
     "no plaintext from TLS libraries: TLS requests are matched but not named (each "
     "SSL_read and SSL_write costs uprobe traps)"},
    {"trace-self", OPT_TRACE_SELF, NULL,
     "trace weft's own server too (by default its sensor and API ports are left out)"},
    {"server", OPT_SERVER, "HOST:PORT", "ship events to a weft server instead of printing them"},
    {"spool", OPT_SPOOL, "DIR", "unacknowledged batches (default /var/lib/weft/spool/HOST)"},
    {"spool-max", OPT_SPOOL_MAX, "SIZE",
     "spool bound; beyond it batches are dropped and counted "
     "(default 64MiB)"},
    {"verbose", 'v', NULL, "more diagnostics (libbpf, verifier)"},
    {0},
};

static const struct weft_cmd_help sensor_help = {
    .usage = "weft sensor [OPTIONS]",
    .summary = "Captures every TCP message on this host from the kernel with eBPF: which\n"
	       "process and thread sent or received it, on which connection, at which TCP\n"
	       "sequence numbers. Needs root. Nothing is installed in the applications.",
    .examples = "  weft sensor --json                       every event as JSON lines\n"
		"  weft sensor --connections-only           connection lifecycle only\n"
		"  weft sensor --netns web1 --port 80       one namespace, port 80 messages\n"
		"  weft sensor --server 127.0.0.1:7071      ship events to a weft server\n"
		"  weft sensor --control /run/weft.sock     control at run time:\n"
		"      weft control /run/weft.sock messages off\n"
		"      weft control /run/weft.sock profile start run1 nginx\n"
		"      weft control /run/weft.sock profile stop run1   its CPU, I/O, network\n",
};

static int bad_value(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "weft sensor: bad value '%s' for --%s: %s\n", arg, opt, want);
	return -EINVAL;
}

static int sensor_opt(int key, const char *arg, void *ctx)
{
	struct sensor_config *cfg = ctx;
	uint64_t v;

	switch (key) {
	case OPT_JSON:
		cfg->json = true;
		return 0;
	case 'd':
		if (parse_duration_ns(arg, &cfg->duration_ns, 1000000000ull) || !cfg->duration_ns)
			return bad_value("duration", arg,
					 "a positive duration like 30, 500ms or 5m");
		return 0;
	case 'n':
		cfg->netns = arg;
		return 0;
	case 'H':
		if (!*arg || strlen(arg) >= sizeof(cfg->host))
			return bad_value("host", arg, "a name of 1 to 255 characters");
		strcpy(cfg->host, arg);
		return 0;
	case 'p':
		if (parse_size(arg, &cfg->payload, 0, WEFT_PAYLOAD_MAX))
			return bad_value("payload", arg, "0 to 4096 bytes");
		return 0;
	case OPT_CONN_ONLY:
		cfg->connections_only = true;
		return 0;
	case OPT_CALL_TIME:
		cfg->call_time = true;
		return 0;
	case OPT_TRACE_SELF:
		cfg->trace_self = true;
		return 0;
	case OPT_NO_GO:
		cfg->no_go = true;
		return 0;
	case OPT_NO_TLS:
		cfg->no_tls = true;
		return 0;
	case OPT_PAYLOAD_PORT: {
		char port[8] = "";
		const char *eq = strchr(arg, '=');
		uint64_t p, b = WEFT_PAYLOAD_PORT;

		if ((size_t)(eq ? eq - arg : (long)strlen(arg)) >= sizeof(port) ||
		    cfg->npayload_ports == MAX_SELECTORS)
			return bad_value("payload-port", arg, "PORT or PORT=BYTES");
		memcpy(port, arg, eq ? (size_t)(eq - arg) : strlen(arg));
		if (parse_u64(port, &p, 1, 65535) ||
		    (eq && parse_size(eq + 1, &b, 0, WEFT_PAYLOAD_MAX)))
			return bad_value("payload-port", arg,
					 "a port from 1 to 65535, then =BYTES up to 4096");
		cfg->payload_ports[cfg->npayload_ports].port = (uint16_t)p;
		cfg->payload_ports[cfg->npayload_ports++].bytes = (uint16_t)b;
		return 0;
	}
	case OPT_PID:
		if (parse_u64(arg, &v, 1, UINT32_MAX) || cfg->npids == MAX_SELECTORS)
			return bad_value("pid", arg, "a process id (at most 64 of them)");
		cfg->pids[cfg->npids++] = (uint32_t)v;
		return 0;
	case OPT_COMM:
		if (!*arg || strlen(arg) >= WEFT_COMM_LEN || cfg->ncomms == MAX_SELECTORS)
			return bad_value("comm", arg, "a process name of 1 to 15 characters");
		cfg->comms[cfg->ncomms++] = arg;
		return 0;
	case OPT_PORT:
		if (parse_u64(arg, &v, 1, 65535) || cfg->nports == MAX_SELECTORS)
			return bad_value("port", arg, "a port from 1 to 65535");
		cfg->ports[cfg->nports++] = (uint16_t)v;
		return 0;
	case OPT_IGNORE_PORT:
		if (parse_u64(arg, &v, 1, 65535) || cfg->nignore == MAX_SELECTORS)
			return bad_value("ignore-port", arg, "a port from 1 to 65535");
		cfg->ignore_ports[cfg->nignore++] = (uint16_t)v;
		return 0;
	case OPT_RING:
		if (parse_size(arg, &v, 4096, 1ull << 30) || (v & (v - 1)))
			return bad_value("ring-size", arg, "a power of two from 4KiB to 1GiB");
		cfg->ring_bytes = v;
		return 0;
	case OPT_CONTROL:
		cfg->control_path = arg;
		return 0;
	case OPT_SERVER:
		cfg->server = arg;
		return 0;
	case OPT_SPOOL:
		cfg->spool_dir = arg;
		return 0;
	case OPT_SPOOL_MAX:
		if (parse_size(arg, &cfg->spool_max, 1 << 20, 1ull << 40))
			return bad_value("spool-max", arg, "a size from 1MiB, like 64MiB");
		return 0;
	case 'v':
		weft_log_level = WEFT_LOG_DEBUG;
		return 0;
	}
	return -EINVAL;
}

/* --netns NAME means /run/netns/NAME, as `ip netns` names them. */
static int resolve_netns(const char *arg, uint32_t *inum)
{
	char path[512];
	struct stat st;

	if (strchr(arg, '/'))
		snprintf(path, sizeof(path), "%s", arg);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", arg);
	if (stat(path, &st)) {
		fprintf(stderr, "weft sensor: network namespace '%s' not found (%s: %s)\n", arg,
			path, strerror(errno));
		return -ENOENT;
	}
	*inum = (uint32_t)st.st_ino;
	return 0;
}

/* Where events go: printed (text or JSON lines) or shipped to a server. */
struct output {
	const struct sensor_config *cfg;
	struct proc_cache *procs;
	struct profiles *profiles; /* profiling sessions, fed with send/recv bytes */
	struct shipper *shipper;   /* NULL: print */
	struct jvm_traces *traces; /* JVMs whose method calls are shipped */
	struct go_procs *go;	   /* Go programs: their events carry goroutines */
	struct tls_libs *tls;	   /* TLS libraries whose plaintext is read */
	int64_t wall_offset;
	char line[EVENT_LINE_MAX];
};

static void on_event(const struct weft_event *e, void *ctx)
{
	struct output *o = ctx;
	bool fresh;
	const char *exe;

	if (e->type == WEFT_EV_EXEC) {
		char path[WEFT_PAYLOAD_MAX + 1];

		memcpy(path, e->payload, e->payload_len);
		path[e->payload_len] = '\0';
		/* A relative path says less than /proc will: keep only absolute ones. */
		if (path[0] == '/')
			proc_cache__exec(o->procs, e->pid, e->comm, path);
		go_procs__note(o->go, e->pid);
		return;
	}
	if (e->type == WEFT_EV_SEND || e->type == WEFT_EV_RECV) {
		profiles__event(o->profiles, e); /* returns at once when nothing is profiled */
		tls_libs__event(o->tls, e);	 /* looks at handshakes only */
	}
	exe = proc_cache__exe(o->procs, e->pid, e->comm, &fresh);
	if (fresh && !e->coroutine)
		go_procs__note(o->go, e->pid);
	uint64_t wall = e->ts_ns + o->wall_offset;
	struct event_context x = {.host = o->cfg->host, .exe = exe, .ts_wall_ns = wall};
	size_t n;

	if (o->shipper) {
		if (fresh) /* the server learns each process's executable once */
			shipper__add_process(o->shipper, e->pid, e->comm, exe);
		shipper__add_event(o->shipper, e, wall);
		return;
	}
	n = o->cfg->json ? event_format_json(o->line, e, &x) : event_format_text(o->line, e, &x);
	fwrite(o->line, 1, n, stdout);
}

static int apply_selectors(struct capture *c, const struct sensor_config *cfg)
{
	int err = 0;

	for (int i = 0; i < cfg->npids && !err; i++)
		err = capture__add_pid(c, cfg->pids[i]);
	for (int i = 0; i < cfg->ncomms && !err; i++)
		err = capture__add_comm(c, cfg->comms[i]);
	for (int i = 0; i < cfg->nports && !err; i++)
		err = capture__add_port(c, cfg->ports[i]);
	for (int i = 0; i < cfg->nignore && !err; i++)
		err = capture__ignore_port(c, cfg->ignore_ports[i]);
	/* AMQP's port by default: RabbitMQ's deliveries and publishes run one way. */
	if (!err)
		err = capture__payload_port(c, 5672, WEFT_PAYLOAD_PORT);
	for (int i = 0; i < cfg->npayload_ports && !err; i++)
		err = capture__payload_port(c, cfg->payload_ports[i].port,
					    cfg->payload_ports[i].bytes);
	if (err)
		log_error("sensor: cannot set the capture filter: %s", strerror(-err));
	return err;
}

static void report_counters(struct capture *c, struct shipper *sh)
{
	uint64_t cnt[WEFT_CNT_MAX];

	capture__counters(c, cnt);
	fprintf(stderr, "weft sensor: %llu events captured, %llu dropped (ring buffer full)",
		(unsigned long long)cnt[WEFT_CNT_EVENTS], (unsigned long long)cnt[WEFT_CNT_DROPS]);
	if (cnt[WEFT_CNT_NO_STATE])
		fprintf(stderr, ", %llu connections untracked (no kernel memory for their state)",
			(unsigned long long)cnt[WEFT_CNT_NO_STATE]);
	if (sh)
		fprintf(stderr, ", %llu batches dropped (spool full)",
			(unsigned long long)shipper__spool_drops(sh));
	fputc('\n', stderr);
}

int cmd_sensor(int argc, char **argv)
{
	struct sensor_config cfg = {
	    .payload = WEFT_PAYLOAD_DEFAULT,
	    .ring_bytes = 8 << 20,
	    .spool_max = 64 << 20,
	};
	struct capture_opts copts = {0};
	struct control_server *ctl_server = NULL;
	struct control *ctl = NULL;
	struct output out = {.cfg = &cfg};
	char spool_dir[512];
	struct capture *cap = NULL;
	uint64_t deadline = 0, next_clock = 0;
	int first, err, ret = 1;

	/* 1. Options. */
	err = opts_parse(argc, argv, "sensor", sensor_opts, sensor_opt, &cfg, &first);
	if (err > 0) {
		opts_usage(stdout, &sensor_help, sensor_opts);
		return 0;
	}
	if (err)
		return 2;
	if (first < argc) {
		fprintf(stderr, "weft sensor: unexpected argument '%s'\n", argv[first]);
		return 2;
	}
	if (cfg.netns && resolve_netns(cfg.netns, &copts.netns))
		return 2;
	if (!cfg.host[0]) {
		if (cfg.netns && !strchr(cfg.netns, '/'))
			snprintf(cfg.host, sizeof(cfg.host), "%s", cfg.netns);
		else if (gethostname(cfg.host, sizeof(cfg.host) - 1))
			strcpy(cfg.host, "localhost");
	}

	/* 2. Load and attach the kernel programs, then narrow the filter. */
	copts.payload = (uint32_t)cfg.payload;
	copts.ring_bytes = cfg.ring_bytes;
	copts.connections_only = cfg.connections_only;
	copts.call_time = cfg.call_time;
	out.procs = proc_cache__new();
	out.profiles = profiles__new(cfg.host, copts.netns);
	if (!out.procs || !out.profiles)
		goto cleanup;
	if (cfg.server) {
		struct shipper_opts so = {.server = cfg.server,
					  .sensor_id = cfg.host,
					  .host = cfg.host,
					  .spool_dir = cfg.spool_dir,
					  .spool_max = cfg.spool_max,
					  .trace_self = cfg.trace_self};

		if (!so.spool_dir) {
			mkdir("/var/lib/weft", 0755);
			mkdir("/var/lib/weft/spool", 0700);
			snprintf(spool_dir, sizeof(spool_dir), "/var/lib/weft/spool/%s", cfg.host);
			so.spool_dir = spool_dir;
		}
		out.shipper = shipper__new(&so);
		out.traces = jvm_traces__new(copts.netns);
		if (!out.shipper || !out.traces)
			goto cleanup;
	}
	cap = capture__open(&copts, on_event, &out);
	if (!cap)
		goto cleanup;
	if (apply_selectors(cap, &cfg))
		goto cleanup;
	/* Go programs running already; new ones are looked at as they exec. */
	out.go = cfg.no_go ? NULL : go_procs__new(cap, copts.netns);
	if (out.go)
		go_procs__scan(out.go);
	else if (!cfg.no_go)
		log_warn("sensor: cannot read executables (%s): Go programs are followed by "
			 "thread only",
			 strerror(errno));
	/* TLS libraries: the system's and those of running processes; others as
	 * processes are seen to speak TLS. */
	out.tls = cfg.no_tls ? NULL : tls_libs__new(cap);
	if (out.tls)
		tls_libs__scan(out.tls);
	/* The control language: each family of commands registers its verb. */
	ctl = control__new();
	if (!ctl || control_capture__add(ctl, cap) ||
	    profiles__add_commands(out.profiles, ctl, cap) ||
	    jvm_traces__add_commands(out.traces, ctl, cap))
		goto cleanup;
	if (cfg.control_path) {
		ctl_server = control_server__open(cfg.control_path);
		if (!ctl_server) {
			log_error("sensor: cannot listen on control socket %s: %s",
				  cfg.control_path, strerror(errno));
			goto cleanup;
		}
	}

	/* 3. Drain every 10 ms until told to stop. */
	stop_on_signals();
	signal(SIGPIPE, SIG_IGN);
	static char outbuf[1 << 16];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	if (cfg.duration_ns)
		deadline = mono_ns() + cfg.duration_ns;
	log_info("sensor: capturing on %s%s%s (%s)", cfg.host, cfg.netns ? ", netns " : "",
		 cfg.netns ? cfg.netns : "",
		 cfg.connections_only ? "connections only" : "messages");
	while (!weft_stop_requested) {
		uint64_t now = mono_ns();

		if (now >= next_clock) { /* follow wall-clock adjustments */
			out.wall_offset = clock_to_wall_offset(CLOCK_BOOTTIME);
			next_clock = now + 1000000000ull;
		}
		err = capture__poll(cap, 10);
		if (err < 0) {
			log_error("sensor: reading events failed: %s", strerror(-err));
			goto cleanup;
		}
		if (out.shipper) {
			jvm_traces__poll(out.traces, out.shipper, now);
			shipper__tick(out.shipper, cap, ctl);
		} else if (fflush(stdout) && errno == EPIPE)
			break; /* the reader went away */
		if (ctl_server)
			control_server__serve(ctl_server, ctl);
		if (deadline && mono_ns() >= deadline)
			break;
	}
	capture__flush(cap);
	if (out.shipper)
		shipper__flush(out.shipper, cap, ctl, 2000);
	fflush(stdout);
	ret = 0;

cleanup:
	if (cap)
		report_counters(cap, out.shipper);
	control_server__close(ctl_server);
	control__free(ctl);
	go_procs__free(out.go);
	tls_libs__free(out.tls);
	capture__close(cap);
	shipper__free(out.shipper);
	profiles__free(out.profiles); /* sessions still running end unreported */
	jvm_traces__free(out.traces);
	proc_cache__free(out.procs);
	return ret;
}

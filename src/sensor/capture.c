#include "sensor/capture.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "sensor.skel.h"
#include "sensor/ring_reader.h"

#define TRACEFS "/sys/kernel/tracing"

/* How long an event waits for the other CPUs' rings to catch up: longer
 * than a program takes from its clock read to its commit, unless it is
 * preempted for longer (the event then comes out of order, not lost). */
#define MERGE_HOLD_NS 5000000ull

struct capture {
	struct sensor_bpf *skel;
	int *ring_fds;		    /* one per possible CPU */
	struct ring_reader *reader; /* reads them all in time order */
	struct bpf_link *links[32]; /* one per program */
	int nlinks;
	capture_event_fn fn;
	void *ctx;
	struct weft_filter filter; /* what the kernel has now */
	int ncpus;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's messages (the verifier's log among them) are for --verbose;
	 * without it the sensor says in one line what failed. */
	(void)level;
	if (weft_log_level < WEFT_LOG_DEBUG)
		return 0;
	fputs("weft: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* Each CPU's share of the ring bytes: a power of two, at least a page. */
static uint64_t ring_share(uint64_t total, int ncpus)
{
	uint64_t share = (uint64_t)sysconf(_SC_PAGESIZE);

	while (share * 2 <= total / (uint64_t)ncpus)
		share *= 2;
	return share;
}

/* Makes one ring per possible CPU, puts each where that CPU's programs
 * look for it, and reads them all with one reader. */
static int rings_make(struct capture *c, uint64_t size)
{
	int outer = bpf_map__fd(c->skel->maps.rings);

	c->ring_fds = malloc(c->ncpus * sizeof(*c->ring_fds));
	if (!c->ring_fds)
		return -ENOMEM;
	for (int i = 0; i < c->ncpus; i++)
		c->ring_fds[i] = -1;
	for (int i = 0; i < c->ncpus; i++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "weft_ring", 0, 0, size, NULL);

		if (fd < 0 || bpf_map_update_elem(outer, &i, &fd, BPF_ANY)) {
			int err = -errno;

			if (fd >= 0)
				close(fd);
			log_error("sensor: cannot make the ring buffer of CPU %d: %s", i,
				  strerror(-err));
			return err;
		}
		c->ring_fds[i] = fd;
	}
	c->reader = ring_reader__new(c->ring_fds, c->ncpus, size);
	if (!c->reader) {
		int err = -errno;

		log_error("sensor: cannot map the ring buffers: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* What the kernel needs before anything can load, each with its own message. */
static int check_prerequisites(void)
{
	struct stat st;

	if (geteuid() != 0) {
		log_error("sensor: needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN) to load its "
			  "kernel programs");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		log_error("sensor: this kernel exposes no BTF (/sys/kernel/btf/vmlinux): build it "
			  "with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	/* Tracepoints are attached by id, read from tracefs: mount it if absent. */
	if (stat(TRACEFS "/events", &st) && stat("/sys/kernel/debug/tracing/events", &st)) {
		if (mount("tracefs", TRACEFS, "tracefs", 0, NULL)) {
			log_error("sensor: tracefs is not mounted and mounting it on %s failed: %s",
				  TRACEFS, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int attach_all(struct capture *c)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, c->skel->obj)
	{
		struct bpf_link *link;

		if (!bpf_program__autoload(prog) ||
		    !strncmp(bpf_program__section_name(prog), "uprobe", 6) ||
		    !strncmp(bpf_program__section_name(prog), "uretprobe", 9))
			continue; /* per file: capture__attach_go, capture__attach_tls */
		if (c->nlinks == (int)(sizeof(c->links) / sizeof(c->links[0])))
			return -E2BIG;
		link = bpf_program__attach(prog);
		if (!link) {
			int err = -errno;

			log_error("sensor: cannot attach to tracepoint %s: %s",
				  bpf_program__section_name(prog), strerror(-err));
			return err;
		}
		c->links[c->nlinks++] = link;
	}
	return 0;
}

struct capture *capture__open(const struct capture_opts *opts, capture_event_fn fn, void *ctx)
{
	struct capture *c;
	uint64_t ring;
	int err;

	err = check_prerequisites();
	if (err) {
		errno = -err;
		return NULL;
	}
	libbpf_set_print(libbpf_print);

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fn = fn;
	c->ctx = ctx;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0) {
		err = c->ncpus;
		log_error("sensor: cannot count the CPUs: %s", strerror(-err));
		goto cleanup;
	}
	ring = ring_share(opts->ring_bytes, c->ncpus);

	/* Open, configure before load, load, attach, then the reader. */
	c->skel = sensor_bpf__open();
	if (!c->skel) {
		err = -errno;
		log_error("sensor: cannot open the BPF object: %s", strerror(errno));
		goto cleanup;
	}
	c->skel->rodata->self_tgid = getpid();
	c->skel->rodata->target_netns = opts->netns;
	c->skel->rodata->payload_max = opts->payload;
	c->skel->rodata->wakeup_bytes = ring / 4;
	c->skel->rodata->call_time = opts->call_time;
	bpf_program__set_autoload(c->skel->progs.enter_call, opts->call_time);
	bpf_program__set_autoload(c->skel->progs.exit_call, opts->call_time);
	err = bpf_map__set_max_entries(c->skel->maps.rings, c->ncpus);
	if (err)
		goto cleanup;

	err = sensor_bpf__load(c->skel);
	if (err) {
		log_error("sensor: the kernel refused the BPF programs: %s (run with --verbose "
			  "for the verifier's log)",
			  strerror(-err));
		goto cleanup;
	}
	err = capture__set_messages(c, !opts->connections_only);
	if (err)
		goto cleanup;
	err = rings_make(c, ring);
	if (err)
		goto cleanup;
	err = attach_all(c);
	if (err)
		goto cleanup;
	return c;

cleanup:
	capture__close(c);
	errno = -err;
	return NULL;
}

int capture__poll(struct capture *c, int timeout_ms)
{
	/* Events are written without wake-ups, so a timed-out wait is the
	 * normal case. The clock is read before the rings: whatever is older
	 * than it less the hold was committed by then, on every CPU. */
	int err = ring_reader__wait(c->reader, timeout_ms);

	if (err)
		return err;
	return ring_reader__read(c->reader, clock_ns(CLOCK_BOOTTIME) - MERGE_HOLD_NS, c->fn,
				 c->ctx);
}

int capture__flush(struct capture *c)
{
	return ring_reader__read(c->reader, UINT64_MAX, c->fn, c->ctx);
}

static int filter_push(struct capture *c)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(c->skel->maps.filter, &zero, sizeof(zero), &c->filter,
				 sizeof(c->filter), BPF_ANY))
		return -errno;
	return 0;
}

int capture__set_messages(struct capture *c, bool on)
{
	c->filter.messages = on;
	return filter_push(c);
}

static int selector_add(struct capture *c, struct bpf_map *map, const void *key, size_t keylen,
			enum weft_selector sel)
{
	__u8 one = 1;

	if (bpf_map__update_elem(map, key, keylen, &one, sizeof(one), BPF_ANY))
		return -errno;
	c->filter.selectors |= sel;
	return filter_push(c);
}

int capture__add_pid(struct capture *c, uint32_t pid)
{
	return selector_add(c, c->skel->maps.sel_pid, &pid, sizeof(pid), WEFT_SEL_PID);
}

int capture__add_comm(struct capture *c, const char *comm)
{
	char key[WEFT_COMM_LEN] = {0};

	strncpy(key, comm, sizeof(key) - 1);
	return selector_add(c, c->skel->maps.sel_comm, key, sizeof(key), WEFT_SEL_COMM);
}

int capture__add_port(struct capture *c, uint16_t port)
{
	return selector_add(c, c->skel->maps.sel_port, &port, sizeof(port), WEFT_SEL_PORT);
}

int capture__ignore_port(struct capture *c, uint16_t port)
{
	__u8 one = 1;

	if (bpf_map__update_elem(c->skel->maps.ignore_port, &port, sizeof(port), &one, sizeof(one),
				 BPF_ANY))
		return -errno;
	return 0;
}

int capture__ignore_peer(struct capture *c, uint16_t family, const uint8_t addr[16], uint16_t port)
{
	struct weft_peer key = {.port = port, .family = family};
	__u8 one = 1;

	memcpy(key.addr, addr, sizeof(key.addr));
	if (bpf_map__update_elem(c->skel->maps.ignore_peer, &key, sizeof(key), &one, sizeof(one),
				 BPF_ANY))
		return -errno;
	return 0;
}

int capture__attach_go(struct capture *c, const char *exe, struct bpf_link *links[2])
{
	LIBBPF_OPTS(bpf_uprobe_opts, ready, .func_name = "runtime.goready");
	LIBBPF_OPTS(bpf_uprobe_opts, exit, .func_name = "runtime.goexit1");
	int err;

	links[0] = bpf_program__attach_uprobe_opts(c->skel->progs.on_goready, -1, exe, 0, &ready);
	if (!links[0])
		return -errno;
	links[1] = bpf_program__attach_uprobe_opts(c->skel->progs.on_goexit, -1, exe, 0, &exit);
	if (!links[1]) {
		err = -errno;
		bpf_link__destroy(links[0]);
		links[0] = NULL;
		return err;
	}
	return 0;
}

int capture__attach_tls(struct capture *c, const char *lib,
			struct bpf_link *links[CAPTURE_TLS_LINKS])
{
	const struct {
		const char *func;
		struct bpf_program *prog;
		bool ret;
		bool optional; /* the _ex forms: OpenSSL 1.1.1 and later */
	} probes[CAPTURE_TLS_LINKS] = {
	    {"SSL_write", c->skel->progs.on_ssl_write, false, false},
	    {"SSL_write", c->skel->progs.on_ssl_write_ret, true, false},
	    {"SSL_read", c->skel->progs.on_ssl_read, false, false},
	    {"SSL_read", c->skel->progs.on_ssl_read_ret, true, false},
	    {"SSL_write_ex", c->skel->progs.on_ssl_write_ex, false, true},
	    {"SSL_write_ex", c->skel->progs.on_ssl_write_ret, true, true},
	    {"SSL_read_ex", c->skel->progs.on_ssl_read_ex, false, true},
	    {"SSL_read_ex", c->skel->progs.on_ssl_read_ret, true, true},
	};

	memset(links, 0, sizeof(links[0]) * CAPTURE_TLS_LINKS);
	for (int i = 0; i < CAPTURE_TLS_LINKS; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = probes[i].func,
			    .retprobe = probes[i].ret);
		int err;

		links[i] = bpf_program__attach_uprobe_opts(probes[i].prog, -1, lib, 0, &o);
		if (links[i] || probes[i].optional)
			continue;
		err = -errno;
		for (int j = 0; j < i; j++) {
			bpf_link__destroy(links[j]);
			links[j] = NULL;
		}
		return err;
	}
	return 0;
}

int capture__payload_port(struct capture *c, uint16_t port, uint16_t bytes)
{
	struct bpf_map *m = c->skel->maps.payload_ports;

	if (bytes)
		return bpf_map__update_elem(m, &port, sizeof(port), &bytes, sizeof(bytes), BPF_ANY)
			   ? -errno
			   : 0;
	return bpf_map__delete_elem(m, &port, sizeof(port), 0) && errno != ENOENT ? -errno : 0;
}

int capture__add_coroutine_pid(struct capture *c, uint32_t pid)
{
	__u8 one = 1;

	if (bpf_map__update_elem(c->skel->maps.coroutine_pids, &pid, sizeof(pid), &one, sizeof(one),
				 BPF_ANY))
		return -errno;
	if (c->filter.coroutines)
		return 0;
	c->filter.coroutines = 1;
	return filter_push(c);
}

int capture__add_cgroup(struct capture *c, uint64_t cgroup_id)
{
	return selector_add(c, c->skel->maps.sel_cgroup, &cgroup_id, sizeof(cgroup_id),
			    WEFT_SEL_CGROUP);
}

int capture__add_netns(struct capture *c, uint32_t netns)
{
	return selector_add(c, c->skel->maps.sel_netns, &netns, sizeof(netns), WEFT_SEL_NETNS);
}

static void map_clear(struct bpf_map *map, size_t keylen)
{
	char key[WEFT_COMM_LEN + 16], next[WEFT_COMM_LEN + 16];

	/* Deleting while iterating restarts from the first key each time. */
	while (!bpf_map__get_next_key(map, NULL, next, keylen)) {
		memcpy(key, next, keylen);
		if (bpf_map__delete_elem(map, key, keylen, 0))
			break;
	}
}

int capture__clear_selectors(struct capture *c)
{
	int err;

	c->filter.selectors = 0;
	err = filter_push(c); /* first stop using the maps, then empty them */
	map_clear(c->skel->maps.sel_pid, sizeof(__u32));
	map_clear(c->skel->maps.sel_comm, WEFT_COMM_LEN);
	map_clear(c->skel->maps.sel_port, sizeof(__u16));
	map_clear(c->skel->maps.sel_cgroup, sizeof(__u64));
	map_clear(c->skel->maps.sel_netns, sizeof(__u32));
	return err;
}

bool capture__messages(const struct capture *c)
{
	return c->filter.messages;
}

uint32_t capture__selectors(const struct capture *c)
{
	return c->filter.selectors;
}

void capture__counters(struct capture *c, uint64_t out[WEFT_CNT_MAX])
{
	__u64 *vals = calloc(c->ncpus, sizeof(__u64));

	for (__u32 k = 0; k < WEFT_CNT_MAX; k++) {
		out[k] = 0;
		if (!vals || bpf_map__lookup_elem(c->skel->maps.counters, &k, sizeof(k), vals,
						  c->ncpus * sizeof(__u64), 0))
			continue;
		for (int i = 0; i < c->ncpus; i++)
			out[k] += vals[i];
	}
	free(vals);
}

void capture__close(struct capture *c)
{
	if (!c)
		return;
	for (int i = c->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(c->links[i]);
	ring_reader__free(c->reader);
	for (int i = 0; c->ring_fds && i < c->ncpus; i++)
		if (c->ring_fds[i] >= 0)
			close(c->ring_fds[i]);
	free(c->ring_fds);
	sensor_bpf__destroy(c->skel);
	free(c);
}

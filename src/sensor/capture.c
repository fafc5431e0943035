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

#include "common/log.h"
#include "sensor.skel.h"

#define TRACEFS "/sys/kernel/tracing"

struct capture {
	struct sensor_bpf *skel;
	struct ring_buffer *rb;
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

static int handle_event(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct weft_event *e = data;

	if (size < sizeof(*e) || size < sizeof(*e) + e->payload_len)
		return 0; /* cannot happen: the kernel writes whole events */
	c->fn(e, c->ctx);
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

		if (!bpf_program__autoload(prog))
			continue;
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
	c->skel->rodata->wakeup_bytes = opts->ring_bytes / 4;
	c->skel->rodata->call_time = opts->call_time;
	bpf_program__set_autoload(c->skel->progs.enter_call, opts->call_time);
	bpf_program__set_autoload(c->skel->progs.exit_call, opts->call_time);
	err = bpf_map__set_max_entries(c->skel->maps.events, opts->ring_bytes);
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
	err = attach_all(c);
	if (err)
		goto cleanup;

	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), handle_event, c, NULL);
	if (!c->rb) {
		err = -errno;
		log_error("sensor: cannot read the ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	return c;

cleanup:
	capture__close(c);
	errno = -err;
	return NULL;
}

int capture__poll(struct capture *c, int timeout_ms)
{
	int n, m;

	/* Events are written without wake-ups, so a timed-out poll is the
	 * normal case and the ring is drained explicitly after it. */
	n = ring_buffer__poll(c->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	m = ring_buffer__consume(c->rb);
	if (m < 0)
		return m;
	return (n > 0 ? n : 0) + m;
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
	ring_buffer__free(c->rb);
	for (int i = c->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(c->links[i]);
	sensor_bpf__destroy(c->skel);
	free(c);
}

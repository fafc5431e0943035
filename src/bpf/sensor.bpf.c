// SPDX-License-Identifier: GPL-2.0
/* weft sensor: every TCP message on the host, with the thread that moved it.
 *
 * Hooks, all tracepoints (this kernel has no kprobes and refuses fentry),
 * taken as BTF-typed raw tracepoints: the arguments come as typed kernel
 * pointers read directly, with no perf record built and no helper call per
 * field, and the socket's state lives in its own local storage.
 *   sock_send_length / sock_recv_length  one event per call that moved bytes;
 *                                        the user buffer is read from the
 *                                        system call's saved registers
 *   inet_sock_set_state                  connect start/result, server establish, close
 *   tcp_receive_reset / tcp_send_reset   resets
 *   sched_process_exec                   executable paths of new programs
 *   uprobe on Go's runtime.goready       which goroutine handed work to which (Go
 *                                        programs only, attached per executable)
 * With call times on (off by default: any system call hook puts every system
 * call of every process on the kernel's slow path):
 *   sys_enter                            when a read or write call started
 *   sys_exit                             which thread accept() handed a connection to
 *
 * pid and tid are taken only in hooks that run in the calling thread; state
 * changes may run in softirq on behalf of another task, so everything they
 * report comes from the socket's own state. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/sensor_event.h"

#define AF_INET	     2
#define AF_INET6     10
#define IPPROTO_TCP  6
#define MSG_PEEK     2
#define RCV_SHUTDOWN 1
#define DIR_SEND     1
#define DIR_RECV     2

/* TCP states, from include/net/tcp_states.h */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_CLOSE	7

/* The system calls whose buffer holds a message, and accept. */
#if defined(__TARGET_ARCH_x86)
#define NR_READ	    0
#define NR_WRITE    1
#define NR_READV    19
#define NR_WRITEV   20
#define NR_SENDFILE 40
#define NR_ACCEPT   43
#define NR_SENDTO   44
#define NR_RECVFROM 45
#define NR_SENDMSG  46
#define NR_RECVMSG  47
#define NR_SPLICE   275
#define NR_ACCEPT4  288
#elif defined(__TARGET_ARCH_arm64)
#define NR_READ	    63
#define NR_WRITE    64
#define NR_READV    65
#define NR_WRITEV   66
#define NR_SPLICE   76
#define NR_SENDFILE 71
#define NR_ACCEPT   202
#define NR_SENDTO   206
#define NR_RECVFROM 207
#define NR_SENDMSG  211
#define NR_RECVMSG  212
#define NR_ACCEPT4  242
#else
#error "system call numbers of this architecture are not listed"
#endif

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u32 self_tgid = 0;    /* the sensor itself: never traced */
const volatile __u32 target_netns = 0; /* nonzero: only sockets of this network namespace */
const volatile __u32 payload_max = WEFT_PAYLOAD_DEFAULT;
const volatile __u64 wakeup_bytes = 1 << 20; /* wake the reader only past this backlog */
const volatile bool call_time = false;	     /* the system call hooks are attached */

#define PAYLOAD_SHORT 64 /* the smaller of the two record sizes with a payload */
#define IOV_GATHER    8	 /* iovec entries a message's first bytes are gathered from */

/* A thread, as events name it. */
struct owner {
	__u64 cgroup_id;
	__u64 coroutine; /* the goroutine it ran, in a Go program */
	__u32 pid;
	__u32 tid;
	char comm[WEFT_COMM_LEN];
};

struct sock_state {
	__u64 id;
	__u64 connect_ns; /* when connect() started: the handshake's duration */
	struct owner own; /* the connecting or accepting thread */
	__u32 netns;
	__u16 family;
	__u16 sport; /* kept: the kernel clears the local port before the close event */
	__u16 dport;
	__u8 role;
	__u8 last_dir; /* direction of the previous message: a change starts a new one */
	__u8 reset;
	__u8 ignore;	/* outside the sensor's scope (--netns): remembered to skip fast */
	__u8 owned;	/* `own` is known (else accept() has not been seen) */
	__u8 tls;	/* a message started with a TLS record: look for a TLS library's call */
	__u16 every;	/* a broker's port (--payload-port): this many bytes of every call */
	__u16 captured; /* bytes of the current message captured so far */
	__u32 pad2;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* The thread accept() returned a connection in, and when (call times only),
 * kept by socket address until the connection's state is at hand. */
struct accept_rec {
	__u64 ts;
	struct owner by;
};

/* When the thread's current system call started (call times only). */
struct call_ctx {
	__u64 ts;
	__u64 nr; /* system call number, to ignore a stale context */
};

/* One ring per CPU: a program writes to its own CPU's ring, so no lock or
 * position is shared between CPUs. User space makes the rings (their size
 * is its choice), puts them in here, and merges them back in time order. */
struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* the template's; the rings' own sizes rule */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* one per possible CPU, set by user space */
	__type(key, __u32);
	__array(values, struct ring);
} rings SEC(".maps");

/* Per-socket state in the socket itself: found without hashing, and freed
 * with the socket, so no table can fill up or keep a dead connection. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_state);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* struct sock * */
	__type(value, struct accept_rec);
} accepted SEC(".maps");

/* Per-thread call start: task storage costs a fraction of a hash update,
 * and it is written on every read and write of every process. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_ctx);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Run-time filter and its selectors: changed by user space while running. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct weft_filter);
} filter SEC(".maps");

#define SELECTOR_MAP(name, keytype)                                                                \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(max_entries, 1024);                                                         \
		__type(key, keytype);                                                              \
		__type(value, __u8);                                                               \
	} name SEC(".maps")

SELECTOR_MAP(sel_pid, __u32);
/* Go programs (user space reads their executables): their goroutine at each
 * event is the g register (r14 on x86-64, x28 on arm64) saved at system call
 * entry, which Go's ABI keeps through its system call wrappers. */
SELECTOR_MAP(coroutine_pids, __u32);
/* Ports whose connections are never traced: weft's own server on its host
 * (ingest and API); ignore_peer: the same server seen from other hosts. */
SELECTOR_MAP(ignore_port, __u16);
SELECTOR_MAP(ignore_peer, struct weft_peer);
/* Ports whose every call carries its first bytes (value: how many), not only
 * a message's first call: message brokers send runs of messages one way. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u16);
} payload_ports SEC(".maps");
SELECTOR_MAP(sel_comm, char[WEFT_COMM_LEN]);
SELECTOR_MAP(sel_port, __u16);
SELECTOR_MAP(sel_cgroup, __u64);
SELECTOR_MAP(sel_netns, __u32);

/* Counts one more of `which` on this CPU; returns the CPU's new count. */
static __always_inline __u64 count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (!c)
		return 0;
	return ++*c; /* per-CPU: no atomics needed */
}

static __always_inline __u64 new_sock_id(void)
{
	/* Boot-time ns with the CPU in the low byte: unique on this host across
	 * sensor restarts, which a counter would not be. */
	return (bpf_ktime_get_boot_ns() << 8) | (bpf_get_smp_processor_id() & 0xff);
}

/* Reads what identifies the connection; done once per socket. Returns
 * false for sockets outside the sensor's scope. */
static __always_inline bool sock_identity(struct sock *sk, struct sock_state *st)
{
	st->family = sk->__sk_common.skc_family;
	if (st->family != AF_INET && st->family != AF_INET6)
		return false;
	st->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (target_netns && st->netns != target_netns)
		return false;
	st->sport = sk->__sk_common.skc_num;
	st->dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (bpf_map_lookup_elem(&ignore_port, &st->sport) ||
	    bpf_map_lookup_elem(&ignore_port, &st->dport))
		return false;
	if (st->family == AF_INET) {
		*(__u32 *)st->saddr = sk->__sk_common.skc_rcv_saddr;
		*(__u32 *)st->daddr = sk->__sk_common.skc_daddr;
	} else {
		BPF_CORE_READ_INTO(&st->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&st->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	struct weft_peer peer = {.port = st->dport, .family = st->family};
	__u16 *every = bpf_map_lookup_elem(&payload_ports, &st->sport);

	if (!every)
		every = bpf_map_lookup_elem(&payload_ports, &st->dport);
	st->every = every ? *every : 0;
	__builtin_memcpy(peer.addr, st->daddr, sizeof(peer.addr));
	return !bpf_map_lookup_elem(&ignore_peer, &peer);
}

/* The goroutine the calling thread runs, 0 outside Go programs. The filter
 * says whether any is known, so other hosts pay nothing for it. */
static __always_inline __u64 current_coroutine(__u32 pid)
{
	__u32 zero = 0;
	struct weft_filter *f = bpf_map_lookup_elem(&filter, &zero);
	struct pt_regs *regs;

	if (!f || !f->coroutines || !bpf_map_lookup_elem(&coroutine_pids, &pid))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
#if defined(__TARGET_ARCH_x86)
	return regs->r14;
#else
	return regs->regs[28];
#endif
}

static __always_inline void owner_current(struct owner *o, __u64 pid_tgid)
{
	o->pid = pid_tgid >> 32;
	o->tid = (__u32)pid_tgid;
	o->cgroup_id = bpf_get_current_cgroup_id();
	o->coroutine = current_coroutine(o->pid);
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/* The calling thread owns the connection. */
static __always_inline void sock_set_owner(struct sock_state *st, __u64 pid_tgid)
{
	owner_current(&st->own, pid_tgid);
	st->owned = 1;
}

/* (Re)starts the state of a socket; `owner` makes the calling thread its
 * owner (it is not when the hook runs in softirq). A socket out of scope is
 * remembered as such, and NULL returned. */
static __always_inline struct sock_state *sock_state_new(struct sock *sk, __u8 role, bool owner)
{
	struct sock_state *st = bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (!st) {
		count(WEFT_CNT_NO_STATE);
		return NULL;
	}
	__builtin_memset(st, 0, sizeof(*st));
	st->ignore = !sock_identity(sk, st);
	if (st->ignore)
		return NULL;
	st->id = new_sock_id();
	st->role = role;
	if (owner)
		sock_set_owner(st, bpf_get_current_pid_tgid());
	count(WEFT_CNT_SOCK_NEW);
	return st;
}

/* The state of a socket in scope, created on first sight; NULL otherwise. */
static __always_inline struct sock_state *sock_state_get(struct sock *sk, __u8 role)
{
	struct sock_state *st = bpf_sk_storage_get(&socks, sk, 0, 0);

	if (!st)
		return sock_state_new(sk, role, true);
	return st->ignore ? NULL : st;
}

/* Reserves an event in the ring itself with room for `room` payload bytes:
 * no staging copy. NULL, counted, when the ring is full. The verifier must
 * know `room` on every path: 0, PAYLOAD_SHORT or payload_max (read-only). */
static __always_inline struct weft_event *event_reserve(__u32 room)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct weft_event *e = NULL;
	void *ring = bpf_map_lookup_elem(&rings, &cpu);

	if (ring)
		e = bpf_ringbuf_reserve(ring, sizeof(*e) + room, 0);
	if (!e)
		count(WEFT_CNT_DROPS);
	return e;
}

static __always_inline void event_fill(struct weft_event *e, struct sock_state *st, __u8 type)
{
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->sock_id = st->id;
	e->cgroup_id = st->own.cgroup_id;
	e->duration_ns = 0;
	e->coroutine = st->own.coroutine;
	e->pid = st->own.pid;
	e->tid = st->own.tid;
	e->seq = 0;
	e->len = 0;
	e->payload_len = 0;
	e->err = 0;
	e->flags = WEFT_EVF_NO_TASK;
	e->type = type;
	e->role = st->role;
	__builtin_memcpy(e->comm, st->own.comm, sizeof(e->comm));
	e->family = st->family;
	e->sport = st->sport;
	e->dport = st->dport;
	e->netns = st->netns;
	__builtin_memcpy(e->saddr, st->saddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, st->daddr, sizeof(e->daddr));
}

/* The task fields of an event raised in the calling thread. The owner's
 * cgroup and name, read when it took the connection, are the caller's when
 * the caller is the owner: two helper calls less per message. (A thread
 * renamed since keeps its old name on this connection's events.) */
static __always_inline void event_set_task(struct weft_event *e, struct sock_state *st,
					   __u64 pid_tgid)
{
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->flags &= ~WEFT_EVF_NO_TASK;
	e->coroutine = current_coroutine(e->pid);
	if (e->tid != st->own.tid) {
		e->cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
}

static __always_inline void submit(struct weft_event *e)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 flags = BPF_RB_NO_WAKEUP;
	void *ring;

	/* Wake-ups cost more than the copy: the reader drains on a timer and
	 * is woken only when a backlog builds up. Looked at every 32nd event of
	 * a CPU: the query reads the consumer's position, a line the reader writes. */
	if (!(count(WEFT_CNT_EVENTS) & 31) && (ring = bpf_map_lookup_elem(&rings, &cpu)) &&
	    bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) > wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void emit_lifecycle(struct sock_state *st, __u8 type, __s32 err, __u32 flags)
{
	struct weft_event *e;

	if (st->own.pid == self_tgid || !(e = event_reserve(0)))
		return;
	event_fill(e, st, type);
	e->err = err;
	e->flags |= flags;
	if (type == WEFT_EV_CONNECT && st->connect_ns) {
		e->duration_ns = e->ts_ns - st->connect_ns;
		e->flags |= WEFT_EVF_DURATION;
	}
	submit(e);
}

/* The calling thread takes a connection whose owner is not known yet: the
 * accept() side's, created in softirq. Its accept event is raised then,
 * with the thread and time accept() returned when call times are on, else
 * with the thread that moves the connection's first bytes. */
static __always_inline void sock_claim(struct sock *sk, struct sock_state *st, __u64 pid_tgid)
{
	__u64 key = (__u64)sk, ts = 0;
	struct accept_rec *a;
	struct weft_event *e;

	a = call_time ? bpf_map_lookup_elem(&accepted, &key) : NULL;
	if (a) {
		st->own = a->by;
		st->owned = 1;
		ts = a->ts;
		bpf_map_delete_elem(&accepted, &key);
	} else {
		sock_set_owner(st, pid_tgid);
	}
	if (st->role != WEFT_ROLE_SERVER || st->own.pid == self_tgid || !(e = event_reserve(0)))
		return;
	event_fill(e, st, WEFT_EV_ACCEPT);
	e->flags &= ~WEFT_EVF_NO_TASK;
	if (ts)
		e->ts_ns = ts;
	submit(e);
}

static __always_inline bool messages_wanted(struct sock_state *st, __u64 pid_tgid)
{
	__u32 zero = 0, pid = pid_tgid >> 32;
	struct weft_filter *f = bpf_map_lookup_elem(&filter, &zero);
	char comm[WEFT_COMM_LEN];
	__u64 cg;

	if (!f || !f->messages)
		return false;
	if (!f->selectors)
		return true;
	if ((f->selectors & WEFT_SEL_PID) && bpf_map_lookup_elem(&sel_pid, &pid))
		return true;
	if (f->selectors & WEFT_SEL_COMM) {
		__builtin_memset(comm, 0, sizeof(comm));
		bpf_get_current_comm(comm, sizeof(comm));
		if (bpf_map_lookup_elem(&sel_comm, comm))
			return true;
	}
	if ((f->selectors & WEFT_SEL_PORT) && (bpf_map_lookup_elem(&sel_port, &st->sport) ||
					       bpf_map_lookup_elem(&sel_port, &st->dport)))
		return true;
	if (f->selectors & WEFT_SEL_CGROUP) {
		cg = bpf_get_current_cgroup_id();
		if (bpf_map_lookup_elem(&sel_cgroup, &cg))
			return true;
	}
	if ((f->selectors & WEFT_SEL_NETNS) && bpf_map_lookup_elem(&sel_netns, &st->netns))
		return true;
	return false;
}

/* ---- where a message's bytes are in user memory --------------------------- */

/* The registers the thread entered the kernel with, saved on its stack. */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline long syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->orig_ax;
#else
	return regs->syscallno;
#endif
}

/* Where a call's bytes are in user memory. */
struct call_buf {
	__u64 addr; /* the buffer, or the iovec array when cnt is set; 0: none */
	__u64 cnt;  /* iovec entries (readv, writev, sendmsg, recvmsg), 0 for one buffer */
};

/* The user buffer of the system call in progress, from its arguments: the
 * buffer itself (read, write, sendto, recvfrom), an iovec array (readv,
 * writev) or a msghdr (sendmsg, recvmsg). None for the other calls
 * (sendfile, splice, io_uring), whose bytes were never in this call's user
 * memory. Saves a system call entry hook on every read and write. */
static __always_inline struct call_buf call_buffer(void)
{
	struct pt_regs *regs = syscall_regs();
	__u64 arg = PT_REGS_PARM2_SYSCALL(regs), cnt = PT_REGS_PARM3_SYSCALL(regs);
	struct call_buf b = {};
	struct user_msghdr m;

	/* Both registers read before the branches: the compiler would otherwise
	 * merge a register load with a stack load, which the verifier refuses. */
	barrier_var(cnt);
	switch (syscall_nr(regs)) {
	case NR_READ:
	case NR_WRITE:
	case NR_SENDTO:
	case NR_RECVFROM:
		b.addr = arg;
		break;
	case NR_READV:
	case NR_WRITEV:
		b.addr = arg;
		b.cnt = cnt;
		break;
	case NR_SENDMSG:
	case NR_RECVMSG:
		if (!bpf_probe_read_user(&m, sizeof(m), (void *)arg)) {
			b.addr = (__u64)m.msg_iov;
			b.cnt = m.msg_iovlen;
		}
		break;
	}
	return b;
}

/* What to copy of a call's first bytes: n of them (at most cap), from one
 * user buffer (src), or gathered from several iovec entries (gather: the
 * first is shorter than n). */
struct payload_src {
	__u64 src;
	__u64 n;
	struct call_buf iov; /* gather from here */
	bool gather;
};

static __always_inline struct payload_src payload_source(int ret, __u64 cap)
{
	struct call_buf b = call_buffer();
	struct payload_src p = {};
	struct iovec v;

	if (!b.addr)
		return p;
	p.n = (__u64)ret < cap ? (__u64)ret : cap;
	if (!b.cnt) {
		p.src = b.addr;
	} else if (!bpf_probe_read_user(&v, sizeof(v), (void *)b.addr)) {
		p.src = (__u64)v.iov_base;
		if (v.iov_len < p.n && b.cnt > 1) {
			p.iov = b;
			p.gather = true;
		} else if (v.iov_len < p.n) {
			p.n = v.iov_len;
		}
	}
	if (!p.n || !p.src)
		p = (struct payload_src){};
	return p;
}

/* Copies n payload bytes into an event with room for `room` of them. */
static __always_inline void payload_copy(struct weft_event *e, __u64 src, __u64 n, __u64 room)
{
	if (n > room)
		n = room;
	/* Keep the compiler from folding this bound away: the verifier needs it. */
	barrier_var(n);
	if (bpf_probe_read_user(e->payload, n, (void *)src))
		return;
	e->payload_len = n;
}

/* A writev of a short header and a body, a sendmsg of a length prefix and a
 * message: the first bytes span iovec entries. They are gathered in this
 * CPU's scratch buffer (twice the largest payload, so that every offset
 * below WEFT_PAYLOAD_MAX plus every length up to it stays inside, as the
 * verifier wants), then copied into the event. */
struct gather_buf {
	__u8 b[2 * WEFT_PAYLOAD_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gather_buf);
} gather SEC(".maps");

static __always_inline void payload_gather(struct weft_event *e, const struct payload_src *p,
					   __u64 room)
{
	__u32 zero = 0;
	struct gather_buf *g = bpf_map_lookup_elem(&gather, &zero);
	__u64 want = p->n < room ? p->n : room, got = 0;

	if (!g)
		return;
	for (int i = 0; i < IOV_GATHER; i++) {
		struct iovec v;
		__u64 k;

		if (i >= p->iov.cnt || got >= want ||
		    bpf_probe_read_user(&v, sizeof(v), (void *)(p->iov.addr + i * sizeof(v))))
			break;
		k = v.iov_len < want - got ? v.iov_len : want - got;
		if (k > WEFT_PAYLOAD_MAX)
			k = WEFT_PAYLOAD_MAX;
		got &= WEFT_PAYLOAD_MAX - 1; /* already below want <= WEFT_PAYLOAD_MAX */
		barrier_var(k);
		if (bpf_probe_read_user(g->b + got, k, v.iov_base))
			break;
		got += k;
	}
	if (got > room)
		got = room;
	barrier_var(got);
	if (got && !bpf_probe_read_kernel(e->payload, got, g->b))
		e->payload_len = got;
}

/* ---- call times (optional hooks) ------------------------------------------ */

static __always_inline bool moves_bytes(long nr)
{
	switch (nr) {
	case NR_READ:
	case NR_WRITE:
	case NR_READV:
	case NR_WRITEV:
	case NR_SENDTO:
	case NR_RECVFROM:
	case NR_SENDMSG:
	case NR_RECVMSG:
	case NR_SENDFILE:
	case NR_SPLICE:
		return true;
	default:
		return false;
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(enter_call, struct pt_regs *regs, long nr)
{
	struct call_ctx *c;

	if (!moves_bytes(nr))
		return 0;
	c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (c) {
		c->ts = bpf_ktime_get_boot_ns();
		c->nr = nr;
	}
	return 0;
}

/* When the system call in progress started, if the entry hook saw it. */
static __always_inline bool call_start(__u64 *ts)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct call_ctx *c = bpf_task_storage_get(&calls, task, 0, 0);

	if (!c || c->nr != syscall_nr((struct pt_regs *)bpf_task_pt_regs(task)))
		return false;
	*ts = c->ts;
	return true;
}

/* accept() returned a descriptor (call times only): find its socket through
 * the task's file table and remember the accepting thread for it. */
SEC("tp_btf/sys_exit")
int BPF_PROG(exit_call, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long nr = syscall_nr(regs);
	struct file **fds, *file;
	struct accept_rec a = {};
	struct socket *sock;
	struct sock *sk;
	__u64 key;

	if (ret < 0 || (nr != NR_ACCEPT && nr != NR_ACCEPT4))
		return 0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[ret]) || !file)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	key = (__u64)sk;
	a.ts = bpf_ktime_get_boot_ns();
	owner_current(&a.by, bpf_get_current_pid_tgid());
	bpf_map_update_elem(&accepted, &key, &a, BPF_ANY);
	return 0;
}

/* ---- TLS plaintext (uprobes on libssl) ---------------------------------- */

/* A thread inside SSL_write or SSL_read (and their _ex forms). */
struct tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 num;	 /* SSL_write: bytes given; SSL_read: room in buf */
	__u64 readbytes; /* SSL_read_ex: where the count goes; 0 for SSL_read */
	__u64 sock_id;	 /* SSL_read: the connection a recv inside it read from */
	__u32 seq;	 /* and the sequence number of that read */
	__u8 dir;	 /* DIR_SEND or DIR_RECV inside a call, 0 outside */
	__u8 used;	 /* SSL_write: its plaintext went with a send already */
	__u8 ex;	 /* an _ex form: returns 1 and the count through a pointer */
	__u8 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/* The connection an SSL object's bytes last went through: SSL_read may
 * return plaintext of a record read by an earlier call. */
struct tls_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

struct tls_conn {
	__u64 sock_id;
	__u32 seq;
	__u16 sport, dport;
	__u16 family;
	__u8 role;
	__u8 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tls_key);
	__type(value, struct tls_conn);
} tls_conns SEC(".maps");

/* The TLS call the thread is inside, in the direction of its message. */
static __always_inline struct tls_call *tls_current(__u8 dir)
{
	struct tls_call *t = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);

	return t && t->dir == dir ? t : NULL;
}

static __always_inline void tls_note_conn(struct tls_call *t, struct sock_state *st, __u32 seq)
{
	struct tls_key k = {.ssl = t->ssl, .tgid = bpf_get_current_pid_tgid() >> 32};
	struct tls_conn v = {.sock_id = st->id,
			     .seq = seq,
			     .sport = st->sport,
			     .dport = st->dport,
			     .family = st->family,
			     .role = st->role};

	bpf_map_update_elem(&tls_conns, &k, &v, BPF_ANY);
}

/* ---- messages ------------------------------------------------------------ */

static __always_inline int on_message(struct sock *sk, int ret, int msgflags, __u8 dir)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sock_state *st;
	struct weft_event *e;
	struct tcp_sock *tp;
	struct payload_src p = {};
	struct tls_call *tls;
	__u64 started, room;
	bool start;

	if (ret <= 0)
		return 0;
	if (dir == DIR_RECV && (msgflags & MSG_PEEK))
		return 0; /* peeked bytes are read again later */
	if ((pid_tgid >> 32) == self_tgid)
		return 0;
	tp = bpf_skc_to_tcp_sock(sk); /* NULL for any other protocol */
	if (!tp)
		return 0;
	st = sock_state_get(sk, WEFT_ROLE_UNKNOWN);
	if (!st)
		return 0;
	if (!st->owned)
		sock_claim(sk, st, pid_tgid);
	if (!messages_wanted(st, pid_tgid))
		return 0;
	/* A change of direction starts a message: its first payload_max bytes
	 * are kept, from as many calls as they take (Go's server reads a
	 * request's first byte alone); a broker's port keeps every call's. */
	start = st->last_dir != dir;
	st->last_dir = dir;
	if (start)
		st->captured = 0;
	/* Inside a TLS library's write, the plaintext it was given is the
	 * payload (its first send carries it); inside its read, the bytes are
	 * ciphertext, and the plaintext comes when the read returns. */
	tls = st->tls ? tls_current(dir) : NULL;
	if (tls) {
		if (dir == DIR_SEND && !tls->used) {
			p.src = tls->buf;
			p.n = tls->num < payload_max ? tls->num : payload_max;
			tls->used = 1;
		}
	} else if (st->every) {
		p = payload_source(ret, st->every);
	} else if (st->captured < payload_max) {
		p = payload_source(ret, payload_max - st->captured);
	}
	st->captured = st->captured + p.n > 0xffff ? 0xffff : st->captured + p.n;
	/* A record no larger than its payload needs: short requests (most of
	 * them) take three cache lines fewer in the ring. */
	room = p.n ? (st->every ? WEFT_PAYLOAD_MAX : payload_max) : 0;
	if (room > PAYLOAD_SHORT && p.n <= PAYLOAD_SHORT)
		room = PAYLOAD_SHORT;
	e = event_reserve(room);
	if (!e)
		return 0;
	event_fill(e, st, dir == DIR_SEND ? WEFT_EV_SEND : WEFT_EV_RECV);
	event_set_task(e, st, pid_tgid);
	e->len = ret;
	if (dir == DIR_SEND) {
		/* The bytes were just queued: they end at write_seq. */
		e->seq = tp->write_seq - ret;
	} else {
		/* copied_seq counts a FIN consumed in the same call as one more. */
		e->seq = tp->copied_seq - ret;
		if ((sk->sk_shutdown & RCV_SHUTDOWN) && tp->copied_seq == tp->rcv_nxt)
			e->seq -= 1;
	}
	if (call_time && call_start(&started)) {
		e->duration_ns = e->ts_ns - started;
		e->flags |= WEFT_EVF_DURATION;
	}
	if (tls) {
		e->flags |= WEFT_EVF_TLS;
		tls->sock_id = st->id;
		tls->seq = e->seq;
		tls_note_conn(tls, st, e->seq);
	}
	if (start)
		e->flags |= WEFT_EVF_MSG_START;
	else if (p.n && !tls)
		e->flags |= WEFT_EVF_MORE;
	if (p.gather)
		payload_gather(e, &p, room);
	else if (p.n)
		payload_copy(e, p.src, p.n, room);
	/* Only connections whose messages start with a TLS record (a handshake,
	 * or application data on a connection older than the sensor) pay for
	 * the TLS lookup. */
	if (start && p.n && !st->tls && e->payload_len >= 2 && e->payload[0] >= 20 &&
	    e->payload[0] <= 23 && e->payload[1] == 3)
		st->tls = 1;
	submit(e);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(on_send, struct sock *sk, int ret, int flags)
{
	return on_message(sk, ret, flags, DIR_SEND);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(on_recv, struct sock *sk, int ret, int flags)
{
	return on_message(sk, ret, flags, DIR_RECV);
}

/* ---- connection lifecycle -------------------------------------------------- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, struct sock *sk, int oldstate, int newstate)
{
	struct sock_state *st;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;

	if (newstate == TCP_SYN_SENT) {
		/* connect() itself: the calling thread is the owner. */
		st = sock_state_new(sk, WEFT_ROLE_CLIENT, true);
		if (st)
			st->connect_ns = bpf_ktime_get_boot_ns();
		return 0;
	}
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		/* Runs in softirq: the owner is unknown until accept(). */
		sock_state_new(sk, WEFT_ROLE_SERVER, false);
		return 0;
	}

	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (!st || st->ignore)
		return 0;
	if (oldstate == TCP_SYN_SENT) {
		/* connect() picks the local port after entering SYN_SENT. */
		st->sport = sk->__sk_common.skc_num;
		emit_lifecycle(st, WEFT_EV_CONNECT, newstate == TCP_ESTABLISHED ? 0 : -sk->sk_err,
			       0);
	} else if (newstate == TCP_CLOSE) {
		emit_lifecycle(st, WEFT_EV_CLOSE, 0, st->reset ? WEFT_EVF_RESET : 0);
	}
	if (newstate == TCP_CLOSE) {
		__u64 key = (__u64)sk;

		bpf_sk_storage_delete(&socks, sk);
		if (call_time) /* accepted, closed before its first bytes */
			bpf_map_delete_elem(&accepted, &key);
	}
	return 0;
}

static __always_inline int on_reset(struct sock *sk, __u32 flags)
{
	struct sock_state *st;

	if (!sk)
		return 0;
	st = bpf_sk_storage_get(&socks, sk, 0, 0);
	if (!st || st->ignore)
		return 0;
	st->reset = 1;
	emit_lifecycle(st, WEFT_EV_RESET, flags ? 0 : -104 /* ECONNRESET */, flags);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(on_receive_reset, struct sock *sk)
{
	return on_reset(sk, 0);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(on_send_reset, struct sock *sk)
{
	return on_reset(sk, WEFT_EVF_RST_SENT);
}

/* The executable of every new program, while its path is at hand: a
 * short-lived client may be gone before user space could read /proc. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct weft_event *e;
	long n;

	e = event_reserve(256);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->type = WEFT_EV_EXEC;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	n = bpf_probe_read_kernel_str(e->payload, 256, bprm->filename);
	if (n <= 0) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	e->payload_len = n - 1;
	submit(e);
	return 0;
}

/* Goroutine events of Go programs (attached per executable): the running g
 * is in r14 (x28 on arm64) under Go's register ABI. */
static __always_inline __u64 go_g(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->r14;
#else
	return regs->regs[28];
#endif
}

static __always_inline int go_event(__u64 g, __u64 other, __u32 flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct weft_filter *f = bpf_map_lookup_elem(&filter, &zero);
	struct weft_event *e;

	/* Only message-level capture needs to know who works for what. */
	if ((pid_tgid >> 32) == self_tgid || !f || !f->messages)
		return 0;
	if (target_netns) {
		struct task_struct *task = bpf_get_current_task_btf();

		if (BPF_CORE_READ(task, nsproxy, net_ns, ns.inum) != target_netns)
			return 0;
	}
	e = event_reserve(0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->type = WEFT_EV_WAKE;
	e->flags = flags;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->coroutine = g;
	e->sock_id = other;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

/* runtime.goready(gp, ...): the running goroutine makes gp runnable (a
 * channel send or receive, a mutex or semaphore release): work handed over
 * without a system call, which the correlator follows to the goroutine that
 * does the I/O (net/http's connection writer). gp is the first integer
 * argument register. */
SEC("uprobe")
int BPF_KPROBE(on_goready)
{
	struct pt_regs *regs = ctx;

#if defined(__TARGET_ARCH_x86)
	return go_event(go_g(regs), regs->ax, 0);
#else
	return go_event(go_g(regs), regs->regs[0], 0);
#endif
}

/* runtime.goexit1: the running goroutine ends; the runtime reuses its g for
 * a new one, which must not inherit what the old one worked for. */
SEC("uprobe")
int BPF_KPROBE(on_goexit)
{
	return go_event(go_g(ctx), 0, WEFT_EVF_ENDED);
}

/* SSL_write(ssl, buf, num), SSL_write_ex(ssl, buf, num, written),
 * SSL_read(ssl, buf, num), SSL_read_ex(ssl, buf, num, readbytes): the
 * plaintext's place, kept for the sends and recvs made inside. */
static __always_inline int tls_enter(__u64 ssl, __u64 buf, __u64 num, __u64 readbytes, __u8 dir,
				     __u8 ex)
{
	struct tls_call *t = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0,
						  BPF_LOCAL_STORAGE_GET_F_CREATE);

	if ((bpf_get_current_pid_tgid() >> 32) == self_tgid || !t)
		return 0;
	t->ssl = ssl;
	t->buf = buf;
	t->num = num;
	t->readbytes = readbytes;
	t->sock_id = 0;
	t->dir = dir;
	t->used = 0;
	t->ex = ex;
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_ssl_write, void *ssl, const void *buf, int num)
{
	return tls_enter((__u64)ssl, (__u64)buf, num > 0 ? num : 0, 0, DIR_SEND, 0);
}

SEC("uprobe")
int BPF_KPROBE(on_ssl_write_ex, void *ssl, const void *buf, __u64 num)
{
	return tls_enter((__u64)ssl, (__u64)buf, num, 0, DIR_SEND, 1);
}

SEC("uretprobe")
int BPF_KRETPROBE(on_ssl_write_ret)
{
	struct tls_call *t = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);

	if (t)
		t->dir = 0;
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_ssl_read, void *ssl, void *buf, int num)
{
	return tls_enter((__u64)ssl, (__u64)buf, num > 0 ? num : 0, 0, DIR_RECV, 0);
}

SEC("uprobe")
int BPF_KPROBE(on_ssl_read_ex, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	return tls_enter((__u64)ssl, (__u64)buf, num, (__u64)readbytes, DIR_RECV, 1);
}

/* The read returned plaintext: its first bytes, on the connection it came
 * from (read in this call, or an earlier one when the record was buffered). */
SEC("uretprobe")
int BPF_KRETPROBE(on_ssl_read_ret, long ret)
{
	struct tls_call *t = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	__u64 pid_tgid = bpf_get_current_pid_tgid(), n = 0;
	struct tls_key k = {.tgid = pid_tgid >> 32};
	struct weft_event *e;
	struct tls_conn *c;

	if (!t || t->dir != DIR_RECV)
		return 0;
	t->dir = 0;
	if (t->ex && ret == 1)
		bpf_probe_read_user(&n, sizeof(n), (void *)t->readbytes);
	else if (!t->ex && ret > 0)
		n = ret;
	k.ssl = t->ssl;
	c = bpf_map_lookup_elem(&tls_conns, &k); /* only connections the sensor traces */
	if (!n || !c || !(e = event_reserve(payload_max)))
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->type = WEFT_EV_PLAINTEXT;
	e->flags = WEFT_EVF_TLS;
	e->sock_id = c->sock_id;
	e->seq = c->seq;
	e->sport = c->sport;
	e->dport = c->dport;
	e->family = c->family;
	e->role = c->role;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	payload_copy(e, t->buf, n, payload_max);
	submit(e);
	return 0;
}

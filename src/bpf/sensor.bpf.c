// SPDX-License-Identifier: GPL-2.0
/* weft sensor: every TCP message on the host, with the thread that moved it.
 *
 * Hooks (all tracepoints: this kernel has no kprobes and refuses fentry):
 *   syscalls:sys_enter_{read,write,...}  remember the user buffer and start time
 *   sock:sock_send_length / recv_length  one event per call that moved bytes
 *   sock:inet_sock_set_state              connect start/result, server establish, close
 *   syscalls:sys_exit_accept[4]           which thread accepted a connection
 *   tcp:tcp_receive_reset / send_reset    resets
 *
 * pid and tid are taken only in hooks that run in the calling thread; state
 * changes may run in softirq on behalf of another task, so everything they
 * report comes from the per-socket state keyed by the socket address. */
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

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u32 self_tgid = 0;    /* the sensor itself: never traced */
const volatile __u32 target_netns = 0; /* nonzero: only sockets of this network namespace */
const volatile __u32 payload_max = WEFT_PAYLOAD_DEFAULT;
const volatile __u64 wakeup_bytes = 1 << 20; /* wake the reader only past this backlog */

struct sock_state {
	__u64 id;
	__u64 cgroup_id;
	__u64 connect_ns; /* when connect() started: the handshake's duration */
	__u32 pid;	  /* owner: the connecting or accepting thread */
	__u32 tid;
	__u32 netns;
	__u16 family;
	__u16 sport; /* kept: the kernel clears the local port before the close event */
	__u16 dport;
	__u8 role;
	__u8 last_dir; /* direction of the previous message: a change starts a new one */
	__u8 reset;
	__u8 ignore; /* outside the sensor's scope (--netns): remembered to skip fast */
	__u8 pad[6];
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[WEFT_COMM_LEN];
};

/* What a system call was given, kept until its socket-layer event fires. */
struct call_ctx {
	__u64 ts;
	__u64 buf; /* user buffer, or user iovec array when iov is set */
	__u32 nr;  /* system call number, to ignore a stale context */
	__u32 iov;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, struct sock_state);
} socks SEC(".maps");

/* Per-thread call context: task storage costs a fraction of a hash update,
 * and these are written on every read and write of every process. */
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
/* Ports whose connections are never traced: weft's own (sensor to server). */
SELECTOR_MAP(ignore_port, __u16);
SELECTOR_MAP(sel_comm, char[WEFT_COMM_LEN]);
SELECTOR_MAP(sel_port, __u16);
SELECTOR_MAP(sel_cgroup, __u64);
SELECTOR_MAP(sel_netns, __u32);

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += 1; /* per-CPU: no atomics needed */
}

static __always_inline __u32 sk_netns(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
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
	st->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (st->family != AF_INET && st->family != AF_INET6)
		return false;
	st->netns = sk_netns(sk);
	if (target_netns && st->netns != target_netns)
		return false;
	st->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	st->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (bpf_map_lookup_elem(&ignore_port, &st->sport) ||
	    bpf_map_lookup_elem(&ignore_port, &st->dport))
		return false;
	if (st->family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)st->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)st->daddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&st->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&st->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	return true;
}

/* Creates the state of a socket; `owner` makes the calling thread its owner
 * (it is not when the hook runs in softirq). A socket out of scope is
 * remembered as such, and NULL returned. */
static __always_inline struct sock_state *sock_state_new(struct sock *sk, __u8 role, bool owner)
{
	__u64 key = (__u64)sk;
	struct sock_state init = {};

	init.ignore = !sock_identity(sk, &init);
	init.id = new_sock_id();
	init.role = role;
	if (owner) {
		__u64 pid_tgid = bpf_get_current_pid_tgid();

		init.pid = pid_tgid >> 32;
		init.tid = (__u32)pid_tgid;
		init.cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(init.comm, sizeof(init.comm));
	}
	bpf_map_update_elem(&socks, &key, &init, BPF_ANY);
	if (init.ignore)
		return NULL;
	count(WEFT_CNT_SOCK_NEW);
	return bpf_map_lookup_elem(&socks, &key);
}

/* The state of a socket in scope, created on first sight; NULL otherwise. */
static __always_inline struct sock_state *sock_state_get(struct sock *sk, __u8 role)
{
	__u64 key = (__u64)sk;
	struct sock_state *st = bpf_map_lookup_elem(&socks, &key);

	if (!st)
		return sock_state_new(sk, role, true);
	return st->ignore ? NULL : st;
}

/* Reserves an event in the ring itself, with room for the payload only when
 * one will be captured: no staging copy. NULL, counted, when the ring is full. */
static __always_inline struct weft_event *event_reserve(bool with_payload)
{
	struct weft_event *e;

	if (with_payload)
		e = bpf_ringbuf_reserve(&events, sizeof(*e) + payload_max, 0);
	else
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		count(WEFT_CNT_DROPS);
	return e;
}

static __always_inline void event_fill(struct weft_event *e, struct sock_state *st, __u8 type)
{
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->sock_id = st->id;
	e->cgroup_id = st->cgroup_id;
	e->duration_ns = 0;
	e->pid = st->pid;
	e->tid = st->tid;
	e->seq = 0;
	e->len = 0;
	e->payload_len = 0;
	e->err = 0;
	e->flags = WEFT_EVF_NO_TASK;
	e->type = type;
	e->role = st->role;
	__builtin_memcpy(e->comm, st->comm, sizeof(e->comm));
	e->family = st->family;
	e->sport = st->sport;
	e->dport = st->dport;
	e->netns = st->netns;
	__builtin_memcpy(e->saddr, st->saddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, st->daddr, sizeof(e->daddr));
}

/* The task fields of an event raised in the calling thread. */
static __always_inline void event_set_task(struct weft_event *e)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->flags &= ~WEFT_EVF_NO_TASK;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

static __always_inline void submit(struct weft_event *e)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	/* Wake-ups cost more than the copy: the reader drains on a timer and
	 * is woken only when a backlog builds up. */
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
	count(WEFT_CNT_EVENTS);
}

static __always_inline bool messages_wanted(struct sock_state *st)
{
	__u32 zero = 0, pid;
	struct weft_filter *f = bpf_map_lookup_elem(&filter, &zero);
	char comm[WEFT_COMM_LEN];
	__u64 cg;

	if (!f || !f->messages)
		return false;
	if (!f->selectors)
		return true;
	if (f->selectors & WEFT_SEL_PID) {
		pid = bpf_get_current_pid_tgid() >> 32;
		if (bpf_map_lookup_elem(&sel_pid, &pid))
			return true;
	}
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

/* ---- system call entries: remember buffer and start time ---------------- */

static __always_inline int remember_call(struct trace_event_raw_sys_enter *ctx, __u64 buf,
					 __u32 iov)
{
	struct call_ctx *c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0,
						  BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!c)
		return 0;
	c->ts = bpf_ktime_get_boot_ns();
	c->buf = buf;
	c->nr = (__u32)ctx->id;
	c->iov = iov;
	return 0;
}

/* msghdr is in user memory: take its iovec pointer now. */
static __always_inline __u64 msghdr_iov(__u64 msg)
{
	struct user_msghdr m;

	if (bpf_probe_read_user(&m, sizeof(m), (void *)msg))
		return 0;
	return (__u64)m.msg_iov;
}

SEC("tracepoint/syscalls/sys_enter_write")
int enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, ctx->args[1], 0);
}
SEC("tracepoint/syscalls/sys_enter_read")
int enter_read(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, ctx->args[1], 0);
}
SEC("tracepoint/syscalls/sys_enter_sendto")
int enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, ctx->args[1], 0);
}
SEC("tracepoint/syscalls/sys_enter_recvfrom")
int enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, ctx->args[1], 0);
}
SEC("tracepoint/syscalls/sys_enter_writev")
int enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, ctx->args[1], 1);
}
SEC("tracepoint/syscalls/sys_enter_readv")
int enter_readv(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, ctx->args[1], 1);
}
SEC("tracepoint/syscalls/sys_enter_sendmsg")
int enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, msghdr_iov(ctx->args[1]), 1);
}
SEC("tracepoint/syscalls/sys_enter_recvmsg")
int enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, msghdr_iov(ctx->args[1]), 1);
}
SEC("tracepoint/syscalls/sys_enter_sendfile64")
int enter_sendfile(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, 0, 0);
}
SEC("tracepoint/syscalls/sys_enter_splice")
int enter_splice(struct trace_event_raw_sys_enter *ctx)
{
	return remember_call(ctx, 0, 0);
}

/* ---- messages ------------------------------------------------------------ */

/* The context left by this same system call, or NULL if it is stale. */
/* The context left by this same system call, or NULL if it is stale. */
static __always_inline struct call_ctx *current_call(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct call_ctx *c = bpf_task_storage_get(&calls, task, 0, 0);
	struct pt_regs *regs;
	long nr;

	if (!c)
		return NULL;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
#if defined(__TARGET_ARCH_x86)
	nr = BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	nr = BPF_CORE_READ((struct user_pt_regs *)regs, regs[8]);
#else
	nr = c->nr;
#endif
	return nr == c->nr ? c : NULL;
}

static __always_inline void copy_payload(struct weft_event *e, struct call_ctx *c, int ret)
{
	__u64 src = c->buf;
	__u64 n = ret;

	if (!src || !payload_max)
		return;
	if (c->iov) {
		struct iovec iov;

		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)src))
			return;
		src = (__u64)iov.iov_base;
		if (n > iov.iov_len)
			n = iov.iov_len;
	}
	if (n > payload_max)
		n = payload_max;
	/* Keep the compiler from folding this bound away: the verifier needs it. */
	barrier_var(n);
	if (n == 0 || n > payload_max)
		return;
	if (bpf_probe_read_user(e->payload, n, (void *)src))
		return;
	e->payload_len = n;
}

static __always_inline int on_message(void *ctx, struct sock *sk, int ret, int msgflags, __u8 dir)
{
	struct sock_state *st;
	struct weft_event *e;
	struct call_ctx *c;
	bool start;
	__u32 seq;

	if (ret <= 0)
		return 0;
	if (dir == DIR_RECV && (msgflags & MSG_PEEK))
		return 0; /* peeked bytes are read again later */
	if ((bpf_get_current_pid_tgid() >> 32) == self_tgid)
		return 0;
	st = sock_state_get(sk, WEFT_ROLE_UNKNOWN);
	if (!st || !messages_wanted(st))
		return 0;
	/* A change of direction starts a message: its first bytes are kept. */
	start = st->last_dir != dir;
	st->last_dir = dir;
	e = event_reserve(start && payload_max);
	if (!e)
		return 0;
	event_fill(e, st, dir == DIR_SEND ? WEFT_EV_SEND : WEFT_EV_RECV);
	event_set_task(e);

	struct tcp_sock *tp = (struct tcp_sock *)sk;
	if (dir == DIR_SEND) {
		/* The bytes were just queued: they end at write_seq. */
		seq = BPF_CORE_READ(tp, write_seq) - ret;
	} else {
		/* copied_seq counts a FIN consumed in the same call as one more. */
		__u32 copied = BPF_CORE_READ(tp, copied_seq);
		__u8 shut = BPF_CORE_READ(sk, sk_shutdown);

		seq = copied - ret;
		if ((shut & RCV_SHUTDOWN) && copied == BPF_CORE_READ(tp, rcv_nxt))
			seq -= 1;
	}
	e->seq = seq;
	e->len = ret;

	c = current_call();
	if (c)
		e->duration_ns = e->ts_ns - c->ts;
	if (start) {
		e->flags |= WEFT_EVF_MSG_START;
		if (c && payload_max)
			copy_payload(e, c, ret);
	}
	submit(e);
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int on_send(struct trace_event_raw_sock_msg_length *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return on_message(ctx, ctx->sk, ctx->ret, ctx->flags, DIR_SEND);
}

SEC("tracepoint/sock/sock_recv_length")
int on_recv(struct trace_event_raw_sock_msg_length *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return on_message(ctx, ctx->sk, ctx->ret, ctx->flags, DIR_RECV);
}

/* ---- connection lifecycle -------------------------------------------------- */

static __always_inline void emit_lifecycle(struct sock_state *st, __u8 type, __s32 err, __u32 flags)
{
	struct weft_event *e;

	if (st->pid == self_tgid || !(e = event_reserve(false)))
		return;
	event_fill(e, st, type);
	e->err = err;
	e->flags |= flags;
	if (type == WEFT_EV_CONNECT && st->connect_ns)
		e->duration_ns = e->ts_ns - st->connect_ns;
	submit(e);
}

SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	__u64 key = (__u64)sk;
	struct sock_state *st;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;

	if (ctx->newstate == TCP_SYN_SENT) {
		/* connect() itself: the calling thread is the owner. */
		st = sock_state_new(sk, WEFT_ROLE_CLIENT, true);
		if (st)
			st->connect_ns = bpf_ktime_get_boot_ns();
		return 0;
	}
	if (ctx->oldstate == TCP_SYN_RECV && ctx->newstate == TCP_ESTABLISHED) {
		/* Runs in softirq: the owner is unknown until accept(). */
		sock_state_new(sk, WEFT_ROLE_SERVER, false);
		return 0;
	}

	st = bpf_map_lookup_elem(&socks, &key);
	if (!st)
		return 0;
	if (st->ignore) {
		if (ctx->newstate == TCP_CLOSE)
			bpf_map_delete_elem(&socks, &key);
		return 0;
	}
	if (ctx->oldstate == TCP_SYN_SENT) {
		__s32 err = 0;

		/* connect() picks the local port after entering SYN_SENT. */
		st->sport = ctx->sport;

		if (ctx->newstate != TCP_ESTABLISHED)
			err = -BPF_CORE_READ(sk, sk_err);
		emit_lifecycle(st, WEFT_EV_CONNECT, err ? err : 0, 0);
		if (ctx->newstate == TCP_CLOSE)
			bpf_map_delete_elem(&socks, &key);
		return 0;
	}
	if (ctx->newstate == TCP_CLOSE) {
		emit_lifecycle(st, WEFT_EV_CLOSE, 0, st->reset ? WEFT_EVF_RESET : 0);
		bpf_map_delete_elem(&socks, &key);
	}
	return 0;
}

/* accept() returned a descriptor: find its socket through the task's file
 * table and make the accepting thread the connection's owner. */
static __always_inline int on_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds, *file;
	struct socket *sock;
	struct sock_state *st;
	struct weft_event *e;
	struct sock *sk;
	long fd = ctx->ret;

	if (fd < 0)
		return 0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;

	st = sock_state_get(sk, WEFT_ROLE_SERVER);
	if (!st)
		return 0;
	{
		__u64 pid_tgid = bpf_get_current_pid_tgid();

		st->pid = pid_tgid >> 32;
		st->tid = (__u32)pid_tgid;
		st->cgroup_id = bpf_get_current_cgroup_id();
		st->role = WEFT_ROLE_SERVER;
		bpf_get_current_comm(st->comm, sizeof(st->comm));
	}
	if (st->pid == self_tgid || !(e = event_reserve(false)))
		return 0;
	event_fill(e, st, WEFT_EV_ACCEPT);
	event_set_task(e);
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx);
}
SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx);
}

static __always_inline int on_reset(void *ctx, struct sock *sk, __u32 flags)
{
	__u64 key = (__u64)sk;
	struct sock_state *st;

	if (!sk)
		return 0;
	st = bpf_map_lookup_elem(&socks, &key);
	if (!st || st->ignore)
		return 0;
	st->reset = 1;
	emit_lifecycle(st, WEFT_EV_RESET, flags ? 0 : -104 /* ECONNRESET */, flags);
	return 0;
}

/* The executable of every new program, while its path is at hand: a
 * short-lived client may be gone before user space could read /proc. */
SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 off = ctx->__data_loc_filename & 0xffff;
	struct weft_event *e;
	long n;

	e = bpf_ringbuf_reserve(&events, sizeof(*e) + 256, 0);
	if (!e) {
		count(WEFT_CNT_DROPS);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->type = WEFT_EV_EXEC;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	n = bpf_probe_read_kernel_str(e->payload, 256, (void *)ctx + off);
	if (n <= 0) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	e->payload_len = n - 1;
	submit(e);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int on_receive_reset(struct trace_event_raw_tcp_event_sk *ctx)
{
	return on_reset(ctx, (struct sock *)ctx->skaddr, 0);
}

SEC("tracepoint/tcp/tcp_send_reset")
int on_send_reset(struct trace_event_raw_tcp_send_reset *ctx)
{
	return on_reset(ctx, (struct sock *)ctx->skaddr, WEFT_EVF_RST_SENT);
}

/* The event layout shared by the kernel programs and user space, and the
 * run-time filter they both read. Fixed-width fields, largest first, no
 * pointers: this header is the whole contract between the two sides. */
#ifndef WEFT_SENSOR_EVENT_H
#define WEFT_SENSOR_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define WEFT_COMM_LEN	     16
#define WEFT_PAYLOAD_MAX     4096 /* upper bound of a record's payload; a power of two */
#define WEFT_PAYLOAD_PORT    4096 /* default of --payload-port: every call of a broker */
#define WEFT_PAYLOAD_DEFAULT 256

enum weft_ev_type {
	WEFT_EV_CONNECT = 1, /* client handshake finished or failed; err says which */
	WEFT_EV_ACCEPT = 2,  /* server side handed to a thread by accept() */
	WEFT_EV_SEND = 3,
	WEFT_EV_RECV = 4,
	WEFT_EV_CLOSE = 5,     /* the connection reached TCP_CLOSE */
	WEFT_EV_RESET = 6,     /* an RST was received or sent on the connection */
	WEFT_EV_EXEC = 7,      /* a process executed a file: payload is its path (not a TCP
				  event: user space keeps it to name short-lived processes) */
	WEFT_EV_WAKE = 8,      /* a Go program's goroutine (coroutine) made another runnable
				  (sock_id holds it): a channel send, a mutex or a semaphore
				  handing work over without a system call; with
				  WEFT_EVF_ENDED, the goroutine ended (its g will be reused) */
	WEFT_EV_PLAINTEXT = 9, /* what a TLS library's read returned (uprobes on libssl's
				  SSL_read): sock_id names the connection, seq the last
				  ciphertext read for it; payload: the plaintext's first bytes */
};

enum weft_role {
	WEFT_ROLE_UNKNOWN = 0, /* connection older than the sensor: user space infers it */
	WEFT_ROLE_CLIENT = 1,  /* the connect() side */
	WEFT_ROLE_SERVER = 2,  /* the accept() side */
};

enum weft_ev_flags {
	WEFT_EVF_MSG_START = 1 << 0, /* first bytes of a new message (direction changed) */
	WEFT_EVF_RESET = 1 << 1,     /* close: the connection was reset */
	WEFT_EVF_RST_SENT = 1 << 2,  /* reset: we sent it (else it was received) */
	WEFT_EVF_NO_TASK = 1 << 3,   /* pid/tid are the socket owner's, not the caller's */
	WEFT_EVF_DURATION = 1 << 4,  /* duration_ns measured: connect, or call times on */
	WEFT_EVF_ENDED = 1 << 5,     /* wake: the coroutine ended */
	WEFT_EVF_MORE = 1 << 6,	     /* send/recv: the payload continues the message's first
					bytes (its earlier calls moved fewer than the prefix) */
	WEFT_EVF_TLS = 1 << 7,	     /* send/recv inside a TLS library's write or read: a
					send's payload is the plaintext it was given, a
					recv's none (its plaintext follows as PLAINTEXT) */
};

struct weft_event {
	__u64 ts_ns;	   /* CLOCK_BOOTTIME; user space adds the offset to wall-clock time */
	__u64 sock_id;	   /* stable for the connection's life on this host */
	__u64 cgroup_id;   /* cgroup v2 id of the task */
	__u64 duration_ns; /* with WEFT_EVF_DURATION: time inside the system call (send/recv),
			      the handshake (connect); else 0 */
	__u64 coroutine;   /* the user-space task the thread ran: a Go program's goroutine (its g
			      pointer); 0 for other programs */
	__u32 pid;	   /* process (tgid) */
	__u32 tid;	   /* thread */
	__u32 netns;	   /* network namespace inode */
	__u32 seq;	   /* TCP sequence number of the first byte moved */
	__u32 len;	   /* bytes moved by the call */
	__u32 payload_len; /* bytes of payload that follow this header */
	__s32 err;	   /* connect/reset: 0 or a negative errno */
	__u32 flags;	   /* enum weft_ev_flags */
	__u8 saddr[16];	   /* local address; IPv4 in the first 4 bytes */
	__u8 daddr[16];	   /* remote address */
	__u16 sport;	   /* local port, host byte order */
	__u16 dport;	   /* remote port, host byte order */
	__u16 family;	   /* AF_INET or AF_INET6 */
	__u8 type;	   /* enum weft_ev_type */
	__u8 role;	   /* enum weft_role */
	char comm[WEFT_COMM_LEN];
	__u8 payload[]; /* payload_len bytes */
};

/* Message-level capture is on when `messages` is set and either no selector
 * is in force or the event matches one of the selector maps in force. */
enum weft_selector {
	WEFT_SEL_PID = 1 << 0,
	WEFT_SEL_COMM = 1 << 1,
	WEFT_SEL_PORT = 1 << 2,
	WEFT_SEL_CGROUP = 1 << 3,
	WEFT_SEL_NETNS = 1 << 4,
};

struct weft_filter {
	__u32 messages;	  /* 0: connection-only (lifecycle events), 1: message level */
	__u32 selectors;  /* enum weft_selector: which selector maps are in force */
	__u32 coroutines; /* some process is in the coroutine map: look events' pids up */
	__u32 pad;
};

/* A remote endpoint whose connections are never traced (weft's own server
 * seen from another host): address as in an event, port in host order. */
struct weft_peer {
	__u8 addr[16];
	__u16 port;
	__u16 family;
	__u32 pad; /* zero: the whole key is hashed */
};

enum weft_counter {
	WEFT_CNT_EVENTS = 0, /* events written to the ring buffer */
	WEFT_CNT_DROPS,	     /* events lost because the ring buffer was full */
	WEFT_CNT_SOCK_NEW,   /* connections first seen */
	WEFT_CNT_NO_STATE,   /* connections untracked: no memory for their state */
	WEFT_CNT_MAX,
};

#endif

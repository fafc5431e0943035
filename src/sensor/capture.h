/* The kernel side of the sensor: load the BPF programs, attach them, drain
 * the ring buffer, and change the capture filter while running. */
#ifndef WEFT_CAPTURE_H
#define WEFT_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/sensor_event.h"

struct bpf_link;

struct capture;

struct capture_opts {
	uint32_t netns;	       /* only this network namespace inode; 0 for all */
	uint32_t payload;      /* payload prefix bytes, 0..WEFT_PAYLOAD_MAX */
	uint64_t ring_bytes;   /* ring buffer bytes, shared out among the CPUs */
	bool connections_only; /* start in connection-only mode */
	bool call_time;	       /* hook system calls: call durations, accepting threads */
};

/* Called for every event, oldest first. The event and its payload are
 * valid only during the call. */
typedef void (*capture_event_fn)(const struct weft_event *e, void *ctx);

/* Loads and attaches everything. Returns NULL with errno set after logging
 * one line that says what is missing (privileges, BTF, a tracepoint). */
struct capture *capture__open(const struct capture_opts *opts, capture_event_fn fn, void *ctx);

/* Waits at most timeout_ms, then hands over the events the rings hold
 * except the last few milliseconds' (held back until every CPU's ring has
 * caught up). Returns the number of events, or a negative errno. */
int capture__poll(struct capture *c, int timeout_ms);
/* Hands over every event still held or in the rings (at the end). */
int capture__flush(struct capture *c);

/* Message-level capture on or off; selectors narrow it to matching
 * processes, ports, cgroups or namespaces. Takes effect at once. */
int capture__set_messages(struct capture *c, bool on);
int capture__add_pid(struct capture *c, uint32_t pid);
int capture__add_comm(struct capture *c, const char *comm);
int capture__add_port(struct capture *c, uint16_t port);
int capture__add_cgroup(struct capture *c, uint64_t cgroup_id);
int capture__add_netns(struct capture *c, uint32_t netns);
/* Never trace connections on this port (weft's own traffic). Applies to
 * connections seen from now on. */
int capture__ignore_port(struct capture *c, uint16_t port);
/* Connections to addr:port (family AF_INET: the address in the first four
 * bytes) are never traced; decided when a connection is first seen. */
int capture__ignore_peer(struct capture *c, uint16_t family, const uint8_t addr[16], uint16_t port);
/* Follows hand-offs between goroutines, and their ends, in every process
 * that runs the Go executable at path exe (a /proc/PID/exe link will do):
 * uprobes on its runtime.goready and runtime.goexit1. 0 with both links
 * (the caller destroys them), or -errno (no such symbol: a stripped binary). */
int capture__attach_go(struct capture *c, const char *exe, struct bpf_link *links[2]);
#define CAPTURE_TLS_LINKS 8
/* Reads the plaintext of every process that uses the TLS library at path
 * lib (libssl): uprobes on SSL_write, SSL_read and their _ex forms (absent
 * before OpenSSL 1.1.1: skipped). 0 with links set (the caller destroys
 * them; unused ones NULL), or -errno. */
int capture__attach_tls(struct capture *c, const char *lib,
			struct bpf_link *links[CAPTURE_TLS_LINKS]);
/* pid runs a Go program: its events carry their goroutine (see go_procs.h). */
int capture__add_coroutine_pid(struct capture *c, uint32_t pid);
/* Every call on port carries its first bytes bytes (at most WEFT_PAYLOAD_MAX),
 * not only a message's first call; 0 takes the port back. Applies to
 * connections seen from now on. */
int capture__payload_port(struct capture *c, uint16_t port, uint16_t bytes);
/* Removes every selector: message capture applies to everything again. */
int capture__clear_selectors(struct capture *c);
bool capture__messages(const struct capture *c);
uint32_t capture__selectors(const struct capture *c);

/* Sums of the per-CPU counters (enum weft_counter). */
void capture__counters(struct capture *c, uint64_t out[WEFT_CNT_MAX]);

/* Detaches and frees; NULL is fine. */
void capture__close(struct capture *c);

#endif

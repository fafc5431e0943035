/* The correlator's inner state, shared by correlator.c (events to halves,
 * matching, thread causality) and assemble.c (halves to trajectories). */
#ifndef WEFT_CORRELATOR_INT_H
#define WEFT_CORRELATOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "analysis/correlator.h"

struct half;

static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

struct host_entry {
	char name[WEFT_HOST_LEN];
	uint32_t id;
	UT_hash_handle hh;
};

struct proc_key {
	uint32_t host;
	uint32_t pid;
};

struct proc_entry {
	struct proc_key key;
	char comm[16];
	char exe[WEFT_EXE_LEN];
	uint16_t served_port;	  /* a port this process answered requests on, 0 if none */
	bool serves;		  /* it answered requests: on a port, or messages it consumed */
	bool hands_off;		  /* its work for a delivery went on after the acknowledgement */
	struct acked_ring *acked; /* deliveries acknowledged with nothing sent for them,
				     until hands_off (causality.c; allocated on the first) */
	struct half *open;	  /* server halves received and not answered, by popen_next */
	int nopen;
	UT_hash_handle hh;
};

/* What a thread works for, as far as its messages tell (causality.c). */
enum ctx_state {
	CTX_UNKNOWN = 0, /* no evidence: it answered its last request or never served */
	CTX_HALF,	 /* the server half `id` */
	CTX_UNDECIDED,	 /* the thread's undecided requests: whatever it answers next */
};

struct ctx_ref {
	uint64_t id;	/* CTX_HALF: the server half */
	uint8_t state;	/* enum ctx_state */
	uint8_t link;	/* enum weft_link: how id was decided */
	bool uncertain; /* id is a guess among several */
};

struct ep_key {
	uint32_t host;
	uint32_t pad;
	uint64_t sock_id;
};

/* One end of a TCP connection, as one host's sensor sees it. */
struct endpoint {
	struct ep_key key;
	uint8_t role; /* WEFT_ROLE_CLIENT or WEFT_ROLE_SERVER */
	uint8_t dir;  /* direction of the current message: WEFT_EV_SEND/RECV, 0 none */
	bool closed;
	bool used;	 /* an exchange has started on it */
	bool born_known; /* client side: born holds what its connecting thread worked for
			    when it called connect(), which its first request inherits */
	struct ctx_ref born;
	bool tls_plain;	    /* its TLS library's plaintext is read: only its calls are messages */
	bool tls_named;	    /* the current message was named from its plaintext */
	uint8_t tls_skip;   /* the direction of a TLS handshake message being skipped */
	bool mq_checked;    /* looked at for AMQP */
	bool mq_broker;	    /* the broker's side of an AMQP connection: its bytes are skipped */
	struct mq_conn *mq; /* the application's side of one: read frame by frame (mq.c) */
	uint8_t pre_len;    /* the current request's first bytes while its first calls were
			       short (their continuations arrive with WEFT_EVF_MORE) */
	uint8_t pre[128];
	uint16_t family;
	uint16_t sport; /* own port */
	uint16_t dport; /* peer's port */
	uint8_t saddr[16];
	uint8_t daddr[16];
	struct half *cur;     /* the exchange being built */
	uint64_t closed_mono; /* when it closed: forgotten a little later */
	uint64_t last_mono;
	UT_hash_handle hh;
};

/* A thread, or a coroutine (a Go program's goroutine) that runs on threads. */
struct thread_key {
	uint32_t host;
	uint32_t pid; /* a coroutine's process (its g pointer is an address); 0 for a thread */
	uint64_t id;  /* the thread id, or the coroutine */
};

#define THREAD_WAITING 4 /* requests remembered as read and not acted on */
#define THREAD_HISTORY 8 /* past contexts, for connects reported after the fact */

struct thread_entry {
	struct thread_key key;
	uint32_t pid;
	struct half *open; /* server halves it received and not yet answered, most recent
			      first, linked by open_next */
	int nopen;
	struct ctx_ref cur; /* what it works for now */
	struct {
		uint64_t id; /* a server half it read and has not acted on since */
		uint64_t ts;
	} waiting[THREAD_WAITING];
	int nwaiting;
	struct {
		uint64_t ts; /* from this time on (the host's clock) */
		struct ctx_ref ref;
		bool contested; /* another request was waiting then */
	} hist[THREAD_HISTORY];
	int nhist;		/* entries written, the ring holds the last THREAD_HISTORY */
	bool inherited;		/* cur came from a wake-up, not from what it received */
	uint64_t dialed;	/* a coroutine that connected this socket (sock_id) and has not
				   handed it to anyone yet: the one it wakes next will use it */
	uint64_t dialed_ts;	/* when it called connect() (the host's clock) */
	struct half *undecided; /* its requests sent without evidence, by und_next */
	uint64_t last_mono;
	UT_hash_handle hh;
};

/* A method call waiting for, or nested in, a server half (calls.c). */
struct mcall {
	uint64_t start_ns, end_ns; /* the host's wall clock */
	uint64_t arrived_mono;
	uint32_t pid, tid;
	char name[WEFT_REQUEST_LEN];
	struct mcall *next;
};

#define CALL_RECENT 8 /* server halves a thread remembers for late calls */

/* A thread of a host whose sensor sends method calls. */
struct call_thread {
	struct thread_key key;
	struct mcall *pending; /* calls no half has taken yet, newest first */
	int npending;
	struct half *recent[CALL_RECENT]; /* its server halves emitted lately */
	int next_slot;
	UT_hash_handle hh;
};

struct match_key {
	uint32_t req_seq;
	uint8_t role; /* the role of the half waiting here */
	uint8_t pad[3];
};

/* One side of one exchange: a request and the response that follows it on
 * one connection, as one host saw it. Two halves with the same sequence
 * numbers and opposite roles are the two sides of one span. */
struct half {
	uint64_t id;
	uint32_t host;
	uint8_t role;
	uint8_t proto;
	bool has_resp;
	bool error;
	bool uncertain;	   /* parent chosen among several candidates */
	bool incomplete;   /* server halves: a request of its process that may be its child
			      went elsewhere or nowhere */
	bool undecided;	   /* client halves: waiting for the sending thread's next answer */
	bool awaits_reply; /* a delivery of an RPC call: its reply ends it, not its ack */
	bool evicting;	   /* chosen to be forgotten before its time (correlator.c) */
	bool in_match;	   /* waiting in the match table */
	bool dirty;	   /* changed since emitted */
	uint8_t link;	   /* client halves: enum weft_link, how the parent was decided */
	uint32_t pid;
	uint32_t tid;  /* the thread that received (server) or sent (client) the request */
	uint64_t coro; /* and the coroutine it ran then (Go), 0 if none */
	char comm[16];
	uint16_t sport, dport; /* own and peer port */
	uint16_t family;
	uint8_t saddr[16], daddr[16];
	uint32_t req_seq, req_len, resp_seq, resp_len;
	uint64_t req_start, req_end, resp_start, resp_end; /* the host's wall clock */
	int status;
	char request[WEFT_REQUEST_LEN];
	char error_text[48];

	struct endpoint *ep; /* while it is the endpoint's current exchange */
	struct half *peer;   /* the other side, once matched */
	struct half *parent; /* client halves: the server half its thread was serving */
	struct half *child;  /* server halves: first child (client halves), linked by sibling */
	struct half *sibling;
	struct thread_entry *thread; /* server halves still open on their thread */
	struct half *open_next;
	struct proc_entry *proc; /* server halves still open in their process */
	struct half *popen_next;
	uint64_t line_key;	  /* HTTP: hash of method and target, 0 otherwise */
	uint64_t trace_key;	  /* hash of its trace id (traceparent, X-Request-ID), 0 if none */
	struct thread_entry *und; /* client halves: the thread whose undecided list holds it */
	struct half *und_next;
	struct half *msg_parent; /* a delivery: the publish of its message (mq.c) */
	struct half *msg_child;	 /* a publish: its deliveries, linked by msg_sibling */
	struct half *msg_sibling;
	uint64_t emitted_root; /* id of the trajectory it was emitted as the root of */
	uint64_t touched_mono;
	uint64_t emitted_gen; /* assembly pass that last emitted it */
	struct mcall *calls;  /* server halves: method calls inside, by start */
	int ncalls;
	struct call_thread *ct; /* server halves remembered by their thread */
	struct half *all_prev, *all_next;
	struct match_key mkey;
	UT_hash_handle hh_match;
	UT_hash_handle hh_id;
};

struct service_seen {
	uint64_t id;
	UT_hash_handle hh;
};

struct correlator {
	struct corr_opts opts;
	struct corr_sink sink;
	struct host_entry *hosts;
	uint32_t next_host;
	struct proc_entry *procs;
	struct endpoint *endpoints;
	struct thread_entry *threads;
	struct half *match;		  /* by (req_seq, role) */
	struct half *by_id;		  /* every half, by id */
	struct mq_index *mq;		  /* published messages, deliveries and calls (mq.c) */
	struct half *all_head, *all_tail; /* every half, oldest touched first */
	struct half **dirty;		  /* halves changed since the last pass */
	size_t ndirty, dirty_cap;
	uint64_t gen;
	struct service_seen *services; /* ids already handed to the sink */
	struct call_thread *call_threads;
	uint8_t *traced; /* by host id: 1 when its sensor sends method calls */
	size_t traced_cap;
	struct weft_span *spans; /* assembly scratch */
	int *span_parent_idx;
	size_t spans_cap;
	struct corr_stats stats;
	uint64_t *evicted_keys; /* match keys of evicted halves, direct-mapped (EVICTED_SLOTS) */
	struct client_set *ext_clients; /* per service, its unobserved clients shown apart */
};

/* assemble.c */
void assemble_free(struct correlator *c);

/* correlator.c */
const char *corr_host_name(struct correlator *c, uint32_t id);
struct proc_entry *corr_proc(struct correlator *c, uint32_t host, uint32_t pid);
void corr_touch(struct correlator *c, struct half *h, uint64_t now_mono);
void corr_half_free(struct correlator *c, struct half *h);
struct half *corr_half_by_id(struct correlator *c, uint64_t id);

struct endpoint *corr_endpoint(struct correlator *c, uint32_t host, uint64_t sock_id);
/* A new half for an exchange on ep that e starts (in the list of all halves). */
struct half *corr_half_new(struct correlator *c, struct endpoint *ep, const struct weft_event *e);

/* mq.c: message queues. Whether ep is an AMQP connection (decided on its
 * first message: the protocol header, or an AMQP frame on port 5672); its
 * events then go to mq_feed, not to the exchange model. */
struct mq_conn;
bool mq_claims(struct correlator *c, struct endpoint *ep, const struct weft_event *e);
void mq_feed(struct correlator *c, struct endpoint *ep, const struct weft_event *e,
	     uint64_t now_mono);
void mq_conn_free(struct mq_conn *m);
void mq_expire(struct correlator *c, uint64_t now_mono);
void mq_free(struct correlator *c);
/* Forgets the oldest message entries until at most max remain. */
void mq_bound(struct correlator *c, size_t max);

/* causality.c: which request each request was sent for (see there). The
 * message-level events of one thread arrive in its order. */
struct thread_entry *thread_get(struct correlator *c, uint32_t host, uint32_t tid, bool create);
/* A server half's request arrived (h->tid read it). */
void causality_request_in(struct correlator *c, struct half *sv, uint64_t now_mono);
/* A client half's response arrived on thread tid (running coroutine coro). */
void causality_response_in(struct correlator *c, struct half *cl, uint32_t tid, uint64_t coro,
			   uint64_t now_mono);
/* More bytes of h's request (server) or response (client) read by thread
 * tid running coroutine coro: what it works for from now on (Go's server
 * reads a request's first byte in a goroutine of its own). */
void causality_more_in(struct correlator *c, struct half *h, uint32_t tid, uint64_t coro,
		       uint64_t ts, uint64_t now_mono);
/* A client half's request is being sent by cl->tid: decides its parent. */
void causality_request_out(struct correlator *c, struct half *cl, struct endpoint *ep,
			   uint64_t now_mono);
/* A server half will not be answered: its connection moved on or closed. */
void causality_closed(struct correlator *c, struct half *sv);
/* Thread tid (running coroutine coro) starts answering server half sv. */
void causality_answer(struct correlator *c, struct half *sv, uint32_t tid, uint64_t coro,
		      uint64_t now_mono);
/* A delivery was acknowledged: in a process that hands deliveries to
 * other threads, one acknowledged before anything was sent for it may have
 * children no message will show. */
void causality_acked(struct correlator *c, struct half *sv, uint64_t now_mono);
/* A connection ep that thread tid of pid (running coroutine coro) started to
 * connect at ts. */
void causality_connect(struct correlator *c, struct endpoint *ep, uint32_t pid, uint32_t tid,
		       uint64_t coro, uint64_t ts);
/* Coroutine waker of process pid made coroutine woken runnable (a Go
 * channel, mutex or semaphore hand-off). */
void causality_wake(struct correlator *c, uint32_t host, uint32_t pid, uint64_t waker,
		    uint64_t woken, uint64_t ts, uint64_t now_mono);
/* Coroutine coro of process pid ended: its identity will be reused. */
void causality_coro_end(struct correlator *c, uint32_t host, uint32_t pid, uint64_t coro,
			uint64_t now_mono);
/* The half is going away: drop every reference to it. */
void causality_half_free(struct correlator *c, struct half *h);
/* Forgets idle threads, oldest first, until at most max remain. */
void causality_bound(struct correlator *c, size_t max);
/* Requests left undecided too long become uncertain roots; idle threads
 * are forgotten. */
void causality_expire(struct correlator *c, uint64_t now_mono);
void causality_free(struct correlator *c);

/* calls.c */
/* At assembly: sv takes the waiting calls it contains and is remembered by
 * its thread for calls that come later. */
void calls_adopt(struct correlator *c, struct half *sv);
void calls_half_free(struct half *h);
void calls_expire(struct correlator *c, uint64_t now_mono);
void calls_free(struct correlator *c);
uint32_t corr_host_id(struct correlator *c, const char *name);

/* assemble.c */
void assemble_pass(struct correlator *c, uint64_t now_mono);
uint64_t service_id(const char *host, const char *exe, uint16_t port, const char *addr);

#endif

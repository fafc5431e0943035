/* What the correlator derives and the store keeps: services, spans (one
 * exchange each: a request and its response, seen from the client side,
 * the server side, or both) and trajectories (trees of spans). Plain data,
 * shared by the correlator, every storage backend and the API. */
#ifndef WEFT_TRAJECTORY_H
#define WEFT_TRAJECTORY_H

#include <stdbool.h>
#include <stdint.h>

#define WEFT_HOST_LEN	 64
#define WEFT_EXE_LEN	 256
#define WEFT_REQUEST_LEN 160
#define WEFT_ADDR_LEN	 48

enum weft_protocol {
	WEFT_PROTO_UNKNOWN = 0,
	WEFT_PROTO_HTTP,
	WEFT_PROTO_REDIS,
	WEFT_PROTO_POSTGRES,
	WEFT_PROTO_MYSQL,
	WEFT_PROTO_METHOD, /* a method call inside a process (the JVM agent's trace) */
	WEFT_PROTO_AMQP,   /* a message published to or delivered by a broker */
};

const char *weft_protocol_name(uint8_t proto);

/* How a span's parent was decided: the evidence behind each link. */
enum weft_link {
	WEFT_LINK_NONE = 0,  /* a root: sent by a process that was serving nothing */
	WEFT_LINK_THREAD,    /* the thread that sent it had received that request, its only
				open one, and had not answered it */
	WEFT_LINK_ADJACENT,  /* the request behind the last message the thread received before
				sending (run to completion: event loops, goroutines) */
	WEFT_LINK_CONNECT,   /* the first request on a connection opened while the thread worked
				for that request */
	WEFT_LINK_FORWARD,   /* a proxy forwarded it: the same request line, trace id or request
				id as that request, the only one open in its process */
	WEFT_LINK_RESPONSE,  /* the thread then answered that request itself (a worker that took
				it from a queue) */
	WEFT_LINK_WAKEUP,    /* a goroutine that worked for that request handed the work to the
				one that sent it (a channel, in Go's runtime) */
	WEFT_LINK_GUESS,     /* chosen among several candidates: always uncertain */
	WEFT_LINK_UNDECIDED, /* no evidence for any parent in a process that serves requests:
				always uncertain */
	WEFT_LINK_METHOD,    /* a method call inside the span above it (the JVM agent's trace) */
	WEFT_LINK_MESSAGE,   /* a delivery of that published message (by message id or content) */
};

/* "thread", "adjacent", ... as the API spells them; NULL for a root. */
static inline const char *weft_link_name(uint8_t link)
{
	static const char *const names[] = {
	    [WEFT_LINK_THREAD] = "thread",     [WEFT_LINK_ADJACENT] = "adjacent",
	    [WEFT_LINK_CONNECT] = "connect",   [WEFT_LINK_FORWARD] = "forward",
	    [WEFT_LINK_RESPONSE] = "response", [WEFT_LINK_WAKEUP] = "wakeup",
	    [WEFT_LINK_GUESS] = "guess",       [WEFT_LINK_UNDECIDED] = "undecided",
	    [WEFT_LINK_METHOD] = "method",     [WEFT_LINK_MESSAGE] = "message",
	};

	return link < sizeof(names) / sizeof(names[0]) ? names[link] : NULL;
}

/* A service: host + executable + listening port; all processes of it are
 * its instances (a pre-forked server with 20 children is one service).
 * A peer without a sensor is an external service known by address:port.
 * A client that serves nothing (a load generator) is its own service with
 * port 0. */
struct weft_service {
	uint64_t id; /* stable hash of (host, exe, port) or (addr, port) */
	char host[WEFT_HOST_LEN];
	char exe[WEFT_EXE_LEN];
	char comm[16];
	uint16_t port;
	bool external;		  /* no sensor saw it: host is empty, addr is set */
	char addr[WEFT_ADDR_LEN]; /* external services: the address clients used */
};

/* One side of a span, as one host saw it. Times are that host's own clock. */
struct weft_side {
	bool observed; /* false: this side has no sensor (the API shows null) */
	char host[WEFT_HOST_LEN];
	uint32_t pid;
	uint32_t tid;
	char comm[16];
	char addr[WEFT_ADDR_LEN]; /* this side's own address as it saw it */
	uint16_t port;		  /* this side's own port */
	uint64_t start_ns;	  /* request's first byte sent (client) / received (server) */
	uint64_t end_ns;	  /* response's last byte received (client) / sent (server) */
};

struct weft_span {
	uint64_t id;
	uint64_t parent;	 /* 0 at the root */
	uint64_t client_service; /* service ids, see struct weft_service */
	uint64_t server_service;
	struct weft_side client;
	struct weft_side server;
	int64_t display_offset_ns;	/* add to server-side times to place them on the
					   root's timeline (skew correction); stored times stay */
	uint8_t protocol;		/* enum weft_protocol */
	char request[WEFT_REQUEST_LEN]; /* "GET /order?id=7", "REDIS GET", "QUERY SELECT ..." */
	int status;			/* HTTP status, 0 when none */
	bool error;			/* 5xx, reset, refused connect, protocol error */
	char error_text[48];		/* "HTTP 503", "connection reset", "connection refused" */
	bool uncertain;			/* the link to the parent could not be decided exactly,
					   or a child may be missing (incomplete) */
	bool incomplete;		/* a request of its process that may be its child went
					   elsewhere or nowhere */
	uint8_t link;			/* enum weft_link: how the parent was decided */
	uint64_t request_bytes;
	uint64_t response_bytes;
};

struct weft_trajectory {
	uint64_t id; /* the root span's id */
	uint64_t start_ns;
	uint64_t duration_ns;
	uint64_t root_service;
	int nspans;
	int depth;		 /* spans on the longest root-to-leaf path */
	bool error;		 /* any span failed */
	bool uncertain;		 /* any link uncertain */
	bool revised;		 /* replaces an earlier emission with the same id */
	uint64_t slowest_span;	 /* largest own time: the first root-cause answer */
	uint64_t slowest_hop;	 /* largest network time */
	struct weft_span *spans; /* nspans, parents before children; owned by the producer */
};

#endif

#include "sensor/shipper.h"

#include <endian.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/heap.h"
#include "common/log.h"
#include "common/parse.h"
#include "sensor/capture.h"
#include "sensor/control.h"
#include "sensor/spool.h"
#include "wire/wire.h"

#define BATCH_MAX_BYTES	 (256u << 10)
#define BATCH_SLACK	 (16u << 10)  /* the record that crosses the bound fits too */
#define BATCH_MAX_AGE_NS 100000000ull /* 100 ms: the server sees events within this */
#define STATUS_EVERY_NS	 1000000000ull
#define BACKOFF_MIN_NS	 200000000ull
#define BACKOFF_MAX_NS	 5000000000ull
/* A batch the server has not acknowledged this long goes to disk too. */
#define SPOOL_GRACE_NS 1000000000ull

enum conn_state {
	CONN_DOWN,	 /* waiting for the next attempt */
	CONN_CONNECTING, /* non-blocking connect in progress */
	CONN_HELLO,	 /* hello sent, waiting for the server's last stored batch */
	CONN_READY,
};

struct shipper {
	char host_name[256];
	char port[8];
	char sensor_id[WIRE_ID_MAX];
	char host[WIRE_ID_MAX];
	struct spool *spool;
	bool trace_self;   /* the server's own connections are traced too */
	bool server_local; /* the server runs on this host */
	uint16_t server_family;
	uint8_t server_addr[16]; /* as an event shows addresses */

	struct wire_buf batch;	/* the open batch frame */
	size_t batch_off;	/* its frame offset (always 0) */
	uint32_t batch_count;	/* records in it */
	uint64_t batch_started; /* mono ns of its first record */
	uint64_t next_seq;
	uint64_t run_first_seq; /* the first number this run gave a batch */
	bool synced;		/* a HELLO_ACK came: numbers agree with the server's */
	uint64_t spool_drops;	/* batches discarded because the spool was full */
	uint64_t dropped_events;

	enum conn_state state;
	int fd;
	uint64_t next_attempt;
	uint64_t backoff;
	struct wire_buf out;	 /* frames of our own to write (hello, status, replies) */
	size_t out_off;		 /* how much of out is written */
	struct spool_entry *cur; /* the batch being written, straight from the spool */
	size_t cur_off;		 /* how much of it is written */
	uint8_t in[1 << 16];	 /* bytes read, not yet parsed */
	size_t in_len;
	uint64_t next_status;
	char reply[COMMAND_REPLY_MAX]; /* a control command's reply (a profile can be long) */
};

struct shipper *shipper__new(const struct shipper_opts *opts)
{
	struct shipper *s = calloc(1, sizeof(*s));
	uint16_t port;

	if (!s)
		return NULL;
	heap_keep_large_blocks();
	if (parse_host_port(opts->server, s->host_name, sizeof(s->host_name), &port)) {
		log_error("sensor: bad --server '%s': expected HOST:PORT", opts->server);
		free(s);
		return NULL;
	}
	snprintf(s->port, sizeof(s->port), "%u", port);
	s->trace_self = opts->trace_self;
	snprintf(s->sensor_id, sizeof(s->sensor_id), "%s", opts->sensor_id);
	snprintf(s->host, sizeof(s->host), "%s", opts->host);
	s->spool = spool__open(opts->spool_dir, opts->spool_max);
	if (!s->spool) {
		log_error("sensor: cannot use spool directory %s: %s", opts->spool_dir,
			  strerror(errno));
		free(s);
		return NULL;
	}
	s->next_seq = s->run_first_seq = spool__max_seq(s->spool) + 1;
	s->fd = -1;
	s->backoff = BACKOFF_MIN_NS;
	return s;
}

static void batch_open(struct shipper *s)
{
	/* Its whole size at once: no copy as it grows. */
	wire_buf_reserve(&s->batch, BATCH_MAX_BYTES + BATCH_SLACK);
	s->batch_off = wire_frame_begin(&s->batch, WIRE_BATCH);
	wire_put_u64(&s->batch, s->next_seq);
	wire_put_u32(&s->batch, 0); /* count, filled in when sealed */
	s->batch_count = 0;
	s->batch_started = mono_ns();
}

/* The open batch carries the number it will be sealed with. */
static void batch_renumber(struct shipper *s)
{
	uint64_t le = htole64(s->next_seq);

	if (s->batch.data && s->batch.len >= s->batch_off + WIRE_HEADER_LEN + 8)
		memcpy(s->batch.data + s->batch_off + WIRE_HEADER_LEN, &le, sizeof(le));
}

static void batch_seal(struct shipper *s)
{
	uint32_t count = htole32(s->batch_count);
	uint8_t *p;
	int err;

	if (!s->batch_count)
		return;
	if (s->batch.oom) {
		log_warn_ratelimited("sensor: out of memory building a batch: %u events lost",
				     s->batch_count);
		s->dropped_events += s->batch_count;
		wire_buf_free(&s->batch);
		s->batch_count = 0;
		return;
	}
	memcpy(s->batch.data + s->batch_off + WIRE_HEADER_LEN + 8, &count, 4);
	wire_frame_end(&s->batch, s->batch_off);
	/* The room it did not use goes back (in place): the spool may hold
	 * thousands of small batches while the server is away. */
	if (s->batch.cap - s->batch.len > 4096 && (p = realloc(s->batch.data, s->batch.len)))
		s->batch.data = p;
	err = spool__push(s->spool, s->next_seq, s->batch.data, s->batch.len, mono_ns());
	if (err) {
		s->spool_drops++;
		s->dropped_events += s->batch_count;
		log_warn_ratelimited("sensor: spool full (server away?): batch %llu of %u events "
				     "dropped, %llu batches so far",
				     (unsigned long long)s->next_seq, s->batch_count,
				     (unsigned long long)s->spool_drops);
	} else {
		s->next_seq++;
	}
	s->batch = (struct wire_buf){0}; /* the spool owns the bytes now */
	s->batch_count = 0;
}

static void batch_room(struct shipper *s)
{
	if (s->batch.len >= BATCH_MAX_BYTES)
		batch_seal(s);
	if (!s->batch_count && !s->batch.len)
		batch_open(s);
}

void shipper__add_event(struct shipper *s, const struct weft_event *e, uint64_t wall_ns)
{
	batch_room(s);
	wire_put_event(&s->batch, e, wall_ns);
	s->batch_count++;
}

void shipper__add_process(struct shipper *s, uint32_t pid, const char *comm, const char *exe)
{
	batch_room(s);
	wire_put_process(&s->batch, pid, comm, exe);
	s->batch_count++;
}

void shipper__add_call(struct shipper *s, uint32_t pid, uint32_t tid, uint64_t start_ns,
		       uint64_t end_ns, const char *name)
{
	batch_room(s);
	wire_put_call(&s->batch, pid, tid, start_ns, end_ns, name);
	s->batch_count++;
}

static void conn_close(struct shipper *s, const char *why)
{
	if (s->fd >= 0) {
		if (s->state == CONN_READY)
			log_warn("sensor: lost the server %s:%s (%s); spooling until it is back",
				 s->host_name, s->port, why);
		close(s->fd);
	}
	s->fd = -1;
	s->state = CONN_DOWN;
	s->next_attempt = mono_ns() + s->backoff;
	s->backoff = s->backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : s->backoff * 2;
	s->out.len = s->out_off = s->in_len = 0;
	s->cur = NULL;
	s->cur_off = 0;
	spool__mark_unsent(s->spool);
}

/* Is the address one of this host's own (loopback, or an interface's)? */
static bool addr_is_local(const struct sockaddr *sa)
{
	struct ifaddrs *ifs, *i;
	bool local = false;

	if (sa->sa_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127)
		return true;
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr))
		return true;
	if (getifaddrs(&ifs))
		return false;
	for (i = ifs; i && !local; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET)
			local = ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
				((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		else
			local = !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
					&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
	}
	freeifaddrs(ifs);
	return local;
}

/* weft's own traffic is not the user's: on the server's host its ports
 * are ignored (before connecting: a socket's fate is decided when it is
 * first seen), elsewhere connections to it (the API port, once the server
 * names it in HELLO_ACK). The sensor's own connection never is traced. */
static void ignore_server(struct shipper *s, struct capture *cap, const struct sockaddr *sa,
			  uint16_t port)
{
	if (s->trace_self || !cap)
		return;
	if (sa) {
		memset(s->server_addr, 0, sizeof(s->server_addr));
		s->server_family = sa->sa_family;
		if (sa->sa_family == AF_INET)
			memcpy(s->server_addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		else
			memcpy(s->server_addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		s->server_local = addr_is_local(sa);
	}
	if (!port)
		return;
	if (s->server_local)
		capture__ignore_port(cap, port);
	else if (s->server_family)
		capture__ignore_peer(cap, s->server_family, s->server_addr, port);
}

static void conn_start(struct shipper *s, struct capture *cap)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int err = getaddrinfo(s->host_name, s->port, &hints, &ai);

	if (err) {
		log_warn_ratelimited("sensor: cannot resolve server %s: %s", s->host_name,
				     gai_strerror(err));
		conn_close(s, "unresolvable");
		return;
	}
	ignore_server(s, cap, ai->ai_addr, (uint16_t)atoi(s->port));
	s->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || (connect(s->fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)) {
		freeaddrinfo(ai);
		conn_close(s, strerror(errno));
		return;
	}
	freeaddrinfo(ai);
	s->state = CONN_CONNECTING;
}

static void send_hello(struct shipper *s)
{
	size_t off = wire_frame_begin(&s->out, WIRE_HELLO);

	wire_put_str(&s->out, s->sensor_id);
	wire_put_str(&s->out, s->host);
	wire_put_u64(&s->out, wall_ns());
	wire_frame_end(&s->out, off);
	s->state = CONN_HELLO;
}

static void send_status(struct shipper *s, struct capture *cap)
{
	uint64_t cnt[WEFT_CNT_MAX];
	size_t off;

	capture__counters(cap, cnt);
	off = wire_frame_begin(&s->out, WIRE_STATUS);
	wire_put_u64(&s->out, cnt[WEFT_CNT_EVENTS]);
	wire_put_u64(&s->out, cnt[WEFT_CNT_DROPS]);
	wire_put_u64(&s->out, s->spool_drops);
	wire_put_u8(&s->out, capture__messages(cap));
	wire_frame_end(&s->out, off);
}

static void handle_frame(struct shipper *s, const struct wire_frame *f, struct capture *cap,
			 const struct control *ctl)
{
	struct wire_reader r = {f->payload, f->payload + f->len, false};

	switch (f->type) {
	case WIRE_HELLO_ACK: {
		uint64_t last = wire_get_u64(&r);
		struct wire_reader opt = r;
		uint16_t api_port = wire_get_u16(&opt); /* newer servers name their API */

		if (!opt.bad)
			ignore_server(s, cap, NULL, api_port);
		/* The server stored numbers this run gave out before it could ask
		 * (a new or emptied spool directory): move ours past them rather
		 * than have them taken for duplicates. */
		if (!s->synced && last >= s->run_first_seq) {
			uint64_t next = spool__renumber(s->spool, s->run_first_seq, last);

			if (next > s->next_seq)
				s->next_seq = next;
			batch_renumber(s);
		}
		s->synced = true;
		spool__ack(s->spool, last);
		s->state = CONN_READY;
		s->backoff = BACKOFF_MIN_NS;
		log_info("sensor: connected to server %s:%s, %zu batches to send", s->host_name,
			 s->port, spool__count(s->spool));
		return;
	}
	case WIRE_ACK: {
		uint64_t seq = wire_get_u64(&r);

		if (s->cur && s->cur->seq <= seq) { /* it is still being written */
			conn_close(s, "acknowledgement of a batch not sent yet");
			return;
		}
		spool__ack(s->spool, seq);
		return;
	}
	case WIRE_CONTROL: {
		char cmd[COMMAND_LINE_MAX];
		uint32_t id = wire_get_u32(&r);
		size_t off;

		wire_get_str(&r, cmd, sizeof(cmd));
		if (r.bad)
			break;
		control__exec(ctl, cmd, s->reply, sizeof(s->reply));
		s->reply[strcspn(s->reply, "\n")] = '\0';
		log_info("sensor: server says '%s': %.200s%s", cmd, s->reply,
			 strlen(s->reply) > 200 ? "..." : "");
		off = wire_frame_begin(&s->out, WIRE_CONTROL_REPLY);
		wire_put_u32(&s->out, id);
		wire_put_str(&s->out, s->reply); /* at most WIRE_STR_MAX: the whole reply */
		wire_frame_end(&s->out, off);
		send_status(s, cap);
		return;
	}
	}
	log_warn_ratelimited("sensor: unexpected frame type %u from the server", f->type);
}

static void conn_read(struct shipper *s, struct capture *cap, const struct control *ctl)
{
	for (;;) {
		ssize_t n = read(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len);
		size_t used = 0;

		if (n == 0) {
			conn_close(s, "closed by the server");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(s, strerror(errno));
			return;
		}
		s->in_len += n;
		for (;;) {
			struct wire_frame f;
			long size = wire_frame_parse(s->in + used, s->in_len - used, &f);

			if (size < 0) {
				conn_close(s, "bad frame from the server");
				return;
			}
			if (size == 0)
				break;
			handle_frame(s, &f, cap, ctl);
			used += size;
		}
		memmove(s->in, s->in + used, s->in_len - used);
		s->in_len -= used;
	}
}

/* Writes data[*off..len) as far as the socket takes it; true when all is. */
static bool send_rest(struct shipper *s, const uint8_t *data, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t n = send(s->fd, data + *off, len - *off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(s, strerror(errno));
			return false;
		}
		*off += n;
	}
	return true;
}

/* Batches go out from the spool's own memory, whole frames one after the
 * other (our own frames only between them); the socket's buffer bounds what
 * is in flight. */
static void conn_write(struct shipper *s)
{
	for (;;) {
		if (s->cur) {
			if (!send_rest(s, s->cur->frame, s->cur->len, &s->cur_off))
				return;
			spool__sent(s->spool);
			s->cur = NULL;
		}
		if (!send_rest(s, s->out.data, s->out.len, &s->out_off))
			return;
		s->out.len = s->out_off = 0;
		if (s->state != CONN_READY || !(s->cur = spool__next_unsent(s->spool)))
			return;
		s->cur_off = 0;
	}
}

static void conn_tick(struct shipper *s, struct capture *cap, const struct control *ctl,
		      uint64_t now)
{
	struct pollfd p;

	if (s->state == CONN_DOWN) {
		if (now < s->next_attempt)
			return;
		conn_start(s, cap);
		if (s->state == CONN_DOWN)
			return;
	}
	p = (struct pollfd){.fd = s->fd, .events = POLLIN | POLLOUT};
	if (poll(&p, 1, 0) <= 0)
		return;
	if (s->state == CONN_CONNECTING) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (!(p.revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		if (soerr) {
			log_warn_ratelimited("sensor: cannot reach server %s:%s: %s", s->host_name,
					     s->port, strerror(soerr));
			conn_close(s, strerror(soerr));
			return;
		}
		send_hello(s);
	}
	if (p.revents & (POLLIN | POLLHUP | POLLERR))
		conn_read(s, cap, ctl);
	if (s->state == CONN_READY && now >= s->next_status) {
		send_status(s, cap);
		s->next_status = now + STATUS_EVERY_NS;
	}
	if (s->fd >= 0)
		conn_write(s);
}

void shipper__tick(struct shipper *s, struct capture *cap, const struct control *ctl)
{
	uint64_t now = mono_ns();

	if (s->batch_count && now - s->batch_started >= BATCH_MAX_AGE_NS)
		batch_seal(s);
	conn_tick(s, cap, ctl, now);
	/* While the server takes batches, only the slow ones go to disk. */
	spool__persist(s->spool, s->state == CONN_READY && now > SPOOL_GRACE_NS
				     ? now - SPOOL_GRACE_NS
				     : UINT64_MAX);
}

void shipper__flush(struct shipper *s, struct capture *cap, const struct control *ctl,
		    int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ull;

	batch_seal(s);
	while (spool__count(s->spool) && mono_ns() < deadline) {
		shipper__tick(s, cap, ctl);
		poll(NULL, 0, 5);
	}
	if (spool__count(s->spool))
		log_warn("sensor: %zu batches not acknowledged yet stay in the spool for the "
			 "next run",
			 spool__count(s->spool));
}

uint64_t shipper__spool_drops(const struct shipper *s)
{
	return s->spool_drops + spool__dropped(s->spool);
}

void shipper__free(struct shipper *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	wire_buf_free(&s->batch);
	wire_buf_free(&s->out);
	spool__close(s->spool);
	free(s);
}

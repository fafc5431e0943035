#include "server/ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "wire/command.h"
#include "wire/wire.h"

#define IN_BUF_INITIAL (64u << 10)
#define TAG_LISTEN     ((void *)1)
#define TAG_WAKE       ((void *)2)

struct sensor_rec {
	char id[WIRE_ID_MAX];
	char host[WIRE_ID_MAX];
	struct ingest_sensor_stats st;
	struct ingest_conn *conn; /* NULL while disconnected */
	struct sensor_rec *next;
};

struct ingest_conn {
	struct ingest *in;
	int fd;
	char peer[64];
	struct sensor_rec *sensor; /* after its hello */
	uint8_t *buf;		   /* bytes read, not yet parsed */
	size_t len, cap;
	struct wire_buf out;
	size_t out_off;
	bool want_write;
	uint64_t *acks; /* queued until the next commit */
	size_t nacks, acks_cap;
	struct ingest_conn *next;
};

struct control_req {
	uint32_t id;
	char sensor[WIRE_ID_MAX];
	char command[COMMAND_LINE_MAX];
	char *reply;
	size_t cap;
	bool sent, done;
	int err; /* set when the request failed before reaching a sensor */
	struct control_req *next;
};

struct ingest {
	int listen_fd, epfd, wake_fd;
	struct ingest_handlers h;
	struct ingest_conn *conns;
	struct sensor_rec *sensors;
	pthread_mutex_t lock; /* control requests and sensor records, shared with API threads */
	pthread_cond_t cond;
	struct control_req *reqs;
	uint32_t next_req;
};

static int listen_on(const char *addr, uint16_t port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
	char ports[8];
	int fd, one = 1, err;

	snprintf(ports, sizeof(ports), "%u", port);
	err = getaddrinfo(addr, ports, &hints, &ai);
	if (err) {
		log_error("ingest: cannot resolve %s: %s", addr, gai_strerror(err));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		err = -errno;
		log_error("ingest: cannot listen on %s:%u: %s", addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return err;
	}
	freeaddrinfo(ai);
	return fd;
}

struct ingest *ingest__new(const char *addr, uint16_t port, const struct ingest_handlers *h)
{
	struct ingest *in = calloc(1, sizeof(*in));
	struct epoll_event ev = {.events = EPOLLIN};

	if (!in)
		return NULL;
	in->h = *h;
	in->listen_fd = in->epfd = in->wake_fd = -1;
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->cond, NULL);
	in->listen_fd = listen_on(addr, port);
	in->epfd = epoll_create1(EPOLL_CLOEXEC);
	in->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->listen_fd < 0 || in->epfd < 0 || in->wake_fd < 0)
		goto fail;
	ev.data.ptr = TAG_LISTEN;
	if (epoll_ctl(in->epfd, EPOLL_CTL_ADD, in->listen_fd, &ev))
		goto fail;
	ev.data.ptr = TAG_WAKE;
	if (epoll_ctl(in->epfd, EPOLL_CTL_ADD, in->wake_fd, &ev))
		goto fail;
	return in;
fail:
	ingest__free(in);
	return NULL;
}

static void conn_close(struct ingest *in, struct ingest_conn *c, const char *why)
{
	if (why)
		log_warn("ingest: closing %s%s%s: %s", c->peer, c->sensor ? " (sensor " : "",
			 c->sensor ? c->sensor->id : "", why);
	for (struct ingest_conn **pp = &in->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_lock(&in->lock);
	if (c->sensor && c->sensor->conn == c) {
		c->sensor->conn = NULL;
		c->sensor->st.connected = false;
	}
	pthread_mutex_unlock(&in->lock);
	close(c->fd);
	free(c->buf);
	free(c->acks);
	wire_buf_free(&c->out);
	free(c);
}

static void conn_flush(struct ingest *in, struct ingest_conn *c)
{
	struct epoll_event ev = {.data.ptr = c};

	while (c->out_off < c->out.len) {
		ssize_t n =
		    send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(in, c, strerror(errno));
			return;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out.len)
		c->out.len = c->out_off = 0;
	if (c->want_write != (c->out.len > 0)) {
		c->want_write = c->out.len > 0;
		ev.events = EPOLLIN | (c->want_write ? EPOLLOUT : 0);
		epoll_ctl(in->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void accept_all(struct ingest *in)
{
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		int fd = accept4(in->listen_fd, (struct sockaddr *)&sa, &salen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN};
		struct ingest_conn *c;
		char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		getnameinfo((struct sockaddr *)&sa, salen, host, sizeof(host), serv, sizeof(serv),
			    NI_NUMERICHOST | NI_NUMERICSERV);
		snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
		c->in = in;
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(in->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = in->conns;
		in->conns = c;
	}
}

static struct sensor_rec *sensor_get(struct ingest *in, const char *id, const char *host)
{
	struct sensor_rec *s;

	for (s = in->sensors; s; s = s->next)
		if (!strcmp(s->id, id))
			break;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		snprintf(s->id, sizeof(s->id), "%s", id);
		s->next = in->sensors;
		in->sensors = s;
	}
	snprintf(s->host, sizeof(s->host), "%s", host);
	return s;
}

static int on_hello(struct ingest *in, struct ingest_conn *c, struct wire_reader *r)
{
	char id[WIRE_ID_MAX], host[WIRE_ID_MAX];
	struct sensor_rec *s;
	size_t off;

	wire_get_str(r, id, sizeof(id));
	wire_get_str(r, host, sizeof(host));
	wire_get_u64(r);
	if (r->bad || !id[0] || c->sensor)
		return -EBADMSG;
	pthread_mutex_lock(&in->lock);
	s = sensor_get(in, id, host);
	if (s && s->conn) { /* a restarted sensor whose old connection lingers */
		struct ingest_conn *old = s->conn;

		pthread_mutex_unlock(&in->lock);
		conn_close(in, old, "replaced by a new connection of the same sensor");
		pthread_mutex_lock(&in->lock);
	}
	if (s) {
		s->conn = c;
		s->st.connected = true;
		s->st.last_seen_ns = wall_ns();
	}
	pthread_mutex_unlock(&in->lock);
	if (!s)
		return -ENOMEM;
	c->sensor = s;
	off = wire_frame_begin(&c->out, WIRE_HELLO_ACK);
	wire_put_u64(&c->out, in->h.hello(id, host, in->h.ctx));
	wire_put_u16(&c->out, in->h.api_port);
	wire_frame_end(&c->out, off);
	log_info("ingest: sensor %s (%s) connected from %s", id, host, c->peer);
	return 0;
}

static void on_control_reply(struct ingest *in, struct wire_reader *r)
{
	uint32_t id = wire_get_u32(r);
	size_t len;
	const char *reply = wire_get_str_ref(r, &len); /* up to WIRE_STR_MAX bytes */

	if (r->bad)
		return;
	pthread_mutex_lock(&in->lock);
	for (struct control_req *q = in->reqs; q; q = q->next) {
		if (q->id == id && !q->done) {
			snprintf(q->reply, q->cap, "%.*s", (int)len, reply);
			q->done = true;
			pthread_cond_broadcast(&in->cond);
		}
	}
	pthread_mutex_unlock(&in->lock);
}

/* Returns 0, or a negative errno after which the connection is closed. */
static int on_frame(struct ingest *in, struct ingest_conn *c, const struct wire_frame *f)
{
	struct wire_reader r = {f->payload, f->payload + f->len, false};
	int ret;

	if (f->type != WIRE_HELLO && !c->sensor)
		return -EPROTO;
	switch (f->type) {
	case WIRE_HELLO:
		return on_hello(in, c, &r);
	case WIRE_BATCH: {
		uint64_t seq = wire_get_u64(&r);

		wire_get_u32(&r); /* record count: the records say it again */
		if (r.bad)
			return -EBADMSG;
		c->sensor->st.last_seen_ns = wall_ns();
		ret = in->h.batch(c, c->sensor->id, c->sensor->host, seq, r.p, r.end - r.p,
				  in->h.ctx);
		if (ret < 0)
			return ret;
		c->sensor->st.batches++;
		ingest__queue_ack(c, seq);
		return 0;
	}
	case WIRE_STATUS:
		wire_get_u64(&r); /* events captured: the server counts what it received */
		c->sensor->st.drops = wire_get_u64(&r);
		c->sensor->st.spool_drops = wire_get_u64(&r);
		c->sensor->st.messages = wire_get_u8(&r);
		c->sensor->st.last_seen_ns = wall_ns();
		return r.bad ? -EBADMSG : 0;
	case WIRE_CONTROL_REPLY:
		on_control_reply(in, &r);
		return 0;
	}
	return -EPROTO;
}

static const char *why(int err)
{
	switch (err) {
	case -EPROTONOSUPPORT:
		return "unknown protocol version";
	case -EBADMSG:
		return "malformed frame";
	case -EPROTO:
		return "unexpected frame";
	}
	return strerror(-err);
}

static void conn_read(struct ingest *in, struct ingest_conn *c)
{
	for (;;) {
		size_t used = 0;
		ssize_t n;

		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : IN_BUF_INITIAL;
			uint8_t *b;

			if (cap > WIRE_MAX_PAYLOAD + 2 * WIRE_HEADER_LEN + IN_BUF_INITIAL) {
				conn_close(in, c, "frame too large");
				return;
			}
			b = realloc(c->buf, cap);
			if (!b) {
				conn_close(in, c, "out of memory");
				return;
			}
			c->buf = b;
			c->cap = cap;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n == 0) {
			if (c->len)
				log_warn("ingest: %s closed in the middle of a frame (%zu bytes "
					 "dropped, not acknowledged)",
					 c->peer, c->len);
			conn_close(in, c, NULL);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(in, c, strerror(errno));
			break;
		}
		c->len += n;
		for (;;) {
			struct wire_frame f;
			long size = wire_frame_parse(c->buf + used, c->len - used, &f);
			int err;

			if (size == 0)
				break;
			err = size < 0 ? (int)size : on_frame(in, c, &f);
			if (err) {
				conn_close(in, c, why(err));
				return;
			}
			used += size;
		}
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	if (c->out.len)
		conn_flush(in, c);
}

/* Sends queued control requests to their sensors (ingest thread). */
static void send_controls(struct ingest *in)
{
	uint64_t v;

	if (read(in->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&in->lock);
	for (struct control_req *q = in->reqs; q; q = q->next) {
		struct sensor_rec *s;
		size_t off;

		if (q->sent)
			continue;
		q->sent = true;
		for (s = in->sensors; s && strcmp(s->id, q->sensor); s = s->next)
			;
		if (!s || !s->conn) {
			snprintf(q->reply, q->cap, "error: sensor '%s' is not connected",
				 q->sensor);
			q->err = -ENOENT;
			q->done = true;
			continue;
		}
		off = wire_frame_begin(&s->conn->out, WIRE_CONTROL);
		wire_put_u32(&s->conn->out, q->id);
		wire_put_str(&s->conn->out, q->command);
		wire_frame_end(&s->conn->out, off);
	}
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
	for (struct ingest_conn *c = in->conns, *next; c; c = next) {
		next = c->next;
		if (c->out.len)
			conn_flush(in, c);
	}
}

int ingest__poll(struct ingest *in, int timeout_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(in->epfd, evs, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		void *tag = evs[i].data.ptr;

		if (tag == TAG_LISTEN) {
			accept_all(in);
		} else if (tag == TAG_WAKE) {
			send_controls(in);
		} else {
			struct ingest_conn *c = tag, *x;

			/* Skip a connection an earlier event of this round closed. */
			for (x = in->conns; x && x != c; x = x->next)
				;
			if (!x)
				continue;
			if (evs[i].events & EPOLLOUT) {
				conn_flush(in, c);
				for (x = in->conns; x && x != c; x = x->next)
					;
				if (!x)
					continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_read(in, c);
		}
	}
	return n;
}

void ingest__queue_ack(struct ingest_conn *c, uint64_t seq)
{
	if (c->nacks == c->acks_cap) {
		size_t cap = c->acks_cap ? c->acks_cap * 2 : 16;
		uint64_t *a = realloc(c->acks, cap * sizeof(*a));

		if (!a)
			return; /* unacknowledged: the sensor will send it again */
		c->acks = a;
		c->acks_cap = cap;
	}
	c->acks[c->nacks++] = seq;
}

void ingest__note_events(struct ingest_conn *c, uint64_t events, uint64_t newest_ns)
{
	struct ingest_sensor_stats *st = &c->sensor->st;

	st->events += events;
	if (newest_ns)
		st->lag_ns = (int64_t)(wall_ns() - newest_ns);
}

void ingest__flush_acks(struct ingest *in)
{
	for (struct ingest_conn *c = in->conns, *next; c; c = next) {
		next = c->next;
		for (size_t i = 0; i < c->nacks; i++) {
			size_t off = wire_frame_begin(&c->out, WIRE_ACK);

			wire_put_u64(&c->out, c->acks[i]);
			wire_frame_end(&c->out, off);
		}
		c->nacks = 0;
		if (c->out.len)
			conn_flush(in, c);
	}
}

void ingest__drop_all(struct ingest *in, const char *why)
{
	while (in->conns) {
		in->conns->nacks = 0;
		conn_close(in, in->conns, why);
	}
}

int ingest__control(struct ingest *in, const char *sensor, const char *command, char *reply,
		    size_t cap, int timeout_ms)
{
	struct control_req q = {.reply = reply, .cap = cap};
	struct timespec deadline;
	uint64_t one = 1;
	int err = 0;

	if (strlen(sensor) >= sizeof(q.sensor) || strlen(command) >= sizeof(q.command) ||
	    strchr(command, '\n')) {
		snprintf(reply, cap, "error: bad sensor name or command");
		return -EINVAL;
	}
	strcpy(q.sensor, sensor);
	strcpy(q.command, command);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&in->lock);
	q.id = ++in->next_req;
	q.next = in->reqs;
	in->reqs = &q;
	pthread_mutex_unlock(&in->lock);
	if (write(in->wake_fd, &one, sizeof(one)) < 0)
		err = -errno;
	pthread_mutex_lock(&in->lock);
	while (!err && !q.done)
		if (pthread_cond_timedwait(&in->cond, &in->lock, &deadline) == ETIMEDOUT)
			err = -ETIMEDOUT;
	for (struct control_req **pp = &in->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == &q) {
			*pp = q.next;
			break;
		}
	}
	pthread_mutex_unlock(&in->lock);
	if (err == -ETIMEDOUT)
		snprintf(reply, cap, "error: no reply from sensor '%s'", sensor);
	if (!err && q.err)
		err = q.err;
	if (!err && strncmp(reply, "ok", 2))
		err = -EINVAL;
	return err;
}

void ingest__each_sensor(struct ingest *in,
			 void (*fn)(const char *sensor, const char *host,
				    const struct ingest_sensor_stats *st, void *ctx),
			 void *ctx)
{
	for (struct sensor_rec *s = in->sensors; s; s = s->next)
		fn(s->id, s->host, &s->st, ctx);
}

int ingest__connected(struct ingest *in)
{
	int n = 0;

	for (struct ingest_conn *c = in->conns; c; c = c->next)
		n += c->sensor != NULL;
	return n;
}

void ingest__free(struct ingest *in)
{
	if (!in)
		return;
	while (in->conns)
		conn_close(in, in->conns, NULL);
	while (in->sensors) {
		struct sensor_rec *s = in->sensors;

		in->sensors = s->next;
		free(s);
	}
	if (in->listen_fd >= 0)
		close(in->listen_fd);
	if (in->epfd >= 0)
		close(in->epfd);
	if (in->wake_fd >= 0)
		close(in->wake_fd);
	pthread_mutex_destroy(&in->lock);
	pthread_cond_destroy(&in->cond);
	free(in);
}

#include "sensor/control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define CONTROL_CLIENTS 8
#define CONTROL_VERBS	8

struct control_verb {
	const char *verb;
	const char *usage;
	control_fn run;
	void *ctx;
};

struct control {
	struct control_verb verbs[CONTROL_VERBS];
	int n;
};

struct control *control__new(void)
{
	return calloc(1, sizeof(struct control));
}

void control__free(struct control *c)
{
	free(c);
}

int control__add(struct control *c, const char *verb, const char *usage, control_fn run, void *ctx)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->verbs[i].verb, verb))
			return -EEXIST;
	if (c->n == CONTROL_VERBS)
		return -ENOSPC;
	c->verbs[c->n++] = (struct control_verb){verb, usage, run, ctx};
	return 0;
}

static void usage(const struct control *c, const char *line, char *reply, size_t cap)
{
	size_t len = (size_t)snprintf(
	    reply, cap, "error: bad command '%.*s' (try: ", (int)strcspn(line, "\r\n"), line);

	for (int i = 0; i < c->n && len < cap; i++)
		len += (size_t)snprintf(reply + len, cap - len, "%s%s", i ? ", " : "",
					c->verbs[i].usage);
	if (len < cap)
		snprintf(reply + len, cap - len, ")\n");
	if (cap > 1 && len >= cap - 1) /* cut: the newline still ends it */
		memcpy(reply + cap - 2, "\n", 2);
}

int control__exec(const struct control *c, const char *line, char *reply, size_t cap)
{
	char buf[COMMAND_LINE_MAX], *verb, *args;
	const struct control_verb *v = NULL;
	size_t len = strcspn(line, "\r\n");
	int err = -EINVAL;

	reply[0] = '\0';
	if (len < sizeof(buf)) {
		memcpy(buf, line, len);
		while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
			len--;
		buf[len] = '\0';
		verb = buf + strspn(buf, " \t");
		args = verb + strcspn(verb, " \t");
		if (*args)
			*args++ = '\0';
		args += strspn(args, " \t");
		for (int i = 0; i < c->n && !v; i++)
			if (!strcmp(c->verbs[i].verb, verb))
				v = &c->verbs[i];
		if (v)
			err = v->run(v->ctx, args, reply, cap);
	}
	if (reply[0]) /* the handler answered itself */
		return err;
	if (err == -EINVAL)
		usage(c, line, reply, cap);
	else if (err)
		snprintf(reply, cap, "error: %s\n", strerror(-err));
	else
		snprintf(reply, cap, "ok\n");
	return err;
}

struct control_server {
	int listen_fd;
	int clients[CONTROL_CLIENTS];
	char path[108];
	char reply[COMMAND_REPLY_MAX];
};

struct control_server *control_server__open(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct control_server *s;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		s->clients[i] = -1;
	strcpy(addr.sun_path, path);
	strcpy(s->path, path);
	unlink(path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(s->listen_fd, 4)) {
		int err = errno;

		if (s->listen_fd >= 0)
			close(s->listen_fd);
		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

/* Writes all of buf to a non-blocking socket, waiting for room at most
 * timeout_ms in all: a reply of 64 KiB may not fit the socket at once. */
static int write_all(int fd, const char *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			uint64_t now = mono_ns();

			if (now >= deadline)
				return -ETIMEDOUT;
			poll(&p, 1, (int)((deadline - now) / 1000000ull) + 1);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void serve_client(struct control_server *s, int i, const struct control *c)
{
	char buf[COMMAND_LINE_MAX];
	ssize_t n = read(s->clients[i], buf, sizeof(buf) - 1);
	char *line, *save = NULL;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(s->clients[i]);
			s->clients[i] = -1;
		}
		return;
	}
	buf[n] = '\0';
	/* Commands are short: a read holds whole lines. */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		control__exec(c, line, s->reply, sizeof(s->reply));
		if (write_all(s->clients[i], s->reply, strlen(s->reply), 1000)) {
			log_warn_ratelimited("control: a client not reading its reply; closed");
			close(s->clients[i]);
			s->clients[i] = -1;
			break;
		}
	}
}

void control_server__serve(struct control_server *s, const struct control *c)
{
	struct pollfd pfd[CONTROL_CLIENTS];
	int fd;

	while ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		int i;

		for (i = 0; i < CONTROL_CLIENTS && s->clients[i] >= 0; i++)
			;
		if (i == CONTROL_CLIENTS) {
			log_warn_ratelimited("control: too many clients, refusing one");
			close(fd);
			continue;
		}
		s->clients[i] = fd;
	}
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		pfd[i] = (struct pollfd){.fd = s->clients[i], .events = POLLIN};
	if (poll(pfd, CONTROL_CLIENTS, 0) <= 0)
		return;
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		if (pfd[i].revents)
			serve_client(s, i, c);
}

void control_server__close(struct control_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < CONTROL_CLIENTS; i++)
		if (s->clients[i] >= 0)
			close(s->clients[i]);
	close(s->listen_fd);
	unlink(s->path);
	free(s);
}

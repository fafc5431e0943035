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
#include "common/parse.h"
#include "sensor/jvm_trace.h"
#include "wire/wire.h"

#define CONTROL_CLIENTS 8

static int select_one(struct capture *c, const char *kind, const char *val)
{
	uint64_t v;

	if (!strcmp(kind, "comm"))
		return strlen(val) < WEFT_COMM_LEN ? capture__add_comm(c, val) : -EINVAL;
	if (!strcmp(kind, "pid"))
		return parse_u64(val, &v, 1, UINT32_MAX) ?: capture__add_pid(c, (uint32_t)v);
	if (!strcmp(kind, "port"))
		return parse_u64(val, &v, 1, 65535) ?: capture__add_port(c, (uint16_t)v);
	if (!strcmp(kind, "cgroup"))
		return parse_u64(val, &v, 1, UINT64_MAX) ?: capture__add_cgroup(c, v);
	if (!strcmp(kind, "netns"))
		return parse_u64(val, &v, 1, UINT32_MAX) ?: capture__add_netns(c, (uint32_t)v);
	return -EINVAL;
}

int control_exec(const struct control_ctx *x, const char *line, char *reply, size_t cap)
{
	char verb[16] = "", a[64] = "", b[64] = "";
	int n = sscanf(line, "%15s %63s %63s", verb, a, b);
	struct capture *c = x->cap;
	/* what follows the verb, for the families other modules serve */
	const char *args = line + strspn(line, " \t") + strlen(verb);
	int err = -EINVAL;

	reply[0] = '\0';
	if (n >= 1 && !strcmp(verb, "profile")) {
		if (!x->profiles) {
			snprintf(reply, cap, "error: profiling is not available here\n");
			return -ENOTSUP;
		}
		err = profiles__exec(x->profiles, c, args, reply, cap);
	} else if (n >= 1 && !strcmp(verb, "trace")) {
		if (!x->traces) {
			snprintf(reply, cap,
				 "error: tracing needs a sensor shipping to a server "
				 "(--server)\n");
			return -ENOTSUP;
		}
		err = jvm_traces__exec(x->traces, c, args, reply, cap);
	} else if (n >= 2 && !strcmp(verb, "messages") && (!strcmp(a, "on") || !strcmp(a, "off"))) {
		err = capture__set_messages(c, !strcmp(a, "on"));
	} else if (n == 2 && !strcmp(verb, "select") && !strcmp(a, "clear")) {
		err = capture__clear_selectors(c);
	} else if (n == 3 && !strcmp(verb, "select")) {
		err = select_one(c, a, b);
	} else if (n == 1 && !strcmp(verb, "status")) {
		uint64_t cnt[WEFT_CNT_MAX];

		capture__counters(c, cnt);
		snprintf(reply, cap,
			 "ok messages=%s selectors=%#x events=%llu drops=%llu untracked=%llu\n",
			 capture__messages(c) ? "on" : "off", capture__selectors(c),
			 (unsigned long long)cnt[WEFT_CNT_EVENTS],
			 (unsigned long long)cnt[WEFT_CNT_DROPS],
			 (unsigned long long)cnt[WEFT_CNT_NO_STATE]);
		return 0;
	}
	if (reply[0]) /* a family that answered itself */
		return err;
	if (err == -EINVAL) {
		snprintf(reply, cap,
			 "error: bad command '%.*s' (try: messages on|off, select "
			 "pid|comm|port|cgroup|netns VALUE, select clear, status, profile find "
			 "NAME[,NAME...], profile start ID NAME[,NAME...], profile stop|abort ID, "
			 "profile list, profile jvm NAME COMMAND, trace NAME on [FILTER], trace "
			 "NAME off, trace list)\n",
			 (int)strcspn(line, "\r\n"), line);
		return err;
	}
	if (err) {
		snprintf(reply, cap, "error: %s\n", strerror(-err));
		return err;
	}
	snprintf(reply, cap, "ok\n");
	return 0;
}

struct control_server {
	int listen_fd;
	int clients[CONTROL_CLIENTS];
	char path[108];
	char reply[CONTROL_REPLY_MAX];
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

static void serve_client(struct control_server *s, int i, const struct control_ctx *x)
{
	char buf[WIRE_COMMAND_MAX];
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
		control_exec(x, line, s->reply, sizeof(s->reply));
		if (write_all(s->clients[i], s->reply, strlen(s->reply), 1000)) {
			log_warn_ratelimited("control: a client not reading its reply; closed");
			close(s->clients[i]);
			s->clients[i] = -1;
			break;
		}
	}
}

void control_server__serve(struct control_server *s, const struct control_ctx *x)
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
			serve_client(s, i, x);
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

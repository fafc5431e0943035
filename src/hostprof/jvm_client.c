#include "hostprof/jvm_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "hostprof/procfs.h"

#define AGENT_TIMEOUT_MS 2000	    /* the sensor waits meanwhile: keep it short */
#define AGENT_REPLY_MAX	 (4u << 20) /* a DUMP of many methods and threads */

int jvm_agent_port(uint32_t pid)
{
	char path[64], buf[16384];
	ssize_t n;
	int fd, port = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	buf[n] = '\0';
	/* arguments are NUL-separated */
	for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
		const char *opts, *p;

		if (strncmp(a, "-agentpath:", 11) || !(opts = strstr(a, "libweftjvm.so=")))
			continue;
		opts += strlen("libweftjvm.so=");
		for (p = opts; p; p = strchr(p, ',')) {
			p += *p == ',';
			if (!strncmp(p, "port=", 5)) {
				port = atoi(p + 5);
				return port > 0 && port < 65536 ? port : -ENOENT;
			}
		}
	}
	return port;
}

struct ns_socket {
	uint32_t pid;
	int fd;	 /* the socket, made inside the JVM's network namespace */
	int err; /* or why not */
};

/* A socket belongs to the namespace it was made in: make it on a thread
 * that entered the JVM's, and use it from here. */
static void *socket_in_ns(void *arg)
{
	struct ns_socket *s = arg;
	char path[64];
	int ns;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", s->pid);
	if ((ns = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(ns, CLONE_NEWNET)) {
		s->err = -errno;
		if (ns >= 0)
			close(ns);
		return NULL;
	}
	close(ns);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		s->err = -errno;
	return NULL;
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	uint64_t now = mono_ns();
	int r;

	if (now >= deadline)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)((deadline - now) / 1000000) + 1);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* Connects, sends cmd, reads one line. */
static int exchange(int fd, int port, const char *cmd, char **reply, uint64_t deadline)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	size_t len = 0, cap = 4096, sent = 0, n = strlen(cmd);
	char *buf;
	int err;

	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS)
		return -errno;
	if ((err = wait_fd(fd, POLLOUT, deadline)))
		return err;
	while (sent < n + 1) {
		ssize_t w = sent < n ? send(fd, cmd + sent, n - sent, MSG_NOSIGNAL)
				     : send(fd, "\n", 1, MSG_NOSIGNAL);

		if (w < 0 && errno == EAGAIN && !(err = wait_fd(fd, POLLOUT, deadline)))
			continue;
		if (w < 0)
			return err ? err : -errno;
		sent += (size_t)w;
	}
	if (!(buf = malloc(cap)))
		return -ENOMEM;
	for (;;) {
		ssize_t r;
		char *nl;

		if (len + 1 == cap) {
			char *b = cap < AGENT_REPLY_MAX ? realloc(buf, cap *= 2) : NULL;

			if (!b) {
				free(buf);
				return -E2BIG;
			}
			buf = b;
		}
		r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0 && errno == EAGAIN && !(err = wait_fd(fd, POLLIN, deadline)))
			continue;
		if (r <= 0) {
			free(buf);
			return r == 0 ? -ECONNRESET : err ? err : -errno;
		}
		len += (size_t)r;
		buf[len] = '\0';
		if ((nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			if (nl > buf && nl[-1] == '\r')
				nl[-1] = '\0';
			*reply = buf;
			return 0;
		}
	}
}

int jvm_agent_find_port(uint32_t pid, char *err, size_t errcap)
{
	int port = jvm_agent_port(pid);

	if (port < 0)
		snprintf(err, errcap,
			 port == -ENOENT ? "JVM %u runs without the weft agent's control port "
					   "(start it with -agentpath:.../libweftjvm.so=port=N)"
					 : "JVM %u: cannot read its command line",
			 pid);
	return port;
}

int jvm_agent_call(uint32_t pid, const char *cmd, char **reply, char *err, size_t errcap)
{
	int port = jvm_agent_find_port(pid, err, errcap);

	*reply = NULL;
	return port < 0 ? port : jvm_agent_call_port(pid, port, cmd, reply, err, errcap);
}

int jvm_agent_call_port(uint32_t pid, int port, const char *cmd, char **reply, char *err,
			size_t errcap)
{
	struct ns_socket s = {.pid = pid, .fd = -1};
	pthread_t t;
	int ret;

	*reply = NULL;
	if ((ret = pthread_create(&t, NULL, socket_in_ns, &s))) {
		snprintf(err, errcap, "JVM %u: %s", pid, strerror(ret));
		return -ret;
	}
	pthread_join(t, NULL);
	if (s.err) {
		snprintf(err, errcap, "JVM %u: cannot enter its network namespace: %s", pid,
			 strerror(-s.err));
		return s.err;
	}
	ret = exchange(s.fd, port, cmd, reply, mono_ns() + AGENT_TIMEOUT_MS * 1000000ull);
	close(s.fd);
	if (ret)
		snprintf(err, errcap, "JVM %u: agent on port %d: %s", pid, port, strerror(-ret));
	return ret;
}

#define JVMS_MAX 16

int jvm_agents_call(const char *name, uint32_t netns, const char *cmd, json_object **out, char *err,
		    size_t errcap)
{
	uint32_t pids[JVMS_MAX];
	int found = procfs_find(name, netns, pids, JVMS_MAX), ret = 0;
	json_object *list;

	*out = NULL;
	if (found <= 0) {
		snprintf(err, errcap, "no process named '%s'", name);
		return found ? found : -ESRCH;
	}
	list = json_object_new_array();
	for (int k = 0; k < found && k < JVMS_MAX && !ret; k++) {
		json_object *o, *r;
		char *answer;

		if ((ret = jvm_agent_call(pids[k], cmd, &answer, err, errcap)))
			break;
		r = answer[0] == '{' ? json_tokener_parse(answer) : NULL;
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int64(pids[k]));
		json_object_object_add(o, "reply", r ? r : json_object_new_string(answer));
		json_object_array_add(list, o);
		free(answer);
	}
	if (ret) {
		json_object_put(list);
		return ret;
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "jvms", list);
	return 0;
}

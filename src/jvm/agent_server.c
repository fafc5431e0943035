/* Control server (see control.h and docs/jvm-agent.md): one thread, poll()
 * over the listening socket and a few clients, one reply line per command
 * line. It wakes every 100 ms to notice that the JVM is going away. */
#include "jvm/agent_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "jvm/agent.h"

#define CTL_CLIENTS	   8	 /* connections served at once */
#define CTL_LINE_MAX	   65536 /* longest command line */
#define CTL_SEND_TIMEOUT_S 2	 /* a client that stops reading is dropped */

struct client {
	int fd;	   /* -1 = free */
	char *buf; /* partial line, CTL_LINE_MAX bytes */
	size_t len;
};

struct server {
	JavaVM *vm;
	int fd;
	struct client c[CTL_CLIENTS];
};

int control__listen(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Splits "WORD rest" and dispatches on WORD, case-insensitively. */
int control__execute(JNIEnv *env, const char *line, struct sbuf *out)
{
	while (*line == ' ')
		line++;
	size_t w = strcspn(line, " ");
	const char *arg = line + w;
	while (*arg == ' ')
		arg++;
#define IS(cmd) (w == strlen(cmd) && !strncasecmp(line, cmd, w))
	if (IS("FILTER"))
		agent__cmd_filter(env, arg, out);
	else if (*arg && !IS("TRACE"))
		sbuf__printf(out, "ERR %.*s takes no argument", (int)(w > 32 ? 32 : w), line);
	else if (IS("START"))
		agent__cmd_start(env, out);
	else if (IS("STOP"))
		agent__cmd_stop(env, out);
	else if (IS("DUMP"))
		agent__cmd_dump(env, out);
	else if (IS("CALLS"))
		agent__cmd_calls(env, out);
	else if (IS("GC"))
		agent__cmd_gc(out);
	else if (IS("STATUS"))
		agent__cmd_status(env, out);
	else if (IS("RESET"))
		agent__cmd_reset(env, out);
	else if (IS("TRACE") && (!strcasecmp(arg, "on") || !strcasecmp(arg, "off")))
		agent__cmd_trace(env, !strcasecmp(arg, "on"), out);
	else if (IS("TRACE"))
		sbuf__printf(out, "ERR usage: TRACE on|off");
	else if (IS("QUIT")) {
		sbuf__printf(out, "OK bye");
		return 1;
	} else if (w == 0)
		sbuf__printf(out, "ERR empty command");
	else {
		sbuf__printf(out, "ERR unknown command '");
		for (size_t i = 0; i < w && i < 32; i++) /* echo printable bytes only */
			sbuf__printf(out, "%c", line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?');
		sbuf__printf(out, "'");
	}
#undef IS
	return 0;
}

static void drop(struct client *c)
{
	close(c->fd);
	free(c->buf);
	*c = (struct client){.fd = -1};
}

/* Runs every complete line in the client's buffer; 0, or -1 to drop it. */
static int serve_lines(JNIEnv *env, struct client *c)
{
	char *nl;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		*nl = 0;
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = 0;
		struct sbuf out = {0};
		int quit = memchr(c->buf, 0, (size_t)(nl - c->buf))
			       ? (sbuf__printf(&out, "ERR NUL byte in command"), 0)
			       : control__execute(env, c->buf, &out);
		const char *s = sbuf__str(&out);
		if (!s)
			s = "ERR out of memory";
		int rc = send_all(c->fd, s, strlen(s)) || send_all(c->fd, "\n", 1) ? -1 : 0;
		sbuf__free(&out);
		size_t used = (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->len - used);
		c->len -= used;
		if (rc || quit)
			return -1;
	}
	if (c->len == CTL_LINE_MAX) {
		static const char msg[] = "ERR line too long\n";
		send_all(c->fd, msg, sizeof(msg) - 1);
		return -1;
	}
	return 0;
}

static void on_readable(JNIEnv *env, struct client *c)
{
	ssize_t k = recv(c->fd, c->buf + c->len, CTL_LINE_MAX - c->len, 0);
	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (k <= 0) {
		drop(c);
		return;
	}
	c->len += (size_t)k;
	if (serve_lines(env, c))
		drop(c);
}

static void on_accept(struct server *s)
{
	int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct timeval tv = {.tv_sec = CTL_SEND_TIMEOUT_S};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < CTL_CLIENTS; i++) {
		if (s->c[i].fd >= 0)
			continue;
		if (!(s->c[i].buf = malloc(CTL_LINE_MAX)))
			break;
		s->c[i].fd = fd;
		s->c[i].len = 0;
		return;
	}
	static const char busy[] = "ERR too many connections\n";
	send_all(fd, busy, sizeof(busy) - 1);
	close(fd);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	JNIEnv *env = NULL;
	JavaVMAttachArgs aa = {JNI_VERSION_9, "weft-jvm-control", NULL};
	if ((*s->vm)->AttachCurrentThreadAsDaemon(s->vm, (void **)&env, &aa) != JNI_OK) {
		agent__log("control thread cannot attach to the JVM; control port closed");
		close(s->fd);
		return NULL;
	}
	while (!agent__dying()) {
		struct pollfd p[CTL_CLIENTS + 1];
		int idx[CTL_CLIENTS + 1], n = 0;
		p[n] = (struct pollfd){.fd = s->fd, .events = POLLIN};
		idx[n++] = -1;
		for (int i = 0; i < CTL_CLIENTS; i++)
			if (s->c[i].fd >= 0) {
				p[n] = (struct pollfd){.fd = s->c[i].fd, .events = POLLIN};
				idx[n++] = i;
			}
		if (poll(p, (nfds_t)n, 100) <= 0)
			continue;
		for (int k = 0; k < n && !agent__dying(); k++) {
			if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (idx[k] < 0)
				on_accept(s);
			else
				on_readable(env, &s->c[idx[k]]);
		}
	}
	/* The JVM is going away: no more JNI; the process exit reclaims the rest. */
	return NULL;
}

int control__start(JavaVM *vm, int fd)
{
	struct server *s = calloc(1, sizeof(*s));
	pthread_t t;
	pthread_attr_t at;
	if (!s)
		return -1;
	s->vm = vm;
	s->fd = fd;
	for (int i = 0; i < CTL_CLIENTS; i++)
		s->c[i].fd = -1;
	if (pthread_attr_init(&at)) {
		free(s);
		return -1;
	}
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &at, server_main, s);
	pthread_attr_destroy(&at);
	if (rc) {
		free(s);
		return -1;
	}
	return 0;
}

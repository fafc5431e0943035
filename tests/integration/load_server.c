/* A small HTTP/1.1 server for the load generator's tests: single-threaded
 * epoll, each response held back by a timerfd for a precise, known delay.
 *
 *   load_server [--addr IPV4] [--delay-ms D] [--stall-after-ms A --stall-ms S]
 * prints "port N" on stdout once it listens on IPV4 (default 127.0.0.1; an
 * ephemeral port)
 * and serves until SIGTERM. Paths:
 *   /delay/MS      200 after MS milliseconds (other paths: after D)
 *   /status/CODE   that status at once       /chunked  a chunked 200
 *   /reset         connection reset (RST)    /close    closed without a response
 *   /hang          no response ever          /unlisten 200, then the port refuses
 *   /garbage       bytes that are not HTTP
 * With --stall-*, every response due within [A, A+S) ms after the first
 * request waits until the stall ends: the whole server stalls for S ms.
 * With --stats FILE, SIGTERM writes the server's own view of each response
 * (from the complete request head to the written response) to FILE as
 * "count N" and "pQ MS" lines (p50 p90 p99 p99.9 max), then exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAXC 65536

struct sconn {
	int fd;	    /* client socket */
	int tfd;    /* timerfd holding back the response, -1 when none */
	size_t len; /* bytes buffered */
	int status; /* response to send when the timer fires */
	int close_after;
	int chunked;
	long long t_req; /* when the request head was complete */
	char buf[8192];
};

static struct sconn *conns[MAXC];
static int ep, lfd = -1;
static double delay_ms, stall_after_ms = -1, stall_ms;
static long long first_ns = -1;
static double *samples; /* service times, ms */
static size_t nsamples, cap_samples;
static volatile sig_atomic_t stop_flag;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void drop(struct sconn *c)
{
	if (c->tfd >= 0) {
		conns[c->tfd] = NULL;
		close(c->tfd);
	}
	conns[c->fd] = NULL;
	close(c->fd);
	free(c);
}

static void respond(struct sconn *c)
{
	char out[512];
	int n;

	if (c->chunked)
		n = snprintf(out, sizeof(out),
			     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n%s\r\n"
			     "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n",
			     c->close_after ? "Connection: close\r\n" : "");
	else
		n = snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Length: 3\r\n%s\r\nok\n",
			     c->status, c->close_after ? "Connection: close\r\n" : "");
	if (write(c->fd, out, n) != n) {
		drop(c);
		return;
	}
	if (nsamples < cap_samples)
		samples[nsamples++] = (now_ns() - c->t_req) / 1e6;
	if (c->close_after)
		drop(c);
}

static void arm(struct sconn *c, double ms)
{
	long long due = now_ns() + (long long)(ms * 1e6), s0, s1;
	struct itimerspec its = {0};
	struct epoll_event ev = {.events = EPOLLIN};

	if (stall_after_ms >= 0) {
		s0 = first_ns + (long long)(stall_after_ms * 1e6);
		s1 = s0 + (long long)(stall_ms * 1e6);
		if (due >= s0 && due < s1)
			due = s1;
	}
	if (due <= now_ns()) {
		respond(c);
		return;
	}
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	its.it_value.tv_sec = due / 1000000000ll;
	its.it_value.tv_nsec = due % 1000000000ll;
	timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	conns[c->tfd] = c;
	ev.data.fd = c->tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->tfd, &ev);
}

/* A complete request head is in c->buf: decide what to do with it. */
static void handle(struct sconn *c, char *head)
{
	char path[256] = "/";
	struct linger lg = {1, 0};

	c->t_req = now_ns();
	sscanf(head, "%*s %255s", path);
	c->status = 200;
	c->chunked = 0;
	c->close_after = strstr(head, "Connection: close") != NULL;
	if (first_ns < 0)
		first_ns = now_ns();
	if (!strncmp(path, "/delay/", 7)) {
		arm(c, atof(path + 7));
	} else if (!strncmp(path, "/status/", 8)) {
		c->status = atoi(path + 8);
		respond(c);
	} else if (!strcmp(path, "/chunked")) {
		c->chunked = 1;
		respond(c);
	} else if (!strcmp(path, "/reset")) {
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		drop(c);
	} else if (!strcmp(path, "/close")) {
		drop(c);
	} else if (!strcmp(path, "/garbage")) {
		if (write(c->fd, "SSH-2.0-nope\r\n\r\n", 16) != 16)
			drop(c);
	} else if (!strcmp(path, "/hang")) {
		/* nothing */
	} else if (!strcmp(path, "/unlisten")) {
		if (lfd >= 0)
			close(lfd);
		lfd = -1;
		respond(c);
	} else {
		arm(c, delay_ms);
	}
}

static void on_read(struct sconn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
		char *end;

		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				drop(c);
			return;
		}
		c->len += n;
		c->buf[c->len] = '\0';
		end = strstr(c->buf, "\r\n\r\n");
		if (!end)
			continue;
		/* Bodies are small in these tests: whatever follows the head is dropped. */
		c->len = 0;
		if (c->tfd >= 0)
			return; /* one request at a time per connection */
		handle(c, c->buf);
		return;
	}
}

static void on_timer(struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->tfd, NULL);
	conns[c->tfd] = NULL;
	close(c->tfd);
	c->tfd = -1;
	respond(c);
}

static void on_accept(void)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int fd;

	while (lfd >= 0 && (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct sconn *c = calloc(1, sizeof(*c));

		if (!c || fd >= MAXC) {
			close(fd);
			free(c);
			continue;
		}
		c->fd = fd;
		c->tfd = -1;
		conns[fd] = c;
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static int listen_any(const char *addr)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1;

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len))
		return -1;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void write_stats(const char *path)
{
	static const double qs[] = {0.5, 0.9, 0.99, 0.999};
	static const char *const names[] = {"p50", "p90", "p99", "p999"};
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	qsort(samples, nsamples, sizeof(*samples), cmp_double);
	fprintf(f, "count %zu\n", nsamples);
	for (int i = 0; i < 4 && nsamples; i++) {
		size_t rank = (size_t)(qs[i] * nsamples + 0.999999);

		fprintf(f, "%s %.4f\n", names[i], samples[(rank ? rank : 1) - 1]);
	}
	if (nsamples)
		fprintf(f, "max %.4f\n", samples[nsamples - 1]);
	fclose(f);
}

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];
	const char *stats = NULL, *addr = "127.0.0.1";

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--delay-ms"))
			delay_ms = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--stall-after-ms"))
			stall_after_ms = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--stall-ms"))
			stall_ms = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--stats"))
			stats = argv[i + 1];
		else if (!strcmp(argv[i], "--addr"))
			addr = argv[i + 1];
	}
	cap_samples = 4000000;
	samples = malloc(cap_samples * sizeof(*samples));
	if (!samples)
		return 1;
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_TIMERSLACK, 1UL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || listen_any(addr)) {
		perror("load_server");
		return 1;
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		if (stop_flag) {
			if (stats)
				write_stats(stats);
			return 0;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct sconn *c = conns[fd];

			if (fd == lfd)
				on_accept();
			else if (c && c->tfd == fd)
				on_timer(c);
			else if (c)
				on_read(c);
		}
	}
}

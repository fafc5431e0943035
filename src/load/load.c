/* The run: checks the config, resolves and probes the target, renders the
 * requests, starts one event loop per thread, collects each second's figures
 * for the series and the callback, and merges everything at the end. */
#include "load/load.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "load/loop.h"

#define LOAD_PROBE_MS	2000	     /* the connect before the start waits this long */
#define LOAD_COLLECT_NS 150000000ull /* a second is collected this long after it ends */
#define LOAD_POLL_NS	100000000ull /* the stop flag is read this often */

static const char *const err_names[LOAD_ERR__COUNT] = {
    [LOAD_ERR_REFUSED] = "connect_refused",
    [LOAD_ERR_CONNECT] = "connect_other",
    [LOAD_ERR_TIMEOUT] = "timeout",
    [LOAD_ERR_RESET] = "reset",
    [LOAD_ERR_CLOSED] = "closed",
    [LOAD_ERR_PARSE] = "parse",
    [LOAD_ERR_HTTP_4XX] = "http_4xx",
    [LOAD_ERR_HTTP_5XX] = "http_5xx",
    [LOAD_ERR_OTHER] = "other",
};

struct run {
	const struct load_config *cfg; /* the caller's */
	struct load_shared sh;	       /* what every loop reads */
	struct load_thread *threads;   /* cfg->threads of them */
	unsigned nthreads;	       /* threads actually used */
	unsigned started;	       /* threads created */
};

enum load_err_kind load_err_kind_of(int err, bool connecting)
{
	switch (err) {
	case ECONNREFUSED:
		return LOAD_ERR_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return LOAD_ERR_RESET;
	case ETIMEDOUT:
		return LOAD_ERR_TIMEOUT;
	default:
		return connecting ? LOAD_ERR_CONNECT : LOAD_ERR_OTHER;
	}
}

const char *load_err_name(enum load_err_kind k)
{
	return k < LOAD_ERR__COUNT ? err_names[k] : "unknown";
}

void load_latency_from_hist(struct load_latency *l, const struct hist *h)
{
	memset(l, 0, sizeof(*l));
	if (!h->count)
		return;
	l->mean_ms = hist__mean(h) / 1e6;
	l->min_ms = (double)h->min / 1e6;
	l->p50_ms = (double)hist__quantile(h, 0.50) / 1e6;
	l->p90_ms = (double)hist__quantile(h, 0.90) / 1e6;
	l->p99_ms = (double)hist__quantile(h, 0.99) / 1e6;
	l->p999_ms = (double)hist__quantile(h, 0.999) / 1e6;
	l->p9999_ms = (double)hist__quantile(h, 0.9999) / 1e6;
	l->max_ms = (double)h->max / 1e6;
}

/* Writes the one-line reason into res and returns err. */
__attribute__((format(printf, 3, 4))) static int fail(struct load_result *res, int err,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
	return err;
}

static int check_config(const struct load_config *cfg, struct load_result *res)
{
	if (!cfg->uris || !cfg->nuris)
		return fail(res, -EINVAL, "no request to send");
	if (!cfg->host || !cfg->host[0] || !cfg->port)
		return fail(res, -EINVAL, "no target host");
	if (!cfg->threads || !cfg->connections)
		return fail(res, -EINVAL, "threads and connections must be at least 1");
	if (!cfg->duration_ns && !cfg->max_requests)
		return fail(res, -EINVAL, "give a duration or a request count");
	if (cfg->rate < 0 || !cfg->timeout_ns)
		return fail(res, -EINVAL, "rate must be >= 0 and the timeout > 0");
	return 0;
}

static int resolve(struct run *r, struct load_result *res)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int rc = getaddrinfo(r->cfg->host, r->cfg->port, &hints, &ai);

	if (rc)
		return fail(res, -ENOENT, "cannot resolve host '%s': %s", r->cfg->host,
			    gai_strerror(rc));
	memcpy(&r->sh.addr, ai->ai_addr, ai->ai_addrlen);
	r->sh.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* One connect before the start, so that a wrong port is one clear error
 * rather than a run full of refused connections. */
static int probe(struct run *r, struct load_result *res)
{
	struct pollfd p = {.events = POLLOUT};
	int err = 0, ret = 0;
	socklen_t len = sizeof(err);

	p.fd = socket(r->sh.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p.fd < 0)
		return fail(res, -errno, "socket: %s", strerror(errno));
	if (connect(p.fd, (struct sockaddr *)&r->sh.addr, r->sh.addrlen) && errno != EINPROGRESS)
		err = errno;
	else if (poll(&p, 1, LOAD_PROBE_MS) == 0)
		err = ETIMEDOUT;
	else
		getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err)
		ret = fail(res, -err, "cannot connect to %s port %s: %s", r->cfg->host,
			   r->cfg->port, strerror(err));
	close(p.fd);
	return ret;
}

static int render_all(struct run *r, struct load_result *res)
{
	const struct load_config *cfg = r->cfg;
	char host[LOAD_HOST_MAX + 16];
	bool v6 = strchr(cfg->host, ':') != NULL;
	uint32_t *w;
	int ret = 0;

	snprintf(host, sizeof(host), "%s%s%s%s%s", v6 ? "[" : "", cfg->host, v6 ? "]" : "",
		 strcmp(cfg->port, "80") ? ":" : "", strcmp(cfg->port, "80") ? cfg->port : "");
	r->sh.wire = calloc(cfg->nuris, sizeof(*r->sh.wire));
	r->sh.wire_len = calloc(cfg->nuris, sizeof(*r->sh.wire_len));
	w = calloc(cfg->nuris, sizeof(*w));
	if (!r->sh.wire || !r->sh.wire_len || !w)
		goto nomem;
	for (size_t i = 0; i < cfg->nuris; i++) {
		r->sh.wire[i] =
		    load_uri__render(&cfg->uris[i], host, cfg->keepalive, &r->sh.wire_len[i]);
		if (!r->sh.wire[i])
			goto nomem;
		w[i] = cfg->uris[i].weight ? cfg->uris[i].weight : 1;
	}
	if (load_mix__init(&r->sh.mix, w, cfg->nuris))
		goto nomem;
	goto cleanup;
nomem:
	ret = fail(res, -ENOMEM, "out of memory");
cleanup:
	free(w);
	return ret;
}

static int start_threads(struct run *r, struct load_result *res)
{
	int err;

	r->threads = calloc(r->nthreads, sizeof(*r->threads));
	if (!r->threads)
		return fail(res, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < r->nthreads; i++) {
		err = load_thread__init(&r->threads[i], &r->sh, i, r->nthreads);
		if (err)
			return fail(res, err, "cannot set up an event loop: %s", strerror(-err));
	}
	r->sh.start_ns = mono_ns() + 20000000ull; /* every loop starts at the same instant */
	r->sh.end_ns = r->cfg->duration_ns ? r->sh.start_ns + r->cfg->duration_ns : UINT64_MAX;
	for (; r->started < r->nthreads; r->started++) {
		err = pthread_create(&r->threads[r->started].tid, NULL, load_thread__main,
				     &r->threads[r->started]);
		if (err) {
			atomic_store(&r->sh.stop, 1);
			return fail(res, -err, "cannot start a thread: %s", strerror(err));
		}
	}
	return 0;
}

static bool all_finished(const struct run *r)
{
	for (unsigned i = 0; i < r->nthreads; i++)
		if (!atomic_load(&r->threads[i].finished))
			return false;
	return true;
}

static int series_push(struct load_result *res, const struct load_second *s)
{
	if (!(res->nseries & (res->nseries + 1)) || !res->series) { /* grow at 2^k - 1 */
		size_t cap = (res->nseries + 1) * 2;
		struct load_second *v = realloc(res->series, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		res->series = v;
	}
	res->series[res->nseries++] = *s;
	return 0;
}

/* Turns one collected interval into a series entry. */
static void second_fill(const struct run *r, struct load_second *s, const struct load_sec_acc *a,
			unsigned sec, double span, const struct load_result *res)
{
	double elapsed = sec + span;

	memset(s, 0, sizeof(*s));
	s->second = sec;
	s->span_s = span;
	s->elapsed_s = elapsed;
	s->remaining_s = r->cfg->duration_ns ? (double)r->cfg->duration_ns / 1e9 - elapsed : -1;
	if (r->cfg->duration_ns && s->remaining_s < 0)
		s->remaining_s = 0;
	s->requests = a->requests;
	for (int k = 0; k < LOAD_ERR__COUNT; k++) {
		s->errors_by_kind[k] = a->errors[k];
		s->errors += a->errors[k];
	}
	s->rps = span > 0 ? (double)a->requests / span : 0;
	load_latency_from_hist(&s->latency, &a->hist);
	s->total_requests =
	    (res->nseries ? res->series[res->nseries - 1].total_requests : 0) + s->requests;
	s->total_errors =
	    (res->nseries ? res->series[res->nseries - 1].total_errors : 0) + s->errors;
}

static void collect(struct run *r, struct load_sec_acc *acc)
{
	load_sec_acc__reset(acc);
	for (unsigned i = 0; i < r->nthreads; i++)
		load_thread__collect(&r->threads[i], acc);
}

/* Waits until `until` or until every loop has finished; honours *cfg->stop. */
static bool sleep_until(struct run *r, uint64_t until)
{
	for (;;) {
		uint64_t now = mono_ns(),
			 step = now + LOAD_POLL_NS < until ? now + LOAD_POLL_NS : until;
		struct timespec ts = {(time_t)(step / 1000000000ull), (long)(step % 1000000000ull)};

		if (r->cfg->stop && *r->cfg->stop)
			atomic_store(&r->sh.stop, 1);
		if (all_finished(r))
			return false;
		if (now >= until)
			return true;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

/* The caller's thread during the run: one series entry and callback a second. */
static int coordinate(struct run *r, struct load_result *res, struct load_sec_acc *acc)
{
	struct load_second s;

	for (unsigned sec = 0;; sec++) {
		if (!sleep_until(r, r->sh.start_ns + (sec + 1) * 1000000000ull + LOAD_COLLECT_NS))
			return 0;
		collect(r, acc);
		second_fill(r, &s, acc, sec, 1.0, res);
		if (series_push(res, &s))
			return fail(res, -ENOMEM, "out of memory");
		s.hist = &acc->hist;
		if (r->cfg->on_second && r->cfg->on_second(&s, r->cfg->ctx)) {
			res->stopped = true;
			atomic_store(&r->sh.stop, 1);
		}
	}
}

/* After the join: what the loops published after the last full second
 * (the last second of a timed run, or a partial one with its own span). */
static int collect_tail(struct run *r, struct load_result *res, struct load_sec_acc *acc)
{
	struct load_second s;
	unsigned sec = (unsigned)res->nseries;
	double span = res->duration_s - sec;
	bool any;

	collect(r, acc);
	any = acc->requests != 0;
	for (int k = 0; k < LOAD_ERR__COUNT; k++)
		any |= acc->errors[k] != 0;
	if (!any && span < 0.5)
		return 0;
	second_fill(r, &s, acc, sec, span > 0 ? span : 0, res);
	if (r->cfg->on_second && !res->stopped) {
		s.hist = &acc->hist;
		r->cfg->on_second(&s, r->cfg->ctx);
		s.hist = NULL;
	}
	return series_push(res, &s);
}

static int merge_results(struct run *r, struct load_result *res)
{
	uint64_t end = r->sh.start_ns;

	res->nuris = r->cfg->nuris;
	res->per_uri = calloc(res->nuris, sizeof(*res->per_uri));
	res->hist = malloc(sizeof(*res->hist));
	if (!res->per_uri || !res->hist)
		return -ENOMEM;
	hist__reset(res->hist);
	for (size_t i = 0; i < res->nuris; i++) {
		struct load_uri_result *u = &res->per_uri[i];

		u->uri = &r->cfg->uris[i];
		if (!(u->hist = malloc(sizeof(*u->hist))))
			return -ENOMEM;
		hist__reset(u->hist);
		for (unsigned t = 0; t < r->nthreads; t++) {
			const struct load_uri_stats *st = &r->threads[t].uri[i];

			u->requests += st->requests;
			for (int k = 0; k < LOAD_ERR__COUNT; k++)
				u->errors_by_kind[k] += st->errors[k];
			hist__merge(u->hist, &st->hist);
		}
		for (int k = 0; k < LOAD_ERR__COUNT; k++) {
			u->errors += u->errors_by_kind[k];
			res->errors_by_kind[k] += u->errors_by_kind[k];
		}
		load_latency_from_hist(&u->latency, u->hist);
		hist__merge(res->hist, u->hist);
		res->requests += u->requests;
		res->errors += u->errors;
	}
	for (unsigned t = 0; t < r->nthreads; t++) {
		res->unfinished += r->threads[t].unfinished;
		res->bytes_read += r->threads[t].bytes_read;
		if (r->threads[t].end_ns > end)
			end = r->threads[t].end_ns;
	}
	res->duration_s = (double)(end - r->sh.start_ns) / 1e9;
	res->rps = res->duration_s > 0 ? (double)res->requests / res->duration_s : 0;
	load_latency_from_hist(&res->latency, res->hist);
	return 0;
}

static void run_free(struct run *r)
{
	for (unsigned i = 0; r->threads && i < r->nthreads; i++)
		load_thread__free(&r->threads[i]);
	free(r->threads);
	for (size_t i = 0; r->sh.wire && i < r->cfg->nuris; i++)
		free(r->sh.wire[i]);
	free(r->sh.wire);
	free(r->sh.wire_len);
	load_mix__free(&r->sh.mix);
}

int load_run(const struct load_config *cfg, struct load_result *res)
{
	struct run r = {.cfg = cfg};
	struct load_sec_acc *acc = NULL;
	int ret, err;

	memset(res, 0, sizeof(*res));
	r.sh.cfg = cfg;
	ret = check_config(cfg, res);
	if (!ret)
		ret = resolve(&r, res);
	if (!ret)
		ret = probe(&r, res);
	if (!ret)
		ret = render_all(&r, res);
	if (ret)
		goto cleanup;
	acc = malloc(sizeof(*acc));
	if (!acc) {
		ret = fail(res, -ENOMEM, "out of memory");
		goto cleanup;
	}
	r.nthreads = cfg->threads < cfg->connections ? cfg->threads : cfg->connections;
	ret = start_threads(&r, res);
	if (!ret)
		ret = coordinate(&r, res, acc);
	if (ret)
		atomic_store(&r.sh.stop, 1);
	for (unsigned i = 0; i < r.started; i++)
		pthread_join(r.threads[i].tid, NULL);
	for (unsigned i = 0; !ret && i < r.nthreads; i++)
		if ((err = r.threads[i].err))
			ret = fail(res, err, "event loop failed: %s", strerror(-err));
	if (!ret && merge_results(&r, res))
		ret = fail(res, -ENOMEM, "out of memory");
	if (!ret)
		ret = collect_tail(&r, res, acc);
	if (!ret && cfg->stop && *cfg->stop)
		res->stopped = true;
cleanup:
	free(acc);
	run_free(&r);
	return ret;
}

void load_result__free(struct load_result *res)
{
	for (size_t i = 0; res->per_uri && i < res->nuris; i++)
		free(res->per_uri[i].hist);
	free(res->per_uri);
	free(res->hist);
	free(res->series);
	res->per_uri = NULL;
	res->hist = NULL;
	res->series = NULL;
	res->nuris = res->nseries = 0;
}

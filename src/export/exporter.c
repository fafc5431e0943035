/* The OTLP exporter's queue and thread (see exporter.h). One libcurl easy
 * handle, reused so the connection stays open between requests. */
#include "export/exporter.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <uthash.h>

#include "common/clock.h"
#include "common/log.h"
#include "export/otlp.h"
#include "version.h"

#define RESPONSE_MAX (64u << 10) /* what is kept of an answer's body */

/* A queued trajectory: in arrival order, and by id so that a newer version
 * can take its place. */
struct exp_item {
	struct exp_item *prev, *next;
	struct otlp_traj *q;
	uint64_t id;	      /* the trajectory's */
	uint64_t queued_mono; /* when it entered the queue, for batch_wait_ns */
	UT_hash_handle hh;
};

struct exporter {
	struct exporter_opts opts;
	pthread_t thread;
	bool started;
	bool curl_global; /* curl_global_init succeeded: cleaned up at stop */

	/* the server's thread only */
	struct otlp_traj *staged, **staged_tail;
	uint64_t staged_spans;	 /* in staged */
	uint64_t staged_dropped; /* spans not staged: the queue was full */
	uint64_t room;		 /* spans the queue had room for at the last look (atomic):
				    a trajectory that cannot fit is not even copied */

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t wake;  /* the queue grew, or stop */
	struct exp_item *head, *tail;
	struct exp_item *by_id;
	bool stopping;
	uint64_t deadline_mono; /* once stopping: when to give up */
	struct exporter_stats st;

	/* the exporter's thread only */
	CURL *curl;
	struct curl_slist *headers;
	char *resp;
	size_t resp_len;
	uint64_t retry_after_ns; /* from the last answer's Retry-After */
};

void exporter_opts_defaults(struct exporter_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->queue_spans = 10000;
	o->queue_bytes = 64u << 20;
	o->batch_spans = 512;
	o->batch_wait_ns = 1000000000ull;
	o->timeout_ns = 10000000000ull;
	o->retries = 5;
	o->backoff_ns = 500000000ull;
	o->backoff_max_ns = 30000000000ull;
	o->flush_ns = 5000000000ull;
}

/* ---- the queue (under lock) ------------------------------------------------------------------ */

static void item_free(struct exp_item *it)
{
	if (it) {
		free(it->q);
		free(it);
	}
}

static void queue_unlink(struct exporter *x, struct exp_item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		x->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		x->tail = it->prev;
	HASH_DEL(x->by_id, it);
	x->st.queue_spans -= (uint64_t)it->q->nout;
	x->st.queue_bytes -= it->q->bytes;
}

/* it takes old's place in the queue (and its age, so it is not sent later
 * than the version it replaces). */
static void queue_replace(struct exporter *x, struct exp_item *old, struct exp_item *it)
{
	it->prev = old->prev;
	it->next = old->next;
	it->queued_mono = old->queued_mono;
	if (it->prev)
		it->prev->next = it;
	else
		x->head = it;
	if (it->next)
		it->next->prev = it;
	else
		x->tail = it;
	HASH_DEL(x->by_id, old);
	HASH_ADD(hh, x->by_id, id, sizeof(it->id), it);
	x->st.queue_spans += (uint64_t)it->q->nout - (uint64_t)old->q->nout;
	x->st.queue_bytes += it->q->bytes - old->q->bytes;
	x->st.superseded += (uint64_t)old->q->nout;
	item_free(old);
}

static void queue_append(struct exporter *x, struct exp_item *it)
{
	it->prev = x->tail;
	it->next = NULL;
	if (x->tail)
		x->tail->next = it;
	else
		x->head = it;
	x->tail = it;
	HASH_ADD(hh, x->by_id, id, sizeof(it->id), it);
	x->st.queue_spans += (uint64_t)it->q->nout;
	x->st.queue_bytes += it->q->bytes;
}

/* Queues q unless it does not fit; takes q either way. */
static void queue_offer(struct exporter *x, struct otlp_traj *q, uint64_t now)
{
	struct exp_item *it = calloc(1, sizeof(*it)), *old;
	uint64_t spans = x->st.queue_spans, bytes = x->st.queue_bytes;

	if (!it) {
		x->st.dropped += (uint64_t)q->nout;
		free(q);
		return;
	}
	it->q = q;
	it->id = q->t.id;
	it->queued_mono = now;
	HASH_FIND(hh, x->by_id, &it->id, sizeof(it->id), old);
	if (old) { /* what the newer version needs beyond the older one */
		spans -= (uint64_t)old->q->nout;
		bytes -= old->q->bytes;
	}
	if (spans + (uint64_t)q->nout > x->opts.queue_spans ||
	    bytes + q->bytes > x->opts.queue_bytes) {
		x->st.dropped += (uint64_t)q->nout;
		item_free(it);
		return;
	}
	x->st.queued += (uint64_t)q->nout;
	if (old)
		queue_replace(x, old, it);
	else
		queue_append(x, it);
}

/* Publishes the room left for the server's thread, which reads it without the lock. */
static void room_update(struct exporter *x)
{
	uint64_t used = x->st.queue_spans, cap = x->opts.queue_spans;

	__atomic_store_n(&x->room, used < cap ? cap - used : 0, __ATOMIC_RELAXED);
}

static bool queue_full(const struct exporter *x)
{
	/* full enough that the next trajectory of a few spans would be dropped */
	return x->st.queue_spans + x->opts.batch_spans / 8 >= x->opts.queue_spans ||
	       x->st.queue_bytes + (x->opts.queue_bytes >> 6) >= x->opts.queue_bytes;
}

/* ---- the server's thread ------------------------------------------------------------------ */

void exporter__stage(struct exporter *x, const struct weft_trajectory *t,
		     const struct svc_table *svcs)
{
	uint64_t n = (uint64_t)otlp_span_count(t);
	struct otlp_traj *q;

	if (!n)
		return;
	if (x->staged_spans + n > __atomic_load_n(&x->room, __ATOMIC_RELAXED)) {
		x->staged_dropped += n; /* it would be dropped at the commit: no copy */
		return;
	}
	q = otlp_traj_copy(t, svcs);
	if (!q) {
		x->staged_dropped += n;
		return;
	}
	*x->staged_tail = q;
	x->staged_tail = &q->next;
	x->staged_spans += n;
}

void exporter__commit(struct exporter *x)
{
	struct otlp_traj *q = x->staged, *next;
	uint64_t now = mono_ns();

	if (!q && !x->staged_dropped)
		return;
	x->staged = NULL;
	x->staged_tail = &x->staged;
	x->staged_spans = 0;
	pthread_mutex_lock(&x->lock);
	x->st.dropped += x->staged_dropped;
	x->staged_dropped = 0;
	for (; q; q = next) {
		next = q->next;
		q->next = NULL;
		queue_offer(x, q, now);
	}
	room_update(x);
	if (x->st.queue_spans >= x->opts.batch_spans)
		pthread_cond_signal(&x->wake);
	pthread_mutex_unlock(&x->lock);
}

void exporter__discard(struct exporter *x)
{
	struct otlp_traj *q = x->staged, *next;

	for (; q; q = next) {
		next = q->next;
		free(q);
	}
	x->staged = NULL;
	x->staged_tail = &x->staged;
	x->staged_spans = 0;
	x->staged_dropped = 0; /* they come back with the batches sent again */
}

bool exporter_own_request(const struct weft_trajectory *t, uint32_t pid)
{
	const struct weft_side *c = t->nspans ? &t->spans[0].client : NULL;

	return c && c->observed && c->pid == pid && !strcmp(c->comm, EXPORTER_THREAD_NAME);
}

void exporter__stats(struct exporter *x, struct exporter_stats *out)
{
	pthread_mutex_lock(&x->lock);
	*out = x->st;
	pthread_mutex_unlock(&x->lock);
}

/* ---- requests (the exporter's thread) ----------------------------------------------------------
 */

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct exporter *x = ctx;
	size_t len = size * n, keep = len;

	if (x->resp_len + keep > RESPONSE_MAX)
		keep = RESPONSE_MAX - x->resp_len;
	if (keep) {
		char *r = realloc(x->resp, x->resp_len + keep + 1);

		if (!r)
			return 0;
		memcpy(r + x->resp_len, p, keep);
		x->resp_len += keep;
		r[x->resp_len] = '\0';
		x->resp = r;
	}
	return len;
}

/* Retry-After in seconds (the HTTP-date form is not used by receivers). */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct exporter *x = ctx;
	size_t len = size * n;
	char buf[32];

	if (len > 12 && len < 12 + sizeof(buf) && !strncasecmp(p, "retry-after:", 12)) {
		unsigned long s;

		memcpy(buf, p + 12, len - 12);
		buf[len - 12] = '\0';
		if (sscanf(buf, " %lu", &s) == 1)
			x->retry_after_ns = (uint64_t)(s < 3600 ? s : 3600) * 1000000000ull;
	}
	return len;
}

/* Aborts a request in flight once the stop deadline has passed. */
static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct exporter *x = ctx;
	bool late;

	(void)dt, (void)dn, (void)ut, (void)un;
	pthread_mutex_lock(&x->lock);
	late = x->stopping && mono_ns() >= x->deadline_mono;
	pthread_mutex_unlock(&x->lock);
	return late;
}

static int curl_setup(struct exporter *x)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL, *n;
	const char *fixed[] = {"Content-Type: application/json", "Expect:"};

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) + EXPORTER_HEADERS_MAX; i++) {
		const char *v = i < 2 ? fixed[i] : x->opts.headers[i - 2];

		if (!v)
			continue;
		n = curl_slist_append(h, v);
		if (!n) {
			curl_slist_free_all(h);
			curl_easy_cleanup(c);
			return -ENOMEM;
		}
		h = n;
	}
	curl_easy_setopt(c, CURLOPT_URL, x->opts.url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "weft/" WEFT_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a threaded process */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(x->opts.timeout_ns / 1000000));
	curl_easy_setopt(
	    c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(x->opts.timeout_ns / 1000000 < 5000 ? x->opts.timeout_ns / 1000000 : 5000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	x->curl = c;
	x->headers = h;
	return 0;
}

/* Spans the receiver rejected in a partial success answer, 0 if none. */
static uint64_t rejected_spans(const char *body)
{
	json_object *doc = body ? json_tokener_parse(body) : NULL, *ps, *v;
	uint64_t n = 0;

	if (doc && json_object_object_get_ex(doc, "partialSuccess", &ps) &&
	    json_object_object_get_ex(ps, "rejectedSpans", &v))
		n = (uint64_t)json_object_get_int64(v); /* a string or a number */
	json_object_put(doc);
	return n;
}

enum post_result {
	POST_OK,
	POST_RETRY, /* 429, 5xx, no connection, timeout */
	POST_REFUSED,
};

/* One POST; why it failed into x->st.last_error. */
static enum post_result post(struct exporter *x, const char *body, size_t len, uint64_t nspans)
{
	long status = 0;
	CURLcode rc;
	char why[160];

	x->resp_len = 0;
	x->retry_after_ns = 0;
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(x->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		uint64_t rej = x->resp_len ? rejected_spans(x->resp) : 0;

		if (rej > nspans)
			rej = nspans;
		pthread_mutex_lock(&x->lock);
		x->st.requests++;
		x->st.sent += nspans - rej;
		x->st.rejected += rej;
		x->st.last_success_ns = wall_ns();
		pthread_mutex_unlock(&x->lock);
		if (rej)
			log_warn_ratelimited("otlp: the receiver rejected %llu of %llu spans",
					     (unsigned long long)rej, (unsigned long long)nspans);
		return POST_OK;
	}
	if (rc != CURLE_OK)
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(rc));
	else
		snprintf(why, sizeof(why), "HTTP %ld%s%.100s", status, x->resp_len ? ": " : "",
			 x->resp_len ? x->resp : "");
	pthread_mutex_lock(&x->lock);
	x->st.requests++;
	x->st.request_failures++;
	snprintf(x->st.last_error, sizeof(x->st.last_error), "%s", why);
	pthread_mutex_unlock(&x->lock);
	log_warn_ratelimited("otlp: sending to %s failed: %s", x->opts.url, why);
	if (rc != CURLE_OK)
		return rc == CURLE_ABORTED_BY_CALLBACK ? POST_REFUSED : POST_RETRY;
	return status == 429 || status >= 500 ? POST_RETRY : POST_REFUSED;
}

/* Waits until mono time `until`, or less when stopping makes it pointless.
 * Returns false when the stop deadline has passed. Called under lock. */
static bool backoff_wait(struct exporter *x, uint64_t until)
{
	for (;;) {
		uint64_t now = mono_ns(), end = until;
		struct timespec ts;

		if (x->stopping && now >= x->deadline_mono)
			return false;
		if (x->stopping && x->deadline_mono < end)
			end = x->deadline_mono;
		if (now >= end)
			return !x->stopping || now < x->deadline_mono;
		ts.tv_sec = (time_t)(end / 1000000000ull);
		ts.tv_nsec = (long)(end % 1000000000ull);
		pthread_cond_timedwait(&x->wake, &x->lock, &ts);
	}
}

/* Sends one batch, retrying what may succeed later. */
static void send_batch(struct exporter *x, const struct otlp_traj *list, uint64_t nspans)
{
	uint64_t wait = x->opts.backoff_ns;
	size_t len = 0;
	char *body = otlp_encode(list, 0, &len);

	if (!body) {
		pthread_mutex_lock(&x->lock);
		x->st.failed += nspans;
		snprintf(x->st.last_error, sizeof(x->st.last_error), "out of memory");
		pthread_mutex_unlock(&x->lock);
		return;
	}
	for (uint64_t attempt = 0;; attempt++) {
		enum post_result r = post(x, body, len, nspans);
		bool again;

		if (r == POST_OK)
			break;
		pthread_mutex_lock(&x->lock);
		/* retry while the queue has room; once it is full, a bounded number of times */
		again = r == POST_RETRY && (!queue_full(x) || attempt < x->opts.retries);
		if (again) {
			uint64_t w = x->retry_after_ns > wait ? x->retry_after_ns : wait;

			if (w > x->opts.backoff_max_ns)
				w = x->opts.backoff_max_ns;
			again = backoff_wait(x, mono_ns() + w);
			wait =
			    wait * 2 < x->opts.backoff_max_ns ? wait * 2 : x->opts.backoff_max_ns;
		}
		if (again) {
			x->st.retries++;
		} else {
			x->st.failed += nspans;
		}
		pthread_mutex_unlock(&x->lock);
		if (!again)
			break;
	}
	free(body);
}

/* ---- the thread ------------------------------------------------------------------------------ */

static bool batch_ready(const struct exporter *x, uint64_t now)
{
	if (!x->head)
		return false;
	return x->stopping || x->st.queue_spans >= x->opts.batch_spans ||
	       now - x->head->queued_mono >= x->opts.batch_wait_ns;
}

/* Takes up to batch_spans spans' worth of whole trajectories off the
 * queue (at least one), linked by next. Called under lock. */
static struct otlp_traj *batch_take(struct exporter *x, uint64_t *nspans)
{
	struct otlp_traj *list = NULL, **tail = &list;

	*nspans = 0;
	while (x->head &&
	       (!*nspans || *nspans + (uint64_t)x->head->q->nout <= x->opts.batch_spans)) {
		struct exp_item *it = x->head;

		queue_unlink(x, it);
		*nspans += (uint64_t)it->q->nout;
		*tail = it->q;
		tail = &it->q->next;
		it->q->next = NULL;
		free(it);
	}
	return list;
}

static void wait_for_batch(struct exporter *x)
{
	for (;;) {
		uint64_t now = mono_ns(), until;
		struct timespec ts;

		if (batch_ready(x, now) || (x->stopping && !x->head))
			return;
		until =
		    x->head ? x->head->queued_mono + x->opts.batch_wait_ns : now + 1000000000ull;
		ts.tv_sec = (time_t)(until / 1000000000ull);
		ts.tv_nsec = (long)(until % 1000000000ull);
		pthread_cond_timedwait(&x->wake, &x->lock, &ts);
	}
}

static void *exporter_main(void *arg)
{
	struct exporter *x = arg;

	pthread_setname_np(pthread_self(), EXPORTER_THREAD_NAME);
	pthread_mutex_lock(&x->lock);
	for (;;) {
		struct otlp_traj *list, *next;
		uint64_t nspans;

		wait_for_batch(x);
		if (!x->head || (x->stopping && mono_ns() >= x->deadline_mono))
			break;
		list = batch_take(x, &nspans);
		room_update(x);
		pthread_mutex_unlock(&x->lock);
		send_batch(x, list, nspans);
		for (; list; list = next) {
			next = list->next;
			free(list);
		}
		pthread_mutex_lock(&x->lock);
	}
	pthread_mutex_unlock(&x->lock);
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

struct exporter *exporter__start(const struct exporter_opts *opts)
{
	struct exporter *x = calloc(1, sizeof(*x));
	pthread_condattr_t ca;
	int err;

	if (!x) {
		errno = ENOMEM;
		return NULL;
	}
	x->opts = *opts;
	x->st.queue_capacity = opts->queue_spans;
	x->room = opts->queue_spans;
	x->staged_tail = &x->staged;
	pthread_mutex_init(&x->lock, NULL);
	/* monotonic waits: a step of the wall clock must not stall or rush a batch */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->wake, &ca);
	pthread_condattr_destroy(&ca);
	err = curl_global_init(CURL_GLOBAL_DEFAULT) ? -EIO : 0;
	x->curl_global = !err;
	if (!err)
		err = curl_setup(x);
	if (!err)
		err = -pthread_create(&x->thread, NULL, exporter_main, x);
	if (err) {
		log_error("otlp: cannot start the exporter: %s", strerror(-err));
		exporter__stop(x);
		errno = -err;
		return NULL;
	}
	x->started = true;
	log_info("otlp: exporting trajectories to %s", opts->url);
	return x;
}

void exporter__stop(struct exporter *x)
{
	struct exp_item *it, *next;

	if (!x)
		return;
	exporter__discard(x);
	if (x->started) {
		pthread_mutex_lock(&x->lock);
		x->stopping = true;
		x->deadline_mono = mono_ns() + x->opts.flush_ns;
		pthread_cond_signal(&x->wake);
		pthread_mutex_unlock(&x->lock);
		pthread_join(x->thread, NULL);
	}
	for (it = x->head; it; it = next) { /* what the deadline left: given up on */
		next = it->next;
		x->st.failed += (uint64_t)it->q->nout;
		x->st.queue_spans -= (uint64_t)it->q->nout;
		x->st.queue_bytes -= it->q->bytes;
		HASH_DEL(x->by_id, it);
		item_free(it);
	}
	if (x->started)
		log_info("otlp: %llu spans queued: %llu sent, %llu failed, %llu rejected, %llu "
			 "superseded; %llu dropped (queue full)",
			 (unsigned long long)x->st.queued, (unsigned long long)x->st.sent,
			 (unsigned long long)x->st.failed, (unsigned long long)x->st.rejected,
			 (unsigned long long)x->st.superseded, (unsigned long long)x->st.dropped);
	if (x->curl)
		curl_easy_cleanup(x->curl);
	curl_slist_free_all(x->headers);
	if (x->curl_global)
		curl_global_cleanup();
	free(x->resp);
	pthread_cond_destroy(&x->wake);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

#include "sensor/ring_reader.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

/* One ring as the kernel lays it out for mmap: a page with the consumer's
 * position (ours to write), a page with the producer's, then the data,
 * mapped twice in a row so that a record that wraps reads contiguously. */
struct ring {
	unsigned long *consumer;
	const unsigned long *producer;
	const unsigned char *data;
	size_t mask;
	unsigned long pos, prod; /* during a read */
};

struct ring_reader {
	struct ring *rings;
	int *live; /* during a read: the rings that may hold more */
	int n;
	size_t size, page;
	int epfd;
};

void ring_reader__free(struct ring_reader *r)
{
	if (!r)
		return;
	for (int i = 0; r->rings && i < r->n; i++) {
		if (r->rings[i].consumer)
			munmap(r->rings[i].consumer, r->page);
		if (r->rings[i].producer)
			munmap((void *)r->rings[i].producer, r->page + 2 * r->size);
	}
	free(r->rings);
	free(r->live);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r);
}

struct ring_reader *ring_reader__new(const int *fds, int n, size_t size)
{
	struct ring_reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->rings = calloc(n, sizeof(*r->rings));
	r->live = calloc(n, sizeof(*r->live));
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	if (r->epfd < 0 || !r->rings || !r->live)
		goto fail;
	r->n = n;
	r->size = size;
	for (int i = 0; i < n; i++) {
		struct ring *g = &r->rings[i];
		/* Edge-triggered: a ring is reported when the kernel wakes its
		 * reader (a backlog built up), not for as long as it holds data.
		 * It always holds some (events younger than the merge hold), so
		 * level-triggered, one wake-up would make every later wait return
		 * at once and the reader spin. */
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
		void *p;

		p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
		if (p == MAP_FAILED)
			goto fail;
		g->consumer = p;
		p = mmap(NULL, r->page + 2 * size, PROT_READ, MAP_SHARED, fds[i], r->page);
		if (p == MAP_FAILED)
			goto fail;
		g->producer = p;
		g->data = (const unsigned char *)p + r->page;
		g->mask = size - 1;
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fds[i], &ev))
			goto fail;
	}
	return r;
fail:
	err = errno;
	ring_reader__free(r);
	errno = err;
	return NULL;
}

int ring_reader__wait(struct ring_reader *r, int timeout_ms)
{
	struct epoll_event ev[8];

	if (epoll_wait(r->epfd, ev, 8, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* The next committed event of ring g, skipping discarded records; NULL when
 * the ring holds nothing more (or its next record is still being written).
 * *rec is the record's size in the ring. */
static const struct weft_event *ring_peek(struct ring *g, uint32_t *rec)
{
	while (g->pos < g->prod) {
		const uint32_t *hdr = (const uint32_t *)(g->data + (g->pos & g->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		const struct weft_event *e = (const void *)(hdr + 2);

		if (len & BPF_RINGBUF_BUSY_BIT)
			return NULL;
		*rec = ((len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
		if (!(len & BPF_RINGBUF_DISCARD_BIT) && len >= sizeof(*e) &&
		    len >= sizeof(*e) + e->payload_len)
			return e;
		/* Discarded, or not an event (cannot happen): skipped. */
		g->pos += *rec;
		__atomic_store_n(g->consumer, g->pos, __ATOMIC_RELEASE);
	}
	return NULL;
}

int ring_reader__read(struct ring_reader *r, uint64_t before, ring_event_fn fn, void *ctx)
{
	int count = 0, nlive = 0;

	for (int i = 0; i < r->n; i++) {
		struct ring *g = &r->rings[i];

		g->pos = __atomic_load_n(g->consumer, __ATOMIC_ACQUIRE);
		g->prod = __atomic_load_n(g->producer, __ATOMIC_ACQUIRE);
		if (g->pos < g->prod)
			r->live[nlive++] = i;
	}
	for (;;) {
		const struct weft_event *best = NULL;
		uint32_t best_rec = 0, rec;
		struct ring *from = NULL;

		/* The oldest head among the rings that hold events: a linear
		 * scan, their heads being in cache. */
		for (int k = 0; k < nlive; k++) {
			struct ring *g = &r->rings[r->live[k]];
			const struct weft_event *e = ring_peek(g, &rec);

			if (!e) {
				r->live[k--] = r->live[--nlive];
				continue;
			}
			if (!best || e->ts_ns < best->ts_ns)
				best = e, best_rec = rec, from = g;
		}
		if (!best || best->ts_ns >= before)
			return count;
		fn(best, ctx);
		count++;
		from->pos += best_rec;
		/* Released at once: the kernel can reuse the space. */
		__atomic_store_n(from->consumer, from->pos, __ATOMIC_RELEASE);
	}
}

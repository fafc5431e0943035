/* One event loop of a run: a thread with its own epoll instance, its share
 * of the connections (users), its counters and histograms. Threads share
 * nothing but the read-only struct load_shared and their outbox, through
 * which the coordinator (load.c) collects each second's figures. */
#ifndef WEFT_LOAD_LOOP_H
#define WEFT_LOAD_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "load/load.h"

struct load_shared {
	const struct load_config *cfg; /* the caller's; borrowed */
	struct sockaddr_storage addr;  /* resolved target */
	socklen_t addrlen;	       /* its length */
	char **wire;		       /* rendered request per URI; owned by load.c */
	size_t *wire_len;	       /* their lengths */
	struct load_mix mix;	       /* weighted choice among the URIs */
	uint64_t start_ns;	       /* CLOCK_MONOTONIC start, the same for all threads */
	uint64_t end_ns;	       /* planned end, UINT64_MAX when bounded by count */
	atomic_int stop;	       /* set by the coordinator: every loop ends */
};

/* Figures of one interval (a second), merged across threads by the coordinator. */
struct load_sec_acc {
	uint64_t requests;		  /* successful responses */
	uint64_t errors[LOAD_ERR__COUNT]; /* failures by kind */
	struct hist hist;		  /* latencies of the successful ones, ns */
};

struct load_uri_stats {
	uint64_t requests;		  /* successful responses */
	uint64_t errors[LOAD_ERR__COUNT]; /* failures by kind */
	struct hist hist;		  /* latencies, ns */
};

struct loop;

struct load_thread {
	struct load_shared *sh;	    /* borrowed */
	unsigned id;		    /* 0..threads-1 */
	pthread_t tid;		    /* set by load.c */
	pthread_mutex_t lock;	    /* guards outbox */
	struct load_sec_acc outbox; /* seconds published, not yet collected */
	struct load_uri_stats *uri; /* per URI, read after the join; owned */
	uint64_t unfinished;	    /* in flight or queued at the end */
	uint64_t bytes_read;	    /* response bytes */
	uint64_t end_ns;	    /* when this loop ended */
	atomic_bool finished;	    /* the loop has ended (its last second is published) */
	int err;		    /* negative errno when the loop could not run */
	struct loop *loop;	    /* the loop's private state; owned */
};

/* Prepares thread `id` of `nthreads` (its share of users or of the rate).
 * Returns 0 or -ENOMEM/-errno; load_thread__free is safe either way. */
int load_thread__init(struct load_thread *t, struct load_shared *sh, unsigned id,
		      unsigned nthreads);
/* The thread's body (pthread start routine); argument: the load_thread. */
void *load_thread__main(void *arg);
/* Moves what the thread has published so far into acc (merging) and
 * empties its outbox. Safe while the thread runs. */
void load_thread__collect(struct load_thread *t, struct load_sec_acc *acc);
void load_thread__free(struct load_thread *t);

/* Merges src into dst. */
void load_sec_acc__merge(struct load_sec_acc *dst, const struct load_sec_acc *src);
void load_sec_acc__reset(struct load_sec_acc *a);

#endif

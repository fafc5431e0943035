/* Batches not yet acknowledged by the server: in memory for sending, and in
 * files for surviving a sensor restart once the server is slow to take them.
 * A connected server acknowledges a batch within milliseconds, so writing
 * each one to disk first would cost more than the rest of the sensor's work;
 * files are written for batches older than the caller's grace, for all of
 * them while the server is away, and at close. Bounded in bytes; a full
 * spool refuses new batches, and the caller counts what it dropped. */
#ifndef WEFT_SPOOL_H
#define WEFT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_entry {
	uint64_t seq;
	uint8_t *frame; /* the whole BATCH frame, header included */
	size_t len;
	uint64_t born_ns; /* when pushed (monotonic) */
	int on_disk;	  /* its file exists */
	struct spool_entry *next;
};

/* Opens dir (created if needed) and takes in the batches a previous run
 * left there. NULL with errno set. */
struct spool *spool__open(const char *dir, uint64_t max_bytes);
/* Takes ownership of frame (malloc'ed), in memory only. -ENOSPC when full
 * (frame freed). */
int spool__push(struct spool *s, uint64_t seq, uint8_t *frame, size_t len, uint64_t now_ns);
/* Writes the files of the batches pushed before `before_ns` that have none
 * (UINT64_MAX: all of them). */
void spool__persist(struct spool *s, uint64_t before_ns);
/* Forgets every batch up to and including seq. The number is recorded on
 * disk when files go and at close; after a crash a stale one is harmless:
 * the server's hello reply moves reused numbers past its last. */
void spool__ack(struct spool *s, uint64_t seq);
/* Batches numbered from `from` up to `last` get new numbers after last, in
 * order (frames and files rewritten): for batches sealed before the server
 * said it had already stored those numbers. Returns the next free number. */
uint64_t spool__renumber(struct spool *s, uint64_t from, uint64_t last);
/* Oldest batch not yet sent on this connection, or NULL; spool__sent says
 * it went out whole. */
struct spool_entry *spool__next_unsent(struct spool *s);
void spool__sent(struct spool *s);
/* After a reconnect everything unacknowledged is sent again. */
void spool__mark_unsent(struct spool *s);
uint64_t spool__max_seq(const struct spool *s);
uint64_t spool__bytes(const struct spool *s);
size_t spool__count(const struct spool *s);
/* Writes what has no file yet, then frees. */
void spool__close(struct spool *s);

/* Batch files of a previous run dropped at open: damaged, or written by
 * another weft version (the server would refuse them). */
uint64_t spool__dropped(const struct spool *s);

#endif

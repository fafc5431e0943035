/* Batches not yet acknowledged by the server: in memory for sending and in
 * files for surviving a sensor restart. Bounded in bytes; a full spool
 * refuses new batches, and the caller counts what it dropped. */
#ifndef WEFT_SPOOL_H
#define WEFT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_entry {
	uint64_t seq;
	uint8_t *frame; /* the whole BATCH frame, header included */
	size_t len;
	int sent; /* already written to the current connection */
	struct spool_entry *next;
};

/* Opens dir (created if needed) and takes in the batches a previous run
 * left there. NULL with errno set. */
struct spool *spool__open(const char *dir, uint64_t max_bytes);
/* Takes ownership of frame (malloc'ed). -ENOSPC when full (frame freed). */
int spool__push(struct spool *s, uint64_t seq, uint8_t *frame, size_t len);
/* Forgets every batch up to and including seq. */
void spool__ack(struct spool *s, uint64_t seq);
/* Batches numbered from `from` up to `last` get new numbers after last, in
 * order (frames and files rewritten): for batches sealed before the server
 * said it had already stored those numbers. Returns the next free number. */
uint64_t spool__renumber(struct spool *s, uint64_t from, uint64_t last);
/* Oldest batch not yet sent on this connection, or NULL. */
struct spool_entry *spool__next_unsent(struct spool *s);
/* After a reconnect everything unacknowledged is sent again. */
void spool__mark_unsent(struct spool *s);
uint64_t spool__max_seq(const struct spool *s);
uint64_t spool__bytes(const struct spool *s);
size_t spool__count(const struct spool *s);
void spool__close(struct spool *s);

#endif

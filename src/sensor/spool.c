#include "sensor/spool.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "wire/wire.h"

struct spool {
	char dir[512];
	uint64_t max_bytes;
	uint64_t bytes;
	size_t count;
	uint64_t max_seq;
	uint64_t acked;			 /* highest acknowledged seq, also in the file "acked" */
	bool acked_stale;		 /* the file holds an older number */
	struct spool_entry *head, *tail; /* ascending seq */
	struct spool_entry *unsent;	 /* the entries before it were sent */
	struct spool_entry *fresh;	 /* no entry before it waits for its file */
	uint64_t dropped;		 /* files of a previous run that could not be sent */
};

uint64_t spool__dropped(const struct spool *s)
{
	return s->dropped;
}

static void entry_path(const struct spool *s, uint64_t seq, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%020" PRIu64 ".batch", s->dir, seq);
}

/* The highest sequence number the server acknowledged, kept in the spool
 * directory: once every batch file is acknowledged and gone, a restarted
 * sensor still numbers its new batches above it. Without it, batches sealed
 * before the server's hello reply would reuse acknowledged numbers and be
 * dropped as duplicates. */
static void acked_path(const struct spool *s, char *out, size_t cap)
{
	snprintf(out, cap, "%s/acked", s->dir);
}

static uint64_t read_acked(const struct spool *s)
{
	char path[600], buf[32] = "";
	FILE *f;

	acked_path(s, path, sizeof(path));
	if (!(f = fopen(path, "re")))
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtoull(buf, NULL, 10);
}

static void append(struct spool *s, struct spool_entry *e)
{
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	if (!s->unsent)
		s->unsent = e;
	if (!s->fresh)
		s->fresh = e;
	s->bytes += e->len;
	s->count++;
	if (e->seq > s->max_seq)
		s->max_seq = e->seq;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	char tmp[640];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *data = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size <= 0 || !(data = malloc(st.st_size)) ||
	    read(fd, data, st.st_size) != st.st_size) {
		free(data);
		data = NULL;
	} else {
		*len = st.st_size;
	}
	close(fd);
	return data;
}

static int seq_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Takes in what a previous run left, oldest first. */
static void load_existing(struct spool *s)
{
	uint64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir = opendir(s->dir);

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		char *end;
		uint64_t seq = strtoull(d->d_name, &end, 10);

		if (strcmp(end, ".batch") || end == d->d_name)
			continue;
		if (n == cap) {
			uint64_t *p = realloc(seqs, (cap = cap ? cap * 2 : 64) * sizeof(*seqs));

			if (!p)
				break;
			seqs = p;
		}
		seqs[n++] = seq;
	}
	closedir(dir);
	if (n)
		qsort(seqs, n, sizeof(*seqs), seq_cmp);
	for (size_t i = 0; i < n; i++) {
		struct spool_entry *e = calloc(1, sizeof(*e));
		char path[600];

		uint64_t seq;
		int err;

		entry_path(s, seqs[i], path, sizeof(path));
		if (!e || !(e->frame = read_file(path, &e->len))) {
			free(e);
			log_warn("spool: cannot read %s, skipping it", path);
			continue;
		}
		/* A damaged file, or one another weft version wrote: the server
		 * would refuse it and the connection with it, again and again. */
		err = wire_batch_check(e->frame, e->len, &seq);
		if (err || seq != seqs[i]) {
			log_warn("spool: %s is %s; dropped", path,
				 err == -EPROTONOSUPPORT ? "from another weft version"
							 : "not a whole batch");
			unlink(path);
			free(e->frame);
			free(e);
			s->dropped++;
			continue;
		}
		e->seq = seqs[i];
		e->on_disk = 1;
		append(s, e);
	}
	free(seqs);
	if (s->count)
		log_info("spool: %zu batches from a previous run will be sent", s->count);
}

struct spool *spool__open(const char *dir, uint64_t max_bytes)
{
	struct spool *s;

	if (strlen(dir) >= sizeof(s->dir) - 32) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	strcpy(s->dir, dir);
	s->max_bytes = max_bytes;
	s->max_seq = s->acked = read_acked(s);
	load_existing(s);
	return s;
}

int spool__push(struct spool *s, uint64_t seq, uint8_t *frame, size_t len, uint64_t now_ns)
{
	struct spool_entry *e;

	if (s->bytes + len > s->max_bytes) {
		free(frame);
		return -ENOSPC;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(frame);
		return -ENOMEM;
	}
	e->seq = seq;
	e->frame = frame;
	e->len = len;
	e->born_ns = now_ns;
	append(s, e);
	return 0;
}

static void persist(struct spool *s, struct spool_entry *e)
{
	char path[600];
	int err;

	entry_path(s, e->seq, path, sizeof(path));
	err = write_file(path, e->frame, e->len);
	if (err) /* still sendable from memory: only a restart would lose it */
		log_warn_ratelimited("spool: cannot write %s: %s", path, strerror(-err));
	e->on_disk = !err;
}

void spool__persist(struct spool *s, uint64_t before_ns)
{
	/* Pushed in order, so written in order: a failed one is not retried
	 * (it was said; the batch is still sent from memory). */
	for (; s->fresh && s->fresh->born_ns < before_ns; s->fresh = s->fresh->next)
		if (!s->fresh->on_disk)
			persist(s, s->fresh);
}

static void write_acked(struct spool *s)
{
	char path[600], num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64 "\n", s->acked);

	acked_path(s, path, sizeof(path));
	if (write_file(path, (const uint8_t *)num, (size_t)n))
		log_warn_ratelimited("spool: cannot record acknowledged batch %" PRIu64 " in %s",
				     s->acked, path);
	s->acked_stale = false;
}

void spool__ack(struct spool *s, uint64_t seq)
{
	if (seq > s->acked) {
		s->acked = seq;
		s->acked_stale = true;
		if (seq > s->max_seq)
			s->max_seq = seq;
	}
	while (s->head && s->head->seq <= seq) {
		struct spool_entry *e = s->head;

		if (e->on_disk) {
			char path[600];

			if (s->acked_stale) /* recorded before the files go */
				write_acked(s);
			entry_path(s, e->seq, path, sizeof(path));
			unlink(path);
		}
		if (s->unsent == e)
			s->unsent = e->next;
		if (s->fresh == e)
			s->fresh = e->next;
		s->head = e->next;
		s->bytes -= e->len;
		s->count--;
		free(e->frame);
		free(e);
	}
	if (!s->head)
		s->tail = NULL;
}

uint64_t spool__renumber(struct spool *s, uint64_t from, uint64_t last)
{
	uint64_t next = last + 1;

	for (struct spool_entry *e = s->head; e; e = e->next) {
		char old[600], path[600];
		uint64_t le;

		if (e->seq < from || e->seq > last)
			continue;
		entry_path(s, e->seq, old, sizeof(old));
		e->seq = next++;
		le = htole64(e->seq);
		memcpy(e->frame + WIRE_HEADER_LEN, &le, sizeof(le));
		if (e->on_disk) {
			entry_path(s, e->seq, path, sizeof(path));
			if (write_file(path, e->frame, e->len))
				log_warn_ratelimited("spool: cannot write %s", path);
			unlink(old);
		}
		if (e->seq > s->max_seq)
			s->max_seq = e->seq;
	}
	return next;
}

struct spool_entry *spool__next_unsent(struct spool *s)
{
	return s->unsent;
}

void spool__sent(struct spool *s)
{
	if (s->unsent)
		s->unsent = s->unsent->next;
}

void spool__mark_unsent(struct spool *s)
{
	s->unsent = s->head;
}

uint64_t spool__max_seq(const struct spool *s)
{
	return s->max_seq;
}

uint64_t spool__bytes(const struct spool *s)
{
	return s->bytes;
}

size_t spool__count(const struct spool *s)
{
	return s->count;
}

void spool__close(struct spool *s)
{
	if (!s)
		return;
	spool__persist(s, UINT64_MAX);
	if (s->acked_stale)
		write_acked(s);
	while (s->head) {
		struct spool_entry *e = s->head;

		s->head = e->next;
		free(e->frame);
		free(e);
	}
	free(s);
}

/* The sensor protocol: frames and records round-trip, and malformed input
 * of every kind is refused rather than misread. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sensor/spool.h"
#include "wire/wire.h"

static union {
	struct weft_event e;
	uint8_t b[sizeof(struct weft_event) + WEFT_PAYLOAD_MAX];
} scratch, sample;

static void make_batch(struct wire_buf *b)
{
	size_t off = wire_frame_begin(b, WIRE_BATCH);

	memset(&sample, 0, sizeof(sample));
	sample.e.type = WEFT_EV_SEND;
	sample.e.pid = 42;
	sample.e.seq = 4000000000u;
	sample.e.ts_ns = 5;
	sample.e.payload_len = 3;
	memcpy(sample.e.payload, "GET", 3);
	wire_put_u64(b, 7);
	wire_put_u32(b, 2);
	wire_put_event(b, &sample.e, 123456789);
	wire_put_process(b, 42, "nginx", "/usr/sbin/nginx");
	wire_frame_end(b, off);
}

static void test_batch_roundtrip(void **state)
{
	struct wire_buf b = {0};
	struct wire_frame f;
	struct wire_reader r;
	struct wire_rec rec;

	(void)state;
	make_batch(&b);
	assert_int_equal(wire_frame_parse(b.data, b.len, &f), (long)b.len);
	assert_int_equal(f.type, WIRE_BATCH);
	r = (struct wire_reader){f.payload, f.payload + f.len, false};
	assert_int_equal(wire_get_u64(&r), 7);
	assert_int_equal(wire_get_u32(&r), 2);
	assert_int_equal(wire_next_record(&r, &rec, &scratch), 1);
	assert_int_equal(rec.kind, WIRE_REC_EVENT);
	assert_int_equal(rec.event->ts_ns, 123456789); /* wall clock replaces boot time */
	assert_int_equal(rec.event->seq, 4000000000u);
	assert_memory_equal(rec.event->payload, "GET", 3);
	assert_int_equal(wire_next_record(&r, &rec, &scratch), 1);
	assert_int_equal(rec.kind, WIRE_REC_PROCESS);
	assert_int_equal(rec.pid, 42);
	assert_string_equal(rec.exe, "/usr/sbin/nginx");
	assert_string_equal(rec.comm, "nginx");
	assert_int_equal(wire_next_record(&r, &rec, &scratch), 0);
	/* Every prefix of a frame is incomplete, never misparsed. */
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(wire_frame_parse(b.data, n, &f), 0);
	wire_buf_free(&b);
}

static void test_bad_frames(void **state)
{
	struct wire_buf b = {0};
	struct wire_frame f;
	uint8_t hdr[8];

	(void)state;
	make_batch(&b);
	memcpy(hdr, b.data, 8);
	b.data[4] = 9; /* another version */
	assert_int_equal(wire_frame_parse(b.data, b.len, &f), -EPROTONOSUPPORT);
	memcpy(b.data, hdr, 8);
	b.data[6] = 1; /* reserved bits set */
	assert_int_equal(wire_frame_parse(b.data, b.len, &f), -EBADMSG);
	memcpy(b.data, hdr, 8);
	b.data[3] = 0x7f; /* length far beyond the limit */
	assert_int_equal(wire_frame_parse(b.data, b.len, &f), -EBADMSG);
	wire_buf_free(&b);
}

/* A record whose length disagrees with its payload, a truncated record and
 * an unknown kind each make the batch invalid. */
static void test_bad_records(void **state)
{
	struct wire_buf b = {0};
	struct wire_reader r;
	struct wire_rec rec;
	uint8_t *rec0;

	(void)state;
	make_batch(&b);
	rec0 = b.data + WIRE_HEADER_LEN + 12;

	r = (struct wire_reader){rec0, b.data + b.len - 5, false}; /* truncated */
	assert_int_equal(wire_next_record(&r, &rec, &scratch), 1);
	assert_int_equal(wire_next_record(&r, &rec, &scratch), -EBADMSG);

	rec0[0] = 99; /* unknown kind */
	r = (struct wire_reader){rec0, b.data + b.len, false};
	assert_int_equal(wire_next_record(&r, &rec, &scratch), -EBADMSG);
	rec0[0] = WIRE_REC_EVENT;

	/* payload_len larger than the record */
	rec0[8 + offsetof(struct weft_event, payload_len)] = 200;
	r = (struct wire_reader){rec0, b.data + b.len, false};
	assert_int_equal(wire_next_record(&r, &rec, &scratch), -EBADMSG);
	wire_buf_free(&b);
}

/* A method call record: read back as written, a long name cut, a name
 * holding a NUL refused. */
static void test_call_record(void **state)
{
	struct wire_buf b = {0};
	struct wire_reader r;
	struct wire_rec rec;
	char longname[400];

	(void)state;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	wire_put_call(&b, 42, 43, 1000, 2500, "com.shop.Orders.price");
	wire_put_call(&b, 42, 44, 3000, 3100, longname);
	r = (struct wire_reader){b.data, b.data + b.len, false};
	assert_int_equal(wire_next_record(&r, &rec, &scratch), 1);
	assert_int_equal(rec.kind, WIRE_REC_CALL);
	assert_int_equal(rec.pid, 42);
	assert_int_equal(rec.tid, 43);
	assert_int_equal(rec.start_ns, 1000);
	assert_int_equal(rec.end_ns, 2500);
	assert_string_equal(rec.name, "com.shop.Orders.price");
	assert_int_equal(wire_next_record(&r, &rec, &scratch), 1);
	assert_int_equal(strlen(rec.name), WIRE_NAME_MAX - 1);
	assert_int_equal(wire_next_record(&r, &rec, &scratch), 0);

	b.data[8 + 4 + 4 + 8 + 8 + 2 + 3] = '\0'; /* inside the first name */
	r = (struct wire_reader){b.data, b.data + b.len, false};
	assert_int_equal(wire_next_record(&r, &rec, &scratch), -EBADMSG);
	wire_buf_free(&b);
}

static bool batch_file(const char *dir, uint64_t seq)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%020" PRIu64 ".batch", dir, seq);
	return access(path, F_OK) == 0;
}

/* An empty BATCH frame numbered seq, 20 bytes, malloc'd as the spool wants. */
static uint8_t *batch_frame(uint64_t seq)
{
	struct wire_buf b = {0};
	size_t off = wire_frame_begin(&b, WIRE_BATCH);

	wire_put_u64(&b, seq);
	wire_put_u32(&b, 0);
	wire_frame_end(&b, off);
	assert_int_equal(b.len, 20);
	return b.data;
}

static void write_bytes(const char *dir, uint64_t seq, const void *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%020" PRIu64 ".batch", dir, seq);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* The spool keeps batches across a restart, forgets acknowledged ones and
 * refuses what would exceed its bound. Batches live in memory until they
 * are older than the caller's grace, or the spool closes. A file that is
 * not a whole batch of this version is dropped and counted at open. */
static void test_spool(void **state)
{
	char dir[64] = "/tmp/weft-spool-XXXXXX";
	struct spool *s;
	struct spool_entry *e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	s = spool__open(dir, 70);
	assert_non_null(s);
	for (uint64_t seq = 1; seq <= 3; seq++)
		assert_int_equal(spool__push(s, seq, batch_frame(seq), 20, seq * 10), 0);
	assert_int_equal(spool__push(s, 4, batch_frame(4), 20, 40), -ENOSPC);
	assert_false(batch_file(dir, 1));
	spool__persist(s, 25); /* pushed at 10 and 20: written; 30 not yet */
	assert_true(batch_file(dir, 1));
	assert_true(batch_file(dir, 2));
	assert_false(batch_file(dir, 3));
	spool__ack(s, 1);
	assert_false(batch_file(dir, 1));
	spool__close(s);
	assert_true(batch_file(dir, 3));

	/* Beside them, a damaged file and one an older weft wrote. */
	write_bytes(dir, 7, "garbage", 7);
	{
		uint8_t *old = batch_frame(8);

		old[4] = 1; /* protocol version 1 */
		write_bytes(dir, 8, old, 20);
		free(old);
	}
	s = spool__open(dir, 100); /* a new run finds 2 and 3 */
	assert_non_null(s);
	assert_int_equal(spool__count(s), 2);
	assert_int_equal(spool__dropped(s), 2);
	assert_false(batch_file(dir, 7));
	assert_false(batch_file(dir, 8));
	assert_int_equal(spool__max_seq(s), 3);
	e = spool__next_unsent(s);
	assert_non_null(e);
	assert_int_equal(e->seq, 2);
	assert_int_equal(e->frame[WIRE_HEADER_LEN], 2);
	spool__sent(s);
	assert_int_equal(spool__next_unsent(s)->seq, 3);
	spool__mark_unsent(s);
	assert_int_equal(spool__next_unsent(s)->seq, 2);
	spool__ack(s, 3);
	assert_int_equal(spool__count(s), 0);
	spool__close(s);

	/* An emptied spool still numbers after what was acknowledged. */
	s = spool__open(dir, 100);
	assert_non_null(s);
	assert_int_equal(spool__count(s), 0);
	assert_int_equal(spool__max_seq(s), 3);
	for (uint64_t seq = 4; seq <= 5; seq++)
		assert_int_equal(spool__push(s, seq, batch_frame(seq), 20, 0), 0);
	/* The server says it stored up to 9: ours move to 10 and 11, frames too. */
	assert_int_equal(spool__renumber(s, 4, 9), 12);
	e = spool__next_unsent(s);
	assert_int_equal(e->seq, 10);
	assert_int_equal(e->frame[WIRE_HEADER_LEN], 10);
	assert_int_equal(e->next->seq, 11);
	spool__close(s);
	s = spool__open(dir, 100); /* the files carry the new numbers */
	assert_int_equal(spool__count(s), 2);
	assert_int_equal(spool__next_unsent(s)->seq, 10);
	spool__ack(s, 11);
	spool__close(s);
	assert_int_equal(unlink(strcat(dir, "/acked")), 0);
	dir[strlen(dir) - strlen("/acked")] = '\0';
	assert_int_equal(rmdir(dir), 0); /* every batch file is gone */
}

/* A control reply as long as a str can be (a profile) crosses whole; a
 * longer one is cut at WIRE_STR_MAX; a NUL inside is malformed. */
static void test_long_reply(void **state)
{
	char *text = malloc(WIRE_STR_MAX + 10);
	struct wire_buf b = {0};
	struct wire_frame f;
	struct wire_reader r;
	const char *got;
	size_t off, len;

	(void)state;
	memset(text, 'j', WIRE_STR_MAX + 9);
	text[WIRE_STR_MAX + 9] = '\0';
	for (int cut = 0; cut < 2; cut++) {
		b.len = 0;
		off = wire_frame_begin(&b, WIRE_CONTROL_REPLY);
		wire_put_u32(&b, 7);
		text[WIRE_STR_MAX] = cut ? 'j' : '\0';
		wire_put_str(&b, text);
		wire_frame_end(&b, off);
		assert_int_equal(wire_frame_parse(b.data, b.len, &f), (long)b.len);
		r = (struct wire_reader){f.payload, f.payload + f.len, false};
		assert_int_equal(wire_get_u32(&r), 7);
		got = wire_get_str_ref(&r, &len);
		assert_false(r.bad);
		assert_int_equal(len, WIRE_STR_MAX);
		assert_memory_equal(got, text, len);
	}
	b.data[b.len - 1] = '\0'; /* a NUL inside the string */
	r = (struct wire_reader){f.payload, f.payload + f.len, false};
	wire_get_u32(&r);
	assert_null(wire_get_str_ref(&r, &len));
	assert_true(r.bad);
	wire_buf_free(&b);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_roundtrip), cmocka_unit_test(test_bad_frames),
	    cmocka_unit_test(test_bad_records),	    cmocka_unit_test(test_spool),
	    cmocka_unit_test(test_long_reply),	    cmocka_unit_test(test_call_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

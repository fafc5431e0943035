/* The sensor-to-server protocol: length-prefixed binary frames over TCP.
 * Documented in docs/protocol.md; every integer is little-endian.
 *
 *   frame   := u32 length (of what follows the 8-byte header)
 *              u8 version (WIRE_VERSION) u8 type u16 reserved (0)
 *              payload[length]
 */
#ifndef WEFT_WIRE_H
#define WEFT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/sensor_event.h"

#define WIRE_VERSION	 2 /* 2: events carry their coroutine (128-byte records) */
#define WIRE_HEADER_LEN	 8
#define WIRE_MAX_PAYLOAD (16u << 20) /* larger frames are refused as bad */
#define WIRE_ID_MAX	 128	     /* sensor ids and host names */
#define WIRE_STR_MAX	 65535	     /* a str's u16 length: control replies up to 64 KiB */

enum wire_type {
	WIRE_HELLO = 1,		/* sensor: str id, str host, u64 wall clock ns */
	WIRE_HELLO_ACK = 2,	/* server: u64 last batch stored for this sensor */
	WIRE_BATCH = 3,		/* sensor: u64 seq, u32 count, records */
	WIRE_ACK = 4,		/* server: u64 seq, once the batch is durably stored */
	WIRE_CONTROL = 5,	/* server: u32 request id, str command */
	WIRE_CONTROL_REPLY = 6, /* sensor: u32 request id, str reply */
	WIRE_STATUS = 7,	/* sensor: u64 events, u64 drops, u64 spool drops, u8 messages */
};

/* Records inside a batch: u8 kind, u8 0, u16 0, u32 length, bytes. */
enum wire_record {
	WIRE_REC_EVENT = 1,   /* struct weft_event (ts_ns as wall-clock ns) + payload */
	WIRE_REC_PROCESS = 2, /* u32 pid, char comm[16], str exe */
	WIRE_REC_CALL = 3,    /* u32 pid, u32 tid, u64 start, u64 end (wall-clock ns), str name */
};

#define WIRE_NAME_MAX 160 /* a call's method name, NUL included */

/* A growable byte buffer frames are written into. */
struct wire_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool oom; /* an allocation failed: the content is incomplete */
};

void wire_buf_free(struct wire_buf *b);
/* Room for cap bytes in all (sets oom when it cannot be had). */
void wire_buf_reserve(struct wire_buf *b, size_t cap);
void wire_put_u8(struct wire_buf *b, uint8_t v);
void wire_put_u16(struct wire_buf *b, uint16_t v);
void wire_put_u32(struct wire_buf *b, uint32_t v);
void wire_put_u64(struct wire_buf *b, uint64_t v);
void wire_put_bytes(struct wire_buf *b, const void *p, size_t n);
/* u16 length + bytes; a longer string is cut at WIRE_STR_MAX bytes. */
void wire_put_str(struct wire_buf *b, const char *s);
/* Starts a frame; returns its offset for wire_frame_end, which fills in the length. */
size_t wire_frame_begin(struct wire_buf *b, uint8_t type);
void wire_frame_end(struct wire_buf *b, size_t off);
/* Appends one event record (the event's ts_ns replaced by wall_ns). */
void wire_put_event(struct wire_buf *b, const struct weft_event *e, uint64_t wall_ns);
void wire_put_process(struct wire_buf *b, uint32_t pid, const char *comm, const char *exe);
/* A method call of a JVM on this host (its name cut at WIRE_NAME_MAX - 1). */
void wire_put_call(struct wire_buf *b, uint32_t pid, uint32_t tid, uint64_t start_ns,
		   uint64_t end_ns, const char *name);

/* Reading: every getter fails safely past the end and sets r->bad. */
struct wire_reader {
	const uint8_t *p;
	const uint8_t *end;
	bool bad;
};

uint8_t wire_get_u8(struct wire_reader *r);
uint16_t wire_get_u16(struct wire_reader *r);
uint32_t wire_get_u32(struct wire_reader *r);
uint64_t wire_get_u64(struct wire_reader *r);
const uint8_t *wire_get_bytes(struct wire_reader *r, size_t n);
/* Copies a string into out (NUL-terminated); longer than cap-1 is bad. */
void wire_get_str(struct wire_reader *r, char *out, size_t cap);
/* A string where it lies in the frame (not NUL-terminated), *len its
 * length; NULL and bad when malformed or holding a NUL. */
const char *wire_get_str_ref(struct wire_reader *r, size_t *len);

struct wire_frame {
	uint8_t type;
	const uint8_t *payload;
	uint32_t len;
};

/* Looks for one whole frame at the start of data. Returns its total size,
 * 0 when more bytes are needed, -EPROTONOSUPPORT for another version,
 * -EBADMSG for a malformed or oversized header. */
long wire_frame_parse(const uint8_t *data, size_t avail, struct wire_frame *f);

/* One record of a batch, decoded and checked. */
struct wire_rec {
	uint8_t kind;
	const struct weft_event *event; /* WIRE_REC_EVENT: aligned copy, valid until next */
	uint32_t pid;			/* WIRE_REC_PROCESS and WIRE_REC_CALL */
	char comm[WEFT_COMM_LEN];
	char exe[256];
	uint32_t tid; /* WIRE_REC_CALL */
	uint64_t start_ns, end_ns;
	char name[WIRE_NAME_MAX];
};

/* Iterates over the records of a batch payload (after seq and count).
 * Returns 1 with rec filled, 0 at the end, -EBADMSG on a malformed record.
 * scratch must hold sizeof(struct weft_event) + WEFT_PAYLOAD_MAX bytes. */
int wire_next_record(struct wire_reader *r, struct wire_rec *rec, void *scratch);

/* Whether p[0..len) is a sequence of valid records: 0 or -EBADMSG. */
int wire_records_check(const uint8_t *p, size_t len);
/* Whether frame[0..len) is one whole BATCH frame of this version with valid
 * records (a spooled batch read back from disk): 0 with its seq in *seq,
 * -EPROTONOSUPPORT for another version, -EBADMSG otherwise. */
int wire_batch_check(const uint8_t *frame, size_t len, uint64_t *seq);

#endif

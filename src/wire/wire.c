#include "wire/wire.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void wire_buf_free(struct wire_buf *b)
{
	free(b->data);
	*b = (struct wire_buf){0};
}

void wire_buf_reserve(struct wire_buf *b, size_t cap)
{
	uint8_t *p;

	if (b->oom || cap <= b->cap)
		return;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return;
	}
	b->data = p;
	b->cap = cap;
}

static uint8_t *wire_grow(struct wire_buf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n)
			cap *= 2;
		wire_buf_reserve(b, cap);
		if (b->oom)
			return NULL;
	}
	b->len += n;
	return b->data + b->len - n;
}

void wire_put_bytes(struct wire_buf *b, const void *p, size_t n)
{
	uint8_t *d = wire_grow(b, n);

	if (d && n)
		memcpy(d, p, n);
}

void wire_put_u8(struct wire_buf *b, uint8_t v)
{
	wire_put_bytes(b, &v, 1);
}

void wire_put_u16(struct wire_buf *b, uint16_t v)
{
	v = htole16(v);
	wire_put_bytes(b, &v, 2);
}

void wire_put_u32(struct wire_buf *b, uint32_t v)
{
	v = htole32(v);
	wire_put_bytes(b, &v, 4);
}

void wire_put_u64(struct wire_buf *b, uint64_t v)
{
	v = htole64(v);
	wire_put_bytes(b, &v, 8);
}

void wire_put_str(struct wire_buf *b, const char *s)
{
	size_t n = strnlen(s, WIRE_STR_MAX);

	wire_put_u16(b, (uint16_t)n);
	wire_put_bytes(b, s, n);
}

size_t wire_frame_begin(struct wire_buf *b, uint8_t type)
{
	size_t off = b->len;

	wire_put_u32(b, 0);
	wire_put_u8(b, WIRE_VERSION);
	wire_put_u8(b, type);
	wire_put_u16(b, 0);
	return off;
}

void wire_frame_end(struct wire_buf *b, size_t off)
{
	uint32_t len;

	if (b->oom)
		return;
	len = htole32((uint32_t)(b->len - off - WIRE_HEADER_LEN));
	memcpy(b->data + off, &len, 4);
}

static void wire_put_record_header(struct wire_buf *b, uint8_t kind, uint32_t len)
{
	wire_put_u8(b, kind);
	wire_put_u8(b, 0);
	wire_put_u16(b, 0);
	wire_put_u32(b, len);
}

/* The event travels in its in-memory layout: fixed-width fields, no
 * padding, and every architecture weft runs on is little-endian. The kernel
 * record is therefore the wire record: these pin the layout docs/protocol.md
 * describes, so a change to sensor_event.h cannot change the protocol
 * silently. */
#define EVENT_AT(field, off) _Static_assert(offsetof(struct weft_event, field) == (off), #field)
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire is little-endian");
_Static_assert(sizeof(struct weft_event) == 128, "event record size");
EVENT_AT(ts_ns, 0);
EVENT_AT(sock_id, 8);
EVENT_AT(cgroup_id, 16);
EVENT_AT(duration_ns, 24);
EVENT_AT(coroutine, 32);
EVENT_AT(pid, 40);
EVENT_AT(tid, 44);
EVENT_AT(netns, 48);
EVENT_AT(seq, 52);
EVENT_AT(len, 56);
EVENT_AT(payload_len, 60);
EVENT_AT(err, 64);
EVENT_AT(flags, 68);
EVENT_AT(saddr, 72);
EVENT_AT(daddr, 88);
EVENT_AT(sport, 104);
EVENT_AT(dport, 106);
EVENT_AT(family, 108);
EVENT_AT(type, 110);
EVENT_AT(role, 111);
EVENT_AT(comm, 112);
EVENT_AT(payload, 128);

void wire_put_event(struct wire_buf *b, const struct weft_event *e, uint64_t wall_ns)
{
	size_t size = sizeof(*e) + e->payload_len;
	uint8_t *d;

	wire_put_record_header(b, WIRE_REC_EVENT, (uint32_t)size);
	d = wire_grow(b, size);
	if (!d)
		return;
	memcpy(d, e, size);
	memcpy(d + offsetof(struct weft_event, ts_ns), &wall_ns, sizeof(wall_ns));
}

void wire_put_process(struct wire_buf *b, uint32_t pid, const char *comm, const char *exe)
{
	char c[WEFT_COMM_LEN] = {0};
	size_t n = strnlen(exe, 255);

	strncpy(c, comm, sizeof(c) - 1);
	wire_put_record_header(b, WIRE_REC_PROCESS, (uint32_t)(4 + sizeof(c) + 2 + n));
	wire_put_u32(b, pid);
	wire_put_bytes(b, c, sizeof(c));
	wire_put_u16(b, (uint16_t)n);
	wire_put_bytes(b, exe, n);
}

void wire_put_call(struct wire_buf *b, uint32_t pid, uint32_t tid, uint64_t start_ns,
		   uint64_t end_ns, const char *name)
{
	size_t n = strnlen(name, WIRE_NAME_MAX - 1);

	wire_put_record_header(b, WIRE_REC_CALL, (uint32_t)(4 + 4 + 8 + 8 + 2 + n));
	wire_put_u32(b, pid);
	wire_put_u32(b, tid);
	wire_put_u64(b, start_ns);
	wire_put_u64(b, end_ns);
	wire_put_u16(b, (uint16_t)n);
	wire_put_bytes(b, name, n);
}

const uint8_t *wire_get_bytes(struct wire_reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

uint8_t wire_get_u8(struct wire_reader *r)
{
	const uint8_t *p = wire_get_bytes(r, 1);

	return p ? *p : 0;
}

uint16_t wire_get_u16(struct wire_reader *r)
{
	const uint8_t *p = wire_get_bytes(r, 2);
	uint16_t v = 0;

	if (p)
		memcpy(&v, p, 2);
	return le16toh(v);
}

uint32_t wire_get_u32(struct wire_reader *r)
{
	const uint8_t *p = wire_get_bytes(r, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return le32toh(v);
}

uint64_t wire_get_u64(struct wire_reader *r)
{
	const uint8_t *p = wire_get_bytes(r, 8);
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, 8);
	return le64toh(v);
}

void wire_get_str(struct wire_reader *r, char *out, size_t cap)
{
	uint16_t n = wire_get_u16(r);
	const uint8_t *p = wire_get_bytes(r, n);

	if (!p || n >= cap || memchr(p, '\0', n)) {
		r->bad = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

const char *wire_get_str_ref(struct wire_reader *r, size_t *len)
{
	uint16_t n = wire_get_u16(r);
	const uint8_t *p = wire_get_bytes(r, n);

	*len = 0;
	if (!p || memchr(p, '\0', n)) {
		r->bad = true;
		return NULL;
	}
	*len = n;
	return (const char *)p;
}

long wire_frame_parse(const uint8_t *data, size_t avail, struct wire_frame *f)
{
	uint32_t len;

	if (avail < WIRE_HEADER_LEN)
		return 0;
	memcpy(&len, data, 4);
	len = le32toh(len);
	if (data[4] != WIRE_VERSION)
		return -EPROTONOSUPPORT;
	if (len > WIRE_MAX_PAYLOAD || data[6] || data[7])
		return -EBADMSG;
	if (avail < WIRE_HEADER_LEN + (size_t)len)
		return 0;
	f->type = data[5];
	f->payload = data + WIRE_HEADER_LEN;
	f->len = len;
	return WIRE_HEADER_LEN + (long)len;
}

int wire_next_record(struct wire_reader *r, struct wire_rec *rec, void *scratch)
{
	struct wire_reader body;
	uint32_t len;
	uint8_t kind;

	if (r->p == r->end)
		return 0;
	kind = wire_get_u8(r);
	wire_get_u8(r);
	wire_get_u16(r);
	len = wire_get_u32(r);
	body.p = wire_get_bytes(r, len);
	body.end = body.p + len;
	body.bad = false;
	if (r->bad)
		return -EBADMSG;
	rec->kind = kind;
	switch (kind) {
	case WIRE_REC_EVENT: {
		struct weft_event *e = scratch;

		if (len < sizeof(*e))
			return -EBADMSG;
		memcpy(e, body.p, sizeof(*e)); /* aligned copy */
		if (e->payload_len > WEFT_PAYLOAD_MAX || len != sizeof(*e) + e->payload_len ||
		    e->type < WEFT_EV_CONNECT || e->type == WEFT_EV_EXEC ||
		    e->type > WEFT_EV_PLAINTEXT)
			return -EBADMSG;
		memcpy(e->payload, body.p + sizeof(*e), e->payload_len);
		e->comm[WEFT_COMM_LEN - 1] = '\0';
		rec->event = e;
		return 1;
	}
	case WIRE_REC_PROCESS: {
		const uint8_t *c;
		uint16_t n;

		rec->pid = wire_get_u32(&body);
		c = wire_get_bytes(&body, WEFT_COMM_LEN);
		n = wire_get_u16(&body);
		if (body.bad || n >= sizeof(rec->exe) || (size_t)(body.end - body.p) != n)
			return -EBADMSG;
		memcpy(rec->comm, c, WEFT_COMM_LEN);
		rec->comm[WEFT_COMM_LEN - 1] = '\0';
		memcpy(rec->exe, body.p, n);
		rec->exe[n] = '\0';
		return 1;
	}
	case WIRE_REC_CALL: {
		uint16_t n;

		rec->pid = wire_get_u32(&body);
		rec->tid = wire_get_u32(&body);
		rec->start_ns = wire_get_u64(&body);
		rec->end_ns = wire_get_u64(&body);
		n = wire_get_u16(&body);
		if (body.bad || n >= sizeof(rec->name) || (size_t)(body.end - body.p) != n ||
		    memchr(body.p, '\0', n))
			return -EBADMSG;
		memcpy(rec->name, body.p, n);
		rec->name[n] = '\0';
		return 1;
	}
	}
	return -EBADMSG; /* an unknown record kind: the batch cannot be trusted */
}

int wire_records_check(const uint8_t *p, size_t len)
{
	struct wire_reader r = {p, p + len, false};
	struct wire_rec rec;
	uint8_t *scratch = malloc(sizeof(struct weft_event) + WEFT_PAYLOAD_MAX);
	int n;

	if (!scratch)
		return -ENOMEM;
	while ((n = wire_next_record(&r, &rec, scratch)) > 0)
		;
	free(scratch);
	return n < 0 ? -EBADMSG : 0;
}

int wire_batch_check(const uint8_t *frame, size_t len, uint64_t *seq)
{
	struct wire_frame f = {0};
	struct wire_reader r;
	long n = wire_frame_parse(frame, len, &f);

	if (n < 0)
		return (int)n;
	if (n == 0 || n != (long)len || f.type != WIRE_BATCH)
		return -EBADMSG;
	r = (struct wire_reader){f.payload, f.payload + f.len, false};
	*seq = wire_get_u64(&r);
	wire_get_u32(&r);
	if (r.bad)
		return -EBADMSG;
	return wire_records_check(r.p, (size_t)(r.end - r.p));
}

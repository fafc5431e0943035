/* The AMQP parser's two halves meet here: amqp.c follows frames through
 * the stream, amqp_decode.c reads what a method or content header says. A
 * cursor over a frame payload captured in part, and the method table. */
#ifndef WEFT_ANALYSIS_AMQP_DECODE_H
#define WEFT_ANALYSIS_AMQP_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/amqp.h"

struct method_info {
	uint16_t class_id;
	uint16_t method_id;
	uint8_t min_args; /* argument bytes when every string and table is empty */
	uint8_t kind;	  /* enum amqp_record_kind of a message, 0 when no content follows */
	const char *name;
};

const struct method_info *amqp_method_find(uint16_t class_id, uint16_t method_id);

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- reading arguments ------------------------------------------------------------------ */

enum rd_status {
	RD_OK = 0,
	RD_SHORT, /* the next field was not captured: what follows is unknown */
	RD_BAD,	  /* the next field runs past the frame: malformed */
};

/* A cursor over a frame payload of which the first `have` bytes are known. A
 * failed read sets status, which sticks: later reads return zeros. */
struct rd {
	const uint8_t *p;
	uint32_t off;  /* <= have */
	uint32_t have; /* <= size */
	uint32_t size;
	int status; /* enum rd_status */
};

static inline bool rd_take(struct rd *r, uint32_t k)
{
	if (r->status)
		return false;
	if (k > r->size - r->off) {
		r->status = RD_BAD;
		return false;
	}
	if (k > r->have - r->off) {
		r->status = RD_SHORT;
		r->off = r->have;
		return false;
	}
	return true;
}

static inline void rd_skip(struct rd *r, uint32_t k)
{
	if (rd_take(r, k))
		r->off += k;
}

static inline uint8_t rd_u8(struct rd *r)
{
	return rd_take(r, 1) ? r->p[r->off++] : 0;
}

static inline uint16_t rd_u16(struct rd *r)
{
	uint16_t v;

	if (!rd_take(r, 2))
		return 0;
	v = be16(r->p + r->off);
	r->off += 2;
	return v;
}

static inline uint32_t rd_u32(struct rd *r)
{
	uint32_t v;

	if (!rd_take(r, 4))
		return 0;
	v = be32(r->p + r->off);
	r->off += 4;
	return v;
}

static inline uint64_t rd_u64(struct rd *r)
{
	uint64_t v;

	if (!rd_take(r, 8))
		return 0;
	v = (uint64_t)be32(r->p + r->off) << 32 | be32(r->p + r->off + 4);
	r->off += 8;
	return v;
}

/* The header names whose values a stream keeps ("" where unused). */
typedef const char (*amqp_names)[AMQP_STR_LEN];

/* A content header's properties (with the wanted headers' values), and a
 * method's arguments into its record. */
void amqp_rd_props(struct rd *r, amqp_names names, struct amqp_props *pr);
void amqp_rd_args(struct rd *r, struct amqp_record *rec);

#endif

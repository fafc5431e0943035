/* AMQP 0-9-1 frames built field by field, for the tests of the parser and of
 * messages in trajectories. Included by the test files (static helpers, no
 * object of its own); each includes what it uses. */
#ifndef WEFT_TEST_AMQP_FRAMES_H
#define WEFT_TEST_AMQP_FRAMES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define WBUF_CAP (1u << 16)

/* ---- encoders ---------------------------------------------------------------------------- */

struct wbuf {
	uint8_t b[WBUF_CAP];
	size_t n;
};

static inline void put_bytes(struct wbuf *w, const void *p, size_t n)
{
	assert_true(w->n + n <= WBUF_CAP);
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static inline void put_u8(struct wbuf *w, uint8_t v)
{
	put_bytes(w, &v, 1);
}

static inline void put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put_bytes(w, b, 2);
}

static inline void put_u32(struct wbuf *w, uint32_t v)
{
	put_u16(w, (uint16_t)(v >> 16));
	put_u16(w, (uint16_t)v);
}

static inline void put_u64(struct wbuf *w, uint64_t v)
{
	put_u32(w, (uint32_t)(v >> 32));
	put_u32(w, (uint32_t)v);
}

static inline void put_sstr(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	assert_true(n < 256);
	put_u8(w, (uint8_t)n);
	put_bytes(w, s, n);
}

static inline void put_lstr(struct wbuf *w, const void *p, size_t n)
{
	put_u32(w, (uint32_t)n);
	put_bytes(w, p, n);
}

static inline void patch_u32(struct wbuf *w, size_t at, uint32_t v)
{
	w->b[at] = (uint8_t)(v >> 24);
	w->b[at + 1] = (uint8_t)(v >> 16);
	w->b[at + 2] = (uint8_t)(v >> 8);
	w->b[at + 3] = (uint8_t)v;
}

/* A length-prefixed region (frame payload, table, array): open returns
 * where its length goes, close writes it. */
static inline size_t len_open(struct wbuf *w)
{
	size_t at = w->n;

	put_u32(w, 0);
	return at;
}

static inline void len_close(struct wbuf *w, size_t at)
{
	patch_u32(w, at, (uint32_t)(w->n - at - 4));
}

static inline size_t frame_open(struct wbuf *w, uint8_t type, uint16_t ch)
{
	put_u8(w, type);
	put_u16(w, ch);
	return len_open(w);
}

static inline void frame_close(struct wbuf *w, size_t at)
{
	len_close(w, at);
	put_u8(w, 0xce);
}

static inline size_t method_open(struct wbuf *w, uint16_t ch, uint16_t cls, uint16_t mth)
{
	size_t at = frame_open(w, 1, ch);

	put_u16(w, cls);
	put_u16(w, mth);
	return at;
}

static inline void proto_header(struct wbuf *w)
{
	put_bytes(w, "AMQP\x00\x00\x09\x01", 8);
}

static inline void heartbeat(struct wbuf *w)
{
	frame_close(w, frame_open(w, 8, 0));
}

static inline void conn_start(struct wbuf *w)
{
	size_t f = method_open(w, 0, 10, 10), t, c;

	put_u8(w, 0);
	put_u8(w, 9);
	t = len_open(w);
	put_sstr(w, "product");
	put_u8(w, 'S');
	put_lstr(w, "RabbitMQ", 8);
	put_sstr(w, "capabilities");
	put_u8(w, 'F');
	c = len_open(w);
	put_sstr(w, "publisher_confirms");
	put_u8(w, 't');
	put_u8(w, 1);
	len_close(w, c);
	len_close(w, t);
	put_lstr(w, "PLAIN AMQPLAIN", 14);
	put_lstr(w, "en_US", 5);
	frame_close(w, f);
}

static inline void conn_start_ok(struct wbuf *w)
{
	size_t f = method_open(w, 0, 10, 11), t;

	t = len_open(w);
	put_sstr(w, "product");
	put_u8(w, 'S');
	put_lstr(w, "pika", 4);
	len_close(w, t);
	put_sstr(w, "PLAIN");
	put_lstr(w, "\0guest\0guest", 12);
	put_sstr(w, "en_US");
	frame_close(w, f);
}

static inline void conn_tune(struct wbuf *w, uint16_t mth, uint32_t frame_max)
{
	size_t f = method_open(w, 0, 10, mth);

	put_u16(w, 2047);
	put_u32(w, frame_max);
	put_u16(w, 60);
	frame_close(w, f);
}

static inline void conn_open(struct wbuf *w, const char *vhost)
{
	size_t f = method_open(w, 0, 10, 40);

	put_sstr(w, vhost);
	put_sstr(w, "");
	put_u8(w, 0);
	frame_close(w, f);
}

static inline void one_sstr(struct wbuf *w, uint16_t ch, uint16_t cls, uint16_t mth, const char *s)
{
	size_t f = method_open(w, ch, cls, mth);

	put_sstr(w, s);
	frame_close(w, f);
}

static inline void no_args(struct wbuf *w, uint16_t ch, uint16_t cls, uint16_t mth)
{
	frame_close(w, method_open(w, ch, cls, mth));
}

static inline void close_method(struct wbuf *w, uint16_t ch, uint16_t code, const char *text,
				uint16_t fcls, uint16_t fmth)
{
	size_t f = method_open(w, ch, ch ? 20 : 10, ch ? 40 : 50);

	put_u16(w, code);
	put_sstr(w, text);
	put_u16(w, fcls);
	put_u16(w, fmth);
	frame_close(w, f);
}

static inline void channel_open_ok(struct wbuf *w, uint16_t ch)
{
	size_t f = method_open(w, ch, 20, 11);

	put_lstr(w, "", 0);
	frame_close(w, f);
}

static inline void queue_declare(struct wbuf *w, uint16_t ch, const char *queue, uint8_t bits)
{
	size_t f = method_open(w, ch, 50, 10), t;

	put_u16(w, 0);
	put_sstr(w, queue);
	put_u8(w, bits);
	t = len_open(w);
	put_sstr(w, "x-queue-type");
	put_u8(w, 'S');
	put_lstr(w, "quorum", 6);
	len_close(w, t);
	frame_close(w, f);
}

static inline void queue_declare_ok(struct wbuf *w, uint16_t ch, const char *queue, uint32_t msgs,
				    uint32_t consumers)
{
	size_t f = method_open(w, ch, 50, 11);

	put_sstr(w, queue);
	put_u32(w, msgs);
	put_u32(w, consumers);
	frame_close(w, f);
}

static inline void queue_bind(struct wbuf *w, uint16_t ch, const char *q, const char *x,
			      const char *rk)
{
	size_t f = method_open(w, ch, 50, 20);

	put_u16(w, 0);
	put_sstr(w, q);
	put_sstr(w, x);
	put_sstr(w, rk);
	put_u8(w, 0);
	put_u32(w, 0);
	frame_close(w, f);
}

static inline void exchange_declare(struct wbuf *w, uint16_t ch, const char *x, const char *type)
{
	size_t f = method_open(w, ch, 40, 10);

	put_u16(w, 0);
	put_sstr(w, x);
	put_sstr(w, type);
	put_u8(w, 0x02); /* durable */
	put_u32(w, 0);
	frame_close(w, f);
}

static inline void basic_qos(struct wbuf *w, uint16_t ch, uint16_t count)
{
	size_t f = method_open(w, ch, 60, 10);

	put_u32(w, 0);
	put_u16(w, count);
	put_u8(w, 0);
	frame_close(w, f);
}

static inline void basic_consume(struct wbuf *w, uint16_t ch, const char *q, const char *tag)
{
	size_t f = method_open(w, ch, 60, 20);

	put_u16(w, 0);
	put_sstr(w, q);
	put_sstr(w, tag);
	put_u8(w, 0);
	put_u32(w, 0);
	frame_close(w, f);
}

static inline void basic_publish(struct wbuf *w, uint16_t ch, const char *x, const char *rk,
				 bool mandatory)
{
	size_t f = method_open(w, ch, 60, 40);

	put_u16(w, 0);
	put_sstr(w, x);
	put_sstr(w, rk);
	put_u8(w, mandatory ? 1 : 0);
	frame_close(w, f);
}

static inline void basic_deliver(struct wbuf *w, uint16_t ch, const char *tag, uint64_t dtag,
				 bool redelivered, const char *x, const char *rk)
{
	size_t f = method_open(w, ch, 60, 60);

	put_sstr(w, tag);
	put_u64(w, dtag);
	put_u8(w, redelivered ? 1 : 0);
	put_sstr(w, x);
	put_sstr(w, rk);
	frame_close(w, f);
}

static inline void basic_get_ok(struct wbuf *w, uint16_t ch, uint64_t dtag, const char *x,
				const char *rk, uint32_t left)
{
	size_t f = method_open(w, ch, 60, 71);

	put_u64(w, dtag);
	put_u8(w, 0);
	put_sstr(w, x);
	put_sstr(w, rk);
	put_u32(w, left);
	frame_close(w, f);
}

static inline void basic_return(struct wbuf *w, uint16_t ch, uint16_t code, const char *text,
				const char *x, const char *rk)
{
	size_t f = method_open(w, ch, 60, 50);

	put_u16(w, code);
	put_sstr(w, text);
	put_sstr(w, x);
	put_sstr(w, rk);
	frame_close(w, f);
}

static inline void basic_get(struct wbuf *w, uint16_t ch, const char *q)
{
	size_t f = method_open(w, ch, 60, 70);

	put_u16(w, 0);
	put_sstr(w, q);
	put_u8(w, 1); /* no-ack */
	frame_close(w, f);
}

/* ack (80), reject (90), nack (120): a delivery tag and a bit octet. */
static inline void basic_tag(struct wbuf *w, uint16_t ch, uint16_t mth, uint64_t dtag, uint8_t bits)
{
	size_t f = method_open(w, ch, 60, mth);

	put_u64(w, dtag);
	put_u8(w, bits);
	frame_close(w, f);
}

#define ACK_LEN 21 /* bytes of a basic.ack frame */

/* The headers table every rich message carries: each value type once. */
#define TRACEPARENT  "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define HEADER_COUNT 11

static inline void put_headers(struct wbuf *w)
{
	size_t t = len_open(w), sub, deep;

	put_sstr(w, "x-retry");
	put_u8(w, 'I');
	put_u32(w, 3);
	put_sstr(w, "x-nested");
	put_u8(w, 'F');
	sub = len_open(w);
	put_sstr(w, "a");
	put_u8(w, 't');
	put_u8(w, 1);
	put_sstr(w, "deep");
	put_u8(w, 'F');
	deep = len_open(w);
	put_sstr(w, "traceparent"); /* nested: not the message's */
	put_u8(w, 'S');
	put_lstr(w, "wrong", 5);
	len_close(w, deep);
	len_close(w, sub);
	put_sstr(w, "x-list");
	put_u8(w, 'A');
	sub = len_open(w);
	put_u8(w, 'S');
	put_lstr(w, "one", 3);
	put_u8(w, 'I');
	put_u32(w, 2);
	len_close(w, sub);
	put_sstr(w, "x-dec");
	put_u8(w, 'D');
	put_u8(w, 2);
	put_u32(w, 12345);
	put_sstr(w, "x-ts");
	put_u8(w, 'T');
	put_u64(w, 1700000000);
	put_sstr(w, "x-void");
	put_u8(w, 'V');
	put_sstr(w, "x-bytes");
	put_u8(w, 'x');
	put_lstr(w, "\x01\x02\x03", 3);
	put_sstr(w, "x-short");
	put_u8(w, 's');
	put_u16(w, 7);
	put_sstr(w, "x-double");
	put_u8(w, 'd');
	put_u64(w, 0x400921fb54442d18ull);
	put_sstr(w, "TraceParent"); /* names match without case */
	put_u8(w, 'S');
	put_lstr(w, TRACEPARENT, strlen(TRACEPARENT));
	put_sstr(w, "x-request-id");
	put_u8(w, 'S');
	put_lstr(w, "req-99", 6);
	len_close(w, t);
}

/* A content header with the properties a request/reply message has. */
static inline void header_rich(struct wbuf *w, uint16_t ch, uint64_t body_size)
{
	size_t f = frame_open(w, 2, ch);

	put_u16(w, 60);
	put_u16(w, 0);
	put_u64(w, body_size);
	put_u16(w, 0x8000 | 0x2000 | 0x1000 | 0x0400 | 0x0200 | 0x0080 | 0x0040 | 0x0008);
	put_sstr(w, "application/json");
	put_headers(w);
	put_u8(w, 2);
	put_sstr(w, "corr-7");
	put_sstr(w, "amq.rabbitmq.reply-to");
	put_sstr(w, "msg-42");
	put_u64(w, 1700000000);
	put_sstr(w, "checkout");
	frame_close(w, f);
}

/* A content header with no properties, or with a message id only. */
static inline void header_plain(struct wbuf *w, uint16_t ch, uint64_t body_size,
				const char *message_id)
{
	size_t f = frame_open(w, 2, ch);

	put_u16(w, 60);
	put_u16(w, 0);
	put_u64(w, body_size);
	put_u16(w, message_id ? 0x0080 : 0);
	if (message_id)
		put_sstr(w, message_id);
	frame_close(w, f);
}

static inline void body(struct wbuf *w, uint16_t ch, const void *p, size_t n)
{
	size_t f = frame_open(w, 3, ch);

	put_bytes(w, p, n);
	frame_close(w, f);
}

#endif

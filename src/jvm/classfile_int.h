/* The class-file rewriter's shared parts: byte readers and writers over
 * big-endian buffers, the parsed constant pool, and the rewriting context.
 * classfile.c rewrites the class and its methods, classfile_code.c their
 * Code attributes. Not part of the module's contract. */
#ifndef WEFT_JVM_CLASSFILE_INT_H
#define WEFT_JVM_CLASSFILE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROLOGUE_LEN 6
#define EPILOGUE_LEN 6 /* before each return */
#define HANDLER_LEN  7
#define MAX_CODE     65535

enum { CP_UTF8 = 1, CP_LONG = 5, CP_DOUBLE = 6, CP_CLASS = 7 };

struct rd {
	const uint8_t *p;
	size_t len, pos;
	int bad; /* set on any read past the end */
};

struct wr {
	uint8_t *b;
	size_t len, cap;
	int bad; /* set on allocation failure */
};

/* The parsed constant pool: offsets of each entry's tag in the input. */
struct cpool {
	const uint8_t *base;
	uint32_t *off; /* off[i] for 1 <= i < count; 0 for the unusable slot after long/double */
	unsigned count;
	size_t end; /* input offset just past the pool */
};

/* Indices of the entries appended to the pool. */
struct added {
	unsigned enter, exit, thrw, throwable, smt_name;
	unsigned first, count;
};

struct ctx {
	const struct cpool *cp;
	const struct added *add;
	unsigned major;
	char *err;
	size_t errlen;
};

static inline uint8_t rd_u1(struct rd *r)
{
	if (r->pos + 1 > r->len) {
		r->bad = 1;
		return 0;
	}
	return r->p[r->pos++];
}

static inline uint16_t rd_u2(struct rd *r)
{
	if (r->pos + 2 > r->len) {
		r->bad = 1;
		r->pos = r->len;
		return 0;
	}
	uint16_t v = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]);
	r->pos += 2;
	return v;
}

static inline uint32_t rd_u4(struct rd *r)
{
	uint32_t hi = rd_u2(r);
	return hi << 16 | rd_u2(r);
}

static inline void rd_skip(struct rd *r, size_t n)
{
	if (n > r->len - r->pos) {
		r->bad = 1;
		r->pos = r->len;
		return;
	}
	r->pos += n;
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline int32_t be32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static inline void wr_bytes(struct wr *w, const void *p, size_t n)
{
	if (w->bad)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *b = realloc(w->b, cap);
		if (!b) {
			w->bad = 1;
			return;
		}
		w->b = b;
		w->cap = cap;
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static inline void wr_u1(struct wr *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	wr_bytes(w, &b, 1);
}

static inline void wr_u2(struct wr *w, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 2);
}

static inline void wr_u4(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 4);
}

static inline void put_u4(struct wr *w, size_t at, uint32_t v)
{
	if (w->bad)
		return;
	w->b[at] = (uint8_t)(v >> 24);
	w->b[at + 1] = (uint8_t)(v >> 16);
	w->b[at + 2] = (uint8_t)(v >> 8);
	w->b[at + 3] = (uint8_t)v;
}

static inline int fail(struct ctx *c, const char *msg)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s", msg);
	return -1;
}

/* Is constant pool entry i the UTF-8 string s? */
int cp_utf8_eq(const struct cpool *cp, unsigned i, const char *s);

/* Writes the Code attribute body of a selected method (id: its probe id)
 * with the probe inserted and every offset remapped. 0, or -1 with the
 * reason in c->err. */
int code_rewrite(struct ctx *c, const uint8_t *body, size_t blen, struct wr *w, int id);

#endif

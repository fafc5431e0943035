/* The Code attribute of a selected method, rewritten: the probe's prologue,
 * epilogues and catch-all handler inserted (see classfile.c), branches,
 * switches, the exception table and the offset-bearing attributes remapped. */
#include "jvm/classfile.h"
#include "jvm/classfile_int.h"

/* ---- instructions ---- */

/* Length of the instruction at `off`, or 0 if it is malformed. */
static size_t insn_len(const uint8_t *code, size_t n, size_t off)
{
	uint8_t op = code[off];
	if (op <= 0x0f || (op >= 0x1a && op <= 0x35) || (op >= 0x3b && op <= 0x83) ||
	    (op >= 0x85 && op <= 0x98) || (op >= 0xac && op <= 0xb1) || op == 0xbe || op == 0xbf ||
	    op == 0xc2 || op == 0xc3)
		return 1;
	if (op == 0x10 || op == 0x12 || (op >= 0x15 && op <= 0x19) || (op >= 0x36 && op <= 0x3a) ||
	    op == 0xa9 || op == 0xbc)
		return 2;
	if (op == 0x11 || op == 0x13 || op == 0x14 || op == 0x84 || (op >= 0x99 && op <= 0xa8) ||
	    (op >= 0xb2 && op <= 0xb8) || op == 0xbb || op == 0xbd || op == 0xc0 || op == 0xc1 ||
	    op == 0xc6 || op == 0xc7)
		return 3;
	if (op == 0xc5)
		return 4;
	if (op == 0xb9 || op == 0xba || op == 0xc8 || op == 0xc9)
		return 5;
	if (op == 0xc4) {
		if (off + 1 >= n)
			return 0;
		return code[off + 1] == 0x84 ? 6 : 4;
	}
	if (op == 0xaa || op == 0xab) {
		size_t p = (off + 4) & ~(size_t)3; /* operands aligned on 4 from code start */
		if (p + 12 > n)
			return 0;
		if (op == 0xaa) {
			int64_t lo = be32(code + p + 4), hi = be32(code + p + 8);
			if (hi < lo || hi - lo >= 16384)
				return 0;
			return p - off + 12 + (size_t)(hi - lo + 1) * 4;
		}
		int32_t np = be32(code + p + 4);
		if (np < 0 || np >= 16384)
			return 0;
		return p - off + 8 + (size_t)np * 8;
	}
	return 0;
}

static int is_return(uint8_t op)
{
	return op >= 0xac && op <= 0xb1;
}

/* Old offsets -> new offsets for one method; -1 where no instruction starts. */
struct layout {
	int32_t *map; /* code_len + 1 entries; map[code_len] is the end of the body */
	size_t code_len;
	size_t body_end; /* new offset of the handler */
};

static int layout_build(struct ctx *c, const uint8_t *code, size_t n, struct layout *l)
{
	l->code_len = n;
	l->map = malloc((n + 1) * sizeof(*l->map));
	if (!l->map)
		return fail(c, "out of memory");
	for (size_t i = 0; i <= n; i++)
		l->map[i] = -1;
	size_t pos = PROLOGUE_LEN;
	for (size_t off = 0; off < n;) {
		size_t len = insn_len(code, n, off);
		if (!len || off + len > n)
			return fail(c, "malformed bytecode");
		l->map[off] = (int32_t)pos;
		uint8_t op = code[off];
		/* Subroutines (class files before Java 6) would need the handler
		 * frame reasoned about per subroutine: not worth the risk. */
		if (op == 0xa8 || op == 0xc9 || op == 0xa9 || (op == 0xc4 && code[off + 1] == 0xa9))
			return fail(c, "jsr/ret subroutines are not instrumented");
		if (is_return(op))
			pos += EPILOGUE_LEN + 1;
		else if (op == 0xaa || op == 0xab) {
			size_t oldpad = ((off + 4) & ~(size_t)3) - (off + 1);
			size_t newpad = ((pos + 4) & ~(size_t)3) - (pos + 1);
			pos += len - oldpad + newpad;
		} else
			pos += len;
		off += len;
		if (pos > MAX_CODE)
			return fail(c, "method too large to instrument");
	}
	l->map[n] = (int32_t)pos;
	l->body_end = pos;
	if (pos + HANDLER_LEN > MAX_CODE)
		return fail(c, "method too large to instrument");
	return 0;
}

/* New offset of old offset `old`, or -1 if it is not an instruction start. */
static int32_t remap(const struct layout *l, int64_t old)
{
	if (old < 0 || (uint64_t)old > l->code_len)
		return -1;
	return l->map[old];
}

static void emit_probe(struct wr *w, int id, unsigned ref)
{
	wr_u1(w, 0x11); /* sipush */
	wr_u2(w, (unsigned)id);
	wr_u1(w, 0xb8); /* invokestatic */
	wr_u2(w, ref);
}

/* Writes a switch's new 32-bit branch target relative to its new start. */
static int emit_target32(struct ctx *c, struct wr *w, const struct layout *l, size_t off,
			 int32_t rel)
{
	int32_t t = remap(l, (int64_t)off + rel);
	if (t < 0)
		return fail(c, "branch into the middle of an instruction");
	wr_u4(w, (uint32_t)(t - l->map[off]));
	return 0;
}

static int emit_switch(struct ctx *c, struct wr *w, const uint8_t *code, size_t off,
		       const struct layout *l)
{
	size_t p = (off + 4) & ~(size_t)3;
	size_t npos = (size_t)l->map[off];
	size_t newpad = ((npos + 4) & ~(size_t)3) - (npos + 1);
	wr_u1(w, code[off]);
	for (size_t i = 0; i < newpad; i++)
		wr_u1(w, 0);
	if (emit_target32(c, w, l, off, be32(code + p)))
		return -1;
	if (code[off] == 0xaa) {
		int32_t lo = be32(code + p + 4), hi = be32(code + p + 8);
		wr_u4(w, (uint32_t)lo);
		wr_u4(w, (uint32_t)hi);
		for (int64_t k = 0; k <= (int64_t)hi - lo; k++)
			if (emit_target32(c, w, l, off, be32(code + p + 12 + k * 4)))
				return -1;
		return 0;
	}
	int32_t np = be32(code + p + 4);
	wr_u4(w, (uint32_t)np);
	for (int32_t k = 0; k < np; k++) {
		wr_u4(w, (uint32_t)be32(code + p + 8 + k * 8));
		if (emit_target32(c, w, l, off, be32(code + p + 12 + k * 8)))
			return -1;
	}
	return 0;
}

static int emit_code(struct ctx *c, struct wr *w, const uint8_t *code, size_t n,
		     const struct layout *l, int id)
{
	size_t start = w->len;
	emit_probe(w, id, c->add->enter);
	for (size_t off = 0; off < n;) {
		size_t len = insn_len(code, n, off);
		uint8_t op = code[off];
		if (is_return(op)) {
			emit_probe(w, id, c->add->exit);
			wr_u1(w, op);
		} else if ((op >= 0x99 && op <= 0xa8) || op == 0xc6 || op == 0xc7) {
			int32_t t = remap(l, (int64_t)off + (int16_t)be16(code + off + 1));
			int32_t d = t - l->map[off];
			if (t < 0)
				return fail(c, "branch into the middle of an instruction");
			if (d < -32768 || d > 32767)
				return fail(c, "branch offset overflows after instrumentation");
			wr_u1(w, op);
			wr_u2(w, (uint16_t)(int16_t)d);
		} else if (op == 0xc8 || op == 0xc9) {
			wr_u1(w, op);
			if (emit_target32(c, w, l, off, be32(code + off + 1)))
				return -1;
		} else if (op == 0xaa || op == 0xab) {
			if (emit_switch(c, w, code, off, l))
				return -1;
		} else
			wr_bytes(w, code + off, len);
		if (!w->bad &&
		    w->len - start != (size_t)(off + len < n ? l->map[off + len] : l->map[n]))
			return fail(c, "internal layout mismatch");
		off += len;
	}
	emit_probe(w, id, c->add->thrw);
	wr_u1(w, 0xbf); /* athrow */
	return 0;
}

/* ---- Code attributes ---- */

/* Copies one verification_type_info, remapping Uninitialized(offset). */
static int smt_vtype(struct ctx *c, struct rd *r, struct wr *w, const struct layout *l)
{
	uint8_t tag = rd_u1(r);
	wr_u1(w, tag);
	if (tag <= 6)
		return 0;
	uint16_t v = rd_u2(r);
	if (tag == 7) {
		wr_u2(w, v);
		return 0;
	}
	if (tag == 8) {
		int32_t t = remap(l, v);
		if (t < 0 || t > 65535)
			return fail(c, "bad Uninitialized offset in StackMapTable");
		wr_u2(w, (unsigned)t);
		return 0;
	}
	return fail(c, "bad verification type in StackMapTable");
}

static int smt_vtypes(struct ctx *c, struct rd *r, struct wr *w, const struct layout *l, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (smt_vtype(c, r, w, l))
			return -1;
	return r->bad ? fail(c, "truncated StackMapTable") : 0;
}

/* Rewrites a StackMapTable body (NULL/0 when the method had none) and
 * appends the handler's frame. Writes the attribute's body only. */
static int smt_rewrite(struct ctx *c, const uint8_t *body, size_t blen, struct wr *w,
		       const struct layout *l)
{
	struct rd r = {body, blen, 0, 0};
	unsigned n = body ? rd_u2(&r) : 0;
	int64_t prev = -1, nprev = -1;
	wr_u2(w, n + 1);
	for (unsigned i = 0; i < n; i++) {
		uint8_t ft = rd_u1(&r);
		unsigned delta = ft < 64 ? ft : ft < 128 ? ft - 64u : 0;
		if (ft >= 128 && ft < 247)
			return fail(c, "bad StackMapTable frame type");
		if (ft >= 247)
			delta = rd_u2(&r);
		int64_t off = prev + delta + 1;
		int32_t noff = remap(l, off);
		if (r.bad || noff < 0 || off >= (int64_t)l->code_len)
			return fail(c, "bad StackMapTable frame offset");
		unsigned nd = (unsigned)(noff - nprev - 1);
		prev = off;
		nprev = noff;
		if (ft < 64) {
			if (nd < 64)
				wr_u1(w, nd);
			else {
				wr_u1(w, 251);
				wr_u2(w, nd);
			}
		} else if (ft < 128 || ft == 247) {
			if (nd < 64)
				wr_u1(w, 64 + nd);
			else {
				wr_u1(w, 247);
				wr_u2(w, nd);
			}
			if (smt_vtypes(c, &r, w, l, 1))
				return -1;
		} else {
			wr_u1(w, ft);
			wr_u2(w, nd);
			if (ft >= 252 && ft <= 254 && smt_vtypes(c, &r, w, l, ft - 251u))
				return -1;
			if (ft == 255) {
				unsigned nl = rd_u2(&r);
				wr_u2(w, nl);
				if (smt_vtypes(c, &r, w, l, nl))
					return -1;
				unsigned ns = rd_u2(&r);
				wr_u2(w, ns);
				if (smt_vtypes(c, &r, w, l, ns))
					return -1;
			}
		}
	}
	if (r.bad || r.pos != r.len)
		return fail(c, "malformed StackMapTable");
	/* The handler: full_frame, no locals, one Throwable on the stack. */
	wr_u1(w, 255);
	wr_u2(w, (unsigned)((int64_t)l->body_end - nprev - 1));
	wr_u2(w, 0);
	wr_u2(w, 1);
	wr_u1(w, 7);
	wr_u2(w, c->add->throwable);
	return 0;
}

static int lnt_rewrite(struct ctx *c, const uint8_t *body, size_t blen, struct wr *w,
		       const struct layout *l)
{
	struct rd r = {body, blen, 0, 0};
	unsigned n = rd_u2(&r);
	wr_u2(w, n);
	for (unsigned i = 0; i < n; i++) {
		int32_t pc = remap(l, rd_u2(&r));
		unsigned line = rd_u2(&r);
		if (r.bad || pc < 0 || (size_t)pc >= l->body_end)
			return fail(c, "bad LineNumberTable");
		wr_u2(w, (unsigned)pc);
		wr_u2(w, line);
	}
	return r.pos == r.len ? 0 : fail(c, "malformed LineNumberTable");
}

/* LocalVariableTable and LocalVariableTypeTable share one layout. */
static int lvt_rewrite(struct ctx *c, const uint8_t *body, size_t blen, struct wr *w,
		       const struct layout *l)
{
	struct rd r = {body, blen, 0, 0};
	unsigned n = rd_u2(&r);
	wr_u2(w, n);
	for (unsigned i = 0; i < n; i++) {
		unsigned s = rd_u2(&r), len = rd_u2(&r);
		int32_t ns = remap(l, s), ne = remap(l, (int64_t)s + len);
		if (r.bad || ns < 0 || ne < ns)
			return fail(c, "bad LocalVariableTable");
		wr_u2(w, (unsigned)ns);
		wr_u2(w, (unsigned)(ne - ns));
		wr_u2(w, rd_u2(&r)); /* name */
		wr_u2(w, rd_u2(&r)); /* descriptor or signature */
		wr_u2(w, rd_u2(&r)); /* slot */
	}
	return !r.bad && r.pos == r.len ? 0 : fail(c, "malformed LocalVariableTable");
}

typedef int (*attr_rewrite_fn)(struct ctx *, const uint8_t *, size_t, struct wr *,
			       const struct layout *);

/* Writes attribute `name` with a body produced by `fn`, patching its length. */
static int attr_emit(struct ctx *c, struct wr *w, unsigned name, attr_rewrite_fn fn,
		     const uint8_t *body, size_t blen, const struct layout *l)
{
	wr_u2(w, name);
	size_t at = w->len;
	wr_u4(w, 0);
	if (fn(c, body, blen, w, l))
		return -1;
	put_u4(w, at, (uint32_t)(w->len - at - 4));
	return 0;
}

static int extab_rewrite(struct ctx *c, struct rd *r, struct wr *w, const struct layout *l)
{
	unsigned n = rd_u2(r);
	if (n >= 65535)
		return fail(c, "exception table full");
	wr_u2(w, n + 1);
	for (unsigned i = 0; i < n; i++) {
		int32_t s = remap(l, rd_u2(r)), e = remap(l, rd_u2(r)), h = remap(l, rd_u2(r));
		unsigned type = rd_u2(r);
		if (r->bad || s < 0 || e < 0 || h < 0)
			return fail(c, "bad exception table");
		wr_u2(w, (unsigned)s);
		wr_u2(w, (unsigned)e);
		wr_u2(w, (unsigned)h);
		wr_u2(w, type);
	}
	/* Last, so that the method's own handlers are found first. */
	wr_u2(w, PROLOGUE_LEN);
	wr_u2(w, (unsigned)l->body_end);
	wr_u2(w, (unsigned)l->body_end);
	wr_u2(w, 0); /* any */
	return 0;
}

/* Rewrites the body of a Code attribute (after its name and length). */
int code_rewrite(struct ctx *c, const uint8_t *body, size_t blen, struct wr *w, int id)
{
	struct rd r = {body, blen, 0, 0};
	unsigned max_stack = rd_u2(&r), max_locals = rd_u2(&r);
	uint32_t n = rd_u4(&r);
	if (r.bad || n == 0 || n > MAX_CODE || n > r.len - r.pos)
		return fail(c, "bad Code attribute");
	const uint8_t *code = body + r.pos;
	rd_skip(&r, n);
	struct layout l = {0};
	int rc = -1;
	if (layout_build(c, code, n, &l))
		goto cleanup;
	unsigned ms = max_stack + 1 < 2 ? 2 : max_stack + 1;
	wr_u2(w, ms > 65535 ? 65535 : ms);
	wr_u2(w, max_locals);
	wr_u4(w, (uint32_t)(l.body_end + HANDLER_LEN));
	if (emit_code(c, w, code, n, &l, id) || extab_rewrite(c, &r, w, &l))
		goto cleanup;
	unsigned na = rd_u2(&r);
	size_t count_at = w->len, nout = 0;
	const uint8_t *smt = NULL;
	size_t smt_len = 0;
	wr_u2(w, 0);
	for (unsigned i = 0; i < na; i++) {
		unsigned name = rd_u2(&r);
		uint32_t len = rd_u4(&r);
		const uint8_t *ab = body + r.pos;
		rd_skip(&r, len);
		if (r.bad) {
			fail(c, "truncated Code attributes");
			goto cleanup;
		}
		attr_rewrite_fn fn = NULL;
		if (cp_utf8_eq(c->cp, name, "StackMapTable")) {
			smt = ab;
			smt_len = len;
			continue;
		}
		if (cp_utf8_eq(c->cp, name, "LineNumberTable"))
			fn = lnt_rewrite;
		else if (cp_utf8_eq(c->cp, name, "LocalVariableTable") ||
			 cp_utf8_eq(c->cp, name, "LocalVariableTypeTable"))
			fn = lvt_rewrite;
		if (!fn)
			continue; /* dropped: offsets inside would be stale */
		if (attr_emit(c, w, name, fn, ab, len, &l))
			goto cleanup;
		nout++;
	}
	if (c->major >= 50) { /* older class files are verified by type inference */
		if (attr_emit(c, w, c->add->smt_name, smt_rewrite, smt, smt_len, &l))
			goto cleanup;
		nout++;
	}
	if (!r.bad && r.pos != r.len) {
		fail(c, "trailing bytes in Code attribute");
		goto cleanup;
	}
	if (!w->bad) {
		w->b[count_at] = (uint8_t)(nout >> 8);
		w->b[count_at + 1] = (uint8_t)nout;
	}
	rc = 0;
cleanup:
	free(l.map);
	return rc;
}

/* Class-file rewriter (JVMS chapter 4). Each selected method becomes:
 *
 *     sipush id; invokestatic weft/Probe.enter(I)V          prologue, 6 bytes
 *     <original code, every xreturn preceded by
 *      sipush id; invokestatic weft/Probe.exit(I)V>
 *     sipush id; invokestatic weft/Probe.exitThrow(I)V; athrow   catch-all handler
 *
 * No local variable is added (the probe keeps start times on a per-thread
 * stack), so the only new StackMapTable frame is the handler's: no locals,
 * a Throwable on the stack. Inserted bytes shift offsets, so branches,
 * switches (whose padding depends on alignment), the exception table,
 * StackMapTable (including Uninitialized offsets), LineNumberTable and
 * LocalVariable(Type)Table are remapped. Other Code attributes (type
 * annotations on instructions) are dropped: their offsets would be stale. */
#include "jvm/classfile.h"

#include "jvm/classfile_int.h"

/* ---- constant pool ---- */

static int cp_parse(struct rd *r, struct cpool *cp)
{
	cp->base = r->p;
	cp->count = rd_u2(r);
	if (r->bad || cp->count == 0)
		return -1;
	cp->off = calloc(cp->count, sizeof(*cp->off));
	if (!cp->off)
		return -1;
	for (unsigned i = 1; i < cp->count; i++) {
		cp->off[i] = (uint32_t)r->pos;
		uint8_t tag = rd_u1(r);
		switch (tag) {
		case CP_UTF8:
			rd_skip(r, rd_u2(r));
			break;
		case 3:
		case 4:
		case 9:
		case 10:
		case 11:
		case 12:
		case 17:
		case 18:
			rd_skip(r, 4);
			break;
		case CP_LONG:
		case CP_DOUBLE:
			rd_skip(r, 8);
			i++;
			break;
		case CP_CLASS:
		case 8:
		case 16:
		case 19:
		case 20:
			rd_skip(r, 2);
			break;
		case 15:
			rd_skip(r, 3);
			break;
		default:
			return -1;
		}
		if (r->bad)
			return -1;
	}
	cp->end = r->pos;
	return 0;
}

/* The Utf8 entry `i` as pointer and length, or NULL. */
static const uint8_t *cp_utf8(const struct cpool *cp, unsigned i, unsigned *n)
{
	if (i == 0 || i >= cp->count || !cp->off[i] || cp->base[cp->off[i]] != CP_UTF8)
		return NULL;
	*n = be16(cp->base + cp->off[i] + 1);
	return cp->base + cp->off[i] + 3;
}

int cp_utf8_eq(const struct cpool *cp, unsigned i, const char *s)
{
	unsigned n;
	const uint8_t *p = cp_utf8(cp, i, &n);
	return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

/* Copies Utf8 entry `i` into a NUL-terminated malloc'd string. */
static char *cp_strdup(const struct cpool *cp, unsigned i)
{
	unsigned n;
	const uint8_t *p = cp_utf8(cp, i, &n);
	if (!p)
		return NULL;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

static void wr_utf8(struct wr *w, const char *s)
{
	wr_u1(w, CP_UTF8);
	wr_u2(w, (unsigned)strlen(s));
	wr_bytes(w, s, strlen(s));
}

/* Appends the probe's entries after the existing pool (JVMS 4.4). */
static void cp_append(struct wr *w, struct added *a, unsigned base)
{
	a->first = base;
	wr_utf8(w, CF_PROBE_CLASS); /* base+0 */
	wr_u1(w, CP_CLASS);	    /* base+1 */
	wr_u2(w, base);
	wr_utf8(w, CF_PROBE_ENTER);	   /* base+2 */
	wr_utf8(w, CF_PROBE_EXIT);	   /* base+3 */
	wr_utf8(w, CF_PROBE_THROW);	   /* base+4 */
	wr_utf8(w, "(I)V");		   /* base+5 */
	for (unsigned k = 0; k < 3; k++) { /* NameAndType base+6..8 */
		wr_u1(w, 12);
		wr_u2(w, base + 2 + k);
		wr_u2(w, base + 5);
	}
	for (unsigned k = 0; k < 3; k++) { /* Methodref base+9..11 */
		wr_u1(w, 10);
		wr_u2(w, base + 1);
		wr_u2(w, base + 6 + k);
	}
	wr_utf8(w, "java/lang/Throwable"); /* base+12 */
	wr_u1(w, CP_CLASS);		   /* base+13 */
	wr_u2(w, base + 12);
	wr_utf8(w, "StackMapTable"); /* base+14 */
	a->enter = base + 9;
	a->exit = base + 10;
	a->thrw = base + 11;
	a->throwable = base + 13;
	a->smt_name = base + 14;
	a->count = 15;
}

/* ---- class ---- */

#define ACC_BRIDGE   0x0040
#define ACC_NATIVE   0x0100
#define ACC_ABSTRACT 0x0400

static void skip_attrs(struct rd *r)
{
	unsigned n = rd_u2(r);
	for (unsigned i = 0; i < n && !r->bad; i++) {
		rd_skip(r, 2);
		rd_skip(r, rd_u4(r));
	}
}

/* Reads the header and pool; leaves `r` at access_flags. */
static int read_head(struct ctx *c, struct rd *r, struct cpool *cp)
{
	if (rd_u4(r) != 0xCAFEBABEu)
		return fail(c, "not a class file");
	rd_u2(r);
	c->major = rd_u2(r);
	if (r->bad || c->major < 45 || c->major > 65)
		return fail(c, "unsupported class-file version");
	if (cp_parse(r, cp))
		return fail(c, "malformed constant pool");
	return 0;
}

static char *class_name(const struct cpool *cp, unsigned this_class)
{
	if (this_class == 0 || this_class >= cp->count || !cp->off[this_class] ||
	    cp->base[cp->off[this_class]] != CP_CLASS)
		return NULL;
	return cp_strdup(cp, be16(cp->base + cp->off[this_class] + 1));
}

int cf_class_name(const uint8_t *in, size_t len, char *buf, size_t buflen)
{
	struct rd r = {in, len, 0, 0};
	struct cpool cp = {0};
	struct ctx c = {0};
	int rc = -1;
	if (read_head(&c, &r, &cp) == 0) {
		rd_u2(&r);
		char *name = class_name(&cp, rd_u2(&r));
		if (name && !r.bad && strlen(name) < buflen) {
			strcpy(buf, name);
			rc = 0;
		}
		free(name);
	}
	free(cp.off);
	return rc;
}

/* First pass: which methods to instrument, and with which id. Returns the
 * number selected; ids[i] is -1 for a method left alone. */
static int select_methods(struct ctx *c, struct rd *r, const char *cls, cf_select_fn select,
			  void *sctx, int **ids_out, unsigned *nm_out)
{
	unsigned nm = rd_u2(r), nsel = 0;
	int *ids = calloc(nm ? nm : 1, sizeof(*ids));
	if (!ids)
		return fail(c, "out of memory");
	*ids_out = ids;
	*nm_out = nm;
	for (unsigned i = 0; i < nm; i++) {
		unsigned acc = rd_u2(r), name = rd_u2(r), desc = rd_u2(r);
		int has_code = 0;
		unsigned na = rd_u2(r);
		for (unsigned k = 0; k < na && !r->bad; k++) {
			has_code |= cp_utf8_eq(c->cp, rd_u2(r), "Code");
			rd_skip(r, rd_u4(r));
		}
		ids[i] = -1;
		if (r->bad)
			return fail(c, "truncated methods");
		char *mn = cp_strdup(c->cp, name), *md = cp_strdup(c->cp, desc);
		int id = -1;
		if (mn && md && has_code && !(acc & (ACC_BRIDGE | ACC_NATIVE | ACC_ABSTRACT)) &&
		    mn[0] != '<' && select(sctx, cls, mn, md, &id) && id >= 0 && id <= CF_MAX_ID) {
			ids[i] = id;
			nsel++;
		}
		free(mn);
		free(md);
	}
	return (int)nsel;
}

static int write_methods(struct ctx *c, struct rd *r, struct wr *w, const int *ids)
{
	unsigned nm = rd_u2(r);
	wr_u2(w, nm);
	for (unsigned i = 0; i < nm; i++) {
		wr_bytes(w, r->p + r->pos, 6);
		rd_skip(r, 6);
		unsigned na = rd_u2(r);
		wr_u2(w, na);
		for (unsigned k = 0; k < na; k++) {
			unsigned name = rd_u2(r);
			uint32_t len = rd_u4(r);
			const uint8_t *body = r->p + r->pos;
			rd_skip(r, len);
			if (r->bad)
				return fail(c, "truncated method attributes");
			if (ids[i] < 0 || !cp_utf8_eq(c->cp, name, "Code")) {
				wr_u2(w, name);
				wr_u4(w, len);
				wr_bytes(w, body, len);
				continue;
			}
			wr_u2(w, name);
			size_t at = w->len;
			wr_u4(w, 0);
			if (code_rewrite(c, body, len, w, ids[i]))
				return -1;
			put_u4(w, at, (uint32_t)(w->len - at - 4));
		}
	}
	return 0;
}

int cf_instrument(const uint8_t *in, size_t len, cf_select_fn select, void *sctx, uint8_t **out,
		  size_t *out_len, char *err, size_t errlen)
{
	struct rd r = {in, len, 0, 0};
	struct cpool cp = {0};
	struct added add = {0};
	struct ctx c = {.cp = &cp, .add = &add, .err = err, .errlen = errlen};
	struct wr w = {0};
	int *ids = NULL, rc = -1, nsel;
	unsigned nm = 0;
	char *cls = NULL;

	if (read_head(&c, &r, &cp))
		goto cleanup;
	rd_u2(&r); /* access_flags */
	cls = class_name(&cp, rd_u2(&r));
	rd_u2(&r); /* super_class */
	rd_skip(&r, 2 * (size_t)rd_u2(&r));
	unsigned nf = rd_u2(&r);
	for (unsigned i = 0; i < nf && !r.bad; i++) {
		rd_skip(&r, 6);
		skip_attrs(&r);
	}
	if (r.bad || !cls) {
		fail(&c, "malformed class header or fields");
		goto cleanup;
	}
	size_t methods_at = r.pos;
	nsel = select_methods(&c, &r, cls, select, sctx, &ids, &nm);
	if (nsel <= 0) {
		rc = nsel;
		goto cleanup;
	}
	if (cp.count + 15 > 65535) {
		fail(&c, "constant pool full");
		goto cleanup;
	}
	wr_bytes(&w, in, 8);
	wr_u2(&w, cp.count + 15);
	wr_bytes(&w, in + 10, cp.end - 10);
	cp_append(&w, &add, cp.count);
	wr_bytes(&w, in + cp.end, methods_at - cp.end);
	r.pos = methods_at;
	if (write_methods(&c, &r, &w, ids))
		goto cleanup;
	size_t attrs_at = r.pos;
	skip_attrs(&r);
	if (r.bad || r.pos != len) {
		fail(&c, "malformed class attributes");
		goto cleanup;
	}
	wr_bytes(&w, in + attrs_at, len - attrs_at);
	if (w.bad) {
		fail(&c, "out of memory");
		goto cleanup;
	}
	*out = w.b;
	*out_len = w.len;
	w.b = NULL;
	rc = nsel;
cleanup:
	free(w.b);
	free(ids);
	free(cls);
	free(cp.off);
	return rc;
}

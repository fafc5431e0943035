/* AMQP 0-9-1 frames followed through captured chunks (see amqp.h).
 *
 * One state machine takes the stream a piece at a time: known bytes, or an
 * uncaptured region given by its length alone. In sync it walks frame
 * headers, payloads and end octets; an uncaptured payload is skipped by its
 * size, an uncaptured header loses sync. Out of sync it looks only at chunk
 * starts (calls start where applications start writing, usually a frame),
 * and accepts one that passes the checks of sniff(); the first frame after
 * such a guess is on probation: a wrong end octet there is a bad guess, not
 * a protocol error. Method and content header payloads are copied (up to
 * buffer_max) until their frame ends, then decoded; body bytes are counted
 * and fingerprinted as they pass. */
#include "analysis/amqp.h"
#include "analysis/amqp_decode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_METHOD	1
#define FRAME_HEADER	2
#define FRAME_BODY	3
#define FRAME_HEARTBEAT 8
#define FRAME_END	0xce
#define FRAME_HDR_LEN	7
#define PROTO_HDR_LEN	8
#define SNIFF_LEN	11   /* frame header, then class and method (or weight) */
#define FRAME_MIN_SIZE	4096 /* no peer may negotiate a smaller frame-max */
#define BUF_KEEP	4096 /* a larger frame buffer is freed after its frame */
#define CLASS_BASIC	60
#define FNV_BASIS	0xcbf29ce484222325ull
#define FNV_PRIME	0x100000001b3ull

/* Sniff results beyond the public ones: "AMQP" then another version. */
#define SNIFF_OTHER_VERSION 100

static const uint8_t proto_header[PROTO_HDR_LEN] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

static const char *const default_headers[AMQP_HEADERS_MAX] = {"traceparent", "tracestate",
							      "x-request-id", "x-correlation-id"};

/* ---- the stream ------------------------------------------------------------------------- */

enum phase {
	PH_PROTO,   /* inside the protocol header */
	PH_HEADER,  /* inside a frame header (hdr_have bytes of it known) */
	PH_PAYLOAD, /* inside a frame's payload */
	PH_END,	    /* at a frame's end octet */
};

enum pend_state {
	PEND_HEADER, /* the method came, its content header has not */
	PEND_BODY,   /* the header came, body frames follow */
};

/* A message in flight on a channel. */
struct pending {
	struct amqp_record rec;
	uint8_t state;	 /* enum pend_state */
	bool size_known; /* the header's body size was captured */
	bool body_hole;	 /* a body byte was not captured: the fingerprint stops there */
};

struct amqp_stream {
	struct amqp_opts opts;			    /* defaults filled in */
	char names[AMQP_HEADERS_MAX][AMQP_STR_LEN]; /* wanted header names, "" if unused */
	enum amqp_sync sync;
	bool started;	/* a chunk came: skip_mark is meaningful */
	bool had_sync;	/* sync was confirmed once: losing it opens a gap */
	bool probation; /* synced on a guess: the first frame must end well */
	bool gap_open;	/* a gap record is due when sync is confirmed again */

	/* In sync: where the stream is and what frame it is in. */
	uint32_t pos;	      /* offset of the next byte */
	uint32_t frame_start; /* offset of the current frame's first byte */
	uint8_t phase;	      /* enum phase */
	uint8_t hdr[PROTO_HDR_LEN];
	uint8_t hdr_have; /* header bytes known (protocol or frame header) */
	uint8_t ftype;
	uint16_t fchan;
	uint32_t fsize;		  /* payload bytes */
	uint32_t fdone;		  /* payload bytes passed */
	bool fhole;		  /* part of the payload was not captured */
	uint8_t *buf;		  /* method/header payload, contiguous from its start */
	uint32_t buf_len;	  /* bytes in buf */
	uint32_t buf_cap;	  /* bytes allocated */
	struct pending *body_msg; /* the message the current body frame feeds, or NULL */
	uint32_t frame_max;	  /* from connection.tune/tune-ok; 0: not seen */

	/* Out of sync: what is skipped, and a possible frame start. */
	uint32_t skip_mark; /* bytes before it are accounted for */
	uint32_t lost_from; /* first byte of the open gap */
	uint32_t resync_at; /* where the last resync guess was made */
	uint64_t gap_bytes; /* skipped since lost_from */
	struct {
		bool active;  /* bytes of a chunk start too short to judge */
		uint32_t off; /* stream offset of b[0] */
		uint8_t n;    /* bytes in b */
		uint8_t b[SNIFF_LEN];
	} cand;

	struct pending **pend; /* messages in flight, oldest first */
	uint32_t npend;

	amqp_emit_fn emit; /* the current feed's callback */
	void *ctx;
	int ret;		    /* the current feed's result */
	struct amqp_record scratch; /* method and gap records are built here */
	struct amqp_stats stats;
	char error[160];
	bool has_error;
};

static inline uint64_t fnv1a64(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

/* Is offset a after offset b (both TCP sequence numbers)? */
static inline bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static uint32_t frame_limit(const struct amqp_stream *s)
{
	uint32_t m = s->frame_max;

	if (!m || m > AMQP_FRAME_HARD_MAX)
		return AMQP_FRAME_HARD_MAX;
	return m < FRAME_MIN_SIZE ? FRAME_MIN_SIZE : m;
}

/* ---- records ---------------------------------------------------------------------------- */

static void emit(struct amqp_stream *s, const struct amqp_record *r)
{
	if (s->emit)
		s->emit(r, s->ctx);
}

/* Fails the stream at the current frame. On probation (sync was a guess)
 * the guess was wrong: no error, the search for a frame start goes on. */
static void fail(struct amqp_stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static struct pending *pend_find(const struct amqp_stream *s, uint16_t channel)
{
	for (uint32_t i = 0; i < s->npend; i++)
		if (s->pend[i]->rec.channel == channel)
			return s->pend[i];
	return NULL;
}

/* Emits a message and forgets it; extra flags say why it ends here. */
static void pend_emit(struct amqp_stream *s, struct pending *m, uint32_t flags)
{
	uint32_t i;

	m->rec.flags |= flags;
	if (m->rec.flags & AMQP_RF_INCOMPLETE)
		s->stats.messages_incomplete++;
	s->stats.messages++;
	emit(s, &m->rec);
	for (i = 0; i < s->npend && s->pend[i] != m; i++)
		;
	if (i < s->npend) {
		memmove(&s->pend[i], &s->pend[i + 1], (s->npend - i - 1) * sizeof(*s->pend));
		s->npend--;
	}
	if (s->body_msg == m)
		s->body_msg = NULL;
	free(m);
}

static void pend_flush_all(struct amqp_stream *s)
{
	while (s->npend)
		pend_emit(s, s->pend[0], AMQP_RF_INCOMPLETE);
}

/* A content method starts a message on its channel: its content follows. */
static void pend_open(struct amqp_stream *s, const struct amqp_record *rec)
{
	struct pending *m;

	if (s->npend == s->opts.pending_max)
		pend_emit(s, s->pend[0], AMQP_RF_INCOMPLETE);
	m = malloc(sizeof(*m));
	if (!m) {
		s->stats.nomem++;
		s->ret = -ENOMEM;
		return;
	}
	memcpy(&m->rec, rec, sizeof(*rec));
	m->rec.body_fp = FNV_BASIS;
	m->state = PEND_HEADER;
	m->size_known = false;
	m->body_hole = false;
	s->pend[s->npend++] = m;
}

/* ---- sync ------------------------------------------------------------------------------- */

/* Counts the bytes up to off as skipped. */
static void skip_to(struct amqp_stream *s, uint32_t off)
{
	if (seq_after(off, s->skip_mark)) {
		s->stats.bytes_skipped += off - s->skip_mark;
		s->gap_bytes += off - s->skip_mark;
		s->skip_mark = off;
	}
}

/* Sync is lost at the current frame: messages in flight cannot be followed
 * and everything from the frame on is skipped until a resync. */
static void begin_skip(struct amqp_stream *s)
{
	pend_flush_all(s);
	s->body_msg = NULL;
	s->cand.active = false;
	if (!s->gap_open) {
		s->lost_from = s->frame_start;
		s->gap_bytes = 0;
		s->gap_open = s->had_sync;
	}
	if (seq_after(s->frame_start, s->skip_mark))
		s->skip_mark = s->frame_start;
}

static void lose_sync(struct amqp_stream *s)
{
	s->sync = AMQP_SYNC_NONE;
	s->stats.desyncs++;
	begin_skip(s);
}

static void fail(struct amqp_stream *s, const char *fmt, ...)
{
	va_list ap;

	if (s->probation) {
		s->sync = AMQP_SYNC_NONE;
		s->stats.resync_rejects++;
	} else {
		va_start(ap, fmt);
		vsnprintf(s->error, sizeof(s->error), fmt, ap);
		va_end(ap);
		s->has_error = true;
		s->sync = AMQP_SYNC_BROKEN;
		s->stats.errors++;
		s->ret = -EPROTO;
	}
	begin_skip(s);
}

/* The frame boundary is certain: a gap left behind is reported. */
static void sync_confirmed(struct amqp_stream *s)
{
	struct amqp_record *g = &s->scratch;

	s->probation = false;
	s->had_sync = true;
	if (!s->gap_open)
		return;
	s->gap_open = false;
	s->stats.resyncs++;
	memset(g, 0, sizeof(*g));
	g->kind = AMQP_REC_GAP;
	g->start = s->lost_from;
	g->end = s->resync_at;
	g->gap_bytes = s->gap_bytes;
	emit(s, g);
}

static void start_sync(struct amqp_stream *s, uint32_t off, bool proto)
{
	s->sync = AMQP_SYNC_OK;
	s->pos = s->frame_start = s->resync_at = off;
	s->phase = proto ? PH_PROTO : PH_HEADER;
	s->hdr_have = 0;
	s->probation = !proto;
	if (proto)
		sync_confirmed(s);
}

/* ---- frames ----------------------------------------------------------------------------- */

static void method_done(struct amqp_stream *s)
{
	struct rd r = {.p = s->buf, .have = s->buf_len, .size = s->fsize};
	struct amqp_record *rec = &s->scratch;
	const struct method_info *mi;
	struct pending *m;

	if (s->fsize < 4) {
		fail(s, "amqp: method frame of %u bytes at offset %u", s->fsize, s->frame_start);
		return;
	}
	/* Content follows its method at once: a method ends any message in
	 * flight on its channel. */
	m = pend_find(s, s->fchan);
	if (m)
		pend_emit(s, m, AMQP_RF_INCOMPLETE);
	memset(rec, 0, sizeof(*rec));
	rec->channel = s->fchan;
	rec->class_id = rd_u16(&r);
	rec->method_id = rd_u16(&r);
	if (r.status)
		return; /* which method it was was not captured */
	mi = amqp_method_find(rec->class_id, rec->method_id);
	rec->kind = mi && mi->kind ? mi->kind : AMQP_REC_METHOD;
	rec->start = s->frame_start;
	rec->end = s->pos;
	amqp_rd_args(&r, rec);
	if (r.status == RD_BAD) {
		fail(s, "amqp: %s arguments overrun the %u-byte frame at offset %u",
		     mi ? mi->name : "method", s->fsize, s->frame_start);
		return;
	}
	if (r.status == RD_SHORT)
		rec->flags |= AMQP_RF_TRUNCATED;
	if (rec->class_id == 10 && (rec->method_id == 30 || rec->method_id == 31) && rec->frame_max)
		s->frame_max = rec->frame_max;
	if (rec->kind != AMQP_REC_METHOD) {
		pend_open(s, rec);
		return;
	}
	s->stats.methods++;
	emit(s, rec);
}

static void header_done(struct amqp_stream *s)
{
	struct rd r = {.p = s->buf, .have = s->buf_len, .size = s->fsize};
	struct pending *m = pend_find(s, s->fchan);
	uint16_t class_id;
	uint64_t body_size;

	if (!m || m->state != PEND_HEADER) {
		if (m) /* a second header: the body was lost */
			pend_emit(s, m, AMQP_RF_INCOMPLETE);
		s->stats.frames_orphan++;
		return;
	}
	class_id = rd_u16(&r);
	if (!r.status && class_id != m->rec.class_id) {
		fail(s, "amqp: content header of class %u after %s at offset %u", class_id,
		     amqp_method_name(m->rec.class_id, m->rec.method_id), s->frame_start);
		return;
	}
	rd_skip(&r, 2); /* weight */
	body_size = rd_u64(&r);
	if (!r.status) {
		m->rec.body_size = body_size;
		m->size_known = true;
	}
	amqp_rd_props(&r, (amqp_names)s->names, &m->rec.props);
	if (r.status == RD_BAD) {
		fail(s, "amqp: content header of %u bytes at offset %u is malformed", s->fsize,
		     s->frame_start);
		return;
	}
	if (r.status == RD_SHORT)
		m->rec.flags |= AMQP_RF_TRUNCATED;
	m->rec.end = s->pos;
	m->state = PEND_BODY;
	if (m->size_known && !body_size)
		pend_emit(s, m, 0);
}

static void body_done(struct amqp_stream *s)
{
	struct pending *m = s->body_msg;

	s->body_msg = NULL;
	if (!m) {
		s->stats.frames_orphan++;
		return;
	}
	m->rec.end = s->pos;
	if (m->size_known && m->rec.body_seen >= m->rec.body_size)
		pend_emit(s, m, 0);
}

/* Body bytes passing (q NULL: not captured): counted and fingerprinted. */
static void body_bytes(struct amqp_stream *s, const uint8_t *q, uint32_t k)
{
	struct pending *m = s->body_msg;
	uint32_t room;

	if (!m)
		return;
	m->rec.body_seen += k;
	if (!q) {
		m->body_hole = true;
		return;
	}
	m->rec.body_captured += k;
	if (!m->body_hole && m->rec.body_head_len < AMQP_BODY_HEAD) {
		uint32_t h = AMQP_BODY_HEAD - m->rec.body_head_len;

		memcpy(m->rec.body_head + m->rec.body_head_len, q, k < h ? k : h);
		m->rec.body_head_len += k < h ? k : h;
	}
	room = s->opts.fingerprint_len - m->rec.body_fp_len;
	if (m->body_hole || !room)
		return;
	if (k > room)
		k = room;
	m->rec.body_fp = fnv1a64(m->rec.body_fp, q, k);
	m->rec.body_fp_len += k;
}

/* The message a body frame on the current channel belongs to, or NULL. */
static struct pending *body_target(struct amqp_stream *s)
{
	struct pending *m = pend_find(s, s->fchan);

	if (m && m->state == PEND_BODY)
		return m;
	if (m) /* a body before the header: the header was lost */
		pend_emit(s, m, AMQP_RF_INCOMPLETE);
	return NULL;
}

/* Room for a method or header payload, up to buffer_max. */
static void buf_reserve(struct amqp_stream *s)
{
	uint32_t want = s->fsize < s->opts.buffer_max ? s->fsize : s->opts.buffer_max;
	uint8_t *b;

	if (want <= s->buf_cap)
		return;
	b = realloc(s->buf, want);
	if (!b) {
		s->fhole = true; /* decoded as far as nothing: an uncaptured frame */
		s->stats.nomem++;
		return;
	}
	s->buf = b;
	s->buf_cap = want;
}

/* A frame header is complete: checks it and sets up its payload. */
static void frame_begin(struct amqp_stream *s)
{
	s->ftype = s->hdr[0];
	s->fchan = be16(s->hdr + 1);
	s->fsize = be32(s->hdr + 3);
	s->fdone = 0;
	s->fhole = false;
	s->buf_len = 0;
	s->body_msg = NULL;
	if (s->ftype != FRAME_METHOD && s->ftype != FRAME_HEADER && s->ftype != FRAME_BODY &&
	    s->ftype != FRAME_HEARTBEAT) {
		fail(s, "amqp: unknown frame type %u at offset %u", s->ftype, s->frame_start);
		return;
	}
	if (s->fsize > frame_limit(s)) {
		fail(s, "amqp: frame size %u at offset %u exceeds the %s of %u", s->fsize,
		     s->frame_start, s->frame_max ? "frame-max" : "limit", frame_limit(s));
		return;
	}
	if (s->ftype == FRAME_HEARTBEAT && s->fchan) {
		fail(s, "amqp: heartbeat on channel %u at offset %u", s->fchan, s->frame_start);
		return;
	}
	if (s->ftype == FRAME_METHOD || s->ftype == FRAME_HEADER)
		buf_reserve(s);
	else if (s->ftype == FRAME_BODY)
		s->body_msg = body_target(s);
	s->phase = s->fsize ? PH_PAYLOAD : PH_END;
}

static void frame_done(struct amqp_stream *s)
{
	switch (s->ftype) {
	case FRAME_METHOD:
		method_done(s);
		break;
	case FRAME_HEADER:
		header_done(s);
		break;
	case FRAME_BODY:
		body_done(s);
		break;
	default:
		s->stats.heartbeats++;
	}
	if (s->buf_cap > BUF_KEEP) { /* one large frame does not pin its size for good */
		free(s->buf);
		s->buf = NULL;
		s->buf_cap = 0;
	}
	if (s->sync != AMQP_SYNC_OK)
		return;
	s->stats.frames++;
	if (s->fhole)
		s->stats.frames_partial++;
}

/* ---- the state machine ------------------------------------------------------------------ */

/* Each step takes bytes at s->pos (q NULL: n uncaptured bytes) and returns
 * how many it used; a step that loses sync may use none. */

static uint32_t step_proto(struct amqp_stream *s, const uint8_t *q, uint32_t n)
{
	uint32_t k = PROTO_HDR_LEN - s->hdr_have;

	if (!q) {
		lose_sync(s);
		return 0;
	}
	if (k > n)
		k = n;
	s->hdr_have += k;
	s->pos += k;
	if (s->hdr_have == PROTO_HDR_LEN) {
		s->phase = PH_HEADER;
		s->hdr_have = 0;
		s->frame_start = s->pos;
	}
	return k;
}

static uint32_t step_header(struct amqp_stream *s, const uint8_t *q, uint32_t n)
{
	uint32_t k = FRAME_HDR_LEN - s->hdr_have;

	if (!q) { /* the frame's size is not known: where the next one starts neither */
		lose_sync(s);
		return 0;
	}
	if (k > n)
		k = n;
	memcpy(s->hdr + s->hdr_have, q, k);
	s->hdr_have += k;
	s->pos += k;
	if (s->hdr_have == FRAME_HDR_LEN)
		frame_begin(s);
	return k;
}

static uint32_t step_payload(struct amqp_stream *s, const uint8_t *q, uint32_t n)
{
	uint32_t k = s->fsize - s->fdone;

	if (k > n)
		k = n;
	if (!q)
		s->fhole = true;
	if (s->ftype == FRAME_BODY) {
		body_bytes(s, q, k);
	} else if (!s->fhole && s->buf_len < s->buf_cap) {
		uint32_t c = s->buf_cap - s->buf_len < k ? s->buf_cap - s->buf_len : k;

		memcpy(s->buf + s->buf_len, q, c);
		s->buf_len += c;
	}
	s->fdone += k;
	s->pos += k;
	if (s->fdone == s->fsize)
		s->phase = PH_END;
	return k;
}

static uint32_t step_end(struct amqp_stream *s, const uint8_t *q)
{
	if (q && *q != FRAME_END) {
		fail(s, "amqp: frame end 0x%02x at offset %u, expected 0xce", *q, s->pos);
		return 0;
	}
	s->pos++;
	if (s->probation)
		sync_confirmed(s);
	frame_done(s);
	s->phase = PH_HEADER;
	s->hdr_have = 0;
	s->frame_start = s->pos;
	return 1;
}

/* Feeds n bytes at s->pos: known ones from p, or uncaptured ones when p is
 * NULL. Stops where sync is lost. */
static void run(struct amqp_stream *s, const uint8_t *p, uint32_t n)
{
	uint32_t used = 0;

	while (used < n && s->sync == AMQP_SYNC_OK) {
		const uint8_t *q = p ? p + used : NULL;

		switch (s->phase) {
		case PH_PROTO:
			used += step_proto(s, q, n - used);
			break;
		case PH_HEADER:
			used += step_header(s, q, n - used);
			break;
		case PH_PAYLOAD:
			used += step_payload(s, q, n - used);
			break;
		default:
			used += step_end(s, q);
		}
	}
}

/* ---- recognising a frame start ---------------------------------------------------------- */

static int sniff_frame(const uint8_t *p, size_t n, uint32_t limit)
{
	const struct method_info *mi;
	uint16_t ch;
	uint32_t size;

	if (p[0] != FRAME_METHOD && p[0] != FRAME_HEADER && p[0] != FRAME_HEARTBEAT)
		return AMQP_SNIFF_NO;
	if (n < FRAME_HDR_LEN)
		return AMQP_SNIFF_MORE;
	ch = be16(p + 1);
	size = be32(p + 3);
	if (size > limit)
		return AMQP_SNIFF_NO;
	if (p[0] == FRAME_HEARTBEAT) {
		if (ch || size)
			return AMQP_SNIFF_NO;
		if (n < FRAME_HDR_LEN + 1)
			return AMQP_SNIFF_MORE;
		return p[FRAME_HDR_LEN] == FRAME_END ? AMQP_SNIFF_FRAME : AMQP_SNIFF_NO;
	}
	if (n < SNIFF_LEN)
		return AMQP_SNIFF_MORE;
	if (p[0] == FRAME_METHOD) {
		mi = amqp_method_find(be16(p + 7), be16(p + 9));
		/* Connection methods go on channel 0, all others elsewhere. */
		if (!mi || size < 4u + mi->min_args || (mi->class_id == 10) != (ch == 0))
			return AMQP_SNIFF_NO;
	} else if (be16(p + 7) != CLASS_BASIC || be16(p + 9) || size < 14 || !ch) {
		return AMQP_SNIFF_NO; /* only basic has content; the weight is 0 */
	}
	if (n >= (size_t)size + 8 && p[size + 7] != FRAME_END)
		return AMQP_SNIFF_NO;
	return AMQP_SNIFF_FRAME;
}

static int sniff(const uint8_t *p, size_t n, uint32_t limit)
{
	if (!n)
		return AMQP_SNIFF_MORE;
	if (p[0] == 'A') {
		size_t m = n < PROTO_HDR_LEN ? n : PROTO_HDR_LEN;

		for (size_t i = 0; i < m; i++)
			if (p[i] != proto_header[i])
				return i >= 4 ? SNIFF_OTHER_VERSION : AMQP_SNIFF_NO;
		return n < PROTO_HDR_LEN ? AMQP_SNIFF_MORE : AMQP_SNIFF_HEADER;
	}
	return sniff_frame(p, n, limit);
}

enum amqp_sniff amqp_sniff(const uint8_t *p, size_t n)
{
	int v;

	if (!p && n)
		return AMQP_SNIFF_NO;
	v = sniff(p, n, AMQP_FRAME_HARD_MAX);
	return v == SNIFF_OTHER_VERSION ? AMQP_SNIFF_NO : (enum amqp_sniff)v;
}

/* Out of sync, a chunk comes: is its start (with the bytes of earlier
 * contiguous chunks too short to judge) a frame start? True when sync was
 * taken there and the chunk is to be fed from s->pos. */
static bool try_resync(struct amqp_stream *s, uint32_t seq, uint32_t len, const uint8_t *cap,
		       uint32_t ncap)
{
	uint8_t view[SNIFF_LEN];
	uint32_t vn, take;
	int v;

	if (!seq_after(seq + len, s->skip_mark)) { /* all of it passed already */
		s->stats.bytes_overlap += len;
		return false;
	}
	if (seq_after(s->skip_mark, seq)) { /* partly: its start is no news */
		s->stats.bytes_overlap += s->skip_mark - seq;
		skip_to(s, seq + len);
		return false;
	}
	if (!s->cand.active || seq != s->cand.off + s->cand.n) {
		s->cand.off = seq;
		s->cand.n = 0;
	}
	s->cand.active = false;
	vn = s->cand.n;
	memcpy(view, s->cand.b, vn);
	take = ncap < SNIFF_LEN - vn ? ncap : SNIFF_LEN - vn;
	if (take) /* cap may be NULL when nothing was captured */
		memcpy(view + vn, cap, take);
	vn += take;
	v = sniff(view, vn, frame_limit(s));
	if (v == AMQP_SNIFF_MORE && take == ncap && ncap == len) {
		memcpy(s->cand.b + s->cand.n, cap, ncap); /* wait for the next chunk */
		s->cand.n += ncap;
		s->cand.active = true;
		return false;
	}
	if (v == AMQP_SNIFF_HEADER || v == AMQP_SNIFF_FRAME) {
		skip_to(s, s->cand.off);
		start_sync(s, s->cand.off, v == AMQP_SNIFF_HEADER);
		run(s, s->cand.b, s->cand.n);
		if (s->sync == AMQP_SYNC_OK)
			return true;
	} else if (v == SNIFF_OTHER_VERSION) {
		skip_to(s, s->cand.off);
		s->frame_start = s->cand.off;
		fail(s, "amqp: protocol header for version %u-%u-%u at offset %u, not 0-9-1",
		     view[5], view[6], view[7], s->cand.off);
	} else if (vn) {
		s->stats.resync_rejects++;
	}
	skip_to(s, seq + len);
	return false;
}

/* In sync, a chunk at or before s->pos comes: fed from s->pos, what was
 * passed already trimmed. */
static void feed_sync(struct amqp_stream *s, uint32_t seq, uint32_t len, const uint8_t *cap,
		      uint32_t ncap)
{
	uint32_t end = seq + len;

	if (seq_after(s->pos, seq)) {
		uint32_t old = s->pos - seq;

		if (old >= len) {
			s->stats.bytes_overlap += len;
			return;
		}
		s->stats.bytes_overlap += old;
		len -= old;
		if (old >= ncap) {
			ncap = 0;
		} else {
			cap += old;
			ncap -= old;
		}
	}
	run(s, cap, ncap);
	run(s, NULL, len - ncap);
	if (s->sync != AMQP_SYNC_OK)
		skip_to(s, end);
}

/* ---- the interface ---------------------------------------------------------------------- */

struct amqp_stream *amqp_stream__new(const struct amqp_opts *opts)
{
	static const struct amqp_opts none;
	struct amqp_stream *s = calloc(1, sizeof(*s));
	bool named = false;

	if (!s)
		return NULL;
	if (!opts)
		opts = &none;
	s->opts = *opts;
	if (!s->opts.fingerprint_len)
		s->opts.fingerprint_len = AMQP_FINGERPRINT_LEN;
	if (!s->opts.buffer_max)
		s->opts.buffer_max = AMQP_BUFFER_MAX;
	if (!s->opts.pending_max || s->opts.pending_max > 65536)
		s->opts.pending_max = s->opts.pending_max ? 65536 : AMQP_PENDING_MAX;
	for (int i = 0; i < AMQP_HEADERS_MAX; i++)
		named |= opts->headers[i] != NULL;
	for (int i = 0; i < AMQP_HEADERS_MAX; i++) {
		const char *name = named ? opts->headers[i] : default_headers[i];

		snprintf(s->names[i], sizeof(s->names[i]), "%s", name ? name : "");
		s->opts.headers[i] = NULL; /* the caller's strings are not kept */
	}
	s->pend = calloc(s->opts.pending_max, sizeof(*s->pend));
	if (!s->pend) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void amqp_stream__free(struct amqp_stream *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->npend; i++)
		free(s->pend[i]);
	free(s->pend);
	free(s->buf);
	free(s);
}

int amqp_stream__feed(struct amqp_stream *s, uint32_t seq, uint32_t len, const uint8_t *captured,
		      uint32_t ncaptured, amqp_emit_fn emit_fn, void *ctx)
{
	if (!s || (ncaptured && !captured))
		return -EINVAL;
	if (ncaptured > len)
		ncaptured = len;
	if (!len)
		return 0;
	s->emit = emit_fn;
	s->ctx = ctx;
	s->ret = 0;
	if (!s->started) {
		s->started = true;
		s->skip_mark = seq;
	}
	if (s->sync == AMQP_SYNC_OK && seq_after(seq, s->pos)) {
		/* Calls never reported: if sync is lost in them, this chunk's
		 * start may still be a frame's. */
		run(s, NULL, seq - s->pos);
		if (s->sync != AMQP_SYNC_OK)
			skip_to(s, seq);
	}
	if (s->sync != AMQP_SYNC_OK && !try_resync(s, seq, len, captured, ncaptured))
		return s->ret;
	feed_sync(s, seq, len, captured, ncaptured);
	return s->ret;
}

void amqp_stream__flush(struct amqp_stream *s, amqp_emit_fn emit_fn, void *ctx)
{
	if (!s)
		return;
	s->emit = emit_fn;
	s->ctx = ctx;
	pend_flush_all(s);
}

enum amqp_sync amqp_stream__state(const struct amqp_stream *s)
{
	return s->sync;
}

const char *amqp_stream__error(const struct amqp_stream *s)
{
	return s->has_error ? s->error : NULL;
}

void amqp_stream__stats(const struct amqp_stream *s, struct amqp_stats *out)
{
	*out = s->stats;
}

/* ---- fuzzing ---------------------------------------------------------------------------- */

static uint32_t xorshift32(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void fuzz_count(const struct amqp_record *r, void *ctx)
{
	(void)r;
	++*(int *)ctx;
}

int amqp_fuzz_one(const uint8_t *data, size_t n)
{
	struct amqp_opts small = {.fingerprint_len = 8, .buffer_max = 48, .pending_max = 2};
	struct amqp_stream *s;
	uint32_t rnd, seq;
	size_t off = 4;
	int count = 0;

	if (n < 4)
		return 0;
	rnd = be32(data) | 1;
	seq = 0xffffff00u + (rnd & 0x1ff); /* wrap-around within the first chunks */
	s = amqp_stream__new(rnd & 0x100 ? &small : NULL);
	if (!s)
		return 0;
	while (off < n) {
		uint32_t r = xorshift32(&rnd), len = 1 + r % 48, extra = 0, ncap;

		if (len > n - off)
			len = (uint32_t)(n - off);
		ncap = (r >> 8) % 5 ? len : len / 2; /* a chunk's tail uncaptured */
		if ((r >> 12) % 7 == 0)
			extra = (r >> 16) % 300; /* a longer call than the bytes given */
		if ((r >> 20) % 11 == 0)
			seq += (r >> 24) % 40; /* a call never reported */
		if ((r >> 26) % 13 == 0)
			seq -= (r >> 28) % 16; /* bytes reported twice */
		amqp_stream__feed(s, seq, len + extra, ncap ? data + off : NULL, ncap, fuzz_count,
				  &count);
		seq += len + extra;
		off += len;
	}
	amqp_stream__flush(s, fuzz_count, &count);
	amqp_stream__free(s);
	return count;
}

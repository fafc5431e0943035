/* AMQP 0-9-1 from captured TCP chunks: one parser per connection direction
 * follows the frames through the byte stream and emits a record per message
 * (a method with its content header and body frames) and per other method.
 *
 * The input is what the sensor reports: for each send or recv call, the TCP
 * sequence number of its first byte, how many bytes it moved, and the first
 * few of those bytes. Anything not captured (the tail of a call, a call never
 * reported) is a region of known length and unknown content. A frame whose
 * payload lies there is skipped by its size; a frame whose header lies there
 * cannot be measured, so the parser falls out of sync until a later chunk
 * starts where a frame plausibly starts. Bodies are never buffered: only
 * their size, how much of them was captured and a fingerprint of their first
 * bytes are kept, so two observers of one message (publisher and consumer)
 * can be matched by fingerprint.
 *
 * Threading: a stream belongs to one thread. Memory: a stream holds at most
 * opts.buffer_max bytes of one method or header frame and opts.pending_max
 * messages in flight (one per channel), whatever the input.
 *
 * Functions return 0 or a negative errno unless said otherwise; records
 * passed to the callback live until it returns. */
#ifndef WEFT_AMQP_H
#define WEFT_AMQP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AMQP_STR_LEN	     256	  /* a short string's 255 bytes and a NUL */
#define AMQP_HEADERS_MAX     4		  /* header names whose values a record carries */
#define AMQP_FRAME_HARD_MAX  (128u << 20) /* larger frames are errors whatever frame-max says */
#define AMQP_FINGERPRINT_LEN 64		  /* default body bytes fingerprinted */
#define AMQP_BUFFER_MAX	     (64u << 10)  /* default largest method or header frame kept */
#define AMQP_PENDING_MAX     32		  /* default messages in flight tracked at once */
#define AMQP_BODY_HEAD	     512	  /* body bytes a message record carries */

struct amqp_stream;

struct amqp_opts {
	uint32_t fingerprint_len; /* body bytes hashed for body_fp; 0: the default */
	uint32_t buffer_max;	  /* method/header frame bytes kept, the rest is not decoded;
				     0: the default */
	uint32_t pending_max;	  /* messages in flight; past it the oldest is emitted
				     incomplete; 0: the default */
	/* Headers-table entries whose string values records carry, by name
	 * (case-insensitive, copied at creation). Unused slots are NULL; all
	 * NULL: traceparent, tracestate, x-request-id, x-correlation-id. */
	const char *headers[AMQP_HEADERS_MAX];
};

enum amqp_record_kind {
	AMQP_REC_PUBLISH = 1, /* basic.publish with its content */
	AMQP_REC_DELIVER,     /* basic.deliver with its content */
	AMQP_REC_GET_OK,      /* basic.get-ok with its content */
	AMQP_REC_RETURN,      /* basic.return with its content: an unroutable message */
	AMQP_REC_METHOD,      /* any other method: class_id and method_id say which */
	AMQP_REC_GAP,	      /* sync regained: [start, end) could not be followed */
};

enum amqp_record_flags {
	AMQP_RF_INCOMPLETE = 1 << 0, /* message: content frames lost to a gap, to a broken
					stream or to the connection's end */
	AMQP_RF_TRUNCATED = 1 << 1,  /* some arguments or properties were not captured */
	AMQP_RF_ERROR = 1 << 2,	     /* close or return with a reply code other than 200 */
	AMQP_RF_MANDATORY = 1 << 3,
	AMQP_RF_IMMEDIATE = 1 << 4,
	AMQP_RF_REDELIVERED = 1 << 5,
	AMQP_RF_MULTIPLE = 1 << 6, /* ack/nack: every tag up to delivery_tag */
	AMQP_RF_REQUEUE = 1 << 7,  /* nack/reject/recover */
	AMQP_RF_NO_ACK = 1 << 8,   /* consume/get */
	AMQP_RF_NOWAIT = 1 << 9,
	AMQP_RF_PASSIVE = 1 << 10, /* declares */
	AMQP_RF_DURABLE = 1 << 11,
	AMQP_RF_EXCLUSIVE = 1 << 12,
	AMQP_RF_AUTO_DELETE = 1 << 13,
};

/* Basic content properties, bits of amqp_props.flags as on the wire. */
enum amqp_prop {
	AMQP_PROP_CONTENT_TYPE = 1 << 15,
	AMQP_PROP_CONTENT_ENCODING = 1 << 14,
	AMQP_PROP_HEADERS = 1 << 13,
	AMQP_PROP_DELIVERY_MODE = 1 << 12,
	AMQP_PROP_PRIORITY = 1 << 11,
	AMQP_PROP_CORRELATION_ID = 1 << 10,
	AMQP_PROP_REPLY_TO = 1 << 9,
	AMQP_PROP_EXPIRATION = 1 << 8,
	AMQP_PROP_MESSAGE_ID = 1 << 7,
	AMQP_PROP_TIMESTAMP = 1 << 6,
	AMQP_PROP_TYPE = 1 << 5,
	AMQP_PROP_USER_ID = 1 << 4,
	AMQP_PROP_APP_ID = 1 << 3,
	AMQP_PROP_CLUSTER_ID = 1 << 2,
};

/* Strings are NUL-terminated, control characters replaced by '?'; a string
 * cut by the end of the capture holds what was captured (AMQP_RF_TRUNCATED). */
struct amqp_props {
	uint16_t flags;	       /* enum amqp_prop: properties present on the wire */
	uint8_t delivery_mode; /* 2: persistent */
	uint8_t priority;
	uint64_t timestamp;    /* seconds since the epoch, as sent */
	uint32_t header_count; /* entries read from the headers table */
	uint32_t header_found; /* bit i: opts.headers[i] was present with a string value */
	char content_type[AMQP_STR_LEN];
	char content_encoding[AMQP_STR_LEN];
	char correlation_id[AMQP_STR_LEN];
	char reply_to[AMQP_STR_LEN];
	char expiration[AMQP_STR_LEN];
	char message_id[AMQP_STR_LEN];
	char type[AMQP_STR_LEN];
	char user_id[AMQP_STR_LEN];
	char app_id[AMQP_STR_LEN];
	char header[AMQP_HEADERS_MAX][AMQP_STR_LEN]; /* values of opts.headers[i] */
};

/* One message or method. Fields a method does not carry are zero. Offsets
 * are TCP sequence numbers: they wrap at 2^32 with the stream. */
struct amqp_record {
	uint8_t kind; /* enum amqp_record_kind */
	uint16_t channel;
	uint16_t class_id; /* the method: class 60 method 40 is basic.publish */
	uint16_t method_id;
	uint32_t flags;		/* enum amqp_record_flags */
	uint32_t start;		/* offset of the method frame's first byte (gap: first byte lost) */
	uint32_t end;		/* offset just past the last frame of the record (gap: where
				   sync was regained) */
	uint64_t delivery_tag;	/* deliver, get-ok, ack, nack, reject */
	uint16_t reply_code;	/* connection/channel close, basic.return */
	uint16_t fail_class_id; /* close: the method that caused it, 0 if none */
	uint16_t fail_method_id;
	uint16_t channel_max;		  /* connection.tune/tune-ok */
	uint32_t frame_max;		  /* connection.tune/tune-ok */
	uint16_t heartbeat;		  /* connection.tune/tune-ok, seconds */
	uint16_t prefetch_count;	  /* basic.qos */
	uint32_t prefetch_size;		  /* basic.qos */
	uint32_t message_count;		  /* queue.declare-ok/purge-ok/delete-ok, basic.get-ok */
	uint32_t consumer_count;	  /* queue.declare-ok */
	char exchange[AMQP_STR_LEN];	  /* publish, deliver, get-ok, return, declare, bind */
	char routing_key[AMQP_STR_LEN];	  /* publish, deliver, get-ok, return, bind */
	char queue[AMQP_STR_LEN];	  /* queue.*, basic.consume, basic.get; exchange.bind and
					     unbind: the destination exchange */
	char consumer_tag[AMQP_STR_LEN];  /* consume, consume-ok, cancel, deliver */
	char reply_text[AMQP_STR_LEN];	  /* close, return */
	char exchange_type[AMQP_STR_LEN]; /* exchange.declare */
	char vhost[AMQP_STR_LEN];	  /* connection.open */
	/* Messages only: the content header and what was seen of the body. */
	struct amqp_props props;
	uint64_t body_size;	/* from the content header */
	uint64_t body_seen;	/* body bytes framed (captured or not) */
	uint64_t body_captured; /* body bytes whose content was captured */
	uint64_t body_fp;	/* FNV-1a 64 of the body's first body_fp_len bytes */
	uint32_t body_fp_len;	/* < min(fingerprint_len, body_size) when a hole came first */
	uint64_t gap_bytes;	/* gap: stream bytes that could not be followed */
	uint32_t body_head_len; /* the body's first bytes, as captured before any hole */
	uint8_t body_head[AMQP_BODY_HEAD];
};

/* Called with each record; it must not feed, flush or free the stream. */
typedef void (*amqp_emit_fn)(const struct amqp_record *r, void *ctx);

enum amqp_sync {
	AMQP_SYNC_NONE = 0, /* no frame boundary known (before the first, or after a gap) */
	AMQP_SYNC_OK,	    /* following frames */
	AMQP_SYNC_BROKEN,   /* a protocol error: amqp_stream__error() says which */
};

struct amqp_stats {
	uint64_t frames;	 /* frames followed to their end */
	uint64_t frames_partial; /* of which part of the payload was not captured */
	uint64_t frames_orphan;	 /* content frames with no message to belong to */
	uint64_t heartbeats;
	uint64_t methods;	      /* AMQP_REC_METHOD records emitted */
	uint64_t messages;	      /* message records emitted */
	uint64_t messages_incomplete; /* of which flagged AMQP_RF_INCOMPLETE */
	uint64_t desyncs;	      /* frame boundaries lost in uncaptured regions */
	uint64_t resyncs;	      /* boundaries found again after a desync or an error */
	uint64_t resync_rejects;      /* chunk starts refused as frame boundaries */
	uint64_t bytes_skipped;	      /* stream bytes passed without a frame boundary */
	uint64_t bytes_overlap;	      /* bytes fed twice, ignored */
	uint64_t errors;	      /* protocol errors */
	uint64_t nomem;		      /* messages dropped for lack of memory */
};

/* A parser for one direction of one connection; opts may be NULL for the
 * defaults. NULL with errno set on failure. Freed with amqp_stream__free(),
 * which emits nothing: call amqp_stream__flush() first to see messages in
 * flight. */
struct amqp_stream *amqp_stream__new(const struct amqp_opts *opts);
void amqp_stream__free(struct amqp_stream *s);

/* One send or recv call: len bytes starting at stream offset seq, of which
 * the first ncaptured are in captured (more than len are ignored). Calls
 * emit (may be NULL) for every record completed by these bytes, in stream
 * order. Chunks are expected in stream order; bytes already passed are
 * ignored (bytes_overlap), missing ones are an uncaptured region; offsets
 * are compared modulo 2^32, so chunks 2 GiB apart or more are misread. Returns
 * -EPROTO when this call found a protocol error (the stream is broken until
 * a later chunk starts a plausible frame), -ENOMEM when a message could not
 * be tracked (the stream goes on), -EINVAL for bad arguments, else 0. */
int amqp_stream__feed(struct amqp_stream *s, uint32_t seq, uint32_t len, const uint8_t *captured,
		      uint32_t ncaptured, amqp_emit_fn emit, void *ctx);

/* Emits the messages in flight, flagged incomplete (the connection ended). */
void amqp_stream__flush(struct amqp_stream *s, amqp_emit_fn emit, void *ctx);

enum amqp_sync amqp_stream__state(const struct amqp_stream *s);
/* The last protocol error ("amqp: frame end 0x41 at offset 1234, expected
 * 0xce"), or NULL if none; it stays after a resync. Owned by the stream. */
const char *amqp_stream__error(const struct amqp_stream *s);
void amqp_stream__stats(const struct amqp_stream *s, struct amqp_stats *out);

enum amqp_sniff {
	AMQP_SNIFF_NO = 0, /* not AMQP 0-9-1 */
	AMQP_SNIFF_MORE,   /* could be: more bytes are needed to tell */
	AMQP_SNIFF_HEADER, /* the protocol header "AMQP\0\0\x09\x01" */
	AMQP_SNIFF_FRAME,  /* a method, content header or heartbeat frame of a known kind */
};

/* Whether a message prefix starts an AMQP 0-9-1 connection or frame: how a
 * connection opened before the sensor is recognised. Body frames are never
 * recognised (they carry nothing to check). */
enum amqp_sniff amqp_sniff(const uint8_t *p, size_t n);

/* "basic.publish", or NULL for a method AMQP 0-9-1 (with RabbitMQ's
 * extensions) does not define. */
const char *amqp_method_name(uint16_t class_id, uint16_t method_id);
/* "publish", "deliver", "get-ok", "return", "method", "gap" or "?". */
const char *amqp_record_kind_name(uint8_t kind);

/* For fuzzers (a libFuzzer harness is a one-line call): the first bytes of
 * data choose how the rest is cut into chunks, partly captured, with gaps and
 * replays, and fed to a fresh stream. Returns the number of records emitted. */
int amqp_fuzz_one(const uint8_t *data, size_t n);

#endif

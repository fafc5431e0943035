/* What AMQP 0-9-1 methods and content headers say: the method table, and
 * readers of arguments, field tables and properties over payloads captured
 * in part (a field cut by the capture ends the reading, not the frame). */
#include "analysis/amqp_decode.h"

#include <string.h>
#include <strings.h>

#define REPLY_SUCCESS 200

/* ---- the methods ------------------------------------------------------------------------ */

static const struct method_info methods[] = {
    {10, 10, 14, 0, "connection.start"},
    {10, 11, 10, 0, "connection.start-ok"},
    {10, 20, 4, 0, "connection.secure"},
    {10, 21, 4, 0, "connection.secure-ok"},
    {10, 30, 8, 0, "connection.tune"},
    {10, 31, 8, 0, "connection.tune-ok"},
    {10, 40, 3, 0, "connection.open"},
    {10, 41, 1, 0, "connection.open-ok"},
    {10, 50, 7, 0, "connection.close"},
    {10, 51, 0, 0, "connection.close-ok"},
    {10, 60, 1, 0, "connection.blocked"},
    {10, 61, 0, 0, "connection.unblocked"},
    {10, 70, 5, 0, "connection.update-secret"},
    {10, 71, 0, 0, "connection.update-secret-ok"},
    {20, 10, 1, 0, "channel.open"},
    {20, 11, 4, 0, "channel.open-ok"},
    {20, 20, 1, 0, "channel.flow"},
    {20, 21, 1, 0, "channel.flow-ok"},
    {20, 40, 7, 0, "channel.close"},
    {20, 41, 0, 0, "channel.close-ok"},
    {40, 10, 9, 0, "exchange.declare"},
    {40, 11, 0, 0, "exchange.declare-ok"},
    {40, 20, 4, 0, "exchange.delete"},
    {40, 21, 0, 0, "exchange.delete-ok"},
    {40, 30, 10, 0, "exchange.bind"},
    {40, 31, 0, 0, "exchange.bind-ok"},
    {40, 40, 10, 0, "exchange.unbind"},
    {40, 51, 0, 0, "exchange.unbind-ok"},
    {50, 10, 8, 0, "queue.declare"},
    {50, 11, 9, 0, "queue.declare-ok"},
    {50, 20, 10, 0, "queue.bind"},
    {50, 21, 0, 0, "queue.bind-ok"},
    {50, 30, 4, 0, "queue.purge"},
    {50, 31, 4, 0, "queue.purge-ok"},
    {50, 40, 4, 0, "queue.delete"},
    {50, 41, 4, 0, "queue.delete-ok"},
    {50, 50, 9, 0, "queue.unbind"},
    {50, 51, 0, 0, "queue.unbind-ok"},
    {60, 10, 7, 0, "basic.qos"},
    {60, 11, 0, 0, "basic.qos-ok"},
    {60, 20, 9, 0, "basic.consume"},
    {60, 21, 1, 0, "basic.consume-ok"},
    {60, 30, 2, 0, "basic.cancel"},
    {60, 31, 1, 0, "basic.cancel-ok"},
    {60, 40, 5, AMQP_REC_PUBLISH, "basic.publish"},
    {60, 50, 5, AMQP_REC_RETURN, "basic.return"},
    {60, 60, 12, AMQP_REC_DELIVER, "basic.deliver"},
    {60, 70, 4, 0, "basic.get"},
    {60, 71, 15, AMQP_REC_GET_OK, "basic.get-ok"},
    {60, 72, 1, 0, "basic.get-empty"},
    {60, 80, 9, 0, "basic.ack"},
    {60, 90, 9, 0, "basic.reject"},
    {60, 100, 1, 0, "basic.recover-async"},
    {60, 110, 1, 0, "basic.recover"},
    {60, 111, 0, 0, "basic.recover-ok"},
    {60, 120, 9, 0, "basic.nack"},
    {85, 10, 1, 0, "confirm.select"},
    {85, 11, 0, 0, "confirm.select-ok"},
    {90, 10, 0, 0, "tx.select"},
    {90, 11, 0, 0, "tx.select-ok"},
    {90, 20, 0, 0, "tx.commit"},
    {90, 21, 0, 0, "tx.commit-ok"},
    {90, 30, 0, 0, "tx.rollback"},
    {90, 31, 0, 0, "tx.rollback-ok"},
};

const struct method_info *amqp_method_find(uint16_t class_id, uint16_t method_id)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].class_id == class_id && methods[i].method_id == method_id)
			return &methods[i];
	return NULL;
}

const char *amqp_method_name(uint16_t class_id, uint16_t method_id)
{
	const struct method_info *mi = amqp_method_find(class_id, method_id);

	return mi ? mi->name : NULL;
}

const char *amqp_record_kind_name(uint8_t kind)
{
	switch (kind) {
	case AMQP_REC_PUBLISH:
		return "publish";
	case AMQP_REC_DELIVER:
		return "deliver";
	case AMQP_REC_GET_OK:
		return "get-ok";
	case AMQP_REC_RETURN:
		return "return";
	case AMQP_REC_METHOD:
		return "method";
	case AMQP_REC_GAP:
		return "gap";
	}
	return "?";
}

/* Copies at most AMQP_STR_LEN-1 bytes as a C string, control characters
 * replaced so the text can be shown as it is. */
static void copy_text(char *out, const uint8_t *p, uint32_t n)
{
	uint32_t i;

	if (n > AMQP_STR_LEN - 1)
		n = AMQP_STR_LEN - 1;
	for (i = 0; i < n; i++)
		out[i] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	out[i] = '\0';
}

/* A string of len bytes into out (NULL: skipped); a string cut by the end
 * of the capture gives its captured part. */
static void rd_text(struct rd *r, uint32_t len, char *out)
{
	uint32_t avail;

	if (r->status)
		return;
	if (len > r->size - r->off) {
		r->status = RD_BAD;
		return;
	}
	avail = r->have - r->off;
	if (out)
		copy_text(out, r->p + r->off, len < avail ? len : avail);
	if (len > avail) {
		r->status = RD_SHORT;
		r->off = r->have;
		return;
	}
	r->off += len;
}

static void rd_shortstr(struct rd *r, char *out)
{
	uint8_t len = rd_u8(r);

	rd_text(r, len, out);
}

static void rd_longstr(struct rd *r, char *out)
{
	uint32_t len = rd_u32(r);

	rd_text(r, len, out);
}

/* ---- field tables ----------------------------------------------------------------------- */

static int header_wanted(amqp_names names, const char *name)
{
	for (int i = 0; i < AMQP_HEADERS_MAX; i++)
		if (names[i][0] && !strcasecmp(name, names[i]))
			return i;
	return -1;
}

/* The size of a field value of fixed size, -1 for one with a length prefix,
 * -2 for an unknown type. 's' is a 16-bit integer as RabbitMQ and its
 * clients have it, not the short string of the 0-9-1 text. */
static int field_size(uint8_t type)
{
	switch (type) {
	case 'V':
		return 0;
	case 't':
	case 'b':
	case 'B':
		return 1;
	case 's':
	case 'u':
	case 'U':
		return 2;
	case 'I':
	case 'i':
	case 'f':
		return 4;
	case 'D':
		return 5;
	case 'l':
	case 'L':
	case 'd':
	case 'T':
		return 8;
	case 'S':
	case 'x':
	case 'F':
	case 'A':
		return -1;
	}
	return -2;
}

/* One entry of a table; with pr, the string values of wanted names go to
 * it. Nested tables and arrays are skipped by their length, so nesting
 * costs neither stack nor time. False when the entries cannot be followed
 * further (an unknown type, a failed read). */
static bool table_entry(struct rd *t, amqp_names names, struct amqp_props *pr)
{
	char name[AMQP_STR_LEN] = "";
	uint8_t type;
	int size, want;

	rd_shortstr(t, name);
	type = rd_u8(t);
	if (t->status)
		return false;
	if (pr)
		pr->header_count++;
	size = field_size(type);
	if (size >= 0) {
		rd_skip(t, (uint32_t)size);
		return !t->status;
	}
	if (size == -2)
		return false;
	want = pr && (type == 'S' || type == 'x') ? header_wanted(names, name) : -1;
	rd_longstr(t, want >= 0 ? pr->header[want] : NULL);
	if (want >= 0 && t->status != RD_BAD)
		pr->header_found |= 1u << want;
	return !t->status;
}

/* A field table. Its own length bounds it: entries that cannot be followed
 * (an unknown value type) are skipped with the rest of the table, but an
 * entry running past the table, or a table past the frame, is malformed. */
static void rd_table(struct rd *r, amqp_names names, struct amqp_props *pr)
{
	uint32_t len = rd_u32(r);
	struct rd t;

	if (r->status)
		return;
	if (len > r->size - r->off) {
		r->status = RD_BAD;
		return;
	}
	t = (struct rd){.p = r->p, .off = r->off, .size = r->off + len};
	t.have = r->have < t.size ? r->have : t.size;
	while (t.off < t.size && table_entry(&t, names, pr))
		;
	if (t.status == RD_BAD) {
		r->status = RD_BAD;
		return;
	}
	rd_skip(r, len);
}

/* ---- content header properties ---------------------------------------------------------- */

void amqp_rd_props(struct rd *r, amqp_names names, struct amqp_props *pr)
{
	uint16_t f = rd_u16(r), more = f;

	/* Continuation words (bit 0) announce properties basic does not have. */
	while ((more & 1) && !r->status)
		more = rd_u16(r);
	if (r->status)
		return;
	pr->flags = f & 0xfffe;
	if (f & AMQP_PROP_CONTENT_TYPE)
		rd_shortstr(r, pr->content_type);
	if (f & AMQP_PROP_CONTENT_ENCODING)
		rd_shortstr(r, pr->content_encoding);
	if (f & AMQP_PROP_HEADERS)
		rd_table(r, names, pr);
	if (f & AMQP_PROP_DELIVERY_MODE)
		pr->delivery_mode = rd_u8(r);
	if (f & AMQP_PROP_PRIORITY)
		pr->priority = rd_u8(r);
	if (f & AMQP_PROP_CORRELATION_ID)
		rd_shortstr(r, pr->correlation_id);
	if (f & AMQP_PROP_REPLY_TO)
		rd_shortstr(r, pr->reply_to);
	if (f & AMQP_PROP_EXPIRATION)
		rd_shortstr(r, pr->expiration);
	if (f & AMQP_PROP_MESSAGE_ID)
		rd_shortstr(r, pr->message_id);
	if (f & AMQP_PROP_TIMESTAMP)
		pr->timestamp = rd_u64(r);
	if (f & AMQP_PROP_TYPE)
		rd_shortstr(r, pr->type);
	if (f & AMQP_PROP_USER_ID)
		rd_shortstr(r, pr->user_id);
	if (f & AMQP_PROP_APP_ID)
		rd_shortstr(r, pr->app_id);
	if (f & AMQP_PROP_CLUSTER_ID)
		rd_shortstr(r, NULL);
}

/* ---- method arguments ------------------------------------------------------------------- */

#define M(c, m) ((uint32_t)(c) << 16 | (m))

/* Bits of one argument octet to record flags: flags[i] for bit i. */
static void rd_bits(struct rd *r, struct amqp_record *rec, const uint32_t *flags, int n)
{
	uint8_t b = rd_u8(r);

	if (r->status)
		return;
	for (int i = 0; i < n; i++)
		if (b & (1u << i))
			rec->flags |= flags[i];
}

static void rd_close(struct rd *r, struct amqp_record *rec)
{
	rec->reply_code = rd_u16(r);
	rd_shortstr(r, rec->reply_text);
	rec->fail_class_id = rd_u16(r);
	rec->fail_method_id = rd_u16(r);
}

static void args_connection(struct rd *r, struct amqp_record *rec)
{
	switch (rec->method_id) {
	case 10: /* start: versions, server properties, mechanisms, locales */
		rd_skip(r, 2);
		rd_table(r, NULL, NULL);
		rd_longstr(r, NULL);
		rd_longstr(r, NULL);
		break;
	case 11: /* start-ok: the response holds credentials, never copied */
		rd_table(r, NULL, NULL);
		rd_shortstr(r, NULL);
		rd_longstr(r, NULL);
		rd_shortstr(r, NULL);
		break;
	case 20:
	case 21:
		rd_longstr(r, NULL);
		break;
	case 30:
	case 31:
		rec->channel_max = rd_u16(r);
		rec->frame_max = rd_u32(r);
		rec->heartbeat = rd_u16(r);
		break;
	case 40:
		rd_shortstr(r, rec->vhost);
		rd_shortstr(r, NULL);
		rd_skip(r, 1);
		break;
	case 41:
		rd_shortstr(r, NULL);
		break;
	case 50:
		rd_close(r, rec);
		break;
	case 60: /* blocked: the reason */
		rd_shortstr(r, rec->reply_text);
		break;
	case 70:
		rd_longstr(r, NULL);
		rd_shortstr(r, rec->reply_text);
		break;
	}
}

static void args_channel(struct rd *r, struct amqp_record *rec)
{
	switch (rec->method_id) {
	case 10:
		rd_shortstr(r, NULL);
		break;
	case 11:
		rd_longstr(r, NULL);
		break;
	case 20:
	case 21:
		rd_skip(r, 1);
		break;
	case 40:
		rd_close(r, rec);
		break;
	}
}

static void args_exchange(struct rd *r, struct amqp_record *rec)
{
	static const uint32_t declare[] = {AMQP_RF_PASSIVE, AMQP_RF_DURABLE, AMQP_RF_AUTO_DELETE, 0,
					   AMQP_RF_NOWAIT};
	static const uint32_t del[] = {0, AMQP_RF_NOWAIT};
	static const uint32_t bind[] = {AMQP_RF_NOWAIT};

	switch (rec->method_id) {
	case 10:
		rd_skip(r, 2);
		rd_shortstr(r, rec->exchange);
		rd_shortstr(r, rec->exchange_type);
		rd_bits(r, rec, declare, 5);
		rd_table(r, NULL, NULL);
		break;
	case 20:
		rd_skip(r, 2);
		rd_shortstr(r, rec->exchange);
		rd_bits(r, rec, del, 2);
		break;
	case 30:
	case 40: /* the destination exchange goes where a queue would */
		rd_skip(r, 2);
		rd_shortstr(r, rec->queue);
		rd_shortstr(r, rec->exchange);
		rd_shortstr(r, rec->routing_key);
		rd_bits(r, rec, bind, 1);
		rd_table(r, NULL, NULL);
		break;
	}
}

static void args_queue(struct rd *r, struct amqp_record *rec)
{
	static const uint32_t declare[] = {AMQP_RF_PASSIVE, AMQP_RF_DURABLE, AMQP_RF_EXCLUSIVE,
					   AMQP_RF_AUTO_DELETE, AMQP_RF_NOWAIT};
	static const uint32_t del[] = {0, 0, AMQP_RF_NOWAIT};
	static const uint32_t nowait[] = {AMQP_RF_NOWAIT};

	switch (rec->method_id) {
	case 10:
		rd_skip(r, 2);
		rd_shortstr(r, rec->queue);
		rd_bits(r, rec, declare, 5);
		rd_table(r, NULL, NULL);
		break;
	case 11:
		rd_shortstr(r, rec->queue);
		rec->message_count = rd_u32(r);
		rec->consumer_count = rd_u32(r);
		break;
	case 20:
	case 50:
		rd_skip(r, 2);
		rd_shortstr(r, rec->queue);
		rd_shortstr(r, rec->exchange);
		rd_shortstr(r, rec->routing_key);
		if (rec->method_id == 20)
			rd_bits(r, rec, nowait, 1);
		rd_table(r, NULL, NULL);
		break;
	case 30:
		rd_skip(r, 2);
		rd_shortstr(r, rec->queue);
		rd_bits(r, rec, nowait, 1);
		break;
	case 31:
	case 41:
		rec->message_count = rd_u32(r);
		break;
	case 40:
		rd_skip(r, 2);
		rd_shortstr(r, rec->queue);
		rd_bits(r, rec, del, 3);
		break;
	}
}

/* basic's methods that carry content or a delivery tag. */
static void args_basic_delivery(struct rd *r, struct amqp_record *rec)
{
	static const uint32_t mandatory[] = {AMQP_RF_MANDATORY, AMQP_RF_IMMEDIATE};
	static const uint32_t redelivered[] = {AMQP_RF_REDELIVERED};
	static const uint32_t multiple[] = {AMQP_RF_MULTIPLE, AMQP_RF_REQUEUE};
	static const uint32_t requeue[] = {AMQP_RF_REQUEUE};

	switch (rec->method_id) {
	case 40:
		rd_skip(r, 2);
		rd_shortstr(r, rec->exchange);
		rd_shortstr(r, rec->routing_key);
		rd_bits(r, rec, mandatory, 2);
		break;
	case 50:
		rec->reply_code = rd_u16(r);
		rd_shortstr(r, rec->reply_text);
		rd_shortstr(r, rec->exchange);
		rd_shortstr(r, rec->routing_key);
		break;
	case 60:
		rd_shortstr(r, rec->consumer_tag);
		rec->delivery_tag = rd_u64(r);
		rd_bits(r, rec, redelivered, 1);
		rd_shortstr(r, rec->exchange);
		rd_shortstr(r, rec->routing_key);
		break;
	case 71:
		rec->delivery_tag = rd_u64(r);
		rd_bits(r, rec, redelivered, 1);
		rd_shortstr(r, rec->exchange);
		rd_shortstr(r, rec->routing_key);
		rec->message_count = rd_u32(r);
		break;
	case 80:
	case 120:
		rec->delivery_tag = rd_u64(r);
		rd_bits(r, rec, multiple, rec->method_id == 80 ? 1 : 2);
		break;
	case 90:
		rec->delivery_tag = rd_u64(r);
		rd_bits(r, rec, requeue, 1);
		break;
	}
}

static void args_basic(struct rd *r, struct amqp_record *rec)
{
	static const uint32_t consume[] = {0, AMQP_RF_NO_ACK, AMQP_RF_EXCLUSIVE, AMQP_RF_NOWAIT};
	static const uint32_t nowait[] = {AMQP_RF_NOWAIT};
	static const uint32_t no_ack[] = {AMQP_RF_NO_ACK};
	static const uint32_t requeue[] = {AMQP_RF_REQUEUE};

	switch (rec->method_id) {
	case 10:
		rec->prefetch_size = rd_u32(r);
		rec->prefetch_count = rd_u16(r);
		rd_skip(r, 1);
		break;
	case 20:
		rd_skip(r, 2);
		rd_shortstr(r, rec->queue);
		rd_shortstr(r, rec->consumer_tag);
		rd_bits(r, rec, consume, 4);
		rd_table(r, NULL, NULL);
		break;
	case 21:
	case 31:
		rd_shortstr(r, rec->consumer_tag);
		break;
	case 30:
		rd_shortstr(r, rec->consumer_tag);
		rd_bits(r, rec, nowait, 1);
		break;
	case 70:
		rd_skip(r, 2);
		rd_shortstr(r, rec->queue);
		rd_bits(r, rec, no_ack, 1);
		break;
	case 72:
		rd_shortstr(r, NULL);
		break;
	case 100:
	case 110:
		rd_bits(r, rec, requeue, 1);
		break;
	default:
		args_basic_delivery(r, rec);
	}
}

void amqp_rd_args(struct rd *r, struct amqp_record *rec)
{
	static const uint32_t nowait[] = {AMQP_RF_NOWAIT};

	switch (rec->class_id) {
	case 10:
		args_connection(r, rec);
		break;
	case 20:
		args_channel(r, rec);
		break;
	case 40:
		args_exchange(r, rec);
		break;
	case 50:
		args_queue(r, rec);
		break;
	case 60:
		args_basic(r, rec);
		break;
	case 85:
		if (rec->method_id == 10)
			rd_bits(r, rec, nowait, 1);
		break;
	}
	if (rec->reply_code && rec->reply_code != REPLY_SUCCESS)
		rec->flags |= AMQP_RF_ERROR;
}

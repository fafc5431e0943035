/* The JSON is written by hand: one fixed schema on the sensor's hottest
 * path, where a JSON library's document object per event would cost more
 * than capturing it. Strings are escaped per RFC 8259. */
#include "sensor/event_format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/base64.h"
#include "common/event_util.h"
#include "common/str.h"

static char *put_str(char *p, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";

	*p++ = '"';
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			*p++ = '\\';
			*p++ = ch;
		} else if (ch < 0x20) {
			memcpy(p, "\\u00", 4);
			p[4] = hex[ch >> 4];
			p[5] = hex[ch & 15];
			p += 6;
		} else {
			*p++ = ch;
		}
	}
	*p++ = '"';
	return p;
}

/* A string literal, its length known at compile time (so the copy is a few
 * stores, not a call); put_name for others. */
#define put_lit(p, lit)                                                                            \
	({                                                                                         \
		char *p_ = (p);                                                                    \
		memcpy(p_, "" lit, sizeof(lit) - 1);                                               \
		p_ + sizeof(lit) - 1;                                                              \
	})

static char *put_name(char *p, const char *name)
{
	size_t n = strlen(name);

	memcpy(p, name, n);
	return p + n;
}

static char *put_bool(char *p, const char *key, int v)
{
	p = put_name(p, key);
	return v ? put_lit(p, "true") : put_lit(p, "false");
}

/* Formats with printf would cost most of the sensor's CPU: the line is
 * assembled from literals and integers instead. */
size_t event_format_json(char *buf, const struct weft_event *e, const struct event_context *x)
{
	char addr[WEFT_ADDR_STRLEN];
	char *p = buf;

	p = str_put_u64(put_lit(p, "{\"ts_ns\":"), x->ts_wall_ns);
	p = put_str(put_lit(p, ",\"host\":"), x->host, 255);
	p = str_put_u64(put_lit(p, ",\"pid\":"), e->pid);
	p = str_put_u64(put_lit(p, ",\"tid\":"), e->tid);
	p = put_str(put_lit(p, ",\"comm\":"), e->comm, WEFT_COMM_LEN);
	p = put_str(put_lit(p, ",\"exe\":"), x->exe, 255);
	p = put_name(put_lit(p, ",\"type\":\""), weft_event_type_name(e->type));
	p = put_name(put_lit(p, "\",\"role\":\""), weft_role_name(weft_role_infer(e)));
	weft_addr_str(e->family, e->saddr, addr);
	p = put_name(put_lit(p, "\",\"saddr\":\""), addr);
	p = str_put_u64(put_lit(p, "\",\"sport\":"), e->sport);
	weft_addr_str(e->family, e->daddr, addr);
	p = put_name(put_lit(p, ",\"daddr\":\""), addr);
	p = str_put_u64(put_lit(p, "\",\"dport\":"), e->dport);
	p = str_put_u64(put_lit(p, ",\"seq\":"), e->seq);
	p = str_put_u64(put_lit(p, ",\"len\":"), e->len);
	p = str_put_u64(put_lit(p, ",\"netns\":"), e->netns);
	p = str_put_u64(put_lit(p, ",\"cgroup\":"), e->cgroup_id);
	p = str_put_u64(put_lit(p, ",\"sock_id\":"), e->sock_id);
	if (e->flags & WEFT_EVF_DURATION)
		p = str_put_u64(put_lit(p, ",\"duration_ns\":"), e->duration_ns);
	if (e->coroutine)
		p = str_put_u64(put_lit(p, ",\"coroutine\":"), e->coroutine);
	if (e->type == WEFT_EV_CONNECT) {
		p = put_name(put_lit(p, ",\"result\":\""), weft_connect_result(e->err));
		p = str_put_i64(put_lit(p, "\",\"err\":"), e->err);
	}
	if (e->type == WEFT_EV_CLOSE)
		p = put_bool(p, ",\"reset\":", e->flags & WEFT_EVF_RESET);
	if (e->type == WEFT_EV_RESET)
		p = put_bool(p, ",\"sent\":", e->flags & WEFT_EVF_RST_SENT);
	if (e->type == WEFT_EV_SEND || e->type == WEFT_EV_RECV)
		p = put_bool(p, ",\"msg_start\":", e->flags & WEFT_EVF_MSG_START);
	p = put_lit(p, ",\"payload\":\"");
	p += base64_encode(e->payload, e->payload_len, p);
	p = put_lit(p, "\"}\n");
	return p - buf;
}

size_t event_format_text(char *buf, const struct weft_event *e, const struct event_context *x)
{
	char sa[WEFT_ADDR_STRLEN], da[WEFT_ADDR_STRLEN], extra[64] = "";
	time_t secs = x->ts_wall_ns / 1000000000ull;
	struct tm tm;
	char when[16];

	weft_addr_str(e->family, e->saddr, sa);
	weft_addr_str(e->family, e->daddr, da);
	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (e->type == WEFT_EV_SEND || e->type == WEFT_EV_RECV)
		snprintf(extra, sizeof(extra), "seq=%u len=%u", e->seq, e->len);
	else if (e->type == WEFT_EV_CONNECT)
		snprintf(extra, sizeof(extra), "%s", weft_connect_result(e->err));
	else if (e->type == WEFT_EV_CLOSE && (e->flags & WEFT_EVF_RESET))
		snprintf(extra, sizeof(extra), "after reset");
	return sprintf(buf, "%s.%06llu %-8s %-15.15s %7u/%-7u %-6s %s:%u -> %s:%u %s\n", when,
		       (unsigned long long)(x->ts_wall_ns % 1000000000ull) / 1000,
		       weft_event_type_name(e->type), e->comm, e->pid, e->tid,
		       weft_role_name(weft_role_infer(e)), sa, e->sport, da, e->dport, extra);
}

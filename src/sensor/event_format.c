/* The JSON is written by hand: one fixed schema on the sensor's hottest
 * path, where building a document object per event would cost more than
 * capturing it. Strings are escaped per RFC 8259. */
#include "sensor/event_format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/base64.h"
#include "common/event_util.h"

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

size_t event_format_json(char *buf, const struct weft_event *e, const struct event_context *x)
{
	char sa[WEFT_ADDR_STRLEN], da[WEFT_ADDR_STRLEN];
	char *p = buf;

	weft_addr_str(e->family, e->saddr, sa);
	weft_addr_str(e->family, e->daddr, da);
	p += sprintf(p, "{\"ts_ns\":%llu,\"host\":", (unsigned long long)x->ts_wall_ns);
	p = put_str(p, x->host, 255);
	p += sprintf(p, ",\"pid\":%u,\"tid\":%u,\"comm\":", e->pid, e->tid);
	p = put_str(p, e->comm, WEFT_COMM_LEN);
	p += sprintf(p, ",\"exe\":");
	p = put_str(p, x->exe, 255);
	p += sprintf(p,
		     ",\"type\":\"%s\",\"role\":\"%s\",\"saddr\":\"%s\",\"sport\":%u,"
		     "\"daddr\":\"%s\",\"dport\":%u,\"seq\":%u,\"len\":%u,\"netns\":%u,"
		     "\"cgroup\":%llu,\"sock_id\":%llu,\"duration_ns\":%llu",
		     weft_event_type_name(e->type), weft_role_name(weft_role_infer(e)), sa,
		     e->sport, da, e->dport, e->seq, e->len, e->netns,
		     (unsigned long long)e->cgroup_id, (unsigned long long)e->sock_id,
		     (unsigned long long)e->duration_ns);
	if (e->type == WEFT_EV_CONNECT)
		p += sprintf(p, ",\"result\":\"%s\",\"err\":%d", weft_connect_result(e->err), e->err);
	if (e->type == WEFT_EV_CLOSE)
		p += sprintf(p, ",\"reset\":%s", e->flags & WEFT_EVF_RESET ? "true" : "false");
	if (e->type == WEFT_EV_RESET)
		p += sprintf(p, ",\"sent\":%s", e->flags & WEFT_EVF_RST_SENT ? "true" : "false");
	if (e->type == WEFT_EV_SEND || e->type == WEFT_EV_RECV)
		p += sprintf(p, ",\"msg_start\":%s", e->flags & WEFT_EVF_MSG_START ? "true" : "false");
	p += sprintf(p, ",\"payload\":\"");
	p += base64_encode(e->payload, e->payload_len, p);
	p += sprintf(p, "\"}\n");
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

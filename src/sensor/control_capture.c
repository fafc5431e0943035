#include "sensor/control_capture.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"
#include "sensor/capture.h"
#include "sensor/control.h"

static int messages(void *ctx, const char *args, char *reply, size_t cap)
{
	(void)reply, (void)cap;
	if (!strcmp(args, "on") || !strcmp(args, "off"))
		return capture__set_messages(ctx, !strcmp(args, "on"));
	return -EINVAL;
}

static int select_one(struct capture *c, const char *kind, const char *val)
{
	uint64_t v;

	if (!strcmp(kind, "comm"))
		return strlen(val) < WEFT_COMM_LEN ? capture__add_comm(c, val) : -EINVAL;
	if (!strcmp(kind, "pid"))
		return parse_u64(val, &v, 1, UINT32_MAX) ?: capture__add_pid(c, (uint32_t)v);
	if (!strcmp(kind, "port"))
		return parse_u64(val, &v, 1, 65535) ?: capture__add_port(c, (uint16_t)v);
	if (!strcmp(kind, "cgroup"))
		return parse_u64(val, &v, 1, UINT64_MAX) ?: capture__add_cgroup(c, v);
	if (!strcmp(kind, "netns"))
		return parse_u64(val, &v, 1, UINT32_MAX) ?: capture__add_netns(c, (uint32_t)v);
	return -EINVAL;
}

static int select_cmd(void *ctx, const char *args, char *reply, size_t cap)
{
	char kind[16], val[64], extra[2];
	int n = sscanf(args, "%15s %63s %1s", kind, val, extra);

	(void)reply, (void)cap;
	if (n == 1 && !strcmp(kind, "clear"))
		return capture__clear_selectors(ctx);
	return n == 2 ? select_one(ctx, kind, val) : -EINVAL;
}

static int status(void *ctx, const char *args, char *reply, size_t cap)
{
	uint64_t cnt[WEFT_CNT_MAX];

	if (args[strspn(args, " \t\r\n")])
		return -EINVAL;
	capture__counters(ctx, cnt);
	snprintf(reply, cap, "ok messages=%s selectors=%#x events=%llu drops=%llu untracked=%llu\n",
		 capture__messages(ctx) ? "on" : "off", capture__selectors(ctx),
		 (unsigned long long)cnt[WEFT_CNT_EVENTS], (unsigned long long)cnt[WEFT_CNT_DROPS],
		 (unsigned long long)cnt[WEFT_CNT_NO_STATE]);
	return 0;
}

int control_capture__add(struct control *c, struct capture *cap)
{
	return control__add(c, "messages", "messages on|off", messages, cap)
		   ?: control__add(c, "select",
				   "select pid|comm|port|cgroup|netns VALUE, select clear",
				   select_cmd, cap)
		   ?: control__add(c, "status", "status", status, cap);
}

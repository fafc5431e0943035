#include "common/event_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

const char *weft_event_type_name(uint8_t type)
{
	switch (type) {
	case WEFT_EV_CONNECT:
		return "connect";
	case WEFT_EV_ACCEPT:
		return "accept";
	case WEFT_EV_SEND:
		return "send";
	case WEFT_EV_RECV:
		return "recv";
	case WEFT_EV_CLOSE:
		return "close";
	case WEFT_EV_RESET:
		return "reset";
	case WEFT_EV_WAKE:
		return "wake";
	case WEFT_EV_PLAINTEXT:
		return "plaintext";
	case WEFT_EV_EXEC:
		return "exec";
	}
	return "unknown";
}

const char *weft_role_name(uint8_t role)
{
	return role == WEFT_ROLE_SERVER	  ? "server"
	       : role == WEFT_ROLE_CLIENT ? "client"
					  : "unknown";
}

uint8_t weft_role_infer(const struct weft_event *e)
{
	/* Linux's default ip_local_port_range starts at 32768. */
	int local_eph = e->sport >= 32768, remote_eph = e->dport >= 32768;

	if (e->role != WEFT_ROLE_UNKNOWN)
		return e->role;
	if (local_eph != remote_eph)
		return local_eph ? WEFT_ROLE_CLIENT : WEFT_ROLE_SERVER;
	return e->sport > e->dport ? WEFT_ROLE_CLIENT : WEFT_ROLE_SERVER;
}

void weft_addr_str(uint16_t family, const uint8_t addr[16], char out[WEFT_ADDR_STRLEN])
{
	char *p = out;

	if (family == AF_INET6) {
		if (!inet_ntop(AF_INET6, addr, out, WEFT_ADDR_STRLEN))
			out[0] = '\0';
		return;
	}
	/* inet_ntop formats IPv4 through printf: too slow for every event. */
	for (int i = 0; i < 4; i++) {
		unsigned v = addr[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

const char *weft_connect_result(int32_t err)
{
	switch (-err) {
	case 0:
		return "ok";
	case ECONNREFUSED:
		return "refused";
	case ETIMEDOUT:
		return "timeout";
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "unreachable";
	}
	return "error";
}

#include "common/base64.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Two output characters for every 12-bit value: a 3-byte group is two
 * lookups, which halves the sensor's cost of payload prefixes. */
static char pairs[4096][2];
static pthread_once_t pairs_once = PTHREAD_ONCE_INIT;

static void pairs_init(void)
{
	for (int v = 0; v < 4096; v++) {
		pairs[v][0] = b64[v >> 6];
		pairs[v][1] = b64[v & 63];
	}
}

size_t base64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;

	pthread_once(&pairs_once, pairs_init);
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];

		memcpy(out + o, pairs[v >> 12], 2);
		memcpy(out + o + 2, pairs[v & 4095], 2);
		o += 4;
	}
	if (i < n) {
		unsigned v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0);

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t n, unsigned char *out)
{
	long o = 0;
	unsigned v = 0;
	int bits = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d;

		if (in[i] == '=') {
			if (i + 2 < n || (i + 1 < n && in[i + 1] != '='))
				return -1;
			break;
		}
		d = b64_value(in[i]);
		if (d < 0)
			return -1;
		v = v << 6 | d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return o;
}

#include "common/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_u64(const char *arg, uint64_t *out, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	if (!arg || !isdigit((unsigned char)*arg))
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_double(const char *arg, double *out, double min, double max)
{
	char *end;
	double v;

	if (!arg || !*arg)
		return -EINVAL;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || *end || !(v >= min && v <= max))
		return -EINVAL;
	*out = v;
	return 0;
}

/* Splits "12.5ms" into 12.5 and "ms"; the unit must be in `units`. */
static int scaled(const char *arg, const char *const *units, const double *mult, int n, double bare,
		  double *out)
{
	char *end;
	double v;

	if (!arg || !(isdigit((unsigned char)*arg) || *arg == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || v < 0)
		return -EINVAL;
	if (!*end) {
		*out = v * bare;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (!strcmp(end, units[i])) {
			*out = v * mult[i];
			return 0;
		}
	}
	return -EINVAL;
}

int parse_duration_ns(const char *arg, uint64_t *out, uint64_t bare_unit_ns)
{
	static const char *const units[] = {"ns", "us", "ms", "s", "m", "h", "d"};
	static const double mult[] = {1, 1e3, 1e6, 1e9, 60e9, 3600e9, 86400e9};
	double v;

	if (scaled(arg, units, mult, 7, (double)bare_unit_ns, &v) || v > 1e19)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

int parse_size(const char *arg, uint64_t *out, uint64_t min, uint64_t max)
{
	static const char *const units[] = {"B", "k", "K", "KiB", "M", "MiB", "G", "GiB"};
	static const double mult[] = {1,       1024,	1024,	      1024,
				      1048576, 1048576, 1073741824.0, 1073741824.0};
	double v;

	if (scaled(arg, units, mult, 8, 1, &v) || v > 1e19 || v < (double)min || v > (double)max)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

int parse_host_port(const char *arg, char *host, int hostlen, uint16_t *port)
{
	const char *colon, *h = arg;
	uint64_t p;
	size_t n;

	if (!arg)
		return -EINVAL;
	if (*arg == '[') {
		const char *close = strchr(arg, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = arg + 1;
		n = close - h;
		colon = close + 1;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return -EINVAL;
		n = colon - arg;
	}
	if (n == 0 || n >= (size_t)hostlen || parse_u64(colon + 1, &p, 1, 65535))
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

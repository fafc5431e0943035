#include "common/log.h"

#include <stdio.h>
#include <time.h>

int weft_log_level = WEFT_LOG_INFO;

void weft_vlog_at(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	if (level > weft_log_level)
		return;
	fprintf(stderr, "weft: %s: ", names[level < 0 ? 0 : level > 3 ? 3 : level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void weft_log_at(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	weft_vlog_at(level, fmt, ap);
	va_end(ap);
}

int weft_log_ratelimit(long long *last_ns, unsigned long *suppressed, int interval_s)
{
	struct timespec ts;
	long long now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (*last_ns && now - *last_ns < interval_s * 1000000000LL) {
		(*suppressed)++;
		return 0;
	}
	if (*suppressed)
		weft_log_at(WEFT_LOG_WARN, "(%lu similar messages suppressed)", *suppressed);
	*suppressed = 0;
	*last_ns = now;
	return 1;
}

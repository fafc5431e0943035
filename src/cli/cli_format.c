#include "cli/cli.h"

#include <stdio.h>
#include <time.h>

void cli_format_time(uint64_t ns, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char day[32];

	localtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%03llu", day, (unsigned long long)(ns / 1000000ull % 1000));
}

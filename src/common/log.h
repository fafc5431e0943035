/* Leveled diagnostics to stderr; data never goes through here. */
#ifndef WEFT_LOG_H
#define WEFT_LOG_H

#include <stdarg.h>

enum weft_log_level {
	WEFT_LOG_ERROR = 0,
	WEFT_LOG_WARN,
	WEFT_LOG_INFO,
	WEFT_LOG_DEBUG,
};

extern int weft_log_level; /* messages above this level are not even formatted */

void weft_log_at(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void weft_vlog_at(int level, const char *fmt, va_list ap);

/* Returns nonzero at most once per `interval_s` per call site state, so a
 * peer repeating the same fault cannot flood the log. `*last` is the call
 * site's own state (a static), `*suppressed` counts what was held back. */
int weft_log_ratelimit(long long *last_ns, unsigned long *suppressed, int interval_s);

#define WEFT_LOG(lvl, ...)                                                                         \
	do {                                                                                       \
		if ((lvl) <= weft_log_level)                                                       \
			weft_log_at((lvl), __VA_ARGS__);                                           \
	} while (0)

#define log_error(...) WEFT_LOG(WEFT_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  WEFT_LOG(WEFT_LOG_WARN, __VA_ARGS__)
#define log_info(...)  WEFT_LOG(WEFT_LOG_INFO, __VA_ARGS__)
#define log_debug(...) WEFT_LOG(WEFT_LOG_DEBUG, __VA_ARGS__)

/* A warning that repeats at most every 10 s from one call site. */
#define log_warn_ratelimited(...)                                                                  \
	do {                                                                                       \
		static long long weft_rl_last_;                                                    \
		static unsigned long weft_rl_supp_;                                                \
		if (weft_log_ratelimit(&weft_rl_last_, &weft_rl_supp_, 10))                        \
			log_warn(__VA_ARGS__);                                                     \
	} while (0)

#endif

/* Range-checked parsing of command-line numbers, durations and sizes.
 * Every function returns 0 or -EINVAL and leaves *out untouched on error. */
#ifndef WEFT_PARSE_H
#define WEFT_PARSE_H

#include <stdint.h>

int parse_u64(const char *arg, uint64_t *out, uint64_t min, uint64_t max);
int parse_double(const char *arg, double *out, double min, double max);
/* "250ms", "30s", "5m", "2h", "1d"; a bare number is `bare_unit_ns` units. */
int parse_duration_ns(const char *arg, uint64_t *out, uint64_t bare_unit_ns);
/* "4096", "64KiB", "64MiB", "1GiB" (also k/M/G as binary multiples). */
int parse_size(const char *arg, uint64_t *out, uint64_t min, uint64_t max);
/* "host:port" or "[v6]:port"; host copied into buf (NUL-terminated). */
int parse_host_port(const char *arg, char *host, int hostlen, uint16_t *port);

#endif

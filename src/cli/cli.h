/* What the query commands (map, traces, trace) share beyond the API client:
 * the --api option and how times are shown. */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "apiclient/api_client.h"
#include "common/jsonv.h"

#define CLI_OPT_API 256 /* --api, long only */

/* "2026-01-02 15:04:05.123" in local time. */
void cli_format_time(uint64_t ns, char *buf, size_t cap);

#endif

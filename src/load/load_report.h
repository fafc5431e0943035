/* What a person reads: the live progress line and the summary table, and
 * the JSON document with every figure of a run. */
#ifndef WEFT_LOAD_REPORT_H
#define WEFT_LOAD_REPORT_H

#include <stdio.h>

#include "load/load.h"

struct json_object;

/* One progress line, rewritten in place ("\r", no newline). */
void load_report__progress(FILE *f, const struct load_second *s);
/* The summary: totals, errors by kind, latency overall and per URI. */
void load_report__table(FILE *f, const struct load_config *cfg, const struct load_result *res);
/* The JSON document of a run (top level: requests, errors, duration_s, rps,
 * latency_ms, per_uri, series, ...). Returns a new object the caller puts,
 * or NULL on allocation failure. */
struct json_object *load_report__json(const struct load_config *cfg, const struct load_result *res);
/* Writes that document to path ("-": stdout). Returns 0 or -errno with a
 * reason in err. */
int load_report__write_json(const char *path, const struct load_config *cfg,
			    const struct load_result *res, char *err, size_t errlen);

#endif

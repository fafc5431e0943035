/* Command-line options from one table, which also generates the help text,
 * so usage can never drift from what is parsed. */
#ifndef WEFT_OPTS_H
#define WEFT_OPTS_H

#include <stdio.h>

struct weft_opt {
	const char *name; /* long option, without "--" */
	int key;	  /* short option character, or a value >= 256 for long-only */
	const char *arg;  /* metavar for options taking a value, NULL for flags */
	const char *help; /* one line */
};

/* Called once per option; return 0, or a negative errno after printing
 * one line that says what was wrong with the value. */
typedef int (*weft_opt_fn)(int key, const char *arg, void *ctx);

/* Parses argv against the table (terminated by a zero entry), options before,
 * between or after operands as GNU tools take them ("--" ends the options).
 * `--help` is built in: prints usage to stdout and returns 1. Returns 0 with
 * the operands moved to argv[*first_arg..argc), in their order, or -EINVAL
 * after printing a hint to stderr. */
int opts_parse(int argc, char **argv, const char *cmd, const struct weft_opt *opts, weft_opt_fn fn,
	       void *ctx, int *first_arg);

struct weft_cmd_help {
	const char *usage;    /* "weft sensor [OPTIONS]" */
	const char *summary;  /* one paragraph */
	const char *examples; /* an EXAMPLES block, may be NULL */
};

void opts_usage(FILE *f, const struct weft_cmd_help *h, const struct weft_opt *opts);

#endif

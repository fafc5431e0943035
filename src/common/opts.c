#include "common/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define OPTS_MAX 64
#define OPT_HELP 0x1000

int opts_parse(int argc, char **argv, const char *cmd, const struct weft_opt *opts, weft_opt_fn fn,
	       void *ctx, int *first_arg)
{
	struct option longs[OPTS_MAX + 2];
	char shorts[OPTS_MAX * 2 + 2];
	int n = 0, s = 0, c, err;

	/* No '+' first: getopt permutes, so options may follow operands as with
	 * GNU tools ("--" still ends the options). */
	for (; opts[n].name && n < OPTS_MAX; n++) {
		longs[n] = (struct option){
		    opts[n].name, opts[n].arg ? required_argument : no_argument, NULL, opts[n].key};
		if (opts[n].key > 0 && opts[n].key < 256) {
			shorts[s++] = (char)opts[n].key;
			if (opts[n].arg)
				shorts[s++] = ':';
		}
	}
	longs[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longs[n] = (struct option){0};
	shorts[s] = '\0';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == OPT_HELP)
			return 1;
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (optopt && optopt < 256 && c == '?')
				fprintf(stderr, "weft %s: unknown or incomplete option '-%c'\n",
					cmd, optopt);
			else
				fprintf(stderr, "weft %s: unknown option or missing value: '%s'\n",
					cmd, bad);
			fprintf(stderr, "Try 'weft %s --help'.\n", cmd);
			return -EINVAL;
		}
		err = fn(c, optarg, ctx);
		if (err)
			return err;
	}
	*first_arg = optind;
	return 0;
}

void opts_usage(FILE *f, const struct weft_cmd_help *h, const struct weft_opt *opts)
{
	fprintf(f, "Usage: %s\n\n%s\n\nOptions:\n", h->usage, h->summary);
	for (const struct weft_opt *o = opts; o->name; o++) {
		char left[64];

		if (o->key > 0 && o->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(f, "  %-30s %s\n", left, o->help);
	}
	fprintf(f, "  %-30s %s\n", "    --help", "show this help and exit");
	if (h->examples)
		fprintf(f, "\nExamples:\n%s", h->examples);
}

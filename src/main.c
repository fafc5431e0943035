/* weft: agentless application performance management.
 * One binary, one subcommand per part, as git and bpftool do it. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "version.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"up", cmd_up, "start a server and this host's sensor in one command"},
    {"server", cmd_server, "ingest, correlate and store; serve the map and trajectories"},
    {"sensor", cmd_sensor, "capture every TCP message on this host with eBPF"},
    {"control", cmd_control, "switch a running sensor's capture (its --control socket)"},
    {"map", cmd_map, "the application dependency map from a server's API"},
    {"traces", cmd_traces, "the newest trajectories from a server's API"},
    {"trace", cmd_trace, "one trajectory as a waterfall"},
    {"load", cmd_load, "HTTP load generator: closed or open loop, honest latency"},
    {"profile", cmd_profile, "the Autoprofiler: per-transaction resource profiles, capacity model"},
    {0},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: weft COMMAND [OPTIONS]\n\n"
		   "Agentless application performance management for distributed systems.\n\n"
		   "Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'weft COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("weft %s\n", WEFT_VERSION);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "weft: unknown command '%s'; run 'weft --help' for the list\n", argv[1]);
	return 2;
}

/* The subcommands of the one `weft` binary. Each takes the argv that starts
 * at its own name and returns the process exit status. */
#ifndef WEFT_COMMANDS_H
#define WEFT_COMMANDS_H

int cmd_sensor(int argc, char **argv);
int cmd_control(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_traces(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_profile(int argc, char **argv);

#endif

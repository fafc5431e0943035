/* Go programs on this host. Goroutines move between OS threads, so a Go
 * program's thread says little about which request a message belongs to;
 * its goroutine does. The kernel programs read it (the g register saved at
 * system call entry) for the processes named here: those whose executable
 * is a Go binary, looked at once per executable with libelf. */
#ifndef WEFT_GO_PROCS_H
#define WEFT_GO_PROCS_H

#include <stdint.h>

struct capture;
struct go_procs;

/* NULL + errno. cap outlives it. netns (nonzero with --netns): only the
 * processes of that network namespace (a sensor of another namespace would
 * only add its own probes' cost to them). */
struct go_procs *go_procs__new(struct capture *cap, uint32_t netns);
void go_procs__free(struct go_procs *g);
/* A process seen for the first time or after an exec: registered with the
 * kernel programs when it runs Go. */
void go_procs__note(struct go_procs *g, uint32_t pid);
/* Every process running now (at start). */
void go_procs__scan(struct go_procs *g);

#endif

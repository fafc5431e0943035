/* Executable paths of the processes seen in events, read from /proc and
 * cached: a readlink per event would cost more than the event itself. */
#ifndef WEFT_PROC_INFO_H
#define WEFT_PROC_INFO_H

#include <stdbool.h>
#include <stdint.h>

struct proc_cache;

struct proc_cache *proc_cache__new(void);
/* The executable of pid, or "" when the process is gone. The string is
 * owned by the cache and valid until the next call. A changed comm (exec)
 * refreshes the entry; *fresh (may be NULL) says the entry was (re)read. */
const char *proc_cache__exe(struct proc_cache *pc, uint32_t pid, const char *comm, bool *fresh);
/* Records what a process just executed (from the kernel's exec event). */
void proc_cache__exec(struct proc_cache *pc, uint32_t pid, const char *comm, const char *path);
void proc_cache__free(struct proc_cache *pc);

#endif

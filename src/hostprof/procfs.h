/* Resource profiles of named processes, read from /proc: what ps, vmstat and
 * netstat would say about a window of time, measured in one process. Pure
 * user space; the sensor (on command from the server) and the master's
 * single-host mode both use it.
 *
 * A session snapshots the processes and the host when it starts and again
 * when it stops; the profile is the difference, as one line of JSON (its
 * keys are documented in docs/profile.md). */
#ifndef WEFT_HOSTPROF_PROCFS_H
#define WEFT_HOSTPROF_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROF_NAME_MAX 255 /* longest process name (an executable's basename) */

/* Processes whose comm (/proc/PID/comm) or executable basename (readlink
 * /proc/PID/exe) equals name, restricted to network namespace netns_ino when
 * nonzero (the inode of /proc/PID/ns/net). A name of 15 characters or more
 * also matches a comm that is its first 15 (the kernel truncates comm).
 * Kernel threads are excluded. Returns the count found, which may exceed
 * cap (at most cap pids are written, in /proc order), or -errno. */
int procfs_find(const char *name, uint32_t netns_ino, uint32_t *pids, size_t cap);

struct prof_session;

/* Starts profiling the processes named names[0..n) (a process matching
 * several names belongs to the first). On success *out owns a session for
 * prof_session__free. Fails with -ESRCH and err = "no process named 'X'"
 * (" in network namespace N" when netns_ino is given) when a name matches
 * nothing, -EINVAL for a bad name, -ENOMEM; err may be NULL. */
int prof_session__start(struct prof_session **out, const char *const *names, size_t n,
			uint32_t netns_ino, char *err, size_t errcap);

/* The pids measured from the start, in name order then pid order; returns
 * their count (may exceed cap, at most cap written). */
size_t prof_session__pids(const struct prof_session *s, uint32_t *pids, size_t cap);

/* Says whether someone feeds prof_session__count_net (the sensor does; the
 * single-host mode does not): without it the per-process network bytes are
 * null in the profile. Off by default. */
void prof_session__set_net_counting(struct prof_session *s, bool on);

/* Network bytes seen by the caller for pid (the sensor's own socket events).
 * Counted when pid is one of the session's processes, including one started
 * during the window (looked up in /proc once, then remembered); ignored for
 * other pids and after the session stopped. */
void prof_session__count_net(struct prof_session *s, uint32_t pid, uint64_t rx, uint64_t tx);

/* Ends the window: snapshots again and returns the profile as one line of
 * JSON (no newline; malloc'd, the caller frees). Processes started during
 * the window count from zero; those that exited count only through their
 * parent's cutime/cstime (when the parent is measured too). Only once per
 * session: -EALREADY afterwards; -ENOMEM. */
int prof_session__stop(struct prof_session *s, char **json);

/* The profile of a stopped session again, listing at most max_threads
 * threads per process (those with the most CPU; SIZE_MAX for all), so a
 * caller with a size limit can shorten it. -EINVAL before the stop. */
int prof_session__render(struct prof_session *s, size_t max_threads, char **json);

/* NULL is fine. */
void prof_session__free(struct prof_session *s);

#endif

/* A profiling session's state, shared by session.c (the snapshots and their
 * differences) and session_json.c (the profile as JSON). Not part of the
 * module's contract. */
#ifndef WEFT_HOSTPROF_SESSION_INT_H
#define WEFT_HOSTPROF_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostprof/procfs.h"
#include "hostprof/procfs_int.h"

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

struct thread_result {
	uint32_t pid, tid;
	uint64_t user, sys; /* ticks in the window */
	char comm[PROC_COMM_LEN];
};

/* Everything measured under one name. */
struct group {
	char *name;
	int64_t user, sys;	       /* ticks, own and reaped children's */
	int64_t child_user, child_sys; /* the reaped children's part */
	int64_t read_bytes, write_bytes;
	uint64_t rss; /* pages, at the stop */
	uint64_t vcsw, ivcsw;
	uint64_t net_rx, net_tx;  /* from prof_session__count_net */
	struct u32vec pids;	  /* measured and alive at the stop */
	struct u32vec started;	  /* of those, started during the window */
	struct u32vec exited;	  /* measured at the start, gone at the stop */
	struct u32vec unmeasured; /* named so at the stop, but older than the window and
				     not seen at its start (renamed by an exec): left out */
	struct thread_result *threads;
	size_t nthreads, threads_cap;
};

struct pid_slot {
	uint32_t pid;  /* 0: empty */
	int32_t group; /* -1: not one of ours */
};

struct prof_session {
	struct group *groups;
	const char **names; /* groups[i].name, as proc_match wants them */
	size_t ngroups;
	uint32_t netns_ino; /* 0: every namespace */
	long clk_tck;
	long page_kb;
	uint64_t start_ns, stop_ns; /* CLOCK_BOOTTIME */
	uint64_t start_ticks;	    /* start_ns in clock ticks: starttime at or after is new */
	struct proc_snap *base;	    /* at the start, sorted by pid */
	size_t nbase;
	struct host_snap host0, host1;
	uint32_t host_netns; /* whose interfaces the host block counts */
	bool self_net;	     /* that namespace is ours: read /proc/self/net/dev */
	bool net_counting;
	bool stopped;
	struct pid_slot *map; /* pid -> group, for count_net */
	size_t map_cap, map_used;
};

static inline uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

#endif

/* Readers of /proc shared by procfs.c and session.c: snapshots of one
 * process with its threads, and of the host. Not part of the module's
 * contract. */
#ifndef WEFT_HOSTPROF_PROCFS_INT_H
#define WEFT_HOSTPROF_PROCFS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROC_COMM_LEN 16

/* The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) weft uses. */
struct proc_stat {
	uint64_t flags; /* PF_* */
	uint64_t utime; /* clock ticks */
	uint64_t stime;
	uint64_t cutime; /* of reaped children (and theirs) */
	uint64_t cstime;
	uint64_t starttime; /* clock ticks after boot */
	uint64_t rss;	    /* pages */
	uint32_t ppid;
	char state;
	char comm[PROC_COMM_LEN];
};

/* Parses the text of a stat file, comm with spaces and parentheses included
 * (fields are taken after the last ')'). 0 or -EINVAL; buf is modified. */
int proc_stat_parse(char *buf, struct proc_stat *st);
/* Reads /proc/PID/stat, or /proc/PID/task/TID/stat when tid is nonzero.
 * -ENOENT (or -ESRCH) once the process is gone. */
int proc_stat_read(uint32_t pid, uint32_t tid, struct proc_stat *st);

/* Which of names[0..n) pid is (see procfs_find), within netns_ino when
 * nonzero: the index, -1 for none, or a negative errno below -1 when the
 * process could not be read (-ENOENT when gone). st (may be NULL) receives
 * its stat. */
int proc_match(uint32_t pid, const char *const *names, size_t n, uint32_t netns_ino,
	       struct proc_stat *st);
/* The inode of pid's network namespace, or 0 when it cannot be read. */
uint32_t proc_netns(uint32_t pid);

/* Calls fn for every process in /proc (pids ascending is not promised);
 * stops early when fn returns nonzero and returns that value. */
int proc_each(int (*fn)(uint32_t pid, void *ctx), void *ctx);

struct thread_snap {
	uint32_t tid;
	uint64_t start;	       /* starttime, ticks after boot */
	uint64_t utime, stime; /* ticks */
	uint64_t vcsw, ivcsw;  /* voluntary / involuntary context switches */
	char comm[PROC_COMM_LEN];
};

struct proc_snap {
	uint32_t pid;
	uint32_t ppid;
	int group;			       /* index of the name it matched */
	uint64_t start;			       /* starttime, identifies the process with pid */
	uint64_t utime, stime, cutime, cstime; /* ticks */
	uint64_t rss;			       /* pages */
	uint64_t read_bytes, write_bytes;      /* /proc/PID/io; 0 when unreadable */
	struct thread_snap *threads;	       /* sorted by tid */
	size_t nthreads;
};

/* Snapshots pid (stat, io, every thread's stat and context switches).
 * 0, -ENOENT when the process is gone, -ENOMEM. */
int proc_snap_take(uint32_t pid, struct proc_snap *ps);
void proc_snap_release(struct proc_snap *ps);
/* The thread tid of ps, or NULL. */
const struct thread_snap *proc_snap_thread(const struct proc_snap *ps, uint32_t tid);

/* Host-wide counters. */
struct cpu_times {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal; /* ticks */
};

struct named_pair {
	char name[32];
	uint64_t a, b; /* disks: bytes read, written; interfaces: rx, tx bytes */
};

struct host_snap {
	struct cpu_times all;
	struct cpu_times *cpu; /* per CPU, in /proc/stat order */
	size_t ncpu;
	uint64_t ctxt;	/* context switches since boot */
	uint64_t forks; /* processes created since boot */
	uint64_t mem_total_kb, mem_available_kb;
	struct named_pair *disks; /* whole, physical disks */
	size_t ndisks;
	struct named_pair *ifs; /* interfaces of the namespace */
	size_t nifs;
	bool have_net; /* ifs was read */
};

/* Reads /proc/stat, /proc/meminfo, /proc/diskstats and net_dev_path (e.g.
 * /proc/PID/net/dev; NULL skips the network). 0 or -errno for /proc/stat;
 * the other files are best effort. */
int host_snap_take(struct host_snap *h, const char *net_dev_path);
void host_snap_release(struct host_snap *h);

#endif

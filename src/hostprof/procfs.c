/* Reading /proc: which processes carry a name, what one process and its
 * threads have used so far, what the host has. Every reader tolerates a
 * process that disappears between two reads: it reports -ENOENT and the
 * caller skips the process. */
#include "hostprof/procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostprof/procfs_int.h"

#define PF_KTHREAD_FLAG 0x00200000 /* PF_KTHREAD from include/linux/sched.h */
#define SECTOR_BYTES	512ull	   /* /proc/diskstats counts 512-byte sectors */

/* Reads a small file whole into buf (NUL-terminated); bytes or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err == -ESRCH ? -ENOENT : err;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

int proc_stat_parse(char *buf, struct proc_stat *st)
{
	char *lp = strchr(buf, '('), *rp = strrchr(buf, ')'), *p, *end;
	uint64_t f[25] = {0}; /* f[i] is field i (1-based, as in proc(5)) */
	size_t n;

	if (!lp || !rp || rp < lp || rp[1] != ' ')
		return -EINVAL;
	n = (size_t)(rp - lp - 1);
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, lp + 1, n);
	st->comm[n] = '\0';
	p = rp + 2;
	st->state = *p;
	p++;
	for (int i = 4; i <= 24; i++) {
		long long v;

		errno = 0;
		v = strtoll(p, &end, 10);
		if (end == p || errno)
			return -EINVAL;
		f[i] = v < 0 ? 0 : (uint64_t)v; /* only priority and nice can be negative */
		p = end;
	}
	st->ppid = (uint32_t)f[4];
	st->flags = f[9];
	st->utime = f[14];
	st->stime = f[15];
	st->cutime = f[16];
	st->cstime = f[17];
	st->starttime = f[22];
	st->rss = f[24];
	return 0;
}

int proc_stat_read(uint32_t pid, uint32_t tid, struct proc_stat *st)
{
	char path[64], buf[1024];
	ssize_t n;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return proc_stat_parse(buf, st);
}

uint32_t proc_netns(uint32_t pid)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	return stat(path, &sb) ? 0 : (uint32_t)sb.st_ino;
}

static bool comm_is(const char *comm, const char *name)
{
	size_t n = strlen(name);

	if (n >= PROC_COMM_LEN - 1) /* the kernel keeps the first 15 characters */
		return strlen(comm) == PROC_COMM_LEN - 1 && !strncmp(comm, name, PROC_COMM_LEN - 1);
	return !strcmp(comm, name);
}

/* The basename of pid's executable into out; "" when there is none. */
static void exe_base(uint32_t pid, char *out, size_t cap)
{
	char path[64], target[4096], *base;
	ssize_t n;
	size_t len;
	static const char deleted[] = " (deleted)";

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	target[n] = '\0';
	len = (size_t)n;
	if (len > sizeof(deleted) - 1 && !strcmp(target + len - (sizeof(deleted) - 1), deleted))
		target[len - (sizeof(deleted) - 1)] = '\0'; /* replaced on disk since it started */
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= cap) {
		out[0] = '\0'; /* longer than any name we look for */
		return;
	}
	strcpy(out, base);
}

int proc_match(uint32_t pid, const char *const *names, size_t n, uint32_t netns_ino,
	       struct proc_stat *st)
{
	struct proc_stat local;
	char exe[PROF_NAME_MAX + 1] = "";
	bool have_exe = false;
	int err;

	if (!st)
		st = &local;
	err = proc_stat_read(pid, 0, st);
	if (err)
		return err == -EPERM ? -EACCES : err; /* -1 means "no match" */
	if (st->flags & PF_KTHREAD_FLAG)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!comm_is(st->comm, names[i])) {
			if (!have_exe) {
				exe_base(pid, exe, sizeof(exe));
				have_exe = true;
			}
			if (!exe[0] || strcmp(exe, names[i]))
				continue;
		}
		if (netns_ino && proc_netns(pid) != netns_ino)
			return -1;
		return (int)i;
	}
	return -1;
}

int proc_each(int (*fn)(uint32_t pid, void *ctx), void *ctx)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		char *end;
		unsigned long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || !pid || pid > UINT32_MAX)
			continue;
		ret = fn((uint32_t)pid, ctx);
	}
	closedir(d);
	return ret;
}

struct find_ctx {
	const char *name;
	uint32_t netns;
	uint32_t *pids;
	size_t cap, found;
};

static int find_one(uint32_t pid, void *ctx)
{
	struct find_ctx *f = ctx;

	if (proc_match(pid, &f->name, 1, f->netns, NULL) == 0) {
		if (f->found < f->cap)
			f->pids[f->found] = pid;
		f->found++;
	}
	return 0;
}

int procfs_find(const char *name, uint32_t netns_ino, uint32_t *pids, size_t cap)
{
	struct find_ctx f = {.name = name, .netns = netns_ino, .pids = pids, .cap = cap};
	int err;

	if (!name || !*name || strlen(name) > PROF_NAME_MAX || strchr(name, '/'))
		return -EINVAL;
	err = proc_each(find_one, &f);
	if (err < 0)
		return err;
	return f.found > INT32_MAX ? INT32_MAX : (int)f.found;
}

/* ---- one process and its threads ------------------------------------------------------- */

/* A "Key:   value" line of a status or io file; 0 when absent. */
static uint64_t key_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtoull(p + klen + 1, NULL, 10);
	return 0;
}

static void thread_switches(uint32_t pid, uint32_t tid, struct thread_snap *t)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%u/task/%u/status", pid, tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return;
	t->vcsw = key_value(buf, "voluntary_ctxt_switches");
	t->ivcsw = key_value(buf, "nonvoluntary_ctxt_switches");
}

static int tid_cmp(const void *a, const void *b)
{
	const struct thread_snap *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int snap_threads(struct proc_snap *ps)
{
	char path[64];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/task", ps->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	while ((de = readdir(d))) {
		struct thread_snap *t;
		struct proc_stat st;
		unsigned long tid;
		char *end;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		tid = strtoul(de->d_name, &end, 10);
		if (*end || !tid || tid > UINT32_MAX || proc_stat_read(ps->pid, (uint32_t)tid, &st))
			continue; /* a thread that just exited */
		if (ps->nthreads == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct thread_snap *nt = realloc(ps->threads, ncap * sizeof(*nt));

			if (!nt) {
				closedir(d);
				return -ENOMEM;
			}
			ps->threads = nt;
			cap = ncap;
		}
		t = &ps->threads[ps->nthreads++];
		*t = (struct thread_snap){.tid = (uint32_t)tid,
					  .start = st.starttime,
					  .utime = st.utime,
					  .stime = st.stime};
		memcpy(t->comm, st.comm, sizeof(t->comm));
		thread_switches(ps->pid, t->tid, t);
	}
	closedir(d);
	if (ps->nthreads > 1)
		qsort(ps->threads, ps->nthreads, sizeof(*ps->threads), tid_cmp);
	return 0;
}

int proc_snap_take(uint32_t pid, struct proc_snap *ps)
{
	struct proc_stat st;
	char path[64], buf[1024];
	int err;

	*ps = (struct proc_snap){.pid = pid, .group = -1};
	err = proc_stat_read(pid, 0, &st);
	if (err)
		return err == -EINVAL ? -ENOENT : err;
	ps->ppid = st.ppid;
	ps->start = st.starttime;
	ps->utime = st.utime;
	ps->stime = st.stime;
	ps->cutime = st.cutime;
	ps->cstime = st.cstime;
	ps->rss = st.rss;
	/* Includes the threads that ended and the children reaped, like cutime. */
	snprintf(path, sizeof(path), "/proc/%u/io", pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		ps->read_bytes = key_value(buf, "read_bytes");
		ps->write_bytes = key_value(buf, "write_bytes");
	}
	err = snap_threads(ps);
	if (err == -ENOMEM) {
		proc_snap_release(ps);
		return err;
	}
	return 0; /* a zombie has no threads left to list: still a process */
}

void proc_snap_release(struct proc_snap *ps)
{
	free(ps->threads);
	ps->threads = NULL;
	ps->nthreads = 0;
}

const struct thread_snap *proc_snap_thread(const struct proc_snap *ps, uint32_t tid)
{
	struct thread_snap key = {.tid = tid};

	if (!ps->nthreads)
		return NULL;
	return bsearch(&key, ps->threads, ps->nthreads, sizeof(key), tid_cmp);
}

/* ---- the host --------------------------------------------------------------------------- */

static int push_pair(struct named_pair **v, size_t *n, const char *name, uint64_t a, uint64_t b)
{
	struct named_pair *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	snprintf(nv[*n].name, sizeof(nv[*n].name), "%s", name);
	nv[*n].a = a;
	nv[*n].b = b;
	(*n)++;
	return 0;
}

static int read_proc_stat(struct host_snap *h)
{
	FILE *f = fopen("/proc/stat", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!f)
		return -errno;
	while (!err && getline(&line, &cap, f) > 0) {
		struct cpu_times t = {0};
		unsigned long long v;

		if (!strncmp(line, "cpu", 3)) {
			char *p = line + 3;
			bool all = *p == ' ';

			while (*p && !isspace((unsigned char)*p))
				p++;
			if (sscanf(p,
				   "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
				   " %" SCNu64 " %" SCNu64 " %" SCNu64,
				   &t.user, &t.nice, &t.system, &t.idle, &t.iowait, &t.irq,
				   &t.softirq, &t.steal) < 4)
				continue;
			if (all) {
				h->all = t;
			} else {
				struct cpu_times *nc = realloc(h->cpu, (h->ncpu + 1) * sizeof(*nc));

				if (!nc) {
					err = -ENOMEM;
					break;
				}
				h->cpu = nc;
				h->cpu[h->ncpu++] = t;
			}
		} else if (sscanf(line, "ctxt %llu", &v) == 1) {
			h->ctxt = v;
		} else if (sscanf(line, "processes %llu", &v) == 1) {
			h->forks = v;
		}
	}
	free(line);
	fclose(f);
	return err;
}

static void read_meminfo(struct host_snap *h)
{
	char buf[8192];

	if (read_small("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return;
	h->mem_total_kb = key_value(buf, "MemTotal");
	h->mem_available_kb = key_value(buf, "MemAvailable");
}

/* Whole disks backed by a device: partitions are part of their disk, and
 * loop, device-mapper, md, zram and ram devices (no "device" link in sysfs)
 * would count the same bytes again or none that reach a disk. */
static bool physical_disk(unsigned maj, unsigned min, const char *name)
{
	char path[128], sysname[64];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", maj, min);
	if (!access(path, F_OK))
		return false;
	snprintf(sysname, sizeof(sysname), "%s", name);
	for (char *p = sysname; *p; p++)
		if (*p == '/')
			*p = '!';
	snprintf(path, sizeof(path), "/sys/block/%s/device", sysname);
	return !access(path, F_OK);
}

static int read_diskstats(struct host_snap *h)
{
	FILE *f = fopen("/proc/diskstats", "re");
	char line[512], name[64];
	int err = 0;

	if (!f)
		return 0;
	while (!err && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long rd_ios, rd_merges, rd_sec, rd_ms, wr_ios, wr_merges, wr_sec;

		if (sscanf(line, "%u %u %63s %llu %llu %llu %llu %llu %llu %llu", &maj, &min, name,
			   &rd_ios, &rd_merges, &rd_sec, &rd_ms, &wr_ios, &wr_merges,
			   &wr_sec) != 10)
			continue;
		if (physical_disk(maj, min, name))
			err = push_pair(&h->disks, &h->ndisks, name, rd_sec * SECTOR_BYTES,
					wr_sec * SECTOR_BYTES);
	}
	fclose(f);
	return err;
}

static int read_net_dev(struct host_snap *h, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int err = 0;

	if (!f)
		return 0;
	while (!err && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *name = line;
		unsigned long long rx, tx, skip;

		if (!colon)
			continue; /* the two header lines */
		*colon = '\0';
		while (isspace((unsigned char)*name))
			name++;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx, &skip,
			   &skip, &skip, &skip, &skip, &skip, &skip, &tx) != 9)
			continue;
		err = push_pair(&h->ifs, &h->nifs, name, rx, tx);
	}
	fclose(f);
	h->have_net = !err;
	return err;
}

int host_snap_take(struct host_snap *h, const char *net_dev_path)
{
	int err;

	*h = (struct host_snap){0};
	err = read_proc_stat(h);
	if (!err) {
		read_meminfo(h);
		err = read_diskstats(h);
	}
	if (!err && net_dev_path)
		err = read_net_dev(h, net_dev_path);
	if (err)
		host_snap_release(h);
	return err;
}

void host_snap_release(struct host_snap *h)
{
	free(h->cpu);
	free(h->disks);
	free(h->ifs);
	*h = (struct host_snap){0};
}

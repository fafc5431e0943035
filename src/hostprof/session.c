/* A profiling session: snapshots at the start and at the stop of a window,
 * and their difference (session_json.c renders it as JSON).
 *
 * Accounting across the window (docs/profile.md says the same for users):
 * - a process alive at both ends counts its own CPU delta plus the delta of
 *   cutime/cstime, i.e. the children it reaped during the window;
 * - a process started during the window counts from zero;
 * - a process that exited counts only through the parent that reaped it:
 *   when that parent is measured too, the CPU and I/O the exited process had
 *   before the window (which arrive in the parent's counters with the rest)
 *   are subtracted, so only the window remains. */
#include "hostprof/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostprof/session_int.h"

#define NET_MAP_INITIAL 256
#define NET_MAP_MAX	(1u << 20) /* pids remembered; beyond, unknown pids are not looked up */

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int u32_push(struct u32vec *v, uint32_t x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		uint32_t *nv = realloc(v->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

static int snap_pid_cmp(const void *a, const void *b)
{
	const struct proc_snap *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static const struct proc_snap *base_find(const struct prof_session *s, uint32_t pid)
{
	struct proc_snap key = {.pid = pid};

	if (!s->nbase)
		return NULL;
	return bsearch(&key, s->base, s->nbase, sizeof(key), snap_pid_cmp);
}

/* ---- pid -> group, for network bytes ------------------------------------------------ */

static struct pid_slot *map_slot(struct pid_slot *map, size_t cap, uint32_t pid)
{
	size_t i = (pid * 2654435761u) & (cap - 1);

	while (map[i].pid && map[i].pid != pid)
		i = (i + 1) & (cap - 1);
	return &map[i];
}

static int map_put(struct prof_session *s, uint32_t pid, int group)
{
	struct pid_slot *slot;

	if ((s->map_used + 1) * 2 > s->map_cap) {
		size_t cap = s->map_cap ? s->map_cap * 2 : NET_MAP_INITIAL;
		struct pid_slot *m;

		if (cap > NET_MAP_MAX)
			return -ENOSPC;
		m = calloc(cap, sizeof(*m));
		if (!m)
			return -ENOMEM;
		for (size_t i = 0; i < s->map_cap; i++)
			if (s->map[i].pid)
				*map_slot(m, cap, s->map[i].pid) = s->map[i];
		free(s->map);
		s->map = m;
		s->map_cap = cap;
	}
	slot = map_slot(s->map, s->map_cap, pid);
	if (!slot->pid)
		s->map_used++;
	*slot = (struct pid_slot){.pid = pid, .group = group};
	return 0;
}

void prof_session__count_net(struct prof_session *s, uint32_t pid, uint64_t rx, uint64_t tx)
{
	struct pid_slot *slot;
	int g;

	if (!s || s->stopped || !pid)
		return;
	slot = s->map_cap ? map_slot(s->map, s->map_cap, pid) : NULL;
	if (slot && slot->pid) {
		g = slot->group;
	} else {
		/* First bytes of a process not seen at the start: one look in /proc
		 * (a PostgreSQL backend forked for a new connection is one of ours). */
		g = proc_match(pid, s->names, s->ngroups, s->netns_ino, NULL);
		if (g < 0)
			g = -1;
		map_put(s, pid, g); /* full: looked up again next time, still right */
	}
	if (g >= 0) {
		s->groups[g].net_rx += rx;
		s->groups[g].net_tx += tx;
	}
}

void prof_session__set_net_counting(struct prof_session *s, bool on)
{
	s->net_counting = on;
}

/* ---- matching processes --------------------------------------------------------------- */

struct match {
	uint32_t pid;
	int group;
};

struct scan_ctx {
	const struct prof_session *s;
	struct match *v;
	size_t n, cap;
	int err;
};

static int scan_one(uint32_t pid, void *ctx)
{
	struct scan_ctx *c = ctx;
	int g = proc_match(pid, c->s->names, c->s->ngroups, c->s->netns_ino, NULL);

	if (g < 0)
		return 0; /* not ours, gone, or unreadable */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct match *nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv) {
			c->err = -ENOMEM;
			return 1;
		}
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = (struct match){.pid = pid, .group = g};
	return 0;
}

/* Every process matching one of the names now; *out is malloc'd. */
static int scan(const struct prof_session *s, struct match **out, size_t *n)
{
	struct scan_ctx c = {.s = s};
	int err = proc_each(scan_one, &c);

	if (err < 0 || c.err) {
		free(c.v);
		return c.err ? c.err : err;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

/* ---- start ------------------------------------------------------------------------------ */

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > PROF_NAME_MAX || strchr(name, '/'))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20)
			return false;
	return true;
}

static int session_new(struct prof_session **out, const char *const *names, size_t n,
		       uint32_t netns_ino)
{
	struct prof_session *s = calloc(1, sizeof(*s));

	*out = s;
	if (!s)
		return -ENOMEM;
	s->groups = calloc(n, sizeof(*s->groups));
	s->names = calloc(n, sizeof(*s->names));
	if (!s->groups || !s->names)
		return -ENOMEM;
	s->ngroups = n;
	for (size_t i = 0; i < n; i++) {
		s->groups[i].name = strdup(names[i]);
		if (!s->groups[i].name)
			return -ENOMEM;
		s->names[i] = s->groups[i].name;
	}
	s->netns_ino = netns_ino;
	s->clk_tck = sysconf(_SC_CLK_TCK);
	if (s->clk_tck <= 0)
		s->clk_tck = 100;
	s->page_kb = sysconf(_SC_PAGESIZE) / 1024;
	if (s->page_kb <= 0)
		s->page_kb = 4;
	return 0;
}

/* Snapshots every match into s->base; a process gone meanwhile is skipped. */
static int take_base(struct prof_session *s, const struct match *m, size_t n)
{
	s->base = calloc(n ? n : 1, sizeof(*s->base));
	if (!s->base)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct proc_snap *ps = &s->base[s->nbase];
		int err = proc_snap_take(m[i].pid, ps);

		if (err == -ENOMEM)
			return err;
		if (err)
			continue;
		ps->group = m[i].group;
		s->nbase++;
	}
	qsort(s->base, s->nbase, sizeof(*s->base), snap_pid_cmp);
	for (size_t i = 0; i < s->nbase; i++)
		if (map_put(s, s->base[i].pid, s->base[i].group) == -ENOMEM)
			return -ENOMEM;
	return 0;
}

/* The namespace whose interfaces the host block counts: the one asked for
 * (through a process in it), else the caller's own. path gets the file. */
static bool net_dev_path(struct prof_session *s, char *path, size_t cap)
{
	if (s->self_net) {
		snprintf(path, cap, "/proc/self/net/dev");
		return true;
	}
	for (size_t i = 0; i < s->nbase; i++) {
		if (proc_netns(s->base[i].pid) == s->host_netns) {
			snprintf(path, cap, "/proc/%u/net/dev", s->base[i].pid);
			return true;
		}
	}
	for (size_t g = 0; g < s->ngroups; g++) {
		for (size_t i = 0; i < s->groups[g].pids.n; i++) {
			uint32_t pid = s->groups[g].pids.v[i];

			if (proc_netns(pid) == s->host_netns) {
				snprintf(path, cap, "/proc/%u/net/dev", pid);
				return true;
			}
		}
	}
	return false;
}

int prof_session__start(struct prof_session **out, const char *const *names, size_t n,
			uint32_t netns_ino, char *err, size_t errcap)
{
	struct prof_session *s = NULL;
	struct match *m = NULL;
	size_t nm = 0, g;
	char path[64];
	int ret;

	*out = NULL;
	if (err && errcap)
		err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !name_ok(names[i])) {
			if (err)
				snprintf(err, errcap, "bad process name '%s'",
					 names[i] ? names[i] : "");
			return -EINVAL;
		}
	}
	if (!n) {
		if (err)
			snprintf(err, errcap, "no process name given");
		return -EINVAL;
	}
	ret = session_new(&s, names, n, netns_ino);
	if (ret)
		goto fail;
	s->start_ns = boot_ns();
	s->start_ticks = s->start_ns / 1000000000ull * (uint64_t)s->clk_tck +
			 s->start_ns % 1000000000ull * (uint64_t)s->clk_tck / 1000000000ull;
	ret = scan(s, &m, &nm);
	if (!ret)
		ret = take_base(s, m, nm);
	if (ret)
		goto fail;
	for (g = 0; g < n; g++) {
		size_t i;

		for (i = 0; i < s->nbase && s->base[i].group != (int)g; i++)
			;
		if (i == s->nbase)
			break;
	}
	if (g < n) {
		if (err && netns_ino)
			snprintf(err, errcap, "no process named '%s' in network namespace %u",
				 names[g], netns_ino);
		else if (err)
			snprintf(err, errcap, "no process named '%s'", names[g]);
		ret = -ESRCH;
		goto fail;
	}
	s->host_netns = netns_ino ? netns_ino : proc_netns((uint32_t)getpid());
	s->self_net = !netns_ino || proc_netns((uint32_t)getpid()) == netns_ino;
	ret = host_snap_take(&s->host0, net_dev_path(s, path, sizeof(path)) ? path : NULL);
	if (ret)
		goto fail;
	free(m);
	*out = s;
	return 0;
fail:
	if (err && !err[0])
		snprintf(err, errcap, "%s", strerror(-ret));
	free(m);
	prof_session__free(s);
	return ret;
}

size_t prof_session__pids(const struct prof_session *s, uint32_t *pids, size_t cap)
{
	size_t k = 0;

	for (size_t g = 0; g < s->ngroups; g++)
		for (size_t i = 0; i < s->nbase; i++)
			if (s->base[i].group == (int)g) {
				if (k < cap)
					pids[k] = s->base[i].pid;
				k++;
			}
	return k;
}

/* ---- stop ------------------------------------------------------------------------------- */

static int add_thread(struct group *g, uint32_t pid, const struct thread_snap *t, uint64_t user,
		      uint64_t sys)
{
	struct thread_result *r;

	if (g->nthreads == g->threads_cap) {
		size_t cap = g->threads_cap ? g->threads_cap * 2 : 16;
		struct thread_result *nt = realloc(g->threads, cap * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		g->threads = nt;
		g->threads_cap = cap;
	}
	r = &g->threads[g->nthreads++];
	*r = (struct thread_result){.pid = pid, .tid = t->tid, .user = user, .sys = sys};
	memcpy(r->comm, t->comm, sizeof(r->comm));
	return 0;
}

/* Adds process c's window to its group: against its start snapshot b, or
 * from zero when b is NULL (started during the window). */
static int add_process(struct prof_session *s, const struct proc_snap *b, const struct proc_snap *c,
		       int group)
{
	static const struct proc_snap zero;
	struct group *g = &s->groups[group];
	int err = 0;

	if (!b)
		b = &zero;
	g->user += (int64_t)since(c->utime, b->utime) + (int64_t)since(c->cutime, b->cutime);
	g->sys += (int64_t)since(c->stime, b->stime) + (int64_t)since(c->cstime, b->cstime);
	g->child_user += (int64_t)since(c->cutime, b->cutime);
	g->child_sys += (int64_t)since(c->cstime, b->cstime);
	g->read_bytes += (int64_t)since(c->read_bytes, b->read_bytes);
	g->write_bytes += (int64_t)since(c->write_bytes, b->write_bytes);
	g->rss += c->rss;
	for (size_t i = 0; i < c->nthreads && !err; i++) {
		const struct thread_snap *t = &c->threads[i];
		const struct thread_snap *bt = proc_snap_thread(b, t->tid);

		if (bt && bt->start != t->start)
			bt = NULL; /* the tid was reused */
		g->vcsw += since(t->vcsw, bt ? bt->vcsw : 0);
		g->ivcsw += since(t->ivcsw, bt ? bt->ivcsw : 0);
		err = add_thread(g, c->pid, t, since(t->utime, bt ? bt->utime : 0),
				 since(t->stime, bt ? bt->stime : 0));
	}
	if (!err)
		err = u32_push(&g->pids, c->pid);
	if (!err && b == &zero)
		err = u32_push(&g->started, c->pid);
	return err;
}

/* A process measured at the start is gone: its parent (or the nearest
 * measured ancestor still alive, through measured ones that exited too)
 * reaped it, and its whole life arrived in that one's cutime/cstime and
 * I/O. Take back what it had before the window. */
static void settle_exited(struct prof_session *s, const struct proc_snap *b, const bool *alive)
{
	uint32_t ppid = b->ppid;

	for (size_t depth = 0; depth < s->nbase; depth++) {
		const struct proc_snap *p = base_find(s, ppid);
		struct group *g;

		if (!p)
			return; /* reaped by a process we do not measure: not counted */
		if (!alive[p - s->base]) {
			ppid = p->ppid;
			continue;
		}
		g = &s->groups[p->group];
		g->user -= (int64_t)(b->utime + b->cutime);
		g->sys -= (int64_t)(b->stime + b->cstime);
		g->child_user -= (int64_t)(b->utime + b->cutime);
		g->child_sys -= (int64_t)(b->stime + b->cstime);
		g->read_bytes -= (int64_t)b->read_bytes;
		g->write_bytes -= (int64_t)b->write_bytes;
		return;
	}
}

/* The processes at the start, again: alive[i] says base[i] still runs. */
static int measure_base(struct prof_session *s, bool *alive)
{
	for (size_t i = 0; i < s->nbase; i++) {
		const struct proc_snap *b = &s->base[i];
		struct proc_snap c;
		int err = proc_snap_take(b->pid, &c);

		if (err == -ENOMEM)
			return err;
		if (err)
			continue;
		alive[i] = c.start == b->start;
		if (alive[i])
			err = add_process(s, b, &c, b->group);
		proc_snap_release(&c);
		if (err)
			return err;
	}
	for (size_t i = 0; i < s->nbase; i++) {
		if (alive[i])
			continue;
		if (u32_push(&s->groups[s->base[i].group].exited, s->base[i].pid))
			return -ENOMEM;
		settle_exited(s, &s->base[i], alive);
	}
	return 0;
}

/* Processes carrying a name now that were not measured at the start. */
static int measure_new(struct prof_session *s, const bool *alive)
{
	struct match *m = NULL;
	size_t nm = 0;
	int err = scan(s, &m, &nm);

	for (size_t i = 0; i < nm && !err; i++) {
		const struct proc_snap *b = base_find(s, m[i].pid);
		struct proc_snap c;

		if (b && alive[b - s->base])
			continue; /* measured already */
		err = proc_snap_take(m[i].pid, &c);
		if (err) {
			err = err == -ENOMEM ? err : 0;
			continue;
		}
		if (c.start >= s->start_ticks)
			err = add_process(s, NULL, &c, m[i].group);
		else
			err = u32_push(&s->groups[m[i].group].unmeasured, c.pid);
		proc_snap_release(&c);
	}
	free(m);
	return err;
}

int prof_session__stop(struct prof_session *s, char **json)
{
	char path[64];
	bool *alive;
	int err;

	*json = NULL;
	if (s->stopped)
		return -EALREADY;
	s->stopped = true;
	s->stop_ns = boot_ns();
	alive = calloc(s->nbase ? s->nbase : 1, sizeof(*alive));
	if (!alive)
		return -ENOMEM;
	err = measure_base(s, alive);
	if (!err)
		err = measure_new(s, alive);
	free(alive);
	if (!err)
		err = host_snap_take(&s->host1, net_dev_path(s, path, sizeof(path)) ? path : NULL);
	if (err)
		return err;
	return prof_session__render(s, SIZE_MAX, json);
}

void prof_session__free(struct prof_session *s)
{
	if (!s)
		return;
	for (size_t g = 0; s->groups && g < s->ngroups; g++) {
		struct group *gr = &s->groups[g];

		free(gr->name);
		free(gr->pids.v);
		free(gr->started.v);
		free(gr->exited.v);
		free(gr->unmeasured.v);
		free(gr->threads);
	}
	for (size_t i = 0; i < s->nbase; i++)
		proc_snap_release(&s->base[i]);
	free(s->base);
	host_snap_release(&s->host0);
	host_snap_release(&s->host1);
	free(s->groups);
	free(s->names);
	free(s->map);
	free(s);
}

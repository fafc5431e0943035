/* A profiling session: snapshots at the start and at the stop of a window,
 * and the profile of the difference as JSON.
 *
 * Accounting across the window (docs/profile.md says the same for users):
 * - a process alive at both ends counts its own CPU delta plus the delta of
 *   cutime/cstime, i.e. the children it reaped during the window;
 * - a process started during the window counts from zero;
 * - a process that exited counts only through the parent that reaped it:
 *   when that parent is measured too, the CPU and I/O the exited process had
 *   before the window (which arrive in the parent's counters with the rest)
 *   are subtracted, so only the window remains. */
#include "profile/procfs.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profile/procfs_int.h"

#define NET_MAP_INITIAL 256
#define NET_MAP_MAX	(1u << 20) /* pids remembered; beyond, unknown pids are not looked up */

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

static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
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

/* ---- JSON ------------------------------------------------------------------------------- */

static json_object *jnum(double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

static json_object *jsec(const struct prof_session *s, int64_t ticks)
{
	return jnum(ticks > 0 ? (double)ticks / (double)s->clk_tck : 0.0, 3);
}

static json_object *ju64(int64_t v)
{
	return json_object_new_uint64(v > 0 ? (uint64_t)v : 0);
}

static json_object *jpids(const struct u32vec *v)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(a, json_object_new_uint64(v->v[i]));
	return a;
}

static void put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static uint64_t cpu_total(const struct cpu_times *t)
{
	return t->user + t->nice + t->system + t->idle + t->iowait + t->irq + t->softirq + t->steal;
}

static double busy_share(const struct cpu_times *a, const struct cpu_times *b)
{
	uint64_t total = since(cpu_total(b), cpu_total(a));
	uint64_t idle = since(b->idle, a->idle) + since(b->iowait, a->iowait);

	return total ? (double)since(total, idle) / (double)total : 0.0;
}

/* Counters of named things (disks, interfaces) that exist at both ends; one
 * that appeared meanwhile counts from zero. */
static void pair_delta(const struct named_pair *a, size_t na, const struct named_pair *b, size_t i,
		       uint64_t *da, uint64_t *db)
{
	for (size_t j = 0; j < na; j++) {
		if (!strcmp(a[j].name, b[i].name)) {
			*da = since(b[i].a, a[j].a);
			*db = since(b[i].b, a[j].b);
			return;
		}
	}
	*da = b[i].a;
	*db = b[i].b;
}

static void render_disks(const struct prof_session *s, json_object *host)
{
	const struct host_snap *h0 = &s->host0, *h1 = &s->host1;
	json_object *disks = json_object_new_array();
	uint64_t rd = 0, wr = 0;

	for (size_t i = 0; i < h1->ndisks; i++) {
		json_object *d = json_object_new_object();
		uint64_t r, w;

		pair_delta(h0->disks, h0->ndisks, h1->disks, i, &r, &w);
		rd += r;
		wr += w;
		put(d, "name", json_object_new_string(h1->disks[i].name));
		put(d, "read_bytes", json_object_new_uint64(r));
		put(d, "write_bytes", json_object_new_uint64(w));
		json_object_array_add(disks, d);
	}
	put(host, "disk_read_bytes", json_object_new_uint64(rd));
	put(host, "disk_write_bytes", json_object_new_uint64(wr));
	put(host, "disks", disks);
}

static void render_net(const struct prof_session *s, json_object *host)
{
	const struct host_snap *h0 = &s->host0, *h1 = &s->host1;
	uint64_t rx = 0, tx = 0, lrx = 0, ltx = 0;
	bool ok = h0->have_net && h1->have_net;

	for (size_t i = 0; ok && i < h1->nifs; i++) {
		uint64_t r, t;

		pair_delta(h0->ifs, h0->nifs, h1->ifs, i, &r, &t);
		if (!strcmp(h1->ifs[i].name, "lo")) {
			lrx += r;
			ltx += t;
		} else {
			rx += r;
			tx += t;
		}
	}
	put(host, "netns", s->host_netns ? json_object_new_uint64(s->host_netns) : NULL);
	put(host, "net_rx_bytes", ok ? json_object_new_uint64(rx) : NULL);
	put(host, "net_tx_bytes", ok ? json_object_new_uint64(tx) : NULL);
	put(host, "lo_rx_bytes", ok ? json_object_new_uint64(lrx) : NULL);
	put(host, "lo_tx_bytes", ok ? json_object_new_uint64(ltx) : NULL);
}

static json_object *render_host(const struct prof_session *s)
{
	const struct host_snap *h0 = &s->host0, *h1 = &s->host1;
	const struct cpu_times *a = &h0->all, *b = &h1->all;
	json_object *host = json_object_new_object(), *per = json_object_new_array();

	put(host, "cpu_user_s",
	    jsec(s, (int64_t)(since(b->user, a->user) + since(b->nice, a->nice))));
	put(host, "cpu_system_s",
	    jsec(s, (int64_t)(since(b->system, a->system) + since(b->irq, a->irq) +
			      since(b->softirq, a->softirq))));
	put(host, "cpu_idle_s", jsec(s, (int64_t)since(b->idle, a->idle)));
	put(host, "cpu_iowait_s", jsec(s, (int64_t)since(b->iowait, a->iowait)));
	put(host, "cpu_steal_s", jsec(s, (int64_t)since(b->steal, a->steal)));
	put(host, "cpu_utilization", jnum(busy_share(a, b), 4));
	for (size_t i = 0; i < h1->ncpu; i++)
		json_object_array_add(
		    per, jnum(i < h0->ncpu ? busy_share(&h0->cpu[i], &h1->cpu[i]) : 0.0, 4));
	put(host, "cpu_utilization_per_cpu", per);
	put(host, "mem_total_kb", json_object_new_uint64(h1->mem_total_kb));
	put(host, "mem_available_kb", json_object_new_uint64(h1->mem_available_kb));
	put(host, "mem_available_start_kb", json_object_new_uint64(h0->mem_available_kb));
	render_disks(s, host);
	render_net(s, host);
	put(host, "ctxt", json_object_new_uint64(since(h1->ctxt, h0->ctxt)));
	put(host, "forks", json_object_new_uint64(since(h1->forks, h0->forks)));
	return host;
}

static int thread_cpu_cmp(const void *a, const void *b)
{
	const struct thread_result *x = a, *y = b;
	uint64_t cx = x->user + x->sys, cy = y->user + y->sys;

	if (cx != cy)
		return cx > cy ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static json_object *render_threads(const struct prof_session *s, struct group *g, size_t max)
{
	json_object *a = json_object_new_array();

	if (g->nthreads > 1)
		qsort(g->threads, g->nthreads, sizeof(*g->threads), thread_cpu_cmp);
	for (size_t i = 0; i < g->nthreads && i < max; i++) {
		const struct thread_result *t = &g->threads[i];
		json_object *o = json_object_new_object();

		put(o, "pid", json_object_new_uint64(t->pid));
		put(o, "tid", json_object_new_uint64(t->tid));
		put(o, "comm", json_object_new_string(t->comm));
		put(o, "cpu_user_s", jsec(s, (int64_t)t->user));
		put(o, "cpu_system_s", jsec(s, (int64_t)t->sys));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *render_group(const struct prof_session *s, struct group *g, double interval,
				 size_t max_threads)
{
	json_object *o = json_object_new_object();
	int64_t user = g->user > 0 ? g->user : 0, sys = g->sys > 0 ? g->sys : 0;
	double cpu = (double)(user + sys) / (double)s->clk_tck;

	put(o, "name", json_object_new_string(g->name));
	put(o, "pids", jpids(&g->pids));
	put(o, "started_pids", jpids(&g->started));
	put(o, "exited_pids", jpids(&g->exited));
	put(o, "unmeasured_pids", jpids(&g->unmeasured));
	put(o, "cpu_user_s", jsec(s, user));
	put(o, "cpu_system_s", jsec(s, sys));
	put(o, "cpu_s", jsec(s, user + sys));
	put(o, "children_cpu_s",
	    jsec(s,
		 (g->child_user > 0 ? g->child_user : 0) + (g->child_sys > 0 ? g->child_sys : 0)));
	put(o, "utilization", jnum(interval > 0 ? cpu / interval : 0.0, 4));
	put(o, "rss_kb", json_object_new_uint64(g->rss * (uint64_t)s->page_kb));
	put(o, "read_bytes", ju64(g->read_bytes));
	put(o, "write_bytes", ju64(g->write_bytes));
	put(o, "net_rx_bytes", s->net_counting ? json_object_new_uint64(g->net_rx) : NULL);
	put(o, "net_tx_bytes", s->net_counting ? json_object_new_uint64(g->net_tx) : NULL);
	put(o, "voluntary_ctxt", json_object_new_uint64(g->vcsw));
	put(o, "involuntary_ctxt", json_object_new_uint64(g->ivcsw));
	put(o, "threads_total", json_object_new_uint64(g->nthreads));
	put(o, "threads_omitted",
	    json_object_new_uint64(g->nthreads > max_threads ? g->nthreads - max_threads : 0));
	put(o, "threads", render_threads(s, g, max_threads));
	return o;
}

/* The machine's boot id: nodes that report the same one share its CPUs
 * (namespaces or containers on one host), which the capacity model needs. */
static json_object *boot_id(void)
{
	char id[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = '\0';
		fclose(f);
	}
	id[strcspn(id, "\n")] = '\0';
	return *id ? json_object_new_string(id) : NULL;
}

int prof_session__render(struct prof_session *s, size_t max_threads, char **json)
{
	double interval = (double)since(s->stop_ns, s->start_ns) / 1e9;
	json_object *doc, *procs;
	const char *text;

	*json = NULL;
	if (!s->stopped)
		return -EINVAL;
	doc = json_object_new_object();
	if (!doc)
		return -ENOMEM;
	put(doc, "interval_s", jnum(interval, 3));
	put(doc, "clk_tck", json_object_new_int64(s->clk_tck));
	put(doc, "cpus", json_object_new_uint64(s->host1.ncpu));
	put(doc, "boot_id", boot_id());
	put(doc, "netns", s->netns_ino ? json_object_new_uint64(s->netns_ino) : NULL);
	put(doc, "net_counted", json_object_new_boolean(s->net_counting));
	put(doc, "host", render_host(s));
	procs = json_object_new_array();
	for (size_t g = 0; g < s->ngroups; g++)
		json_object_array_add(procs, render_group(s, &s->groups[g], interval, max_threads));
	put(doc, "processes", procs);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	*json = text ? strdup(text) : NULL;
	json_object_put(doc);
	return *json ? 0 : -ENOMEM;
}

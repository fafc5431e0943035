/* A stopped profiling session as one line of JSON (its keys are documented
 * in docs/profile.md). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostprof/session_int.h"

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

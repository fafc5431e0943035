#!/usr/bin/env python3
"""Compares what weft reports with the testbed's ground truth and writes the
results: DIR/results.json (every figure) and DIR/results.md (the paper's
tables), or the --md path given.

  evaluate.py --api http://127.0.0.1:PORT --dir OUT --mode eval|short [--md docs/results.md]

Ground truth, per test id: the emulator's request (rbe), the web tier's log
line (Apache), and one line per application-tier request with the calls it
made (Bookstore.java, orders.py). From them a tree: each node a call
(client service, server service, request), children the calls made while
serving it. weft's tree for the same test id is its trajectory whose root
request carries tid=<id>. A request is right when there is exactly one such
trajectory, its tree equals the truth's, and no span in it is uncertain.
Services are host/executable/port on both sides. Requests compare exactly;
PostgreSQL statements compare by their text ("QUERY x" and "PARSE x" are both
the statement x, the first the simple and the second the extended protocol).
"""
import argparse
import collections
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

TX_ORDER = ["home", "search", "product", "order", "buy"]
ROLE_EDGES = [("rbe", "web"), ("web", "app"), ("web", "orders"), ("app", "db"), ("app", "cache"),
              ("app", "orders"), ("orders", "db"), ("orders", "cache")]


def get(api, path):
    with urllib.request.urlopen(api + path, timeout=30) as r:
        return json.loads(r.read())


def norm_request(req):
    req = req or ""
    for p in ("QUERY ", "PARSE "):
        if req.startswith(p):
            return "SQL " + req[len(p):].strip()[:120]
    return req


# ---- ground truth -------------------------------------------------------------------------


class Truth:
    def __init__(self, d, topo):
        self.svc = {}  # (tenant, role) -> "host/exe/port"
        for s in topo["services"]:
            self.svc[(s["tenant"], s["role"])] = "%s/%s/%d" % (s["host"], s["exe"], s["port"])
        self.rbe_exe = topo["client"]["rbe"]
        self.web = {}   # tid -> (request, status)
        self.app = collections.defaultdict(list)  # tid -> [record]
        for f in sorted(os.listdir(d)):
            if f.startswith("truth-web-"):
                for line in open(os.path.join(d, f)):
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) == 3:
                        self.web[parts[0]] = (parts[1].rsplit(" ", 1)[0], parts[2])
            elif f.startswith("truth-app-") or f.startswith("truth-orders-"):
                for line in open(os.path.join(d, f)):
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue
                    self.app[r["tid"]].append(r)

    def tree(self, tenant, tid):
        """The truth's tree for one test id, or None when a log lacks it."""
        if tid not in self.web:
            return None
        root_req = self.web[tid][0]
        records = self.app.get(tid, [])
        rbe = "%s/%s/0" % ("rbe" if tenant == "a" else "rbe-" + tenant, self.rbe_exe)
        web = self.svc[(tenant, "web")]

        def node(client, record):
            me = self.svc[(tenant, record["svc"])]
            kids = []
            for c in record["calls"]:
                if c["svc"] in ("app", "orders"):
                    sub = [r for r in records if r["svc"] == c["svc"] and r["req"] == c["req"]]
                    if not sub:
                        return None
                    k = node(me, sub[0])
                    if k is None:
                        return None
                    kids.append(k)
                else:
                    req = c["req"] if c["svc"] == "cache" else "SQL " + c["req"][:120]
                    kids.append(((me, self.svc[(tenant, c["svc"])], req), ()))
            return ((client, me, record["req"]), tuple(sorted(kids)))

        called = {c["req"] for r in records for c in r["calls"]}
        top = [r for r in records if r["req"] == root_req and r["req"] not in called]
        if len(top) != 1:
            return None
        child = node(web, top[0])
        if child is None:
            return None
        return ((rbe, web, root_req), (child,))


# ---- weft ---------------------------------------------------------------------------------


class Weft:
    def __init__(self, api):
        self.api = api
        self.nodes = {}

    def load_nodes(self, since, until):
        m = get(self.api, "/api/map?since=%d&until=%d" % (since, until))
        for n in m["nodes"]:
            self.nodes[str(n["id"])] = n
        return m

    def key(self, sid, side):
        n = self.nodes.get(str(sid))
        if n:
            port = (n.get("ports") or [0])[0]
            return "%s/%s/%d" % (n.get("host") or n.get("addr"), exe_name(n.get("exe")), port)
        return "?%s/%s" % ((side or {}).get("host"), (side or {}).get("port"))

    def trajectories(self, substring, since, until):
        out, offset = [], 0
        while True:
            page = get(self.api, "/api/trajectories?limit=1000&offset=%d&since=%d&until=%d&request=%s"
                       % (offset, since, until, urllib.parse.quote(substring)))
            out += page["trajectories"]
            if len(page["trajectories"]) < 1000:
                return out
            offset += 1000

    def detail(self, tid):
        return get(self.api, "/api/trajectories/%s" % tid)

    def tree(self, d):
        spans = d["spans"]
        kids = collections.defaultdict(list)
        for s in spans:
            kids[str(s["parent"]) if s["parent"] is not None else None].append(s)

        def node(s):
            label = (self.key(s.get("client_service"), s.get("client")),
                     self.key(s.get("server_service"), s.get("server")), norm_request(s["request"]))
            return (label, tuple(sorted(node(k) for k in kids.get(str(s["id"]), []))))

        roots = kids.get(None, [])
        if len(roots) != 1:
            return None
        return node(roots[0])


def exe_name(exe):
    """The executable's file name, symbolic links resolved (/usr/bin/python3 and
    /usr/bin/python3.11 are the same program): the testbed shares the file system."""
    exe = exe or ""
    return os.path.basename(os.path.realpath(exe) if exe.startswith("/") else exe)


def tid_of(req):
    m = re.search(r"[?&]tid=([^&\s]+)", req or "")
    return m.group(1) if m else None


def hosts_of(d):
    return {side["host"] for s in d["spans"] for side in (s.get("client"), s.get("server")) if side}


# ---- one run ------------------------------------------------------------------------------


def evaluate_run(run, truth, weft, out_dir):
    since, until = run["t0"] - 2 * 10**9, run["t1"] + 15 * 10**9
    m = weft.load_nodes(since, until)
    res = {"tenants": {}, "map": m}
    for tenant in run["tenants"].split():
        prefix = run["name"] + tenant
        reqs = [json.loads(l) for l in open(os.path.join(out_dir, prefix + ".requests.jsonl"))]
        reqs = [r for r in reqs if r["status"] == 200]
        trajs = weft.trajectories("tid=%s-" % prefix, since, until)
        by_tid = collections.defaultdict(list)
        for t in trajs:
            by_tid[tid_of(t["root"]["request"])].append(t)
        web_host = truth.svc[(tenant, "web")].split("/")[0]
        roots = {}  # tid -> (client addr:port, server pid/tid) of the root span

        def judge(r):
            cands = by_tid.get(r["tid"], [])
            want = truth.tree(tenant, r["tid"])
            if want is None:
                return "no_truth", None
            main = [t for t in cands if t["root"]["host"] == web_host]
            if not main:
                return "missing", None
            if len(cands) > 1:
                return "split", None
            d = weft.detail(main[0]["id"])
            top = [s for s in d["spans"] if s["parent"] is None]
            if top and top[0].get("client") and top[0].get("server"):
                c, sv = top[0]["client"], top[0]["server"]
                roots[r["tid"]] = ("%s:%s" % (c["addr"], c["port"]), "%s/%s" % (sv["pid"], sv["tid"]))
            if any(s["uncertain"] for s in d["spans"]):
                return "uncertain", d
            got = weft.tree(d)
            return ("right" if got == want else "wrong"), {"got": got, "want": want}

        with ThreadPoolExecutor(8) as ex:
            verdicts = list(ex.map(judge, reqs))
        per_tx = collections.defaultdict(collections.Counter)
        examples = collections.defaultdict(list)
        for r, (v, info) in zip(reqs, verdicts):
            per_tx[r["tx"]][v] += 1
            per_tx["all"][v] += 1
            if v in ("wrong",) and len(examples[v]) < 5:
                examples[v].append({"tid": r["tid"], "tx": r["tx"], **info})
            elif v in ("missing", "split", "uncertain") and len(examples[v]) < 5:
                examples[v].append({"tid": r["tid"], "tx": r["tx"]})
        res["tenants"][tenant] = {
            "requests": len(reqs),
            "per_tx": {tx: dict(c, total=sum(c.values()),
                                accuracy=round(100.0 * c["right"] / max(1, sum(c.values())), 2))
                       for tx, c in per_tx.items()},
            "examples": examples,
        }
        res["tenants"][tenant]["map"] = check_map(m, truth, tenant)
        conns = collections.defaultdict(set)
        for conn, thread in roots.values():
            conns[conn].add(thread)
        res["tenants"][tenant]["connections"] = {
            "requests": len(roots), "connections": len(conns),
            "served_by_several_threads": sum(1 for t in conns.values() if len(t) > 1)}
    if len(run["tenants"].split()) > 1:
        res["multi_tenancy"] = check_tenancy(m, truth, weft, run["tenants"].split(), since, until)
    return res


def expected_edges(truth, tenant):
    rbe = "%s/%s/0" % ("rbe" if tenant == "a" else "rbe-" + tenant, truth.rbe_exe)
    svc = lambda r: rbe if r == "rbe" else truth.svc[(tenant, r)]
    return {(svc(a), svc(b)) for a, b in ROLE_EDGES}


def map_edges(m, weft, hosts=None):
    nodes = {str(n["id"]): n for n in m["nodes"]}
    edges = set()
    for e in m["edges"]:
        s, t = weft.key(e["source"], None), weft.key(e["target"], None)
        if hosts is None or s.split("/")[0] in hosts or t.split("/")[0] in hosts:
            edges.add((s, t))
    return edges, nodes


WEFT = None


def check_map(m, truth, tenant):
    want = expected_edges(truth, tenant)
    hosts = {k.split("/")[0] for e in want for k in e}
    got, _ = map_edges(m, WEFT, hosts)
    return {"expected": len(want), "found": len(got & want),
            "missing": sorted(map(list, want - got)), "extra": sorted(map(list, got - want))}


def check_tenancy(m, truth, weft, tenants, since, until):
    host_tenant = {}
    for t in tenants:
        for a, b in expected_edges(truth, t):
            host_tenant[a.split("/")[0]] = t
            host_tenant[b.split("/")[0]] = t
    apps = []
    for app in m.get("applications", []):
        svcs = app.get("services", [])
        ts = set()
        for sid in svcs:
            n = weft.nodes.get(str(sid)) or {}
            ts.add(host_tenant.get(n.get("host"), "other"))
        apps.append(sorted(ts))
    # Every trajectory of the window, whatever its root: none may span both copies.
    mixed, total = [], 0
    trajs = weft.trajectories("", since, until)

    def hosts(t):
        return t["id"], hosts_of(weft.detail(t["id"]))

    with ThreadPoolExecutor(8) as ex:
        for tid, hs in ex.map(hosts, trajs):
            total += 1
            if len({host_tenant.get(h, "other") for h in hs}) > 1:
                mixed.append(tid)
    return {"applications": apps, "separate": sorted(map(tuple, apps)) == [(t,) for t in sorted(tenants)],
            "trajectories": total, "mixed": len(mixed), "mixed_ids": mixed[:5]}


# ---- overhead -----------------------------------------------------------------------------


def cpu_pct(run, ncpu):
    wall = run["t1"] - run["t0"]
    out = {k: round(100.0 * (run["cpu1"][k] - run["cpu0"].get(k, 0)) / (wall * ncpu), 2)
           for k in run["cpu1"]}
    if run.get("machine0") and run.get("machine1"):
        # The whole machine from /proc/stat: busy and total jiffies. What the
        # testbed's cgroups do not account for ran outside the testbed.
        busy = run["machine1"][0] - run["machine0"][0]
        total = run["machine1"][1] - run["machine0"][1]
        out["_machine"] = round(100.0 * busy / max(total, 1), 2)
        out["_outside"] = round(max(0.0, out["_machine"] - sum(v for k, v in out.items()
                                                              if not k.startswith("_"))), 2)
    return out


def summary(out_dir, name):
    try:
        return json.load(open(os.path.join(out_dir, name + ".summary.json")))
    except (OSError, ValueError):
        return {}


def machine():
    model = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) // 1024 // 1024
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": mem, "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()}


# ---- report -------------------------------------------------------------------------------


def pct(x):
    return "%.2f%%" % x


def mean_dict(ds):
    keys = set().union(*ds) if ds else set()
    return {k: round(sum(d.get(k) or 0 for d in ds) / len(ds), 2) for k in keys}


def overhead_pair(R, load):
    """The prefork runs at this load with the sensors on and off, each side
    averaged over its repetitions: (on, off) as {cpu_pct, summary, runs}, or None."""
    sel = lambda on: [r for r in R["runs"] if r["browsers"] == int(load) and r["tenants"] == "a"
                      and r["mpm"] == "prefork" and r["sensors"] == on and r["name"] != "warm"
                      and (not on or r["name"].startswith("p%s-" % load))]
    on, off = sel(True), sel(False)
    if not on or not off:
        return None
    pack = lambda rs: {"runs": rs, "cpu_pct": mean_dict([r["cpu_pct"] for r in rs]),
                       "summary": mean_dict([{k: v for k, v in r["summary"].items() if isinstance(v, (int, float))}
                                             for r in rs]),
                       "memory": rs[-1].get("memory", {})}
    return pack(on), pack(off)


def tier(r):
    return r["mpm"] + (", keep-alive" if r.get("keepalive") else "")


MPM_ORDER = {"prefork": 0, "worker": 1, "event": 2}


def findings(R):
    """Sentences computed from the figures, so they stay true on every run."""
    runs = {r["name"]: r for r in R["runs"]}
    out = []
    acc = [r for r in R["runs"] if r.get("eval") and r["tenants"] == "a"]
    if acc:
        low = min(acc, key=lambda r: r["eval"]["tenants"]["a"]["per_tx"]["all"]["accuracy"])
        a = low["eval"]["tenants"]["a"]["per_tx"]["all"]
        total = sum(r["eval"]["tenants"]["a"]["per_tx"]["all"]["total"] for r in acc)
        right = sum(r["eval"]["tenants"]["a"]["per_tx"]["all"].get("right", 0) for r in acc)
        unc = sum(r["eval"]["tenants"]["a"]["per_tx"]["all"].get("uncertain", 0) for r in acc)
        out.append("- Accuracy: %d of %d requests right over %d runs; the lowest run is %s at %d browsers with %s "
                   "(the paper: 99.6%%-99.91%%). %d trajectories had an uncertain span; they are counted apart, "
                   "not as right." % (right, total, len(acc), tier(low), low["browsers"], pct(a["accuracy"]), unc))
    for load in ("700", "900"):
        pair = overhead_pair(R, load)
        if not pair:
            continue
        on, off = pair
        c_on, c_off = on["cpu_pct"], off["cpu_pct"]
        hosts = [h for h in ("web", "app", "orders", "db", "cache") if h in c_on]
        worst = max(hosts, key=lambda h: c_on[h] - c_off.get(h, 0))
        s_on, s_off = sum(c_on[h] for h in hosts), sum(c_off.get(h, 0) for h in hosts)
        weft = s_on - s_off + c_on.get("sensors", 0) + c_on.get("server", 0) - c_off.get("server", 0)
        so, sf = on["summary"], off["summary"]
        out.append("- Overhead at %s browsers: the largest extra CPU of one host is %+.2f%% (%s); the five server "
                   "hosts together %+.2f%% (%s to %s, %+.0f%% relative); with the sensors' user space and the "
                   "weft server, weft costs %.2f%% of the machine (the paper: +3.8%% to +9.8%% per machine). "
                   "Throughput %s vs %s pages/s; mean response time %s vs %s ms, 99th percentile %s vs %s ms "
                   "(off vs on)." % (load, c_on[worst] - c_off.get(worst, 0), worst, s_on - s_off, pct(s_off),
                                     pct(s_on), 100.0 * (s_on - s_off) / max(s_off, 1e-9), weft,
                                     sf.get("throughput_rps"), so.get("throughput_rps"), sf.get("latency_mean_ms"),
                                     so.get("latency_mean_ms"), sf.get("latency_p99_ms"), so.get("latency_p99_ms")))
    return out


def markdown(R):
    mc = R["machine"]
    L = ["# Testbed results", "",
         "From one run of `make eval` (testbed/testbed.sh) on %s, %d cores, %d GiB, Linux %s, commit %s, %s."
         % (mc["cpu"], mc["cores"], mc["memory_gib"], mc["kernel"], mc["commit"], mc["date"]),
         "Every figure is also in `results.json` beside this file. How the testbed is built and what each",
         "figure means: [testbed.md](testbed.md).", ""]
    runs = {r["name"]: r for r in R["runs"]}

    L += ["## Accuracy (Table 3)", "",
          "Share of completed requests whose weft trajectory has exactly the ground truth's tree (same",
          "services on both sides, same parents, same requests), no span uncertain. Uncertain, wrong,",
          "split (more than one trajectory) and missing requests are counted apart and never as right.", "",
          "| web tier | browsers | requests | right | uncertain | wrong | split | missing | accuracy |",
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    acc_runs = sorted([r for r in R["runs"] if r["sensors"] and r["name"] != "warm" and r["tenants"] == "a"],
                      key=lambda r: (MPM_ORDER.get(r["mpm"], 9), r["browsers"]))
    for r in acc_runs:
        a = r["eval"]["tenants"]["a"]["per_tx"].get("all", {})
        L.append("| %s | %d | %d | %d | %d | %d | %d | %d | %s |" % (
            tier(r), r["browsers"], a.get("total", 0), a.get("right", 0), a.get("uncertain", 0),
            a.get("wrong", 0), a.get("split", 0), a.get("missing", 0), pct(a.get("accuracy", 0))))
    L += ["", "Per transaction type (accuracy, requests in brackets):", "",
          "| web tier | browsers | " + " | ".join(TX_ORDER) + " |",
          "| --- | ---: | " + " | ".join("---:" for _ in TX_ORDER) + " |"]
    for r in acc_runs:
        p = r["eval"]["tenants"]["a"]["per_tx"]
        L.append("| %s | %d | %s |" % (tier(r), r["browsers"], " | ".join(
            "%s (%d)" % (pct(p[tx]["accuracy"]), p[tx]["total"]) if tx in p else "-" for tx in TX_ORDER)))
    L += ["", "Connections from the browsers to the web tier, and how many had their requests served by more",
          "than one web-tier thread (a hand-off between requests of one connection):", "",
          "| web tier | browsers | requests | connections | served by several threads |",
          "| --- | ---: | ---: | ---: | ---: |"]
    for r in acc_runs:
        c = r["eval"]["tenants"]["a"].get("connections", {})
        L.append("| %s | %d | %s | %s | %s |" % (tier(r), r["browsers"], c.get("requests"), c.get("connections"),
                                                c.get("served_by_several_threads")))
    L += ["", "## Dependency map against the topology", "",
          "| run | expected edges | found | missing | extra |", "| --- | ---: | ---: | --- | --- |"]
    for r in R["runs"]:
        if not r["sensors"] or r["name"] == "warm":
            continue
        for t, e in r["eval"]["tenants"].items():
            mp = e["map"]
            L.append("| %s%s | %d | %d | %s | %s |" % (r["name"], "" if r["tenants"] == "a" else " (copy %s)" % t,
                     mp["expected"], mp["found"], "; ".join(" -> ".join(x) for x in mp["missing"]) or "none",
                     "; ".join(" -> ".join(x) for x in mp["extra"]) or "none"))
    mt = runs.get("mt")
    if mt:
        x = mt["eval"]["multi_tenancy"]
        L += ["", "## Multi-tenancy", "",
              "Two copies of the application (10.77.1.0/24 and 10.77.2.0/24) under load at once, %d browsers each."
              % mt["browsers"], "",
              "| check | result |", "| --- | --- |",
              "| applications on the map (copies each one covers) | %s |" % " ; ".join(
                  "{%s}" % ", ".join(a) for a in x["applications"]),
              "| two applications that do not overlap | %s |" % ("yes" if x["separate"] else "**no**"),
              "| trajectories in the window / mixing both copies | %d / %d |" % (x["trajectories"], x["mixed"])]
        for t, e in mt["eval"]["tenants"].items():
            a = e["per_tx"].get("all", {})
            L.append("| accuracy, copy %s | %s of %d |" % (t, pct(a.get("accuracy", 0)), a.get("total", 0)))
    for load, table in (("700", "Table 1"), ("900", "Table 2")):
        pair = overhead_pair(R, load)
        if not pair:
            continue
        on, off = pair
        L += ["", "## Overhead at %s emulated browsers (%s)" % (load, table), "",
              "CPU utilization of each host (its cgroup: every process of its servers, and the kernel work",
              "done in their system calls, where weft's eBPF programs run), in %% of the whole machine (%d cores)."
              % mc["cores"],
              "Prefork web tier; weft off and on alternate, %d runs of %s s each way, averaged."
              % (len(on["runs"]), on["runs"][0]["duration_s"]), "",
              "| host | weft off | weft on | weft's share |", "| --- | ---: | ---: | ---: |"]
        c_on, c_off = on["cpu_pct"], off["cpu_pct"]
        hosts = [h for h in ("web", "app", "orders", "db", "cache", "rbe") if h in c_on]
        for h in hosts:
            L.append("| %s | %s | %s | %+.2f%% |" % (h, pct(c_off.get(h, 0)), pct(c_on[h]), c_on[h] - c_off.get(h, 0)))
        s_on = sum(c_on[h] for h in hosts if h != "rbe")
        s_off = sum(c_off.get(h, 0) for h in hosts if h != "rbe")
        L.append("| servers (web+app+orders+db+cache) | %s | %s | %+.2f%% |" % (pct(s_off), pct(s_on), s_on - s_off))
        L.append("| weft sensors (6, user space) | - | %s | %+.2f%% |" % (pct(c_on.get("sensors", 0)), c_on.get("sensors", 0)))
        L.append("| weft server | %s | %s | %+.2f%% |" % (pct(c_off.get("server", 0)), pct(c_on.get("server", 0)),
                                                          c_on.get("server", 0) - c_off.get("server", 0)))
        so, sf = on["summary"], off["summary"]
        L += ["", "| client view | weft off | weft on |", "| --- | ---: | ---: |",
              "| throughput (pages/s) | %s | %s |" % (sf.get("throughput_rps"), so.get("throughput_rps")),
              "| response time, mean (ms) | %s | %s |" % (sf.get("latency_mean_ms"), so.get("latency_mean_ms")),
              "| response time, 90th percentile (ms) | %s | %s |" % (sf.get("latency_p90_ms"), so.get("latency_p90_ms")),
              "| response time, 99th percentile (ms) | %s | %s |" % (sf.get("latency_p99_ms"), so.get("latency_p99_ms")),
              "| errors | %s | %s |" % (sf.get("errors"), so.get("errors"))]
        srv = lambda r: sum(v for k, v in r["cpu_pct"].items() if k in ("web", "app", "orders", "db", "cache"))
        L += ["", "Each run, servers' CPU (off | on): %s | %s." % (
            ", ".join(pct(srv(r)) for r in off["runs"]), ", ".join(pct(srv(r)) for r in on["runs"]))]
        mem = on.get("memory", {})
        sens = [v for k, v in mem.items() if k not in ("server", "_") and v and v.get("hwm_kb")]
        if sens:
            L += ["", "weft's own memory at the end of the run: sensors %d-%d MiB resident each (peak %d MiB), server %d MiB (peak %d MiB)."
                  % (min(v["rss_kb"] for v in sens) // 1024, max(v["rss_kb"] for v in sens) // 1024,
                     max(v["hwm_kb"] for v in sens) // 1024, (mem.get("server") or {}).get("rss_kb", 0) // 1024,
                     (mem.get("server") or {}).get("hwm_kb", 0) // 1024)]
    L += ["", "## All runs", "",
          "*machine / outside*: the whole machine's CPU utilization during the run (/proc/stat) and the part of",
          "it outside the testbed's cgroups (other work on this machine). *other sensors*: weft sensors not",
          "started by the testbed that were running (one without --netns sees the testbed's traffic too, so",
          "its cost lands in the hosts' figures even in a run with the testbed's sensors off).", "",
          "| run | web tier | browsers | weft | pages/s | mean ms | p90 ms | errors | CPU of servers | sensors | server | machine / outside | other sensors |",
          "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in R["runs"]:
        if r["name"] == "warm":
            continue
        c = r["cpu_pct"]
        srv = sum(v for k, v in c.items() if k.split("-")[0] in ("web", "app", "orders", "db", "cache"))
        other = "%s / %s" % (pct(c["_machine"]), pct(c["_outside"])) if "_machine" in c else "-"
        s = r["summary"]
        L.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["name"], tier(r), r["browsers"], "on" if r["sensors"] else "off", s.get("throughput_rps"),
            s.get("latency_mean_ms"), s.get("latency_p90_ms"), s.get("errors"), pct(srv),
            pct(c.get("sensors", 0)), pct(c.get("server", 0)), other, r.get("foreign_sensors", "-")))
    L += ["", "## Findings", ""] + findings(R)
    return "\n".join(L) + "\n"


def main():
    global WEFT
    p = argparse.ArgumentParser()
    p.add_argument("--api", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", default="eval")
    p.add_argument("--md")
    a = p.parse_args()
    topo = json.load(open(os.path.join(a.dir, "topology.json")))
    truth = Truth(a.dir, topo)
    WEFT = Weft(a.api)
    ncpu = os.cpu_count()
    R = {"machine": machine(), "mode": a.mode, "topology": topo, "runs": []}
    for line in open(os.path.join(a.dir, "runs.jsonl")):
        run = json.loads(line)
        run["cpu_pct"] = cpu_pct(run, ncpu)
        run["summary"] = summary(a.dir, run["name"] + run["tenants"].split()[0])
        if len(run["tenants"].split()) > 1:
            run["summaries"] = {t: summary(a.dir, run["name"] + t) for t in run["tenants"].split()}
        if run["sensors"] and run["name"] != "warm":
            run["eval"] = evaluate_run(run, truth, WEFT, a.dir)
            acc = run["eval"]["tenants"]["a"]["per_tx"].get("all", {})
            print("evaluate: %s: %s of %d right, %s" % (run["name"], acc.get("right", 0), acc.get("total", 0),
                  {k: v for k, v in acc.items() if k not in ("right", "total", "accuracy")}), file=sys.stderr)
        R["runs"].append(run)
    json.dump(R, open(os.path.join(a.dir, "results.json"), "w"), indent=1, default=list)
    open(a.md or os.path.join(a.dir, "results.md"), "w").write(markdown(R))


if __name__ == "__main__":
    main()

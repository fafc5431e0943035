#!/usr/bin/env python3
"""Compares weft's trajectories with the ground truth of the models
experiment (testbed/models.sh) and writes DIR/results.json and
DIR/results.md (or the --md path): accuracy per server model.

  evaluate_models.py --api http://127.0.0.1:PORT --dir OUT --mode eval|short [--md FILE]
  evaluate_models.py splice SECTION.md FILE.md   puts the section in FILE.md, in place of
                                                 the one with its heading (else at the end)

Ground truth, per test id: the load generator's request, and one line per
request each tier served (truth-ROLE.jsonl) with the calls it made for it.
The proxies' lines come from their access logs: the request line received,
forwarded unchanged to the backend. From them a tree, each node a call
(client service, server service, request), children the calls made while
serving it, exactly as evaluate.py builds it for the first experiment (and
with its Weft client and request names: "REDIS GET", PostgreSQL statements
as "SQL <text>").

Per request, a verdict:
  right      exactly one trajectory carries its test id at its root, rooted
             at the model's host, its tree equals the truth's, no span uncertain
  uncertain  found, but a span in it is flagged uncertain (never right)
  wrong      found, not flagged, and not the truth's tree: silently wrong;
             also when more than one trajectory carries the id (split)
  missing    no trajectory rooted at the model's host carries the id
and no_truth when a tier's log lacks the request (a fault of the harness,
not of weft).
"""
import argparse
import collections
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor

from evaluate import Weft, get, machine, norm_request, pct, tid_of  # noqa: F401 (get: for callers)

HTTP_ROLES = ("nginx", "haproxy", "node", "javapool", "go", "back", "leaf")
MODEL_TEXT = {
    "nginx": "nginx, one worker, upstream keep-alive (16)",
    "haproxy": "HAProxy, one thread, http-reuse safe",
    "node": "Node.js, one event loop, Promise.all, keep-alive Agent",
    "javapool": "Java, one NIO reader thread, pool of 8 workers",
    "go": "Go net/http, default http.Client",
}
# What the issue asks of weft per model: share right, at least.
TARGET = {"nginx": 95.0, "haproxy": 95.0, "node": 95.0, "go": 95.0, "javapool": 99.0}
MAX_SILENTLY_WRONG = 0.5
TID = re.compile(r"tid=([A-Za-z0-9-]+)")


# ---- ground truth -------------------------------------------------------------------------


class Truth:
    def __init__(self, d, topo):
        self.svc = {s["role"]: "%s/%s/%d" % (s["host"], s["exe"], s["port"]) for s in topo["services"]}
        c = topo["client"]
        self.client = "%s/%s/0" % (c["host"], c["exe"])
        self.records = collections.defaultdict(list)  # tid -> [record]
        self.bad = collections.Counter()  # role -> lines that are not a whole record
        for f in sorted(os.listdir(d)):
            m = re.match(r"truth-(\w+)\.jsonl$", f)
            if not m:
                continue
            for line in open(os.path.join(d, f)):
                try:
                    r = json.loads(line)
                except ValueError:
                    self.bad[m.group(1)] += 1
                    continue
                if r.get("svc") in ("nginx", "haproxy"):
                    r = self.proxy_record(r)
                self.records[r["tid"]].append(r)

    @staticmethod
    def proxy_record(r):
        """A proxy's access-log line as a record: one call, the request
        forwarded unchanged, when exactly one attempt reached the backend."""
        attempts = [a for a in r.get("upstream", "").replace(" : ", ", ").split(", ") if a and a != "-"]
        one = len(attempts) == 1 and str(r.get("upstream_status", "200")) in ("200", "") \
            and not r.get("retries")
        r["calls"] = [{"svc": "back", "req": r["req"]}] if one else []
        if not one:
            r["status"] = "upstream %r" % (r.get("upstream"),)
        return r

    def tree(self, model, tid, target):
        """(tree, None) for one request, or (None, why) when the truth is not
        whole: a record missing, doubled, or not answered 200."""
        records = self.records.get(tid, [])
        used = set()

        def find(svc, req):
            hits = [i for i, r in enumerate(records) if r["svc"] == svc and r["req"] == req and i not in used]
            if len(hits) != 1:
                raise LookupError("%d records of %s for %s" % (len(hits), svc, req))
            used.add(hits[0])
            r = records[hits[0]]
            if r.get("status") != 200:
                raise LookupError("%s answered %s to %s" % (svc, r.get("status"), req))
            return r

        def node(client, svc, req):
            me = self.svc[svc]
            rec = find(svc, req)
            kids = []
            for c in rec["calls"]:
                if c["svc"] in HTTP_ROLES:
                    kids.append(node(me, c["svc"], c["req"]))
                else:
                    r = "SQL " + c["req"].strip()[:120] if c["svc"] == "db" else c["req"]
                    kids.append(((me, self.svc[c["svc"]], r), ()))
            return ((client, me, req), tuple(sorted(kids)))

        try:
            t = node(self.client, model, "GET " + target)
        except LookupError as e:
            return None, str(e)
        if len(used) != len(records):
            return None, "%d records of this test id not in its tree" % (len(records) - len(used))
        return t, None


# ---- comparing trees ----------------------------------------------------------------------


def labels(t, out=None):
    out = collections.Counter() if out is None else out
    out[t[0]] += 1
    for k in t[1]:
        labels(k, out)
    return out


def show(t, depth=0):
    """A tree as indented lines: client -> server  request."""
    (c, s, r), kids = t
    lines = ["%s%s -> %s  %s" % ("  " * depth, c, s, r)]
    for k in kids:
        lines += show(k, depth + 1)
    return lines


def diff(got, want, tid):
    """What a wrong tree has too much and too little, and whether what it has
    too much belongs to other requests (their test id in its text)."""
    g, w = labels(got), labels(want)
    extra, lack = g - w, w - g
    foreign = sum(n for (c, s, r), n in extra.items() if TID.search(r) and TID.search(r).group(1) != tid)
    kind = ("calls of other requests" if foreign else "extra calls" if extra and not lack
            else "calls missing" if lack and not extra else "calls missing and extra" if lack
            else "shape (same calls, other parents)")
    return kind, {"extra": [" ".join(map(str, l)) for l in extra.elements()],
                  "missing": [" ".join(map(str, l)) for l in lack.elements()]}


# ---- one run ------------------------------------------------------------------------------


def evaluate_run(run, truth, weft, out_dir):
    model = run["model"]
    since, until = run["t0"] - 2 * 10**9, run["t1"] + 15 * 10**9
    weft.load_nodes(since, until)
    reqs = [json.loads(l) for l in open(os.path.join(out_dir, run["name"] + ".requests.jsonl"))]
    failed = [r for r in reqs if r["status"] != 200]
    reqs = [r for r in reqs if r["status"] == 200]
    trajs = weft.trajectories("tid=%s-" % run["name"], since, until)
    by_tid = collections.defaultdict(list)
    for t in trajs:
        by_tid[tid_of(t["root"]["request"])].append(t)
    entry_host = truth.svc[model].split("/")[0]
    links = collections.Counter()  # how weft decided each span's parent

    def judge(r):
        want, why = truth.tree(model, r["tid"], r["target"])
        if want is None:
            return "no_truth", {"why": why}
        cands = by_tid.get(r["tid"], [])
        main = [t for t in cands if t["root"]["host"] == entry_host]
        if not main:
            return "missing", None
        d = weft.detail(main[0]["id"])
        links.update(s.get("link") or "root" for s in d["spans"])
        got = weft.tree(d)
        if any(s["uncertain"] for s in d["spans"]):
            return "uncertain", {"equal": got == want}
        if len(cands) > 1:
            return "split", {"trajectories": len(cands)}
        if got == want:
            return "right", None
        if got is None:
            return "wrong", {"kind": "no single root", "got": None, "want": show(want)}
        kind, dd = diff(got, want, r["tid"])
        return "wrong", {"kind": kind, **dd, "got": show(got), "want": show(want)}

    with ThreadPoolExecutor(8) as ex:
        verdicts = list(ex.map(judge, reqs))
    c = collections.Counter(v for v, _ in verdicts)
    kinds = collections.Counter(info["kind"] for v, info in verdicts if v == "wrong")
    examples = collections.defaultdict(list)
    for r, (v, info) in zip(reqs, verdicts):
        if v in ("wrong", "no_truth", "split") and len(examples[v]) < 5:
            examples[v].append({"tid": r["tid"], **(info or {})})
        elif v in ("missing", "uncertain") and len(examples[v]) < 5:
            examples[v].append({"tid": r["tid"], **(info or {})})
    # How many connections the backend saw these requests on: far fewer than
    # requests when the model keeps them alive and shares them.
    peers = {b["peer"] for r in reqs for b in truth.records.get(r["tid"], []) if b["svc"] == "back" and "peer" in b}
    n = len(reqs)
    silently = c["wrong"] + c["split"]
    return {
        "requests": n, "failed_requests": len(failed), "trajectories": len(trajs),
        "backend_connections": len(peers),
        "right": c["right"], "uncertain": c["uncertain"], "wrong": silently, "split": c["split"],
        "missing": c["missing"], "no_truth": c["no_truth"],
        "uncertain_but_equal": sum(1 for v, i in verdicts if v == "uncertain" and i["equal"]),
        "wrong_kinds": dict(kinds),
        "links": dict(links),
        "accuracy": round(100.0 * c["right"] / max(1, n), 2),
        "silently_wrong_pct": round(100.0 * silently / max(1, n), 2),
        "examples": examples,
    }


# ---- report -------------------------------------------------------------------------------


def markdown(R):
    mc = R["machine"]
    L = [SECTION, "",
         "From one run of `testbed/models.sh %s` on %s, %d cores, Linux %s, commit %s, %s: %d concurrent"
         % (R["mode"], mc["cpu"], mc["cores"], mc["kernel"], mc["commit"], mc["date"], R["clients"]),
         "clients with keep-alive connections per model, every request a unique test id. *right*: exactly",
         "the ground truth's tree, no span uncertain. *uncertain*: weft flagged a span (counted apart, never",
         "right). *wrong*: neither right nor flagged, silently wrong (split trajectories included).",
         "*missing*: no trajectory. How the experiment is built: [testbed.md](testbed.md).", "",
         "| model | server | requests | right | uncertain | wrong | missing | accuracy | silently wrong | target |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in R["runs"]:
        e = r["eval"]
        L.append("| %s | %s | %d | %d | %d | %d | %d | %s | %s | %s right, %s%% wrong at most |" % (
            r["model"], MODEL_TEXT.get(r["model"], ""), e["requests"], e["right"], e["uncertain"], e["wrong"],
            e["missing"], pct(e["accuracy"]), pct(e["silently_wrong_pct"]), pct(TARGET[r["model"]]),
            MAX_SILENTLY_WRONG))
    L += ["", "What the wrong trees had wrong, and whether the harness's truth was whole:", "",
          "| model | wrong: kinds | uncertain, tree right all the same | no truth | load errors | throughput (req/s) "
          "| connections to the backend |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in R["runs"]:
        e, s = r["eval"], r.get("summary") or {}
        L.append("| %s | %s | %d | %d | %d | %s | %s |" % (
            r["model"], "; ".join("%s %d" % kv for kv in sorted(e["wrong_kinds"].items())) or "-",
            e["uncertain_but_equal"], e["no_truth"], e["failed_requests"], s.get("throughput_rps"),
            e["backend_connections"] or "-"))
    L += ["", "How weft decided each span's parent in the judged trajectories (the `link` of every span:",
          "docs/architecture.md, \"Correlation\"):", "",
          "| model | " + " | ".join(LINKS) + " |", "| --- |" + " ---: |" * len(LINKS)]
    for r in R["runs"]:
        k = r["eval"].get("links", {})
        L.append("| %s | %s |" % (r["model"], " | ".join(str(k.get(x, 0)) for x in LINKS)))
    ex = [(r["model"], x) for r in R["runs"] for x in r["eval"]["examples"].get("wrong", [])[:1]]
    if ex:
        L += ["", "One wrong tree per model (weft's, then the truth's):", ""]
        for model, x in ex:
            L += ["%s, %s (%s):" % (model, x["tid"], x["kind"]), "", "```"]
            L += (x["got"] or ["(no single root)"]) + ["---"] + x["want"] + ["```", ""]
    return "\n".join(L).rstrip("\n") + "\n"


SECTION = "## Accuracy per server model"
LINKS = ["root", "thread", "adjacent", "connect", "forward", "response", "wakeup", "guess", "undecided", "message"]


def splice(section, path):
    """FILE.md with SECTION.md in place of the section that has its heading
    (SECTION.md's first line), from that heading to the next heading of its
    level or the end; after the rest, following one blank line, when FILE.md
    has no such section. Each experiment replaces its own section only."""
    text = open(path).read() if os.path.exists(path) else ""
    body = open(section).read()
    heading = body.split("\n", 1)[0]
    i = text.find("\n" + heading + "\n")
    if i < 0:
        head, tail = text.rstrip("\n"), ""
    else:
        head = text[:i].rstrip("\n")
        j = text.find("\n## ", i + 1 + len(heading))
        tail = text[j + 1:] if j >= 0 else ""
    open(path, "w").write((head + "\n\n" if head else "") + body + ("\n" + tail if tail else ""))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "splice":
        return splice(sys.argv[2], sys.argv[3])
    p = argparse.ArgumentParser()
    p.add_argument("--api", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", default="eval")
    p.add_argument("--md")
    a = p.parse_args()
    topo = json.load(open(os.path.join(a.dir, "topology.json")))
    truth = Truth(a.dir, topo)
    weft = Weft(a.api)
    R = {"machine": machine(), "mode": a.mode, "topology": topo, "truth_bad_lines": dict(truth.bad),
         "targets": {"right_pct": TARGET, "silently_wrong_pct_max": MAX_SILENTLY_WRONG}, "runs": []}
    for line in open(os.path.join(a.dir, "runs.jsonl")):
        run = json.loads(line)
        if run["name"] != run["model"]:
            continue  # warm-up
        R["clients"] = run["clients"]
        run["eval"] = e = evaluate_run(run, truth, weft, a.dir)
        print("evaluate: %-8s %5d requests: %5d right, %4d uncertain, %4d wrong (%d split), %4d missing, "
              "%d without truth; %s" % (run["model"], e["requests"], e["right"], e["uncertain"], e["wrong"],
                                        e["split"], e["missing"], e["no_truth"], e["wrong_kinds"] or ""),
              file=sys.stderr)
        for x in e["examples"].get("wrong", [])[:2]:
            print("evaluate:   wrong %s (%s)\n    got:  %s\n    want: %s" % (
                x["tid"], x["kind"], "\n          ".join(x["got"] or ["-"]), "\n          ".join(x["want"])),
                file=sys.stderr)
        for x in e["examples"].get("no_truth", [])[:2]:
            print("evaluate:   no truth %s: %s" % (x["tid"], x["why"]), file=sys.stderr)
        R["runs"].append(run)
    json.dump(R, open(os.path.join(a.dir, "results.json"), "w"), indent=1, default=list)
    open(a.md or os.path.join(a.dir, "results.md"), "w").write(markdown(R))


if __name__ == "__main__":
    main()

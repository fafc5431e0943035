#!/usr/bin/env python3
"""Compares weft's trajectories with the ground truth of the message-queue
experiment (testbed/mq.sh) and writes DIR/results.json and DIR/results.md
(or the --md path): accuracy per scenario, and the map's edges through the
broker.

  evaluate_mq.py --api http://127.0.0.1:PORT --dir OUT --mode eval|short [--md FILE]
  evaluate_mq.py splice SECTION.md FILE.md   puts the section in FILE.md, in place of the
                                             one with its heading (else at the end)

Ground truth, per test id: the load generator's request, the entry's record
(the HTTP request and the AMQP publishes it made for it, each with its
exchange and routing key) and the consumer's record of the message (the
delivery with its exchange, routing key and queue, then its Redis calls and,
for an RPC call, the reply's publish). The tree weft is expected to build:

  load -> entry        GET /mq/call?...&tid=T
    entry -> broker    publish openstack weft      (an RPC call: the reply is its response)
      broker -> rpc    deliver weft
        rpc -> cache   REDIS GET, ... (k calls)
        rpc -> broker  publish "" reply_*          (a call only; no delivery span of its own)

A publish is a span from the publisher to the broker, "publish EXCHANGE
ROUTINGKEY" with "" for the default exchange; a delivery a span from the
broker to the consumer, "deliver QUEUE"; the delivery of a message is a
child of its publish. Reply queues are random per client and compare as
reply_*. The broker compares by host and port (5672), whatever weft names
its executable. The verdicts are evaluate_models.py's, with its code: right,
uncertain (counted apart), wrong (silently wrong, split included), missing,
no_truth (the harness's fault).
"""
import argparse
import collections
import json
import os
import re
import sys

from evaluate import Weft, machine, map_edges, pct
from evaluate_models import LINKS, evaluate_run, splice

SECTION = "## Message-queue trajectories"
SCENARIO_TEXT = {
    "call": "oslo.messaging RPC call, threading executor; reply to the caller's reply queue",
    "cast": "oslo.messaging RPC cast, threading executor; no reply",
    "queue": "pika publish to a durable work queue, competing consumers, prefetch 1, ack",
}
TARGET = 99.0  # share right, at least
MAX_SILENTLY_WRONG = 0.5
CONSUMER_ROLES = ("rpc", "worker")
REPLY_Q = re.compile(r"\breply_[0-9a-f]+\b")


def norm_request(req):
    return REPLY_Q.sub("reply_*", req or "")


class Names:
    """How services and requests compare: the broker by host and port."""

    def __init__(self, topo):
        b = [s for s in topo["services"] if s["role"] == "broker"][0]
        self.broker_hosts = {b["host"], b.get("addr")}
        self.broker = "%s/*/%d" % (b["host"], b["port"])

    def service(self, key):
        m = re.match(r"^\??([^/]+)/(?:.*/)?(\d+)$", key or "")
        if m and m.group(2) == "5672" and m.group(1) in self.broker_hosts:
            return self.broker
        return key

    def tree(self, t):
        (c, s, r), kids = t
        return ((self.service(c), self.service(s), norm_request(r)), tuple(sorted(self.tree(k) for k in kids)))


# ---- ground truth -------------------------------------------------------------------------


class Truth:
    """What evaluate_models.evaluate_run asks of a truth: svc (a run's name
    gives its root's service, the entry), records (tid -> records) and
    tree(run, tid, target)."""

    def __init__(self, d, topo, names):
        self.names = names
        self.svc = {s["role"]: "%s/%s/%d" % (s["host"], s["exe"], s["port"]) for s in topo["services"]}
        for sc, x in topo["scenarios"].items():
            self.svc[sc] = self.svc[x["entry"]]
        c = topo["client"]
        self.client = "%s/%s/0" % (c["host"], c["exe"])
        self.internal_ports = topo.get("broker_internal_ports", [])
        self.records = collections.defaultdict(list)  # tid -> [record]
        self.bad = collections.Counter()  # role -> lines that are not a whole record
        for f in sorted(os.listdir(d)):
            m = re.match(r"truth-(\w+)\.jsonl$", f)
            if not m:
                continue
            for line in open(os.path.join(d, f)):
                try:
                    r = json.loads(line)
                    r["tid"]
                except (ValueError, KeyError, TypeError):
                    self.bad[m.group(1)] += 1
                    continue
                self.records[r["tid"]].append(r)

    def tree(self, scenario, tid, target):
        """(tree, None) for one request, or (None, why) when the truth is not
        whole: a record missing, doubled, not 200, with AMQP exchanges it does
        not list (a connection opened), or a call without reply."""
        records = self.records.get(tid, [])
        used = set()
        broker = self.svc["broker"]

        def take(pred, what):
            hits = [i for i, r in enumerate(records) if i not in used and pred(r)]
            if len(hits) != 1:
                raise LookupError("%d records of %s" % (len(hits), what))
            used.add(hits[0])
            r = records[hits[0]]
            if r.get("status") != 200:
                raise LookupError("%s: status %s" % (what, r.get("status")))
            if r.get("amqp_setup"):
                raise LookupError("%s: opened %d AMQP connections for it" % (what, r["amqp_setup"]))
            return r

        def calls(me, rec):
            kids = []
            for c in rec["calls"]:
                if c["svc"] != "broker":
                    kids.append(((me, self.svc[c["svc"]], c["req"]), ()))
                elif rec.get("reply_q") and c["amqp"]["routing_key"] == rec["reply_q"]:
                    kids.append(((me, broker, c["req"]), ()))  # the reply: the caller's publish has it
                else:
                    kids.append(publish(me, c))
            return tuple(sorted(kids))

        def publish(me, c):
            x, k = c["amqp"]["exchange"], c["amqp"]["routing_key"]
            rec = take(lambda r: r["svc"] in CONSUMER_ROLES and r["amqp"]["exchange"] == x
                       and r["amqp"]["routing_key"] == k, "a delivery of %s" % c["req"])
            if c.get("reply") and not any(p["svc"] == "broker" and p["amqp"]["routing_key"] == rec.get("reply_q")
                                          for p in rec["calls"]):
                raise LookupError("an RPC call without its reply")
            cons = self.svc[rec["svc"]]
            return ((me, broker, c["req"]), (((broker, cons, rec["req"]), calls(cons, rec)),))

        try:
            entry = take(lambda r: r["svc"] == "entry" and r["req"] == "GET " + target, "the entry's request")
            t = ((self.client, self.svc["entry"], entry["req"]), calls(self.svc["entry"], entry))
        except LookupError as e:
            return None, str(e)
        if len(used) != len(records):
            return None, "%d records of this test id not in its tree" % (len(records) - len(used))
        return self.names.tree(t), None


class MqWeft(Weft):
    def __init__(self, api, names):
        super().__init__(api)
        self.names = names

    def tree(self, d):
        t = super().tree(d)
        return None if t is None else self.names.tree(t)


# ---- the map ------------------------------------------------------------------------------


def check_map(run, truth, names, weft):
    """The map over the run's time (from its first request to its last
    message consumed): are the edges publisher -> broker and
    broker -> consumer there, or the consumer's only as a client of the
    broker (consumer -> broker, the TCP direction)? And every edge the
    scenario should draw, found or missing, and extra edges between its hosts."""
    m = weft.load_nodes(run["t0"], run["t1"])  # the run alone: the next one starts right after it
    got, _ = map_edges(m, weft)
    got = {(names.service(a), names.service(b)) for a, b in got}
    sc = run["topology"]
    svc = lambda r: names.service(truth.svc[r]) if r != "load" else truth.client
    entry, cons, broker = svc(sc["entry"]), svc(sc["consumer"]), names.broker
    want = {(truth.client, entry), (entry, broker), (broker, cons), (cons, svc("cache"))}
    if run["scenario"] == "call":
        want.add((cons, broker))  # the reply's publish
    hosts = {k.split("/")[0] for e in want for k in e}
    internal = {str(p) for p in truth.internal_ports}
    ours = {e for e in got if e[0].split("/")[0] in hosts and e[1].split("/")[0] in hosts
            and e[1].rsplit("/", 1)[-1] not in internal}
    return {"publisher_to_broker": (entry, broker) in got, "broker_to_consumer": (broker, cons) in got,
            "consumer_to_broker": (cons, broker) in got,
            "expected": len(want), "found": len(want & got), "missing": sorted(map(list, want - got)),
            "extra": sorted(map(list, ours - want))}


def wire_names(truth, scenario):
    """The publishes and deliveries the run's truth records, as weft names them."""
    pubs, dels = collections.Counter(), collections.Counter()
    for tid, recs in truth.records.items():
        if not tid.startswith(scenario + "-"):
            continue
        for r in recs:
            if r["svc"] in CONSUMER_ROLES:
                dels[norm_request(r["req"])] += 1
            for c in r.get("calls", []):
                if c["svc"] == "broker":
                    pubs[norm_request(c["req"])] += 1
    return {"publish": dict(pubs), "deliver": dict(dels)}


# ---- report -------------------------------------------------------------------------------


def yes(b):
    return "yes" if b else "**no**"


def markdown(R):
    mc = R["machine"]
    L = [SECTION, "",
         "From one run of `testbed/mq.sh %s` on %s, %d cores, Linux %s, commit %s, %s: %d concurrent"
         % (R["mode"], mc["cpu"], mc["cores"], mc["kernel"], mc["commit"], mc["date"], R.get("clients", 0)),
         "clients with keep-alive connections to the entry, every request a unique test id, through",
         "RabbitMQ %s to %d competing consumers (queue) or an oslo.messaging RPC server (call, cast)."
         % (R["topology"].get("rabbitmq", "3.10"), R["topology"].get("consumers", 0)),
         "*right*: exactly the ground truth's tree (HTTP request, publish, delivery, the consumer's calls), no",
         "span uncertain. *uncertain*: weft flagged a span (counted apart, never right). *wrong*: neither",
         "right nor flagged, silently wrong (split trajectories included). *missing*: no trajectory. How",
         "the experiment is built: [testbed.md](testbed.md#message-queue-trajectories).", "",
         "| scenario | how | requests | right | uncertain | wrong | missing | accuracy | silently wrong | target |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in R["runs"]:
        e = r["eval"]
        L.append("| %s | %s | %d | %d | %d | %d | %d | %s | %s | %s right, %s%% wrong at most |" % (
            r["scenario"], SCENARIO_TEXT.get(r["scenario"], ""), e["requests"], e["right"], e["uncertain"],
            e["wrong"], e["missing"], pct(e["accuracy"]), pct(e["silently_wrong_pct"]), pct(TARGET),
            MAX_SILENTLY_WRONG))
    L += ["", "What the wrong trees had wrong, and whether the harness's truth was whole:", "",
          "| scenario | wrong: kinds | uncertain, tree right all the same | no truth | load errors "
          "| messages consumed | throughput (req/s) |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in R["runs"]:
        e, s = r["eval"], r.get("summary") or {}
        L.append("| %s | %s | %d | %d | %d | %s of %s | %s |" % (
            r["scenario"], "; ".join("%s %d" % kv for kv in sorted(e["wrong_kinds"].items())) or "-",
            e["uncertain_but_equal"], e["no_truth"], e["failed_requests"], r.get("consumed"),
            s.get("ok"), s.get("throughput_rps")))
    L += ["", "The dependency map over each run's own time: the edges through the broker (publisher → broker,",
          "broker → consumer; consumer → broker is the consumer drawn only as the broker's TCP client), and",
          "every edge the scenario should draw:", "",
          "| scenario | publisher → broker | broker → consumer | consumer → broker | expected edges found "
          "| missing | extra |",
          "| --- | --- | --- | --- | ---: | --- | --- |"]
    for r in R["runs"]:
        mp = r["map"]
        L.append("| %s | %s | %s | %s | %d of %d | %s | %s |" % (
            r["scenario"], yes(mp["publisher_to_broker"]), yes(mp["broker_to_consumer"]),
            "yes" if mp["consumer_to_broker"] else "no", mp["found"], mp["expected"],
            "; ".join(" → ".join(x) for x in mp["missing"]) or "none",
            "; ".join(" → ".join(x) for x in mp["extra"]) or "none"))
    L += ["", "What went on the wire, as the tiers logged it (and as weft is to name it):", "",
          "| scenario | publishes | deliveries |", "| --- | --- | --- |"]
    for r in R["runs"]:
        w = r["wire"]
        L.append("| %s | %s | %s |" % (r["scenario"],
                                        "; ".join("`%s` (%d)" % kv for kv in sorted(w["publish"].items())),
                                        "; ".join("`%s` (%d)" % kv for kv in sorted(w["deliver"].items()))))
    L += ["", "How weft decided each span's parent in the judged trajectories (the `link` of every span:",
          "docs/architecture.md, \"Correlation\"):", "",
          "| scenario | " + " | ".join(LINKS) + " |", "| --- |" + " ---: |" * len(LINKS)]
    for r in R["runs"]:
        k = r["eval"].get("links", {})
        L.append("| %s | %s |" % (r["scenario"], " | ".join(str(k.get(x, 0)) for x in LINKS)))
    ex = [(r["scenario"], x) for r in R["runs"] for x in r["eval"]["examples"].get("wrong", [])[:1]]
    if ex:
        L += ["", "One wrong tree per scenario (weft's, then the truth's):", ""]
        for sc, x in ex:
            L += ["%s, %s (%s):" % (sc, x["tid"], x["kind"]), "", "```"]
            L += (x["got"] or ["(no single root)"]) + ["---"] + x["want"] + ["```", ""]
    return "\n".join(L).rstrip("\n") + "\n"


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
    names = Names(topo)
    truth = Truth(a.dir, topo, names)
    weft = MqWeft(a.api, names)
    R = {"machine": machine(), "mode": a.mode, "topology": topo, "truth_bad_lines": dict(truth.bad),
         "targets": {"right_pct": TARGET, "silently_wrong_pct_max": MAX_SILENTLY_WRONG}, "runs": []}
    for line in open(os.path.join(a.dir, "runs.jsonl")):
        run = json.loads(line)
        if run["name"] != run["scenario"]:
            continue  # warm-up
        R["clients"] = run["clients"]
        run["model"] = run["scenario"]  # evaluate_run's name for what the run exercised
        run["topology"] = topo["scenarios"][run["scenario"]]
        run["eval"] = e = evaluate_run(run, truth, weft, a.dir)
        run["map"] = check_map(run, truth, names, weft)
        run["wire"] = wire_names(truth, run["scenario"])
        print("evaluate: %-6s %5d requests: %5d right, %4d uncertain, %4d wrong (%d split), %4d missing, "
              "%d without truth; %s" % (run["scenario"], e["requests"], e["right"], e["uncertain"], e["wrong"],
                                        e["split"], e["missing"], e["no_truth"], e["wrong_kinds"] or ""),
              file=sys.stderr)
        mp = run["map"]
        print("evaluate: %-6s map: publisher -> broker %s, broker -> consumer %s, consumer -> broker %s; "
              "%d of %d edges" % (run["scenario"], mp["publisher_to_broker"], mp["broker_to_consumer"],
                                  mp["consumer_to_broker"], mp["found"], mp["expected"]), file=sys.stderr)
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

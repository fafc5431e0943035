#!/usr/bin/env python3
"""Checks weft's map and trajectories for the tier.py chain
client -> front -> middle -> back, through the server's HTTP API.
Prints TAP lines prefixed with --label."""
import argparse
import json
import sys
import urllib.request


def get(api, path):
    with urllib.request.urlopen(api + path, timeout=10) as r:
        return json.loads(r.read(), parse_int=int)


def tap(label, name, ok, detail=""):
    print("%s - %s: %s" % ("ok" if ok else "not ok", label, name))
    if not ok and detail:
        for line in str(detail).splitlines()[:12]:
            print("#   " + line)


def trajectories(api):
    out, offset = [], 0
    while True:
        page = get(api, "/api/trajectories?limit=1000&offset=%d&since=1h" % offset)
        out += page["trajectories"]
        if len(page["trajectories"]) < 1000:
            return out
        offset += 1000


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--api", required=True)
    p.add_argument("--ids", required=True, help="file with the ids the client completed")
    p.add_argument("--ports", required=True, help="front,middle,back ports")
    p.add_argument("--label", default="chain")
    a = p.parse_args()
    ports = [int(x) for x in a.ports.split(",")]
    want = [l.strip() for l in open(a.ids) if l.strip()]

    trajs = trajectories(a.api)
    by_id = {}
    for t in trajs:
        req = t["root"]["request"] or ""
        if req.startswith("GET /front/"):
            by_id.setdefault(req.split("/")[-1], []).append(t)
    missing = [i for i in want if i not in by_id]
    dup = [i for i in want if len(by_id.get(i, [])) > 1]
    tap(a.label, "one trajectory per client request (%d requests)" % len(want),
        not missing and not dup, "missing %s; duplicated %s" % (missing[:10], dup[:10]))

    bad = []
    for ident in want:
        for t in by_id.get(ident, [])[:1]:
            d = get(a.api, "/api/trajectories/%s" % t["id"])
            spans = {s["request"]: s for s in d["spans"]}
            chain = ["GET /front/" + ident, "GET /middle/" + ident, "GET /back/" + ident]
            if len(d["spans"]) != 3 or any(c not in spans for c in chain):
                bad.append("%s: spans %s" % (ident, sorted(spans)))
                continue
            f, m, b = (spans[c] for c in chain)
            if f["parent"] is not None or m["parent"] != f["id"] or b["parent"] != m["id"]:
                bad.append("%s: wrong parents" % ident)
            elif any(s["uncertain"] or s["error"] for s in (f, m, b)):
                bad.append("%s: marked uncertain or failed" % ident)
            elif any(s["server"] is None or s["client"] is None for s in (f, m, b)):
                bad.append("%s: a side not observed" % ident)
            elif t.get("depth", 3) != 3:
                bad.append("%s: depth %s" % (ident, t.get("depth")))
    tap(a.label, "every trajectory has depth 3 with the right parents", not bad and want,
        "\n".join(bad[:12]))

    m = get(a.api, "/api/map?window=1h")
    nodes = {n["id"]: n for n in m["nodes"]}
    edges = [(nodes.get(e["source"], {}), nodes.get(e["target"], {}), e) for e in m["edges"]]
    # Other programs on the same host may talk to each other; every edge
    # that touches one of the tiers must be one of the three.
    ours = lambda n: bool(set(n.get("ports") or []) & set(ports))
    edges = [(s, t, e) for s, t, e in edges if ours(s) or ours(t)]
    shape = sorted((s.get("ports") and s["ports"][0] or 0, t.get("ports") and t["ports"][0] or 0)
                   for s, t, e in edges)
    expected = sorted([(0, ports[0]), (ports[0], ports[1]), (ports[1], ports[2])])
    tap(a.label, "the map has exactly the three edges", shape == expected,
        "edges (source port, target port): %s, expected %s" % (shape, expected))
    calls = {(s.get("ports") or [0])[0]: e["calls"] for s, t, e in edges}
    tap(a.label, "edge call counts match the requests", all(
        calls.get(k, 0) >= len(want) for k in (0, ports[0], ports[1])), "calls %s" % calls)


if __name__ == "__main__":
    main()

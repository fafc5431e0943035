#!/usr/bin/env python3
"""Compares what the sensor reported with what tcp_workload.py says it did.

Prints TAP lines, one per property, prefixed with --label.
"""
import argparse
import base64
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcp_workload import message  # noqa: E402


def load_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def tap(label, name, ok, detail=""):
    print("%s - %s: %s" % ("ok" if ok else "not ok", label, name))
    if not ok and detail:
        for line in str(detail).splitlines()[:10]:
            print("#   " + line)


def merged(ranges):
    """Merges (start, len) ranges on the 32-bit sequence space into intervals."""
    if not ranges:
        return []
    base = ranges[0][0]
    iv = sorted(((s - base) % 2**32, (s - base) % 2**32 + n) for s, n in ranges)
    out = [list(iv[0])]
    for a, b in iv[1:]:
        if a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(base + a, b - a) for a, b in out]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--events", required=True, nargs="+")
    p.add_argument("--server-log", required=True)
    p.add_argument("--client-log", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--label", default="capture")
    p.add_argument("--req-size", type=int, default=300)
    p.add_argument("--payload", type=int, default=256)
    a = p.parse_args()

    events = [e for path in a.events for e in load_lines(path)]
    logs = load_lines(a.server_log) + load_lines(a.client_log)
    pids = {r["pid"] for r in logs}
    ours = [e for e in events if e["pid"] in pids and a.port in (e["sport"], e["dport"])]
    msgs = [e for e in ours if e["type"] in ("send", "recv")]

    # 1. Every logged call has an event with the same thread, direction, size and ports.
    have = collections.Counter((e["pid"], e["tid"], e["type"], e["len"], e["sport"], e["dport"])
                               for e in msgs)
    want = collections.Counter((r["pid"], r["tid"], r["op"], r["len"], r["sport"], r["dport"])
                               for r in logs)
    missing = want - have
    extra = have - want
    tap(a.label, "every send and recv reported with its pid and tid (%d calls)" % sum(want.values()),
        not missing, "missing: %s" % list(missing.items())[:5])
    tap(a.label, "no send or recv reported that did not happen", not extra,
        "extra: %s" % list(extra.items())[:5])

    # 2. Each send method was seen.
    methods = {r["method"] for r in logs if r["op"] == "send"}
    seen = set()
    for r in logs:
        if r["op"] == "send" and have[(r["pid"], r["tid"], "send", r["len"], r["sport"], r["dport"])]:
            seen.add(r["method"])
    tap(a.label, "send methods seen: %s" % ",".join(sorted(seen)), seen == methods,
        "not seen: %s" % (methods - seen))

    # 3. Sequence ranges: what one side sent is what the other received, byte for byte.
    conns = {e["sport"] for e in msgs if e["role"] == "client"}
    bad = []
    for cport in conns:
        def ranges(role, typ):
            return merged([(e["seq"], e["len"]) for e in msgs if e["role"] == role and
                           e["type"] == typ and cport in (e["sport"], e["dport"])])
        if ranges("client", "send") != ranges("server", "recv"):
            bad.append("port %d request bytes: %s vs %s" % (cport, ranges("client", "send"),
                                                           ranges("server", "recv")))
        if ranges("server", "send") != ranges("client", "recv"):
            bad.append("port %d response bytes: %s vs %s" % (cport, ranges("server", "send"),
                                                            ranges("client", "recv")))
        if len(ranges("client", "send")) != 1:
            bad.append("port %d: request bytes not contiguous" % cport)
    tap(a.label, "client send seq/len equal server recv seq/len on %d connections" % len(conns),
        conns and not bad, "\n".join(bad) or "no connections")

    # 4. The payload prefix of each connection's first request is exact.
    first = message("REQ", 0, a.req_size)[:a.payload]
    starts = [e for e in msgs if e["role"] == "client" and e["type"] == "send" and
              e.get("msg_start")]
    firsts = {}
    for e in starts:
        firsts.setdefault(e["sport"], e)
    wrong = [e["sport"] for e in firsts.values()
             if base64.b64decode(e["payload"]) != first[:len(base64.b64decode(e["payload"]))]
             or len(base64.b64decode(e["payload"])) != min(a.payload, a.req_size)]
    tap(a.label, "payload prefix exact (%d bytes)" % min(a.payload, a.req_size),
        firsts and not wrong, "wrong on ports %s" % wrong)

    # 5. Lifecycle: a successful connect per client connection, an accept on the server.
    connects = [e for e in ours if e["type"] == "connect" and e.get("result") == "ok"]
    accepts = [e for e in ours if e["type"] == "accept"]
    cpids = {r["pid"] for r in logs if r["role"] == "client"}
    spids = {r["pid"] for r in logs if r["role"] == "server"}
    tap(a.label, "connect (ok) and accept reported for every connection",
        {e["sport"] for e in connects} >= conns and len(accepts) >= len(conns) and
        all(e["pid"] in cpids for e in connects) and all(e["pid"] in spids for e in accepts),
        "connects %d accepts %d connections %d" % (len(connects), len(accepts), len(conns)))


if __name__ == "__main__":
    main()

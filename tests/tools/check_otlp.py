#!/usr/bin/env python3
"""Checks the OTLP traces a receiver got from weft (tests/otlp/receiver.mjs's
decoded requests, one JSON line each) against weft's own API, for the
tier.py chain client -> front -> middle -> back: one trace per client
request, under the trajectory's id, holding one span per observed side of
each of its spans, with the parents, kinds, names, times, attributes and
resources the API's spans imply. Prints TAP lines prefixed with --label."""
import argparse
import json
import os
import urllib.request

TOP = 1 << 63


def get(api, path):
    with urllib.request.urlopen(api + path, timeout=10) as r:
        return json.loads(r.read(), parse_int=int)


def tap(label, name, ok, detail=""):
    print("%s - %s: %s" % ("ok" if ok else "not ok", label, name))
    if not ok and detail:
        for line in str(detail).splitlines()[:12]:
            print("#   " + line)


def value(v):
    """An AnyValue as a Python value."""
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    return None


def attrs(lst):
    return {a["key"]: value(a.get("value", {})) for a in lst or []}


def received(path):
    """(spans by (traceId, spanId), the newest version, with its resource's
    attributes under "resource"; requests the receiver refused)"""
    spans, errors = {}, []
    for line in open(path):
        rec = json.loads(line)
        if "error" in rec:
            errors.append(rec["error"])
            continue
        if "request" not in rec:
            continue
        for rs in rec["request"].get("resourceSpans", []):
            res = attrs(rs.get("resource", {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    sp = dict(sp, resource=res, attrs=attrs(sp.get("attributes")))
                    spans[(sp["traceId"], sp["spanId"])] = sp
    return spans, errors


def trajectories(api):
    out, offset = [], 0
    while True:
        page = get(api, "/api/trajectories?limit=1000&offset=%d&since=1h" % offset)
        out += page["trajectories"]
        if len(page["trajectories"]) < 1000:
            return out
        offset += 1000


def hex16(n):
    return "%016x" % n


def expected(doc, services):
    """The OTLP spans a trajectory document implies, by span id."""
    spans = {s["id"]: s for s in doc["spans"]}
    out = {}
    for s in doc["spans"]:
        sid, p = int(s["id"], 16), spans.get(s["parent"]) if s["parent"] else None
        poff = p["display_offset_ns"] if p else 0
        if p:
            up = hex16(int(p["id"], 16) | TOP) if p["server"] else p["id"]
        common = {
            "weft.span_id": s["id"], "weft.protocol": s["protocol"],
            "weft.uncertain": s["uncertain"], "weft.incomplete": s["incomplete"],
            "http.request.method": s["request"].split(" ")[0],
            "url.path": s["request"].split(" ", 1)[1].split("?")[0],
            "http.response.status_code": s["status"],
        }
        if s["client"]:
            a = dict(common, **{"thread.id": s["client"]["tid"]})
            if s["link"]:
                a["weft.link"] = s["link"]
            if s["server"]:
                a["server.port"] = s["server"]["port"]
            out[hex16(sid)] = {
                "kind": 3, "parent": up if p else None, "attrs": a,
                "start": s["start_ns"] + poff, "end": s["end_ns"] + poff,
                "side": s["client"], "service": services.get(s["client_service"], {}),
            }
        if s["server"]:
            a = dict(common, **{"thread.id": s["server"]["tid"], "server.port": s["server"]["port"]})
            if s["link"] and not s["client"]:
                a["weft.link"] = s["link"]
            off = s["display_offset_ns"]
            start = s["server_start_ns"] + off
            out[hex16(sid | TOP)] = {
                "kind": 2, "parent": hex16(sid) if s["client"] else (up if p else None),
                "attrs": a, "start": start, "end": max(start, s["server_end_ns"] + off),
                "side": s["server"], "service": services.get(s["server_service"], {}),
            }
        for k in (hex16(sid), hex16(sid | TOP)):
            if k in out:
                out[k]["name"] = s["request"].split("?")[0]
    return out


def compare(tid, want, got):
    """Differences between the spans implied and the spans received."""
    bad = []
    if set(want) != set(got):
        return ["%s: spans %s, expected %s" % (tid, sorted(got), sorted(want))]
    for sid, w in want.items():
        g = got[sid]
        if g.get("parentSpanId") != w["parent"]:
            bad.append("%s/%s: parent %s, expected %s" % (tid, sid, g.get("parentSpanId"), w["parent"]))
        if g.get("kind") != w["kind"] or g.get("name") != w["name"]:
            bad.append("%s/%s: kind %s name %r" % (tid, sid, g.get("kind"), g.get("name")))
        if int(g["startTimeUnixNano"]) != w["start"] or int(g["endTimeUnixNano"]) != w["end"]:
            bad.append("%s/%s: times %s..%s, expected %s..%s" % (
                tid, sid, g["startTimeUnixNano"], g["endTimeUnixNano"], w["start"], w["end"]))
        for k, v in w["attrs"].items():
            if g["attrs"].get(k) != v:
                bad.append("%s/%s: %s = %r, expected %r" % (tid, sid, k, g["attrs"].get(k), v))
        if "status" in g:
            bad.append("%s/%s: status %s on a span without an error" % (tid, sid, g["status"]))
        r, side, svc = g["resource"], w["side"], w["service"]
        exe = svc.get("exe") or ""
        want_res = {"host.name": side["host"], "process.pid": side["pid"],
                    "service.name": os.path.basename(exe) or side["comm"],
                    "weft.service.id": svc.get("id")}
        for k, v in want_res.items():
            if r.get(k) != v:
                bad.append("%s/%s: resource %s = %r, expected %r" % (tid, sid, k, r.get(k), v))
    return bad


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--api", required=True)
    p.add_argument("--ids", required=True, help="file with the ids the client completed")
    p.add_argument("--received", required=True, help="the receiver's decoded requests")
    p.add_argument("--label", default="otlp")
    a = p.parse_args()
    want_ids = [l.strip() for l in open(a.ids) if l.strip()]

    spans, errors = received(a.received)
    tap(a.label, "the receiver decoded every request with OpenTelemetry's schema (%d spans)"
        % len(spans), not errors and spans, "\n".join(errors[:5]) or "no spans")

    by_req = {}
    for t in trajectories(a.api):
        req = t["root"]["request"] or ""
        if req.startswith("GET /front/"):
            by_req.setdefault(req.split("/")[-1], []).append(t)
    services = {n["id"]: n for n in get(a.api, "/api/map?window=1h")["nodes"]}

    traces = {}
    for (tid, sid), sp in spans.items():
        traces.setdefault(tid, {})[sid] = sp
    bad, ours = [], set()
    for ident in want_ids:
        ts = by_req.get(ident, [])
        if len(ts) != 1:
            bad.append("%s: %d trajectories in the API" % (ident, len(ts)))
            continue
        doc = get(a.api, "/api/trajectories/%s" % ts[0]["id"])
        tid = "0" * 16 + doc["id"]
        ours.add(tid)
        if tid not in traces:
            bad.append("%s: no trace %s" % (ident, tid))
            continue
        bad += compare(tid, expected(doc, services), traces[tid])
    tap(a.label, "one trace per request, as the API has it: ids, parents, kinds, names, times, "
        "attributes, resources (%d requests)" % len(want_ids), not bad and want_ids, "\n".join(bad[:12]))

    # No other trace holds a span of these requests: nothing was exported
    # under a second id (a subtree exported on its own before its parent
    # was known).
    tiers = set("/%s/%s" % (t, i) for t in ("front", "middle", "back") for i in want_ids)
    stray = sorted({tid for tid, ss in traces.items() if tid not in ours and any(
        (s["attrs"].get("url.path") or "") in tiers for s in ss.values())})
    tap(a.label, "no tier span in another trace", not stray, "traces %s" % stray[:5])


if __name__ == "__main__":
    main()

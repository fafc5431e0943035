#!/usr/bin/env bash
# JVM method calls as child spans: a JVM running the weft agent serves
# GET /order, which calls Orders.lookup() once and Orders.price() three
# times on the thread serving the request. Through the server's control
# channel the sensor turns the agent's trace on, drains the calls and ships
# them; every request's trajectory then holds those four calls under the
# JVM's span, inside its server-side time, on its thread. The map stays
# free of them; trace off stops both the shipping and the agent.
source "$(dirname "$0")/../lib/tap.sh"

checks=("trace: switched on through the server" "trace: calls nested in every request's span"
	"trace: the map has no method edges" "trace: off stops the calls and the agent"
	"trace: unknown JVM refused")
reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${checks[@]}"
command -v java >/dev/null || skip_all "no JDK" "${checks[@]}"
AGENT=$WEFT_ROOT/build/libweftjvm.so APP=$WEFT_ROOT/build/jvm/app
[[ -f $AGENT && -f $APP/com/shop/Web.class ]] || skip_all "make jvm first" "${checks[@]}"

start_server "$TMP" || { fail "${checks[0]}" "$(tail -5 "$TMP/server.log")"; exit 0; }
ship_sensor jt || { fail "${checks[0]}" "sensor did not start"; exit 0; }
wp=$(free_port) ap=$(free_port)
ln -s "$(readlink -f "$(command -v java)")" "$TMP/weft-jvm-t"
"$TMP/weft-jvm-t" -agentpath:"$AGENT=port=$ap" -cp "$APP" com.shop.Web "$wp" >"$TMP/web.log" 2>&1 &
at_exit "kill $!"
wait_for "grep -q listening '$TMP/web.log'" 30 || { fail "${checks[0]}" "$(cat "$TMP/web.log")"; exit 0; }
wait_for "curl -sf '$API/api/sensors' | grep -q '\"jt\"'" 10

control() { curl -s -X POST --data "$1" "$API/api/sensors/jt/control"; }
# The filter: the methods wanted, then 40 patterns that match nothing, so
# that the command (about 1,100 bytes) is far longer than a short line.
unused=$(for i in $(seq 40); do printf ';com.unused.pkg%02d.Service.method' "$i"; done)
reply=$(control "trace weft-jvm-t on com.shop.Orders.*$unused")
[[ $reply == *'"reply": *"ok pids='* || $reply == *'"reply":"ok pids='* ]] &&
	ok "${checks[0]}" || fail "${checks[0]}" "$reply"

# 20 requests, one at a time; then the calls are drained (every 200 ms) and
# the trajectories settle and are emitted again with them.
for i in $(seq 20); do curl -sf "http://127.0.0.1:$wp/order?n=$i" >/dev/null; done
sleep 2.5
python3 - "$API" "$wp" "$ap" <<'PY'
import json, sys, urllib.request
api, port, agent_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
get = lambda p: json.load(urllib.request.urlopen(api + p))
name = "trace: calls nested in every request's span"
ids = [t["id"] for t in get("/api/trajectories?limit=100&request=/order")["trajectories"]]
bad = []
for tid in ids:
    t = get("/api/trajectories/" + tid)
    spans = {s["id"]: s for s in t["spans"]}
    web = [s for s in t["spans"] if s["protocol"] == "http" and s.get("server") and s["server"]["port"] == port]
    calls = [s for s in t["spans"] if s["protocol"] == "method"]
    if len(web) != 1:
        bad.append("%s: %d spans of the JVM" % (tid, len(web))); continue
    w = web[0]
    names = sorted(c["request"] for c in calls)
    if names != ["com.shop.Orders.lookup"] + ["com.shop.Orders.price"] * 3:
        bad.append("%s: calls %s" % (tid, names)); continue
    srv, s0, s1 = w["server"], w["server_start_ns"], w["server_end_ns"]
    for c in calls:
        cs, c0, c1 = c["server"], c["server_start_ns"], c["server_end_ns"]
        if c["parent"] != w["id"] or cs["tid"] != srv["tid"] or cs["pid"] != srv["pid"] \
                or not (s0 <= c0 <= c1 <= s1):
            bad.append("%s: call %s at %s..%s tid %s, span %s..%s tid %s" % (tid, c["request"],
                c0, c1, cs["tid"], s0, s1, srv["tid"]))
ok = len(ids) == 20 and not bad
print(("ok - " if ok else "not ok - ") + name)
if not ok:
    print("#   %d trajectories; %s" % (len(ids), "; ".join(bad[:5])))
m = get("/api/map?window=15m")
name = "trace: the map has no method edges"
# neither calls (edges of a service to itself) nor the sensor's own
# connections to the agent's port
self_edges = [e for e in m["edges"] if e["source"] == e["target"] or e["port"] == agent_port]
print(("ok - " if m["edges"] and not self_edges else "not ok - ") + name)
if self_edges or not m["edges"]:
    print("#   edges: %s" % json.dumps(m["edges"])[:400])
PY

reply=$(control 'trace weft-jvm-t off')
status=$(exec 3<>"/dev/tcp/127.0.0.1/$ap" && echo STATUS >&3 && head -1 <&3)
for i in $(seq 5); do curl -sf "http://127.0.0.1:$wp/order?after=$i" >/dev/null; done
sleep 2
calls=$(python3 - "$API" <<'PY'
import json, sys, urllib.request
api = sys.argv[1]
get = lambda p: json.load(urllib.request.urlopen(api + p))
ids = [t["id"] for t in get("/api/trajectories?limit=100&request=/order?after")["trajectories"]]
print(len(ids), sum(1 for i in ids for s in get("/api/trajectories/" + i)["spans"] if s["protocol"] == "method"))
PY
)
[[ $reply == *'"reply": *"ok'* || $reply == *'"reply":"ok'* ]] && [[ $status == *'"trace":false'* &&
	$status == *'"profiling":false'* ]] && [[ $calls == "5 0" ]] &&
	ok "${checks[3]}" || fail "${checks[3]}" "reply $reply" "agent $status" "trajectories, calls: $calls"

reply=$(control 'trace no-such-jvm on')
[[ $reply == *"no process named 'no-such-jvm'"* ]] && ok "${checks[4]}" || fail "${checks[4]}" "$reply"

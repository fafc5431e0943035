#!/usr/bin/env bash
# weft profile end to end: a web tier in front of Redis in network
# namespaces, one sensor per tier, a server; the profiler loads the shop
# from the client's namespace, waits for a steady state, profiles both tiers
# through the server's control channel and writes a report whose demands add
# up with the measured utilizations and whose message flows match what the
# shop does (two Redis calls a request). Then the errors that must stop a
# run before any load.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/profile_lib.bash"

checks=("profile: report written" "profile: steady state reached and measured"
	"profile: demands add up with utilizations" "profile: both tiers consume CPU"
	"profile: message flows from trajectories" "profile: capacity model"
	"profile: report.html and CSV" "profile: unknown node stops the run before load"
	"profile: unknown process stops the run before load" "profile: malformed spec names its line")
reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${checks[@]}"

shop_bed wpf 61 --work 300 || { fail "shop started" "$(tail -5 "$TMP"/*.log)"; exit 0; }
shop_spec "$TMP/spec/shop.xml" 2>/dev/null || { mkdir -p "$TMP/spec" && shop_spec "$TMP/spec/shop.xml"; }

in_cli() { ip netns exec "$CLI" "$@"; }
start=$(date +%s)
in_cli timeout 120 "$WEFT" profile "$TMP/spec/shop.xml" --server "$API" --users 6 --think-ms 10 \
	--measure 6 --window 3 --warmup-max 40 --out "$TMP/out" >"$TMP/profile.out" 2>"$TMP/profile.err"
rc=$?
echo "# profile took $(($(date +%s) - start)) s, exit $rc"
if [[ $rc == 0 && -s $TMP/out/report.json ]]; then ok "profile: report written"; else
	fail "profile: report written" "exit $rc" "$(tail -5 "$TMP/profile.err")"; exit 0; fi

python3 - "$TMP/out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["transactions"][0]
def check(name, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else "\n#   " + detail))
ss = t["steady_state"]
check("profile: steady state reached and measured",
      t["name"] == "Item" and ss["reached"] and ss["at_s"] >= 6 and t["throughput"] > 20
      and t["measure_s"] >= 5.9 and t["response_ms"]["p99"] >= t["response_ms"]["p50"] > 0,
      json.dumps({k: t.get(k) for k in ("steady_state", "throughput", "measure_s", "response_ms")}))
nodes = {(n["node"], n["process"]): n for n in t["nodes"]}
x = t["throughput"]
ok = set(nodes) == {("web1", "weft-shop"), ("db1", "redis-server")}
for n in nodes.values():
    # U = X * D, with U from the node's /proc over the window and X from the load
    ok = ok and abs(n["demand_ms"] / 1e3 * x - n["utilization"]) < 1e-6 * max(1, n["utilization"])
    interval = [h["profile"]["interval_s"] for h in t["points"][-1]["hosts"] if h["node"] == n["node"]]
    # and U itself is the CPU time the node measured over its own window
    ok = ok and len(interval) == 1 and abs(n["utilization"] - n["cpu_s"] / interval[0]) < 0.002
check("profile: demands add up with utilizations", ok, json.dumps(t["nodes"])[:800])
web, db = nodes.get(("web1", "weft-shop"), {}), nodes.get(("db1", "redis-server"), {})
check("profile: both tiers consume CPU",
      web.get("demand_ms", 0) > db.get("demand_ms", 0) > 0 and len(web.get("pids", [])) == 2
      and web.get("rss_kb", 0) > 1000 and web.get("net_rx_bytes", 0) > 0,
      "web %s db %s" % ({k: web.get(k) for k in ("demand_ms", "pids", "rss_kb", "net_rx_bytes")},
                        {k: db.get(k) for k in ("demand_ms", "pids")}))
b = t.get("breakdown") or {}
flows = {(f["from"].split("/")[0], f["to"].split("/")[0]): f["per_transaction"] for f in b.get("flows", [])}
tiers = {x["tier"].split("/")[0]: x for x in b.get("tiers", [])}
check("profile: message flows from trajectories",
      b.get("trajectories", 0) >= 20 and abs(flows.get(("web1", "db1"), 0) - 2) < 0.1
      and abs(tiers.get("web1", {}).get("visits", 0) - 1) < 0.05
      and tiers["web1"]["self_ms"] > 0,
      json.dumps(b)[:800])
m = t["model"]
meas = m.get("measured", [{}])[0]
check("profile: capacity model",
      m.get("x_max", 0) >= 0.9 * x and m.get("n_star", 0) > 0 and len(m.get("curve", [])) >= 12
      and abs(meas.get("error_pct", 100)) < 50,
      json.dumps({k: m.get(k) for k in ("x_max", "n_star", "stations", "measured")}))
PY

html=$TMP/out/report.html
if grep -q '<svg' "$html" && grep -q 'Capacity' "$html" && ! grep -qi '<script\|https\?://' "$html" &&
	[[ $(head -1 "$TMP/out/item-u6-series.csv") == t_s,rps,* ]] &&
	(($(wc -l <"$TMP/out/item-nodes.csv") == 3)); then
	ok "profile: report.html and CSV"
else
	fail "profile: report.html and CSV" "$(ls "$TMP/out")"
fi

# Errors before any load: the shop's request counter must not move.
visits() { ip netns exec "$DB" redis-cli -p 6379 get visits; }
before=$(visits)
sed 's/<Node>db1</<Node>nosuch</' "$TMP/spec/shop.xml" >"$TMP/spec/badnode.xml"
out=$(in_cli "$WEFT" profile "$TMP/spec/badnode.xml" --server "$API" --out "$TMP/o2" 2>&1)
rc=$?
[[ $rc != 0 && $out == *"nosuch"*"no connected sensor"* && $(visits) == "$before" ]] &&
	ok "profile: unknown node stops the run before load" ||
	fail "profile: unknown node stops the run before load" "exit $rc: $out"
sed 's/redis-server/postmaster/' "$TMP/spec/shop.xml" >"$TMP/spec/badproc.xml"
out=$(in_cli "$WEFT" profile "$TMP/spec/badproc.xml" --server "$API" --out "$TMP/o3" 2>&1)
rc=$?
[[ $rc != 0 && $out == *"no process named 'postmaster'"* && $(visits) == "$before" ]] &&
	ok "profile: unknown process stops the run before load" ||
	fail "profile: unknown process stops the run before load" "exit $rc: $out"
sed '5s/<Name>Item<\/Name>/<Name>Item<\/Nme>/' "$TMP/spec/shop.xml" >"$TMP/spec/broken.xml"
out=$("$WEFT" profile "$TMP/spec/broken.xml" 2>&1)
rc=$?
[[ $rc != 0 && $out == *"broken.xml:5:"* ]] && ok "profile: malformed spec names its line" ||
	fail "profile: malformed spec names its line" "exit $rc: $out"

#!/usr/bin/env bash
# weft profile in single-host mode: no server, /proc read directly. Two
# transactions against the shop on loopback, profiled one after the other,
# then mixed by the multi-class model; a node that is not this host is
# refused before any load.
source "$(dirname "$0")/../lib/tap.sh"

checks=("local: both transactions measured" "local: mix model" "local: other host refused")
[[ $EUID == 0 ]] || skip_all "needs root to read every process's /proc" "${checks[@]}"
command -v redis-server >/dev/null || skip_all "redis-server missing" "${checks[@]}"

rp=$(free_port) sp=$(free_port)
redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no >"$TMP/redis.log" 2>&1 &
at_exit "kill $!"
wait_for "redis-cli -p $rp ping | grep -q PONG" 10 || { fail "redis started"; exit 0; }
python3 "$WEFT_ROOT/tests/tools/shop.py" --port "$sp" --redis "127.0.0.1:$rp" --workers 1 \
	--comm weft-shop-lo >"$TMP/shop.log" 2>&1 &
at_exit "kill $!"
wait_for "grep -q listening '$TMP/shop.log'" 10 || { fail "shop started"; exit 0; }

echo 'GET /item' >"$TMP/item.uris"
printf 'GET /item?big=1 weight=2\nGET /item\n' >"$TMP/mix.uris"
cat >"$TMP/spec.xml" <<XML
<?xml version="1.0"?>
<services>
  <TransInfo><Name>Item</Name>
    <WebInterface><url>127.0.0.1</url><port>$sp</port><uriInfoFile>item.uris</uriInfoFile></WebInterface>
    <NodesInfo><nativeNode><Node>localhost</Node><Process>weft-shop-lo</Process></nativeNode></NodesInfo>
  </TransInfo>
  <TransInfo><Name>Mixed items</Name>
    <WebInterface><url>http://127.0.0.1:$sp/</url><uriInfoFile>mix.uris</uriInfoFile></WebInterface>
    <NodesInfo><nativeNode><Node>localhost</Node><Process>weft-shop-lo</Process></nativeNode></NodesInfo>
  </TransInfo>
</services>
XML
"$WEFT" profile "$TMP/spec.xml" --users 3 --think-ms 5 --measure 3 --window 3 --warmup-max 30 \
	--out "$TMP/out" >"$TMP/profile.out" 2>"$TMP/profile.err" ||
	{ fail "local: both transactions measured" "$(tail -5 "$TMP/profile.err")"; exit 0; }
python3 - "$TMP/out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ts = r["transactions"]
def check(name, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else "\n#   " + detail))
good = r["mode"] == "single-host" and [t["name"] for t in ts] == ["Item", "Mixed items"]
for t in ts:
    n = t["nodes"][0]
    good = good and t["steady_state"]["reached"] and t["throughput"] > 10 and n["demand_ms"] > 0 \
        and n["net_rx_bytes"] is None and t.get("breakdown") is None
check("local: both transactions measured", good, json.dumps([{k: t.get(k) for k in ("name", "throughput", "steady_state")} for t in ts]))
m = r.get("mix_model", {})
cl = m.get("classes", [])
check("local: mix model", len(cl) == 2 and all(c["throughput"] > 0 for c in cl)
      and 0 < m["stations"][0]["utilization"] <= m["stations"][0]["servers"], json.dumps(m))
PY
sed 's/<Node>localhost</<Node>db.example.org</' "$TMP/spec.xml" >"$TMP/other.xml"
out=$("$WEFT" profile "$TMP/other.xml" --out "$TMP/o2" 2>&1)
rc=$?
[[ $rc != 0 && $out == *"db.example.org"*"is not this host"* ]] && ok "local: other host refused" ||
	fail "local: other host refused" "exit $rc: $out"

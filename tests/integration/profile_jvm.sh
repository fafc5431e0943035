#!/usr/bin/env bash
# Java nodes in weft profile: a JVM running the weft agent serves HTTP; the
# specification's ComponentInfo names two methods every request calls once
# and three times. The profile sets the agent's filter, starts it with the
# measurement window and stops it after, and reports per-method calls and
# times per transaction. The sensor relays the same agent commands through
# its control channel; a JVM without the agent stops a run before any load.
source "$(dirname "$0")/../lib/tap.sh"

checks=("jvm: components measured per transaction" "jvm: agent stopped after the window"
	"jvm: sensor relays agent commands" "jvm: components through the server and the sensor"
	"jvm: JVM without the agent refused before load")
[[ $EUID == 0 ]] || skip_all "needs root to read every process's /proc" "${checks[@]}"
command -v java >/dev/null || skip_all "no JDK" "${checks[@]}"
AGENT=$WEFT_ROOT/build/libweftjvm.so APP=$WEFT_ROOT/build/jvm/app
[[ -f $AGENT && -f $APP/com/shop/Web.class ]] || skip_all "make jvm first" "${checks[@]}"

wp=$(free_port) ap=$(free_port) np=$(free_port)
# Each JVM gets its own process name (comm) through a link to the java binary.
ln -s "$(readlink -f "$(command -v java)")" "$TMP/weft-jvm-a"
ln -s "$(readlink -f "$(command -v java)")" "$TMP/weft-jvm-b"
"$TMP/weft-jvm-a" -agentpath:"$AGENT=port=$ap" -cp "$APP" com.shop.Web "$wp" >"$TMP/web.log" 2>&1 &
at_exit "kill $!"
# The same application without the agent.
"$TMP/weft-jvm-b" -cp "$APP" com.shop.Web "$np" >"$TMP/plain.log" 2>&1 &
at_exit "kill $!"
wait_for "grep -q listening '$TMP/web.log' && grep -q listening '$TMP/plain.log'" 30 ||
	{ fail "jvm: components measured per transaction" "$(cat "$TMP"/*.log)"; exit 0; }

echo 'GET /order' >"$TMP/order.uris"
spec() { # FILE PORT PROCESS
	cat >"$1" <<XML
<?xml version="1.0"?>
<services>
  <TransInfo><Name>Order</Name>
    <WebInterface><url>127.0.0.1</url><port>$2</port><uriInfoFile>order.uris</uriInfoFile></WebInterface>
    <NodesInfo><javaNode><Node>localhost</Node><Process>$3</Process>
      <ComponentInfo>
        <Component><Name>com.shop.Orders</Name><Interface>lookup</Interface></Component>
        <Component><Name>com.shop.Orders</Name><Interface>price</Interface></Component>
      </ComponentInfo></javaNode></NodesInfo>
  </TransInfo>
</services>
XML
}
spec "$TMP/spec.xml" "$wp" weft-jvm-a
"$WEFT" profile "$TMP/spec.xml" --users 4 --think-ms 5 --measure 4 --window 3 --warmup-max 40 \
	--out "$TMP/out" >"$TMP/profile.out" 2>"$TMP/profile.err" ||
	{ fail "jvm: components measured per transaction" "$(tail -5 "$TMP/profile.err")"; exit 0; }
python3 - "$TMP/out/report.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["transactions"][0]
comps = {m["method"]: m for m in (t["nodes"][0].get("components") or {}).get("methods", [])}
lk, pr = comps.get("lookup", {}), comps.get("price", {})
ok = t["steady_state"]["reached"] and t["throughput"] > 10 \
    and abs(lk.get("calls_per_transaction", 0) - 1) < 0.05 \
    and abs(pr.get("calls_per_transaction", 0) - 3) < 0.15 \
    and lk.get("mean_ms", 0) > 0 and pr.get("mean_ms", 0) > 0 \
    and 0 < lk["demand_ms"] + pr["demand_ms"] < t["response_ms"]["mean"]
# (the two methods run one after the other inside each request: their time
# per transaction cannot exceed the transaction's response time)
print(("ok - " if ok else "not ok - ") + "jvm: components measured per transaction")
if not ok:
    print("#   X %s, %s" % (t["throughput"], json.dumps(comps)[:600]))
PY

status=$(exec 3<>"/dev/tcp/127.0.0.1/$ap" && echo STATUS >&3 && head -1 <&3)
[[ $status == *'"profiling":false'* ]] && ok "jvm: agent stopped after the window" ||
	fail "jvm: agent stopped after the window" "$status"

# The sensor relays agent commands (its control socket; BPF needed for the sensor).
reason=$(bpf_unavailable)
if [[ -n $reason ]]; then
	skip "jvm: sensor relays agent commands" "$reason"
	skip "jvm: components through the server and the sensor" "$reason"
else
	start_sensor "$TMP/events" --control "$TMP/ctl.sock" --connections-only || exit 0
	reply=$("$WEFT" control "$TMP/ctl.sock" profile jvm weft-jvm-a STATUS)
	bad=$("$WEFT" control "$TMP/ctl.sock" profile jvm weft-jvm-b STATUS)
	if [[ $reply == 'ok {"jvms":[{"pid":'*'"agent":"enabled"'* && $bad == error:*"without the weft agent"* ]]; then
		ok "jvm: sensor relays agent commands"
	else
		fail "jvm: sensor relays agent commands" "reply: ${reply:0:200}" "without agent: $bad"
	fi
	stop_sensor "$SENSOR_PID"

	# The whole path through a server: master -> API -> sensor -> agent.
	mkdir -p "$TMP/srv"
	if start_server "$TMP/srv" && ship_sensor jvmhost; then
		sed 's/<Node>localhost</<Node>jvmhost</' "$TMP/spec.xml" >"$TMP/remote.xml"
		"$WEFT" profile "$TMP/remote.xml" --server "${API#http://}" --users 2 --think-ms 5 \
			--measure 3 --window 3 --warmup-max 40 --out "$TMP/out-remote" \
			>"$TMP/remote.out" 2>"$TMP/remote.err"
		# The agents' window trails the load's by a control round trip through
		# the server; the counts are per transaction of the agents' own window.
		calls=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["transactions"][0]
m = {c["method"]: c["calls_per_transaction"] for c in t["nodes"][0]["components"]["methods"]}
print("%.3f %.3f" % (m["lookup"], m["price"]), "ok" if abs(m["lookup"] - 1) < 0.05 and abs(m["price"] - 3) < 0.15 else "off")' \
			"$TMP/out-remote/report.json" 2>/dev/null)
		[[ $calls == *" ok" ]] && ok "jvm: components through the server and the sensor ($calls)" ||
			fail "jvm: components through the server and the sensor" "$calls" "$(tail -3 "$TMP/remote.err")"
	else
		fail "jvm: components through the server and the sensor" "server or sensor did not start"
	fi
fi

spec "$TMP/plain.xml" "$np" weft-jvm-b
out=$("$WEFT" profile "$TMP/plain.xml" --out "$TMP/o2" 2>&1)
rc=$?
[[ $rc != 0 && $out == *"without the weft agent"* ]] && ok "jvm: JVM without the agent refused before load" ||
	fail "jvm: JVM without the agent refused before load" "exit $rc: $out"

#!/usr/bin/env bash
# The sensor against real TCP traffic: a threaded server and client whose
# every system call is logged, on loopback (IPv4, IPv6) and between two
# network namespaces joined by a veth pair.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools

reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "sensor capture (loopback ipv4)" "sensor capture (loopback ipv6)" \
	"sensor capture (netns)"

# run_case LABEL SERVER_HOST CLIENT_PREFIX SERVER_PREFIX EVENT_FILES...
# Runs the workload (server and client, each maybe inside a namespace) while
# the sensors already started write their events, then checks them.
run_case() {
	local label=$1 host=$2 cpre=$3 spre=$4 port=$5
	shift 5
	$spre python3 "$TOOLS/tcp_workload.py" server --host "$host" --port "$port" --threads 4 \
		--log "$TMP/$label.server" >"$TMP/$label.server.out" 2>&1 &
	local spid=$!
	wait_for "grep -q listening '$TMP/$label.server.out'" 10 || { fail "$label: server start"; return; }
	if ! $cpre python3 "$TOOLS/tcp_workload.py" client --host "$host" --port "$port" --threads 4 \
		--rounds 10 --log "$TMP/$label.client" 2>"$TMP/$label.client.err"; then
		fail "$label: client ran" "$(cat "$TMP/$label.client.err")"
	fi
	wait "$spid"
	sleep 0.2 # let the sensors drain their last 10 ms
}

# 1. Loopback, IPv4 and IPv6, one sensor for the whole host.
start_sensor "$TMP/lo.json" || { fail "sensor started"; exit 0; }
p4=$(free_port)
run_case lo4 127.0.0.1 "" "" "$p4"
p6=$(free_port)
run_case lo6 ::1 "" "" "$p6"
stop_sensor "$SENSOR_PID"
python3 "$TOOLS/check_capture.py" --label "loopback ipv4" --events "$TMP/lo.json" \
	--server-log "$TMP/lo4.server" --client-log "$TMP/lo4.client" --port "$p4"
python3 "$TOOLS/check_capture.py" --label "loopback ipv6" --events "$TMP/lo.json" \
	--server-log "$TMP/lo6.server" --client-log "$TMP/lo6.client" --port "$p6"
if grep -q '"saddr":"::1"' "$TMP/lo.json"; then ok "ipv6 addresses reported"; else fail "ipv6 addresses reported"; fi
# Each CPU writes its own ring; the sensor merges them back in time order.
if python3 - "$TMP/lo.json" <<'PY'; then ok "events in time order across CPUs"; else fail "events in time order across CPUs"; fi
import json, sys
ts = [json.loads(l)["ts_ns"] for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(ts) > 100 and all(a <= b for a, b in zip(ts, ts[1:])) else 1)
PY

# 2. Two namespaces, one sensor each (--netns), client in one, server in the other.
ns_a=weft-t-a$$ ns_b=weft-t-b$$
if netns_pair "$ns_a" 10.77.1.1 "$ns_b" 10.77.1.2; then
	start_sensor "$TMP/a.json" --netns "$ns_a" && sa=$SENSOR_PID
	start_sensor "$TMP/b.json" --netns "$ns_b" && sb=$SENSOR_PID
	run_case ns 10.77.1.1 "ip netns exec $ns_b" "ip netns exec $ns_a" 8080
	stop_sensor "$sa"
	stop_sensor "$sb"
	python3 "$TOOLS/check_capture.py" --label "netns" --events "$TMP/a.json" "$TMP/b.json" \
		--server-log "$TMP/ns.server" --client-log "$TMP/ns.client" --port 8080
	ino_a=$(stat -c %i "/run/netns/$ns_a")
	if python3 - "$TMP/a.json" "$ino_a" <<'PY'; then ok "netns: each sensor reports only its namespace"; else fail "netns: each sensor reports only its namespace"; fi
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if evs and all(e["netns"] == int(sys.argv[2]) and e["host"].startswith("weft-t-a") for e in evs) else 1)
PY
else
	fail "netns: test namespaces created"
fi

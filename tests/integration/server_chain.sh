#!/usr/bin/env bash
# The server end to end: real sensors, real threaded HTTP tiers
# client -> front -> middle -> back, on loopback and across four network
# namespaces; the map has exactly the three edges and every client request
# one trajectory of depth 3 with the right parents; a new request shows up
# within 2 seconds.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools

reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "chain on loopback" "streaming while running" "control through the API" \
	"chain across namespaces"

# 1. Loopback: one sensor sees all four processes.
mkdir -p "$TMP/lo"
start_server "$TMP/lo" || { fail "server started" "$(cat "$TMP/lo/server.log")"; exit 0; }
ship_sensor lo || { fail "sensor started"; exit 0; }
pf=$(free_port) pm=$(free_port) pb=$(free_port)
start_tier back "$pb"
start_tier middle "$pm" "http://127.0.0.1:$pb/back"
start_tier front "$pf" "http://127.0.0.1:$pm/middle"
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 4 --requests 25 \
	>"$TMP/lo/ids" || fail "loopback: client completed every request"
sleep 1.5
python3 "$TOOLS/check_chain.py" --api "$API" --ids "$TMP/lo/ids" --ports "$pf,$pm,$pb" --label loopback

# 2. Streaming: a finished request reaches the API while everything runs (not
# at shutdown); how soon is printed (the settle time is 500 ms), not judged.
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 1 --requests 1 \
	--prefix probe >/dev/null
start=$(date +%s%N)
if wait_for "curl -sf '$API/api/trajectories?limit=5&request=/front/probe0-0' | grep -q '\"spans\": *3'" 15; then
	ok "streaming: trajectory in the API $((($(date +%s%N) - start) / 1000000)) ms after the response"
else
	fail "streaming: trajectory in the API while running" "not there after 15 s"
fi

# 3. The control channel: the API switches the sensor to connection-only capture.
reply=$(curl -sf -X POST --data 'messages off' "$API/api/sensors/lo/control")
sleep 1.2 # the sensor reports its mode with its next status
mode=$(curl -sf "$API/api/sensors" | python3 -c 'import json,sys; print([s["mode"] for s in json.load(sys.stdin)["sensors"] if s["id"]=="lo"][0])')
bad=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data 'messages sideways' "$API/api/sensors/lo/control")
none=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data 'messages on' "$API/api/sensors/nosuch/control")
if [[ $reply == *'"ok'* && $mode == connections && $bad == 400 && $none == 404 ]]; then
	ok "control: capture mode switched through the API reaches the sensor"
else
	fail "control: capture mode switched through the API reaches the sensor" \
		"reply $reply, mode $mode, bad command $bad, unknown sensor $none"
fi
kill "$SENSOR_PID" "$SERVER_PID" 2>/dev/null
wait "$SENSOR_PID" "$SERVER_PID" 2>/dev/null

# 4. Four hosts in network namespaces on one bridge, one sensor each; the
# server and sensors stay in the root namespace.
sw=weft-sw$$
mkdir -p "$TMP/ns"
if netns_switch "$sw" && netns_host "$sw" wc$$ 10.77.3.1 && netns_host "$sw" wf$$ 10.77.3.2 &&
	netns_host "$sw" wm$$ 10.77.3.3 && netns_host "$sw" wb$$ 10.77.3.4; then
	start_server "$TMP/ns" || { fail "server started (netns)"; exit 0; }
	for h in wc wf wm wb; do ship_sensor "$h$$" --netns "$h$$" || fail "sensor $h started"; done
	start_tier back 8003 "" "wb$$"
	start_tier middle 8002 "http://10.77.3.4:8003/back" "wm$$"
	start_tier front 8001 "http://10.77.3.3:8002/middle" "wf$$"
	ip netns exec "wc$$" python3 "$TOOLS/tier.py" client --url "http://10.77.3.2:8001/front" \
		--threads 4 --requests 25 >"$TMP/ns/ids" || fail "netns: client completed every request"
	sleep 1.5
	python3 "$TOOLS/check_chain.py" --api "$API" --ids "$TMP/ns/ids" --ports 8001,8002,8003 --label "four namespaces"
else
	fail "four namespaces created"
fi

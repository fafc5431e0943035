#!/usr/bin/env bash
# weft's own traffic stays out of the user's map: a server and a sensor
# shipping to it on this host, an application under traffic, and the
# dashboard open in a browser with its live refresh on. The map has the
# application and nothing of weft (no service on the API or sensor port, no
# weft process); with --trace-self the API's own exchanges appear, which
# shows the check can fail.
source "$(dirname "$0")/../lib/tap.sh"
cd "$WEFT_ROOT"
TOOLS=$WEFT_ROOT/tests/tools

checks=("self: the application is in the map" "self: no weft service after the dashboard polled"
	"self: --trace-self shows the API")
reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${checks[@]}"
command -v node >/dev/null || skip_all "node is not installed (scripts/deps.sh test)" "${checks[@]}"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || skip_all "no chromium (scripts/deps.sh test)" "${checks[@]}"
[[ -d web/node_modules/playwright-core ]] || skip_all "web packages missing (scripts/deps.sh test)" "${checks[@]}"
[[ -f build/web/index.html ]] || { fail "dashboard built" "build/web/index.html missing: make web"; exit 0; }

# Every service of the map, one a line: "ports comm exe" (ports comma-separated).
services() {
	curl -sf "$API/api/map?window=15m" | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    print(",".join(map(str, n.get("ports") or [0])), n.get("comm") or "-", n.get("exe") or n.get("addr") or "-")'
}
# Services of this weft: on its ports, or its binary (other weft instances
# on the machine are other users' business).
weftish() {
	services | awk -v a="$1" -v i="$2" -v exe="$(readlink -f "$WEFT")" '
		{ n = split($1, p, ","); for (k = 1; k <= n; k++) if (p[k] == a || p[k] == i) { print; next } }
		$3 == exe { print }'
}
run() { # DIR [SENSOR OPTIONS...]: server, sensor, one tier under traffic, a browser
	local dir=$1
	shift
	mkdir -p "$dir"
	start_server "$dir" --web build/web || return 1
	ship_sensor self "$@" || return 1
	port=$(free_port)
	start_tier back "$port"
	python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$port/back" --threads 1 \
		--requests 200 --pause 0.05 >/dev/null 2>&1 &
	at_exit "kill $!"
	for i in $(seq 1 20); do curl -sf "$API/api/trajectories?limit=20" >/dev/null; sleep 0.1; done &
	node web/tests/poll.mjs --url "$API" --seconds 15 --refresh-ms 1000
	sleep 1.5 # settle
}

run "$TMP/a" || { fail "started" "$(tail -5 "$TMP"/a/*.log "$TMP"/sensor-self.log)"; exit 0; }
api_port=${API##*:} ingest_port=${INGEST##*:}
services >"$TMP/a/services"
if grep -Eq "(^|,)$port[ ,]" "$TMP/a/services"; then ok "self: the application is in the map"; else
	fail "self: the application is in the map" "$(cat "$TMP/a/services")"; fi
own=$(weftish "$api_port" "$ingest_port")
if [[ -z $own ]]; then ok "self: no weft service after the dashboard polled"; else
	fail "self: no weft service after the dashboard polled" "$own"; fi

kill "$SENSOR_PID" "$SERVER_PID" 2>/dev/null
wait "$SENSOR_PID" "$SERVER_PID" 2>/dev/null
run "$TMP/b" --trace-self || { fail "restarted" "$(tail -5 "$TMP"/b/*.log)"; exit 0; }
own=$(weftish "${API##*:}" "${INGEST##*:}")
if [[ -n $own ]]; then ok "self: --trace-self shows the API ($(echo $own | head -c 80))"; else
	fail "self: --trace-self shows the API" "$(services)"; fi

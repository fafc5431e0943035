#!/usr/bin/env bash
# The dashboard end to end in headless Chromium: the real server serving
# build/web, a real sensor, and a four-process HTTP workload on loopback
# (client -> front -> middle -> back, tests/tools/tier.py) that keeps
# running while the browser looks. The map shows the services and edges, a
# click opens a service and an edge, a trajectory opens as a waterfall of
# three spans, and switching capture mode in the page reaches the sensor.
# Screenshots of every view go to build/screenshots/.
source "$(dirname "$0")/../lib/tap.sh"
cd "$WEFT_ROOT"
TOOLS=$WEFT_ROOT/tests/tools

checks=("dashboard against the real server, sensor and workload")
reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${checks[@]}"
command -v node >/dev/null || skip_all "node is not installed (scripts/deps.sh test)" "${checks[@]}"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || skip_all "no chromium (scripts/deps.sh test)" "${checks[@]}"
[[ -d web/node_modules/playwright-core ]] || skip_all "web packages missing (scripts/deps.sh test)" "${checks[@]}"
[[ -f build/web/index.html ]] || { fail "dashboard built" "build/web/index.html missing: make web"; exit 0; }

mkdir -p "$TMP/srv" build/screenshots
start_server "$TMP/srv" --web build/web || { fail "server started" "$(tail -5 "$TMP/srv/server.log")"; exit 0; }
ship_sensor h1 || { fail "sensor started" "$(tail -5 "$TMP/sensor-h1.log")"; exit 0; }
pf=$(free_port) pm=$(free_port) pb=$(free_port)
start_tier back "$pb"
start_tier middle "$pm" "http://127.0.0.1:$pb/back"
start_tier front "$pf" "http://127.0.0.1:$pm/middle"
# Steady traffic for as long as the browser looks: live views have something to follow.
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 2 --requests 100000 \
	--pause 0.05 >/dev/null 2>&1 &
at_exit "kill $!"

index=$(curl -sf "$API/" | grep -c '<div id="banner"\|id="view"')
[[ $index -ge 1 ]] && ok "the server serves the dashboard at /" || fail "the server serves the dashboard at /" "GET / did not return build/web/index.html"

node web/tests/e2e.mjs --url "$API" --suite real --shots build/screenshots \
	--services "*,:$pf,:$pm,:$pb" --edges "*>:$pf,:$pf>:$pm,:$pm>:$pb" \
	--spans 3 --request /front/ --sensor h1
rc=$?
((rc == 0)) || { echo "# server log:"; tail -n 20 "$TMP/srv/server.log" | sed 's/^/#   /'; }

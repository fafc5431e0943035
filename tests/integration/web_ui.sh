#!/usr/bin/env bash
# The dashboard in headless Chromium against a stand-in API with known data
# (web/tests/fixture-server.mjs): map, service and edge panels, trajectory
# filters and waterfall, capture-mode control, and the empty states. The
# same checks against the real server, sensors and traffic are in web_e2e.sh.
source "$(dirname "$0")/../lib/tap.sh"
cd "$WEFT_ROOT"

checks=("dashboard against known data" "empty states")
command -v node >/dev/null || skip_all "node is not installed (scripts/deps.sh test)" "${checks[@]}"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || skip_all "no chromium (scripts/deps.sh test)" "${checks[@]}"
[[ -d web/node_modules/playwright-core ]] || skip_all "web packages missing (scripts/deps.sh test)" "${checks[@]}"
[[ -f build/web/index.html ]] || { fail "dashboard built" "build/web/index.html missing: make web"; exit 0; }

shots=build/screenshots
mkdir -p "$shots"

# fixture_server NAME ARGS...: starts one on a free port, sets URL.
fixture_server() {
	local port
	port=$(free_port)
	node web/tests/fixture-server.mjs --port "$port" --root build/web "$@" 2>"$TMP/fixture-$port.log" &
	at_exit "kill $!"
	URL=http://127.0.0.1:$port
	wait_for "curl -sf $URL/api/health" 10
}

fixture_server
node web/tests/e2e.mjs --url "$URL" --suite fixture --shots "$shots" \
	--services client,front,back --edges 'client>front,front>back' --spans 4 --sensor h1

fixture_server --empty
node web/tests/e2e.mjs --url "$URL" --suite empty --shots "$shots"

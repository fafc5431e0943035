#!/usr/bin/env bash
# The dashboard at scale: a database holding 300 services, 1,000 edges and a
# million trajectories (web/tests/synth_db.py, written straight into the
# server's SQLite schema), served by the real server. In headless Chromium
# the map must show every service and edge and answer a click, and paging
# the trajectory list must show distinct pages and come back to the same
# one. How fast is a benchmark's business, not a test's: the times go to
# build/screenshots/perf-perf.txt, and bench/web_map.sh (which runs this
# script with WEFT_PERF_BUDGET_MS set) holds them to a budget.
source "$(dirname "$0")/../lib/tap.sh"
cd "$WEFT_ROOT"

checks=("map of 300 services and 1000 edges interactive" "trajectory list with a million trajectories")
command -v node >/dev/null || skip_all "node is not installed (scripts/deps.sh test)" "${checks[@]}"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || skip_all "no chromium (scripts/deps.sh test)" "${checks[@]}"
[[ -d web/node_modules/playwright-core ]] || skip_all "web packages missing (scripts/deps.sh test)" "${checks[@]}"
[[ -f build/web/index.html ]] || { fail "dashboard built" "build/web/index.html missing: make web"; exit 0; }

NTRAJ=${WEFT_PERF_TRAJECTORIES:-1000000}
mkdir -p "$TMP/srv" build/screenshots
# The server creates the schema; the data goes in while it is stopped.
start_server "$TMP/srv" --web build/web || { fail "server started" "$(tail -5 "$TMP/srv/server.log")"; exit 0; }
kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null
start=$(date +%s%N)
python3 web/tests/synth_db.py --db "$TMP/srv/weft.db" --services 300 --edges 1000 --trajectories "$NTRAJ" ||
	{ fail "synthetic data loaded"; exit 0; }
echo "# loaded in $((($(date +%s%N) - start) / 1000000)) ms"
start_server "$TMP/srv" --web build/web || { fail "server restarted" "$(tail -5 "$TMP/srv/server.log")"; exit 0; }

# The API alone, for the record: one page near the top, one deep, filtered.
for q in "limit=50" "limit=50&offset=500000" "limit=50&errors=1" "limit=50&min_ms=40" "window=15m"; do
	path=/api/trajectories
	[[ $q == window* ]] && path=/api/map
	t=$(curl -s -o /dev/null -w '%{time_total}' "$API$path?$q")
	echo "# GET $path?$q: ${t}s"
done

node web/tests/e2e.mjs --url "$API" --suite perf --prefix perf --shots build/screenshots \
	--services 300 --edges 1000 ${WEFT_PERF_BUDGET_MS:+--budget-ms "$WEFT_PERF_BUDGET_MS"}

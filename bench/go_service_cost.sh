#!/usr/bin/env bash
# What following goroutines costs a Go service and what it buys: the models
# experiment's Go tier (testbed/apps/gosvc.go: net/http, a Redis call, a call
# to a Python back end) on loopback under `weft load` (20 users, no think
# time), its CPU per request read from /proc, in three setups, alternately:
# no sensor; a sensor following Go by thread only (--no-goroutines); a
# sensor reading goroutines and probing goready/goexit1 (the default).
#   bench/go_service_cost.sh [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-8}
WEFT=${WEFT:-build/weft}
tmp=$(mktemp -d)
rport=16479 bport=18700 gport=18790
pids=()
cleanup() {
	if [[ -n ${spid:-} ]]; then kill -INT "$spid" 2>/dev/null; wait "$spid" || true; fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
source bench/sensor_bench.bash
(cd testbed/apps && GOPROXY=off GOFLAGS= go build -o "$tmp/gosvc" gosvc.go)
redis-server --bind 127.0.0.1 --port $rport --save "" --appendonly no >/dev/null &
pids+=($!)
until redis-cli -p $rport ping >/dev/null 2>&1; do sleep 0.1; done
python3 testbed/apps/backend.py --role back --host 127.0.0.1 --port $bport \
	--cache 127.0.0.1:$rport --log /dev/null >"$tmp/back.log" 2>&1 &
pids+=($!)
"$tmp/gosvc" -port $gport -cache 127.0.0.1:$rport -back "http://127.0.0.1:$bport" \
	-log /dev/null >"$tmp/go.log" 2>&1 &
gpid=$!
pids+=($gpid)
until grep -q listening "$tmp/go.log" 2>/dev/null && grep -q listening "$tmp/back.log"; do
	kill -0 $gpid || { cat "$tmp/go.log" >&2; exit 1; }
	sleep 0.1
done
# ids 1..1000, the tid fixed: the back end's calls are the same for each.
for ((i = 1; i <= 1000; i++)); do echo "/go?id=$i&k=1&tid=bench-$i"; done >"$tmp/uris"

ticks() { awk '{print $14 + $15}' "/proc/$gpid/stat"; }
measure() { # -> "requests/s us-of-go-CPU-a-request"
	local t0 t1 n
	t0=$(ticks)
	"$WEFT" load "http://127.0.0.1:$gport" --uris "$tmp/uris" --users 20 -d "${secs}s" \
		--json "$tmp/run.json" -q >"$tmp/load.out" 2>&1 || { cat "$tmp/load.out" >&2; exit 1; }
	t1=$(ticks)
	n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$tmp/run.json")
	python3 -c 'import os,sys; n,t,s=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print("%.0f %.1f" % (n/s, t*1e6/os.sysconf("SC_CLK_TCK")/n))' \
		"$n" "$((t1 - t0))" "$secs"
}
declare -A res
for ((r = 0; r < rounds; r++)); do
	for mode in none thread goroutine; do
		case $mode in
		none) res[$mode]+="$(measure);" ;;
		*)
			opt=()
			[[ $mode == thread ]] && opt=(--no-goroutines)
			sensor_start "$tmp/sensor.err" $WEFT sensor --json "${opt[@]}"
			res[$mode]+="$(measure);"
			kill -INT "$spid"
			wait "$spid" || true
			spid=
			;;
		esac
	done
	echo "round $r: ${res[none]##*;}"
done
for mode in none thread goroutine; do
	python3 - "$mode" "${res[$mode]}" <<'PY'
import statistics, sys
rows = [tuple(map(float, x.split())) for x in sys.argv[2].split(";") if x.strip()]
print("%-10s requests/s %s  go CPU us a request %s  (median %.1f)" % (
    sys.argv[1], "/".join("%.0f" % r[0] for r in rows), "/".join("%.1f" % r[1] for r in rows),
    statistics.median(r[1] for r in rows)))
PY
done

#!/usr/bin/env bash
# What following goroutine hand-offs costs a Go program: a channel ping-pong
# (bench/go/pingpong.go, two runtime.goready calls a round trip) timed with
# no sensor and with a sensor whose uprobes on goready and goexit1 fire,
# alternately, ROUNDS times; and the probe program's own run time from the
# kernel's accounting. GOMAXPROCS=1 keeps both goroutines on one thread, so
# every hand-off is a goready and nothing else varies.
#   bench/go_wake_cost.sh [ROUNDS] [TRIPS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
trips=${2:-1000000}
WEFT=${WEFT:-build/weft}
tmp=$(mktemp -d)
cleanup() {
	sysctl -q kernel.bpf_stats_enabled=0
	if [[ -n ${spid:-} ]]; then kill -INT "$spid" 2>/dev/null; wait "$spid" || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
source bench/sensor_bench.bash
(cd bench/go && GOPROXY=off GOFLAGS= go build -o "$tmp/pingpong" pingpong.go)

run() { GOMAXPROCS=1 "$tmp/pingpong" -n "$trips"; }
off=() on=()
for ((r = 0; r < rounds; r++)); do
	off+=("$(run)")
	before=$(bpftool prog show --json | python3 -c 'import json, sys; print(max([p["id"] for p in json.load(sys.stdin)], default=0))')
	# The sensor finds the program when it starts: start it first, then the
	# sensor, then time a second run of the same executable.
	sensor_start "$tmp/sensor.err" $WEFT sensor --json --port 1
	sysctl -q kernel.bpf_stats_enabled=1
	on+=("$(run)")
	sysctl -q kernel.bpf_stats_enabled=0
	stats=$(bpftool prog show --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["id"] > int(sys.argv[1]) and p["name"] == "on_goready" and p.get("run_cnt"):
        print("%d %.1f" % (p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))
' "$before")
	kill -INT "$spid"
	wait "$spid" || true
	spid=
	echo "round $r: ${off[r]} ns a round trip without the sensor, ${on[r]} with it; on_goready: ${stats:-no runs} (runs, ns a run)"
done
python3 - "${off[*]}" "${on[*]}" <<'PY'
import statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
mo, mn = statistics.median(off), statistics.median(on)
print("median: %.1f ns a round trip off, %.1f on: %.1f ns added a hand-off (two a round trip)"
      % (mo, mn, (mn - mo) / 2))
PY

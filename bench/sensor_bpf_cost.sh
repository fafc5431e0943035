#!/usr/bin/env bash
# What each of the sensor's kernel programs costs per run, from the kernel's
# own accounting (kernel.bpf_stats_enabled, switched on only while wrk runs;
# it adds two clock reads to every run it measures), with nginx serving a
# 1 KiB file under wrk on loopback as in sensor_overhead.sh.
#   bench/sensor_bpf_cost.sh [SECONDS] [-- SENSOR OPTIONS...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
shift $(($# < 1 ? $# : 1))
[[ ${1:-} == -- ]] && shift
WEFT=${WEFT:-build/weft}
tmp=$(mktemp -d)
port=18181
cleanup() {
	sysctl -q kernel.bpf_stats_enabled=0
	if [[ -n ${spid:-} ]]; then kill -INT "$spid" 2>/dev/null; wait "$spid" || true; fi
	kill "$(cat "$tmp/nginx.pid" 2>/dev/null)" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

source bench/sensor_bench.bash
nginx_small_file "$tmp" "$port"
# The sensor's programs are the ones loaded after this point.
before=$(bpftool prog show --json | python3 -c 'import json, sys; print(max([p["id"] for p in json.load(sys.stdin)], default=0))')
sensor_start "$tmp/sensor.err" $WEFT sensor --json "$@"
sysctl -q kernel.bpf_stats_enabled=1
wrk -t1 -c50 -d"${secs}s" "http://127.0.0.1:$port/index.html" | awk '/Requests\/sec/ {print "requests/s", $2}'
bpftool prog show --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["id"] > int(sys.argv[1]) and p.get("run_cnt"):
        print("%-18s %10d runs %8.1f ns a run" % (p["name"], p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))
' "$before"

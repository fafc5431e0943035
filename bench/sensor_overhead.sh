#!/usr/bin/env bash
# nginx serving a 1 KiB file under wrk on loopback, sensor off and on (full
# message capture, JSON to /dev/null), alternated to spread the noise.
#   bench/sensor_overhead.sh [ROUNDS] [SECONDS]
# Prints requests/s for each run, the ratio, and the sensor's CPU time per
# million events (user and system time of the sensor process itself).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} secs=${2:-10}
WEFT=build/weft
tmp=$(mktemp -d)
port=18181
trap 'kill $(cat $tmp/nginx.pid 2>/dev/null) 2>/dev/null; rm -rf $tmp' EXIT

head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$tmp/index.html"
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	server { listen 127.0.0.1:$port; root $tmp; }
}
CONF
nginx -c "$tmp/nginx.conf"
sleep 0.5

wrk_rps() { wrk -t1 -c50 -d"${secs}s" "http://127.0.0.1:$port/index.html" | awk '/Requests\/sec/ {print $2}'; }
ticks=$(getconf CLK_TCK)

off_all=() on_all=() cpu_s=0 events=0
for ((r = 1; r <= rounds; r++)); do
	off=$(wrk_rps)
	$WEFT sensor --json >/dev/null 2>"$tmp/sensor.err" &
	spid=$!
	until grep -q 'capturing on' "$tmp/sensor.err"; do sleep 0.1; done
	on=$(wrk_rps)
	read -r ut st < <(awk '{print $14, $15}' /proc/$spid/stat)
	kill -INT $spid
	wait $spid || true
	n=$(sed -n 's/.* \([0-9]*\) events captured.*/\1/p' "$tmp/sensor.err")
	cpu_s=$(echo "$cpu_s + ($ut + $st) / $ticks" | bc -l)
	events=$((events + n))
	echo "round $r: off ${off} req/s, on ${on} req/s, sensor $(((ut + st) * 1000 / ticks)) ms CPU for $n events"
	off_all+=("$off") on_all+=("$on")
done
sum() { local s=0 x; for x in "$@"; do s=$(echo "$s + $x" | bc -l); done; echo "$s"; }
off_mean=$(echo "$(sum "${off_all[@]}") / $rounds" | bc -l)
on_mean=$(echo "$(sum "${on_all[@]}") / $rounds" | bc -l)
printf 'mean: off %.0f req/s, on %.0f req/s, ratio %.3f\n' "$off_mean" "$on_mean" "$(echo "$on_mean / $off_mean" | bc -l)"
printf 'sensor CPU: %.3f s per million events (%d events)\n' "$(echo "$cpu_s * 1000000 / $events" | bc -l)" "$events"

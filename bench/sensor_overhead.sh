#!/usr/bin/env bash
# nginx serving a 1 KiB file under wrk on loopback, sensor off and on (full
# message capture, JSON to /dev/null), alternated within each round and the
# order reversed from round to round, so that drift falls on both alike.
#   bench/sensor_overhead.sh [ROUNDS] [SECONDS] [-- SENSOR OPTIONS...]
# Prints each round's requests/s, the on/off ratio (median and mean of the
# rounds' ratios), the CPU time the nginx worker spent per request in each
# mode (the BPF programs run in its context), and the sensor's own CPU time
# (user + system) per million events.
# SHIP=1: the sensor ships its batches to a weft server started here (the
# deployed path) instead of printing JSON; the server shares the machine, so
# its CPU time is printed too.
# BASELINE=1: the "on" halves run without the sensor too (an A/A run): the
# spread of their ratios is what the machine's drift alone gives.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5} secs=${2:-10}
shift $(($# < 2 ? $# : 2))
[[ ${1:-} == -- ]] && shift
extra=("$@")
WEFT=${WEFT:-build/weft}
tmp=$(mktemp -d)
port=18181
trap 'kill $(cat $tmp/nginx.pid 2>/dev/null) ${srv:-} 2>/dev/null; rm -rf $tmp' EXIT

source bench/sensor_bench.bash
nginx_small_file "$tmp" "$port"
worker=$(pgrep -P "$(cat "$tmp/nginx.pid")")
ticks=$(getconf CLK_TCK)
out=(--json)
if [[ ${SHIP:-} == 1 ]]; then
	$WEFT server --db "$tmp/weft.db" --listen 127.0.0.1:18171 --http 127.0.0.1:18170 2>"$tmp/server.err" &
	srv=$!
	out=(--server 127.0.0.1:18171 --spool "$tmp/spool")
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run: requests/s and the nginx worker's CPU microseconds per request
run() {
	local t0 t1 rps
	t0=$(cpu_ticks "$worker")
	rps=$(wrk -t1 -c50 -d"${secs}s" "http://127.0.0.1:$port/index.html" | awk '/Requests\/sec/ {print $2}')
	t1=$(cpu_ticks "$worker")
	echo "$rps $(echo "($t1 - $t0) * 1000000 / $ticks / ($rps * $secs)" | bc -l)"
}

# run_on: the same with the sensor capturing (but see BASELINE); sets on, non,
# and the sensor's CPU ticks (ut, st) and event count (n).
run_on() {
	if [[ ${BASELINE:-} == 1 ]]; then
		read -r on non < <(run)
		ut=0 st=0 n=0
		return
	fi
	sensor_start "$tmp/sensor.err" $WEFT sensor "${out[@]}" "${extra[@]}"
	read -r on non < <(run)
	read -r ut st < <(awk '{print $14, $15}' /proc/$spid/stat)
	kill -INT $spid
	wait $spid || true
	n=$(sed -n 's/.* \([0-9]*\) events captured.*/\1/p' "$tmp/sensor.err")
}

# Rounds alternate which mode runs first (off-on, on-off, ...): in an A/A run
# the second half of a round tended to be slower, whatever ran in it.
ratios=() ngx_off=0 ngx_on=0 cpu_s=0 events=0
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then
		read -r off noff < <(run)
		run_on
	else
		run_on
		read -r off noff < <(run)
	fi
	cpu_s=$(echo "$cpu_s + ($ut + $st) / $ticks" | bc -l)
	events=$((events + n))
	ratios+=("$(echo "$on / $off" | bc -l)")
	ngx_off=$(echo "$ngx_off + $noff" | bc -l) ngx_on=$(echo "$ngx_on + $non" | bc -l)
	printf 'round %d: off %.0f req/s, on %.0f req/s (%.3f), nginx %.2f / %.2f us/request, sensor %d ms CPU for %d events\n' \
		"$r" "$off" "$on" "${ratios[-1]}" "$noff" "$non" $(((ut + st) * 1000 / ticks)) "$n"
done
printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR] = $1; s += $1}
	END {printf "ratio on/off: median %.3f, mean %.3f (rounds %.3f to %.3f)\n",
		NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2, s / NR, a[1], a[NR]}'
printf 'nginx CPU per request: off %.2f us, on %.2f us\n' "$(echo "$ngx_off / $rounds" | bc -l)" "$(echo "$ngx_on / $rounds" | bc -l)"
((events)) && printf 'sensor CPU: %.3f s per million events (%d events)\n' "$(echo "$cpu_s * 1000000 / $events" | bc -l)" "$events"
if [[ -n ${srv:-} ]] && ((events)); then
	read -r ut st < <(awk '{print $14, $15}' "/proc/$srv/stat")
	printf 'server CPU: %.3f s per million events\n' "$(echo "($ut + $st) / $ticks * 1000000 / $events" | bc -l)"
fi

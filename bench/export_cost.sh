#!/usr/bin/env bash
# What /metrics and OTLP export cost the server's ingest thread:
# correlate_bench feeds the same synthetic traffic through the correlator
# into SQLite three ways, alternated round by round: as before, with the
# metrics counted, and with the metrics and OTLP export to a receiver on
# loopback (a Node.js server that answers {} to every request). Prints each
# run's ingest-thread events/s (CPU time of the feeding thread), the other
# threads' CPU and the exporter's counts, then the medians.
#   bench/export_cost.sh [ROUNDS] [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5} events=${2:-1000000}
make --no-print-directory build/bench/correlate_bench >/dev/null
tmp=$(mktemp -d /tmp/weft-export-bench.XXXXXX)
sink_pid=
cleanup() {
	[[ -n $sink_pid ]] && kill "$sink_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/sink.mjs" <<'EOF'
import http from 'node:http';
const s = http.createServer((q, r) => {
	q.resume();
	q.on('end', () => { r.writeHead(200, { 'Content-Type': 'application/json' }); r.end('{}'); });
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log(`listening ${s.address().port}`));
EOF
node "$tmp/sink.mjs" >"$tmp/sink.out" &
sink_pid=$!
for _ in $(seq 50); do grep -q listening "$tmp/sink.out" && break; sleep 0.1; done
port=$(awk '/listening/ {print $2}' "$tmp/sink.out")

modes=("" "--metrics" "--otlp http://127.0.0.1:$port/v1/traces")
names=("store" "store+metrics" "store+metrics+otlp")
declare -A rates
for ((r = 1; r <= rounds; r++)); do
	for i in 0 1 2; do
		k=$(((i + r) % 3)) # a different order each round
		rm -f "$tmp"/b.db*
		# shellcheck disable=SC2086
		out=$(build/bench/correlate_bench "$events" --store "$tmp/b.db" ${modes[k]} 2>/dev/null)
		rate=$(awk '/throughput/ {print $2}' <<<"$out")
		other=$(sed -n 's/.*(\([0-9.]*\) s in other threads).*/\1/p' <<<"$out")
		otlp=$(sed -n 's/^otlp: //p' <<<"$out")
		printf 'round %d %-20s %8d events/s  other threads %s s  %s\n' "$r" "${names[k]}" \
			"$rate" "${other:-0}" "$otlp"
		rates[$k]+="$rate "
	done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in 0 1 2; do
	printf 'median %-20s %s events/s\n' "${names[k]}" \
		"$(tr ' ' '\n' <<<"${rates[$k]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done

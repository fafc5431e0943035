#!/usr/bin/env bash
# Runs every benchmark in bench/ that has no long prerequisites and prints
# its figures; each one's reproducing command is in bench/README.md.
set -uo pipefail
cd "$(dirname "$0")/.."
echo "== correlation (one core, synthetic traffic)"
build/bench/correlate_bench 4000000
echo "== correlation into SQLite"
db=$(mktemp -u /tmp/weft-bench-XXXXXX.db)
build/bench/correlate_bench 2000000 --store "$db"
rm -f "$db" "$db-wal" "$db-shm"
echo "== what /metrics and OTLP export cost the ingest thread"
bench/export_cost.sh 3 1000000
echo "== the sensor's JSON line (one core)"
build/bench/event_format_bench
if [[ $EUID -eq 0 ]]; then
	echo "== sensor overhead (nginx under wrk, sensor off and on)"
	bench/sensor_overhead.sh 5 10
	echo "== the sensor's kernel programs, per run"
	bench/sensor_bpf_cost.sh 5
	echo "== following goroutines"
	bench/go_wake_cost.sh 3
	bench/go_service_cost.sh 3 8
fi
for extra in bench/*_vs_*.sh bench/jvm_overhead.sh bench/store_paging.sh; do
	[[ -x $extra ]] && { echo "== $extra"; "$extra"; }
done
exit 0

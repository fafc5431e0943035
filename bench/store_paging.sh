#!/usr/bin/env bash
# Trajectory paging through the HTTP API over a database of N synthetic
# trajectories (default 1,000,000, two spans each, spread over one day),
# written through the store API in transactions of 10,000 by
# build/store_fill. Prints, for each query, the median and the worst of
# REPEAT runs of curl's total time, after one warm-up run.
#   bench/store_paging.sh            N=200000 bench/store_paging.sh
#   DB=/tmp/paging.db bench/store_paging.sh   fill once, reuse on later runs
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
REPEAT=${REPEAT:-7}
make --no-print-directory -s build/weft build/store_fill >/dev/null

tmp=$(mktemp -d /tmp/weft-bench.XXXXXX)
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

db=${DB:-$tmp/bench.db}
if [[ ! -e $db ]]; then
	echo "filling $N trajectories..."
	build/store_fill fill "$db" "$N"
fi
echo "database: $(du -m "$db" | cut -f1) MiB"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/store_fill serve "$db" "$port" &
pid=$!
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$port/api/health" >/dev/null && break
	sleep 0.1
done

# time_query NAME PATH: median and max of curl's time_total, in ms
time_query() {
	local name=$1 path=$2 t times=()
	curl -fs -o /dev/null "http://127.0.0.1:$port$path" || {
		echo "$name: request failed" >&2
		return 1
	}
	for _ in $(seq "$REPEAT"); do
		t=$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port$path")
		times+=("$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" -v path="$path" '
		{ v[NR] = $1 }
		END { printf "| %-34s | %8.1f | %8.1f | `%s` |\n", name, v[int((NR + 1) / 2)], v[NR], path }'
}

echo
echo "| query                              | median ms | max ms | path |"
echo "| --- | ---: | ---: | --- |"
time_query "first page (50)" "/api/trajectories?limit=50"
time_query "deep page (offset 500k)" "/api/trajectories?limit=50&offset=500000"
time_query "last page (offset N-50)" "/api/trajectories?limit=50&offset=$((N - 50))"
# the same depths by cursor: the "next" of the row just before them
cursor_at() {
	curl -fs "http://127.0.0.1:$port/api/trajectories?limit=1&offset=$(($1 - 1))" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["next"])'
}
time_query "deep page by cursor (500k)" "/api/trajectories?limit=50&before=$(cursor_at 500000)"
time_query "last page by cursor (N-50)" "/api/trajectories?limit=50&before=$(cursor_at $((N - 50)))"
time_query "filtered: errors, >= 400 ms" "/api/trajectories?limit=50&errors=true&min_ms=400"
time_query "filtered: request substring" "/api/trajectories?limit=50&request=%2Fitem%2F42"
time_query "filtered: application, last 1h" "/api/trajectories?limit=50&application=app-0000000000002000&since=1h"
time_query "filtered: last 1h, deep (offset 1000)" "/api/trajectories?limit=50&since=1h&offset=1000"
time_query "one trajectory" "/api/trajectories/$(printf '%016x' $((N / 2)))"
time_query "map, 15 min window" "/api/map"

#!/usr/bin/env bash
# Overhead of the JVM agent (build/libweftjvm.so) on a loop calling a small
# method (bench/jvm/Bench.java): without the agent, with the agent and no
# filter, with the agent timing that method. Each case runs RUNS JVMs
# (interleaved) and keeps the median of their best rounds.
#   bench/jvm_overhead.sh [RUNS] [CALLS_PER_ROUND]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
calls=${2:-20000000}
make --no-print-directory jvm >/dev/null
agent=build/libweftjvm.so
cp=build/jvm/bench

one() { # label, java args...
	shift
	java "$@" -cp "$cp" weftbench.Bench "$calls" 7 | awk '{print $2}'
}
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

declare -A all
for ((r = 0; r < runs; r++)); do
	all[none]+="$(one none) "
	all[nofilter]+="$(one nofilter "-agentpath:$agent") "
	all[filter]+="$(one filter "-agentpath:$agent=filter=weftbench.Small.inc") "
	all[clock]+="$(java -cp "$cp" weftbench.Bench "$calls" 7 clock | awk '{print $2}') "
done
declare -A med
for k in none nofilter filter clock; do
	med[$k]=$(tr ' ' '\n' <<<"${all[$k]}" | grep . | median)
	printf '%-9s ns/call median %-8s (runs: %s)\n' "$k" "${med[$k]}" "${all[$k]}"
done
awk -v n="${med[none]}" -v u="${med[nofilter]}" -v f="${med[filter]}" -v c="${med[clock]}" 'BEGIN {
	printf "added per instrumented call: %.1f ns (two clock reads alone: %.1f ns)\n", f - n, 2 * c
	printf "slowdown with the agent and no filter: %+.1f%%\n", (u - n) / n * 100
}'

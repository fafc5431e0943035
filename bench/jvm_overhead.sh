#!/usr/bin/env bash
# Overhead of the JVM agent (build/libweftjvm.so) on a loop calling a small
# method (bench/jvm/Bench.java): without the agent, with the agent and no
# filter, with the agent timing that method. Each case runs RUNS JVMs
# (interleaved); each JVM reports its best round; the figures below use the
# best and the median of those over the RUNS JVMs (the best is the one least
# disturbed by whatever else runs on the machine, whose load is printed).
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

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A all
for ((r = 0; r < runs; r++)); do
	all[none]+="$(one none) "
	all[nofilter]+="$(one nofilter "-agentpath:$agent") "
	all[filter]+="$(one filter "-agentpath:$agent=filter=weftbench.Small.inc") "
	all[clock]+="$(java -cp "$cp" weftbench.Bench "$calls" 7 clock | awk '{print $2}') "
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A med best
for k in none nofilter filter clock; do
	med[$k]=$(tr ' ' '\n' <<<"${all[$k]}" | grep . | median)
	best[$k]=$(tr ' ' '\n' <<<"${all[$k]}" | grep . | sort -g | head -n1)
	printf '%-9s ns/call best %-8s median %-8s (runs: %s)\n' "$k" "${best[$k]}" "${med[$k]}" "${all[$k]}"
done
for s in best med; do
	declare -n v=$s
	awk -v s="$s" -v n="${v[none]}" -v u="${v[nofilter]}" -v f="${v[filter]}" -v c="${v[clock]}" 'BEGIN {
		printf "%s: added per instrumented call %.1f ns (two clock reads alone %.1f ns); ", s, f - n, 2 * c
		printf "slowdown with the agent and no filter %+.1f%%\n", (u - n) / n * 100
	}'
done

#!/usr/bin/env bash
# The Autoprofiler's capacity model against measurement: profiles the
# two-tier shop of tests/integration/profile_lib.bash (a Python web tier in
# front of Redis, in network namespaces, one sensor per tier, a server) at
# four populations with `weft profile --sweep`, then prints, for each point,
# the measured throughput, the throughput the MVA model predicts from the
# measured service demands, and the error. Target: within 10%.
#   bench/profile_mva.sh [SWEEP] [THINK_MS] [MEASURE_S]
# Needs root and BPF. Writes the report to build/bench/profile-mva/.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/tap.sh
source tests/integration/profile_lib.bash

sweep=${1:-2,8,16,32} think=${2:-20} measure=${3:-15}
out=$WEFT_ROOT/build/bench/profile-mva
reason=$(bpf_unavailable)
[[ -z $reason ]] || { echo "profile_mva: $reason" >&2; exit 1; }
shop_bed wpb 62 --work 300 --workers 4 || { echo "profile_mva: the shop did not start" >&2; tail "$TMP"/*.log; exit 1; }
mkdir -p "$TMP/spec" && shop_spec "$TMP/spec/shop.xml"
rm -rf "$out"
ip netns exec "$CLI" "$WEFT" profile "$TMP/spec/shop.xml" --server "$API" --sweep "$sweep" \
	--think-ms "$think" --measure "$measure" --warmup-max 60 --out "$out" --quiet || exit 1
python3 - "$out/report.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["transactions"][0]
m = t["model"]
print("stations: " + ", ".join("%s D=%.3f ms x%d" % (s["name"], s["demand_ms"], s["servers"]) for s in m["stations"]))
print("bottleneck %s, X bound %.1f/s, N* %.1f, think %.0f ms" % (m["bottleneck"], m["x_max"], m["n_star"], m["think_s"] * 1e3))
print("%6s %12s %12s %8s %12s %12s" % ("users", "measured X", "MVA X", "error", "measured R", "MVA R"))
worst = 0
for p in m["measured"]:
    worst = max(worst, abs(p["error_pct"]))
    print("%6d %12.1f %12.1f %+7.1f%% %10.2f ms %10.2f ms" % (p["users"], p["measured_throughput"], p["predicted_throughput"],
          p["error_pct"], p["measured_response_ms"], p["predicted_response_ms"]))
print("worst throughput error %.1f%% (target 10%%)" % worst)
PY

#!/usr/bin/env bash
# The dashboard's speed at scale: the map of 300 services and 1,000 edges
# interactive within 1 s of a cold load (median of five) and trajectory pages
# within 1 s, over a million stored trajectories, in headless Chromium.
# Runs the scale test with a budget; figures in build/screenshots/perf-perf.txt.
#   bench/web_map.sh [BUDGET_MS]
set -uo pipefail
cd "$(dirname "$0")/.."
WEFT_PERF_BUDGET_MS=${1:-1000} bash tests/integration/web_scale.sh
echo "# $(cat build/screenshots/perf-perf.txt 2>/dev/null)"

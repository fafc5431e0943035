#!/usr/bin/env bash
# /metrics under a real Prometheus (Debian's, started and stopped here with
# its own storage and port) scraping a weft server every second while a
# real sensor watches a two-tier chain on loopback: client -> front -> back,
# the back tier answering after 35 ms. PromQL through Prometheus's HTTP API
# gives the front -> back edge's request rate and p99; they must agree with
# what the client did and with weft's own /api/map. The counters are exact
# (each request once), and promtool finds nothing to say about the text.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools

names=("promtool check metrics finds nothing" "Prometheus scrapes the server"
	"the edge's request rate through PromQL" "the edge's p99 through PromQL"
	"each request counted once, per edge and per service" "sensor metrics through PromQL")
reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${names[@]}"
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	skip_all "no prometheus (scripts/deps.sh test installs it)" "${names[@]}"

# promql QUERY [TIME]: the first result's value, or "none".
promql() {
	curl -sf "$PROM/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
		python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d["data"]["result"] if d.get("status") == "success" else []
print(r[0]["value"][1] if r else "none")'
}

mkdir -p "$TMP/w"
start_server "$TMP/w" || { fail "server started" "$(cat "$TMP/w/server.log")"; exit 0; }
hp=${API##*:}
pf=$(free_port) pb=$(free_port)
ship_sensor lo --port "$pf" --port "$pb" || { fail "sensor started"; exit 0; }
python3 "$TOOLS/tier.py" serve --name back --port "$pb" --delay 0.035 >"$TMP/tier-back.out" 2>&1 &
at_exit "kill $!"
wait_for "grep -q listening '$TMP/tier-back.out'" 10
start_tier front "$pf" "http://127.0.0.1:$pb/back"

# Prometheus: its own config, storage and port; scrapes weft every second.
pp=$(free_port)
PROM=http://127.0.0.1:$pp
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: weft
    static_configs:
      - targets: ['127.0.0.1:$hp']
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom-data" \
	--web.listen-address="127.0.0.1:$pp" --log.level=warn >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
at_exit "kill $PROM_PID; wait $PROM_PID"
wait_for "curl -sf $PROM/-/ready" 30 || { fail "prometheus started" "$(tail -5 "$TMP/prometheus.log")"; exit 0; }

# About 20 s of steady load: one closed-loop user pausing 30 ms between requests.
t0=$(date +%s.%N)
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 1 --requests 400 \
	--pause 0.03 >"$TMP/ids" || fail "client completed every request"
t1=$(date +%s.%N)
n=$(wc -l <"$TMP/ids")
sleep 3 # settled, written, published (1 s) and scraped (1 s)

curl -sf "$API/metrics" >"$TMP/metrics.txt"
if lint=$(promtool check metrics <"$TMP/metrics.txt" 2>&1) && [[ -z $lint ]]; then
	ok "promtool check metrics finds nothing ($(wc -l <"$TMP/metrics.txt") lines)"
else
	fail "promtool check metrics finds nothing" "$lint"
fi
up=$(promql 'up{job="weft"}')
[[ $up == 1 ]] && ok "Prometheus scrapes the server" || fail "Prometheus scrapes the server" "up = $up"

# The rate over 10 s in the middle of the load, against the client's own.
mid=$(python3 -c "print(($t0 + $t1) / 2 + 5)")
edge="server_port=\"$pb\",client_port=\"$pf\""
rate=$(promql "sum(rate(weft_requests_total{$edge}[10s]))" "$mid")
load=$(python3 -c "print($n / ($t1 - $t0))")
if python3 -c "import sys; r, l = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not 0.7 * l <= r <= 1.3 * l)" \
	"$rate" "$load" 2>/dev/null; then
	ok "the edge's request rate through PromQL ($rate/s; the client made $load/s)"
else
	fail "the edge's request rate through PromQL" "PromQL $rate/s, the client $load/s"
fi

# p99 from the histogram: in the bucket that holds the p99 weft's map gives
# from every duration, or a neighbour (buckets interpolate, a p99 of a few
# hundred requests is the few slowest, and the two windows are not cut at
# quite the same moments).
p99=$(promql "histogram_quantile(0.99, sum by (le) (rate(weft_request_duration_seconds_bucket{$edge}[10s])))" "$mid")
map_p99=$(curl -sf "$API/api/map?since=$(python3 -c "print(int(($mid - 10) * 1e9))")&until=$(python3 -c "print(int($mid * 1e9))")" |
	python3 -c '
import json, sys
m = json.load(sys.stdin)
nodes = {n["id"]: n for n in m["nodes"]}
pb, pf = int(sys.argv[1]), int(sys.argv[2])
for e in m["edges"]:
    if pb in nodes[e["target"]]["ports"] and pf in nodes[e["source"]]["ports"]:
        print(e["p99_ms"] / 1000); break
else:
    print("none")' "$pb" "$pf")
if python3 -c '
import sys
b = [0, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
p, m = float(sys.argv[1]), float(sys.argv[2])
i = next(i for i in range(1, len(b)) if m <= b[i])
sys.exit(not (0.035 <= m and b[max(i - 2, 0)] <= p <= b[min(i + 1, len(b) - 1)]))' \
	"$p99" "$map_p99" 2>/dev/null; then
	ok "the edge's p99 through PromQL (${p99}s; weft's map ${map_p99}s, the back tier waits 0.035 s)"
else
	fail "the edge's p99 through PromQL" "PromQL $p99 s, weft's map $map_p99 s"
fi

# Counted once each: the counters after the load are the client's count.
e_total=$(promql "sum(weft_requests_total{$edge})")
s_total=$(promql "sum(weft_service_requests_total{port=\"$pb\"})")
c_total=$(promql "sum(weft_request_duration_seconds_count{$edge})")
if [[ $e_total == "$n" && $s_total == "$n" && $c_total == "$n" ]]; then
	ok "each request counted once, per edge and per service ($n requests)"
else
	fail "each request counted once, per edge and per service" \
		"client $n; edge $e_total, service $s_total, histogram count $c_total"
fi

events=$(promql 'weft_sensor_events_total{sensor="lo"}')
lag=$(promql 'weft_sensor_lag_seconds{sensor="lo"}')
if [[ $events != none && ${events%.*} -gt 0 && $lag != none ]]; then
	ok "sensor metrics through PromQL ($events events, lag ${lag}s)"
else
	fail "sensor metrics through PromQL" "events $events, lag $lag"
fi

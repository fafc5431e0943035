#!/usr/bin/env bash
# OTLP export end to end: a real sensor, the tier.py chain client -> front ->
# middle -> back on loopback, and `weft server --otlp` sending to a receiver
# that decodes every request with OpenTelemetry's own protobuf definitions
# (tests/otlp/receiver.mjs). The traces are checked span by span against
# /api/trajectories/{id} (tests/tools/check_otlp.py). Then a receiver that
# answers after 2 s, and one that is not there: trajectories still reach the
# API as fast as without export, and what is lost is counted.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools
RECEIVER=$WEFT_ROOT/tests/otlp/receiver.mjs

names=("loopback: the receiver decoded every request" "loopback: one trace per request"
	"loopback: no tier span in another trace" "loopback: nothing dropped or failed"
	"slow receiver: trajectories reach the API promptly" "slow receiver: every span accounted for"
	"receiver down: trajectories reach the API promptly" "receiver down: losses counted"
	"receiver down: the server stops within the flush deadline")
reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${names[@]}"
[[ -d $WEFT_ROOT/tests/otlp/node_modules/@opentelemetry/otlp-transformer ]] ||
	skip_all "tests/otlp has no packages: run scripts/deps.sh test" "${names[@]}"

# start_receiver DIR MODE [DELAY_MS]: sets RECV_PORT and RECV_PID.
start_receiver() {
	node "$RECEIVER" --out "$1/received.jsonl" --mode "$2" --delay-ms "${3:-0}" \
		>"$1/receiver.out" 2>&1 &
	RECV_PID=$!
	at_exit "kill $RECV_PID"
	wait_for "grep -q listening '$1/receiver.out'" 10 || return 1
	RECV_PORT=$(awk '/listening/ {print $2}' "$1/receiver.out")
}

# otlp KEY: a counter of the exporter from /api/health.
otlp() {
	curl -sf "$API/api/health" | python3 -c "import json,sys; print(json.load(sys.stdin)['otlp']['$1'])"
}

# probe NAME: sends one request through the chain and prints how many ms it
# took to show up in the API (the settle time is 500 ms), or "never".
probe() {
	python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 1 --requests 1 \
		--prefix "$1" >/dev/null
	local start
	start=$(date +%s%N)
	if wait_for "curl -sf '$API/api/trajectories?limit=5&request=/front/${1}0-0' | grep -q '\"spans\": *3'" 15; then
		echo $((($(date +%s%N) - start) / 1000000))
	else
		echo never
	fi
}

# stop_server: the sensor, then the server (SIGTERM) and waits for it; sets
# STOP_MS to how long the server took.
stop_server() {
	local start
	kill "$SENSOR_PID" 2>/dev/null
	wait "$SENSOR_PID" 2>/dev/null
	start=$(date +%s%N)
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	STOP_MS=$((($(date +%s%N) - start) / 1000000))
}

pf=$(free_port) pm=$(free_port) pb=$(free_port)
start_tier back "$pb"
start_tier middle "$pm" "http://127.0.0.1:$pb/back"
start_tier front "$pf" "http://127.0.0.1:$pm/middle"
ports=(--port "$pf" --port "$pm" --port "$pb") # the tiers' messages only, not the machine's

# 1. A receiver that takes everything: the traces match the API.
mkdir -p "$TMP/ok"
start_receiver "$TMP/ok" ok || { fail "receiver started" "$(cat "$TMP/ok/receiver.out")"; exit 0; }
start_server "$TMP/ok" --otlp "http://127.0.0.1:$RECV_PORT/v1/traces" ||
	{ fail "server started" "$(cat "$TMP/ok/server.log")"; exit 0; }
ship_sensor lo "${ports[@]}" || { fail "sensor started"; exit 0; }
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 4 --requests 25 \
	>"$TMP/ok/ids" || fail "loopback: client completed every request"
base_ms=$(probe base)
# settled, written, batched (up to 1 s) and sent
wait_for "[[ \$(otlp sent) -ge 606 && \$(otlp queue_spans) == 0 ]]" 15
python3 "$TOOLS/check_otlp.py" --api "$API" --ids "$TMP/ok/ids" --received "$TMP/ok/received.jsonl" \
	--label loopback
lost="dropped $(otlp dropped), failed $(otlp failed), rejected $(otlp rejected)"
if [[ $lost == "dropped 0, failed 0, rejected 0" ]]; then
	ok "loopback: nothing dropped or failed ($(otlp sent) spans sent, a probe in the API after $base_ms ms)"
else
	fail "loopback: nothing dropped or failed" "$lost"
fi
stop_server

# 2. A receiver that answers every request after 2 s, and a queue of 200
# spans: ingest does not wait for it, and what it never got is counted.
mkdir -p "$TMP/slow"
start_receiver "$TMP/slow" slow 2000 || { fail "slow receiver started"; exit 0; }
start_server "$TMP/slow" --otlp "http://127.0.0.1:$RECV_PORT/v1/traces" --otlp-queue 200 ||
	{ fail "server started (slow receiver)"; exit 0; }
ship_sensor lo "${ports[@]}" || { fail "sensor started (slow receiver)"; exit 0; }
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 4 --requests 50 \
	>"$TMP/slow/ids" || fail "slow receiver: client completed every request"
ms=$(probe slow)
if [[ $ms != never && $ms -le $((base_ms + 1500)) && $ms -le 3000 ]]; then
	ok "slow receiver: trajectories reach the API promptly ($ms ms, $base_ms ms without a receiver's delay)"
else
	fail "slow receiver: trajectories reach the API promptly" "$ms ms, $base_ms ms without a delay"
fi
dropped=$(otlp dropped)
stop_server
# The exit line: "otlp: Q spans queued: S sent, F failed, R rejected, X superseded; D dropped"
read -r q s f r x d < <(sed -n 's/.*otlp: \([0-9]*\) spans queued: \([0-9]*\) sent, \([0-9]*\) failed, \([0-9]*\) rejected, \([0-9]*\) superseded; \([0-9]*\) dropped.*/\1 \2 \3 \4 \5 \6/p' \
	"$TMP/slow/server.log")
got=$(python3 -c '
import json, sys
ids = set()
for line in open(sys.argv[1]):
    rec = json.loads(line)
    for rs in rec.get("request", {}).get("resourceSpans", []):
        for ss in rs["scopeSpans"]:
            ids.update((sp["traceId"], sp["spanId"]) for sp in ss["spans"])
print(len(ids))' "$TMP/slow/received.jsonl")
# Each of the 201 requests made 6 spans; each is received, or counted lost.
want=$((201 * 6))
if [[ -n ${q:-} && $q -eq $((s + f + r + x)) && $dropped -gt 0 && $d -ge $dropped &&
	$got -le $((s + f)) && $((want - got)) -le $((d + f + x)) ]]; then
	ok "slow receiver: every span accounted for ($got of $want received; $d dropped, $f failed, $x superseded)"
else
	fail "slow receiver: every span accounted for" "queued ${q:-?} sent ${s:-?} failed ${f:-?} rejected ${r:-?} superseded ${x:-?} dropped ${d:-?} (${dropped} while running), received $got of $want" \
		"$(grep otlp "$TMP/slow/server.log" | tail -3)"
fi

# 3. Nothing listens where the receiver should be.
mkdir -p "$TMP/down"
nowhere=$(free_port)
start_server "$TMP/down" --otlp "http://127.0.0.1:$nowhere/v1/traces" --otlp-queue 200 ||
	{ fail "server started (receiver down)"; exit 0; }
ship_sensor lo "${ports[@]}" || { fail "sensor started (receiver down)"; exit 0; }
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 4 --requests 50 \
	>/dev/null || fail "receiver down: client completed every request"
ms=$(probe down)
if [[ $ms != never && $ms -le $((base_ms + 1500)) && $ms -le 3000 ]]; then
	ok "receiver down: trajectories reach the API promptly ($ms ms)"
else
	fail "receiver down: trajectories reach the API promptly" "$ms ms, $base_ms ms with a receiver"
fi
h=$(curl -sf "$API/api/health")
if python3 -c '
import json, sys
o = json.loads(sys.argv[1])["otlp"]
assert o["sent"] == 0 and o["dropped"] > 0 and o["queue_spans"] <= 200, o
assert o["request_failures"] > 0 and "connect" in (o["last_error"] or "").lower(), o' "$h"; then
	ok "receiver down: losses counted ($(echo "$h" | python3 -c 'import json,sys; o=json.load(sys.stdin)["otlp"]; print("%d dropped, %d queued, %d requests failed" % (o["dropped"], o["queue_spans"], o["request_failures"]))'))"
else
	fail "receiver down: losses counted" "$h"
fi
stop_server
if ((STOP_MS <= 7000)); then
	ok "receiver down: the server stops within the flush deadline ($STOP_MS ms, 5 s deadline)"
else
	fail "receiver down: the server stops within the flush deadline" "$STOP_MS ms"
fi

#!/usr/bin/env bash
# A message's first bytes across buffers: writev and sendmsg of three
# segments, readv and recvmsg into three buffers. The sensor reports the
# bytes the call moved from its first segment on, not the first segment
# alone.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools
CASES=("writev" "sendmsg" "readv" "recvmsg")

reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${CASES[@]/#/first bytes across segments: }"

start_sensor "$TMP/events.json" || { fail "sensor started"; exit 0; }
port=$(free_port)
if ! python3 "$TOOLS/iovec_pair.py" "$port" >"$TMP/calls.json" 2>"$TMP/calls.err"; then
	fail "workload ran" "$(cat "$TMP/calls.err")"
fi
sleep 0.2 # let the sensor drain its last 10 ms
stop_sensor "$SENSOR_PID"

for c in "${CASES[@]}"; do
	if python3 - "$TMP/calls.json" "$TMP/events.json" "$c" <<'PY'; then ok "first bytes across segments: $c"; else fail "first bytes across segments: $c"; fi
import base64, json, sys
calls = json.load(open(sys.argv[1]))
want = [x for x in calls["sent"] + calls["received"] if x["call"] == sys.argv[3]]
assert len(want) == 1, want
want = want[0]
kind = "send" if want in calls["sent"] else "recv"
evs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
got = [base64.b64decode(e.get("payload", "")).decode(errors="replace") for e in evs
       if e["type"] == kind and e["sport"] == want["port"] and e.get("payload")]
# The sensor's default prefix (256 bytes) holds the whole message.
if want["first"] not in got:
    print("# want %r" % want["first"])
    for g in got:
        print("# got  %r" % g)
    sys.exit(1)
PY
done

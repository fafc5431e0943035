#!/usr/bin/env bash
# Faults: the sensor and the server each killed (SIGKILL) and restarted in
# the middle of traffic, and bad frames from a peer. No acknowledged batch
# may be lost, and a bad peer must not disturb the others.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools

reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "faults: no acknowledged batch lost" "faults: bad frames"

mkdir -p "$TMP/f"
start_server "$TMP/f" --keep-events || { fail "server started"; exit 0; }
db=$TMP/f/weft.db
hp=${API##*:}
ship_sensor lo || { fail "sensor started"; exit 0; }
pf=$(free_port) pb=$(free_port)
start_tier back "$pb"
start_tier front "$pf" "http://127.0.0.1:$pb/back"

# Traffic for about four seconds while the sensor, then the server, die.
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 2 --requests 40 \
	--pause 0.1 >"$TMP/f/ids" &
client=$!
sleep 0.8
kill -9 "$SENSOR_PID"
sleep 0.5
ship_sensor lo || fail "sensor restarted"
total() { curl -sf "$API/api/trajectories?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
# Some trajectories must be stored before the server dies (a busy machine may take a while).
wait_for '(( $(total || echo 0) > 0 ))' 10
before=$(total)
kill -9 "$SERVER_PID"
sleep 0.5
"$WEFT" server --db "$db" --http "127.0.0.1:$hp" --listen "$INGEST" --keep-events \
	>>"$TMP/f/server.log" 2>&1 &
SERVER_PID=$!
at_exit "kill $SERVER_PID"
wait_for "curl -sf $API/api/health" 10 || fail "server restarted"
wait "$client" || fail "client completed every request"
sleep 1.5
after=$(total)

# The sensor flushes on SIGTERM: its spool must end empty, everything acknowledged.
kill -TERM "$SENSOR_PID"
wait "$SENSOR_PID"
left=$(find "$TMP/spool-lo" -name '*.batch' | wc -l)
seqs=$(sqlite3 "$db" "SELECT min(seq), max(seq), count(*) FROM journal WHERE sensor='lo'")
IFS='|' read -r lo hi n <<<"$seqs"
if [[ $left == 0 && $lo == 1 && $n == "$hi" && $n -gt 5 ]]; then
	ok "faults: no acknowledged batch lost (batches 1..$hi all stored, spool empty)"
else
	fail "faults: no acknowledged batch lost" "journal min/max/count $seqs; $left batches left in the spool"
fi
if [[ -n $before && -n $after ]] && ((after >= before && before > 0)); then
	ok "faults: trajectories survive a server kill ($before before, $after after)"
else
	fail "faults: trajectories survive a server kill" "before $before, after $after"
fi
grep -q "connected" "$TMP/sensor-lo.log" && ok "faults: the restarted sensor reconnected" ||
	fail "faults: the restarted sensor reconnected"

# Bad frames: garbage, another version, a truncated batch, each on its own
# connection; the server logs why, closes that one, and a good sensor goes on.
ship_sensor good || fail "second sensor started"
python3 - "$INGEST" <<'PY'
import socket, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
def conn():
    return socket.create_connection((host, int(port)), timeout=5)
def closed(s):
    try:
        return s.recv(1) == b""
    except OSError:
        return True
def hello():
    ident, h = b"bad-peer", b"bad-peer"
    p = struct.pack("<H", len(ident)) + ident + struct.pack("<H", len(h)) + h + struct.pack("<Q", 0)
    return struct.pack("<IBBH", len(p), 2, 1, 0) + p
results = []
s = conn(); s.sendall(b"GET / HTTP/1.1\r\n\r\n" * 4); results.append(closed(s))
s = conn(); s.sendall(struct.pack("<IBBH", 0, 9, 1, 0)); results.append(closed(s))
s = conn(); s.sendall(hello()); s.recv(100)
batch = struct.pack("<QI", 1, 1) + struct.pack("<BBHI", 1, 0, 0, 500) + b"x" * 20
s.sendall(struct.pack("<IBBH", len(batch), 2, 3, 0) + batch); results.append(closed(s))
sys.exit(0 if all(results) else 1)
PY
bad_rc=$?
python3 "$TOOLS/tier.py" client --url "http://127.0.0.1:$pf/front" --threads 1 --requests 3 \
	--prefix after >/dev/null
if ((bad_rc == 0)) && grep -q "malformed frame" "$TMP/f/server.log" &&
	grep -q "unknown protocol version" "$TMP/f/server.log" &&
	wait_for "curl -sf '$API/api/trajectories?request=/front/after0-2' | grep -q after0-2" 4; then
	ok "faults: bad frames close only their connection, with a logged reason"
else
	fail "faults: bad frames close only their connection, with a logged reason" \
		"peer closed: rc $bad_rc" "$(grep ingest "$TMP/f/server.log" | tail -5)"
fi

#!/usr/bin/env bash
# The server killed (SIGKILL) twenty times at random moments while a
# sensor sends batches, and started again on the same database: every
# batch it acknowledged is stored, the database stays whole, and the sensor
# gets every batch through in the end.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools
KILLS=20
checks=("kill: the server came back after every kill" "kill: every acknowledged batch is stored"
	"kill: the database is whole" "kill: every batch got through")

dir=$TMP/srv
mkdir -p "$dir"
hp=$(free_port)
ip=$(free_port)
API=http://127.0.0.1:$hp
INGEST=127.0.0.1:$ip
serve() {
	"$WEFT" server --db "$dir/weft.db" --http "127.0.0.1:$hp" --listen "$INGEST" --keep-events \
		>>"$dir/server.log" 2>&1 &
	SERVER_PID=$!
	wait_for "curl -sf $API/api/health" 10
}
serve || { fail "server started" "$(tail -5 "$dir/server.log")"; exit 0; }
at_exit 'kill -9 $SERVER_PID'

python3 "$TOOLS/wire_sensor.py" --server "$INGEST" --id killed --batches 4000 --bytes 1024 \
	--seconds 90 --acked "$TMP/acked" >"$TMP/sensor.json" 2>"$TMP/sensor.err" &
sensor=$!
at_exit "kill $sensor"

back=0
for i in $(seq 1 $KILLS); do
	sleep "0.$((RANDOM % 9 + 2))"
	kill -9 "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null
	serve && back=$((back + 1))
done
if ((back == KILLS)); then ok "kill: the server came back after every kill"; else
	fail "kill: the server came back after every kill" "$back of $KILLS" "$(tail -5 "$dir/server.log")"; fi

wait "$sensor"
touch "$TMP/acked"
stored=$(sqlite3 "file:$dir/weft.db?mode=ro" "SELECT seq FROM journal WHERE sensor = 'killed'" | sort -u)
lost=$(comm -23 <(sort -u "$TMP/acked") <(echo "$stored"))
if [[ -s $TMP/acked && -z $lost ]]; then
	ok "kill: every acknowledged batch is stored ($(sort -u "$TMP/acked" | wc -l) acknowledged)"
else
	fail "kill: every acknowledged batch is stored" "acknowledged, not stored: $(echo $lost | head -c 300)"
fi
check=$(sqlite3 "file:$dir/weft.db?mode=ro" "PRAGMA integrity_check")
if [[ $check == ok ]]; then ok "kill: the database is whole"; else fail "kill: the database is whole" "$check"; fi
if grep -q '"complete": true' "$TMP/sensor.json" && [[ $(wc -l <<<"$stored") -ge 4000 ]]; then
	ok "kill: every batch got through"
else
	fail "kill: every batch got through" "$(cat "$TMP/sensor.json" "$TMP/sensor.err"), $(wc -l <<<"$stored") stored"
fi

#!/usr/bin/env bash
# Every error kind is counted, under its own name, and none becomes latency.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/load_lib.bash"

# run_kind NAME KIND PATH [ARGS...]: a short run on PATH; KIND must be counted
# and no request may have a latency.
run_kind() {
	local name=$1 kind=$2 path=$3 port=$4
	shift 4
	"$WEFT" load -q -t1 -c2 -d1s "$@" --json "$TMP/$kind.json" "http://127.0.0.1:$port$path" \
		>/dev/null 2>"$TMP/$kind.err"
	if jcheck "$TMP/$kind.json" \
		"j['errors']['$kind'] > 0 and j['errors']['total'] == j['errors']['$kind'] and j['requests'] == 0 and j['latency_ms']['max'] == 0"; then
		ok "$name counted as $kind, not as latency"
	else
		fail "$name counted as $kind, not as latency" \
			"errors: $(jget "$TMP/$kind.json" "j['errors']" 2>&1)" "$(cat "$TMP/$kind.err")"
	fi
}

start_server e --delay-ms 0 || skip_all "no test server" errors
run_kind "HTTP 404" http_4xx /status/404 "$PORT_e"
run_kind "HTTP 503" http_5xx /status/503 "$PORT_e"
run_kind "connection reset" reset /reset "$PORT_e"
run_kind "closed without a response" closed /close "$PORT_e"
run_kind "a response that is not HTTP" parse /garbage "$PORT_e"
run_kind "no response" timeout /hang "$PORT_e" --timeout 300ms

# Refused: the first request makes the server close its listening socket;
# every later connection is refused (and retried after a short pause).
start_server u --delay-ms 0
"$WEFT" load -q -t1 -c1 -d1s --no-keepalive --json "$TMP/refused.json" \
	"http://127.0.0.1:$PORT_u/unlisten" >/dev/null 2>&1
check "connect refused during a run counted, the one success measured" jcheck "$TMP/refused.json" \
	"j['errors']['connect_refused'] > 10 and j['requests'] == 1 and j['errors']['total'] == j['errors']['connect_refused']"

# Per URI as well: a mix of good and failing requests keeps them apart.
printf 'GET /delay/1\nGET /status/500\n' >"$TMP/mix.txt"
"$WEFT" load -q -t1 -c2 -n 400 --uris "$TMP/mix.txt" --json "$TMP/mix.json" \
	"http://127.0.0.1:$PORT_e" >/dev/null 2>&1
check "per URI: errors stay with their URI" jcheck "$TMP/mix.json" \
	"j['per_uri'][0]['errors']['total'] == 0 and j['per_uri'][1]['requests'] == 0 and j['per_uri'][1]['errors']['http_5xx'] > 100 and j['requests'] + j['errors']['total'] == 400"

# Any other connect failure: mid-run, the client's namespace gets a route that
# forbids the server's address, so every new connection fails in connect()
# (EACCES) while the requests before it were measured. Namespaces need root.
if [[ $EUID -ne 0 ]]; then
	skip "connect failing mid-run counted as connect_other" "needs root for network namespaces"
	exit 0
fi
cli=wl-c$$ srv=wl-s$$
netns_pair "$cli" 10.77.61.1 "$srv" 10.77.61.2 || {
	fail "connect failing mid-run counted as connect_other" "could not create test namespaces"
	exit 0
}
ip netns exec "$srv" "$SERVER" --addr 10.77.61.2 >"$TMP/server-ns.out" 2>&1 &
at_exit "kill $!"
wait_for "grep -q '^port ' '$TMP/server-ns.out'" 5
port=$(awk '/^port /{print $2}' "$TMP/server-ns.out")
ip netns exec "$cli" "$WEFT" load -q -t1 -c1 -d3s --no-keepalive --json "$TMP/other.json" \
	"http://10.77.61.2:$port/delay/1" >/dev/null 2>"$TMP/other.err" &
load=$!
sleep 1
ip -n "$cli" route add prohibit 10.77.61.2/32
wait "$load"
check "connect failing mid-run counted as connect_other, not as latency" jcheck "$TMP/other.json" \
	"j['requests'] > 50 and j['errors']['connect_other'] > 10 and j['errors']['total'] == j['errors']['connect_other'] and j['latency_ms']['max'] < 100"

#!/usr/bin/env bash
# The sensor as the Autoprofiler's slave: profile sessions started and
# stopped by control commands, on the local control socket and through the
# server's API, with CPU from /proc and network bytes from the sensor's own
# events; a sensor scoped to a network namespace finds only the processes in
# it, and a profile of a process with many threads (a reply over 4 KiB)
# arrives whole.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools

reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "local: find" "local: unknown name" "local: start" \
	"local: stop returns the profile" "local: ids" "server: find in the namespace only" \
	"server: profile through the API" "server: unknown name" "server: a reply near 64 KiB"

# The profiled server runs under a name of its own: python started through a
# symlink of that name gets it as its comm.
NAME=wpsp$$
PY=$(python3 -c 'import sys; print(sys.executable)')
ln -s "$PY" "$TMP/$NAME" || { fail "symlink to python"; exit 0; }

# check_profile FILE LABEL LOAD [MIN_THREADS]: FILE holds "ok {profile}" or an
# API answer whose "reply" does; LOAD is the client's byte counts. Prints
# what it measured on "# " lines and problems, one a line, on the others.
check_profile() {
	python3 - "$@" <<'PY'
import json, sys
path, label, load = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
min_threads = int(sys.argv[4]) if len(sys.argv) > 4 else 1
text = open(path).read().strip()
problems = []
if text.startswith("{"):  # through the API
    answer = json.loads(text)
    text = answer.get("reply", "")
    print("# %s: API answer %d bytes, reply %d bytes" % (label, len(open(path).read()), len(text)))
    if answer.get("result") != json.loads(text[3:]):
        problems.append("API result differs from the reply")
else:
    print("# %s: reply %d bytes" % (label, len(text)))
if not text.startswith("ok {"):
    print("reply is not a profile: " + text[:300])
    sys.exit(0)
doc = json.loads(text[3:])
for k in ("interval_s", "clk_tck", "cpus", "host", "processes"):
    if k not in doc:
        problems.append("no key " + k)
p = doc["processes"][0]
want_rx, want_tx = load["request_bytes"], load["response_bytes"]
print("# %s: interval %.3f s, cpu %.3f s, rx %s (client sent %d), tx %s (client got %d), "
      "%d threads" % (label, doc["interval_s"], p["cpu_s"], p["net_rx_bytes"], want_rx,
                      p["net_tx_bytes"], want_tx, p["threads_total"]))
if not p["cpu_s"] > 0:
    problems.append("cpu_s %s" % p["cpu_s"])
if p["cpu_s"] > doc["interval_s"] * doc["cpus"] + 0.05:
    problems.append("cpu_s %s over the interval times the CPUs" % p["cpu_s"])
for key, want in (("net_rx_bytes", want_rx), ("net_tx_bytes", want_tx)):
    got = p[key]
    if got is None or not (0.95 * want <= got <= 1.05 * want + 1024):
        problems.append("%s %s, the client moved %d" % (key, got, want))
if p["threads_total"] < min_threads or len(p["threads"]) != p["threads_total"]:
    problems.append("threads: %d listed of %d, want at least %d" %
                    (len(p["threads"]), p["threads_total"], min_threads))
print("\n".join(problems))
PY
}

# start_load PORT [PREFIX...]: the named server with 60 sleeping threads,
# maybe inside a namespace (ip netns exec replaces itself with it, so $! is
# the server). LOAD_NAME and LOAD_THREADS override both. Sets LOAD_PID.
start_load() {
	local port=$1 out=$TMP/load-$1.out
	shift
	"$@" "$TMP/${LOAD_NAME:-$NAME}" "$TOOLS/profile_load.py" serve --port "$port" \
		--threads "${LOAD_THREADS:-60}" >"$out" 2>&1 &
	LOAD_PID=$!
	at_exit "kill $LOAD_PID"
	wait_for "grep -q listening '$out'" 10
}

# ---- 1. The local control socket ------------------------------------------------------------
ctl=$TMP/wps-ctl.sock
"$WEFT" sensor --control "$ctl" >/dev/null 2>"$TMP/sensor.err" &
SENSOR_PID=$!
at_exit "kill $SENSOR_PID"
if ! wait_for "grep -q 'capturing on' '$TMP/sensor.err'" 10; then
	fail "sensor started" "$(cat "$TMP/sensor.err")"
	exit 0
fi
port=$(free_port)
start_load "$port" || { fail "load server started"; exit 0; }
local_pid=$LOAD_PID
host=$(hostname)

reply=$("$WEFT" control "$ctl" profile find "$NAME")
if [[ $reply == "ok $NAME=$local_pid" ]]; then ok "local: find"; else
	fail "local: find" "reply '$reply', want 'ok $NAME=$local_pid'"; fi

reply=$("$WEFT" control "$ctl" profile find "$NAME,wps-none$$")
rc=$?
if ((rc != 0)) && [[ $reply == "error: no process named 'wps-none$$' on $host" ]]; then
	ok "local: unknown name"
else
	fail "local: unknown name" "exit $rc, reply '$reply'"
fi

reply=$("$WEFT" control "$ctl" profile start wps1 "$NAME")
if [[ $reply == "ok pids=$local_pid" ]]; then ok "local: start"; else
	fail "local: start" "reply '$reply'"; fi
load=$(python3 "$TOOLS/profile_load.py" client --port "$port" --seconds 2)
sleep 0.3 # the sensor drains its ring buffer every 10 ms
"$WEFT" control "$ctl" profile stop wps1 >"$TMP/local.reply"
rc=$?
check_profile "$TMP/local.reply" local "$load" 61 >"$TMP/local.check"
grep '^#' "$TMP/local.check"
problems=$(grep -v '^#' "$TMP/local.check")
if ((rc == 0)) && [[ -z $problems ]]; then
	ok "local: stop returns the profile"
else
	fail "local: stop returns the profile" "exit $rc" "$problems" \
		"$(head -c 300 "$TMP/local.reply")"
fi

# Ids: a stopped one is gone, a running one cannot be started twice, abort frees it.
again=$("$WEFT" control "$ctl" profile stop wps1)
"$WEFT" control "$ctl" profile start wps2 "$NAME" >/dev/null
dup=$("$WEFT" control "$ctl" profile start wps2 "$NAME")
list=$("$WEFT" control "$ctl" profile list)
abort=$("$WEFT" control "$ctl" profile abort wps2)
after=$("$WEFT" control "$ctl" profile list)
badid=$("$WEFT" control "$ctl" profile start 'wps/3' "$NAME")
if [[ $again == "error: no profile 'wps1' is running" &&
	$dup == "error: profile 'wps2' is running already" && $list == "ok wps2" &&
	$abort == ok && $after == ok && $badid == "error: bad command"* ]]; then
	ok "local: ids"
else
	fail "local: ids" "stop again '$again'" "duplicate '$dup'" "list '$list'" "abort '$abort'" \
		"list after '$after'" "bad id '$badid'"
fi
kill "$SENSOR_PID"
wait "$SENSOR_PID" 2>/dev/null

# ---- 2. Through the server, a sensor scoped to a namespace ---------------------------------
ns=wpsn$$
sensor=wpsh$$
ensure_blackhole
if ! ip netns add "$ns"; then
	fail "namespace $ns created"
	exit 0
fi
at_exit "ip netns del $ns"
ip -n "$ns" link set lo up
mkdir -p "$TMP/srv"
start_server "$TMP/srv" || { fail "server started" "$(cat "$TMP/srv/server.log")"; exit 0; }
ship_sensor "$sensor" --netns "$ns" || { fail "sensor started"; exit 0; }
control() { # COMMAND: the API's answer in $TMP/api.out, the HTTP status printed
	curl -s -o "$TMP/api.out" -w '%{http_code}' -X POST --data "$1" \
		"$API/api/sensors/$sensor/control"
}
wait_for "[[ \$(control status) == 200 ]]" 10 || { fail "sensor connected to the server"; exit 0; }
port2=$(free_port)
start_load "$port2" ip netns exec "$ns" || { fail "load server in $ns started"; exit 0; }
inside=$LOAD_PID
# A process of the same name outside the namespace: the local one of part 1.

status=$(control "profile find $NAME")
reply=$(jq -r .reply "$TMP/api.out")
if [[ $status == 200 && $reply == "ok $NAME=$inside" ]]; then
	ok "server: find in the namespace only"
else
	fail "server: find in the namespace only" "status $status, reply '$reply'" \
		"want 'ok $NAME=$inside' (not $local_pid, outside)"
fi

status=$(control "profile start wps-api $NAME")
start_reply=$(jq -r .reply "$TMP/api.out")
load=$(ip netns exec "$ns" python3 "$TOOLS/profile_load.py" client --port "$port2" --seconds 2)
sleep 0.3
status2=$(control "profile stop wps-api")
cp "$TMP/api.out" "$TMP/api-stop.out"
check_profile "$TMP/api-stop.out" api "$load" 61 >"$TMP/api.check"
grep '^#' "$TMP/api.check"
problems=$(grep -v '^#' "$TMP/api.check")
reply_len=$(jq -r '.reply | length' "$TMP/api-stop.out")
if [[ $status == 200 && $start_reply == "ok pids=$inside" && $status2 == 200 &&
	$reply_len -gt 4096 && -z $problems ]]; then
	ok "server: profile through the API"
else
	fail "server: profile through the API" "start: $status '$start_reply'" \
		"stop: $status2, reply $reply_len bytes" "$problems"
fi

status=$(control "profile start wps-x wps-none$$")
msg=$(jq -r .error "$TMP/api.out")
want="error: no process named 'wps-none$$' in network namespace * on $sensor"
# shellcheck disable=SC2053 # $want is a pattern
if [[ $status == 400 && $msg == $want ]]; then
	ok "server: unknown name"
else
	fail "server: unknown name" "status $status, error '$msg'"
fi

# A process with 1000 threads: the whole profile would be some 90 KiB, so the
# sensor cuts the thread list to what fits in a reply, which crosses whole.
ln -s "$PY" "$TMP/wpsq$$"
port3=$(free_port)
LOAD_NAME=wpsq$$ LOAD_THREADS=1000 start_load "$port3" ip netns exec "$ns" ||
	{ fail "server: a reply near 64 KiB" "1000-thread process did not start"; exit 0; }
control "profile start wps-big wpsq$$" >/dev/null
status=$(control "profile stop wps-big")
summary=$(jq -r '[(.reply | length), .result.processes[0].threads_total,
	(.result.processes[0].threads | length), .result.processes[0].threads_omitted] | @tsv' \
	"$TMP/api.out" 2>&1)
read -r len total listed omitted <<<"$summary"
echo "# big: reply $len bytes, $listed of $total threads listed ($omitted omitted)"
if [[ $status == 200 && $len -gt 60000 && $len -le 65535 && $total -gt 1000 &&
	$((listed + omitted)) == "$total" && $omitted -gt 0 ]]; then
	ok "server: a reply near 64 KiB"
else
	fail "server: a reply near 64 KiB" "status $status: $summary" "$(head -c 300 "$TMP/api.out")"
fi

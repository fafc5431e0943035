#!/usr/bin/env bash
# Capture modes and failure paths: connection-only mode, filters switched at
# run time, a refused connect, a FIN consumed with the data, call times,
# bad options, missing privileges.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools

# Options are checked before anything is loaded: these run without root too.
for bad in "--payload 5000" "--duration -1" "--port 0" "--bogus" "--ring-size 3000" "--netns no-such-ns$$"; do
	# shellcheck disable=SC2086
	"$WEFT" sensor $bad >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if ((rc != 0)) && [[ $(wc -l <"$TMP/err") -le 2 && -s $TMP/err && ! -s $TMP/out ]]; then
		ok "bad option '$bad' rejected with a clear line (exit $rc)"
	else
		fail "bad option '$bad' rejected with a clear line" "exit $rc: $(cat "$TMP/err")"
	fi
done

reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "not root: one line, non-zero exit" "connection-only mode" \
	"messages off/on at run time" "port selector at run time" "control: status and a bad command answered" \
	"a reader that was held up does not spin afterwards" "refused connect" "FIN consumed with data" \
	"default: no call times, accept by the serving thread" "--call-time: call times, accept by the accepting thread"

# Not root: one clear line, non-zero exit, no crash.
setpriv --reuid=65534 --regid=65534 --clear-groups "$WEFT" sensor --duration 1 >"$TMP/out" 2>"$TMP/err"
rc=$?
if ((rc != 0 && rc < 128)) && grep -q "needs root" "$TMP/err"; then
	ok "not root: one line, non-zero exit"
else
	fail "not root: one line, non-zero exit" "exit $rc: $(cat "$TMP/err")"
fi

# workload PORT LABEL [CONNECTIONS]: a short exchange on loopback, logged;
# each connection is served by a thread of its own.
workload() {
	local n=${3:-1}
	python3 "$TOOLS/tcp_workload.py" server --port "$1" --threads "$n" --log "$TMP/$2.s" >"$TMP/$2.out" 2>&1 &
	local spid=$!
	wait_for "grep -q listening '$TMP/$2.out'" 10
	python3 "$TOOLS/tcp_workload.py" client --port "$1" --threads "$n" --rounds 3 --log "$TMP/$2.c"
	wait "$spid"
	sleep 0.1
}

# count FILE PORT TYPE...: events of these types on this port.
count() {
	local file=$1 port=$2
	shift 2
	python3 - "$file" "$port" "$@" <<'PY'
import json, sys
port, types = int(sys.argv[2]), set(sys.argv[3:])
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] in types and port in (e["sport"], e["dport"]):
        n += 1
print(n)
PY
}

# 1. Connection-only mode: lifecycle events, no messages.
start_sensor "$TMP/conn.json" --connections-only || exit 0
p=$(free_port)
workload "$p" conn
stop_sensor "$SENSOR_PID"
msgs=$(count "$TMP/conn.json" "$p" send recv)
life=$(count "$TMP/conn.json" "$p" connect accept close)
if [[ $msgs == 0 && $life -ge 3 ]]; then ok "connection-only mode"; else
	fail "connection-only mode" "messages $msgs (want 0), lifecycle $life (want >= 3)"; fi

# 2. Switch capture at run time through the control socket, no restart.
ctl=$TMP/ctl.sock
start_sensor "$TMP/sw.json" --control "$ctl" || exit 0
"$WEFT" control "$ctl" messages off >/dev/null
p1=$(free_port)
workload "$p1" off
"$WEFT" control "$ctl" messages on >/dev/null
p2=$(free_port)
workload "$p2" on
off=$(count "$TMP/sw.json" "$p1" send recv)
on=$(count "$TMP/sw.json" "$p2" send recv)
if [[ $off == 0 && $on -gt 0 ]]; then ok "messages off/on at run time"; else
	fail "messages off/on at run time" "off: $off (want 0), on: $on (want > 0)"; fi

p3=$(free_port)
p4=$(free_port)
"$WEFT" control "$ctl" select port "$p4" >/dev/null
workload "$p3" other
workload "$p4" selected
status=$("$WEFT" control "$ctl" status)
bad_reply=$("$WEFT" control "$ctl" select colour blue)
brc=$?
stop_sensor "$SENSOR_PID"
other=$(count "$TMP/sw.json" "$p3" send recv)
sel=$(count "$TMP/sw.json" "$p4" send recv)
if [[ $other == 0 && $sel -gt 0 ]]; then ok "port selector at run time"; else
	fail "port selector at run time" "unselected port: $other (want 0), selected: $sel"; fi
if [[ $status == "ok messages=on"* && $brc != 0 && $bad_reply == error:* ]]; then
	ok "control: status and a bad command answered"
else
	fail "control: status and a bad command answered" "status '$status'; bad: '$bad_reply' ($brc)"
fi

# 2b. A reader held up (stopped, descheduled) finds a backlog and is woken
# by the kernel; once it has caught up it must go back to sleeping between
# reads while traffic goes on, not spin. A small ring makes the backlog.
start_sensor "$TMP/stall.json" --ring-size 64KiB || exit 0
ps=$(free_port)
python3 "$TOOLS/pingpong.py" --port "$ps" --seconds 5 >"$TMP/pingpong.out" &
ppid=$!
sleep 1
kill -STOP "$SENSOR_PID"
sleep 0.5
kill -CONT "$SENSOR_PID"
sleep 0.5
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SENSOR_PID/stat" 2>/dev/null || echo -1; }
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
wait "$ppid"
stop_sensor "$SENSOR_PID"
used=$(((t1 - t0) * 1000 / $(getconf CLK_TCK)))
# Reading this traffic takes a few percent of a CPU; a spinning reader takes
# nearly all of one (1.9 s in these 2 s when the reader still spun).
if ((t0 >= 0 && t1 >= 0 && used < 400)) && [[ -s $TMP/stall.json ]]; then
	ok "a reader that was held up does not spin afterwards (${used} ms CPU in 2 s)"
else
	fail "a reader that was held up does not spin afterwards" "${used} ms CPU in 2 s" \
		"$(cat "$TMP/pingpong.out") exchanges"
fi

# 3. A refused connect is reported as such; 4. a FIN read with the data.
start_sensor "$TMP/ref.json" || exit 0
closed=$(free_port)
python3 -c "import socket,sys
try: socket.create_connection(('127.0.0.1', $closed), timeout=2)
except ConnectionRefusedError: sys.exit(0)
sys.exit(1)"
pf=$(free_port)
python3 "$TOOLS/fin_pair.py" "$pf"
sleep 0.1
stop_sensor "$SENSOR_PID"
if grep "\"dport\":$closed," "$TMP/ref.json" | grep -q '"type":"connect".*"result":"refused"'; then
	ok "refused connect"
else
	fail "refused connect" "$(grep "\"dport\":$closed," "$TMP/ref.json")"
fi
if python3 - "$TMP/ref.json" "$pf" <<'PY'; then ok "FIN consumed with data"; else fail "FIN consumed with data"; fi
import json, sys
port = int(sys.argv[2])
evs = [json.loads(l) for l in open(sys.argv[1])]
evs = [e for e in evs if port in (e["sport"], e["dport"]) and e["type"] in ("send", "recv")]
snd = [(e["seq"], e["len"]) for e in evs if e["role"] == "server" and e["type"] == "send"]
rcv = [(e["seq"], e["len"]) for e in evs if e["role"] == "client" and e["type"] == "recv"]
print("# server send", snd, "client recv", rcv)
sys.exit(0 if snd and snd == rcv else 1)
PY

# 5. Call times. The workload's server accepts in its main thread (tid ==
# pid) and hands each connection to a thread of its own. By default no system
# call is hooked: messages carry no call duration, and the accept event names
# the thread that moves the connection's bytes. With --call-time every send
# and recv carries its duration and the accept event the accepting thread.
# calls FILE PORT MODE: checks one capture; prints what it found.
calls() {
	python3 - "$@" <<'PY'
import json, sys
port, mode = int(sys.argv[2]), sys.argv[3]
evs = [json.loads(l) for l in open(sys.argv[1])]
evs = [e for e in evs if port in (e["sport"], e["dport"])]
msgs = [e for e in evs if e["type"] in ("send", "recv")]
timed = [e for e in msgs if "duration_ns" in e]
acc = [e for e in evs if e["type"] == "accept"]
by_main = [e for e in acc if e["tid"] == e["pid"]]
print("# %s: %d messages, %d timed; %d accepts, %d by the main thread"
      % (mode, len(msgs), len(timed), len(acc), len(by_main)))
if mode == "default":
    good = msgs and not timed and len(acc) == 2 and not by_main
else:
    good = msgs and len(timed) == len(msgs) and len(acc) == 2 and len(by_main) == 2 and \
        all(0 <= e["duration_ns"] < 10**9 for e in timed)
sys.exit(0 if good else 1)
PY
}
start_sensor "$TMP/plain.json" || exit 0
pp=$(free_port)
workload "$pp" plain 2
stop_sensor "$SENSOR_PID"
if calls "$TMP/plain.json" "$pp" default; then ok "default: no call times, accept by the serving thread"; else
	fail "default: no call times, accept by the serving thread"; fi

start_sensor "$TMP/timed.json" --call-time || exit 0
pt=$(free_port)
workload "$pt" timed 2
stop_sensor "$SENSOR_PID"
if calls "$TMP/timed.json" "$pt" call-time; then ok "--call-time: call times, accept by the accepting thread"; else
	fail "--call-time: call times, accept by the accepting thread"; fi

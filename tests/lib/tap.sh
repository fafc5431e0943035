# Helpers for integration scripts: TAP output, prerequisites, cleanup.
# Source it; every script gets `ok`, `fail`, `check`, `skip_all`, `need_root_bpf`.
set -uo pipefail
WEFT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WEFT=${WEFT:-$WEFT_ROOT/build/weft} # WEFT=PATH tests another build
TMP=$(mktemp -d /tmp/weft-test.XXXXXX)
_cleanups=()

# Runs registered cleanups in reverse order on any exit, even after a failure.
at_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" >/dev/null 2>&1; done
	# WEFT_KEEP_TMP=1 keeps the logs and databases of a run for a post-mortem.
	if [[ -n ${WEFT_KEEP_TMP:-} ]]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $*"; }
fail() { echo "not ok - $1"; shift; [[ $# -gt 0 ]] && printf '#   %s\n' "$@"; return 0; }
skip() { echo "ok - $1 # SKIP $2"; }
# check NAME COMMAND...: ok when the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi
}
# Every named check is reported skipped with the reason, then the script ends.
skip_all() {
	local reason=$1 name
	shift
	for name in "$@"; do skip "$name" "$reason"; done
	exit 0
}
# Prints why BPF capture cannot run here, or nothing when it can.
bpf_unavailable() {
	[[ $EUID -eq 0 ]] || { echo "needs root"; return; }
	[[ -r /sys/kernel/btf/vmlinux ]] || { echo "kernel has no BTF"; return; }
	# The sensor mounts tracefs itself when it is missing; so do the tests.
	[[ -d /sys/kernel/tracing/events ]] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	[[ -d /sys/kernel/tracing/events/sock || -d /sys/kernel/debug/tracing/events/sock ]] ||
		{ echo "no sock tracepoints (tracefs cannot be mounted)"; return; }
}
# Waits up to $2 seconds (default 5) for a command to succeed.
wait_for() {
	local cmd=$1 t=${2:-5} i
	for ((i = 0; i < t * 20; i++)); do eval "$cmd" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

# ---- sensors and network namespaces ------------------------------------------------------

# Starts a sensor in the background writing JSON events to $1, with the
# remaining arguments as options; waits until its programs are attached.
# Sets SENSOR_PID.
start_sensor() {
	local out=$1
	shift
	"$WEFT" sensor --json "$@" >"$out" 2>"$out.err" &
	SENSOR_PID=$!
	at_exit "kill $SENSOR_PID"
	if ! wait_for "grep -q 'capturing on' '$out.err'" 10; then
		echo "# sensor did not start:" && sed 's/^/#   /' "$out.err"
		return 1
	fi
}

# Stops a sensor (SIGINT) and waits for it to flush.
stop_sensor() {
	kill -INT "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# A free TCP port on loopback, below the kernel's ephemeral range, so that
# no outgoing connection takes it between this check and its use.
free_port() {
	python3 -c '
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    p = random.randrange(20000, max(lo, 20001))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()'
}

# Test hosts live in 10.77.0.0/16. Nothing there may leave this machine: a
# blackhole route in the root namespace catches whatever would.
TEST_NET=10.77.0.0/16
ensure_blackhole() {
	ip route show type blackhole | grep -q "^blackhole $TEST_NET" && return 0
	ip route add blackhole "$TEST_NET" && at_exit "ip route del blackhole $TEST_NET"
}

# netns_pair NS1 ADDR1 NS2 ADDR2: two namespaces joined by a veth pair, both
# torn down when the script exits.
netns_pair() {
	local a=$1 aaddr=$2 b=$3 baddr=$4
	ensure_blackhole || return 1
	ip netns add "$a" && at_exit "ip netns del $a"
	ip netns add "$b" && at_exit "ip netns del $b"
	ip link add "v-$a" netns "$a" type veth peer name "v-$b" netns "$b" || return 1
	ip -n "$a" addr add "$aaddr/24" dev "v-$a" && ip -n "$a" link set "v-$a" up &&
		ip -n "$a" link set lo up || return 1
	ip -n "$b" addr add "$baddr/24" dev "v-$b" && ip -n "$b" link set "v-$b" up &&
		ip -n "$b" link set lo up || return 1
}

# start_server DIR: a weft server on free loopback ports with its database in
# DIR; sets SERVER_PID, API (http://...), INGEST (host:port).
start_server() {
	local dir=$1
	shift
	local hp ip
	hp=$(free_port)
	ip=$(free_port)
	API=http://127.0.0.1:$hp
	INGEST=127.0.0.1:$ip
	"$WEFT" server --db "$dir/weft.db" --http "127.0.0.1:$hp" --listen "$INGEST" "$@" \
		>>"$dir/server.log" 2>&1 &
	SERVER_PID=$!
	at_exit "kill $SERVER_PID"
	wait_for "curl -sf $API/api/health" 10
}

# start_tier NAME PORT [NEXT_URL] [NETNS]: one tier.py server; waits for it.
start_tier() {
	local name=$1 port=$2 next=${3:-} ns=${4:-} host=127.0.0.1 pre=()
	[[ -n $ns ]] && pre=(ip netns exec "$ns") && host=0.0.0.0
	"${pre[@]}" python3 "$WEFT_ROOT/tests/tools/tier.py" serve --name "$name" --host "$host" \
		--port "$port" ${next:+--next "$next"} >"$TMP/tier-$name.out" 2>&1 &
	at_exit "kill $!"
	wait_for "grep -q listening '$TMP/tier-$name.out'" 10
}

# netns_switch NAME: a namespace holding a bridge that test hosts plug into.
netns_switch() {
	ensure_blackhole || return 1
	ip netns add "$1" && at_exit "ip netns del $1"
	ip -n "$1" link add br0 type bridge && ip -n "$1" link set br0 up
}

# netns_host SWITCH NAME ADDR: a host namespace on the switch, ADDR/24.
netns_host() {
	local sw=$1 ns=$2 addr=$3
	ip netns add "$ns" && at_exit "ip netns del $ns"
	ip link add "h-$ns" netns "$ns" type veth peer name "p-$ns" netns "$sw" || return 1
	ip -n "$sw" link set "p-$ns" master br0 && ip -n "$sw" link set "p-$ns" up
	ip -n "$ns" addr add "$addr/24" dev "h-$ns" && ip -n "$ns" link set "h-$ns" up &&
		ip -n "$ns" link set lo up
}

# ship_sensor HOST [OPTIONS...]: a sensor shipping to $INGEST, spool in $TMP.
ship_sensor() {
	local host=$1
	shift
	"$WEFT" sensor --server "$INGEST" --host "$host" --spool "$TMP/spool-$host" "$@" \
		>>"$TMP/sensor-$host.log" 2>&1 &
	SENSOR_PID=$!
	at_exit "kill $SENSOR_PID"
	wait_for "grep -q 'capturing on' '$TMP/sensor-$host.log'" 10
}

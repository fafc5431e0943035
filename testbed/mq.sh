#!/usr/bin/env bash
# Message-queue trajectories: how well weft follows a request through
# RabbitMQ (AMQP 0-9-1) to the service that consumes its message.
#
#   testbed/mq.sh eval  [--out DIR]   every scenario, 50 clients, up to 30 s each (about 4 minutes)
#   testbed/mq.sh short [--out DIR]   every scenario, 40 clients, up to 8 s each (about 1.5 minutes)
#
# One run per scenario, one after the other, on hosts that stay up throughout:
#
#   call    GET /mq/call   entry: oslo.messaging RPC call (topic weft) -> rpc: Redis calls, reply
#   cast    GET /mq/cast   entry: oslo.messaging RPC cast (topic weft) -> rpc: Redis calls
#   queue   GET /mq/queue  entry: pika publish to the durable queue work -> worker: Redis calls, ack
#
# Hosts: load (testbed/models_load.py, the clients), entry
# (testbed/apps/mq_entry.py: HTTP, thread per connection), broker (RabbitMQ,
# a private node), rpc (testbed/apps/mq_rpc.py: oslo.messaging RPC server,
# threading executor), worker (testbed/apps/mq_worker.py: competing pika
# consumers on one queue) and cache (Redis). Hosts are network namespaces
# tq-HOST on one bridge (itself in the namespace tq-sw), 10.77.4.0/24; a
# blackhole route for 10.77.0.0/16 in the root namespace keeps anything from
# leaving the machine. Each host has its own `weft sensor --netns`; one
# `weft server` listens on loopback. Everything is torn down on exit, even
# after a failure.
#
# Every tier logs its ground truth (truth-ROLE.jsonl): per unit of work, the
# test id, what it received (an HTTP request, an AMQP delivery with its
# exchange, routing key and queue) and the calls it made, AMQP publishes with
# their exchange and routing key. testbed/evaluate_mq.py compares weft's
# trajectories with it: DIR/results.json, DIR/results.md.
#
# Environment: SCENARIOS (which, default all), CLIENTS (default 50, short
# 40), DURATION and REQUESTS (bounds of one run; defaults 30 s / 15000 for
# eval, 8 s / 2500 for short), WARMUP (seconds of warm-up per scenario, not
# evaluated; default 3, short 2), CONSUMERS (competing consumers on the work
# queue, default 4), PYTHON (default /usr/bin/python3, with oslo.messaging
# and pika), PCAP=1 (tcpdump on the broker's host: DIR/broker.pcap, every
# AMQP byte of the experiment, to see what weft sees; needs tcpdump).
source "$(dirname "$0")/../tests/lib/tap.sh"
TB=$WEFT_ROOT/testbed
PY=${PYTHON:-/usr/bin/python3}
ALL_SCENARIOS=(call cast queue)
ROLES=(load entry broker rpc worker cache)
declare -A PORT=([load]=0 [entry]=8080 [broker]=5672 [rpc]=0 [worker]=0 [cache]=6379)
declare -A OCTET=([load]=10 [entry]=11 [broker]=20 [rpc]=21 [worker]=22 [cache]=30)
declare -A ENTRY_PATH=([call]=/mq/call [cast]=/mq/cast [queue]=/mq/queue)
# Which tier consumes each scenario's messages (its truth file counts them).
declare -A CONSUMER=([call]=rpc [cast]=rpc [queue]=worker)
declare -A SENSOR SRV_PID
SW=tq-sw
# The broker's Erlang ports, apart from a packaged RabbitMQ's defaults
# (epmd 4369, distribution 25672); it has its namespace to itself anyway.
EPMD_PORT=4371
DIST_PORT=25673
NODE=weft-tq@localhost

die() { echo "mq: $*" >&2; exit 1; }
log() { echo "mq: $*" >&2; }

mode=${1:-}
shift || true
OUT=
while (($#)); do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done
[[ $mode == eval || $mode == short ]] || die "usage: mq.sh eval|short [--out DIR]"
if [[ $mode == eval ]]; then
	DURATION=${DURATION:-30} REQUESTS=${REQUESTS:-15000} WARMUP=${WARMUP:-3} CLIENTS=${CLIENTS:-50}
else
	DURATION=${DURATION:-8} REQUESTS=${REQUESTS:-2500} WARMUP=${WARMUP:-2} CLIENTS=${CLIENTS:-40}
fi
CONSUMERS=${CONSUMERS:-4}
POOL=$((CLIENTS + 8)) # AMQP connections and threads of the entry and the RPC server
read -ra SCENARIOS <<<"${SCENARIOS:-${ALL_SCENARIOS[*]}}"
OUT=${OUT:-$WEFT_ROOT/build/testbed/mq-$mode}
RABBIT=/usr/lib/rabbitmq/bin
EPMD=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | sort -V | tail -n1)
[[ -z $(bpf_unavailable) ]] || die "$(bpf_unavailable)"
[[ -x $WEFT ]] || die "build weft first (make)"
[[ -x $RABBIT/rabbitmq-server && -n $EPMD ]] || die "RabbitMQ is not installed (scripts/deps.sh test)"
command -v redis-server >/dev/null || die "redis-server is not installed (scripts/deps.sh test)"
"$PY" -c 'import oslo_messaging, pika' 2>/dev/null ||
	die "$PY lacks oslo.messaging or pika (scripts/deps.sh test)"
rm -rf "$OUT" && mkdir -p "$OUT"
chmod 755 "$TMP"
RUN=$TMP/run
mkdir -p "$RUN"

ns() { echo "tq-$1"; }
addr() { echo "10.77.4.${OCTET[$1]}"; }

# inhost ROLE CMD...: becomes CMD in the host's namespace. Meant to be
# started with `&`: the subshell execs and so does ip netns exec, so $! is
# the server's own pid.
inhost() {
	local n
	n=$(ns "$1")
	shift
	exec ip netns exec "$n" "$@"
}

# serve ROLE LOG CMD...: starts a server in its host, keeps its pid, and
# stops it with SIGTERM on exit.
serve() {
	local role=$1 logf=$2
	shift 2
	inhost "$role" "$@" >"$logf" 2>&1 &
	SRV_PID[$role]=$!
	at_exit "kill ${SRV_PID[$role]}"
}
# Waits (15 s at most each) for every server and sensor to be gone: on exit,
# the namespaces go only after their processes.
stopped() {
	local p
	for p in "${SRV_PID[@]}" "${SENSOR[@]}"; do wait_for "! kill -0 $p" 15; done
}

listening() { # ROLE: the server accepts connections on its port
	ip netns exec "$(ns "$1")" bash -c "exec 3<>/dev/tcp/$(addr "$1")/${PORT[$1]}" 2>/dev/null
}

# ---- servers ---------------------------------------------------------------------------

# The broker: a RabbitMQ node of its own. Its configuration, data, logs and
# Erlang cookie are in the run directory (RABBITMQ_* variables; the files of
# the packaged node are never read), it listens on its host's address only,
# and its epmd is started here on a port of its own, so that it is stopped
# with the broker: one the node started itself would outlive it.
# NOTIFY_SOCKET makes the start script exec the Erlang VM, as under systemd,
# instead of keeping a shell that forwards signals: the pid kept is the VM's.
rabbit_env() {
	local dir=$RUN/rabbit
	RABBIT_ENV=(env HOME="$dir/home" ERL_EPMD_PORT=$EPMD_PORT RABBITMQ_NODENAME=$NODE RABBITMQ_USE_LONGNAME=false
		RABBITMQ_DIST_PORT=$DIST_PORT RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
		RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
		RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_MNESIA_BASE="$dir/mnesia"
		RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/rabbit.pid"
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false" NOTIFY_SOCKET="$dir/notify")
}
rabbit_env

start_broker() {
	local dir=$RUN/rabbit t0=$SECONDS
	mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
	cat >"$dir/rabbitmq.conf" <<-EOF
		listeners.tcp.1 = $(addr broker):5672
		loopback_users = none
		disk_free_limit.absolute = 50MB
		log.console = false
		log.file.level = warning
	EOF
	echo '[].' >"$dir/enabled_plugins"
	: >"$dir/rabbitmq-env.conf"
	inhost broker "${RABBIT_ENV[@]}" "$EPMD" -port $EPMD_PORT -address 127.0.0.1 >"$RUN/epmd.log" 2>&1 &
	SRV_PID[epmd]=$!
	# After the broker has stopped: stopped() waits for both, the broker first.
	at_exit "kill ${SRV_PID[epmd]}"
	wait_for "ip netns exec $(ns broker) bash -c 'exec 3<>/dev/tcp/127.0.0.1/$EPMD_PORT'" 10 ||
		die "epmd did not start: $(tail -3 "$RUN/epmd.log")"
	inhost broker "${RABBIT_ENV[@]}" "$RABBIT/rabbitmq-server" >"$RUN/rabbit.log" 2>&1 &
	SRV_PID[broker]=$!
	at_exit "wait_for '! kill -0 ${SRV_PID[broker]}' 15"
	at_exit "kill ${SRV_PID[broker]}"
	wait_for "listening broker" 60 || die "RabbitMQ did not start: $(tail -5 "$RUN/rabbit.log")"
	log "RabbitMQ up in $((SECONDS - t0)) s"
}

rabbitmqctl() { # ARGS...: the broker's own CLI, with the node's cookie and ports
	ip netns exec "$(ns broker)" "${RABBIT_ENV[@]}" "$RABBIT/rabbitmqctl" -q "$@"
}

start_cache() {
	local a
	a=$(addr cache)
	serve cache "$RUN/redis.log" redis-server --bind "$a" --port 6379 --save "" --appendonly no \
		--protected-mode no --daemonize no --dir "$RUN"
	wait_for "ip netns exec $(ns cache) redis-cli -h $a ping" 10 || die "Redis did not start"
}

start_apps() {
	local b c
	b=$(addr broker) c=$(addr cache)
	serve rpc "$RUN/rpc.log" "$PY" "$TB/apps/mq_rpc.py" --broker "$b" --cache "$c" --pool "$POOL" \
		--log "$RUN/truth-rpc.jsonl"
	serve worker "$RUN/worker.log" "$PY" "$TB/apps/mq_worker.py" --broker "$b" --cache "$c" \
		--consumers "$CONSUMERS" --log "$RUN/truth-worker.jsonl"
	serve entry "$RUN/entry.log" "$PY" "$TB/apps/mq_entry.py" --host "$(addr entry)" --port 8080 --broker "$b" \
		--pool "$POOL" --log "$RUN/truth-entry.jsonl"
	wait_for "grep -q consuming '$RUN/rpc.log'" 30 || die "rpc did not start: $(tail -3 "$RUN/rpc.log")"
	wait_for "grep -q consumers '$RUN/worker.log'" 30 || die "worker did not start: $(tail -3 "$RUN/worker.log")"
	wait_for "grep -q listening '$RUN/entry.log'" 30 || die "entry did not start: $(tail -3 "$RUN/entry.log")"
}

# ---- weft ------------------------------------------------------------------------------

sensor_start() { # ROLE
	local h=$1 logf=$RUN/sensor-$1.log
	"$WEFT" sensor --server "$INGEST" --host "$h" --netns "$(ns "$h")" --spool "$RUN/spool-$h" \
		>>"$logf" 2>&1 &
	SENSOR[$h]=$!
	at_exit "kill ${SENSOR[$h]}"
	wait_for "grep -q 'capturing on' '$logf'" 15 || die "sensor $h did not start: $(tail -3 "$logf")"
}

# The services, for the evaluator: role, host, executable (its file, links
# resolved), port (0: a client only, no port of its own); the broker's
# Erlang ports (epmd, distribution: the node's own plumbing, which
# rabbitmqctl uses too).
write_topology() {
	local r first=1
	{
		printf '{"services":['
		for r in "${ROLES[@]}"; do
			[[ $r == load ]] && continue
			((first)) || printf ','
			first=0
			printf '{"role":"%s","host":"%s","exe":"%s","port":%d,"addr":"%s"}' "$r" "$r" \
				"$(basename "$(readlink "/proc/${SRV_PID[$r]}/exe")")" "${PORT[$r]}" "$(addr "$r")"
		done
		printf '],"client":{"role":"load","host":"load","exe":"%s"},"scenarios":{' \
			"$(basename "$(readlink -f "$PY")")"
		first=1
		for r in "${ALL_SCENARIOS[@]}"; do
			((first)) || printf ','
			first=0
			printf '"%s":{"entry":"entry","path":"%s","consumer":"%s"}' "$r" "${ENTRY_PATH[$r]}" "${CONSUMER[$r]}"
		done
		printf '},"consumers":%d,"broker_internal_ports":[%d,%d],"rabbitmq":"%s","libraries":%s}\n' \
			"$CONSUMERS" "$EPMD_PORT" "$DIST_PORT" \
			"$(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null)" \
			"$("$PY" -c 'import json
from importlib.metadata import version
print(json.dumps({n: version(n) for n in ("oslo.messaging", "pika", "kombu", "amqp")}))')"
	} >"$OUT/topology.json"
}

# consumed NAME SCENARIO: how many of a run's messages its consumer has logged.
consumed() {
	local n
	n=$(grep -c "\"tid\": \"$1-" "$RUN/truth-${CONSUMER[$2]}.jsonl" 2>/dev/null)
	echo "${n:-0}"
}

# load NAME SCENARIO SECONDS REQUESTS: one bounded run against the entry;
# waits until the consumer has taken every message published (15 s at
# most), then appends the run's record to runs.jsonl.
load() {
	local name=$1 sc=$2 secs=$3 reqs=$4 t0 t1 t2 sent
	log "run $name: $CLIENTS clients, GET ${ENTRY_PATH[$sc]}, at most $reqs requests in ${secs}s"
	t0=$(date +%s%N)
	inhost load "$PY" "$TB/models_load.py" --url "http://$(addr entry):8080" --path "${ENTRY_PATH[$sc]}" \
		--clients "$CLIENTS" --requests "$reqs" --duration "$secs" --prefix "$name" \
		--out "$OUT/$name.requests.jsonl" >"$OUT/$name.summary.json" 2>>"$RUN/load.log" &
	LOAD_PID=$!
	at_exit "kill $LOAD_PID" # when the run is interrupted
	wait "$LOAD_PID" || log "run $name: the load generator failed"
	t1=$(date +%s%N)
	sent=$(grep -c '"status": 200' "$OUT/$name.requests.jsonl" 2>/dev/null)
	wait_for "(( \$(consumed $name $sc) >= ${sent:-0} ))" 15 ||
		log "run $name: $(consumed "$name" "$sc") of ${sent:-0} messages consumed"
	t2=$(date +%s%N)
	printf '{"name":"%s","scenario":"%s","clients":%d,"duration_s":%s,"requests_max":%d,"t0":%s,"t1":%s,"load_t1":%s,"consumed":%d,"summary":%s}\n' \
		"$name" "$sc" "$CLIENTS" "$secs" "$reqs" "$t0" "$t2" "$t1" "$(consumed "$name" "$sc")" \
		"$(cat "$OUT/$name.summary.json" || echo null)" >>"$OUT/runs.jsonl"
}

# ---- main ------------------------------------------------------------------------------

ip netns del "$SW" 2>/dev/null
for r in "${ROLES[@]}"; do ip netns del "$(ns "$r")" 2>/dev/null; done
netns_switch "$SW" || die "cannot create the switch namespace"
for r in "${ROLES[@]}"; do
	netns_host "$SW" "$(ns "$r")" "$(addr "$r")" || die "cannot create host $(ns "$r")"
done
at_exit stopped # runs after the processes are signalled, before the namespaces go
mkdir -p "$RUN/server"
start_server "$RUN/server" --retention 1h || die "weft server did not start: $(tail -3 "$RUN/server/server.log")"
echo "$API" >"$OUT/api"
log "starting the servers"
start_broker
start_cache
start_apps
for r in "${ROLES[@]}"; do sensor_start "$r"; done
write_topology
if [[ -n ${PCAP:-} ]]; then
	inhost broker tcpdump -i "h-$(ns broker)" -s0 -U -w "$OUT/broker.pcap" tcp port 5672 2>"$RUN/tcpdump.log" &
	SRV_PID[tcpdump]=$!
	at_exit "kill ${SRV_PID[tcpdump]}"
	wait_for "grep -q listening '$RUN/tcpdump.log'" 10 || die "tcpdump did not start: $(tail -3 "$RUN/tcpdump.log")"
fi

for s in "${SCENARIOS[@]}"; do
	[[ -n ${ENTRY_PATH[$s]:-} ]] || die "no such scenario: $s"
	# Warm-up, not evaluated: the client libraries' connection pools, their
	# channels' first declarations, the reply queue, the kept-alive connections.
	((WARMUP > 0)) && load "w$s" "$s" "$WARMUP" 100000
	load "$s" "$s" "$DURATION" "$REQUESTS"
done
# What the broker had: its queues, bindings and consumers, as the clients
# declared them (the names weft sees on the wire).
{
	echo "# queues: name durable messages consumers"
	rabbitmqctl list_queues name durable messages consumers
	echo "# bindings: source destination routing_key"
	rabbitmqctl list_bindings source_name destination_name routing_key
	echo "# exchanges: name type"
	rabbitmqctl list_exchanges name type
} >"$OUT/broker.txt" 2>&1
sleep 3 # the server writes a trajectory once it has been quiet for --settle
# Stop the tiers so that their logs are complete, then keep them.
for r in entry rpc worker; do kill -TERM "${SRV_PID[$r]}" 2>/dev/null; done
for r in entry rpc worker; do
	wait_for "! kill -0 ${SRV_PID[$r]}" 20 || { log "$r did not stop"; kill -KILL "${SRV_PID[$r]}"; }
done
cp "$RUN"/truth-* "$OUT/"
"$PY" "$TB/evaluate_mq.py" --api "$API" --dir "$OUT" --mode "$mode" || die "evaluation failed"
# KEEP_DB=1: the server's database beside the results, to look into.
[[ -z ${KEEP_DB:-} ]] || sqlite3 "$RUN/server/weft.db" ".backup '$OUT/weft.db'"
log "results in $OUT"

#!/usr/bin/env bash
# Server concurrency models: how well weft links a request to the calls made
# for it when the server in the middle is not thread-per-request.
#
#   testbed/models.sh eval  [--out DIR]   every model, 50 clients, up to 25 s each (about 4 minutes)
#   testbed/models.sh short [--out DIR]   every model, 50 clients, up to 10 s each (about 1 minute)
#
# One run per model, one after the other, on hosts that stay up throughout:
#
#   nginx     nginx, one worker, reverse proxy, upstream keep-alive        -> back
#   haproxy   HAProxy, one thread, HTTP mode, http-reuse safe              -> back
#   node      Node.js, one event loop, Promise.all over a keep-alive Agent -> back, leaf
#   javapool  Java, one NIO reader thread hands requests to 8 workers     -> db, cache
#   go        Go net/http, goroutines, default http.Client                 -> cache, back
#
# and beside them back (testbed/apps/backend.py: Python, thread per
# connection, k Redis calls per request), leaf (the same program, no calls),
# db (PostgreSQL), cache (Redis) and load (testbed/models_load.py, the
# clients). Hosts are network namespaces tm-HOST on one bridge (itself in the
# namespace tm-sw), 10.77.3.0/24; a blackhole route for 10.77.0.0/16 in the
# root namespace keeps anything from leaving the machine. Each host has its
# own `weft sensor --netns`; one `weft server` listens on loopback.
# Everything is torn down on exit, even after a failure.
#
# Every tier logs its ground truth (truth-ROLE.jsonl): per request served,
# the test id, the request and the calls made for it. testbed/evaluate_models.py
# compares weft's trajectories with it: DIR/results.json, DIR/results.md.
#
# Environment: MODELS (which models, default all), CLIENTS (default 50),
# DURATION and REQUESTS (bounds of one run; defaults 25 s / 15000 for eval,
# 10 s / 2500 for short), WARMUP (seconds of warm-up per model, not
# evaluated; default 3, short 2), PYTHON (default /usr/bin/python3).
source "$(dirname "$0")/../tests/lib/tap.sh"
TB=$WEFT_ROOT/testbed
PY=${PYTHON:-/usr/bin/python3}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
ALL_MODELS=(nginx haproxy node javapool go)
ROLES=(load nginx haproxy node javapool go back leaf db cache)
declare -A PORT=([load]=0 [nginx]=80 [haproxy]=80 [node]=3000 [javapool]=8080 [go]=8090
	[back]=8000 [leaf]=8001 [db]=5432 [cache]=6379)
declare -A OCTET=([load]=10 [nginx]=11 [haproxy]=12 [node]=13 [javapool]=14 [go]=15
	[back]=20 [leaf]=21 [db]=30 [cache]=31)
# The path each model's clients ask for; the proxies forward it unchanged.
declare -A ENTRY_PATH=([nginx]=/n/item [haproxy]=/h/item [node]=/node [javapool]=/java [go]=/go)
declare -A SENSOR SRV_PID
SW=tm-sw
APPS=$WEFT_ROOT/build/testbed/models

die() { echo "models: $*" >&2; exit 1; }
log() { echo "models: $*" >&2; }

mode=${1:-}
shift || true
OUT=
while (($#)); do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done
[[ $mode == eval || $mode == short ]] || die "usage: models.sh eval|short [--out DIR]"
if [[ $mode == eval ]]; then
	DURATION=${DURATION:-25} REQUESTS=${REQUESTS:-15000} WARMUP=${WARMUP:-3}
else
	DURATION=${DURATION:-10} REQUESTS=${REQUESTS:-2500} WARMUP=${WARMUP:-2}
fi
CLIENTS=${CLIENTS:-50}
read -ra MODELS <<<"${MODELS:-${ALL_MODELS[*]}}"
OUT=${OUT:-$WEFT_ROOT/build/testbed/models-$mode}
[[ -z $(bpf_unavailable) ]] || die "$(bpf_unavailable)"
[[ -x $WEFT ]] || die "build weft first (make)"
[[ -n $PGBIN ]] || die "PostgreSQL is not installed (scripts/deps.sh test)"
for c in nginx haproxy node go javac java redis-server; do
	command -v "$c" >/dev/null || die "$c is not installed (scripts/deps.sh test)"
done
[[ -r /usr/share/java/postgresql.jar ]] || die "no PostgreSQL JDBC driver (scripts/deps.sh test)"
rm -rf "$OUT" && mkdir -p "$OUT"
chmod 755 "$TMP"
RUN=$TMP/run
mkdir -p "$RUN"

ns() { echo "tm-$1"; }
addr() { echo "10.77.3.${OCTET[$1]}"; }

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
# stops it on exit: PostgreSQL with SIGINT (fast shutdown; SIGTERM would wait
# for its clients to leave), the others with SIGTERM.
declare -A STOP_SIG=([db]=INT)
serve() {
	local role=$1 logf=$2
	shift 2
	inhost "$role" "$@" >"$logf" 2>&1 &
	SRV_PID[$role]=$!
	at_exit "kill -${STOP_SIG[$role]:-TERM} ${SRV_PID[$role]}"
}
# Waits (10 s at most) for every server and sensor to be gone: on exit, the
# namespaces go only after their processes, so that no connection is cut
# half-way and no server waits for a peer that is no longer there.
stopped() {
	local p
	for p in "${SRV_PID[@]}" "${SENSOR[@]}"; do wait_for "! kill -0 $p" 10; done
}

listening() { # ROLE: the server accepts connections on its port
	ip netns exec "$(ns "$1")" bash -c "exec 3<>/dev/tcp/$(addr "$1")/${PORT[$1]}" 2>/dev/null
}

# ---- build -----------------------------------------------------------------------------

build_apps() {
	mkdir -p "$APPS"
	javac -d "$APPS" "$TB/apps/PoolServer.java" || die "javac failed"
	# Standard library only: nothing is downloaded (GOPROXY=off).
	(cd "$TB/apps" && GOCACHE=$WEFT_ROOT/build/testbed/gocache GOPATH=$WEFT_ROOT/build/testbed/gopath \
		GOPROXY=off GOFLAGS='' go build -o "$APPS/gosvc" gosvc.go) || die "go build failed"
}

# ---- servers ---------------------------------------------------------------------------

start_db() {
	local dir=$RUN/pg
	mkdir -p "$dir" && chown postgres: "$dir" && chmod 700 "$dir"
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PGBIN/initdb" -D "$dir/data" -A trust -U postgres >"$RUN/initdb.log" 2>&1 ||
		die "initdb failed: $(tail -3 "$RUN/initdb.log")"
	echo "host all all 10.77.0.0/16 trust" >>"$dir/data/pg_hba.conf"
	serve db "$RUN/postgres.log" setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PGBIN/postgres" -D "$dir/data" -c listen_addresses="$(addr db)" -c unix_socket_directories="$dir" \
		-c fsync=off -c synchronous_commit=off -c max_connections=100
	wait_for "ip netns exec $(ns db) setpriv --reuid=postgres --regid=postgres --init-groups \
		$PGBIN/pg_isready -q -h $dir" 20 || die "PostgreSQL did not start: $(tail -3 "$RUN/postgres.log")"
	local psql=(ip netns exec "$(ns db)" setpriv --reuid=postgres --regid=postgres --init-groups
		"$PGBIN/psql" -q -v ON_ERROR_STOP=1 -h "$dir" -U postgres)
	"${psql[@]}" -c "CREATE ROLE bookstore LOGIN" -c "CREATE DATABASE bookstore OWNER bookstore" \
		>>"$RUN/initdb.log" 2>&1 || die "cannot create the database"
	"${psql[@]}" -d bookstore -f "$TB/conf/schema.sql" >>"$RUN/initdb.log" 2>&1 ||
		die "cannot load the schema: $(tail -3 "$RUN/initdb.log")"
}

start_cache() {
	local a i args=()
	a=$(addr cache)
	serve cache "$RUN/redis.log" redis-server --bind "$a" --port 6379 --save "" --appendonly no \
		--protected-mode no --daemonize no --dir "$RUN"
	wait_for "ip netns exec $(ns cache) redis-cli -h $a ping" 10 || die "Redis did not start"
	for ((i = 1; i <= 1000; i++)); do args+=("item:$i" "item $i"); done
	ip netns exec "$(ns cache)" redis-cli -h "$a" MSET "${args[@]}" >/dev/null
}

start_backends() {
	serve back "$RUN/back.log" "$PY" "$TB/apps/backend.py" --role back --host "$(addr back)" --port 8000 \
		--cache "$(addr cache)" --log "$RUN/truth-back.jsonl"
	serve leaf "$RUN/leaf.log" "$PY" "$TB/apps/backend.py" --role leaf --host "$(addr leaf)" --port 8001 \
		--log "$RUN/truth-leaf.jsonl"
	wait_for "grep -q listening '$RUN/back.log'" 15 || die "back did not start: $(tail -3 "$RUN/back.log")"
	wait_for "grep -q listening '$RUN/leaf.log'" 15 || die "leaf did not start: $(tail -3 "$RUN/leaf.log")"
}

fill() { # TEMPLATE: @...@ filled in for this testbed
	sed -e "s|@RUN@|$RUN/$2|g" -e "s|@LOG@|$RUN/truth-$2.jsonl|g" -e "s|@ADDR@|$(addr "$2")|g" \
		-e "s|@BACK@|$(addr back)|g" "$1"
}

start_nginx() {
	mkdir -p "$RUN/nginx"
	fill "$TB/conf/nginx-models.conf.in" nginx >"$RUN/nginx/nginx.conf"
	serve nginx "$RUN/nginx.log" nginx -e "$RUN/nginx/error.log" -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf"
	wait_for "listening nginx" 10 || die "nginx did not start: $(tail -3 "$RUN/nginx/error.log")"
}

start_haproxy() {
	mkdir -p "$RUN/haproxy"
	fill "$TB/conf/haproxy-models.cfg.in" haproxy >"$RUN/haproxy/haproxy.cfg"
	# -db: in the foreground, the log (stdout) is the ground truth.
	ip netns exec "$(ns haproxy)" haproxy -c -q -f "$RUN/haproxy/haproxy.cfg" >"$RUN/haproxy.log" 2>&1 ||
		die "bad HAProxy configuration: $(tail -3 "$RUN/haproxy.log")"
	inhost haproxy haproxy -db -f "$RUN/haproxy/haproxy.cfg" >"$RUN/truth-haproxy.jsonl" 2>"$RUN/haproxy.log" &
	SRV_PID[haproxy]=$!
	at_exit "kill ${SRV_PID[haproxy]}"
	wait_for "listening haproxy" 10 || die "HAProxy did not start: $(tail -3 "$RUN/haproxy.log")"
}

start_node() {
	serve node "$RUN/node.log" node "$TB/apps/fanout.js" 3000 "http://$(addr back):8000" \
		"http://$(addr leaf):8001" "$RUN/truth-node.jsonl"
	wait_for "grep -q listening '$RUN/node.log'" 15 || die "node did not start: $(tail -3 "$RUN/node.log")"
}

start_javapool() {
	serve javapool "$RUN/javapool.log" java -Xms64m -Xmx256m -XX:+UseSerialGC \
		-cp "$APPS:/usr/share/java/postgresql.jar" PoolServer 8080 "$(addr db)" "$(addr cache)" \
		"$RUN/truth-javapool.jsonl" 8
	wait_for "grep -q listening '$RUN/javapool.log'" 30 || die "javapool did not start: $(tail -3 "$RUN/javapool.log")"
}

start_go() {
	serve go "$RUN/go.log" "$APPS/gosvc" -port 8090 -cache "$(addr cache)" -back "http://$(addr back):8000" \
		-log "$RUN/truth-go.jsonl"
	wait_for "grep -q listening '$RUN/go.log'" 15 || die "go did not start: $(tail -3 "$RUN/go.log")"
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
# resolved: redis-server is a link), port.
write_topology() {
	local r first=1
	{
		printf '{"services":['
		for r in "${ROLES[@]}"; do
			[[ $r == load ]] && continue
			((first)) || printf ','
			first=0
			printf '{"role":"%s","host":"%s","exe":"%s","port":%d}' "$r" "$r" \
				"$(basename "$(readlink "/proc/${SRV_PID[$r]}/exe")")" "${PORT[$r]}"
		done
		printf '],"client":{"role":"load","host":"load","exe":"%s"},"models":{' "$(basename "$(readlink -f "$PY")")"
		first=1
		for r in "${ALL_MODELS[@]}"; do
			((first)) || printf ','
			first=0
			printf '"%s":{"entry":"%s","path":"%s"}' "$r" "$r" "${ENTRY_PATH[$r]}"
		done
		printf '}}\n'
	} >"$OUT/topology.json"
}

# load NAME MODEL SECONDS REQUESTS: one bounded run against a model's entry;
# appends its record to runs.jsonl.
load() {
	local name=$1 model=$2 secs=$3 reqs=$4 t0 t1
	log "run $name: $CLIENTS clients against $model, at most $reqs requests in ${secs}s"
	t0=$(date +%s%N)
	inhost load "$PY" "$TB/models_load.py" --url "http://$(addr "$model"):${PORT[$model]}" \
		--path "${ENTRY_PATH[$model]}" --clients "$CLIENTS" --requests "$reqs" --duration "$secs" \
		--prefix "$name" --out "$OUT/$name.requests.jsonl" >"$OUT/$name.summary.json" 2>>"$RUN/load.log" &
	LOAD_PID=$!
	at_exit "kill $LOAD_PID" # when the run is interrupted
	wait "$LOAD_PID" || log "run $name: the load generator failed"
	t1=$(date +%s%N)
	printf '{"name":"%s","model":"%s","clients":%d,"duration_s":%s,"requests_max":%d,"t0":%s,"t1":%s,"summary":%s}\n' \
		"$name" "$model" "$CLIENTS" "$secs" "$reqs" "$t0" "$t1" "$(cat "$OUT/$name.summary.json" || echo null)" \
		>>"$OUT/runs.jsonl"
}

# ---- main ------------------------------------------------------------------------------

ip netns del "$SW" 2>/dev/null
for r in "${ROLES[@]}"; do ip netns del "$(ns "$r")" 2>/dev/null; done
netns_switch "$SW" || die "cannot create the switch namespace"
for r in "${ROLES[@]}"; do
	netns_host "$SW" "$(ns "$r")" "$(addr "$r")" || die "cannot create host $(ns "$r")"
done
at_exit stopped # runs after the processes are signalled, before the namespaces go
build_apps
mkdir -p "$RUN/server"
start_server "$RUN/server" --retention 1h || die "weft server did not start: $(tail -3 "$RUN/server/server.log")"
echo "$API" >"$OUT/api"
log "starting the servers"
start_db
start_cache
start_backends
start_nginx
start_haproxy
start_node
start_javapool
start_go
for r in "${ROLES[@]}"; do sensor_start "$r"; done
write_topology

for m in "${MODELS[@]}"; do
	[[ -n ${ENTRY_PATH[$m]:-} ]] || die "no such model: $m"
	# Warm-up, not evaluated: the JIT, the pools and the kept-alive connections.
	((WARMUP > 0)) && load "w$m" "$m" "$WARMUP" 100000
	load "$m" "$m" "$DURATION" "$REQUESTS"
done
sleep 3 # the server writes a trajectory once it has been quiet for --settle
# Stop the tiers so that their logs are complete, then keep them.
for r in nginx haproxy node javapool go back leaf; do kill -TERM "${SRV_PID[$r]}" 2>/dev/null; done
for r in nginx haproxy node javapool go back leaf; do wait "${SRV_PID[$r]}" 2>/dev/null; done
cp "$RUN"/truth-* "$OUT/"
"$PY" "$TB/evaluate_models.py" --api "$API" --dir "$OUT" --mode "$mode" || die "evaluation failed"
log "results in $OUT"

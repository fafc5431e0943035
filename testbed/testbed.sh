#!/usr/bin/env bash
# A small data centre on one machine, and the paper's experiments on it.
#
#   testbed/testbed.sh eval  [--out DIR]   every run (about 8 minutes); writes DIR/results.json
#   testbed/testbed.sh short [--out DIR]   one small run: 20 browsers, 20 s
#
# Hosts are network namespaces on one bridge (itself in a namespace of its
# own), 10.77.1.0/24 for the application and 10.77.2.0/24 for its second
# copy; a blackhole route for 10.77.0.0/16 in the root namespace keeps
# anything from leaving the machine. Each host has its own `weft sensor
# --netns`; one `weft server` listens on loopback. Everything (namespaces,
# routes, processes, cgroups) is torn down on exit, even after a failure.
#
#   rbe    browser emulator (testbed/rbe.py)
#   web    Apache httpd, reverse proxy, prefork or worker MPM          :80
#   app    Bookstore.java: JDK HTTP server, thread pool, JDBC, Redis    :8080
#   orders orders.py: Python, thread per connection, psycopg2, Redis    :8000
#   db     PostgreSQL                                                   :5432
#   cache  Redis                                                        :6379
#
# Environment: DURATION (seconds per run, default 30), THINK (mean think
# time, default 7 s), PYTHON (the interpreter with psycopg2, default
# /usr/bin/python3).
source "$(dirname "$0")/../tests/lib/tap.sh"
TB=$WEFT_ROOT/testbed
PY=${PYTHON:-/usr/bin/python3}
DURATION=${DURATION:-30}
THINK=${THINK:-7}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
ROLES=(rbe web app orders db cache)
declare -A PORT=([rbe]=0 [web]=80 [app]=8080 [orders]=8000 [db]=5432 [cache]=6379)
declare -A OCTET=([rbe]=10 [web]=11 [app]=12 [orders]=13 [db]=14 [cache]=15)
declare -A SENSOR    # host -> sensor pid
declare -A SRV_PID   # host -> server pid (Apache: read from its pid file)
SW=tb-sw

die() { echo "testbed: $*" >&2; exit 1; }
log() { echo "testbed: $*" >&2; }

mode=${1:-}
shift || true
OUT=
while (($#)); do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done
[[ $mode == eval || $mode == short ]] || die "usage: testbed.sh eval|short [--out DIR]"
OUT=${OUT:-$WEFT_ROOT/build/testbed/$mode}
[[ -z $(bpf_unavailable) ]] || die "$(bpf_unavailable)"
[[ -x $WEFT ]] || die "build weft first (make)"
[[ -n $PGBIN ]] || die "PostgreSQL is not installed (scripts/deps.sh test)"
$PY -c 'import psycopg2' 2>/dev/null || die "$PY has no psycopg2 (scripts/deps.sh test)"
rm -rf "$OUT" && mkdir -p "$OUT"
chmod 755 "$TMP"
RUN=$TMP/run
mkdir -p "$RUN"

# ---- names -----------------------------------------------------------------------------

# host ROLE TENANT: the host (and namespace) name; tenant a has none appended.
host() { [[ $2 == a ]] && echo "$1" || echo "$1-$2"; }
ns() { echo "tb-$(host "$1" "$2")"; }
addr() { [[ $2 == a ]] && echo "10.77.1.${OCTET[$1]}" || echo "10.77.2.${OCTET[$1]}"; }

# ---- CPU accounting: one cpuacct cgroup per host, one for sensors, one for the server --

CG=/sys/fs/cgroup/cpuacct/weft-testbed
cg_setup() {
	[[ -d /sys/fs/cgroup/cpuacct ]] || { CG=; log "no cpuacct cgroup: CPU per host not measured"; return; }
	cg_teardown
	mkdir -p "$CG" && at_exit cg_teardown
}
cg_teardown() {
	local d i
	for d in "$CG"/*/; do
		[[ -d $d ]] || continue
		for ((i = 0; i < 50; i++)); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
	rmdir "$CG" 2>/dev/null
	return 0
}
cg_dir() { [[ -n $CG ]] && mkdir -p "$CG/$1" && echo "$CG/$1"; }
cg_move() { [[ -n $CG ]] && echo "$2" >"$(cg_dir "$1")/cgroup.procs"; }
# Prints {"name": nanoseconds, ...} for every cgroup.
cg_sample() {
	local d first=1
	printf '{'
	for d in "$CG"/*/; do
		[[ -f $d/cpuacct.usage ]] || continue
		((first)) || printf ','
		first=0
		printf '"%s":%s' "$(basename "$d")" "$(cat "$d/cpuacct.usage")"
	done
	printf '}'
}

# inhost HOST TENANT CMD...: becomes CMD in the host's namespace and cgroup.
# Meant to be started with `&`: the background subshell execs, so $! is the
# server's own pid (cgexec and ip netns exec both exec too).
inhost() {
	local h n
	h=$(host "$1" "$2")
	n=$(ns "$1" "$2")
	shift 2
	if [[ -n $CG ]]; then
		# The cgroup first: ip netns exec mounts a sysfs of the namespace's own.
		exec "$TB/cgexec.sh" "$(cg_dir "$h")" ip netns exec "$n" "$@"
	else
		exec ip netns exec "$n" "$@"
	fi
}

# ---- network ---------------------------------------------------------------------------

net_up() { # TENANT
	local r n
	for r in "${ROLES[@]}"; do
		n=$(ns "$r" "$1")
		ip netns del "$n" 2>/dev/null
		netns_host "$SW" "$n" "$(addr "$r" "$1")" || die "cannot create host $n"
	done
}

# ---- weft ------------------------------------------------------------------------------

sensor_start() { # HOST NETNS
	local h=$1 logf=$RUN/sensor-$1.log
	: >"$logf"
	"$WEFT" sensor --server "$INGEST" --host "$h" --netns "$2" --spool "$RUN/spool-$h" \
		>>"$logf" 2>&1 &
	SENSOR[$h]=$!
	at_exit "kill ${SENSOR[$h]}"
	cg_move sensors "${SENSOR[$h]}"
	wait_for "grep -q 'capturing on' '$logf'" 15 || die "sensor $h did not start: $(tail -3 "$logf")"
}
sensors_on() { # TENANT...
	local t r
	for t in "$@"; do
		for r in "${ROLES[@]}"; do
			[[ -n ${SENSOR[$(host "$r" "$t")]:-} ]] || sensor_start "$(host "$r" "$t")" "$(ns "$r" "$t")"
		done
	done
}
sensors_off() {
	local h
	for h in "${!SENSOR[@]}"; do kill -INT "${SENSOR[$h]}" 2>/dev/null; done
	for h in "${!SENSOR[@]}"; do wait "${SENSOR[$h]}" 2>/dev/null; done
	SENSOR=()
}

# ---- servers ---------------------------------------------------------------------------

start_db() { # TENANT
	local t=$1 dir=$RUN/pg-$1 a
	a=$(addr db "$t")
	mkdir -p "$dir" && chown postgres: "$dir" && chmod 700 "$dir"
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PGBIN/initdb" -D "$dir/data" -A trust -U postgres >"$RUN/initdb-$t.log" 2>&1 ||
		die "initdb failed: $(tail -3 "$RUN/initdb-$t.log")"
	echo "host all all 10.77.0.0/16 trust" >>"$dir/data/pg_hba.conf"
	inhost db "$t" setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PGBIN/postgres" -D "$dir/data" -c listen_addresses="$a" -c unix_socket_directories="$dir" \
		-c fsync=off -c synchronous_commit=off -c max_connections=200 \
		>"$RUN/postgres-$t.log" 2>&1 &
	SRV_PID[$(host db "$t")]=$!
	at_exit "kill ${SRV_PID[$(host db "$t")]}"
	wait_for "ip netns exec $(ns db "$t") setpriv --reuid=postgres --regid=postgres --init-groups \
		$PGBIN/pg_isready -q -h $dir" 20 || die "PostgreSQL did not start: $(tail -3 "$RUN/postgres-$t.log")"
	local psql=(ip netns exec "$(ns db "$t")" setpriv --reuid=postgres --regid=postgres --init-groups
		"$PGBIN/psql" -q -v ON_ERROR_STOP=1 -h "$dir" -U postgres)
	"${psql[@]}" -c "CREATE ROLE bookstore LOGIN" -c "CREATE DATABASE bookstore OWNER bookstore" \
		>>"$RUN/initdb-$t.log" 2>&1 || die "cannot create the database"
	"${psql[@]}" -d bookstore -f "$TB/conf/schema.sql" >>"$RUN/initdb-$t.log" 2>&1 ||
		die "cannot load the schema: $(tail -3 "$RUN/initdb-$t.log")"
}

start_cache() { # TENANT
	local t=$1 a i args=()
	a=$(addr cache "$t")
	inhost cache "$t" redis-server --bind "$a" --port 6379 --save "" --appendonly no \
		--protected-mode no --daemonize no --dir "$RUN" >"$RUN/redis-$t.log" 2>&1 &
	SRV_PID[$(host cache "$t")]=$!
	at_exit "kill ${SRV_PID[$(host cache "$t")]}"
	wait_for "ip netns exec $(ns cache "$t") redis-cli -h $a ping" 10 || die "Redis did not start"
	for ((i = 1; i <= 1000; i++)); do args+=("stock:$i" 1000000 "order:$i" "shipped"); done
	ip netns exec "$(ns cache "$t")" redis-cli -h "$a" MSET "${args[@]}" home:promo "Spring sale" >/dev/null
}

start_orders() { # TENANT
	local t=$1
	inhost orders "$t" "$PY" "$TB/apps/orders.py" --host "$(addr orders "$t")" --port 8000 \
		--db "$(addr db "$t")" --cache "$(addr cache "$t")" --log "$RUN/truth-orders-$t.jsonl" \
		>"$RUN/orders-$t.log" 2>&1 &
	SRV_PID[$(host orders "$t")]=$!
	at_exit "kill ${SRV_PID[$(host orders "$t")]}"
	wait_for "grep -q listening '$RUN/orders-$t.log'" 15 || die "orders tier did not start: $(tail -3 "$RUN/orders-$t.log")"
}

build_app() {
	mkdir -p "$WEFT_ROOT/build/testbed/apps"
	javac -d "$WEFT_ROOT/build/testbed/apps" "$TB/apps/Bookstore.java" || die "javac failed"
}

start_app() { # TENANT
	local t=$1
	inhost app "$t" java -Xms128m -Xmx256m -XX:+UseSerialGC \
		-cp "$WEFT_ROOT/build/testbed/apps:/usr/share/java/postgresql.jar" Bookstore 8080 \
		"$(addr db "$t")" "$(addr cache "$t")" "http://$(addr orders "$t"):8000" \
		"$RUN/truth-app-$t.jsonl" 32 >"$RUN/app-$t.log" 2>&1 &
	SRV_PID[$(host app "$t")]=$!
	at_exit "kill ${SRV_PID[$(host app "$t")]}"
	wait_for "grep -q listening '$RUN/app-$t.log'" 30 || die "bookstore did not start: $(tail -3 "$RUN/app-$t.log")"
}

# Apache: started with setsid (stopping prefork signals its whole process
# group); its pid is the one in its pid file.
start_web() { # TENANT MPM [KEEPALIVE on|off]
	local t=$1 mpm=$2 ka=${3:-off} conf=$RUN/httpd-$1.conf
	mkdir -p "$RUN/web-$t" && chown www-data: "$RUN/web-$t"
	sed -e "s|@MPM@|$mpm|g" -e "s|@KEEPALIVE@|${ka^}|" -e "s|@NAME@|$(host web "$t")|" -e "s|@RUN@|$RUN/web-$t|g" \
		-e "s|@ADDR@|$(addr web "$t")|" -e "s|@LOG@|$RUN/truth-web-$t.log|" \
		-e "s|@APP@|$(addr app "$t")|g" -e "s|@ORDERS@|$(addr orders "$t")|g" \
		"$TB/conf/httpd.conf.in" >"$conf"
	rm -f "$RUN/web-$t/httpd.pid"
	inhost web "$t" setsid apache2 -f "$conf" -DFOREGROUND >>"$RUN/web-$t.log" 2>&1 &
	wait_for "[[ -s $RUN/web-$t/httpd.pid ]]" 15 || die "Apache did not start: $(tail -3 "$RUN/web-$t/error.log")"
	SRV_PID[$(host web "$t")]=$(cat "$RUN/web-$t/httpd.pid")
	at_exit "kill ${SRV_PID[$(host web "$t")]}"
	WEB_MPM[$t]=$mpm
	WEB_KA[$t]=$ka
	sleep 1 # prefork's first children
}
stop_web() { # TENANT
	local pid=${SRV_PID[$(host web "$1")]:-}
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_for "! kill -0 $pid" 15
	unset "SRV_PID[$(host web "$1")]"
}
declare -A WEB_MPM WEB_KA
web_mpm() { # TENANT MPM [KEEPALIVE]: restarts Apache if it runs otherwise
	[[ ${WEB_MPM[$1]:-} == "$2" && ${WEB_KA[$1]:-} == "${3:-off}" ]] && return 0
	stop_web "$1"
	start_web "$1" "$2" "${3:-off}"
}

tenant_up() { # TENANT
	log "starting application copy $1"
	net_up "$1"
	start_db "$1"
	start_cache "$1"
	start_orders "$1"
	start_app "$1"
	start_web "$1" prefork
}

# The services each tenant runs, for the evaluator: host, executable, port.
write_topology() {
	local t r pid first=1
	{
		printf '{"services":['
		for t in "$@"; do
			for r in "${ROLES[@]}"; do
				[[ $r == rbe ]] && continue
				pid=${SRV_PID[$(host "$r" "$t")]}
				((first)) || printf ','
				first=0
				printf '{"tenant":"%s","role":"%s","host":"%s","exe":"%s","port":%d}' "$t" "$r" \
					"$(host "$r" "$t")" "$(basename "$(readlink "/proc/$pid/exe")")" "${PORT[$r]}"
			done
		done
		printf '],"client":{"rbe":"%s"}}\n' "$(basename "$(readlink -f "$PY")")"
	} >"$OUT/topology.json"
}

# ---- runs ------------------------------------------------------------------------------

# Prints {"host": {"rss_kb": N, "hwm_kb": N}, ...} for the sensors and the server.
weft_memory() {
	local h pid
	printf '{'
	for h in "${!SENSOR[@]}" server; do
		pid=${SENSOR[$h]:-}
		[[ $h == server ]] && pid=$SERVER_PID
		printf '"%s":{"rss_kb":%s,"hwm_kb":%s},' "$h" \
			"$(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo null)" \
			"$(awk '/^VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null || echo null)"
	done
	printf '"_":null}'
}

# Prints [busy, total] jiffies of the whole machine (/proc/stat).
machine_sample() {
	awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; t=b+$5+$6; printf "[%d,%d]", b, t}' /proc/stat
}
# Prints how many weft sensors not started here are running: one without
# --netns sees the testbed's traffic too.
foreign_sensors() {
	local p n=0 mine=" ${SENSOR[*]} "
	for p in $(pgrep -f 'weft (sensor|up)'); do
		[[ $mine == *" $p "* ]] || n=$((n + 1))
	done
	echo "$n"
}

# load NAME BROWSERS TENANT...: one bounded closed-loop run against each
# tenant at once; appends its record to runs.jsonl.
load() {
	local name=$1 browsers=$2 t t0 t1 c0 c1 m0 m1 f0 f1 pids=()
	shift 2
	log "run $name: $browsers browsers per copy for ${DURATION}s, web ${WEB_MPM[$1]} (keep-alive ${WEB_KA[$1]}), sensors $([[ ${#SENSOR[@]} -gt 0 ]] && echo on || echo off)"
	sleep 1
	c0=$(cg_sample)
	m0=$(machine_sample)
	f0=$(foreign_sensors)
	t0=$(date +%s%N)
	for t in "$@"; do
		inhost rbe "$t" "$PY" "$TB/rbe.py" --url "http://$(addr web "$t")" --browsers "$browsers" \
			--duration "$DURATION" --think "$THINK" --prefix "$name$t" --seed "$browsers" \
			$([[ ${WEB_KA[$t]} == on ]] && echo --keepalive) \
			--out "$OUT/$name$t.requests.jsonl" >"$OUT/$name$t.summary.json" 2>>"$RUN/rbe.log" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || log "run $name: the emulator failed"; done
	t1=$(date +%s%N)
	c1=$(cg_sample)
	m1=$(machine_sample)
	f1=$(foreign_sensors)
	printf '{"name":"%s","browsers":%d,"tenants":"%s","mpm":"%s","keepalive":%s,"sensors":%s,"duration_s":%s,"think_s":%s,"t0":%s,"t1":%s,"cpu0":%s,"cpu1":%s,"machine0":%s,"machine1":%s,"foreign_sensors":%d,"memory":%s}\n' \
		"$name" "$browsers" "$*" "${WEB_MPM[$1]}" "$([[ ${WEB_KA[$1]} == on ]] && echo true || echo false)" "$([[ ${#SENSOR[@]} -gt 0 ]] && echo true || echo false)" \
		"$DURATION" "$THINK" "$t0" "$t1" "$c0" "$c1" "$m0" "$m1" "$((f0 > f1 ? f0 : f1))" "$(weft_memory)" >>"$OUT/runs.jsonl"
}

# ---- main ------------------------------------------------------------------------------

# 1. The machine's share of it: cgroups, the bridge, the application's hosts.
cg_setup
ip netns del "$SW" 2>/dev/null
netns_switch "$SW" || die "cannot create the switch namespace"
build_app
mkdir -p "$RUN/server"
start_server "$RUN/server" --retention 1h || die "weft server did not start: $(tail -3 "$RUN/server/server.log")"
cg_move server "$SERVER_PID"
echo "$API" >"$OUT/api"
tenant_up a

# 2. Sensors on every host, a warm-up the evaluator ignores: enough requests
# for the JIT to compile the Java tier's paths before anything is measured.
sensors_on a
DURATION=${WARMUP:-20} THINK=0.2 load warm 50 a

if [[ $mode == short ]]; then
	DURATION=${SHORT_DURATION:-20} THINK=1 load s20 20 a
else
	# 3. Accuracy with the thread-per-request web tier (prefork), the paper's
	# overhead loads with the sensors off and on in turn, then the worker MPM
	# and the event MPM with browsers that keep their connections.
	for b in 100 500; do load "p$b" "$b" a; done
	# Off and on alternate, twice at each load: the machine is shared, and one
	# pair alone showed differences of either sign larger than weft's cost.
	for b in 700 900; do
		for rep in 1 2; do
			sensors_off
			DURATION=${OVERHEAD_DURATION:-20} load "off$b-$rep" "$b" a
			sensors_on a
			DURATION=${OVERHEAD_DURATION:-20} load "p$b-$rep" "$b" a
		done
	done
	web_mpm a worker
	for b in 100 500 900; do load "w$b" "$b" a; done
	web_mpm a event on
	load e500 500 a
	# 4. Multi-tenancy: a second copy of the application beside the first.
	web_mpm a prefork
	tenant_up b
	sensors_on b
	load mt 100 a b
fi
write_topology a $([[ $mode == eval ]] && echo b)
sleep 3 # the server writes a trajectory once it has been quiet for --settle
cp "$RUN"/truth-* "$OUT/"
"$PY" "$TB/evaluate.py" --api "$API" --dir "$OUT" --mode "$mode" || die "evaluation failed"
log "results in $OUT"

# Shared by the load generator's integration scripts: the test server and
# reading figures out of weft load's JSON. Source after tests/lib/tap.sh.
SERVER=$WEFT_ROOT/build/load_server

# start_server NAME ARGS...: starts the test server; sets PORT_<NAME> and PID_<NAME>.
start_server() {
	local name=$1 out="$TMP/server-$1.out" pid
	shift
	"$SERVER" "$@" >"$out" 2>&1 &
	pid=$!
	at_exit "kill $pid"
	wait_for "grep -q '^port ' '$out'" 5 || { echo "# test server did not start"; return 1; }
	printf -v "PORT_$name" '%s' "$(awk '/^port /{print $2}' "$out")"
	printf -v "PID_$name" '%s' "$pid"
}

# stop_server NAME: SIGTERM, and waits for it (so its --stats file is written).
stop_server() {
	local pid_var="PID_$1"
	kill -TERM "${!pid_var}" 2>/dev/null
	wait "${!pid_var}" 2>/dev/null
	return 0
}

# jget FILE EXPR: prints a Python expression over the JSON document `j`.
jget() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# jcheck FILE EXPR: succeeds when the expression over `j` is true.
jcheck() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

# within A B FRACTION: |A - B| <= FRACTION * B
within() {
	python3 -c 'import sys; a,b,f=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b) <= f*b else 1)' "$@"
}

# at_least A B: A >= B
at_least() {
	python3 -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if a >= b else 1)' "$@"
}

[[ -x $SERVER && -x $WEFT ]] || skip_all "build/load_server or build/weft missing (make extras)" "load test prerequisites"

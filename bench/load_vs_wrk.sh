#!/usr/bin/env bash
# weft load against wrk: the same nginx on loopback, the same threads and
# connections, run in turn (wrk, weft, wrk, weft, ...). Prints requests/s of
# each run, CPU time per request of each generator (user + system, from the
# shell's accounting of the child), and the weft/wrk ratios.
#   bench/load_vs_wrk.sh [-t THREADS] [-c CONNECTIONS] [-d SECONDS] [-r ROUNDS] [-w NGINX_WORKERS]
set -euo pipefail
cd "$(dirname "$0")/.."

threads=2 conns=100 secs=10 rounds=2 workers=1
while getopts t:c:d:r:w: o; do
	case $o in
	t) threads=$OPTARG ;; c) conns=$OPTARG ;; d) secs=$OPTARG ;;
	r) rounds=$OPTARG ;; w) workers=$OPTARG ;;
	*) exit 2 ;;
	esac
done
for tool in nginx wrk python3; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh test)" >&2; exit 1; }
done
[[ -x build/weft ]] || { echo "bench: build/weft is missing (make)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/weft-bench.XXXXXX)
chmod 755 "$tmp"
nginx_pid=
cleanup() {
	[[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www" "$tmp/logs"
printf 'hello from nginx on loopback: a small static file for a load test\n' >"$tmp/www/index.html"
cat >"$tmp/nginx.conf" <<EOT
worker_processes $workers;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 100000000;
	keepalive_timeout 120s;
	client_body_temp_path $tmp/body;
	proxy_temp_path $tmp/proxy;
	fastcgi_temp_path $tmp/fastcgi;
	uwsgi_temp_path $tmp/uwsgi;
	scgi_temp_path $tmp/scgi;
	server {
		listen 127.0.0.1:$port;
		root $tmp/www;
	}
}
EOT
nginx -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;' 2>"$tmp/logs/stderr" &
nginx_pid=$!
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
	sleep 0.1
done
url=http://127.0.0.1:$port/index.html

# cpu_of FILE COMMAND...: runs it and writes "user sys" seconds of its children to FILE.
cpu_of() {
	local file=$1
	shift
	local TIMEFORMAT='%U %S'
	{ time "$@" >"$file.out" 2>"$file.err"; } 2>"$file"
}

echo "nginx $(nginx -v 2>&1 | sed 's/.*\///'), $workers worker(s); wrk and weft load -t$threads -c$conns -d${secs}s; $(nproc) cores"
printf '%-6s %-5s %12s %12s %14s\n' round tool requests req/s "cpu us/req"
declare -a wrk_rps weft_rps wrk_cpu weft_cpu
for ((r = 1; r <= rounds; r++)); do
	cpu_of "$tmp/wrk" wrk -t"$threads" -c"$conns" -d"${secs}s" "$url"
	n=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
	rps=$(awk '/^Requests\/sec/ {print $2}' "$tmp/wrk.out")
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/wrk.out")
	cpu=$(awk -v n="$n" '{printf "%.2f", ($1 + $2) * 1e6 / n}' "$tmp/wrk")
	printf '%-6s %-5s %12s %12.0f %14s %s\n' "$r" wrk "$n" "$rps" "$cpu" "${non2xx:+non-2xx $non2xx}"
	wrk_rps+=("$rps") wrk_cpu+=("$cpu")

	cpu_of "$tmp/weft" build/weft load -q -t"$threads" -c"$conns" -d"${secs}s" --json "$tmp/weft.json" "$url"
	read -r n rps errs < <(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["requests"], j["rps"], j["errors"]["total"])' "$tmp/weft.json")
	cpu=$(awk -v n="$n" '{printf "%.2f", ($1 + $2) * 1e6 / n}' "$tmp/weft")
	printf '%-6s %-5s %12s %12.0f %14s %s\n' "$r" weft "$n" "$rps" "$cpu" "$( ((errs)) && echo "errors $errs")"
	weft_rps+=("$rps") weft_cpu+=("$cpu")
done
python3 - "${wrk_rps[*]}" "${weft_rps[*]}" "${wrk_cpu[*]}" "${weft_cpu[*]}" <<'EOT'
import sys
wr, fr, wc, fc = ([float(x) for x in a.split()] for a in sys.argv[1:5])
m = lambda v: sum(v) / len(v)
print(f"mean req/s: wrk {m(wr):.0f}, weft {m(fr):.0f}; ratio weft/wrk {m(fr) / m(wr):.3f}")
print(f"mean cpu/request: wrk {m(wc):.2f} us, weft {m(fc):.2f} us; ratio weft/wrk {m(fc) / m(wc):.3f}")
EOT

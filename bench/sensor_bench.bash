# Sourced by the sensor benchmarks.

# nginx_small_file DIR PORT starts nginx (one worker, no access log) serving a
# 1 KiB file, DIR/index.html, on 127.0.0.1:PORT; its master's pid is in
# DIR/nginx.pid.
nginx_small_file() {
	local dir=$1 port=$2
	head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$dir/index.html"
	cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	server { listen 127.0.0.1:$port; root $dir; }
}
CONF
	nginx -c "$dir/nginx.conf"
	sleep 0.5
}

# sensor_start ERRFILE COMMAND...: starts the sensor in the background, its
# stderr to ERRFILE, and waits until it captures; its pid is left in $spid.
# Exits with the sensor's message if it stops before.
sensor_start() {
	local err=$1
	shift
	"$@" >/dev/null 2>"$err" &
	spid=$!
	until grep -q 'capturing on' "$err"; do
		kill -0 "$spid" 2>/dev/null || { cat "$err" >&2; exit 1; }
		sleep 0.1
	done
}

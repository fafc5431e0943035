#!/usr/bin/env bash
# HTTPS named like HTTP: nginx from Debian with a self-signed certificate,
# a Python client on one keep-alive connection, both using the system's
# libssl, whose plaintext the sensor reads with uprobes. The trajectories
# have each request's method, path and status, client and server matched;
# the TLS handshake is no span. With --no-tls the same requests are still
# matched but not named, which shows the check can fail.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools
checks=("tls: requests named from plaintext" "tls: statuses from plaintext" "tls: client and server matched"
	"tls: no handshake span" "tls: --no-tls leaves them unnamed")
reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${checks[@]}"
command -v nginx >/dev/null || skip_all "nginx is not installed (scripts/deps.sh test)" "${checks[@]}"
command -v openssl >/dev/null || skip_all "openssl is not installed (scripts/deps.sh test)" "${checks[@]}"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 || { fail "certificate made"; exit 0; }

# start_nginx PORT: nginx serving HTTPS on loopback, / 200 and /missing 404.
start_nginx() {
	local port=$1 dir=$TMP/nginx-$1
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
	uwsgi_temp_path $dir; scgi_temp_path $dir;
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $TMP/cert.pem;
		ssl_certificate_key $TMP/key.pem;
		location /tls/ok { return 200 "fine\n"; }
		location / { return 404; }
	}
}
CONF
	nginx -c "$dir/nginx.conf" -e "$dir/error.log" &
	at_exit "kill $!"
	wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $port), 1)' 2>/dev/null" 10
}

# spans_of PORT: the spans to PORT, one a line:
# "request|status|client observed|server observed".
spans_of() {
	curl -sf "$API/api/trajectories?limit=50" | python3 -c '
import json, sys, urllib.request
api, port = sys.argv[1], int(sys.argv[2])
for t in json.load(sys.stdin)["trajectories"]:
    d = json.load(urllib.request.urlopen("%s/api/trajectories/%s" % (api, t["id"])))
    for s in d["spans"]:
        if (s.get("server") or {}).get("port") == port or s.get("port") == port:
            print("%s|%s|%s|%s" % (s.get("request") or "", s.get("status") or 0,
                                   "yes" if s.get("client") else "no", "yes" if s.get("server") else "no"))
' "$API" "$1"
}

# run DIR [SENSOR OPTIONS...]: server, sensor, nginx, the client; the spans
# between the client and nginx into DIR/spans.
run() {
	local dir=$1
	shift
	mkdir -p "$dir"
	start_server "$dir" || return 1
	local port
	port=$(free_port)
	# Messages of this port only: the machine may carry other traffic.
	ship_sensor "tls-$(basename "$dir")" --port "$port" "$@" || return 1
	start_nginx "$port"
	python3 "$TOOLS/https_client.py" 127.0.0.1 "$port" /tls/ok /tls/missing /tls/ok?again \
		>"$dir/client.out" 2>&1 || { echo "# client: $(cat "$dir/client.out")"; return 1; }
	# The sensor's batch, then the server's settle time: a busy machine
	# takes longer, so wait (bounded) for the three exchanges.
	local i
	for i in $(seq 1 40); do
		spans_of "$port" >"$dir/spans"
		[[ $(wc -l <"$dir/spans") -ge 3 ]] && break
		sleep 0.5
	done
	sleep 1 # and a later version of any of them
	spans_of "$port" >"$dir/spans"
	kill "$SENSOR_PID" "$SERVER_PID" 2>/dev/null
	wait "$SENSOR_PID" "$SERVER_PID" 2>/dev/null
}

if ! run "$TMP/a"; then
	fail "started" "$(tail -5 "$TMP"/a/*.log "$TMP"/sensor-tls-a.log)"
	exit 0
fi
spans=$(sort "$TMP/a/spans")
echo "$spans" | sed 's/^/# /'
if grep -q '^GET /tls/ok|' <<<"$spans" && grep -q '^GET /tls/missing|' <<<"$spans" &&
	grep -q '^GET /tls/ok?again|' <<<"$spans"; then
	ok "tls: requests named from plaintext"
else
	fail "tls: requests named from plaintext"
fi
if grep -q '^GET /tls/ok|200|' <<<"$spans" && grep -q '^GET /tls/missing|404|' <<<"$spans"; then
	ok "tls: statuses from plaintext"
else
	fail "tls: statuses from plaintext"
fi
if [[ $(grep -c '^GET /tls/.*|yes|yes$' <<<"$spans") == 3 ]]; then
	ok "tls: client and server matched"
else
	fail "tls: client and server matched"
fi
if [[ $(wc -l <<<"$spans") == 3 ]]; then ok "tls: no handshake span"; else fail "tls: no handshake span"; fi

if run "$TMP/b" --no-tls && ! grep -q '^GET ' "$TMP/b/spans" && [[ -s $TMP/b/spans ]]; then
	ok "tls: --no-tls leaves them unnamed"
else
	fail "tls: --no-tls leaves them unnamed" "$(cat "$TMP/b/spans" 2>/dev/null)"
fi

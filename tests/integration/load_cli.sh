#!/usr/bin/env bash
# weft load's command line: clear one-line errors, the JSON document, framing.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/load_lib.bash"

# expect_error NAME PATTERN ARGS...: non-zero exit, one line on stderr matching PATTERN.
expect_error() {
	local name=$1 pattern=$2 rc
	shift 2
	"$WEFT" load -q "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if ((rc != 0)) && [[ $(wc -l <"$TMP/err") -eq 1 ]] && grep -q -- "$pattern" "$TMP/err"; then
		ok "$name"
	else
		fail "$name" "rc=$rc" "stderr: $(cat "$TMP/err")"
	fi
}

start_server s --delay-ms 1 || skip_all "no test server" cli
url=http://127.0.0.1:$PORT_s

expect_error "bad URL is one error line" "not an http:// URL" ftp://127.0.0.1/
expect_error "https is refused clearly" "https is not supported" https://127.0.0.1/
expect_error "bad port in URL" "bad host or port" http://127.0.0.1:99999/
expect_error "unresolvable host" "cannot resolve host 'no-such-host.invalid'" http://no-such-host.invalid/
expect_error "refused connection at start" "cannot connect to 127.0.0.1 port 1: Connection refused" http://127.0.0.1:1/
printf 'GET /a\n\n# comment\nFETCH /b\n' >"$TMP/bad1.txt"
expect_error "unknown method names its line" "bad1.txt:4: unknown method 'FETCH'" --uris "$TMP/bad1.txt" "$url"
printf 'GET /a weight=0\n' >"$TMP/bad2.txt"
expect_error "bad weight names its line" "bad2.txt:1: weight must be" --uris "$TMP/bad2.txt" "$url"
printf 'GET /a\nPOST /b body="unterminated\n' >"$TMP/bad3.txt"
expect_error "unterminated quote names its line" "bad3.txt:2: unterminated quote" --uris "$TMP/bad3.txt" "$url"
printf 'GET /a\n' >"$TMP/paths.txt"
expect_error "paths without a target" "give the target as a URL" --uris "$TMP/paths.txt"
expect_error "missing URI file" "nope.txt: No such file" --uris "$TMP/nope.txt" "$url"
expect_error "bad option value" "threads '0'" -t 0 "$url"
expect_error "think time is for the closed loop" "think is for the closed loop" --rate 10 --think 5ms "$url"

# A bounded run by count, with JSON: every top-level figure is there.
if "$WEFT" load -q -t2 -c4 -n 500 --json "$TMP/n.json" "$url/" >"$TMP/out" 2>"$TMP/err"; then
	check "request count is exact" [ "$(jget "$TMP/n.json" "j['requests']")" = 500 ]
	check "json has every top-level figure" jcheck "$TMP/n.json" \
		"all(k in j for k in ('requests','errors','duration_s','rps','latency_ms','per_uri','series')) and all(k in j['latency_ms'] for k in ('mean','p50','p90','p99','p999','max')) and j['errors']['total'] == 0"
	check "summary table printed" grep -q 'p99.99' "$TMP/out"
else
	fail "request count is exact" "$(cat "$TMP/err")"
fi

# Options after the URL, as wrk users type them, and a URI file of bare paths.
printf '/delay/0\n/chunked weight=2\n' >"$TMP/bare.uris"
if "$WEFT" load "$url" -q -t2 -c4 -n 300 --uris "$TMP/bare.uris" --json "$TMP/o.json" \
	>/dev/null 2>"$TMP/err"; then
	check "options after the URL; bare paths are GETs" jcheck "$TMP/o.json" \
		"j['requests'] == 300 and j['errors']['total'] == 0 and len(j['per_uri']) == 2 and all(u['method'] == 'GET' for u in j['per_uri'])"
else
	fail "options after the URL; bare paths are GETs" "$(cat "$TMP/err")"
fi

# A 3-second run has a per-second series.
"$WEFT" load -q -t1 -c2 -d3s --json "$TMP/s.json" "$url/" >/dev/null 2>&1
check "series has one entry a second" [ "$(jget "$TMP/s.json" "len(j['series'])")" = 3 ]
check "series sums to the total" jcheck "$TMP/s.json" \
	"sum(s['requests'] for s in j['series']) == j['requests']"

# Framing: chunked responses, POST bodies, headers, no keep-alive.
cat >"$TMP/mix.txt" <<EOT
GET /chunked
POST /delay/0 header="Content-Type: application/json" body='{"a": 1}'
PUT /delay/0 body="x y z"
DELETE /delay/0 header="X-Test: yes"
EOT
"$WEFT" load -q -t1 -c2 -n 400 --uris "$TMP/mix.txt" --json "$TMP/m.json" "$url" >/dev/null 2>&1
check "chunked, POST, PUT, DELETE all succeed" jcheck "$TMP/m.json" \
	"j['requests'] == 400 and j['errors']['total'] == 0 and all(u['requests'] > 50 for u in j['per_uri'])"
"$WEFT" load -q -t2 -c4 -d1s --no-keepalive --json "$TMP/k.json" "$url/delay/0" >/dev/null 2>&1
check "no keep-alive: a connection per request" jcheck "$TMP/k.json" \
	"j['requests'] > 100 and j['errors']['total'] == 0"

# The progress line appears on a terminal only: not in this redirected run,
# but under a pseudo-terminal (script(1)) it shows rate, p99, errors, time left.
check "no progress line when stderr is not a terminal" [ ! -s "$TMP/err" ]
if command -v script >/dev/null; then
	script -qc "'$WEFT' load -t1 -c2 -d2s '$url/'" /dev/null >"$TMP/tty" 2>&1
	check "progress line on a terminal" grep -qE 'req/s +p99 +[0-9.]+ ms +errors 0 +1s left' "$TMP/tty"
else
	skip "progress line on a terminal" "script(1) is missing"
fi

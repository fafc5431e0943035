#!/usr/bin/env bash
# The query commands (weft map, traces, trace) against a real API serving a
# database of synthetic trajectories (build/store_fill). No root needed.
source "$(dirname "$0")/../lib/tap.sh"

FILL=$WEFT_ROOT/build/store_fill
checks=(map-table map-dot map-json traces traces-errors traces-application trace-waterfall
	trace-unknown unreachable bad-option)
[[ -x $FILL && -x $WEFT ]] || skip_all "build/store_fill not built (make test builds it)" "${checks[@]}"

"$FILL" fill "$TMP/weft.db" 3000 2>/dev/null || { fail "fill"; exit 0; }
port=$(free_port)
"$FILL" serve "$TMP/weft.db" "$port" &
at_exit "kill $!"
wait_for "curl -fs http://127.0.0.1:$port/api/health" 5
api=(--api "127.0.0.1:$port")

out=$("$WEFT" map "${api[@]}")
if grep -q '^application load (app-0000000000001000)' <<<"$out" &&
	grep -Eq '^  nginx +postgres +5432 ' <<<"$out" && [[ $(grep -c '^application' <<<"$out") == 3 ]]; then
	ok "map-table"
else
	fail "map-table" "$out"
fi

out=$("$WEFT" map "${api[@]}" --format dot)
if [[ $(grep -c 'subgraph "cluster_app-' <<<"$out") == 3 ]] && grep -q -- '-> "0000000000001002"' <<<"$out"; then
	ok "map-dot"
else
	fail "map-dot" "$out"
fi

if "$WEFT" map "${api[@]}" -f json --window 1h |
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["applications"]) == 3; assert all(e["calls"] > 0 for e in d["edges"])'; then
	ok "map-json"
else
	fail "map-json"
fi

out=$("$WEFT" traces "${api[@]}" --limit 5)
rows=$(grep -c '^[0-9a-f]\{16\} ' <<<"$out")
if [[ $rows == 5 ]] && grep -q '^5 shown of' <<<"$out"; then ok "traces"; else fail "traces" "$out"; fi

out=$("$WEFT" traces "${api[@]}" --errors --min-ms 1 --limit 1000)
if grep -q '^[0-9a-f]\{16\} ' <<<"$out" && ! grep '^[0-9a-f]\{16\} ' <<<"$out" | grep -vq ' !  '; then
	ok "traces-errors"
else
	fail "traces-errors" "$out"
fi

# store_fill puts trajectory id i+1 in application i % 3: app-...2000 holds ids = 2 (mod 3)
out=$("$WEFT" traces "${api[@]}" --application app-0000000000002000 --limit 1000)
ids=$(grep -o '^[0-9a-f]\{16\} ' <<<"$out")
if [[ -n $ids ]] && ! while read -r x; do (((16#$x) % 3 == 2)) || echo bad; done <<<"$ids" | grep -q bad; then
	ok "traces-application"
else
	fail "traces-application" "$out"
fi

id=$("$WEFT" traces "${api[@]}" --limit 1 | awk 'NR == 2 { print $1 }')
out=$("$WEFT" trace "${api[@]}" "$id")
if grep -q "^trajectory $id" <<<"$out" && grep -q '<- slowest' <<<"$out" &&
	grep -Eq '^ +[0-9.]+ \|.*\|   nginx -> postgres' <<<"$out"; then
	ok "trace-waterfall"
else
	fail "trace-waterfall" "$out"
fi

out=$("$WEFT" trace "${api[@]}" 00000000deadbeef 2>&1)
rc=$?
if [[ $rc == 1 ]] && grep -q 'no such trajectory' <<<"$out"; then ok "trace-unknown"; else fail "trace-unknown" "rc=$rc $out"; fi

"$WEFT" map --api 127.0.0.1:1 >/dev/null 2>&1
rc=$?
if [[ $rc == 1 ]]; then ok "unreachable"; else fail "unreachable" "rc=$rc"; fi

"$WEFT" traces --limit 0 >/dev/null 2>&1
rc=$?
if [[ $rc == 2 ]]; then ok "bad-option"; else fail "bad-option" "rc=$rc"; fi

#!/usr/bin/env bash
# A full disk under the server: its database sits on a small file system
# that fills up while a sensor sends batches. Commits fail; no batch the
# server acknowledged may be missing from the database, /api/health says the
# server is degraded, and once space is back everything the sensor sent is
# stored and acknowledged.
source "$(dirname "$0")/../lib/tap.sh"
TOOLS=$WEFT_ROOT/tests/tools

checks=("disk full: commits fail and health says so" "disk full: every acknowledged batch is stored"
	"disk full: space back, every batch stored" "disk full: health recovers")
[[ $EUID -eq 0 ]] || skip_all "needs root (mounts a small file system)" "${checks[@]}"

small=$TMP/small
mkdir -p "$small"
mount -t tmpfs -o size=6m tmpfs "$small" || skip_all "cannot mount a tmpfs" "${checks[@]}"
at_exit "umount -l '$small'"
start_server "$small" --keep-events || { fail "server started" "$(tail -5 "$small/server.log")"; exit 0; }
db=$small/weft.db
# Leave the database about 300 KiB to grow into.
avail=$(($(stat -f -c '%a*%S' "$small")))
dd if=/dev/zero of="$small/filler" bs=1024 count=$((avail / 1024 - 300)) status=none

stored() { # the batches of sensor ID in the journal
	sqlite3 "file:$db?mode=ro" "SELECT seq FROM journal WHERE sensor = '$1' ORDER BY seq" 2>/dev/null
}
missing() { # acknowledged batches (file $1) not in the journal of sensor $2
	comm -23 <(sort -n "$1" | uniq | sort) <(stored "$2" | sort)
}

# 1. Batches until the disk is full and for a few seconds more.
python3 "$TOOLS/wire_sensor.py" --server "$INGEST" --id full --batches 3000 --bytes 2048 \
	--seconds 6 --acked "$TMP/acked" >"$TMP/run1.json"
health=$(curl -s "$API/api/health")
if grep -q '"status": *"degraded"' <<<"$health" && grep -q 'commit failed' <<<"$health" &&
	grep -q 'commit failed' "$small/server.log"; then
	ok "disk full: commits fail and health says so ($(grep -c 'commit failed' "$small/server.log") failed commits)"
else
	fail "disk full: commits fail and health says so" "$health" "$(cat "$TMP/run1.json")"
fi
touch "$TMP/acked"
lost=$(missing "$TMP/acked" full)
if [[ -s $TMP/acked && -z $lost ]]; then
	ok "disk full: every acknowledged batch is stored ($(wc -l <"$TMP/acked") acknowledged)"
else
	fail "disk full: every acknowledged batch is stored" "acknowledged but not stored: $(echo $lost | head -c 300)"
fi

# 2. Space comes back: the same sensor sends what is missing.
rm -f "$small/filler"
python3 "$TOOLS/wire_sensor.py" --server "$INGEST" --id full --batches 600 --bytes 2048 \
	--seconds 30 --acked "$TMP/acked" >"$TMP/run2.json"
n=$(stored full | wc -l)
lost=$(missing "$TMP/acked" full)
if grep -q '"complete": true' "$TMP/run2.json" && ((n >= 600)) && [[ -z $lost ]]; then
	ok "disk full: space back, every batch stored ($n batches)"
else
	fail "disk full: space back, every batch stored" "$(cat "$TMP/run2.json"), $n stored" \
		"acknowledged but not stored: $(echo $lost | head -c 300)"
fi
wait_for "curl -s '$API/api/health' | grep -q '\"status\": *\"ok\"'" 10
health=$(curl -s "$API/api/health")
if grep -q '"status": *"ok"' <<<"$health" && ! grep -q '"store": *"commit' <<<"$health"; then
	ok "disk full: health recovers"
else
	fail "disk full: health recovers" "$health"
fi

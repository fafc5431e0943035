# A two-tier shop for the Autoprofiler's tests and benchmark: three hosts in
# network namespaces on one bridge (a client, a web tier running
# tests/tools/shop.py, a database running Redis), a weft server inside the
# client's namespace and one sensor per tier host. Everything the profiler
# does (load, API calls) happens inside the client namespace. Source after
# tests/lib/tap.sh.
#
# shop_bed PREFIX SUBNET [SHOP_OPTIONS...]: SUBNET is the third octet in
# 10.77.SUBNET.0/24. Sets CLI, WEB, DB (namespace names), API (host:port of
# the server's API, reachable inside $CLI), WEB_ADDR.
shop_bed() {
	local pre=$1 net=$2
	shift 2
	SW=${pre}sw CLI=${pre}c WEB=${pre}w DB=${pre}d
	WEB_ADDR=10.77.$net.2
	netns_switch "$SW" && netns_host "$SW" "$CLI" "10.77.$net.1" &&
		netns_host "$SW" "$WEB" "$WEB_ADDR" && netns_host "$SW" "$DB" "10.77.$net.3" || return 1
	# Whatever runs in a namespace goes with it (the shop forks workers).
	for ns in "$CLI" "$WEB" "$DB"; do
		at_exit "ip netns pids $ns | xargs -r kill -9"
	done
	ip netns exec "$DB" redis-server --port 6379 --bind 0.0.0.0 --save '' --appendonly no \
		--protected-mode no --daemonize no >"$TMP/redis.log" 2>&1 &
	wait_for "ip netns exec $DB redis-cli -p 6379 ping | grep -q PONG" 10 || return 1
	ip netns exec "$DB" redis-cli -p 6379 mset item:1 book item:2 pen >/dev/null
	ip netns exec "$WEB" python3 "$WEFT_ROOT/tests/tools/shop.py" --port 8080 \
		--redis "10.77.$net.3:6379" "$@" >"$TMP/shop.log" 2>&1 &
	wait_for "grep -q listening '$TMP/shop.log'" 10 || return 1
	local hp=7070 ip=7071
	API=127.0.0.1:$hp
	ip netns exec "$CLI" "$WEFT" server --db "$TMP/weft.db" --http "$API" \
		--listen "127.0.0.1:$ip" >"$TMP/server.log" 2>&1 &
	wait_for "ip netns exec $CLI curl -sf http://$API/api/health" 10 || return 1
	for tier in web:"$WEB" db:"$DB"; do
		ip netns exec "$CLI" "$WEFT" sensor --server "127.0.0.1:$ip" --host "${tier%%:*}1" \
			--netns "${tier#*:}" --spool "$TMP/spool-${tier%%:*}" \
			>"$TMP/sensor-${tier%%:*}.log" 2>&1 &
		wait_for "grep -q 'connected to server' '$TMP/sensor-${tier%%:*}.log'" 10 || return 1
	done
}

# shop_spec FILE USERS_ADDR: a specification of one transaction through the shop.
shop_spec() {
	local file=$1 dir
	dir=$(dirname "$file")
	echo 'GET /item' >"$dir/item.uris"
	cat >"$file" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE services SYSTEM "services.dtd">
<services>
  <TransInfo>
    <Name>Item</Name>
    <WebInterface><url>$WEB_ADDR</url><port>8080</port><uriInfoFile>item.uris</uriInfoFile></WebInterface>
    <NodesInfo><nativeNode><Node>web1</Node><Process>weft-shop</Process></nativeNode></NodesInfo>
    <NodesInfo><nativeNode><Node>db1</Node><Process>redis-server</Process></nativeNode></NodesInfo>
  </TransInfo>
</services>
XML
}

#!/usr/bin/env bash
# The testbed's short run: the whole data centre (Apache prefork, the Java
# and Python application tiers, PostgreSQL, Redis, one sensor per host, one
# server), 20 emulated browsers for 20 seconds; every request's trajectory
# must have exactly the ground truth's tree and the map exactly the
# topology's edges.
source "$(dirname "$0")/../lib/tap.sh"

checks=("testbed ran" "every request has a test id in the ground truth" "accuracy 100% on every transaction type"
	"every page answered 200" "map: no missing edge" "map: no extra edge")
reason=$(bpf_unavailable)
[[ -z $reason ]] || skip_all "$reason" "${checks[@]}"
for c in apache2 java javac redis-server; do
	command -v "$c" >/dev/null || skip_all "$c not installed (scripts/deps.sh test)" "${checks[@]}"
done

out=$TMP/short
if ! "$WEFT_ROOT/testbed/testbed.sh" short --out "$out" >"$TMP/testbed.log" 2>&1; then
	fail "testbed ran" "$(tail -n 12 "$TMP/testbed.log")"
	exit 0
fi
ok "testbed ran"

python3 - "$out/results.json" <<'EOF'
import json, sys
R = json.load(open(sys.argv[1]))
run = [r for r in R["runs"] if r["name"] == "s20"][0]
ev = run["eval"]["tenants"]["a"]
per = ev["per_tx"]
def tap(name, good, detail=""):
    print("%s - %s" % ("ok" if good else "not ok", name))
    if not good:
        print("#   " + str(detail)[:600])
a = per.get("all", {})
tap("every request has a test id in the ground truth", a.get("total", 0) > 100 and not a.get("no_truth"),
    a)
tap("accuracy 100% on every transaction type",
    all(c["right"] == c["total"] for c in per.values()) and len(per) == 6,
    {tx: c for tx, c in per.items()} | {"examples": ev["examples"]})
s = run["summary"]
tap("every page answered 200", s.get("errors") == 0 and s.get("ok", 0) > 0, s)
tap("map: no missing edge", not ev["map"]["missing"], ev["map"])
tap("map: no extra edge", not ev["map"]["extra"], ev["map"])
EOF

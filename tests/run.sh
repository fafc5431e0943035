#!/usr/bin/env bash
# Runs every unit test binary and integration script, each speaking TAP
# ("ok - name", "not ok - name", "ok - name # SKIP reason"), and ends with
# "N passed, N failed, N skipped". Skips are failures when CI=true: a check
# that did not run has not passed.
#   tests/run.sh [PATTERN]   only tests whose file name contains PATTERN
set -uo pipefail
cd "$(dirname "$0")/.."

pattern=${1:-}
passed=0 failed=0 skipped=0
failures=()
logdir=build/test-logs
mkdir -p "$logdir"

run_one() { # name, command...
	local name=$1 log="$logdir/$1.log" rc
	shift
	printf '== %s\n' "$name"
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$log" 2>&1
	rc=$?
	local p=0 f=0 s=0 line
	while IFS= read -r line; do
		case $line in
		"not ok"*) f=$((f + 1)); failures+=("$name: ${line#not ok }"); echo "   $line" ;;
		"ok"*"# SKIP"* | "ok"*"# skip"*) s=$((s + 1)); echo "   $line" ;;
		"ok"*) p=$((p + 1)) ;;
		esac
	done <"$log"
	if ((rc != 0 && f == 0)); then
		f=1
		failures+=("$name: exited with status $rc (see $log)")
		echo "   exited with status $rc; last lines of $log:"
		tail -n 15 "$log" | sed 's/^/   | /'
	elif ((f)); then
		grep -v '^ok' "$log" | tail -n 30 | sed 's/^/   | /'
	fi
	printf '   %d passed, %d failed, %d skipped\n' "$p" "$f" "$s"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

for bin in build/tests/test_*; do
	[[ -x $bin && $bin == *"$pattern"* ]] || continue
	run_one "$(basename "$bin")" "$bin"
done
for script in tests/integration/*.sh; do
	[[ -f $script && $script == *"$pattern"* ]] || continue
	run_one "$(basename "$script" .sh)" bash "$script"
done

echo
if ((${#failures[@]})); then
	echo "Failures:"
	printf '  %s\n' "${failures[@]}"
fi
if [[ ${CI:-} == true ]] && ((skipped > 0)); then
	echo "CI=true: $skipped skipped checks count as failures (they need root and BPF here)."
	failed=$((failed + skipped))
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))

# Helpers for integration scripts: TAP output, prerequisites, cleanup.
# Source it; every script gets `ok`, `fail`, `check`, `skip_all`, `need_root_bpf`.
set -uo pipefail
WEFT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WEFT=$WEFT_ROOT/build/weft
TMP=$(mktemp -d /tmp/weft-test.XXXXXX)
_cleanups=()

# Runs registered cleanups in reverse order on any exit, even after a failure.
at_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" >/dev/null 2>&1; done
	rm -rf "$TMP"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $*"; }
fail() { echo "not ok - $1"; shift; [[ $# -gt 0 ]] && printf '#   %s\n' "$@"; return 0; }
skip() { echo "ok - $1 # SKIP $2"; }
# check NAME COMMAND...: ok when the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "command failed: $*"; fi
}
# Every named check is reported skipped with the reason, then the script ends.
skip_all() {
	local reason=$1 name
	shift
	for name in "$@"; do skip "$name" "$reason"; done
	exit 0
}
# Prints why BPF capture cannot run here, or nothing when it can.
bpf_unavailable() {
	[[ $EUID -eq 0 ]] || { echo "needs root"; return; }
	[[ -r /sys/kernel/btf/vmlinux ]] || { echo "kernel has no BTF"; return; }
	[[ -d /sys/kernel/tracing/events/sock || -d /sys/kernel/debug/tracing/events/sock ]] ||
		{ echo "no sock tracepoints (tracefs not mounted?)"; return; }
}
# Waits up to $2 seconds (default 5) for a command to succeed.
wait_for() {
	local cmd=$1 t=${2:-5} i
	for ((i = 0; i < t * 20; i++)); do eval "$cmd" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

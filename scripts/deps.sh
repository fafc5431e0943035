#!/usr/bin/env bash
# Installs every build, run and test dependency of weft from Debian packages,
# and the dashboard's npm packages from web/package-lock.json. Idempotent:
# what is present is not touched, so `make` can call it every time cheaply.
# Packages are installed as root, or through sudo for a user who has it.
set -euo pipefail

BUILD_PKGS=(
	make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
	libsqlite3-dev libmicrohttpd-dev libjson-c-dev libxml2-dev libxml2-utils
	libcmocka-dev uthash-dev libcurl4-openssl-dev
)
RUN_PKGS=(iproute2 iptables procps)
TEST_PKGS=(
	python3 curl openssl nginx-light wrk apache2 postgresql redis-server
	default-jdk-headless libpostgresql-jdbc-java python3-psycopg2 sqlite3
	chromium clang-format haproxy golang-go prometheus
	rabbitmq-server python3-oslo.messaging python3-pika
)
# The dashboard is bundled with npm at build time (run and test). Node.js may
# come from elsewhere than Debian (a newer npm); take Debian's only when absent.
NODE_PKGS=()
command -v npm >/dev/null 2>&1 || NODE_PKGS=(nodejs npm)

want=("${BUILD_PKGS[@]}" "${NODE_PKGS[@]}")
case "${1:-all}" in
build) ;;
run) want+=("${RUN_PKGS[@]}") ;;
all | test) want+=("${RUN_PKGS[@]}" "${TEST_PKGS[@]}") ;;
*) echo "usage: $0 [build|run|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
	as_root=()
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "deps: missing packages (${missing[*]}); install them as root: $0" >&2
			exit 1
		fi
		as_root=(sudo)
	fi
	echo "deps: installing ${missing[*]}" >&2
	apt_opts=(-o DPkg::Lock::Timeout=600 -y -q)
	# Refresh the lists once a day at most; a fresh machine has none.
	stamp=/var/lib/apt/periodic/weft-update-stamp
	if [[ ! -e $stamp ]] || [[ -n $(find "$stamp" -mmin +1440 2>/dev/null) ]]; then
		"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
		"${as_root[@]}" mkdir -p "$(dirname "$stamp")" && "${as_root[@]}" touch "$stamp"
	fi
	# Debian starts packaged daemons on install; tests start their own copies.
	"${as_root[@]}" sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d &&
		chmod +x /usr/sbin/policy-rc.d'
	trap '"${as_root[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
fi

# The dashboard's build (vite) and its browser-test driver (playwright-core;
# Debian's chromium is the browser), exactly as package-lock.json pins them.
# Reinstalled when the lock file changes.
web=$(cd "$(dirname "$0")/.." && pwd)/web
if [[ -f $web/package-lock.json ]] &&
	{ [[ ! -d $web/node_modules/playwright-core || ! -d $web/node_modules/vite ]] ||
		[[ $web/package-lock.json -nt $web/node_modules/.package-lock.json ]]; }; then
	(cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The OTLP tests' receiver decodes what weft exports with OpenTelemetry's own
# protobuf definitions (tests/otlp/package-lock.json pins them).
otlp=$(cd "$(dirname "$0")/.." && pwd)/tests/otlp
if [[ ${1:-all} == test || ${1:-all} == all ]] && [[ -f $otlp/package-lock.json ]] &&
	{ [[ ! -d $otlp/node_modules/@opentelemetry/otlp-transformer ]] ||
		[[ $otlp/package-lock.json -nt $otlp/node_modules/.package-lock.json ]]; }; then
	(cd "$otlp" && npm ci --no-audit --no-fund --loglevel=error)
fi
exit 0

#!/bin/sh
# cgexec.sh CGROUP_DIR CMD...: joins the cgroup, then becomes CMD (same pid),
# so every process CMD forks is counted there too.
echo $$ >"$1/cgroup.procs" || exit 1
shift
exec "$@"

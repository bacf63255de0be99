#!/usr/bin/env bash
# tests/bench/load_routes.sh: time from start to every configured (S,G) route
# in the kernel, for N routes from a config file. Not a test: it prints
# figures. Run as root:
#
#   bash tests/bench/load_routes.sh BUILD/smcroute [N] [--vs /usr/sbin/smcrouted]
#
# Each run happens in a fresh network namespace with one veth pair. Our daemon
# is started in the background, which returns only once the config is loaded,
# so the start command's wall time is the load time; the kernel's table is
# then counted to prove every route is there. With --vs, a second
# implementation is timed the same way, polling /proc until all N entries are
# there (its start may return earlier).
set -euo pipefail

ours=$(readlink -f "${1:?usage: load_routes.sh SMCROUTE [N] [--vs DAEMON]}")
n=${2:-10000}
vs=""
if [ "${3:-}" = "--vs" ]; then vs=${4:?--vs needs a daemon path}; fi
runs=${RUNS:-5}
[ "$(id -u)" = 0 ] || { echo "load_routes.sh: needs root" >&2; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
conf=$work/routes.conf
for ((i = 0; i < n; i++)); do
    printf 'mroute from veth0 source 10.%d.%d.%d group 225.%d.%d.%d to veth1\n' \
        $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255 | 1)) \
        $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
done > "$conf"



one_run() { # $1 = daemon kind (ours|vs), prints seconds
    unshare -mn bash -s "$1" "$ours" "$vs" "$conf" "$n" <<'INNER'
set -eu
kind=$1 ours=$2 vs=$3 conf=$4 n=$5
mount -t tmpfs none /run
ip link set lo up
ip link add veth0 type veth peer name veth1
ip link set veth0 up; ip link set veth1 up
count() { echo $(( $(wc -l < /proc/net/ip_mr_cache) - 1 )); }
t0=$(date +%s.%N)
if [ "$kind" = ours ]; then
    "$ours" -d --config "$conf" --log-level err
else
    "$vs" -n -f "$conf" -l err >/dev/null 2>&1 &
fi
deadline=$(( $(date +%s) + 300 ))
while [ "$(count)" -lt "$n" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timeout: $(count) of $n routes after 300 s" >&2; exit 1; }
    sleep 0.002
done
t1=$(date +%s.%N)
echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}'
if [ "$kind" = ours ]; then "$ours" -k; else kill %1 2>/dev/null || true; wait || true; fi
INNER
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
report() { # $1 label, rest: samples
    local label=$1; shift
    local med min max
    med=$(printf '%s\n' "$@" | median)
    min=$(printf '%s\n' "$@" | sort -n | head -1)
    max=$(printf '%s\n' "$@" | sort -n | tail -1)
    printf '%-28s %8s s  (range %s-%s, %d runs)\n' "$label" "$med" "$min" "$max" "$#"
    echo "$med"
}

ours_t=(); vs_t=()
for ((r = 0; r < runs; r++)); do
    ours_t+=("$(one_run ours)")
    [ -n "$vs" ] && vs_t+=("$(one_run vs)")
done
m1=$(report "smcroute, $n IPv4 routes" "${ours_t[@]}" | tee /dev/stderr | tail -1)
if [ -n "$vs" ]; then
    m2=$(report "$(basename "$vs"), $n IPv4 routes" "${vs_t[@]}" | tee /dev/stderr | tail -1)
    awk -v a="$m1" -v b="$m2" 'BEGIN {printf "ratio (theirs/ours): %.1fx\n", b / a}' >&2
fi

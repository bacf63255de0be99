#!/usr/bin/env bash
# tests/bench/joins.sh: time from start to N group joins on one interface in
# the kernel (net.ipv4.igmp_max_memberships left at its default). Not a test:
# it prints figures. Run as root:
#
#   bash tests/bench/joins.sh BUILD/smcroute [N] [--vs /usr/sbin/smcrouted]
set -euo pipefail
ours=$(readlink -f "${1:?usage: joins.sh SMCROUTE [N] [--vs DAEMON]}")
n=${2:-5000}
vs=""
if [ "${3:-}" = "--vs" ]; then vs=${4:?--vs needs a daemon path}; fi
runs=${RUNS:-5}
[ "$(id -u)" = 0 ] || { echo "joins.sh: needs root" >&2; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((i = 0; i < n; i++)); do
    printf 'mgroup from veth0 group 225.%d.%d.%d\n' $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
done > "$work/joins.conf"

one_run() { # $1 = ours|vs; prints seconds
    unshare -mn bash -s "$1" "$ours" "$vs" "$work/joins.conf" "$n" <<'INNER'
set -eu
kind=$1 ours=$2 vs=$3 conf=$4 n=$5
mount -t tmpfs none /run
ip link set lo up
ip link add veth0 type veth peer name veth1
ip link set veth0 up; ip link set veth1 up
count() { awk '/veth0/ {on=1; next} /^[0-9]/ {on=0} on && /^\t/ {c++} END {print c+0}' /proc/net/igmp; }
base=$(count)
t0=$(date +%s.%N)
if [ "$kind" = ours ]; then "$ours" -d --config "$conf" --log-level err
else "$vs" -n -f "$conf" -l err >/dev/null 2>&1 & fi
deadline=$(( $(date +%s) + 120 ))
while [ $(( $(count) - base )) -lt "$n" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timeout: $(( $(count) - base )) of $n joins" >&2; exit 1; }
    sleep 0.002
done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
if [ "$kind" = ours ]; then "$ours" -k; else kill %1 2>/dev/null || true; wait || true; fi
INNER
}
med() { sort -n | awk '{a[NR]=$1} END {printf "%s (range %s-%s, %d runs)", a[int((NR+1)/2)], a[1], a[NR], NR}'; }
ours_t=(); vs_t=()
for ((r = 0; r < runs; r++)); do
    ours_t+=("$(one_run ours)")
    [ -n "$vs" ] && vs_t+=("$(one_run vs)")
done
echo "smcroute, start to $n joins on one interface: $(printf '%s\n' "${ours_t[@]}" | med) s"
[ -z "$vs" ] || echo "$(basename "$vs"), start to $n joins: $(printf '%s\n' "${vs_t[@]}" | med) s"

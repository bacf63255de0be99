#!/usr/bin/env bash
# tests/bench/reload_routes.sh: cost of a reload with N (S,G) routes loaded.
# Not a test: it prints figures. Run as root:
#
#   bash tests/bench/reload_routes.sh BUILD/smcroute [N]
#
# In a fresh network namespace the daemon loads N routes; then each reload
# (`smcroutectl reload`, which returns once the reload is done) is timed, and
# the kernel's MFC change notifications during it are counted with
# `ip monitor mroute`: first with the config unchanged, then with one
# route's OIF changed each time.
set -euo pipefail
ours=$(readlink -f "${1:?usage: reload_routes.sh SMCROUTE [N]}")
n=${2:-10000}
runs=${RUNS:-5}
[ "$(id -u)" = 0 ] || { echo "reload_routes.sh: needs root" >&2; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gen() { # $1 = OIF of route 0
    printf 'mroute from veth0 source 10.0.0.1 group 225.0.0.0 to %s\n' "$1"
    for ((i = 1; i < n; i++)); do
        printf 'mroute from veth0 source 10.%d.%d.%d group 225.%d.%d.%d to veth1\n' \
            $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255 | 1)) \
            $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
    done
}
gen veth1 > "$work/a.conf"
gen veth2 > "$work/b.conf"

unshare -mn bash -s "$ours" "$work" "$n" "$runs" <<'INNER'
set -eu
ours=$1 work=$2 n=$3 runs=$4
mount -t tmpfs none /run
ip link set lo up
ip link add veth0 type veth peer name veth1
ip link add veth2 type veth peer name veth3
for l in veth0 veth1 veth2 veth3; do ip link set "$l" up; done
ln -sf "$ours" "$work/smcroutectl"
cp "$work/a.conf" "$work/run.conf"
"$ours" -d --config "$work/run.conf" --log-level err
count=$(( $(wc -l < /proc/net/ip_mr_cache) - 1 ))
[ "$count" = "$n" ] || { echo "only $count of $n routes loaded" >&2; exit 1; }
one() { # prints "ms events"
    ip monitor mroute > "$work/mon" 2>&1 &
    local mon=$!
    sleep 0.2
    local t0 t1
    t0=$(date +%s%N)
    "$work/smcroutectl" reload
    t1=$(date +%s%N)
    sleep 0.2
    kill "$mon"; wait "$mon" 2>/dev/null || true
    echo "$(( (t1 - t0) / 1000 )) $(grep -c . "$work/mon" || true)"
}
report() {
    sort -n | awk -v label="$1" '{t[NR]=$1; e[NR]=$2} END {
        printf "%-40s median %7.1f ms  (range %.1f-%.1f, %d runs), MFC events per reload: %s\n",
            label, t[int((NR+1)/2)]/1000, t[1]/1000, t[NR]/1000, NR, e[int((NR+1)/2)] }'
}
for ((r = 0; r < runs; r++)); do one; done | report "reload, $n routes, nothing changed"
for ((r = 0; r < runs; r++)); do
    if ((r % 2 == 0)); then cp "$work/b.conf" "$work/run.conf"; else cp "$work/a.conf" "$work/run.conf"; fi
    one
done | report "reload, $n routes, one OIF changed"
"$work/smcroutectl" kill
INNER

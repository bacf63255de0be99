#!/bin/bash
# tests/bench/hot_symbols.sh BUILD_DIR [OUT]: write the list of the
# functions an idle daemon runs (OUT, default dist/hot-symbols.txt), which
# the static program's link uses to place them side by side (CMakeLists.txt,
# SMCROUTE_HOT_LAYOUT): the idle daemon then touches a few 64 KiB stretches
# of the program instead of most of them (tests/bench/run.sh, "RSS idle").
#
# The daemon of BUILD_DIR runs under callgrind (valgrind) twice, in
# namespaces of its own: with an empty config (as the bench measures it)
# and with a small config of every kind of line (routes of both families,
# a (*,G) rule, joins, phyints), and as an IGMP/MLD proxy; each logs at
# info (what the proxy bench runs), serves clients, sees a link come and
# go, idles and is stopped. Every function of the program that ran is
# listed (mangled names, as the linker wants them): first what the empty
# daemon ran, then what both the router and the proxy ran, then the
# proxy's own, then the router's own, each block in the order they ran
# most. Shut-down code is listed too: it is small and runs once at exit.
# Then each profile runs once more natively, with the kernel's
# fault-around off (debugfs fault_around_bytes, restored after), and the
# functions on the code pages it ran are listed after those: what
# callgrind does not see (glibc's string functions for this CPU, the
# static program's start-up); and so do the pages the daemon of the proxy
# bench (tests/bench/proxy_bench.sh, ours only, short) ran code on.
#
# Needs root and a kernel that routes multicast; on a machine without one:
#   bash tests/vm/vm.sh run -- bash tests/bench/hot_symbols.sh BUILD_DIR
# Regenerate it when the program's code has moved a lot: the test
# hot_layout says when too many of the listed functions are gone.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: hot_symbols.sh BUILD_DIR [OUT]}" && pwd -P)
out=${2:-$src/dist/hot-symbols.txt}
prog=$build/smcroute
[ -x "$prog" ] || { echo "hot_symbols: no program $prog" >&2; exit 1; }
for t in valgrind callgrind_annotate ip unshare; do
    command -v "$t" >/dev/null || { echo "hot_symbols: $t is missing (apt-get install valgrind iproute2)" >&2; exit 1; }
done
[ -e /proc/net/ip_mr_cache ] || { echo "hot_symbols: this kernel cannot route multicast; run it in the VM (see the head of this script)" >&2; exit 1; }

work=$(mktemp -d /tmp/hot_symbols.XXXXXX)
trap 'rm -rf "$work"' EXIT
ln -s "$prog" "$work/smcrouted" # 2.x's daemon personality, as the bench starts it
cat > "$work/smcroute.conf" <<'EOF'
phyint a0 enable
phyint b0 enable
phyint c0 disable
mgroup from b0 group 225.3.3.3
mgroup from b0 source 10.0.0.1 group 232.3.3.3
mroute from a0 group 225.1.2.3 to b0
mroute from a0 source 10.0.0.1 group 225.1.2.4 to b0
mroute from a0 source 10.0.0.0/24 group 225.1.2.5 to b0
mroute from a0 group ff05::1:3 to b0
EOF

# The proxy (smcroute.conf(5), PROXY): upstream a0, downstream b0, with a
# querier fast enough to query in the idle seconds.
cat > "$work/proxy.conf" <<'EOF'
phyint a0 upstream
phyint b0 downstream query-interval 2 query-response-interval 1 last-member-query-interval 0.2 allow 239.0.0.0/8 allow 232.0.0.0/8 deny 239.255.0.0/16
EOF

# profile NAME CONF [proxy]: the daemon of $prog under callgrind in network
# and mount namespaces of their own (its default paths in a private /run),
# with links a0..c0 (veth), serving `show`, `reload` and `-j show`, seeing a
# link come and go, idling 3 s, stopped. With "proxy", a1 and b1 are in
# network namespaces of their own, a sender's and a host's: the host joins
# groups (IGMPv3 ASM and SSM, MLDv2), the sender sends to them (the
# kernel's upcalls install forwarding), `show proxy` is asked, and the host
# leaves; then it joins and leaves once more as an IGMPv2 host. Writes $work/NAME.list: the program's functions that ran, most
# instructions first.
profile() {
    local name=$1 conf=$2 proxy=${3:-} native=${4:-}
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare -mn bash -c '
        set -e
        w=$1 name=$2 conf=$3 prog=$4 proxy=$5 native=$6
        mount -t tmpfs tmpfs /run
        ip link set lo up
        for i in a b c; do ip link add "${i}0" type veth peer name "${i}1"; ip link set "${i}0" up; ip link set "${i}1" up; done
        ip addr add 10.0.0.254/24 dev a0
        if [ -n "$proxy" ]; then
            ip addr add 10.0.1.1/24 dev b0
            ip -6 addr add fd00:1::1/64 dev a0 nodad
            for end in a1 b1; do
                unshare -n sleep 600 &
                echo $! > "$w/$end.pid"
                sleep 0.2
                ip link set "$end" netns "$(cat "$w/$end.pid")"
            done
            nsenter -t "$(cat "$w/a1.pid")" -n sh -c "ip link set lo up; ip link set a1 up; ip addr add 10.0.0.1/24 dev a1; ip -6 addr add fd00:1::2/64 dev a1 nodad"
            nsenter -t "$(cat "$w/b1.pid")" -n sh -c "ip link set lo up; ip link set b1 up; ip addr add 10.0.1.2/24 dev b1"
        fi
        if [ -n "$native" ]; then
            "$w/smcrouted" -n -f "$conf" -l info > "$w/$name.log" 2>&1 &
        else
            valgrind --tool=callgrind --demangle=no --callgrind-out-file="$w/$name.out" \
                "$w/smcrouted" -n -f "$conf" -l info > "$w/$name.log" 2>&1 &
        fi
        pid=$!
        for ((i = 0; i < 600; i++)); do "$prog" show > /dev/null 2>&1 && break; sleep 0.2; done
        "$prog" show > /dev/null
        "$prog" reload > /dev/null
        "$prog" -j show > /dev/null
        if [ -n "$proxy" ]; then
            nsenter -t "$(cat "$w/b1.pid")" -n python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
here = socket.inet_aton(\"10.0.1.2\")
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(\"239.1.1.1\") + here)
# IP_ADD_SOURCE_MEMBERSHIP (39), struct ip_mreq_source: group, interface, source
s.setsockopt(socket.IPPROTO_IP, 39, socket.inet_aton(\"232.1.1.1\") + here + socket.inet_aton(\"10.0.0.1\"))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
              socket.inet_pton(socket.AF_INET6, \"ff0e::1:1\") + socket.if_nametoindex(\"b1\").to_bytes(4, \"little\"))
time.sleep(6)
" &
            host=$!
            sleep 2
            nsenter -t "$(cat "$w/a1.pid")" -n python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 8)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(\"10.0.0.1\"))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 8)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(\"a1\"))
for _ in range(10):
    s.sendto(b\"hot\", (\"239.1.1.1\", 4000))
    s.sendto(b\"hot\", (\"232.1.1.1\", 4000))
    s6.sendto(b\"hot\", (\"ff0e::1:1\", 4000))
    time.sleep(0.2)
"
            "$prog" show proxy > /dev/null
            "$prog" -j show proxy > /dev/null
            wait "$host" || true # it leaves: its sockets close
            sleep 2
            # The same host as an IGMPv2 one: v2 reports for 20 groups, a
            # sender to those and to 20 nobody wants (as the proxy bench
            # runs), then leaves the querier answers with group-specific
            # queries.
            nsenter -t "$(cat "$w/b1.pid")" -n sysctl -qw net.ipv4.conf.b1.force_igmp_version=2
            nsenter -t "$(cat "$w/b1.pid")" -n python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for g in [\"239.1.1.2\"] + [\"239.1.2.%d\" % i for i in range(1, 20)]: # 20: igmp_max_memberships
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(g) + socket.inet_aton(\"10.0.1.2\"))
time.sleep(3)
" &
            host=$!
            nsenter -t "$(cat "$w/a1.pid")" -n python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 8)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(\"10.0.0.1\"))
for _ in range(10):
    for i in range(1, 21):
        s.sendto(b\"hot\", (\"239.1.2.%d\" % i, 4000))
        s.sendto(b\"hot\", (\"239.1.3.%d\" % i, 4000))
    time.sleep(0.2)
"
            wait "$host" || true
            sleep 2
        fi
        ip link add d0 type veth peer name d1
        ip link set d0 up
        sleep 1
        ip link del d0
        sleep 3 # the idle loop: timers, the link monitor
        [ -z "$native" ] || python3 "$w/touched.py" "$pid" "$prog" > "$w/$name.touched"
        kill -TERM "$pid"
        wait "$pid" || true
        if [ -n "$proxy" ]; then kill "$(cat "$w/a1.pid")" "$(cat "$w/b1.pid")" 2> /dev/null || true; fi
    ' hot_symbols "$work" "$name" "$conf" "$prog" "$proxy" "$native"
    if [ -n "$native" ]; then
        [ -s "$work/$name.touched" ] || { echo "hot_symbols: no pages of the native $name run: $(tail -5 "$work/$name.log")" >&2; exit 1; }
        return
    fi
    [ -s "$work/$name.out" ] || { echo "hot_symbols: callgrind wrote nothing: $(tail -5 "$work/$name.log")" >&2; exit 1; }
    # One line per function of the program that ran, most instructions first:
    #   "   1,234 (12.3%)  file:NAME [/path/to/smcroute]"
    callgrind_annotate --threshold=100 --inclusive=no --auto=no "$work/$name.out" |
        awk -v prog="[$prog]" '$NF == prog && $1 ~ /^[0-9,]+$/ { n = $(NF - 1); sub(/^.*:/, "", n); print n }' \
        > "$work/$name.list"
}
cp "$src/tests/bench/touched_functions.py" "$work/touched.py"
# The daemon also runs code callgrind does not see: the string functions
# glibc picks for this CPU (valgrind's is another), the static program's
# start-up. Each profile runs once more natively with the kernel's
# fault-around off, and the functions on the code pages it ran (in the
# layout being profiled) are listed after the callgrind ones.
dbg=$(awk '$3 == "debugfs" { print $2; exit }' /proc/mounts)
if [ -z "$dbg" ]; then
    dbg=$work/debugfs
    mkdir -p "$dbg"
    mount -t debugfs debugfs "$dbg" || { echo "hot_symbols: cannot mount debugfs (fault_around_bytes)" >&2; exit 1; }
fi
around=$(cat "$dbg/fault_around_bytes") || { echo "hot_symbols: no $dbg/fault_around_bytes" >&2; exit 1; }
trap 'echo "$around" > "$dbg/fault_around_bytes"; [ "$dbg" != "$work/debugfs" ] || umount "$dbg"; rm -rf "$work"' EXIT
echo 4096 > "$dbg/fault_around_bytes"

echo "# empty" > "$work/empty.conf"
profile empty "$work/empty.conf"     # what the bench's "idle" measures
profile routes "$work/smcroute.conf" # a router's
profile proxy "$work/proxy.conf" proxy # an IGMP/MLD proxy's
profile empty-native "$work/empty.conf" "" native
profile routes-native "$work/smcroute.conf" "" native
profile proxy-native "$work/proxy.conf" proxy native
# And the proxy as the proxy bench drives it (tests/bench/proxy_bench.sh,
# ours only, a few rounds, 300 groups): the pages that daemon ran code on,
# at its end. The bench's tools (tests/proxy_probe, mcjoin, mcsend) come
# from the test build: HOT_BENCH_BUILD, default the directory above BUILD_DIR
# (build-ci/warnings-gcc is inside the test build build-ci).
tools=${HOT_BENCH_BUILD:-$build/..}
[ -x "$tools/tests/proxy_probe" ] || { echo "hot_symbols: no $tools/tests/proxy_probe (set HOT_BENCH_BUILD to the test build)" >&2; exit 1; }
PBENCH_TOUCHED=$work/proxy-bench.touched bash "$src/tests/bench/proxy_bench.sh" "$tools" --ours "$prog" --only ours \
    --rounds 3 --groups 300 > "$work/proxy-bench.log" 2>&1 ||
    { echo "hot_symbols: the proxy bench failed: $(tail -5 "$work/proxy-bench.log")" >&2; exit 1; }
[ -s "$work/proxy-bench.touched" ] || { echo "hot_symbols: no pages of the proxy bench's daemon: $(tail -5 "$work/proxy-bench.log")" >&2; exit 1; }
# glibc picks its string and memory functions by the CPU (IFUNC), and
# valgrind's CPU is not the machine's: every variant of one that ran is
# listed beside it (__strlen_avx2 brings __strlen_sse2, __strlen_evex...).
nm --defined-only "$prog" | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u > "$work/all"
# In blocks, so that a daemon of one kind touches one contiguous stretch:
# what the empty daemon ran (every daemon's start, idle loop and answers),
# then what both a router and a proxy ran beyond it, then the proxy's own,
# then the static router's own; in each block what callgrind saw, most
# instructions first, then what only the native runs touched.
awk 'FILENAME ~ /empty(-native)?\.(list|touched)$/ { e[$0] = 1 }
     FILENAME ~ /routes(-native)?\.(list|touched)$/ { r[$0] = 1 }
     FILENAME ~ /proxy(-native|-bench)?\.(list|touched)$/ { p[$0] = 1 }
     { order[++n] = $0 }
     END {
         for (b = 0; b < 4; b++)
             for (i = 1; i <= n; i++) {
                 f = order[i]
                 k = (f in e) ? 0 : ((f in r) && (f in p)) ? 1 : (f in p) ? 2 : 3
                 if (k == b && !(f in done)) { done[f] = 1; print f }
             }
     }' "$work/empty.list" "$work/routes.list" "$work/proxy.list" \
        "$work/empty-native.touched" "$work/routes-native.touched" "$work/proxy-native.touched" \
        "$work/proxy-bench.touched" > "$work/ran"
awk 'NR == FNR { all[++n] = $0; next }
     { print }
     match($0, /_(sse2|sse4|ssse3|avx|avx2|evex|avx512)/) {
         base = substr($0, 1, RSTART)
         for (i = 1; i <= n; i++) if (index(all[i], base) == 1 && all[i] ~ /_(sse2|sse4|ssse3|avx|avx2|evex|avx512)/) print all[i]
     }' "$work/all" "$work/ran" | awk '!seen[$0]++' > "$work/list"
count=$(wc -l < "$work/list")
[ "$count" -ge 100 ] || { echo "hot_symbols: only $count functions ran: $(tail -5 "$work/daemon.log")" >&2; exit 1; }
{
    echo "# The functions an idle smcroute daemon runs, most run first: the static"
    echo "# program's link (ld.lld --symbol-ordering-file) places them side by side."
    echo "# Written by tests/bench/hot_symbols.sh; regenerate, do not edit."
    cat "$work/list"
} > "$out"
echo "hot_symbols: $count functions -> $out"

#!/usr/bin/env bash
# tests/bench/proxy_bench.sh: the IGMP proxy benchmark (issue 17), igmpproxy
# 0.3 (Debian's package, tests/tools/peer_igmpproxy.sh) and ours side by
# side, IPv4, in the same topology, in one run. Not a test (ctest does not
# run it): it prints figures. Run as root on a kernel that routes multicast
# (this machine's, or the VM's: bash tests/vm/vm.sh run -- bash
# tests/bench/proxy_bench.sh BUILD), from the source tree:
#
#   bash tests/bench/proxy_bench.sh BUILD [--ours PATH] [--igmpproxy PATH]
#        [--rounds N] [--groups N] [--slow] [--only igmpproxy|ours]
#
# BUILD holds tests/proxy_probe, tests/mcjoin, tests/mcsend; the
# daemon is BUILD/smcroute unless --ours. For figures use the program as a
# release links it: static, optimized, its idle code laid out by
# dist/hot-symbols.txt (the default build's smcroute, or the test build's
# warnings-gcc/smcroute); a sanitized or dynamic one says nothing about
# speed or memory. Both
# daemons run in fresh network, mount and PID namespaces, the same way:
#
#   snd eth0 10.0.1.2, .3 --- a1 10.0.1.1 [router] br0 10.0.2.1 (bridge,
#        no snooping) --- p1 -- rcv1 eth0 10.0.2.2, p2 -- rcv2 eth0 10.0.2.3
#
# upstream a1, downstream br0, every other interface disabled; igmpproxy:
# "phyint a1 upstream altnet 0.0.0.0/0", "phyint br0 downstream whitelist
# 239.1.0.0/16 whitelist 232.0.0.0/8"; ours: "phyint a1 upstream",
# "phyint br0 downstream allow 239.1.0.0/16 allow 232.0.0.0/8"; both at
# their default querier timers. Receivers are the namespaces' own kernels
# (a socket joins, the kernel reports) with force_igmp_version=2 (igmpproxy
# 0.3 serves IGMPv1/v2 on downstreams, its manual says), so both daemons
# see IGMPv2 reports and leaves; only the SSM row uses IGMPv3.
# net.ipv4.igmp_max_memberships is raised to 4096 in every namespace (the
# default, 20 per socket, would stop the 1 000 joins of any daemon that
# joins upstream on one socket).
#
# Figures:
#   join->first pkt   proxy_probe latency in rcv1: ROUNDS (default 20)
#                     times join 239.1.200.1, which the sender sends at
#                     1 000 pps, time from the join call to the first
#                     datagram sent after the join (kernel receive
#                     timestamp; the payload carries its send time);
#                     p50/p99. "any age": to the first datagram at all,
#                     which may be one sent before the join that the
#                     router's kernel held in its unresolved queue and
#                     forwarded when the route was added; shown, not
#                     judged
#   leave->last pkt   then leave, time from the leave call to the last
#                     frame of the group arriving on rcv1's link (AF_PACKET:
#                     member or not), once none came for 3 s; p50/p99
#   1000 groups       rcv2 joins 239.1.0.1..239.1.3.232 (one socket) while
#                     the sender sends to all of them round-robin at 5 000
#                     pps: time from the first join until every group
#                     delivered a datagram; then the daemon's resident
#                     memory, and once it is settled (below) its CPU time
#                     since it started (utime+stime, /proc/PID/stat)
#   memory            idle (1 s after it is up), after the 1000 groups
#                     (at once) and settled (25 s later, the groups still
#                     flowing: what a router with 1000 groups holds),
#                     exact, from /proc/PID/smaps_rollup as
#                     tests/bench/run.sh measures it: Rss, Pss and USS
#                     (private pages); VmRSS beside them, judged by
#                     nothing (it lags; see run.sh)
# Correctness rows (pass/FAIL, or "not run" with the reason):
#   nothing before join, forwarding after join (every round of the latency
#   run), two receivers one leaves (the other's traffic never pauses 1 s in
#   6 s), both leave stop (within 30 s), vanish (--slow only: a receiver's
#   bridge port goes down, the router stops forwarding when the group
#   membership interval since the last report runs out: 125-260 s after
#   the port went down at the defaults (RFC 3376 8.4); "no(early:Xs)" or
#   "no(late:Xs)" outside that), SSM include (232.1.1.1 from 10.0.1.2
#   and 10.0.1.3, rcv1 includes only 10.0.1.2), allow/deny (239.2.0.1 is
#   outside the allowed ranges: never on rcv1's link, never joined on a1),
#   upstream membership (a1's /proc/net/igmp gains and loses the group),
#   MLD (ff0e::1:1 from fd01::2 reaches rcv1; igmpproxy has no MLD).
#
# PBENCH_SMAPS=1 in the environment also prints each daemon's largest
# mappings (smaps Rss) where its memory is measured, on stderr;
# PBENCH_TOUCHED=FILE writes the functions on the code pages our daemon ran
# at its end to FILE (tests/bench/hot_symbols.sh). With --only ours,
# igmpproxy is neither fetched nor run.
#
# When our daemon refuses the proxy config (smcrouted --check), its column
# says so ("did not proxy") and nothing of it is measured.
set -u -o pipefail

self=$(readlink -f "$0")

# =============================================================== inside
# bash proxy_bench.sh --inner KIND: one daemon's whole run in fresh
# namespaces; prints "res KEY VALUE" lines on stdout.
if [ "${1:-}" = --inner ]; then
    kind=$2
    mount -t tmpfs -o mode=0755 pbench-run /run || exit 1
    # sysfs of this network namespace (/sys/class/net: carriers, ifindex).
    mount -t sysfs sysfs /sys || exit 1
    T=/run/pbench
    mkdir -p /run/netns "$T"
    say() { echo "[$kind] $*" >&2; }
    res() { echo "res $1 $2"; }
    row() { echo "res row_$1 $2"; say "$1: $2"; }
    nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
    PROBE=$BUILD/tests/proxy_probe
    PIDS=()
    trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done' EXIT

    # ------------------------------------------------------- topology
    # (ip -batch: every program start counts under software emulation)
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
        net.ipv4.igmp_max_memberships=4096
    batch="link set lo up
"
    for ns in snd rcv1 rcv2; do
        batch+="netns add $ns
netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 net.ipv4.igmp_max_memberships=4096
"
    done
    batch+="link add a1 type veth peer name eth0 netns snd
link add br0 type bridge mcast_snooping 0
link add p1 type veth peer name eth0 netns rcv1
link add p2 type veth peer name eth0 netns rcv2
link set p1 master br0
link set p2 master br0
addr add 10.0.1.1/24 dev a1
addr add fd01::1/64 dev a1 nodad
addr add 10.0.2.1/24 dev br0
addr add fd02::1/64 dev br0 nodad
link set a1 up
link set br0 up
link set p1 up
link set p2 up
"
    ip -batch - <<<"$batch"
    ip -n snd -batch - <<'IP'
link set lo up
addr add 10.0.1.2/24 dev eth0
addr add 10.0.1.3/24 dev eth0
addr add fd01::2/64 dev eth0 nodad
link set eth0 up
route add default via 10.0.1.1
route add ::/0 via fd01::1
IP
    for r in rcv1:2 rcv2:3; do
        ip -n "${r%:*}" -batch - <<IP
link set lo up
addr add 10.0.2.${r#*:}/24 dev eth0
addr add fd02::${r#*:}/64 dev eth0 nodad
link set eth0 up
route add default via 10.0.2.1
IP
        nsx "${r%:*}" sysctl -qw net.ipv4.conf.eth0.force_igmp_version=2
    done
    sysctl -qw net.ipv4.conf.a1.rp_filter=0 net.ipv4.conf.br0.rp_filter=0
    for ((i = 0; i < 200; i++)); do
        [ "$(cat /sys/class/net/{a1,p1,p2}/carrier 2>/dev/null | tr -d '\n')" = 111 ] \
            && [ "$(cat /sys/class/net/br0/operstate)" = up ] && break
        sleep 0.05
    done

    # ------------------------------------------------------- daemon
    if [ "$kind" = igmpproxy ]; then
        cat >"$T/igmpproxy.conf" <<'EOF'
phyint a1 upstream ratelimit 0 threshold 1
        altnet 0.0.0.0/0
phyint br0 downstream ratelimit 0 threshold 1
        whitelist 239.1.0.0/16
        whitelist 232.0.0.0/8
phyint lo disabled
phyint p1 disabled
phyint p2 disabled
EOF
        "$IGMPPROXY" -d -v "$T/igmpproxy.conf" >"$T/daemon.log" 2>&1 &
    else
        cat >"$T/smcroute.conf" <<'EOF'
phyint a1 upstream
phyint br0 downstream allow 239.1.0.0/16 allow 232.0.0.0/8
EOF
        if ! "$OURS" --check "$T/smcroute.conf" >"$T/check.log" 2>&1; then
            say "our daemon refused the proxy config: $(head -1 "$T/check.log")"
            res noproxy "$(head -1 "$T/check.log" | tr ' ' '_')"
            exit 0
        fi
        # Started as smcrouted, the SMCRoute 2.x daemon's name and options
        # (-n: in the foreground, so $! is the daemon).
        ln -sf "$OURS" "$T/smcrouted"
        "$T/smcrouted" -n -f "$T/smcroute.conf" -l info >"$T/daemon.log" 2>&1 &
    fi
    DPID=$!
    PIDS+=("$DPID")
    # Up: both VIFs in the kernel (every multicast router adds them).
    for ((i = 0; i < 600; i++)); do
        [ "$(awk 'NR > 1 { n++ } END { print n + 0 }' /proc/net/ip_mr_vif)" -ge 2 ] && break
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.05
    done
    if ! kill -0 "$DPID" 2>/dev/null || [ "$(awk 'NR > 1 { n++ } END { print n + 0 }' /proc/net/ip_mr_vif)" -lt 2 ]; then
        say "daemon did not come up: $(tail -5 "$T/daemon.log")"
        res noproxy daemon_did_not_start
        exit 0
    fi
    cpu() { awk '{ print $14 + $15 }' "/proc/$DPID/stat"; }
    # mem TAG: the daemon's resident memory now, exact, from smaps_rollup
    # (as tests/bench/run.sh measures it): Rss (every page it maps), Pss
    # (shared pages divided among their users: igmpproxy's libc), USS
    # (its private pages: what stopping it frees); and VmRSS, shown but
    # judged by nothing (a per-thread counter the kernel folds in every 64
    # faults: it lags by up to megabytes; see run.sh).
    mem() {
        awk -v t="$1" '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {u += $2} /^Anonymous:/ {a = $2}
             END {printf "res rss_%s %d\nres pss_%s %d\nres uss_%s %d\nres anon_%s %d\n", t, r, t, p, t, u, t, a}' "/proc/$DPID/smaps_rollup"
        [ -z "${PBENCH_SMAPS:-}" ] || awk '/^[0-9a-f]+-/ {m = $0} /^Rss:/ && $2 > 0 {print $2, m}' "/proc/$DPID/smaps" | sort -rn | head -8 >&2
        awk -v t="$1" '/^VmRSS:/ {print "res vmrss_" t, $2}' "/proc/$DPID/status"
    }
    sleep 1
    mem idle
    say "daemon up (pid $DPID), $(awk '/^Rss:/ {print "Rss", $2, "kB"}' "/proc/$DPID/smaps_rollup")"

    # bg NS CMD...: a background process in NS; its pid in BGPID.
    bg() { local ns=$1; shift; ip netns exec "$ns" "$@" & BGPID=$!; PIDS+=("$BGPID"); }
    stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
    # on_a1 GROUP: the router's kernel holds GROUP on a1 (/proc/net/igmp).
    # Exit 1: not held; 2: cannot tell (which no caller takes for "not held").
    on_a1() {
        local idx hex
        idx=$(cat /sys/class/net/a1/ifindex) || return 2
        hex=$(printf '%02X%02X%02X%02X' $(echo "$1" | awk -F. '{ print $4, $3, $2, $1 }'))
        awk -v idx="$idx" -v g="$hex" '/^[0-9]/ { dev = ($1 == idx); next } dev && toupper($1) == g { f = 1 } END { exit !f }' /proc/net/igmp
    }
    off_a1() { on_a1 "$1"; [ $? = 1 ]; }
    # poll SECONDS CMD...: until CMD succeeds, at most SECONDS.
    poll() {
        local end=$((SECONDS + $1)); shift
        until "$@"; do ((SECONDS < end)) || return 1; sleep 0.05; done
    }
    join() { # NS GROUP [-s SRC]: mcjoin in NS on eth0; pid in BGPID
        local ns=$1 g=$2; shift 2
        rm -f "$T/j.ready"
        bg "$ns" "$BUILD/tests/mcjoin" -i eth0 -g "$g" "$@" -R "$T/j.ready"
        poll 10 test -e "$T/j.ready"
    }

    # ----------------------------------------- nothing before a join
    bg snd "$PROBE" send -i eth0 -G 239.1.200.1 -N 1 -r 1000
    SEND1=$BGPID
    if ! "$PROBE" watch -i a1 -g 239.1.200.1 -a -T 10 >/dev/null; then
        say "the sender's traffic never reached a1"; row before_join FAIL
    else
        n=$(nsx rcv1 "$PROBE" watch -i eth0 -g 239.1.200.1 -w 2 | awk '{ print $2 }')
        if [ "$n" = 0 ]; then row before_join pass; else row before_join "FAIL($n)"; fi
    fi

    # ----------------------------------------- join / leave latency
    nsx rcv1 "$PROBE" latency -i eth0 -g 239.1.200.1 -n "$ROUNDS" -q 3 -T 30 >"$T/lat" 2>"$T/lat.err"
    rounds_ok=$(awk '$4 != "fail" && $6 != "fail" { n++ } END { print n + 0 }' "$T/lat")
    awk '$4 != "fail" { print "res join_ms " $4 } $6 != "fail" && $6 != "" { print "res leave_ms " $6 }
         $8 != "fail" && $8 != "" { print "res join_any_ms " $8 }' "$T/lat"
    joined=$(awk '$4 != "fail" { n++ } END { print n + 0 }' "$T/lat")
    if [ "$joined" = "$ROUNDS" ]; then row after_join pass; else row after_join "FAIL($joined/$ROUNDS)"; fi
    say "latency: $rounds_ok of $ROUNDS rounds complete $(tail -1 "$T/lat.err")"
    stop "$SEND1"

    # ----------------------------------------- upstream membership
    bg snd "$PROBE" send -i eth0 -G 239.1.200.2 -N 1 -r 500
    SEND2=$BGPID
    if join rcv1 239.1.200.2 && poll 15 on_a1 239.1.200.2; then
        up_join=1
    else
        up_join=0
    fi
    J=$BGPID
    stop "$J"
    if [ "$up_join" = 1 ] && poll 30 off_a1 239.1.200.2; then row upstream pass
    else row upstream "FAIL(join=$up_join)"; fi
    stop "$SEND2"

    # ----------------------------------------- two receivers, one leaves
    bg snd "$PROBE" send -i eth0 -G 239.1.200.3 -N 1 -r 500
    SEND3=$BGPID
    join rcv1 239.1.200.3; J1=$BGPID
    join rcv2 239.1.200.3; J2=$BGPID
    if nsx rcv1 "$PROBE" watch -i eth0 -g 239.1.200.3 -a -T 20 >/dev/null; then
        stop "$J2"
        # Continues: within 6 s after rcv2's leave, rcv1's link never goes
        # 1 s without the group (watch -Q exits 1: never quiet).
        if nsx rcv1 "$PROBE" watch -i eth0 -g 239.1.200.3 -Q 1 -T 6 >/dev/null; then
            row one_leaves FAIL
        else
            row one_leaves pass
        fi
        stop "$J1"
        if out=$(nsx rcv1 "$PROBE" watch -i eth0 -g 239.1.200.3 -Q 3 -T 30); then
            row both_leave "pass"
            res both_leave_ms "$(echo "$out" | awk '{ print $2 }')"
        else
            row both_leave FAIL
        fi
    else
        stop "$J1"; stop "$J2"
        row one_leaves "FAIL(never_forwarded)"; row both_leave "FAIL(never_forwarded)"
    fi
    stop "$SEND3"

    # ----------------------------------------- vanish
    if [ "$SLOW" = 1 ]; then
        bg snd "$PROBE" send -i eth0 -G 239.1.200.4 -N 1 -r 200
        SEND4=$BGPID
        join rcv1 239.1.200.4; J=$BGPID
        if nsx rcv1 "$PROBE" watch -i eth0 -g 239.1.200.4 -a -T 20 >/dev/null; then
            ip link set p1 down
            # What reaches the segment, seen at rcv2 (the bridge floods: no
            # snooping); a capture on br0 misses the router's own egress.
            if out=$(nsx rcv2 "$PROBE" watch -i eth0 -g 239.1.200.4 -Q 5 -T 400); then
                v=$(echo "$out" | awk '{ printf "%.1f", $2 / 1000 }')
                res vanish_s "$v"
                # No leave came: the listener's group timer runs out. It
                # was last set to the group membership interval (RFC 3376
                # 8.4: 2 x 125 + 10 = 260 s at the defaults) by a report at
                # most a query interval and response time (135 s) before
                # the port went down: the stop is due 125-260 s after it.
                # Sooner is not the RFC's timer (a stop within a second is
                # a reaction to the port going down).
                if awk -v v="$v" 'BEGIN { exit !(v >= 125 && v <= 265) }'; then row vanish pass
                elif awk -v v="$v" 'BEGIN { exit !(v < 125) }'; then row vanish "no(early:${v}s)"
                else row vanish "no(late:${v}s)"; fi
            else
                row vanish "FAIL(still_forwarding_after_400s)"
            fi
            ip link set p1 up
        else
            row vanish "FAIL(never_forwarded)"
        fi
        stop "$J"; stop "$SEND4"
    else
        row vanish "not_run(--slow)"
    fi

    # ----------------------------------------- SSM include
    nsx rcv1 sysctl -qw net.ipv4.conf.eth0.force_igmp_version=0
    bg snd "$PROBE" send -i eth0 -G 232.1.1.1 -N 1 -r 300 -s 10.0.1.2; S1=$BGPID
    bg snd "$PROBE" send -i eth0 -G 232.1.1.1 -N 1 -r 300 -s 10.0.1.3; S2=$BGPID
    if join rcv1 232.1.1.1 -s 10.0.1.2; then
        J=$BGPID
        if nsx rcv1 "$PROBE" watch -i eth0 -g 232.1.1.1 -s 10.0.1.2 -a -T 15 >/dev/null; then
            n=$(nsx rcv1 "$PROBE" watch -i eth0 -g 232.1.1.1 -s 10.0.1.3 -w 3 | awk '{ print $2 }')
            if [ "$n" = 0 ]; then row ssm pass; else row ssm "FAIL(excluded_source_${n}_frames)"; fi
        else
            row ssm "FAIL(included_source_never_forwarded)"
        fi
        stop "$J"
    else
        row ssm "FAIL(join)"
    fi
    stop "$S1"; stop "$S2"
    nsx rcv1 sysctl -qw net.ipv4.conf.eth0.force_igmp_version=2

    # ----------------------------------------- allow / deny
    bg snd "$PROBE" send -i eth0 -G 239.2.0.1 -N 1 -r 300; SEND5=$BGPID
    join rcv1 239.2.0.1; J=$BGPID
    n=$(nsx rcv1 "$PROBE" watch -i eth0 -g 239.2.0.1 -w 3 | awk '{ print $2 }')
    if [ "$n" = 0 ] && off_a1 239.2.0.1 && [ "$joined" = "$ROUNDS" ]; then row allow_deny pass
    else row allow_deny "FAIL(denied_frames=$n)"; fi
    stop "$J"; stop "$SEND5"

    # ----------------------------------------- MLD
    if [ "$kind" = igmpproxy ]; then
        row mld "no(IGMP_only)"
    else
        bg snd "$BUILD/tests/mcsend" -6 -g ff0e::1:1 -p 4321 -i eth0 -s fd01::2 -n 1000000 -r 200; SEND6=$BGPID
        rm -f "$T/j.ready"
        bg rcv1 "$BUILD/tests/mcjoin" -6 -i eth0 -g ff0e::1:1 -R "$T/j.ready"; J=$BGPID
        if poll 10 test -e "$T/j.ready" && nsx rcv1 "$PROBE" watch -6 -i eth0 -g ff0e::1:1 -a -T 15 >/dev/null; then
            row mld pass
        else
            row mld FAIL
        fi
        stop "$J"; stop "$SEND6"
    fi

    # ----------------------------------------- 1 000 groups
    bg snd "$PROBE" send -i eth0 -G 239.1.0.1 -N "$NGROUPS" -r 5000; SENDG=$BGPID
    "$PROBE" watch -i a1 -g 239.1.0.1 -a -T 10 >/dev/null || say "the 1000-group sender never reached a1"
    out=$(nsx rcv2 "$PROBE" groups -i eth0 -G 239.1.0.1 -N "$NGROUPS" -T 120)
    say "groups: $out"
    res groups_ms "$(echo "$out" | awk '{ print $2 } END { if (!NR) print "fail" }')"
    res groups_seen "$(echo "$out" | awk '{ print $4 } END { if (!NR) print "0" }')"
    mem groups
    # And settled, with the groups still flowing: 25 s on (the burst's
    # transient buffers are free by then; ours gives their pages back on its
    # first quiet 10 s tick).
    sleep 25
    mem settled
    # For tests/bench/hot_symbols.sh: the functions on the code pages our
    # daemon ran (with the kernel's fault-around off, which it sets).
    if [ -n "${PBENCH_TOUCHED:-}" ] && [ "$kind" = ours ]; then
        python3 "$(dirname "$self")/touched_functions.py" "$DPID" "$OURS" > "$PBENCH_TOUCHED"
    fi
    res cpu_ms "$(awk -v t="$(cpu)" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", t * 1000 / hz }')"
    stop "$SENDG"
    kill -0 "$DPID" 2>/dev/null && res alive yes || res alive no
    exit 0
fi

# =============================================================== outside
usage() {
    echo "usage: bash tests/bench/proxy_bench.sh BUILD [--ours PATH] [--igmpproxy PATH] [--rounds N]" >&2
    echo "       [--groups N] [--slow] [--only igmpproxy|ours]" >&2
    exit 64
}
[ $# -ge 1 ] || usage
BUILD=$(readlink -f "$1"); shift
OURS=$BUILD/smcroute IGMPPROXY="" ROUNDS=20 NGROUPS=1000 SLOW=0 only=""
while [ $# -gt 0 ]; do
    case $1 in
    --ours) OURS=$(readlink -f "${2:?}"); shift ;;
    --igmpproxy) IGMPPROXY=$(readlink -f "${2:?}"); shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --groups) NGROUPS=${2:?}; shift ;;
    --slow) SLOW=1 ;;
    --only) only=${2:?}; shift ;;
    *) usage ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "proxy_bench.sh: needs root (network namespaces, multicast routing)" >&2; exit 77; }
if [ -z "$IGMPPROXY" ] && [ "$only" = ours ]; then
    IGMPPROXY=/nonexistent # not run
elif [ -z "$IGMPPROXY" ]; then
    IGMPPROXY=$(bash "$(dirname "$self")/../tools/peer_igmpproxy.sh") \
        || { echo "proxy_bench.sh: cannot fetch igmpproxy (tests/tools/peer_igmpproxy.sh)" >&2; exit 1; }
fi
for f in "$OURS" "$IGMPPROXY" "$BUILD/tests/proxy_probe" "$BUILD/tests/mcjoin" "$BUILD/tests/mcsend"; do
    [ "$f" != /nonexistent ] || continue
    [ -x "$f" ] || { echo "proxy_bench.sh: $f missing" >&2; exit 1; }
done
[ -e /proc/net/ip_mr_cache ] || { echo "proxy_bench.sh: this kernel cannot route multicast (use tests/vm/vm.sh)" >&2; exit 1; }
export BUILD OURS IGMPPROXY ROUNDS NGROUPS SLOW

declare -A V=() # V[key|kind] = "v1 v2 ..."
for kind in igmpproxy ours; do
    [ -z "$only" ] || [ "$only" = "$kind" ] || continue
    echo "proxy_bench: $kind" >&2
    while read -r tag key val; do
        [ "$tag" = res ] && V[$key|$kind]+="$val "
    done < <(unshare -mnp --fork --kill-child --mount-proc --propagation private \
        bash "$self" --inner "$kind" 2> >(sed -u 's/^/  /' >&2))
done

pct() { # P values...: the P-th percentile (nearest rank), or "-"
    local p=$1; shift
    [ $# -gt 0 ] || { echo -; return; }
    printf '%s\n' "$@" | sort -g | awk -v p="$p" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.2f\n", a[i] }'
}
cell() { # KEY KIND [PCT]
    local v=${V[$1|$2]:-}
    # shellcheck disable=SC2086
    if [ -n "${3:-}" ]; then pct "$3" $v; else echo "${v:-"-"}" | awk '{ print $1 }'; fi
}
ours_state="ran"
if [ -n "${V[noproxy|ours]:-}" ]; then
    ours_state="DID NOT PROXY: ${V[noproxy|ours]//_/ }"
fi
line() { # LABEL IGMPPROXY OURS [ratio]
    local r=-
    if [ "${4:-}" = ratio ] && [[ $2 =~ ^[0-9.]+$ ]] && [[ $3 =~ ^[0-9.]+$ ]]; then
        r=$(awk -v a="$2" -v b="$3" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
    fi
    [ "$ours_state" = ran ] || [ "$3" != - ] || set -- "$1" "$2" "not run" "${4:-}"
    printf '%-34s %-16s %-16s %s\n' "$1" "$2" "$3" "$r"
}
echo
echo "IGMP proxy, IPv4: receivers send IGMPv2 reports and leaves (force_igmp_version=2; SSM row: IGMPv3),"
echo "both daemons at their default querier timers, ${ROUNDS} join/leave rounds, $NGROUPS groups"
echo "ours: $OURS ($ours_state)"
echo "igmpproxy: $IGMPPROXY"
printf '%-34s %-16s %-16s %s\n' figure igmpproxy smcroute "igmpproxy/smcroute (>1: ours less)"
printf '%-34s %-16s %-16s %s\n' ------ --------- -------- -----
for k in igmpproxy ours; do
    # shellcheck disable=SC2086
    eval "j50_$k=\$(pct 50 ${V[join_ms|$k]:-}) j99_$k=\$(pct 99 ${V[join_ms|$k]:-})"
    # shellcheck disable=SC2086
    eval "a50_$k=\$(pct 50 ${V[join_any_ms|$k]:-}) a99_$k=\$(pct 99 ${V[join_any_ms|$k]:-})"
    # shellcheck disable=SC2086
    eval "l50_$k=\$(pct 50 ${V[leave_ms|$k]:-}) l99_$k=\$(pct 99 ${V[leave_ms|$k]:-})"
done
line "join->first packet p50 (ms)" "$j50_igmpproxy" "$j50_ours" ratio
line "join->first packet p99 (ms)" "$j99_igmpproxy" "$j99_ours" ratio
line "  any age: p50 (ms)" "$a50_igmpproxy" "$a50_ours"
line "  any age: p99 (ms)" "$a99_igmpproxy" "$a99_ours"
line "leave->last packet p50 (ms)" "$l50_igmpproxy" "$l50_ours" ratio
line "leave->last packet p99 (ms)" "$l99_igmpproxy" "$l99_ours" ratio
line "both leave->last packet (ms)" "$(cell both_leave_ms igmpproxy)" "$(cell both_leave_ms ours)" ratio
line "$NGROUPS groups: all flowing (ms)" "$(cell groups_ms igmpproxy)" "$(cell groups_ms ours)" ratio
line "  groups seen" "$(cell groups_seen igmpproxy)" "$(cell groups_seen ours)"
for m in idle:"idle" groups:"after" settled:"settled"; do
    line "  daemon Rss ${m#*:} (kB)" "$(cell "rss_${m%%:*}" igmpproxy)" "$(cell "rss_${m%%:*}" ours)" ratio
    line "  daemon Pss ${m#*:} (kB)" "$(cell "pss_${m%%:*}" igmpproxy)" "$(cell "pss_${m%%:*}" ours)" ratio
    line "  daemon USS ${m#*:} (kB)" "$(cell "uss_${m%%:*}" igmpproxy)" "$(cell "uss_${m%%:*}" ours)" ratio
    line "    of it anonymous (kB)" "$(cell "anon_${m%%:*}" igmpproxy)" "$(cell "anon_${m%%:*}" ours)" ratio
    line "  (VmRSS ${m#*:}, lags: unjudged)" "$(cell "vmrss_${m%%:*}" igmpproxy)" "$(cell "vmrss_${m%%:*}" ours)"
done
line "  daemon CPU whole run (ms)" "$(cell cpu_ms igmpproxy)" "$(cell cpu_ms ours)" ratio
[ "$SLOW" = 1 ] && line "vanish->stop (s; RFC: 125-260)" "$(cell vanish_s igmpproxy)" "$(cell vanish_s ours)"
for r in before_join:"nothing before join" after_join:"forwarding after join" one_leaves:"two receivers, one leaves" \
         both_leave:"both leave: stops" vanish:"vanish: stops after interval" ssm:"SSM: only included source" \
         allow_deny:"allow/deny (whitelist)" upstream:"upstream membership" mld:"MLD"; do
    line "${r#*:}" "$(cell "row_${r%%:*}" igmpproxy)" "$(cell "row_${r%%:*}" ours)"
done
line "daemon alive at the end" "$(cell alive igmpproxy)" "$(cell alive ours)"

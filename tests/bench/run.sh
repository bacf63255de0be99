#!/usr/bin/env bash
# tests/bench/run.sh: the benchmark of smcroute (issue 7). Not a test (ctest
# does not run it): it prints figures. Run as root from the source tree:
#
#   bash tests/bench/run.sh BUILD [--vs /usr/sbin/smcrouted] [--quick] [--full]
#                           [--runs N] [--tsv PATH] [--only LIST]
#
# BUILD is a CMake build directory holding smcroute, tests/mcrecv and
# tests/bench/{mfc_floor,mfc_watch,config_parse} and tests/tools/burst_send. Every measurement runs in
# fresh network, mount and PID namespaces: a router namespace with veth
# links a1 (to a sender namespace, 10.0.1.0/24) and b1, b2 (to a receiver
# namespace), and a fresh daemon. Each figure is measured RUNS times
# (default 3, --quick 1) and printed as median [min-max]. --vs DAEMON also
# runs a second implementation (e.g. SMCRoute 2.5.6, with the smcroutectl
# next to it) alternately and prints the ratio peer/ours; its scenarios with
# 50 000 routes or more are skipped unless --full (it is quadratic: minutes).
# --quick: one run, sizes up to 10 000 only. --only floor,start,... runs
# just those scenarios (names as below). Output: a table on stdout and a
# TSV (default BUILD/bench.tsv). Progress and errors go to stderr.
#
# Figures (ms unless said otherwise; both daemons started the same way,
# `smcrouted -n -f CONF -l err`, timed from exec to the kernel's event):
#   floor    mfc_floor: MRT_INIT, 2 VIFs, N MRT_ADD_MFC, only the adds timed;
#            then the same program timed like `start` (exec to the Nth
#            RTM_NEWROUTE, with mfc_watch subscribed, so every add also
#            wakes a listener): the start targets are 2x this watched floor
#   start    exec of the daemon to the Nth RTM_NEWROUTE (rtnetlink
#            RTNLGRP_IPV4/IPV6_MROUTE, watched by mfc_watch; ENOBUFS fails)
#   reload   10 000 routes: `smcroutectl reload` with the config unchanged,
#            one OIF changed, one route replaced: time = later of the
#            command's return and the last kernel event; events counted
#   batch    `smcroutectl -b` adding 10 000 routes, to the last event
#   adds     one `smcroutectl add` process per route, 1 000 routes (target:
#            1.5x as fast as the peer), and the daemon's CPU time for them
#            (/proc/PID/schedstat)
#   show     `smcroutectl show` / `-j show` with 50 000 routes, to /dev/null
#   joins    1 000 mgroup lines, exec to all of them in /proc/net/igmp
#   burst    1 000 new sources on a (*,G) rule, one datagram each, forged by
#            burst_send (raw socket): first packets delivered, entries
#            installed, send-to-install latency p50/p99; unpaced and paced
#            at 1 000 new sources/s
#   idle     the daemon idle with an empty config, after answering `show`:
#            its resident memory from /proc/PID/smaps_rollup, exact: Rss
#            (every page it maps), Pss (shared pages divided among their
#            users: the peer's libc) and the private pages (USS: what
#            stopping it frees); targets: none above the peer's. VmRSS is
#            shown beside them but judged by nothing: since Linux 5.x/6.1 it
#            is a per-thread counter the kernel folds in only every 64
#            faults, and a fault maps up to 16 pages (fault-around), so it
#            lags by up to megabytes (a static program that only waits
#            shows 4 kB against an Rss of 692 kB)
#   rss      Rss (smaps) of the daemon with 10 000 and 100 000 routes, and
#            the bytes per route above idle
#   unres    how many unresolved (S,G) entries the kernel itself queues
#            (no daemon answering upcalls: mfc_floor -H)
#   parse    config_parse: the config parser alone, in-process, on 100 000
#            route lines, and on 20 000 lines that each hold an error, all
#            kept (the fastest of 3 parses; no namespaces, no daemon)
#   proxy    only when named in --only: the IGMP proxy beside igmpproxy 0.3
#            (tests/bench/proxy_bench.sh, which prints its own table; --quick
#            makes it 5 join/leave rounds instead of 20)
set -u -o pipefail

self=$(readlink -f "$0")

# =============================================================== inside
# bash run.sh --inner SCENARIO KIND ARGS...: one measurement in fresh
# namespaces; prints "res KEY VALUE" lines on stdout.
if [ "${1:-}" = --inner ]; then
    scen=$2 kind=$3
    shift 3
    T=/run/bench
    mount -t tmpfs -o mode=0755 bench-run /run || exit 1
    mkdir -p /run/netns "$T"
    say() { echo "[$scen/$kind] $*" >&2; }
    nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
    if [ "$kind" = ours ]; then
        DAEMON=$WORK/ours/smcrouted CTL=$WORK/ours/smcroutectl QUIET=500
    else
        DAEMON=$VS CTL=$VSCTL QUIET=2000
    fi

    # Topology: snd eth0 10.0.1.2 -- a1 [router] b1 -- rcv eth0, b2 -- rcv eth1
    ip link set lo up
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
    for ns in snd rcv; do
        ip netns add $ns
        nsx $ns ip link set lo up
        nsx $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
            net.ipv6.conf.default.accept_dad=0
    done
    ip link add a1 type veth peer name eth0 netns snd
    ip link add b1 type veth peer name eth0 netns rcv
    ip link add b2 type veth peer name eth1 netns rcv
    ip addr add 10.0.1.1/24 dev a1; ip addr add fd01::1/64 dev a1 nodad
    ip addr add 10.0.2.1/24 dev b1; ip addr add fd02::1/64 dev b1 nodad
    ip addr add 10.0.3.1/24 dev b2; ip addr add fd03::1/64 dev b2 nodad
    nsx snd ip addr add 10.0.1.2/24 dev eth0
    nsx snd ip addr add fd01::2/64 dev eth0 nodad
    nsx rcv ip addr add 10.0.2.2/24 dev eth0
    nsx rcv ip addr add 10.0.3.2/24 dev eth1
    for l in a1 b1 b2; do ip link set $l up; sysctl -qw net.ipv4.conf.$l.rp_filter=0; done
    nsx snd ip link set eth0 up
    nsx rcv ip link set eth0 up
    nsx rcv ip link set eth1 up
    nsx snd ip route add default via 10.0.1.1
    ip route add 10.1.0.0/16 via 10.0.1.2 # the burst's forged sources route back
    for ((i = 0; i < 100; i++)); do
        [ "$(ip link show up | grep -c LOWER_UP)" -ge 4 ] && break
        sleep 0.02
    done

    # kv FILE KEY: KEY's value in the last "new=..." line of FILE.
    kv() { grep -a '^new=\|^error=' "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
    ms() { awk -v s="$1" 'BEGIN { if (s < 0) print "fail"; else printf "%.3f\n", s * 1000 }'; }
    rss() { awk '/^Rss:/ {print $2}' "/proc/$1/smaps_rollup"; }
    # mem PID: the idle figures (see the head of this file).
    mem() {
        awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {u += $2}
             END {printf "res rss_0 %d\nres pss_0 %d\nres uss_0 %d\n", r, p, u}' "/proc/$1/smaps_rollup"
        awk '/^VmRSS:/ {print "res vmrss_0", $2}' "/proc/$1/status"
    }
    mfc_count() { # $1 = 4|6: entries in the kernel's MFC
        if [ "$1" = 4 ]; then f=/proc/net/ip_mr_cache; else f=/proc/net/ip6_mr_cache; fi
        echo $(($(wc -l < $f) - 1))
    }
    # start_routes FAMILY N CONF: start the daemon, wait for N kernel events.
    start_routes() {
        "$TOOLS/mfc_watch" -"$1" -n "$2" -T "$TMO" -O "$T/daemon.log" -- \
            "$DAEMON" -n -f "$3" -l err > "$T/start.out" 2> "$T/start.err"
        local rc=$?
        DPID=$(kv "$T/start.out" pid)
        [ "$rc" = 0 ] || { say "start: mfc_watch rc $rc: $(cat "$T/start.err" "$T/daemon.log" | tail -5)"; return 1; }
    }
    # start_idle CONF: start the daemon, wait until its client answers.
    start_idle() {
        "$DAEMON" -n -f "$1" -l err > "$T/daemon.log" 2>&1 &
        DPID=$!
        for ((i = 0; i < 500; i++)); do
            "$CTL" show > /dev/null 2>&1 && return 0
            sleep 0.01
        done
        say "daemon did not answer within 5 s: $(tail -5 "$T/daemon.log")"
        return 1
    }

    case $scen in
    floor) # FAMILY N
        fl=(); [ "$1" = 6 ] && fl=(-6)
        out=$("$TOOLS/mfc_floor" "${fl[@]}" -i a1 -o b1 -n "$2") || exit 1
        echo "res floor_v$1_$2 $(ms "${out#elapsed=}")"
        # The same kernel work timed like `start`: exec of mfc_floor to the
        # Nth RTM_NEWROUTE, with mfc_watch subscribed (every add then also
        # wakes the listener, which the bare floor does not pay).
        if "$TOOLS/mfc_watch" -"$1" -n "$2" -T "$TMO" -O "$T/floorw.log" -- \
                "$TOOLS/mfc_floor" "${fl[@]}" -i a1 -o b1 -n "$2" > "$T/floorw.out" 2> "$T/floorw.err"; then
            echo "res floorw_v$1_$2 $(ms "$(kv "$T/floorw.out" elapsed)")"
        else
            say "watched floor failed: $(cat "$T/floorw.err")"
            echo "res floorw_v$1_$2 fail"
        fi
        ;;
    start) # FAMILY N
        fam=$1 n=$2
        start_routes "$fam" "$n" "$WORK/routes_v${fam}_$n.conf" || { echo "res start_v${fam}_$n fail"; exit 0; }
        echo "res start_v${fam}_$n $(ms "$(kv "$T/start.out" elapsed)")"
        have=$(mfc_count "$fam")
        [ "$have" -ge "$n" ] || say "only $have of $n entries in the kernel"
        if [ "$fam" = 4 ]; then sleep 0.3; echo "res rss_$n $(rss "$DPID")"; fi
        ;;
    reload)
        cp "$WORK/reload_a.conf" "$T/run.conf"
        start_routes 4 10000 "$T/run.conf" || exit 0
        one_reload() { # NAME CONF [quiet]
            cp "$2" "$T/run.conf"
            "$TOOLS/mfc_watch" -4 -q "$QUIET" -w -T 300 -- "$CTL" reload > "$T/r.out" 2> "$T/r.err"
            local rc=$? st
            st=$(kv "$T/r.out" status)
            [ "$rc" = 0 ] && [ "$st" = 0 ] || say "reload $1: watch rc $rc, reload status $st: $(cat "$T/r.err")"
            [ "${3:-}" = quiet ] && return
            echo "res reload_${1}_ms $(ms "$(kv "$T/r.out" elapsed)")"
            echo "res reload_${1}_events $(($(kv "$T/r.out" new) + $(kv "$T/r.out" del)))"
        }
        one_reload unchanged "$WORK/reload_a.conf"
        one_reload oif "$WORK/reload_b.conf"
        one_reload back "$WORK/reload_a.conf" quiet
        one_reload replace "$WORK/reload_c.conf"
        ;;
    idle)
        echo "# empty" > "$T/empty.conf"
        start_idle "$T/empty.conf" || exit 0
        sleep 0.3
        mem "$DPID"
        ;;
    batch) # N
        echo "# empty" > "$T/empty.conf"
        start_idle "$T/empty.conf" || exit 0
        "$TOOLS/mfc_watch" -4 -n "$1" -w -T "$TMO" -- "$CTL" -b < "$WORK/batch_$1.txt" > "$T/b.out" 2> "$T/b.err"
        [ "$(kv "$T/b.out" status)" = 0 ] || say "batch: $(cat "$T/b.err") status $(kv "$T/b.out" status)"
        echo "res batch_$1 $(ms "$(kv "$T/b.out" elapsed)")"
        ;;
    adds) # N
        echo "# empty" > "$T/empty.conf"
        start_idle "$T/empty.conf" || exit 0
        cpu0=$(cut -d' ' -f1 "/proc/$DPID/schedstat")
        "$TOOLS/mfc_watch" -4 -n "$1" -w -T "$TMO" -- xargs -a "$WORK/adds_$1.txt" -L1 "$CTL" \
            > "$T/a.out" 2> "$T/a.err"
        [ "$(kv "$T/a.out" status)" = 0 ] || say "adds: $(tail -3 "$T/a.err") status $(kv "$T/a.out" status)"
        echo "res adds_$1 $(ms "$(kv "$T/a.out" elapsed)")"
        # The daemon's share: its time on a CPU (schedstat, ns) for all N.
        cpu1=$(cut -d' ' -f1 "/proc/$DPID/schedstat")
        echo "res adds_daemon_cpu_$1 $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f\n", (b - a) / 1e6 }')"
        ;;
    show) # N
        start_routes 4 "$1" "$WORK/routes_v4_$1.conf" || { echo "res show_$1 fail"; exit 0; }
        lines=$("$CTL" show | wc -l)
        [ "$lines" -ge "$1" ] || say "show printed $lines lines for $1 routes"
        t0=$EPOCHREALTIME; "$CTL" show > /dev/null; t1=$EPOCHREALTIME
        echo "res show_$1 $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) * 1000}')"
        if [ "$kind" = ours ]; then
            t0=$EPOCHREALTIME; "$CTL" -j show > /dev/null; t1=$EPOCHREALTIME
            echo "res showj_$1 $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) * 1000}')"
        fi
        ;;
    joins) # N
        base=$(awk '/a1/ {on=1; next} /^[0-9]/ {on=0} on {c++} END {print c+0}' /proc/net/igmp)
        "$TOOLS/mfc_watch" -J a1 -n $((base + $1)) -T 30 -O "$T/daemon.log" -- \
            "$DAEMON" -n -f "$WORK/joins_$1.conf" -l err > "$T/j.out" 2> "$T/j.err"
        rc=$?
        if [ "$rc" = 0 ]; then
            echo "res joins_$1 $(ms "$(kv "$T/j.out" elapsed)")"
        else
            say "joins: only $(($(kv "$T/j.out" new) - base)) of $1 after 30 s: $(tail -3 "$T/daemon.log")"
            echo "res joins_$1 fail"
        fi
        ;;
    burst) # NAME RATE
        name=$1 rate=$2 n=1000
        echo "mroute from a1 group 225.9.9.9 to b1" > "$T/burst.conf"
        start_idle "$T/burst.conf" || exit 0
        "$TOOLS/mfc_watch" -4 -v -n "$n" -T 15 -R "$T/w.ready" > "$T/ev" 2> "$T/ev.err" &
        wpid=$!
        nsx rcv "$RECV" -g 225.9.9.9 -p 5000 -i eth0 -w 6 -v -q -I burst -R "$T/r.ready" > "$T/rx" &
        rpid=$!
        for ((i = 0; i < 300; i++)); do
            [ -e "$T/w.ready" ] && [ -e "$T/r.ready" ] && break
            sleep 0.01
        done
        nsx snd "$TEST_TOOLS/burst_send" -T -g 225.9.9.9 -p 5000 -i eth0 -S 10.1.0.1 -N "$n" -r "$rate" > "$T/tx" \
            || say "burst_send failed"
        wait "$wpid" || say "watch: $(cat "$T/ev.err")"
        wait "$rpid"
        delivered=$(grep -c '^src ' "$T/rx")
        installed=$(awk '$1 == "ev" && $2 == "new" && $5 == "225.9.9.9" && !seen[$4]++ {c++} END {print c+0}' "$T/ev")
        kernel=$(awk 'NR > 1 && $1 == "090909E1" && $3 != "65535" {c++} END {print c+0}' /proc/net/ip_mr_cache)
        echo "res ${name}_first_pct $(awk -v d="$delivered" -v n="$n" 'BEGIN {printf "%.1f\n", 100 * d / n}')"
        echo "res ${name}_installed $installed"
        echo "res ${name}_kernel $kernel"
        awk '$1 == "tx" {sent[$4] = $3}
             $1 == "ev" && $2 == "new" && ($4 in sent) && !($4 in done) {done[$4] = 1; print ($3 - sent[$4]) * 1000}' \
            "$T/tx" "$T/ev" | sort -n > "$T/lat"
        if [ -s "$T/lat" ]; then
            echo "res ${name}_p50 $(awk '{a[NR]=$1} END {i = int(NR * 0.50 + 0.999); if (i < 1) i = 1; printf "%.3f\n", a[i]}' "$T/lat")"
            echo "res ${name}_p99 $(awk '{a[NR]=$1} END {i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; printf "%.3f\n", a[i]}' "$T/lat")"
        else
            echo "res ${name}_p50 fail"; echo "res ${name}_p99 fail"
        fi
        ;;
    unres) # the kernel's own unresolved queue: nobody answers upcalls
        for buf in default 8388608; do
            bl=(); [ "$buf" = default ] || bl=(-B "$buf")
            "$TOOLS/mfc_floor" -H -i a1 -o b1 -n 0 "${bl[@]}" > /dev/null &
            hpid=$!
            sleep 0.3
            nsx snd "$TEST_TOOLS/burst_send" -g 225.9.9.9 -p 5000 -i eth0 -S 10.1.0.1 -N 1000 > /dev/null
            sleep 0.3
            echo "res kernel_unres_$buf $(awk 'NR > 1 && $1 == "090909E1" {c++} END {print c+0}' /proc/net/ip_mr_cache)"
            kill "$hpid"; wait "$hpid"
            sleep 0.2 # closing the routing socket flushed the table
        done
        ;;
    *) echo "unknown scenario $scen" >&2; exit 64 ;;
    esac
    exit 0
fi

# =============================================================== outside
usage() {
    echo "usage: bash tests/bench/run.sh BUILD [--vs DAEMON] [--quick] [--full] [--runs N] [--tsv PATH]" >&2
    echo "       [--only floor,start,reload,idle,batch,adds,show,joins,burst,unres,parse,proxy]" >&2
    exit 64
}
[ $# -ge 1 ] || usage
build=$(readlink -f "$1"); shift
VS="" quick=0 full=0 runs="" tsv="" only=""
while [ $# -gt 0 ]; do
    case $1 in
    --vs) VS=$(readlink -f "${2:?--vs needs a daemon}"); shift ;;
    --quick) quick=1 ;;
    --full) full=1 ;;
    --runs) runs=${2:?}; shift ;;
    --tsv) tsv=${2:?}; shift ;;
    --only) only=,${2:?},; shift ;;
    *) usage ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, multicast routing)" >&2; exit 77; }
OURS=${SMCROUTE:-$build/smcroute}
TOOLS=$build/tests/bench
TEST_TOOLS=$build/tests
RECV=$TEST_TOOLS/mcrecv
for f in "$OURS" "$TOOLS/mfc_floor" "$TOOLS/mfc_watch" "$TOOLS/config_parse" "$TEST_TOOLS/burst_send" "$RECV"; do
    [ -x "$f" ] || { echo "run.sh: $f missing (build the project with tests)" >&2; exit 1; }
done
# Sanitizers and -O0 multiply the daemon's own cost: such figures say
# nothing about speed.
if grep -qE '^SMCROUTE_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null ||
    grep -qE '^CMAKE_BUILD_TYPE:STRING=Debug' "$build/CMakeCache.txt" 2>/dev/null; then
    echo "run.sh: warning: $build is a sanitized or Debug build; its figures are not representative" \
        "(build with: cmake -S . -B build && cmake --build build -j2)" >&2
fi
VSCTL=""
if [ -n "$VS" ]; then
    VSCTL=$(dirname "$VS")/smcroutectl
    [ -x "$VS" ] && [ -x "$VSCTL" ] || { echo "run.sh: $VS or $VSCTL missing" >&2; exit 1; }
fi
[ -n "$runs" ] || { if [ "$quick" = 1 ]; then runs=1; else runs=${RUNS:-3}; fi; }
[ -n "$tsv" ] || tsv=$build/bench.tsv
if [ "$quick" = 1 ]; then sizes="1000 10000" big=10000 show_n=10000; else sizes="1000 10000 50000 100000" big=100000 show_n=50000; fi
TMO=$([ "$full" = 1 ] && echo 900 || echo 120)

WORK=$(mktemp -d /tmp/smcroute-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/ours"
for l in smcrouted smcroutectl; do ln -s "$OURS" "$WORK/ours/$l"; done
export WORK TOOLS TEST_TOOLS RECV VS VSCTL TMO

# ------------------------------------------------------------ inputs
gen_routes() { # FAMILY N
    awk -v fam="$1" -v n="$2" 'BEGIN { for (k = 0; k < n; k++)
        if (fam == 4) printf "mroute from a1 source 10.0.1.2 group 225.%d.%d.%d to b1\n", int(k / 65536) % 256, int(k / 256) % 256, k % 256
        else printf "mroute from a1 source fd01::2 group ff0e::%x:%x to b1\n", int(k / 65536), k % 65536 }'
}
for n in $sizes; do
    gen_routes 4 "$n" > "$WORK/routes_v4_$n.conf"
    gen_routes 6 "$n" > "$WORK/routes_v6_$n.conf"
done
gen_routes 4 10000 > "$WORK/reload_a.conf"
sed '1s/to b1/to b2/' "$WORK/reload_a.conf" > "$WORK/reload_b.conf"
sed '1s/group 225\.0\.0\.0/group 226.0.0.0/' "$WORK/reload_a.conf" > "$WORK/reload_c.conf"
gen_routes 4 10000 | sed 's/^mroute from \(a1\) source \(\S*\) group \(\S*\) to \(b1\)$/add \1 \2 \3 \4/' > "$WORK/batch_10000.txt"
head -1000 "$WORK/batch_10000.txt" > "$WORK/adds_1000.txt"
awk 'BEGIN { for (k = 0; k < 1000; k++) printf "mgroup from a1 group 225.1.%d.%d\n", int(k / 256), k % 256 }' > "$WORK/joins_1000.conf"

# ------------------------------------------------------------ running
declare -A SAMPLES=() # SAMPLES[key|kind] = "v1 v2 ..."
declare -A SKIPPED=() # SKIPPED[key] = 1: the peer was not run
inner() { # SCENARIO KIND ARGS...: one measurement, records its samples
    local key val tag
    [ -z "$only" ] || [[ $only == *,$1,* ]] || return 0
    echo "bench: $*" >&2
    while read -r tag key val; do
        [ "$tag" = res ] && SAMPLES[$key|$2]+="$val "
    done < <(unshare -mnp --fork --kill-child --mount-proc --propagation private \
        bash "$self" --inner "$@" 2> >(sed 's/^/  /' >&2))
}
# both SCENARIO [BIG] ARGS...: ours, then the peer (unless BIG and not --full).
both() {
    local scen=$1 bigflag=$2; shift 2
    [ -z "$only" ] || [[ $only == *,$scen,* ]] || return 0
    inner "$scen" ours "$@"
    [ -n "$VS" ] || return 0
    if [ "$bigflag" = big ] && [ "$full" = 0 ]; then
        SKIPPED[$scen|$*]=1
        return 0
    fi
    inner "$scen" peer "$@"
}
peer_skipped() { [ -n "${SKIPPED[$1]:-}" ]; }
# parse N [-e]: the parser alone, in this process's namespaces (ours only);
# -e: every line an error.
parse() {
    local out key=parse_$1${2:+_errors}
    [ -z "$only" ] || [[ $only == *,parse,* ]] || return 0
    echo "bench: parse $*" >&2
    if out=$("$TOOLS/config_parse" -n "$1" -r 3 ${2:+"$2"}); then
        SAMPLES[$key|ours]+="${out#elapsed_ms=} "
    else
        SAMPLES[$key|ours]+="fail "
    fi
}

# The proxy side by side with igmpproxy: its own script and table.
if [[ $only == *,proxy,* ]]; then
    pargs=()
    [ "$quick" = 1 ] && pargs+=(--rounds 5)
    bash "$(dirname "$self")/proxy_bench.sh" "$build" --ours "$OURS" "${pargs[@]}"
    [ "$only" = ,proxy, ] && exit 0
fi

inner unres ours
for ((r = 1; r <= runs; r++)); do
    echo "bench: ---- run $r of $runs ----" >&2
    for n in $sizes; do
        for fam in 4 6; do
            inner floor ours "$fam" "$n"
            both start "$([ "$n" -ge 50000 ] && echo big || echo small)" "$fam" "$n"
        done
    done
    both reload small
    both idle small
    both batch small 10000
    both adds small 1000
    both show "$([ "$show_n" -ge 50000 ] && echo big || echo small)" "$show_n"
    both joins small 1000
    both burst small burst 0
    both burst small paced 1000
    parse 100000
    parse 20000 -e
done

# ------------------------------------------------------------ report
stats() { # values... -> "median min max" (or "fail")
    local v
    [ $# -gt 0 ] || { echo none; return; }
    for v in "$@"; do case $v in fail|'') echo fail; return ;; esac; done
    printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "none"; else print a[int((NR+1)/2)], a[1], a[NR]}'
}
fmt() { awk -v v="$1" 'BEGIN { if (v == int(v)) printf "%d", v; else if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else printf "%.2f", v }'; }

printf 'figure\tunit\tours_median\tours_min\tours_max\tpeer_median\tpeer_min\tpeer_max\tratio_peer_over_ours\ttarget\tverdict\n' > "$tsv"
printf '%-30s %-24s %-12s %-8s %-22s %s\n' "figure" "ours median [range]" "peer" "ratio" "target" "verdict"
printf '%-30s %-24s %-12s %-8s %-22s %s\n' "------" "-------------------" "----" "-----" "------" "-------"
# row KEY LABEL UNIT RATIO(yes|no|none: no peer figure) SKIPKEY TARGET-OP TARGET-VALUE
# TARGET-OP: le, ge, eq (ours' median against TARGET-VALUE), rge (the ratio
# peer/ours at least TARGET-VALUE; needs --vs) or "-" (none).
row() {
    local key=$1 label=$2 unit=$3 ratio=$4 skipkey=$5 op=$6 want=$7
    local ucell=$unit o p om="" omin="" omax="" pm="" pmin="" pmax="" cell pcell rcell tcell verdict=""
    # shellcheck disable=SC2086
    o=$(stats ${SAMPLES[$key|ours]:-})
    if [ "$o" = fail ]; then cell=fail verdict=FAIL
    elif [ "$o" = none ]; then cell=- ucell=""
    else
        read -r om omin omax <<<"$o"
        cell="$(fmt "$om") [$(fmt "$omin")-$(fmt "$omax")]"
    fi
    pcell=-; rcell=-
    if [ -n "$VS" ] && [ "$ratio" != none ]; then
        if [ -n "$skipkey" ] && peer_skipped "$skipkey"; then pcell=skipped
        else
            # shellcheck disable=SC2086
            p=$(stats ${SAMPLES[$key|peer]:-})
            case $p in
            fail) pcell=fail ;;
            none) pcell=n/a ;;
            *) read -r pm pmin pmax <<<"$p"; pcell=$(fmt "$pm")
               if [ "$ratio" = yes ] && [ -n "$om" ]; then
                   rcell=$(awk -v a="$om" -v b="$pm" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "-" }')
               fi ;;
            esac
        fi
    fi
    tcell=-
    if [ "$op" = rge ]; then
        # A target on the ratio peer/ours (a speed-up, or the peer's size
        # over ours): met when the ratio is at least WANT.
        tcell=">= ${want}x peer/ours"
        [ -n "$om" ] && [ -n "$pm" ] && verdict=$(awk -v a="$om" -v b="$pm" -v w="$want" \
            'BEGIN { print (a > 0 && b / a >= w) ? "ok" : "MISSED" }')
    elif [ "$op" != - ]; then
        case $op in le) tcell="<= $want $unit" ;; ge) tcell=">= $want $unit" ;; eq) tcell="= $want $unit" ;; esac
        if [ -n "$om" ]; then
            verdict=$(awk -v v="$om" -v w="$want" -v op="$op" 'BEGIN {
                ok = (op == "le") ? v <= w : (op == "ge") ? v >= w : v == w; print ok ? "ok" : "MISSED" }')
        fi
    fi
    printf '%-30s %-24s %-12s %-8s %-22s %s\n' "$label" "$cell${ucell:+ $ucell}" "$pcell" "$rcell" "$tcell" "$verdict"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$unit" "$om" "$omin" "$omax" "$pm" "$pmin" "$pmax" \
        "$rcell" "$tcell" "$verdict" >> "$tsv"
}
median_of() { stats ${SAMPLES[$1|ours]:-} | awk '{print $1}'; }

for n in $sizes; do
    for fam in 4 6; do
        row "floor_v${fam}_$n" "kernel floor v$fam N=$n" ms none "" - -
        row "floorw_v${fam}_$n" "  same, exec to Nth event" ms none "" - -
    done
done
for n in $sizes; do
    for fam in 4 6; do
        op=- want=-
        if { [ "$n" = 10000 ] && [ "$fam" = 4 ]; } || [ "$n" = 100000 ]; then
            f=$(median_of "floorw_v${fam}_$n")
            case $f in ''|fail|none) ;; *) op=le want=$(awk -v f="$f" 'BEGIN {printf "%.1f", 2 * f}') ;; esac
        fi
        row "start_v${fam}_$n" "start v$fam N=$n" ms yes "start|$fam $n" "$op" "$want"
    done
done
row reload_unchanged_ms "reload 10k unchanged" ms yes "" le 30
row reload_unchanged_events "  kernel events" ev no "" eq 0
row reload_oif_ms "reload 10k one OIF changed" ms yes "" le 30
row reload_oif_events "  kernel events" ev no "" eq 1
row reload_replace_ms "reload 10k one replaced" ms yes "" le 30
row reload_replace_events "  kernel events" ev no "" eq 2
row batch_10000 "batch -b 10k adds" ms yes "" le 200
row adds_1000 "1k add processes" ms yes "" rge 1.5
row adds_daemon_cpu_1000 "  daemon CPU for them" ms yes "" - -
row "show_$show_n" "show N=$show_n" ms yes "show|$show_n" le 150
row "showj_$show_n" "show -j N=$show_n" ms no "show|$show_n" le 150
row joins_1000 "1k joins (start to igmp)" ms yes "" le 15
row burst_first_pct "burst 1k: first packets" % no "" ge 99
row burst_installed "  entries installed" n no "" eq 1000
row burst_kernel "  in ip_mr_cache after" n no "" eq 1000
row burst_p50 "  send->install p50" ms yes "" - -
row burst_p99 "  send->install p99" ms yes "" - -
row paced_first_pct "paced 1k/s: first packets" % no "" ge 99
row paced_installed "  entries installed" n no "" eq 1000
row paced_p50 "  send->install p50" ms yes "" - -
row paced_p99 "  send->install p99" ms yes "" le 1
row rss_0 "RSS idle (smaps Rss)" kB yes "" rge 1
row pss_0 "  PSS idle" kB yes "" rge 1
row uss_0 "  private (USS) idle" kB yes "" rge 1
row vmrss_0 "  VmRSS idle (lags)" kB yes "" - -
for n in 10000 $big; do
    [ "$n" = 10000 ] && [ "$big" = 10000 ] && [ -n "${done10k:-}" ] && continue
    done10k=1
    row "rss_$n" "RSS N=$n" kB yes "$([ "$n" -ge 50000 ] && echo "start|4 $n")" - -
    # bytes per route above idle, per run
    for k in ours peer; do
        # shellcheck disable=SC2206
        a=(${SAMPLES[rss_0|$k]:-}) b=(${SAMPLES[rss_$n|$k]:-})
        for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do
            SAMPLES[bpr_$n|$k]+="$(awk -v a="${a[i]}" -v b="${b[i]}" -v n="$n" 'BEGIN {printf "%.0f", (b - a) * 1024 / n}') "
        done
    done
    row "bpr_$n" "  bytes/route above idle" B yes "$([ "$n" -ge 50000 ] && echo "start|4 $n")" le 250
done
row kernel_unres_default "kernel unresolved, 1k burst" entries none "" - -
row kernel_unres_8388608 "  same, 8 MiB upcall rcvbuf" entries none "" - -
row parse_100000 "parse 100k config lines" ms none "" le 1000
row parse_20000_errors "parse 20k lines, each an error" ms none "" - -

echo
echo "runs: $runs$([ "$quick" = 1 ] && echo ' (quick)'); ours: $OURS${VS:+; peer: $VS (ratio = peer / ours)}"
echo "TSV: $tsv"

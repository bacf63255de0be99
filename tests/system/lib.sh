# tests/system/lib.sh: shared machinery of the real-kernel system tests.
# Sourced by every tests/system/*.sh. It re-executes the calling script in
# private network, mount (and, where possible, PID) namespaces, builds a
# sender/router/receiver topology of veth pairs, starts the daemon, sends
# real multicast with tests/tools/mcsend and counts it with mcrecv.
#
# Environment (set by ctest): SMCROUTE = the smcroute binary, TOOLS = the
# directory holding mcsend/mcrecv, SRCDIR = the source tree (optional).
# Exit status: 0 pass, 1 fail, 77 skip (no root / namespaces / kernel support).
#
# Topology (the test's own namespace is the ROUTER):
#
#   snd  eth0 10.0.1.2/24 fd01::2/64 --- a1 10.0.1.1 fd01::1 ]
#   rcv1 eth0 10.0.2.2/24 fd02::2/64 --- b1 10.0.2.1 fd02::1 ] router
#   rcv2 eth0 10.0.3.2/24 fd03::2/64 --- b2 10.0.3.1 fd03::1 ]

set -u
set -o pipefail

TESTNAME=$(basename "$0" .sh)

say()  { echo "[$TESTNAME] $*"; }
skip() { echo "SKIP: $TESTNAME: $*"; exit 77; }

# ---------------------------------------------------------------- preflight

if [ -z "${SMCT_INSIDE:-}" ]; then
    [ "$(id -u)" = 0 ] || skip "needs root (network namespaces, multicast routing)"
    command -v unshare >/dev/null 2>&1 || skip "unshare(1) not found"
    command -v ip >/dev/null 2>&1 || skip "ip(8) (iproute2) not found"
    if [ -z "${SMCROUTE:-}" ] || [ -z "${TOOLS:-}" ]; then
        echo "usage: SMCROUTE=/path/to/smcroute TOOLS=/path/to/build/tests bash $0" >&2
        exit 2
    fi
    SMCROUTE=$(readlink -f "$SMCROUTE")
    TOOLS=$(readlink -f "$TOOLS")
    [ -x "$SMCROUTE" ] || { echo "FAIL: $TESTNAME: SMCROUTE=$SMCROUTE is not executable" >&2; exit 1; }
    for t in mcsend mcrecv; do
        [ -x "$TOOLS/$t" ] || { echo "FAIL: $TESTNAME: $TOOLS/$t missing (build the test tools)" >&2; exit 1; }
    done
    export SMCROUTE TOOLS SMCT_INSIDE=1
    script=$(readlink -f "$0")
    # A PID namespace too when possible: when the test's shell (its init)
    # dies, even by ctest's timeout, the kernel kills every daemon and helper.
    if unshare -mnp --fork --kill-child --mount-proc --propagation private true 2>/dev/null; then
        exec unshare -mnp --fork --kill-child --mount-proc --propagation private bash "$script" "$@"
    fi
    unshare -mn --propagation private true 2>/dev/null \
        || skip "cannot create network/mount namespaces (unshare -mn failed)"
    exec unshare -mn --propagation private bash "$script" "$@"
fi

# ------------------------------------------------------- inside the namespaces

# SMCT_TRACE=1: trace every command with a timestamp (where does time go?).
if [ -n "${SMCT_TRACE:-}" ]; then
    PS4='+ $EPOCHREALTIME ${FUNCNAME[0]:-main}:$LINENO '
    set -x
fi

mount -t tmpfs -o mode=0755 smct-run /run || skip "cannot mount a tmpfs on /run"
# sysfs of this network namespace (the daemon may look at /sys/class/net).
mount -t sysfs sysfs /sys 2>/dev/null || true
[ -e /proc/net/ip_mr_cache ] || skip "kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE)"

# Scratch space on the private /run tmpfs: it vanishes with the namespace,
# even when the test is killed before its cleanup runs.
TMP=/run/smct-$TESTNAME
BIN=$TMP/bin
# (Also the client of the unsanitized build, PROBE_BIN below, and ip(8)'s
# directory of named namespaces; one mkdir: every program start counts.)
PROBE_BIN=$TMP/probe-bin
mkdir -p /run/netns "$TMP" "$BIN" "$PROBE_BIN" || { echo "FAIL: $TESTNAME: cannot create $TMP" >&2; exit 1; }
for name in smcroute smcrouted smcroutectl; do
    ln -s "$SMCROUTE" "$BIN/$name"
done
# The system's own tools first (python3 included): a per-user shim earlier
# in PATH (pyenv, say) can cost seconds per start under software emulation.
export PATH="$BIN:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
CONF=$TMP/smcroute.conf
# The client of the UNSANITIZED build (PLAIN_SMCROUTE, as use_plain_daemon
# below), for probes that only ask whether a daemon answers yet (start_daemon):
# an instrument, not the code under test, and a sanitized program takes
# several hundred ms longer to start under software emulation.
plain=${PLAIN_SMCROUTE:-$SMCROUTE}
case "$plain" in /*) ;; *) plain=$PWD/$plain ;; esac
[ -x "$plain" ] || plain=$SMCROUTE
ln -s "$plain" "$PROBE_BIN/smcroutectl"
# nap SECONDS: sleep without starting a process (every program start is
# slow under software emulation, sleep(1) included): a read with a time
# limit on a FIFO that nobody writes to, opened anew each time so that no
# descriptor of it is inherited by the programs a test starts.
NAP_FIFO=$TMP/.nap
mkfifo "$NAP_FIFO" || { echo "FAIL: $TESTNAME: cannot create $NAP_FIFO" >&2; exit 1; }
nap() { read -r -t "$1" _ <>"$NAP_FIFO"; return 0; }

PORT=4321
SND_NS=snd
SRC4=10.0.1.2
SRC6=fd01::2
RECEIVERS="rcv1 rcv2"
DAEMON_PIDS=()
DAEMON_LOGS=()
RECV_PIDS=()
ROUND=0
declare -A STOPPED=() # STOPPED[pid] = 1 once stop_daemon saw it exit
declare -A RECV=()   # RECV[ns] = datagrams counted in the last round
declare -A TTLS=()   # TTLS[ns] = distinct TTLs seen in the last round, "7 " etc.

# ------------------------------------------------------------------ reporting

# Everything useful for understanding a failure: the kernel's tables and
# what the daemon thinks.
diag() {
    echo "---- diagnostics ----"
    echo "# /proc/net/ip_mr_vif";   cat /proc/net/ip_mr_vif 2>&1
    echo "# /proc/net/ip_mr_cache"; cat /proc/net/ip_mr_cache 2>&1
    if [ -e /proc/net/ip6_mr_cache ]; then
        echo "# /proc/net/ip6_mr_vif";   cat /proc/net/ip6_mr_vif 2>&1
        echo "# /proc/net/ip6_mr_cache"; cat /proc/net/ip6_mr_cache 2>&1
    fi
    echo "# ip mroute show table all";    ip mroute show table all 2>&1
    echo "# ip -6 mroute show table all"; ip -6 mroute show table all 2>&1
    local sock
    for sock in /run/*.sock; do
        [ -S "$sock" ] || continue
        echo "# smcroutectl -u $sock show"
        timeout 5 "$BIN/smcroutectl" -u "$sock" show 2>&1
    done
    echo "---------------------"
}

fail() {
    echo "FAIL: $TESTNAME: $*" >&2
    diag >&2
    exit 1
}

# pass [MSG]: stop every daemon still running (each must exit 0 on SIGTERM,
# so a crash or sanitizer report at shutdown fails the test), then PASS.
pass() {
    local pid
    for pid in "${DAEMON_PIDS[@]}"; do
        [ -n "${STOPPED[$pid]:-}" ] && continue
        if alive "$pid"; then
            stop_daemon "$pid"
        else
            wait "$pid" 2>/dev/null
            fail "daemon (pid $pid) died during the test, status $?"
        fi
    done
    echo "PASS: $TESTNAME${1:+: $1}"
    exit 0
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
    local what=$1; shift
    if "$@"; then
        say "ok: $what"
    else
        fail "$what (command: $*)"
    fi
}

# check_not DESCRIPTION COMMAND...: the command must fail.
check_not() {
    local what=$1; shift
    if "$@"; then
        fail "$what (command unexpectedly succeeded: $*)"
    else
        say "ok: $what"
    fi
}

# must COMMAND...: a setup step that must work.
must() {
    local out
    if ! out=$("$@" 2>&1); then
        fail "command failed: $* -- output: $out"
    fi
    [ -z "$out" ] || echo "$out"
}

# TIME_SCALE: how much slower than native this kernel runs the tests (1
# natively; the VM runner sets SMCT_TIME_SCALE under software emulation).
# Tests that assert how long something takes (expiry periods, "not before
# N s") scale their periods and their waits alike, so what they assert
# stays the same.
TIME_SCALE=${SMCT_TIME_SCALE:-1}
case "$TIME_SCALE" in ''|*[!0-9]*|0) TIME_SCALE=1 ;; esac

# scaled SECONDS: SECONDS (one decimal at most) times TIME_SCALE.
scaled() {
    local whole=${1%%.*} frac=0
    [ "$whole" != "$1" ] && frac=${1#*.} && frac=${frac:0:1}
    local tenths=$(( (${whole:-0} * 10 + frac) * TIME_SCALE ))
    echo "$((tenths / 10)).$((tenths % 10))"
}

# wait_for SECONDS COMMAND...: poll until the command succeeds, at most
# SECONDS x 10 times, 0.15 s apart (the pause is a nap, no longer a sleep(1)
# process, which made each poll take longer under software emulation; the
# longer pause keeps the wait as long as it was).
wait_for() {
    local tenths=$(( ${1%.*} * 10 )); shift
    local i
    for ((i = 0; i < tenths; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        nap 0.15
    done
    "$@" >/dev/null 2>&1
}

# alive PID: the process exists and is not a zombie.
alive() {
    local stat state
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    state=${stat##*) }
    state=${state%% *}
    [ -n "$state" ] && [ "$state" != Z ]
}

# ------------------------------------------------------------------- cleanup

cleanup() {
    local rc=$?
    trap - EXIT
    local pid f
    for pid in "${RECV_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${DAEMON_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    # Daemons that forked into the background (smcroute -d) left a pid file
    # in this test's private /run.
    for f in /run/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        case "$pid" in ''|*[!0-9]*) continue ;; esac
        kill -TERM "$pid" 2>/dev/null
    done
    nap 0.2
    for pid in "${DAEMON_PIDS[@]}"; do
        alive "$pid" && kill -KILL "$pid" 2>/dev/null
    done
    if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
        for f in "$TMP"/*.log; do
            [ -s "$f" ] || continue
            echo "---- $(basename "$f") ----" >&2
            tail -n 200 "$f" >&2
        done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ------------------------------------------------------------------ topology

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# sysctl_in NS KEY=VALUE...: set sysctls inside namespace NS in one process
# (every process start counts under software emulation).
sysctl_in() {
    local ns=$1; shift
    must ip netns exec "$ns" sysctl -qw "$@"
}

topo() {
    must sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0

    # The router's lo, the three namespaces and their sysctls: one ip(8)
    # batch (each program start counts under software emulation).
    local ns nsbatch="link set lo up
"
    for ns in snd rcv1 rcv2; do
        nsbatch+="netns add $ns
netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
"
    done
    must ip -batch - <<<"$nsbatch"

    # One ip(8) process for the router's side, one per host namespace.
    local spec rif lns net router="" host
    declare -A hostcmds=()
    for spec in a1:snd:1 b1:rcv1:2 b2:rcv2:3; do
        IFS=: read -r rif lns net <<<"$spec"
        router+="link add $rif type veth peer name eth0 netns $lns
addr add 10.0.$net.1/24 dev $rif
addr add fd0$net::1/64 dev $rif nodad
link set $rif up
"
        hostcmds[$lns]="link set lo up
addr add 10.0.$net.2/24 dev eth0
addr add fd0$net::2/64 dev eth0 nodad
link set eth0 up
route add default via 10.0.$net.1
route add ::/0 via fd0$net::1
"
    done
    must ip -batch - <<<"$router"
    must sysctl -qw net.ipv4.conf.a1.rp_filter=0 net.ipv4.conf.b1.rp_filter=0 net.ipv4.conf.b2.rp_filter=0
    for host in snd rcv1 rcv2; do
        must ip -n "$host" -batch - <<<"${hostcmds[$host]}"
    done

    # Both ends of every pair running (LOWER_UP), IPv6 addresses usable (no
    # tentative). A veth pair gets its carrier on both ends at once, when
    # the second end comes up, so the router side's carrier (read from
    # sysfs: no program started) says it for the pair.
    local ok=0 carrier deadline=$((SECONDS + 5 * TIME_SCALE))
    while ((SECONDS <= deadline)); do
        ok=1
        for rif in a1 b1 b2; do
            carrier=""
            { read -r carrier <"/sys/class/net/$rif/carrier"; } 2>/dev/null
            [ "$carrier" = 1 ] || ok=0
        done
        if [ "$ok" = 1 ]; then
            for lns in snd rcv1 rcv2; do
                [ -z "$(ip -n "$lns" -6 addr show tentative)" ] || ok=0
            done
            [ -z "$(ip -6 addr show tentative)" ] || ok=0
        fi
        [ "$ok" = 1 ] && break
        nap 0.1
    done
    [ "$ok" = 1 ] || fail "topology: links did not come up within $((5 * TIME_SCALE)) s"
    say "topology up: snd--a1 [router] b1--rcv1, b2--rcv2"
}

# Add an extra source address on the sender (a "fresh" source).
add_src() {
    case "$1" in
    *:*) must nsx "$SND_NS" ip addr add "$1/64" dev eth0 nodad ;;
    *)   must nsx "$SND_NS" ip addr add "$1/24" dev eth0 ;;
    esac
}

require_v6mr() {
    [ -e /proc/net/ip6_mr_cache ] || skip "kernel has no IPv6 multicast routing (CONFIG_IPV6_MROUTE)"
}

# ------------------------------------------------------------------- daemon

# write_conf: the config file from stdin.
write_conf() { cat >"$CONF"; }

# Client arguments that reach the daemon started with these daemon args.
_ctl_args_for() {
    local found=()
    while [ $# -gt 0 ]; do
        case "$1" in
        -i|-u) [ $# -ge 2 ] && found+=("$1" "$2"); shift ;;
        esac
        shift
    done
    echo "${found[@]}"
}

# start_daemon [DAEMON-ARGS...]: smcrouted in the foreground in the router
# namespace, config $CONF (unless -f given), log to $TMP/daemon[-IDENT].log.
# Returns once the daemon answers "show" on its socket: it is asked (by
# the unsanitized client, PROBE_BIN) as soon as its log says it is ready,
# and every 0.5 s meanwhile (a daemon whose log goes elsewhere); at most 50
# times.
start_daemon() {
    local ident="" a prev="" has_f=0
    for a in "$@"; do
        [ "$prev" = -i ] && ident=$a
        [ "$a" = -f ] && has_f=1
        prev=$a
    done
    [ -f "$CONF" ] || echo "# empty" >"$CONF"
    local log=$TMP/daemon${ident:+-$ident}.log
    local args=(-n -l debug)
    [ "$has_f" = 1 ] || args+=(-f "$CONF")
    say "+ smcrouted ${args[*]} $*"
    "$BIN/smcrouted" "${args[@]}" "$@" >"$log" 2>&1 &
    local pid=$!
    DAEMON_PIDS+=("$pid")
    DAEMON_LOGS+=("$log")
    DAEMON_PID=$pid
    local ctlargs i probes=0 text
    ctlargs=$(_ctl_args_for "$@")
    for ((i = 0; probes < 50; i++)); do
        if ! alive "$pid"; then
            wait "$pid"
            fail "daemon exited during start-up with status $? (log: $log)"
        fi
        text=""
        { read -r -d '' text <"$log"; } 2>/dev/null
        if [[ $text == *" ready, socket "* ]] || ((i % 10 == 9)); then
            probes=$((probes + 1))
            # shellcheck disable=SC2086
            if timeout $((5 * TIME_SCALE)) "$PROBE_BIN/smcroutectl" $ctlargs show >/dev/null 2>&1; then
                say "daemon up (pid $pid)"
                return 0
            fi
        fi
        nap 0.05
    done
    fail "daemon (pid $pid) did not answer 'smcroutectl $ctlargs show' (asked 50 times)"
}

# stop_daemon [PID]: SIGTERM (default: the last started daemon), wait for exit.
stop_daemon() {
    local pid=${1:-$DAEMON_PID} deadline=$((SECONDS + 10 * TIME_SCALE))
    kill -TERM "$pid" 2>/dev/null
    while alive "$pid" && ((SECONDS < deadline)); do
        nap 0.1
    done
    alive "$pid" && fail "daemon (pid $pid) still running $((10 * TIME_SCALE)) s after SIGTERM"
    wait "$pid" 2>/dev/null
    local rc=$?
    [ "$rc" = 0 ] || fail "daemon (pid $pid) exited with status $rc on SIGTERM, want 0"
    STOPPED[$pid]=1
    say "daemon (pid $pid) stopped, status 0"
}

# ctl_answers [CLIENT-OPTIONS...]: a daemon answers "show" on that socket.
ctl_answers() { timeout $((5 * TIME_SCALE)) "$BIN/smcroutectl" "$@" show >/dev/null 2>&1; }

# The client in its two personalities; output goes to the test's log.
ctl()    { say "+ smcroutectl $*"; timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" "$@"; }
legacy() { say "+ smcroute $*";    timeout $((10 * TIME_SCALE)) "$BIN/smcroute" "$@"; }

# ------------------------------------------------------------- kernel tables

# Byte order of the hex numbers in /proc/net/ip_mr_cache: the kernel prints a
# network-order __be32 with %08X, i.e. as a host-order integer.
if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" = 1 ]; then
    HOST_LE=1
else
    HOST_LE=0
fi

# hex4 A.B.C.D: the address as /proc/net/ip_mr_cache prints it.
hex4() {
    local a b c d
    IFS=. read -r a b c d <<<"$1"
    if [ "$HOST_LE" = 1 ]; then
        printf '%02X%02X%02X%02X' "$d" "$c" "$b" "$a"
    else
        printf '%02X%02X%02X%02X' "$a" "$b" "$c" "$d"
    fi
}

# expand6 ADDR: the address in the kernel's %pI6 form (8 groups, 4 hex digits).
expand6() {
    local addr=$1 head tail
    local -a h=() t=() all=()
    if [[ $addr == *::* ]]; then
        head=${addr%%::*}
        tail=${addr#*::}
    else
        head=$addr
        tail=""
    fi
    [ -n "$head" ] && IFS=: read -r -a h <<<"$head"
    [ -n "$tail" ] && IFS=: read -r -a t <<<"$tail"
    local missing=$((8 - ${#h[@]} - ${#t[@]})) i g out=""
    all=("${h[@]}")
    for ((i = 0; i < missing; i++)); do all+=(0); done
    all+=("${t[@]}")
    for g in "${all[@]}"; do
        out+=$(printf '%04x:' "$((16#$g))")
    done
    echo "${out%:}"
}

# mfc_line SRC GRP: the kernel MFC line for (SRC, GRP) in the default table,
# resolved entries only (unresolved ones have Iif -1).
mfc_line() {
    local src=$1 grp=$2
    case "$grp" in
    *:*)
        local s g
        s=$(expand6 "$src"); g=$(expand6 "$grp")
        awk -v g="$g" -v s="$s" 'NR > 1 && tolower($1) == g && tolower($2) == s && $3 != "-1" { print; found = 1 }
                                 END { exit !found }' /proc/net/ip6_mr_cache
        ;;
    *)
        awk -v g="$(hex4 "$grp")" -v s="$(hex4 "$src")" 'NR > 1 && toupper($1) == g && toupper($2) == s && $3 != "-1" { print; found = 1 }
                                 END { exit !found }' /proc/net/ip_mr_cache
        ;;
    esac
}

mfc_has()   { mfc_line "$1" "$2" >/dev/null; }
mfc_lacks() { ! mfc_line "$1" "$2" >/dev/null; }
# mfc_forwards SRC GRP: a resolved entry with at least one outbound VIF (an
# entry without OIFs is a stop filter and forwards nothing).
mfc_forwards() {
    local line
    line=$(mfc_line "$1" "$2") || return 1
    [ "$(echo "$line" | awk '{ print NF }')" -gt 6 ]
}

# mfc_count [4|6]: number of entries (resolved or not) in the kernel MFC.
mfc_count() {
    local f=/proc/net/ip_mr_cache
    [ "${1:-4}" = 6 ] && f=/proc/net/ip6_mr_cache
    [ -e "$f" ] || { echo 0; return; }
    awk 'NR > 1 { n++ } END { print n + 0 }' "$f"
}

# vif_count [4|6]: number of VIFs/MIFs the kernel holds.
vif_count() {
    local f=/proc/net/ip_mr_vif
    [ "${1:-4}" = 6 ] && f=/proc/net/ip6_mr_vif
    [ -e "$f" ] || { echo 0; return; }
    awk 'NR > 1 { n++ } END { print n + 0 }' "$f"
}

# mroute_table_has TABLE SRC GRP: (SRC, GRP) resolved in kernel table TABLE
# (netlink; /proc only shows the default table).
mroute_table_has() {
    local fam=-4
    case "$3" in *:*) fam=-6 ;; esac
    # iproute2 prints "(10.0.1.2,225.1.2.3)  Iif: a1  Oifs: b1  State: resolved"
    ip "$fam" mroute show table "$1" 2>/dev/null | grep -F "($2,$3)" | grep -q 'Iif:'
}

# ------------------------------------------------------------------ traffic

_wait_ready_files() {
    local f ok deadline=$((SECONDS + 5 * TIME_SCALE))
    while ((SECONDS <= deadline)); do
        ok=1
        for f in "$@"; do [ -e "$f" ] || ok=0; done
        [ "$ok" = 1 ] && return 0
        nap 0.1
    done
    return 1
}

# traffic v4|v6 GROUP COUNT [MCSEND-OPTIONS...]: start mcrecv (joined on
# eth0) in every namespace of $RECEIVERS, send COUNT datagrams from $SND_NS
# out of its eth0 (default source $SRC4/$SRC6, TTL 8, 100 pps unless the
# options say otherwise), then stop the receivers and record their counts in
# RECV[ns] and the TTLs they saw in TTLS[ns]. Each round uses a fresh id, so
# late datagrams of an earlier round are never counted.
traffic() {
    local fam=$1 group=$2 count=$3; shift 3
    local six=() src=$SRC4 o
    if [ "$fam" = v6 ]; then six=(-6); src=$SRC6; fi
    local has_src=0 has_rate=0
    for o in "$@"; do
        case "$o" in -s|-S) has_src=1 ;; -r) has_rate=1 ;; esac
    done
    local sendopts=()
    [ "$has_src" = 1 ] || sendopts+=(-s "$src")
    # mcsend paces at 100 pps; a slower kernel (and daemon) gets a slower
    # pace, so a new source's first datagrams, queued by the kernel while
    # the daemon installs the route, are not dropped for lack of time.
    [ "$has_rate" = 1 ] || [ "$TIME_SCALE" = 1 ] || sendopts+=(-r "$((100 / TIME_SCALE))")
    ROUND=$((ROUND + 1))
    local id=$ROUND ns pids=() ready=()
    for ns in $RECEIVERS; do
        rm -f "$TMP/$ns.ready"
        # ip netns exec directly (not the nsx function): $! must be mcrecv.
        ip netns exec "$ns" "$TOOLS/mcrecv" "${six[@]}" -g "$group" -p "$PORT" -i eth0 -w 60 -T -v \
            -I "$id" -R "$TMP/$ns.ready" >"$TMP/$ns.out" 2>"$TMP/$ns.err" &
        pids+=($!)
        ready+=("$TMP/$ns.ready")
    done
    RECV_PIDS=("${pids[@]}")
    _wait_ready_files "${ready[@]}" || fail "receivers did not start: $(cat "$TMP"/*.err)"
    LAST_SEND="$fam $group x$count from $SND_NS ${sendopts[*]} $*"
    say "send $LAST_SEND"
    if ! nsx "$SND_NS" "$TOOLS/mcsend" "${six[@]}" -g "$group" -p "$PORT" -i eth0 -n "$count" \
            -I "$id" "${sendopts[@]}" "$@"; then
        kill -TERM "${pids[@]}" 2>/dev/null
        fail "mcsend failed ($LAST_SEND)"
    fi
    nap 0.3  # let forwarded datagrams arrive
    kill -TERM "${pids[@]}" 2>/dev/null
    local i=0
    for ns in $RECEIVERS; do
        wait "${pids[$i]}" || fail "mcrecv in $ns failed: $(cat "$TMP/$ns.err")"
        i=$((i + 1))
        RECV[$ns]=$(head -n 1 "$TMP/$ns.out")
        TTLS[$ns]=$(awk '$1 == "ttl" { printf "%s ", $2 }' "$TMP/$ns.out")
        case "${RECV[$ns]}" in
        ''|*[!0-9]*) fail "mcrecv in $ns printed no count: $(cat "$TMP/$ns.out" "$TMP/$ns.err")" ;;
        esac
    done
    RECV_PIDS=()
    local summary=""
    for ns in $RECEIVERS; do summary+=" $ns=${RECV[$ns]}${TTLS[$ns]:+ (ttl ${TTLS[$ns]% })}"; done
    say "received:$summary"
}

# expect_recv NS N: in the last round NS received exactly N datagrams.
expect_recv() {
    local ns=$1 want=$2
    [ "${RECV[$ns]}" = "$want" ] \
        || fail "$ns: expected $want datagram(s), received ${RECV[$ns]} (sent: $LAST_SEND)"
    say "ok: $ns received $want"
}

# expect_recv_at_least NS N: for cases where a loss is inherent.
expect_recv_at_least() {
    local ns=$1 want=$2
    [ "${RECV[$ns]}" -ge "$want" ] \
        || fail "$ns: expected at least $want datagram(s), received ${RECV[$ns]} (sent: $LAST_SEND)"
    say "ok: $ns received ${RECV[$ns]} (>= $want)"
}

# expect_ttl NS TTL: every datagram NS received in the last round had TTL.
expect_ttl() {
    local ns=$1 want=$2
    [ "${TTLS[$ns]}" = "$want " ] \
        || fail "$ns: expected every datagram with TTL/hop limit $want, saw: '${TTLS[$ns]}' (sent: $LAST_SEND)"
    say "ok: $ns saw TTL $want"
}

# expect_forward v4|v6 GROUP RCV_NS [COUNT [MCSEND-OPTIONS...]]: all COUNT
# (default 10) datagrams reach RCV_NS.
expect_forward() {
    local fam=$1 group=$2 ns=$3 count=${4:-10}
    shift 3; [ $# -gt 0 ] && shift
    traffic "$fam" "$group" "$count" "$@"
    expect_recv "$ns" "$count"
}

# expect_no_forward v4|v6 GROUP RCV_NS [COUNT [MCSEND-OPTIONS...]]: none do.
expect_no_forward() {
    local fam=$1 group=$2 ns=$3 count=${4:-10}
    shift 3; [ $# -gt 0 ] && shift
    traffic "$fam" "$group" "$count" "$@"
    expect_recv "$ns" 0
}

# ------------------------------------------------------- group memberships

# ifindex IF: the interface's index (fails when it does not exist).
ifindex() {
    local idx
    { read -r idx <"/sys/class/net/$1/ifindex"; } 2>/dev/null || return 1
    echo "$idx"
}

# kernel_groups IF: every group the kernel holds on IF, by anyone, one per
# line: IPv4 dotted (/proc/net/igmp), IPv6 in expand6's form (/proc/net/igmp6).
kernel_groups() {
    local idx
    idx=$(ifindex "$1") || return 1
    awk -v idx="$idx" -v le="$HOST_LE" '
        function hx(h) { return index("0123456789abcdef", tolower(h)) - 1 }
        function byte(w, i) { return hx(substr(w, 2 * i - 1, 1)) * 16 + hx(substr(w, 2 * i, 1)) }
        /^[0-9]/ { dev = ($1 == idx); next }
        dev && NF >= 2 && length($1) == 8 {
            if (le) print byte($1, 4) "." byte($1, 3) "." byte($1, 2) "." byte($1, 1)
            else    print byte($1, 1) "." byte($1, 2) "." byte($1, 3) "." byte($1, 4)
        }' /proc/net/igmp
    [ -e /proc/net/igmp6 ] || return 0
    awk -v idx="$idx" '$1 == idx {
            out = ""
            for (i = 0; i < 8; i++) out = out (i ? ":" : "") substr($3, 4 * i + 1, 4)
            print tolower(out)
        }' /proc/net/igmp6
}

# kernel_sources IF GROUP: the source filter the kernel holds for GROUP on IF
# (/proc/net/mcfilter or mcfilter6), one "SOURCE INCLUDERS EXCLUDERS" a line;
# IPv4 dotted, IPv6 in expand6's form. Nothing for a plain (ASM) join.
kernel_sources() {
    local idx grp=$2
    idx=$(ifindex "$1") || return 1
    case "$grp" in
    *:*)
        [ -e /proc/net/mcfilter6 ] || return 0
        grp=$(expand6 "$grp" | tr -d :)
        awk -v idx="$idx" -v g="$grp" 'NR > 1 && $1 == idx && tolower($3) == g {
                out = ""
                for (i = 0; i < 8; i++) out = out (i ? ":" : "") substr($4, 4 * i + 1, 4)
                print tolower(out), $5, $6
            }' /proc/net/mcfilter6
        ;;
    *)
        local a b c d
        IFS=. read -r a b c d <<<"$grp"
        grp=$(printf '0x%02x%02x%02x%02x' "$a" "$b" "$c" "$d")
        # The kernel prints both addresses as 0x%08x of the host-order value,
        # i.e. in network (reading) order.
        awk -v idx="$idx" -v g="$grp" '
            function hx(h) { return index("0123456789abcdef", tolower(h)) - 1 }
            function byte(w, i) { return hx(substr(w, 2 * i + 1, 1)) * 16 + hx(substr(w, 2 * i + 2, 1)) }
            NR > 1 && $1 == idx && tolower($3) == g {
                print byte($4, 1) "." byte($4, 2) "." byte($4, 3) "." byte($4, 4), $5, $6
            }' /proc/net/mcfilter
        ;;
    esac
}

# kernel_joined IF GROUP [SOURCE]: the kernel holds GROUP on IF; with SOURCE,
# SOURCE is also in its filter, included by at least one socket.
kernel_joined() {
    local g=$2 s=${3:-}
    case "$g" in *:*) g=$(expand6 "$g") ;; esac
    local all
    all=$(kernel_groups "$1") || return 1  # (not piped into grep -q: pipefail)
    [[ $'\n'$all$'\n' == *$'\n'"$g"$'\n'* ]] || return 1  # one line is exactly $g
    [ -n "$s" ] || return 0
    case "$s" in *:*) s=$(expand6 "$s") ;; esac
    kernel_sources "$1" "$2" | awk -v s="$s" '$1 == s && $2 > 0 { f = 1 } END { exit !f }'
}
kernel_not_joined() { ! kernel_joined "$@"; }

# hold_join [-6] IF GROUP [-s SOURCE | -b SOURCE]: a membership held by a
# process other than the daemon (tests/tools/mcjoin) until the test exits:
# ASM, SSM (-s: INCLUDE {SOURCE}) or ASM blocking SOURCE (-b: EXCLUDE).
hold_join() {
    local six=()
    if [ "$1" = -6 ]; then six=(-6); shift; fi
    local ifn=$1 grp=$2; shift 2
    [ -x "$TOOLS/mcjoin" ] || fail "$TOOLS/mcjoin missing (build the test tools)"
    local ready=$TMP/mcjoin.$RANDOM.ready
    "$TOOLS/mcjoin" "${six[@]}" -i "$ifn" -g "$grp" "$@" -R "$ready" &
    HOLD_PID=$!
    _wait_ready_files "$ready" || fail "mcjoin ${six[*]} -i $ifn -g $grp $* did not join"
}

# mcfilter_anchor: hold a source-specific join on lo, IPv4 and IPv6, for the
# rest of the test. The kernel's reader of /proc/net/mcfilter{,6} looks only
# at the newest group of each device when it seeks the first line, so a
# device whose newest group is an ASM join is skipped: the files then miss
# SSM filters (or are empty). lo comes first, so with an SSM group on lo
# the files are complete. Call it before reading them (kernel_sources).
mcfilter_anchor() {
    hold_join lo 232.255.255.254 -s 10.255.255.254
    [ -e /proc/net/mcfilter6 ] && hold_join -6 lo ff3e::ffff:fffe -s fd00::ffff:fffe
    return 0
}

# ------------------------------------------------- long-running streams

# Background senders and receivers that run across several steps of a test
# (traffic does one send/receive round). NAME keys the files $TMP/NAME.*.
declare -A BG_PID=()  # BG_PID[name] = pid of its mcsend/mcrecv
declare -A BG_COUNT=() # BG_COUNT[name] = datagrams a stopped receiver counted

# bg_recv_start NAME NS [-6] GROUP ID: mcrecv in NS (joined on eth0)
# counting datagrams of "mcsend -I ID" to GROUP; returns once it has joined.
bg_recv_start() {
    local name=$1 ns=$2; shift 2
    local six=()
    if [ "$1" = -6 ]; then six=(-6); shift; fi
    rm -f "$TMP/$name.ready"
    ip netns exec "$ns" "$TOOLS/mcrecv" "${six[@]}" -g "$1" -p "$PORT" -i eth0 -w 3600 -I "$2" \
        -R "$TMP/$name.ready" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    BG_PID[$name]=$!
    RECV_PIDS+=("$!")
    _wait_ready_files "$TMP/$name.ready" || fail "receiver $name did not start: $(cat "$TMP/$name.err")"
}

# bg_recv_stop NAME: stop that receiver; its count goes to BG_COUNT[NAME].
bg_recv_stop() {
    local name=$1
    kill -TERM "${BG_PID[$name]}" 2>/dev/null
    wait "${BG_PID[$name]}" || fail "receiver $name failed: $(cat "$TMP/$name.err")"
    BG_COUNT[$name]=$(head -n 1 "$TMP/$name.out")
    case "${BG_COUNT[$name]}" in
    ''|*[!0-9]*) fail "receiver $name printed no count: $(cat "$TMP/$name.out" "$TMP/$name.err")" ;;
    esac
}

# bg_send_start NAME MCSEND-OPTIONS...: mcsend in $SND_NS out of its eth0.
bg_send_start() {
    local name=$1; shift
    nsx "$SND_NS" "$TOOLS/mcsend" -p "$PORT" -i eth0 "$@" >"$TMP/$name.log" 2>&1 &
    BG_PID[$name]=$!
    RECV_PIDS+=("$!")
}

# bg_send_wait NAME: wait for that sender to finish; it must have sent all.
bg_send_wait() {
    wait "${BG_PID[$1]}" || fail "sender $1 failed: $(cat "$TMP/$1.log")"
}

# bg_alive NAME: that sender/receiver is still running.
bg_alive() { alive "${BG_PID[$1]}"; }

# ---- two streams across reloads (reload_no_loss, sighup_storm)
# STREAMS_BASE: an (S,G) route 10.0.1.2 -> 225.1.2.3 and a (*,G) rule for
# 225.3.3.3 (source 10.0.1.3), both a1 -> b1 b2; STREAMS_EXTRA: an
# unrelated route the reloads add and remove.
STREAMS_BASE='mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
mroute from a1 group 225.3.3.3 to b1 b2'
STREAMS_EXTRA='mroute from a1 source 10.0.1.2 group 225.5.5.5 to b2'

# streams_conf with|without: the config is STREAMS_BASE, with or without
# STREAMS_EXTRA, replaced atomically (a reload never reads half a file).
streams_conf() {
    if [ "$1" = with ]; then printf '%s\n%s\n' "$STREAMS_BASE" "$STREAMS_EXTRA"; else echo "$STREAMS_BASE"; fi >"$CONF.new"
    mv -f "$CONF.new" "$CONF"
}

# streams_ready: with the daemon running STREAMS_BASE, the (*,G) stream's
# source is learned (the first packet of a new source is
# star_g_first_packet.sh's business) and a monitor of the kernel's MFC
# changes runs (MON, output in $TMP/monitor.out).
streams_ready() {
    traffic v4 225.3.3.3 2 -s 10.0.1.3
    check "(10.0.1.3, 225.3.3.3) learned" wait_for 3 mfc_forwards 10.0.1.3 225.3.3.3
    check "(10.0.1.2, 225.1.2.3) installed" mfc_forwards 10.0.1.2 225.1.2.3
    ip -4 monitor mroute >"$TMP/monitor.out" 2>&1 &
    MON=$!
    RECV_PIDS+=("$MON")
}

# streams_start N RATE ID: N datagrams at RATE pps on each stream (sender
# names sg and sx, stream ids ID and ID+1), received in rcv1 and
# rcv2.
streams_start() {
    local n=$1 rate=$2 id=$3 ns
    for ns in rcv1 rcv2; do
        bg_recv_start "sg-$ns" "$ns" 225.1.2.3 "$id"
        bg_recv_start "sx-$ns" "$ns" 225.3.3.3 $((id + 1))
    done
    bg_send_start sg -g 225.1.2.3 -s 10.0.1.2 -n "$n" -r "$rate" -I "$id"
    bg_send_start sx -g 225.3.3.3 -s 10.0.1.3 -n "$n" -r "$rate" -I $((id + 1))
}

# streams_all_arrived N ACROSS: after the senders finish, both receivers got
# all N datagrams of both streams, the kernel never deleted either entry,
# and the monitor saw the extra route deleted (so it was watching). ACROSS
# names what they went through, for the messages.
streams_all_arrived() {
    local n=$1 across=$2 ns
    bg_send_wait sg
    bg_send_wait sx
    nap 0.5  # let the last forwarded datagrams arrive
    for ns in rcv1 rcv2; do
        bg_recv_stop "sg-$ns"
        bg_recv_stop "sx-$ns"
        say "$ns: (S,G) stream ${BG_COUNT[sg-$ns]}/$n, (*,G) stream ${BG_COUNT[sx-$ns]}/$n"
        [ "${BG_COUNT[sg-$ns]}" = "$n" ] || fail "$ns received ${BG_COUNT[sg-$ns]} of $n (S,G) datagrams across $across"
        [ "${BG_COUNT[sx-$ns]}" = "$n" ] || fail "$ns received ${BG_COUNT[sx-$ns]} of $n (*,G)-learned datagrams across $across"
    done
    say "ok: no datagram lost on either stream"
    kill -TERM "$MON" 2>/dev/null
    wait "$MON" 2>/dev/null
    check_not "the kernel never deleted (10.0.1.2, 225.1.2.3)" grep -q 'Deleted.*(10.0.1.2,225.1.2.3)' "$TMP/monitor.out"
    check_not "the kernel never deleted (10.0.1.3, 225.3.3.3)" grep -q 'Deleted.*(10.0.1.3,225.3.3.3)' "$TMP/monitor.out"
    check "the monitor saw the extra route come and go" grep -q 'Deleted.*(10.0.1.2,225.5.5.5)' "$TMP/monitor.out"
}

# ------------------------------------------------ running things as nobody

# nobody_setup: skip unless setpriv(1) and user nobody exist; set NOGROUP
# (nobody's group) and NB, a directory with a copy of the binary and its
# smcrouted/smcroutectl links that nobody can run (the build tree may sit
# under a directory nobody cannot enter); define as_nobody CMD...
nobody_setup() {
    command -v setpriv >/dev/null 2>&1 || skip "setpriv(1) not found"
    id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
    NOGROUP=$(id -gn nobody)
    NB=$TMP/nobody-bin
    mkdir -p "$NB" && chmod 0755 "$TMP" "$NB"
    must cp "$SMCROUTE" "$NB/smcroute"
    chmod 0755 "$NB/smcroute"
    ln -sf smcroute "$NB/smcrouted"
    ln -sf smcroute "$NB/smcroutectl"
    AS_NOBODY=(setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups --)
}
# as_nobody CMD...: CMD as user nobody. In the background use
# "${AS_NOBODY[@]}" CMD... & instead: a function run with & is a subshell,
# and $! would be that shell, which a kill leaves CMD running past.
as_nobody() { "${AS_NOBODY[@]}" "$@"; }

# use_plain_daemon: from now on start_daemon runs the UNSANITIZED build
# (PLAIN_SMCROUTE; the program itself when the build is not sanitized), so
# VmRSS means what it says: AddressSanitizer's allocator holds freed memory
# in a quarantine and never gives it back. Clients keep the ordinary
# program. plain_daemon_runs: the daemon started last is that build.
use_plain_daemon() {
    PLAIN=$(readlink -f "${PLAIN_SMCROUTE:-$SMCROUTE}")
    [ -x "$PLAIN" ] || fail "PLAIN_SMCROUTE=$PLAIN is not executable"
    ln -sf "$PLAIN" "$BIN/smcrouted"
}
plain_daemon_runs() {
    [ "$(readlink -f "/proc/$DAEMON_PID/exe")" = "$PLAIN" ] \
        || fail "the daemon runs $(readlink -f "/proc/$DAEMON_PID/exe"), not $PLAIN"
    say "daemon is $PLAIN"
}

# one_route_conf: the config is one (S,G) route a1 -> b1, readable by
# everyone (a daemon started as another user reads it too).
one_route_conf() {
    echo 'mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1' | write_conf
    chmod 0644 "$CONF"
}

# victim_make: VICTIM, a root-only file (0600, known content) that an attack
# tries to reach through a link or a path; victim_intact LABEL fails unless
# its mode, owner, size and content are as they were.
victim_make() {
    VICTIM=$TMP/victim
    printf 'root-only secret\n' >"$VICTIM"
    chmod 0600 "$VICTIM"
    VICTIM_STATE="$(stat -c '%a %U:%G %s' "$VICTIM") $(md5sum <"$VICTIM")"
}
victim_intact() {
    local now
    now="$(stat -c '%a %U:%G %s' "$VICTIM") $(md5sum <"$VICTIM")"
    [ "$now" = "$VICTIM_STATE" ] \
        || fail "$1: the root-only file $VICTIM was changed: now '$(stat -c '%a %U:%G %s' "$VICTIM")', content '$(head -c 80 "$VICTIM")' (was 600 root:root, 'root-only secret')"
    say "ok: $1: root-only file untouched (600 root:root, 'root-only secret')"
}

# ------------------------------------------------------------ IGMP/MLD proxy

# The proxy tests' topology (tests/system/proxy_*.sh), instead of topo:
#
#   snd eth0 10.0.1.2 fd01::2 --- a1 10.0.1.1 fd01::1 [router, upstream]
#   snd eth1 10.0.4.2 fd04::2 --- a2 10.0.4.1 fd04::1 [router]
#   router br0 10.0.2.1 fd02::1 (a bridge, no snooping: a plain segment)
#       port p1 --- rcv1 eth0 10.0.2.2 fd02::2
#       port p2 --- rcv2 eth0 10.0.2.3 fd02::3
#   router b2 10.0.3.1 fd03::1 --- rcv3 eth0 10.0.3.2 fd03::2
#
# Receivers are real host stacks: a socket joins (mcjoin, mcrecv) and the
# namespace's own kernel sends the reports and leaves; proxy_version NS
# v4|v6 N sets which version it speaks (force_igmp_version /
# force_mld_version; 0 = the newest). proxy_probe (tests/tools) watches a
# link: it sees every frame that arrives on it, member or not.
proxy_topo() {
    must sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
    local ns nsbatch="link set lo up
"
    for ns in snd rcv1 rcv2 rcv3; do
        nsbatch+="netns add $ns
netns exec $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
"
    done
    must ip -batch - <<<"$nsbatch"
    must ip -batch - <<'IP'
link add a1 type veth peer name eth0 netns snd
link add a2 type veth peer name eth1 netns snd
link add br0 type bridge mcast_snooping 0
link add p1 type veth peer name eth0 netns rcv1
link add p2 type veth peer name eth0 netns rcv2
link add b2 type veth peer name eth0 netns rcv3
link set p1 master br0
link set p2 master br0
addr add 10.0.1.1/24 dev a1
addr add fd01::1/64 dev a1 nodad
addr add 10.0.4.1/24 dev a2
addr add fd04::1/64 dev a2 nodad
addr add 10.0.2.1/24 dev br0
addr add fd02::1/64 dev br0 nodad
addr add 10.0.3.1/24 dev b2
addr add fd03::1/64 dev b2 nodad
link set a1 up
link set a2 up
link set br0 up
link set p1 up
link set p2 up
link set b2 up
IP
    must ip -n snd -batch - <<'IP'
link set lo up
addr add 10.0.1.2/24 dev eth0
addr add fd01::2/64 dev eth0 nodad
addr add 10.0.4.2/24 dev eth1
addr add fd04::2/64 dev eth1 nodad
link set eth0 up
link set eth1 up
route add default via 10.0.1.1
route add ::/0 via fd01::1
IP
    local host net last
    for host in rcv1:2:2 rcv2:2:3 rcv3:3:2; do
        IFS=: read -r host net last <<<"$host"
        must ip -n "$host" -batch - <<IP
link set lo up
addr add 10.0.$net.$last/24 dev eth0
addr add fd0$net::$last/64 dev eth0 nodad
link set eth0 up
route add default via 10.0.$net.1
IP
    done
    must sysctl -qw net.ipv4.conf.a1.rp_filter=0 net.ipv4.conf.a2.rp_filter=0 \
        net.ipv4.conf.br0.rp_filter=0 net.ipv4.conf.b2.rp_filter=0
    local ok=0 l deadline=$((SECONDS + 5 * TIME_SCALE)) c
    while ((SECONDS <= deadline)); do
        ok=1
        for l in a1 a2 p1 p2 b2; do
            c=""; { read -r c <"/sys/class/net/$l/carrier"; } 2>/dev/null
            [ "$c" = 1 ] || ok=0
        done
        c=""; { read -r c <"/sys/class/net/br0/operstate"; } 2>/dev/null
        [ "$c" = up ] || ok=0
        [ "$ok" = 1 ] && [ -z "$(ip -6 addr show tentative)" ] && break
        ok=0
        nap 0.1
    done
    [ "$ok" = 1 ] || fail "proxy topology: links did not come up within $((5 * TIME_SCALE)) s"
    [ -x "$TOOLS/proxy_probe" ] || fail "$TOOLS/proxy_probe missing (build the test tools)"
    [ -x "$TOOLS/mcjoin" ] || fail "$TOOLS/mcjoin missing (build the test tools)"
    say "proxy topology up: snd--a1 [router] br0{p1--rcv1, p2--rcv2}, snd--a2, b2--rcv3"
}

# proxy_version NS v4|v6 N: the IGMP (v4) or MLD (v6) version NS's kernel
# speaks on eth0 (0: the newest, IGMPv3/MLDv2).
# link_local [NS] IF: the first IPv6 link-local address of IF (in NS, or
# here); empty when it has none.
link_local() {
    local pre=()
    if [ $# -gt 1 ]; then pre=(ip netns exec "$1"); shift; fi
    "${pre[@]}" ip -6 addr show dev "$1" scope link | awk '$1 == "inet6" { sub("/.*", "", $2); print $2; exit }'
}
proxy_version() {
    if [ "$2" = v4 ]; then sysctl_in "$1" "net.ipv4.conf.eth0.force_igmp_version=$3"
    else sysctl_in "$1" "net.ipv6.conf.eth0.force_mld_version=$3"; fi
}

# pjoin NAME NS [-6] GROUP [-s SOURCE]: a membership held by a socket in NS
# on eth0 (mcjoin) until pleave NAME; returns once joined.
declare -A PJOIN=()
pjoin() {
    local name=$1 ns=$2; shift 2
    local six=()
    if [ "$1" = -6 ]; then six=(-6); shift; fi
    local grp=$1; shift
    rm -f "$TMP/$name.jready"
    ip netns exec "$ns" "$TOOLS/mcjoin" "${six[@]}" -i eth0 -g "$grp" "$@" -R "$TMP/$name.jready" \
        >"$TMP/$name.join.log" 2>&1 &
    PJOIN[$name]=$!
    RECV_PIDS+=("$!")
    _wait_ready_files "$TMP/$name.jready" || fail "$ns could not join $grp $*: $(cat "$TMP/$name.join.log")"
    say "$ns joined $grp $*"
}
# pleave NAME: that socket closes; its kernel sends the leave (or the
# IGMPv3/MLDv2 TO_IN {} report).
pleave() {
    kill -TERM "${PJOIN[$1]}" 2>/dev/null
    wait "${PJOIN[$1]}" 2>/dev/null
    say "$1 left"
}

# psend NAME [-6] GROUP SOURCE [IFNAME]: a steady stream (100 pps, scaled
# down under emulation) from SOURCE in snd out of eth0 (or IFNAME) until the
# test ends or kill "${BG_PID[NAME]}".
psend() {
    local name=$1; shift
    local six=()
    if [ "$1" = -6 ]; then six=(-6); shift; fi
    # ip netns exec directly (not the nsx function): $! must be mcsend.
    ip netns exec snd "$TOOLS/mcsend" "${six[@]}" -g "$1" -s "$2" -p "$PORT" -i "${3:-eth0}" -n 100000000 \
        -r "$((100 / TIME_SCALE))" -t 8 >"$TMP/$name.log" 2>&1 &
    BG_PID[$name]=$!
    RECV_PIDS+=("$!")
}

# on_link NS IF [-6] GROUP [-s SOURCE] MODE...: proxy_probe watch on that
# link (NS "-" = the router): MODE -a (a frame arrives within -T SEC), -w SEC
# (prints "count N"), -Q QUIET -T SEC (quiet; prints "quiet_after_ms X").
on_link() {
    local ns=$1 ifn=$2; shift 2
    local six=()
    if [ "$1" = -6 ]; then six=(-6); shift; fi
    local grp=$1; shift
    if [ "$ns" = - ]; then
        "$TOOLS/proxy_probe" watch "${six[@]}" -i "$ifn" -g "$grp" -p "$PORT" "$@"
    else
        ip netns exec "$ns" "$TOOLS/proxy_probe" watch "${six[@]}" -i "$ifn" -g "$grp" -p "$PORT" "$@"
    fi
}
# frames_on NS IF [-6] GROUP [-s SOURCE] SECONDS: how many frames of the
# group arrive on that link within SECONDS.
frames_on() {
    local secs=${*: -1}
    on_link "${@:1:$#-1}" -w "$secs" | awk '$1 == "count" { print $2 }'
}
# arrives NS IF [-6] GROUP [-s SOURCE] SECONDS: a frame arrives within SECONDS.
arrives() {
    local secs=${*: -1}
    on_link "${@:1:$#-1}" -a -T "$secs" >/dev/null
}
# stops_within NS IF [-6] GROUP [-s SOURCE] QUIET LIMIT: the group's frames
# stop (QUIET seconds without one) within LIMIT seconds; sets STOPPED_MS to
# the time from the call to the last frame.
stops_within() {
    local limit=${*: -1} quiet=${*: -2:1} out
    out=$(on_link "${@:1:$#-2}" -Q "$quiet" -T "$limit") || return 1
    STOPPED_MS=$(echo "$out" | awk '{ print $2 }')
}

# The proxy's view: `show proxy -j`, asked with a python3 expression over
# R, the row of IFNAME and FAMILY (IPv4|IPv6), and G, its group GROUP (or
# None). pq IF FAMILY GROUP EXPR: prints EXPR's value (JSON); fails (so
# pq_is is false) when the daemon does not answer or has not exactly one
# such row: a check that a group is absent cannot pass on no answer.
pq() {
    local json
    json=$(timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" show proxy -j 2>&1) || { echo "show proxy -j failed: $json" >&2; return 1; }
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
rows = [r for r in d["proxy"] if r["interface"] == sys.argv[2] and r["family"] == sys.argv[3]]
if len(rows) != 1:
    sys.exit("show proxy -j has %d rows for %s %s" % (len(rows), sys.argv[2], sys.argv[3]))
R = rows[0]
G = None
for g in R.get("groups", []):
    if g["group"] == sys.argv[4]:
        G = g
print(json.dumps(eval(sys.argv[5])))
' "$json" "$1" "$2" "$3" "$4"
}
# pq_is IF FAMILY GROUP EXPR: EXPR is true.
pq_is() { [ "$(pq "$@")" = true ]; }
# proxy_show: the whole `show proxy -j`, for the log.
proxy_show() { timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" show proxy -j 2>&1; }

# capture_start NAME NS IF: proxy_probe capture of IGMP/MLD on that link
# (NS "-": the router) into $TMP/NAME.cap until the test ends.
capture_start() {
    local name=$1 ns=$2 ifn=$3 pre=()
    [ "$ns" = - ] || pre=(ip netns exec "$ns")
    rm -f "$TMP/$name.cready"
    "${pre[@]}" "$TOOLS/proxy_probe" capture -i "$ifn" -w 3600 -R "$TMP/$name.cready" >"$TMP/$name.cap" 2>&1 &
    BG_PID[$name]=$!
    RECV_PIDS+=("$!")
    _wait_ready_files "$TMP/$name.cready" || fail "capture $name did not start: $(cat "$TMP/$name.cap")"
}

#!/bin/bash
# The 2.x compatibility corpus (tests/compat/), replayed against Debian's
# SMCRoute 2.5.6 and against ours on the same kernel, in fresh network
# namespaces with the interfaces the corpus names (eth0..eth3, virbr0):
#  * every config of tests/compat/configs: each daemon starts on it, and
#    the kernel state it sets up (MFC entries with their outbound
#    interfaces and TTL thresholds, joins, source filters; by interface
#    name, tests/tools/kernel_state.py) must be the same;
#  * every line of tests/compat/cmdlines.txt: a client command, a daemon
#    command line or a print-and-exit option; where 2.5.6 accepts it, ours
#    must too. The state after all client lines is compared as well.
# A difference is allowed only where tests/compat/differences.txt lists it
# with its reason (the migration notes of README and smcroute(8) say what
# to do); a listed difference that no longer occurs fails too, so the list
# stays true. Needs the 2.5.6 package unpacked by tests/tools/peer_smcroute.sh
# (ctest's fixture peer_smcroute does it; SMCROUTE_PEER_ROOT overrides).
. "$(dirname "$0")/lib.sh"

PEER=${SMCROUTE_PEER_ROOT:-/var/cache/smcroute-peer/root-2.5.6-1}
[ -x "$PEER/usr/sbin/smcrouted" ] || fail "no SMCRoute 2.5.6 at $PEER (run tests/tools/peer_smcroute.sh)"
[ -n "${SRCDIR:-}" ] || fail "SRCDIR (the source tree) is not set"
CORPUS=$SRCDIR/tests/compat
STATE="python3 $SRCDIR/tests/tools/kernel_state.py"
IFACES=(eth0 eth1 eth2 eth3 virbr0)
declare -A DAEMON=([ours]=$BIN/smcrouted [peer]=$PEER/usr/sbin/smcrouted)
declare -A CLIENT=([ours]=$BIN/smcroutectl [peer]=$PEER/usr/sbin/smcroutectl)
NS_N=0
FAILS=()
problem() { say "DIFFERENT: $*"; FAILS+=("$*"); }

# fresh_ns: a new namespace with the corpus's interfaces; its name in $NS.
fresh_ns() {
    NS=c$((NS_N += 1))
    must ip netns add "$NS"
    ip -n "$NS" link set lo up
    local i=1 n
    for n in "${IFACES[@]}"; do
        must ip -n "$NS" link add "$n" type dummy
        must ip -n "$NS" link set "$n" multicast on up
        must ip -n "$NS" addr add "192.168.$i.1/24" dev "$n"
        must ip -n "$NS" addr add "2001:db8:$i::1/64" dev "$n" nodad
        i=$((i + 1))
    done
}

# settled_state: the kernel state once two reads 0.3 s apart agree.
settled_state() {
    local a b i
    a=$(ip netns exec "$NS" $STATE)
    for ((i = 0; i < 20 * TIME_SCALE; i++)); do
        sleep 0.3
        b=$(ip netns exec "$NS" $STATE)
        [ "$a" = "$b" ] && break
        a=$b
    done
    printf '%s\n' "$b"
}

# daemon_up IMPL TAG CONF ARGS...: that implementation's daemon in a fresh
# namespace; 0 once it answers "show" (its pid in DPID), 1 if it exits or
# does not answer within 10 s.
daemon_up() {
    local impl=$1 tag=$2 conf=$3 i; shift 3
    fresh_ns
    SOCK=$TMP/$tag-$impl.sock
    LOG=$TMP/$tag-$impl.log
    ip netns exec "$NS" "${DAEMON[$impl]}" -n -f "$conf" -u "$SOCK" -P "$TMP/$tag-$impl.pid" "$@" >"$LOG" 2>&1 &
    DPID=$!
    for ((i = 0; i < 100 * TIME_SCALE; i++)); do
        alive "$DPID" || { wait "$DPID"; return 1; }
        timeout $((5 * TIME_SCALE)) "${CLIENT[$impl]}" -u "$SOCK" show >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

daemon_down() {
    kill -TERM "$DPID" 2>/dev/null
    local i
    for ((i = 0; i < 50 * TIME_SCALE; i++)); do alive "$DPID" || break; sleep 0.1; done
    kill -KILL "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
    ip netns del "$NS"
}

# compare TAG: the two state files of TAG against the allowed differences.
compare() {
    local tag=$1 d allowed
    allowed=$(sed -n "s/^$tag\t\([-+][^\t]*\)\t.*/\1/p" "$CORPUS/differences.txt" | sort)
    # VIFs are left out: 2.x makes every interface a VIF at start-up, ours
    # only those a route or join names (README, migration notes).
    d=$(diff <(grep -v '^vif' "$TMP/$tag-peer.state") <(grep -v '^vif' "$TMP/$tag-ours.state") \
        | sed -n 's/^< /-/p; s/^> /+/p' | sort)
    if [ "$d" != "$allowed" ]; then
        problem "$tag: kernel state (- only 2.5.6, + only ours) differs from the listed differences:"
        diff <(printf '%s' "${allowed:+$allowed$'\n'}") <(printf '%s' "${d:+$d$'\n'}") \
            | sed -n 's/^> /  unlisted: /p; s/^< /  listed but not seen: /p'
        say "2.5.6 log:"; sed 's/^/    /' "$TMP/$tag-peer.log" | head -20
        say "our log:"; sed 's/^/    /' "$TMP/$tag-ours.log" | head -20
    else
        say "ok: $tag ($(wc -l <"$TMP/$tag-ours.state") facts${allowed:+, $(printf '%s\n' "$allowed" | wc -l) listed differences})"
    fi
}

# ------------------------------------------------------------------ configs
for conf in "$CORPUS"/configs/*.conf; do
    tag=$(basename "$conf" .conf)
    read -ra extra <<<"$(sed -n 's/^# compat-args: //p' "$conf")"
    for impl in peer ours; do
        if daemon_up "$impl" "$tag" "$conf" "${extra[@]}"; then
            settled_state >"$TMP/$tag-$impl.state"
            daemon_down
        else
            echo "DID NOT START" >"$TMP/$tag-$impl.state"
            ip netns del "$NS"
        fi
    done
    compare "$tag"
done

# ------------------------------------------------------------ command lines
declare -A RC=()
for impl in peer ours; do
    daemon_up "$impl" cmdlines "$CORPUS/cmdlines.conf" || fail "$impl daemon does not start on cmdlines.conf"
    n=0
    while IFS= read -r line; do
        n=$((n + 1))
        case "$line" in ctl\ *) ;; *) continue ;; esac
        eval "args=(${line#ctl })"
        timeout $((10 * TIME_SCALE)) "${CLIENT[$impl]}" -u "$SOCK" "${args[@]}" </dev/null >"$TMP/ctl-$impl-$n.out" 2>&1
        RC[$impl:$n]=$?
    done <"$CORPUS/cmdlines.txt"
    settled_state >"$TMP/cmdlines-$impl.state"
    daemon_down
done
empty=$TMP/empty.conf
: >"$empty"
n=0
while IFS= read -r line; do
    n=$((n + 1))
    case "$line" in
    ctl\ *)
        ;;
    daemon|daemon\ *)
        eval "args=(${line#daemon})"
        for impl in peer ours; do
            if daemon_up "$impl" "d$n" "$empty" "${args[@]}"; then RC[$impl:$n]=0; daemon_down
            else RC[$impl:$n]=1; ip netns del "$NS"; cp "$LOG" "$TMP/ctl-$impl-$n.out"; fi
        done ;;
    exit\ *)
        eval "args=(${line#exit })"
        for impl in peer ours; do
            timeout $((10 * TIME_SCALE)) "${DAEMON[$impl]}" "${args[@]}" >"$TMP/ctl-$impl-$n.out" 2>&1
            RC[$impl:$n]=$?
        done ;;
    *) continue ;;
    esac
done <"$CORPUS/cmdlines.txt"
n=0
while IFS= read -r line; do
    n=$((n + 1))
    [ -n "${RC[peer:$n]:-}" ] || continue
    p=${RC[peer:$n]} o=${RC[ours:$n]}
    if [ "$p" = 0 ] && [ "$o" != 0 ]; then
        problem "line $n '$line': 2.5.6 accepts it, ours exits $o:"
        sed 's/^/    /' "$TMP/ctl-ours-$n.out" | head -5
    elif [ "$p" != 0 ] && [ "$o" = 0 ]; then
        say "note: line $n '$line': ours accepts what 2.5.6 refuses ($p): $(head -1 "$TMP/ctl-peer-$n.out")"
    else
        say "ok: line $n '$line' (both $([ "$p" = 0 ] && echo accept || echo refuse))"
    fi
done <"$CORPUS/cmdlines.txt"
compare cmdlines

[ ${#FAILS[@]} = 0 ] || fail "${#FAILS[@]} difference(s) from SMCRoute 2.5.6: ${FAILS[*]}"
pass "every config and command line 2.5.6 accepts works the same with ours"

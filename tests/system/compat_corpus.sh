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

declare -A NS=() PID=() SOCK=() LOG=() UP=()
# fresh_ns IMPL: a new namespace with the corpus's interfaces: NS[IMPL],
# set up by one ip(8) process (-batch): each exec costs under emulation.
fresh_ns() {
    local ns=c$((NS_N += 1)) i=1 n cmds="link set lo up"
    NS[$1]=$ns
    must ip netns add "$ns"
    for n in "${IFACES[@]}"; do
        cmds+=$'\n'"link add $n type dummy"
        cmds+=$'\n'"link set $n multicast on up"
        cmds+=$'\n'"addr add 192.168.$i.1/24 dev $n"
        cmds+=$'\n'"addr add 2001:db8:$i::1/64 dev $n nodad"
        i=$((i + 1))
    done
    must ip -n "$ns" -batch - <<<"$cmds"
}

# state IMPL: the kernel state of IMPL's namespace.
state() { ip netns exec "${NS[$1]}" $STATE; }

# pair_up TAG CONF ARGS...: 2.5.6's daemon and ours, each in a fresh
# namespace, side by side; UP[IMPL] = 1 once it answers "show", 0 if it
# exits or does not answer within 10 s.
pair_up() {
    local tag=$1 conf=$2 impl i; shift 2
    for impl in peer ours; do
        fresh_ns "$impl"
        SOCK[$impl]=$TMP/$tag-$impl.sock
        LOG[$impl]=$TMP/$tag-$impl.log
        UP[$impl]=""
        ip netns exec "${NS[$impl]}" "${DAEMON[$impl]}" -n -f "$conf" -u "${SOCK[$impl]}" \
            -P "$TMP/$tag-$impl.pid" "$@" >"${LOG[$impl]}" 2>&1 &
        PID[$impl]=$!
    done
    for ((i = 0; i < 100 * TIME_SCALE; i++)); do
        for impl in peer ours; do
            [ -z "${UP[$impl]}" ] || continue
            if ! alive "${PID[$impl]}"; then
                UP[$impl]=0
            elif timeout $((5 * TIME_SCALE)) "${CLIENT[$impl]}" -u "${SOCK[$impl]}" show >/dev/null 2>&1; then
                UP[$impl]=1
            fi
        done
        [ -n "${UP[peer]}" ] && [ -n "${UP[ours]}" ] && return 0
        sleep 0.1
    done
    for impl in peer ours; do UP[$impl]=${UP[$impl]:-0}; done
}

# settled_state IMPL FILE: IMPL's kernel state, once two reads 0.3 s apart
# agree, into FILE.
settled_state() {
    local a b i
    a=$(state "$1")
    for ((i = 0; i < 20 * TIME_SCALE; i++)); do
        sleep 0.3
        b=$(state "$1")
        [ "$a" = "$b" ] && break
        a=$b
    done
    printf '%s\n' "$b" >"$2"
}

# pair_states TAG: each daemon's settled kernel state (both namespaces read
# side by side), in TMP/TAG-IMPL.state ("DID NOT START" for one not up).
pair_states() {
    local tag=$1 impl pids=()
    for impl in peer ours; do
        if [ "${UP[$impl]}" != 1 ]; then echo "DID NOT START" >"$TMP/$tag-$impl.state"; continue; fi
        settled_state "$impl" "$TMP/$tag-$impl.state" &
        pids+=($!)
    done
    [ ${#pids[@]} = 0 ] || wait "${pids[@]}"
}

pair_down() {
    local impl i
    for impl in peer ours; do kill -TERM "${PID[$impl]}" 2>/dev/null; done
    for impl in peer ours; do
        for ((i = 0; i < 50 * TIME_SCALE; i++)); do alive "${PID[$impl]}" || break; sleep 0.1; done
        kill -KILL "${PID[$impl]}" 2>/dev/null
        wait "${PID[$impl]}" 2>/dev/null
        ip netns del "${NS[$impl]}"
    done
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
    pair_up "$tag" "$conf" "${extra[@]}"
    pair_states "$tag"
    pair_down
    compare "$tag"
done

# ------------------------------------------------------------ command lines
declare -A RC=()
pair_up cmdlines "$CORPUS/cmdlines.conf"
[ "${UP[peer]}" = 1 ] && [ "${UP[ours]}" = 1 ] || fail "a daemon does not start on cmdlines.conf (2.5.6: ${UP[peer]}, ours: ${UP[ours]})"
n=0
while IFS= read -r line; do
    n=$((n + 1))
    case "$line" in ctl\ *) ;; *) continue ;; esac
    eval "args=(${line#ctl })"
    for impl in peer ours; do
        timeout $((10 * TIME_SCALE)) "${CLIENT[$impl]}" -u "${SOCK[$impl]}" "${args[@]}" </dev/null \
            >"$TMP/ctl-$impl-$n.out" 2>&1
        RC[$impl:$n]=$?
    done
done <"$CORPUS/cmdlines.txt"
pair_states cmdlines
pair_down
empty=$TMP/empty.conf
: >"$empty"
n=0
while IFS= read -r line; do
    n=$((n + 1))
    case "$line" in
    daemon|daemon\ *)
        eval "args=(${line#daemon})"
        pair_up "d$n" "$empty" "${args[@]}" </dev/null
        for impl in peer ours; do
            RC[$impl:$n]=$((1 - UP[$impl]))
            cp "${LOG[$impl]}" "$TMP/ctl-$impl-$n.out"
        done
        pair_down ;;
    exit\ *)
        eval "args=(${line#exit })"
        for impl in peer ours; do
            timeout $((10 * TIME_SCALE)) "${DAEMON[$impl]}" "${args[@]}" </dev/null >"$TMP/ctl-$impl-$n.out" 2>&1
            RC[$impl:$n]=$?
        done ;;
    esac
done <"$CORPUS/cmdlines.txt"
# refusal_listed LINE: differences.txt lists LINE as one ours refuses on
# purpose ("cmdline <TAB> !LINE <TAB> why").
refusal_listed() { cut -f1,2 "$CORPUS/differences.txt" | grep -qxF "cmdline	!$1"; }
n=0
while IFS= read -r line; do
    n=$((n + 1))
    [ -n "${RC[peer:$n]:-}" ] || continue
    p=${RC[peer:$n]} o=${RC[ours:$n]}
    if [ "$p" = 0 ] && [ "$o" != 0 ] && refusal_listed "$line"; then
        say "ok: line $n '$line': 2.5.6 exits 0, ours refuses, as tests/compat/differences.txt lists"
    elif [ "$p" = 0 ] && [ "$o" != 0 ]; then
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

#!/bin/bash
# Interfaces renamed and moved to another network namespace and back
# (issue 13, "Also"; deletion and re-creation is iface_churn.sh). Route
# (10.0.1.2, 225.6.6.6) from a1 to b1 b2, three rounds of:
#  1. outbound b1 renamed x1 (down, rename, up): the route is pending ("show
#     pending" names b1), no kernel entry forwards to x1 and rcv1 (behind
#     it) gets nothing. (What b2 gets meanwhile is not asserted: the route
#     is documented to be pending as a whole while an interface it names is
#     missing.)
#  2. x1 renamed back to b1: forwards to b1 and b2 again, with no reload,
#     and b1's join (mgroup) is renewed;
#  3. b1 moved to namespace "park" and back (re-addressed): the same;
#  4. inbound a1 renamed y1 and back, then moved to "park" and back: the
#     route is pending and nothing is forwarded while a1 is gone, and
#     everything once it is back.
# Traffic is sent in the first round; all rounds check the kernel tables.
# Throughout, the daemon is alive and answers and never reloads; the kernel
# never holds more than 4 VIFs, and whenever every interface is back,
# exactly one each for a1, b1 and b2 (a VIF left behind per event would
# show at once, and in time exhaust the 32 slots).
#
# What breaks it: keying interfaces by name only once (a renamed interface
# keeps receiving the route), ignoring rename events (RTM_NEWLINK with a new
# name for a known index) or the disappearance of an interface moved away
# (RTM_DELLINK in this namespace), or keeping a VIF per ifindex ever seen.
# Proved with a scratch edit that ignored renames of known interfaces: the
# route stayed active, forwarding to x1, and the test failed.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.6.6.6 to b1 b2
mgroup from b1 group 225.6.6.9
CONF
start_daemon
LOG=$TMP/daemon.log
must ip netns add park
SELF=$$   # this namespace, by a process in it: where interfaces come back to

q() { timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" "$@"; }
# Every check below is one process: under emulation each costs a lot.
S_HEX=$(hex4 10.0.1.2) G_HEX=$(hex4 225.6.6.6)
# route_oifs: the names of the interfaces the route's kernel entry forwards
# to, by VIF (nothing for a stop filter); fails when there is no entry.
route_oifs() {
    awk -v g="$G_HEX" -v s="$S_HEX" '
        FNR == 1 { next }
        FILENAME ~ /vif/ { name[$1] = $2; next }
        toupper($1) == g && toupper($2) == s && $3 != "-1" {
            found = 1
            for (i = 7; i <= NF; i++) { split($i, a, ":"); printf "%s ", (a[1] in name) ? name[a[1]] : "vif" a[1] }
        }
        END { exit !found }' /proc/net/ip_mr_vif /proc/net/ip_mr_cache
}
# forwards_to IF...: the entry forwards to exactly these interfaces.
forwards_to() {
    local got i
    got=$(route_oifs) || return 1
    read -r -a got <<<"$got"
    [ "${#got[@]}" = $# ] || return 1
    for i in "$@"; do [[ " ${got[*]} " == *" $i "* ]] || return 1; done
}
# not_to IF: no kernel entry of the route forwards to IF.
not_to() {
    local got
    got=$(route_oifs) || return 0
    [[ " $got " != *" $1 "* ]]
}
# no_forward: no kernel entry of the route forwards anywhere (none, or a
# stop filter).
no_forward() {
    local got
    got=$(route_oifs) || return 0
    [ -z "${got// /}" ]
}
# pending_says IF: "show pending" lists the route, with the reason that IF
# does not exist.
pending_says() {
    local out
    out=$(q show pending 2>&1) || return 1
    [[ $out == *"(10.0.1.2, 225.6.6.6)"*"interface $1 does not exist"* ]]
}
not_pending() {
    local out
    out=$(q show pending 2>&1) || return 1
    [[ $out != *"(10.0.1.2, 225.6.6.6)"* ]]
}
# vif_names: the interfaces holding a VIF, in VIF order.
vif_names() { awk 'NR > 1 { printf "%s ", $2 }' /proc/net/ip_mr_vif; }
max_vifs=0
# healthy WHEN: the daemon is alive (it answered the check just made) and
# the kernel holds at most 4 VIFs.
healthy() {
    alive "$DAEMON_PID" || fail "$1: the daemon died"
    local v
    read -r -a v <<<"$(vif_names)"
    [ "${#v[@]}" -gt "$max_vifs" ] && max_vifs=${#v[@]}
    [ "${#v[@]}" -le 4 ] || fail "$1: the kernel holds ${#v[@]} VIFs (${v[*]}); want at most 4"
}
# all_back WHEN: every interface is back: exactly one VIF each for a1, b1
# and b2, none for anything else.
all_back() {
    healthy "$1"
    local v i
    read -r -a v <<<"$(vif_names)"
    [ "${#v[@]}" = 3 ] || fail "$1: the kernel holds VIFs for: ${v[*]}; want exactly a1, b1, b2"
    for i in a1 b1 b2; do
        [[ " ${v[*]} " == *" $i "* ]] || fail "$1: the kernel holds VIFs for: ${v[*]}; want exactly a1, b1, b2"
    done
}
# Traffic in the first round (under emulation each round of it costs
# seconds); the later rounds repeat every event and check the tables.
both()   { [ "$round" = 1 ] || return 0; expect_forward v4 225.6.6.6 rcv1 10; expect_recv rcv2 10; }
not1()   { [ "$round" = 1 ] || return 0; traffic v4 225.6.6.6 10; expect_recv rcv1 0; }
none()   { [ "$round" = 1 ] || return 0; traffic v4 225.6.6.6 10; expect_recv rcv1 0; expect_recv rcv2 0; }

# rename FROM TO: down, rename, up (one ip process).
rename() { must ip -batch - <<<"link set $1 down
link set $1 name $2
link set $2 up"; }
# back IF ADDR NS: IF (moved to namespace NS) comes back here, re-addressed
# (its rp_filter is this namespace's default, 0).
back() {
    must ip -n "$3" link set "$1" netns "$SELF"
    must ip -batch - <<<"addr add $2 dev $1
link set $1 up"
}

check "the route forwards to b1 and b2" wait_for 3 forwards_to b1 b2
check "225.6.6.9 joined on b1" wait_for 3 kernel_joined b1 225.6.6.9
round=1
both
all_back "start-up"

for round in 1 2 3; do
    say "---- round $round"
    # 1. outbound b1 renamed
    rename b1 x1
    check "round $round: b1 renamed x1: the route is pending, naming b1" wait_for 5 pending_says b1
    check "round $round: no kernel entry forwards to x1" wait_for 5 not_to x1
    healthy "round $round, b1 renamed x1"
    not1
    # 2. and back
    rename x1 b1
    check "round $round: x1 renamed back: the route forwards to b1 and b2" wait_for 5 forwards_to b1 b2
    check "round $round: the route is no longer pending" wait_for 5 not_pending
    check "round $round: 225.6.6.9 joined on b1 again" wait_for 5 kernel_joined b1 225.6.6.9
    all_back "round $round, x1 renamed back to b1"
    both

    # 3. outbound b1 moved to another namespace and back
    must ip link set b1 netns park
    check "round $round: b1 moved away: the route is pending, naming b1" wait_for 5 pending_says b1
    healthy "round $round, b1 moved away"
    not1
    back b1 10.0.2.1/24 park
    check "round $round: b1 back: the route forwards to b1 and b2" wait_for 5 forwards_to b1 b2
    check "round $round: the route is no longer pending" wait_for 5 not_pending
    check "round $round: 225.6.6.9 joined on b1 again" wait_for 5 kernel_joined b1 225.6.6.9
    all_back "round $round, b1 back from park"
    both

    # 4. inbound a1 renamed and back, moved away and back
    rename a1 y1
    check "round $round: a1 renamed y1: the route is pending, naming a1" wait_for 5 pending_says a1
    check "round $round: no kernel entry of the route forwards" wait_for 5 no_forward
    healthy "round $round, a1 renamed y1"
    none
    check "round $round: still none forwards after traffic on y1" no_forward
    rename y1 a1
    check "round $round: y1 renamed back: the route forwards again" wait_for 5 forwards_to b1 b2
    check "round $round: the route is no longer pending" wait_for 5 not_pending
    all_back "round $round, y1 renamed back to a1"
    both
    must ip link set a1 netns park
    check "round $round: a1 moved away: the route is pending, naming a1" wait_for 5 pending_says a1
    check "round $round: no kernel entry of the route forwards" wait_for 5 no_forward
    healthy "round $round, a1 moved away"
    none
    back a1 10.0.1.1/24 park
    check "round $round: a1 back: the route forwards again" wait_for 5 forwards_to b1 b2
    check "round $round: the route is no longer pending" wait_for 5 not_pending
    all_back "round $round, a1 back from park"
    both
done

say "ok: at most $max_vifs VIFs at any time, exactly a1's, b1's and b2's whenever all were back"
round=1
both
check_not "the daemon never reloaded" grep -q 'reloading' "$LOG"
check_not "no sanitizer report in the daemon log" grep -Eq 'Sanitizer|runtime error:' "$LOG"
pass

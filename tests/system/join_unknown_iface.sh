#!/bin/bash
# Joins and missing interfaces. A join verb on an unknown interface fails
# (non-zero, a message naming it) and leaves no trace in show groups or the
# kernel. A config mgroup on a missing interface is pending until the
# interface is created -- then it is joined, without a reload; when the
# interface is deleted it goes back to pending, and when it is re-created
# the join is renewed.
. "$(dirname "$0")/lib.sh"
topo
mcfilter_anchor   # so that /proc/net/mcfilter lists every SSM filter
write_conf <<'CONF'
mgroup from late0 group 225.7.7.7
mgroup from late0 source 10.0.9.2 group 225.7.7.8
mgroup from late0 group ff0e::7:7
mgroup from a1 group 225.1.1.1
CONF
start_daemon

q() { timeout 10 "$BIN/smcroutectl" "$@"; }
# state KEY: the STATE column of the show groups row KEY.
state() { q show groups | awk -F '  +' -v k="$1" '$1 == k { print $3 }'; }
# all_state ST: every late0 row of show groups is in state ST.
all_state() {
    local k
    for k in "(*, 225.7.7.7)" "(10.0.9.2, 225.7.7.8)" "(*, ff0e::7:7)"; do
        [ "$(state "$k")" = "$1" ] || return 1
    done
}
all_joined() {
    kernel_joined late0 225.7.7.7 && kernel_joined late0 225.7.7.8 10.0.9.2 && kernel_joined late0 ff0e::7:7
}
# in_proc GROUP: GROUP appears anywhere in /proc/net/igmp or igmp6.
in_proc() {
    local g=$1
    case "$g" in
    *:*) grep -q "$(expand6 "$g" | tr -d :)" /proc/net/igmp6 ;;
    *)   grep -q "$(hex4 "$g")" /proc/net/igmp ;;
    esac
}

# ---- the verb on an unknown interface
for args in "nosuch1 225.4.4.4" "nosuch1 10.0.1.2 225.4.4.5" "nosuch1 ff0e::4:4"; do
    say "+ smcroutectl join $args"
    # shellcheck disable=SC2086
    if out=$(q join $args 2>&1); then
        fail "join $args on an unknown interface succeeded: $out"
    fi
    grep -q nosuch1 <<<"$out" || fail "join $args: message does not name the interface: $out"
    say "ok: refused: $out"
done
say "+ smcroute -j nosuch1 225.4.4.6"
out=$(timeout 10 "$BIN/smcroute" -j nosuch1 225.4.4.6 2>&1) && fail "legacy -j on an unknown interface succeeded: $out"
grep -q nosuch1 <<<"$out" || fail "legacy -j: message does not name the interface: $out"
say "ok: refused: $out"
check "daemon still running" alive "$DAEMON_PID"
g=$(q show groups)
check_not "show groups has no trace of nosuch1" grep -qE 'nosuch1|225\.4\.4\.|ff0e::4:4' <<<"$g"
for grp in 225.4.4.4 225.4.4.5 225.4.4.6 ff0e::4:4; do
    check_not "$grp is nowhere in /proc/net/igmp{,6}" in_proc "$grp"
done
check "the config join on a1 is unaffected" kernel_joined a1 225.1.1.1

# ---- config mgroup on a missing interface: pending
echo "$g"
check "show groups: the late0 joins are pending" all_state pending
check "show groups: (*, 225.1.1.1) on a1 is active" [ "$(state "(*, 225.1.1.1)")" = active ]
for grp in 225.7.7.7 225.7.7.8 ff0e::7:7; do
    check_not "$grp is nowhere in the kernel yet" in_proc "$grp"
done

# create_late0: the interface appears after start (no reload).
create_late0() {
    must ip link add late0 type veth peer name late0p
    must ip addr add 10.0.9.1/24 dev late0
    must ip link set late0p up
    must ip link set late0 up
}
create_late0
check "the late0 joins are in the kernel once late0 exists (no reload)" wait_for 5 all_joined
check "show groups: the late0 joins are active" wait_for 2 all_state active
idx1=$(ifindex late0)

# ---- deleted: pending again; re-created: joined again
must ip link del late0
check "show groups: the late0 joins are pending after late0 is deleted" wait_for 5 all_state pending
check "daemon still running" alive "$DAEMON_PID"
create_late0
idx2=$(ifindex late0)
say "late0 ifindex was $idx1, is now $idx2"
check "the late0 joins are renewed on the re-created late0" wait_for 5 all_joined
check "show groups: the late0 joins are active again" wait_for 2 all_state active
check "the config join on a1 is unaffected" kernel_joined a1 225.1.1.1
pass

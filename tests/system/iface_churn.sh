#!/bin/bash
# An outbound interface that comes and goes: the veth vc (peer in rcv3) is
# deleted and re-created 40 times (new ifindex each time). Each time the
# route goes pending when vc vanishes, and comes back forwarding to vc's new
# VIF when it returns, without a reload. The daemon's VIFs never leak: more
# than 32 re-creations would exhaust the kernel's 32 slots, and
# /proc/net/ip_mr_vif never holds more than a handful. Afterwards the route
# and the join on vc work.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mgroup from vc group 225.6.6.9
mroute from a1 source 10.0.1.2 group 225.6.6.6 to b1 vc
CONF
start_daemon

q() { timeout 10 "$BIN/smcroutectl" "$@"; }
must ip netns add rcv3
must nsx rcv3 ip link set lo up
must nsx rcv3 sysctl -qw net.ipv4.conf.all.rp_filter=0
must nsx rcv3 sysctl -qw net.ipv4.conf.default.rp_filter=0

# make_vc: the pair and its addresses, one ip(8) batch on each side (every
# program start counts under software emulation).
make_vc() {
    must ip -batch - <<<"link add vc type veth peer name eth0 netns rcv3
addr add 10.0.6.1/24 dev vc
link set vc up"
    must ip -n rcv3 -batch - <<<"addr add 10.0.6.2/24 dev eth0
link set eth0 up"
}
# vif IF: the interface's VIF number in the kernel.
vif() { awk -v n="$1" 'NR > 1 && $2 == n { print $1 }' /proc/net/ip_mr_vif; }
# forwards_to_vc: the resolved entry (10.0.1.2, 225.6.6.6) forwards to vc's
# current VIF and to b1's (both VIFs exist); one awk over both tables.
G_HEX=$(hex4 225.6.6.6)
S_HEX=$(hex4 10.0.1.2)
forwards_to_vc() {
    awk -v g="$G_HEX" -v s="$S_HEX" '
        FNR == NR { if (FNR > 1) vif[$2] = $1; next }
        FNR > 1 && toupper($1) == g && toupper($2) == s && $3 != "-1" { line = $0 }
        END {
            v = vif["vc"]; b = vif["b1"]
            exit !(v != "" && b != "" && index(line, " " v ":") && index(line, " " b ":"))
        }' /proc/net/ip_mr_vif /proc/net/ip_mr_cache
}
# is_pending: "show pending" lists the route.
is_pending() { q show pending | grep -qF '(10.0.1.2, 225.6.6.6)'; }

max_vifs=0
note_vifs() {
    local n
    n=$(vif_count)
    [ "$n" -gt "$max_vifs" ] && max_vifs=$n
    return 0
}

check "the route is pending while vc does not exist" is_pending
for ((i = 1; i <= 40; i++)); do
    make_vc
    wait_for 5 forwards_to_vc \
        || fail "round $i: the route does not forward to vc (ifindex $(ifindex vc), VIF '$(vif vc)') 5 s after it appeared"
    wait_for 3 kernel_joined vc 225.6.6.9 || fail "round $i: 225.6.6.9 not joined on the new vc"
    note_vifs
    alive "$DAEMON_PID" || fail "round $i: the daemon died"
    must ip link del vc
    wait_for 5 is_pending || fail "round $i: the route is not pending after vc was deleted"
    note_vifs
    [ -z "$(vif vc)" ] || fail "round $i: vc still has a VIF after it was deleted"
done
say "ok: 40 rounds, vc re-created each time, at most $max_vifs VIFs at a time"
[ "$max_vifs" -le 4 ] || fail "/proc/net/ip_mr_vif held $max_vifs VIFs at one time (a1, b1, vc: want at most 4)"
say "ok: never more than $max_vifs VIFs"

make_vc
check "the route forwards to vc again" wait_for 5 forwards_to_vc
check "225.6.6.9 joined on vc" wait_for 3 kernel_joined vc 225.6.6.9
check_not "show pending lists nothing" eval "q show pending | grep -q '('"
RECEIVERS="rcv1 rcv3"
expect_forward v4 225.6.6.6 rcv1; expect_recv rcv3 10
# The inbound side too: a1 vanishes and returns once.
must ip link del a1
check "the route is pending without a1" wait_for 5 is_pending
must ip link add a1 type veth peer name eth0 netns snd
must sysctl -qw net.ipv4.conf.a1.rp_filter=0
must ip addr add 10.0.1.1/24 dev a1
must ip link set a1 up
must nsx snd ip addr add 10.0.1.2/24 dev eth0
must nsx snd ip link set eth0 up
check "the route returns with a1" wait_for 5 eval '! is_pending && forwards_to_vc'
sleep 0.5
expect_forward v4 225.6.6.6 rcv1; expect_recv rcv3 10
check "vif count still small" eval '[ "$(vif_count)" -le 4 ]'
pass

#!/bin/bash
# Interfaces that appear after the start: a config route from a missing veth
# (vin) is pending; routes to a missing veth (vout) forward to their other
# OIFs meanwhile (as in SMCRoute 2.x), and "show pending" lists them all,
# naming vout and vin; a join (mgroup) on vout waits. Once the veths are
# created, their peers moved into a receiver/sender namespace and brought up,
# vout is added and the route from vin activates with no reload (rtnetlink),
# traffic flows both ways and the group is joined on vout.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mgroup from vout group 225.4.4.9
mroute from a1 source 10.0.1.2 group 225.4.4.4 to vout b2
mroute from a1 group 225.4.4.5 to vout
mroute from vin source 10.0.4.2 group 225.4.4.6 to b1
CONF
start_daemon

q() { timeout 10 "$BIN/smcroutectl" "$@"; }
pend=$(q show pending) || fail "show pending failed"
echo "$pend"
for key in "(10.0.1.2, 225.4.4.4)" "(*, 225.4.4.5)" "(10.0.4.2, 225.4.4.6)"; do
    check "show pending lists $key" grep -qF -- "$key" <<<"$pend"
done
check "show pending names vout" grep -q 'vout' <<<"$pend"
check "show pending names vin" grep -q 'vin' <<<"$pend"
check "(10.0.1.2, 225.4.4.4) forwards to b2 meanwhile" mfc_forwards 10.0.1.2 225.4.4.4
check_not "no kernel entry for (10.0.4.2, 225.4.4.6) yet" mfc_has 10.0.4.2 225.4.4.6
RECEIVERS="rcv2"
expect_forward v4 225.4.4.4 rcv2

# ---- the interfaces appear: vout towards rcv3, vin from snd2
for ns in rcv3 snd2; do
    must ip netns add "$ns"
    must nsx "$ns" ip link set lo up
    must nsx "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
    must nsx "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
done
must ip link add vout type veth peer name eth0 netns rcv3
must ip link add vin type veth peer name eth0 netns snd2
must sysctl -qw net.ipv4.conf.vin.rp_filter=0
must ip addr add 10.0.5.1/24 dev vout
must ip addr add 10.0.4.1/24 dev vin
must ip link set vout up
must ip link set vin up
must nsx rcv3 ip addr add 10.0.5.2/24 dev eth0
must nsx snd2 ip addr add 10.0.4.2/24 dev eth0
must nsx rcv3 ip link set eth0 up
must nsx snd2 ip link set eth0 up
must nsx rcv3 ip route add default via 10.0.5.1
must nsx snd2 ip route add default via 10.0.4.1
say "vout (to rcv3) and vin (from snd2) created"

check "(10.0.1.2, 225.4.4.4) activates without a reload" wait_for 5 mfc_forwards 10.0.1.2 225.4.4.4
check "(10.0.4.2, 225.4.4.6) activates without a reload" wait_for 5 mfc_forwards 10.0.4.2 225.4.4.6
check "the group 225.4.4.9 is joined on vout" wait_for 5 kernel_joined vout 225.4.4.9
# no_pending: "show pending" lists no route (it may say so in words).
no_pending() { ! q show pending | grep -q '('; }
check "show pending lists nothing" wait_for 3 no_pending
out=$(q show) || fail "show failed"
echo "$out"
for key in "(10.0.1.2, 225.4.4.4)" "(10.0.4.2, 225.4.4.6)"; do
    check "show lists $key as active" eval "grep -F -- '$key' <<<\"\$out\" | grep -qw active"
done
grep -q 'reload' "${DAEMON_LOGS[0]}" && fail "the daemon reloaded: $(grep reload "${DAEMON_LOGS[0]}")"

RECEIVERS="rcv3 rcv2"
expect_forward v4 225.4.4.4 rcv3; expect_recv rcv2 10
expect_forward v4 225.4.4.5 rcv3; expect_recv rcv2 0
RECEIVERS="rcv1 rcv3"
SND_NS=snd2
expect_forward v4 225.4.4.6 rcv1 10 -s 10.0.4.2; expect_recv rcv3 0
pass

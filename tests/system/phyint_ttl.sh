#!/bin/bash
# phyint options. "phyint b1 ttl-threshold 5": a datagram arriving with TTL 5
# is not forwarded to b1, one arriving with TTL 7 is (the kernel forwards
# when TTL > threshold). "phyint b2 disable": b2 gets no VIF even though a
# route names it, that route stays pending (show pending says why) and
# nothing reaches b2.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
phyint b1 ttl-threshold 5
phyint b2 disable
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.4 to b2
CONF
start_daemon

# ---- ttl-threshold
check "(10.0.1.2, 225.1.2.3) in the MFC" mfc_forwards 10.0.1.2 225.1.2.3
b1=$(awk '$2 == "b1" { print $1 }' /proc/net/ip_mr_vif)
[ -n "$b1" ] || fail "b1 has no VIF"
line=$(mfc_line 10.0.1.2 225.1.2.3)
echo "$line" | grep -q " $b1:5\b" || fail "MFC entry does not carry threshold 5 for b1 (VIF $b1): $line"
say "ok: MFC entry has b1 (VIF $b1) with TTL threshold 5"

# mcsend -t sets the TTL on the sender; the snd--a1 link does not change it.
traffic v4 225.1.2.3 10 -t 5
expect_recv rcv1 0
traffic v4 225.1.2.3 10 -t 7
expect_recv rcv1 10
expect_ttl rcv1 6
traffic v4 225.1.2.3 10 -t 4
expect_recv rcv1 0

# ---- disable
check_not "b2 has no VIF" grep -qw b2 /proc/net/ip_mr_vif
check "a1 and b1 have VIFs" eval "grep -qw a1 /proc/net/ip_mr_vif && grep -qw b1 /proc/net/ip_mr_vif"
check_not "(10.0.1.2, 225.1.2.4) to b2 does not forward" mfc_forwards 10.0.1.2 225.1.2.4
pend=$(timeout 10 "$BIN/smcroutectl" show pending) || fail "show pending failed"
echo "$pend"
prow=$(echo "$pend" | grep -F '(10.0.1.2, 225.1.2.4)')
[ -n "$prow" ] || fail "show pending lacks (10.0.1.2, 225.1.2.4): $pend"
check "show pending: the reason names b2 and that it is disabled" grep -q 'b2.*disabled' <<<"$prow"
check_not "show pending does not list the b1 route" grep -qF '(10.0.1.2, 225.1.2.3)' <<<"$pend"
timeout 10 "$BIN/smcroutectl" show interfaces | awk '$2 == "b2" { print $4 }' | grep -qx -- - \
    || fail "show interfaces gives b2 a VIF: $(timeout 10 "$BIN/smcroutectl" show interfaces)"
say "ok: show interfaces: b2 has no VIF"
traffic v4 225.1.2.4 10 -t 16
expect_recv rcv2 0
expect_recv rcv1 0
# A client route to the disabled b2 does not give it a VIF either.
ctl add a1 10.0.1.2 225.1.2.5 b2
check_not "b2 still has no VIF after a client add naming it" grep -qw b2 /proc/net/ip_mr_vif
traffic v4 225.1.2.5 10 -t 16
expect_recv rcv2 0
pass

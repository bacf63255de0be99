#!/bin/bash
# -N (as in SMCRoute 2.5): only interfaces a "phyint IF enable" names are
# used. a1 and b1 are enabled, b2 is not: b2 gets no VIF/MIF, a route from
# a1 to b1 and b2 forwards to b1 only, a route from b2 is never installed.
# A reload to "phyint b+ enable" (a wildcard) brings b2 in: the route then
# reaches both receivers and the route from b2 is installed.
. "$(dirname "$0")/lib.sh"
topo
six=0
[ -e /proc/net/ip6_mr_cache ] && six=1
write_conf <<'CONF'
phyint a1 enable
phyint b1 enable
mroute from a1 source 10.0.1.2 group 225.6.6.1 to b1 b2
mroute from b2 source 10.0.3.2 group 225.6.6.2 to b1
CONF
[ "$six" = 1 ] && echo "mroute from a1 source fd01::2 group ff0e::661 to b1 b2" >>"$CONF"
start_daemon -N

# has_vif FILE IF: the VIF/MIF table FILE holds IF.
has_vif() { awk -v i="$2" 'NR > 1 && $2 == i { f = 1 } END { exit !f }' "$1"; }
cat /proc/net/ip_mr_vif
check "a1 has a VIF" has_vif /proc/net/ip_mr_vif a1
check "b1 has a VIF" has_vif /proc/net/ip_mr_vif b1
check_not "b2 (not enabled) has no VIF" has_vif /proc/net/ip_mr_vif b2
check "(10.0.1.2, 225.6.6.1) is in the kernel" mfc_forwards 10.0.1.2 225.6.6.1
check_not "the route from b2 is not in the kernel" mfc_has 10.0.3.2 225.6.6.2
pend=$(ctl show pending) || fail "show pending failed"
echo "$pend"
check "show pending says b2 is not enabled" grep -q 'outbound interface b2 is not enabled by phyint' <<<"$pend"
check "show pending says the route from b2 waits" grep -q 'inbound interface b2 is not enabled by phyint' <<<"$pend"

RECEIVERS="rcv1 rcv2"
expect_forward v4 225.6.6.1 rcv1; expect_recv rcv2 0
if [ "$six" = 1 ]; then
    cat /proc/net/ip6_mr_vif
    check "a1 has a MIF" has_vif /proc/net/ip6_mr_vif a1
    check_not "b2 (not enabled) has no MIF" has_vif /proc/net/ip6_mr_vif b2
    expect_forward v6 ff0e::661 rcv1; expect_recv rcv2 0
fi
RECEIVERS="rcv1"
SND_NS=rcv2
expect_no_forward v4 225.6.6.2 rcv1 10 -s 10.0.3.2
SND_NS=snd

# A wildcard enable brings b2 in.
sed -i 's/^phyint b1 enable$/phyint b+ enable/' "$CONF"
check "reload" ctl reload
check "b2 has a VIF after the reload" wait_for 5 has_vif /proc/net/ip_mr_vif b2
check "the route from b2 is installed" wait_for 5 mfc_forwards 10.0.3.2 225.6.6.2
RECEIVERS="rcv1 rcv2"
expect_forward v4 225.6.6.1 rcv1; expect_recv rcv2 10
[ "$six" = 1 ] && { expect_forward v6 ff0e::661 rcv1; expect_recv rcv2 10; }
RECEIVERS="rcv1"
SND_NS=rcv2
expect_forward v4 225.6.6.2 rcv1 10 -s 10.0.3.2
pass

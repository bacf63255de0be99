#!/bin/bash
# Wildcard interface names: "mroute from a+ group G to b+" is a rule for
# every interface whose name starts with "a" inbound and every one starting
# with "b" outbound; traffic from snd (via a1) reaches both receivers (b1,
# b2), a group the rule does not cover reaches neither. IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
topo
v6=0
[ -e /proc/net/ip6_mr_cache ] && v6=1
{
    echo "mroute from a+ group 225.1.2.3 to b+"
    [ "$v6" = 1 ] && echo "mroute from a+ group ff0e::123 to b+"
} | write_conf
start_daemon

traffic v4 225.1.2.3 4 -r 0     # the first packets, queued during the upcall
expect_recv rcv1 4
expect_recv rcv2 4
check "learned (10.0.1.2, 225.1.2.3) in the MFC" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
line=$(mfc_line 10.0.1.2 225.1.2.3)
a1=$(awk '$2 == "a1" { print $1 }' /proc/net/ip_mr_vif)
b1=$(awk '$2 == "b1" { print $1 }' /proc/net/ip_mr_vif)
b2=$(awk '$2 == "b2" { print $1 }' /proc/net/ip_mr_vif)
[ -n "$a1" ] && [ -n "$b1" ] && [ -n "$b2" ] || fail "a1, b1, b2 should all have VIFs: $(cat /proc/net/ip_mr_vif)"
[ "$(echo "$line" | awk '{ print $3 }')" = "$a1" ] || fail "learned entry's IIF is not a1's VIF $a1: $line"
echo "$line" | grep -q " $b1:" || fail "learned entry lacks b1 (VIF $b1): $line"
echo "$line" | grep -q " $b2:" || fail "learned entry lacks b2 (VIF $b2): $line"
say "ok: learned entry a1 -> b1, b2"
traffic v4 225.1.2.3 10
expect_recv rcv1 10
expect_recv rcv2 10
expect_ttl rcv1 7
expect_ttl rcv2 7
# Not covered by the rule.
traffic v4 225.1.2.4 10
expect_recv rcv1 0
expect_recv rcv2 0

if [ "$v6" = 1 ]; then
    traffic v6 ff0e::123 4 -r 0
    expect_recv rcv1 4
    expect_recv rcv2 4
    check "learned (fd01::2, ff0e::123) in the MFC" wait_for 2 mfc_forwards fd01::2 ff0e::123
    traffic v6 ff0e::123 10
    expect_recv rcv1 10
    expect_recv rcv2 10
fi
pass

#!/bin/bash
# Datagrams that arrive with TTL (hop limit) 1 must not be forwarded, even on
# an installed (S,G) route; TTL 2 is forwarded and arrives with TTL 1.
. "$(dirname "$0")/lib.sh"
topo
v6=0
[ -e /proc/net/ip6_mr_cache ] && v6=1
{
    echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1"
    [ "$v6" = 1 ] && echo "mroute from a1 source fd01::2 group ff0e::123 to b1"
} | write_conf
start_daemon
check "kernel MFC has (10.0.1.2, 225.1.2.3)" wait_for 2 mfc_has 10.0.1.2 225.1.2.3

traffic v4 225.1.2.3 10 -t 1
expect_recv rcv1 0
# Control: the same route forwards TTL 2, which leaves the router as TTL 1.
traffic v4 225.1.2.3 10 -t 2
expect_recv rcv1 10
expect_ttl rcv1 1

if [ "$v6" = 1 ]; then
    check "kernel MFC has (fd01::2, ff0e::123)" wait_for 2 mfc_has fd01::2 ff0e::123
    traffic v6 ff0e::123 10 -t 1
    expect_recv rcv1 0
    traffic v6 ff0e::123 10 -t 2
    expect_recv rcv1 10
    expect_ttl rcv1 1
fi
pass

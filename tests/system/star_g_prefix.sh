#!/bin/bash
# A (*,G/24) rule matches every group inside the prefix: 225.1.2.7 is
# forwarded (and learned as an (S,G) entry), 225.1.3.7 outside it is not.
. "$(dirname "$0")/lib.sh"
topo
v6=0
[ -e /proc/net/ip6_mr_cache ] && v6=1
{
    echo "mroute from a1 group 225.1.2.0/24 to b1"
    [ "$v6" = 1 ] && echo "mroute from a1 group ff0e::100/120 to b1"
} | write_conf
start_daemon

traffic v4 225.1.2.7 10
expect_recv rcv1 10
expect_recv rcv2 0
check "learned (10.0.1.2, 225.1.2.7) in the kernel MFC" wait_for 2 mfc_has 10.0.1.2 225.1.2.7

# Another group in the prefix, first datagram included.
traffic v4 225.1.2.200 10
expect_recv rcv1 10

traffic v4 225.1.3.7 10
expect_recv rcv1 0
expect_recv rcv2 0
check_not "no forwarding entry for (10.0.1.2, 225.1.3.7)" mfc_forwards 10.0.1.2 225.1.3.7

if [ "$v6" = 1 ]; then
    traffic v6 ff0e::1ab 10
    expect_recv rcv1 10
    traffic v6 ff0e::2ab 10
    expect_recv rcv1 0
fi
pass

#!/bin/bash
# remove with OIFs drops just those outbound interfaces: a route to b1 and b2
# reaches both receivers; after "smcroutectl remove a1 SRC GRP b2" only rcv1
# still receives, and the kernel entry is still there.
. "$(dirname "$0")/lib.sh"
topo
write_conf </dev/null
start_daemon

check "smcroutectl add a1 10.0.1.2 225.1.2.3 b1 b2" ctl add a1 10.0.1.2 225.1.2.3 b1 b2
traffic v4 225.1.2.3 10
expect_recv rcv1 10
expect_recv rcv2 10

check "smcroutectl remove a1 10.0.1.2 225.1.2.3 b2" ctl remove a1 10.0.1.2 225.1.2.3 b2
check "kernel MFC still has (10.0.1.2, 225.1.2.3)" mfc_forwards 10.0.1.2 225.1.2.3
traffic v4 225.1.2.3 10
expect_recv rcv1 10
expect_recv rcv2 0

if [ -e /proc/net/ip6_mr_cache ]; then
    check "smcroutectl add a1 fd01::2 ff0e::123 b1 b2" ctl add a1 fd01::2 ff0e::123 b1 b2
    traffic v6 ff0e::123 10
    expect_recv rcv1 10
    expect_recv rcv2 10
    check "smcroutectl remove a1 fd01::2 ff0e::123 b1" ctl remove a1 fd01::2 ff0e::123 b1
    traffic v6 ff0e::123 10
    expect_recv rcv1 0
    expect_recv rcv2 10
fi
pass

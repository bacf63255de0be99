#!/bin/bash
# A (*,G) rule: the first datagrams of a new source, sent back to back before
# any (S,G) entry exists, are all forwarded (the kernel queues them during
# the NOCACHE upcall), and the daemon installs the learned (S,G) entry.
#
# The kernel queues at most 4 datagrams per unresolved (S,G) (ipmr/ip6mr:
# qlen > 3 drops), so a burst of 4 is the largest that a correct daemon can
# always deliver in full.
. "$(dirname "$0")/lib.sh"
BURST=4
topo
v6=0
[ -e /proc/net/ip6_mr_cache ] && v6=1
{
    echo "mroute from a1 group 225.1.2.3 to b1"
    [ "$v6" = 1 ] && echo "mroute from a1 group ff0e::123 to b1"
} | write_conf
start_daemon

# Fresh sources, never seen by the router before this burst.
add_src 10.0.1.50
check_not "no (10.0.1.50, 225.1.2.3) entry before traffic" mfc_has 10.0.1.50 225.1.2.3
traffic v4 225.1.2.3 "$BURST" -s 10.0.1.50 -r 0
expect_recv rcv1 "$BURST"
expect_recv rcv2 0
check "learned (10.0.1.50, 225.1.2.3) in the kernel MFC" wait_for 2 mfc_has 10.0.1.50 225.1.2.3

# Once learned, the source keeps being forwarded.
traffic v4 225.1.2.3 10 -s 10.0.1.50
expect_recv rcv1 10

# A second new source on the same rule is learned independently.
add_src 10.0.1.51
traffic v4 225.1.2.3 "$BURST" -s 10.0.1.51 -r 0
expect_recv rcv1 "$BURST"
check "learned (10.0.1.51, 225.1.2.3) in the kernel MFC" wait_for 2 mfc_has 10.0.1.51 225.1.2.3

if [ "$v6" = 1 ]; then
    add_src fd01::50
    check_not "no (fd01::50, ff0e::123) entry before traffic" mfc_has fd01::50 ff0e::123
    traffic v6 ff0e::123 "$BURST" -s fd01::50 -r 0
    expect_recv rcv1 "$BURST"
    expect_recv rcv2 0
    check "learned (fd01::50, ff0e::123) in the kernel MFC" wait_for 2 mfc_has fd01::50 ff0e::123
fi
pass

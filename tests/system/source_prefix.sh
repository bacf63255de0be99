#!/bin/bash
# An (S/LEN,G) rule: datagrams from sources inside the source prefix are
# forwarded, from sources outside it they are not.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.0/26 group 225.1.2.3 to b1
CONF
start_daemon
add_src 10.0.1.40    # inside 10.0.1.0/26 (.0-.63)
add_src 10.0.1.100   # outside

traffic v4 225.1.2.3 10 -s 10.0.1.2
expect_recv rcv1 10
traffic v4 225.1.2.3 10 -s 10.0.1.40
expect_recv rcv1 10
check "learned (10.0.1.40, 225.1.2.3) in the kernel MFC" wait_for 2 mfc_has 10.0.1.40 225.1.2.3

traffic v4 225.1.2.3 10 -s 10.0.1.100
expect_recv rcv1 0
expect_recv rcv2 0
check_not "no forwarding entry for (10.0.1.100, 225.1.2.3)" mfc_forwards 10.0.1.100 225.1.2.3
pass

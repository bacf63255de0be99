#!/bin/bash
# An IPv4 (S,G) route from the config file forwards from a1 to its OIF b1
# only: rcv1 receives every datagram with the TTL decremented by one, rcv2
# (b2, not an OIF) receives nothing, and the kernel MFC holds the entry.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
start_daemon
check "kernel MFC has (10.0.1.2, 225.1.2.3) after start-up" wait_for 2 mfc_has 10.0.1.2 225.1.2.3

traffic v4 225.1.2.3 20 -t 8
expect_recv rcv1 20
expect_ttl rcv1 7
expect_recv rcv2 0

# Another group, no route: nothing is forwarded anywhere.
traffic v4 225.1.2.4 10
expect_recv rcv1 0
expect_recv rcv2 0
pass

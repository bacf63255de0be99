#!/bin/bash
# An IPv6 (S,G) route from the config file forwards from a1 to its OIF b1
# only: rcv1 receives every datagram with the hop limit decremented by one,
# rcv2 (b2, not an OIF) receives nothing, and the kernel MFC holds the entry.
. "$(dirname "$0")/lib.sh"
require_v6mr
topo
write_conf <<'CONF'
mroute from a1 source fd01::2 group ff0e::123 to b1
CONF
start_daemon
check "kernel MFC has (fd01::2, ff0e::123) after start-up" wait_for 2 mfc_has fd01::2 ff0e::123

traffic v6 ff0e::123 20 -t 8
expect_recv rcv1 20
expect_ttl rcv1 7
expect_recv rcv2 0

# Another group, no route: nothing is forwarded anywhere.
traffic v6 ff0e::124 10
expect_recv rcv1 0
expect_recv rcv2 0
pass

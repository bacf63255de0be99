#!/bin/bash
# The legacy client form: smcroute -a installs a route in a running daemon,
# smcroute -r removes it. IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
topo
write_conf </dev/null
start_daemon

run_family() {
    local fam=$1 src=$2 grp=$3
    check "smcroute -a a1 $src $grp b1" legacy -a a1 "$src" "$grp" b1
    check "kernel MFC has ($src, $grp) after -a" wait_for 2 mfc_forwards "$src" "$grp"
    traffic "$fam" "$grp" 10
    expect_recv rcv1 10
    expect_recv rcv2 0

    check "smcroute -r a1 $src $grp" legacy -r a1 "$src" "$grp"
    check "kernel MFC lacks ($src, $grp) after -r" wait_for 2 mfc_lacks "$src" "$grp"
    traffic "$fam" "$grp" 10
    expect_recv rcv1 0
}

run_family v4 10.0.1.2 225.1.2.3
if [ -e /proc/net/ip6_mr_cache ]; then
    run_family v6 fd01::2 ff0e::123
fi

# Several OIFs on one -a.
check "smcroute -a a1 10.0.1.2 225.1.2.5 b1 b2" legacy -a a1 10.0.1.2 225.1.2.5 b1 b2
traffic v4 225.1.2.5 10
expect_recv rcv1 10
expect_recv rcv2 10
pass

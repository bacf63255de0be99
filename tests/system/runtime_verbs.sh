#!/bin/bash
# smcroutectl add installs a route in a running daemon and forwarding starts
# at once; smcroutectl remove deletes it and forwarding stops. IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
topo
write_conf </dev/null
start_daemon

# v4 SRC GRP / v6 SRC GRP
run_family() {
    local fam=$1 src=$2 grp=$3
    traffic "$fam" "$grp" 10
    expect_recv rcv1 0

    check "smcroutectl add a1 $src $grp b1" ctl add a1 "$src" "$grp" b1
    check "kernel MFC has ($src, $grp) after add" wait_for 2 mfc_forwards "$src" "$grp"
    traffic "$fam" "$grp" 10
    expect_recv rcv1 10
    expect_ttl rcv1 7
    expect_recv rcv2 0

    check "smcroutectl remove a1 $src $grp" ctl remove a1 "$src" "$grp"
    check "kernel MFC lacks ($src, $grp) after remove" wait_for 2 mfc_lacks "$src" "$grp"
    traffic "$fam" "$grp" 10
    expect_recv rcv1 0

    # Removing it again is an error: there is no such route.
    check_not "second remove of ($src, $grp) fails" ctl remove a1 "$src" "$grp"
}

run_family v4 10.0.1.2 225.1.2.3
if [ -e /proc/net/ip6_mr_cache ]; then
    run_family v6 fd01::2 ff0e::123
fi
pass

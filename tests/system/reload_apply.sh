#!/bin/bash
# A reload reaches exactly the new config: a route added (over a stop
# filter the kernel already holds), a route removed, an (S,G) route and a
# (*,G) rule whose OIFs change from b1 to b2 (re-programmed in place: the old
# OIF is gone from the kernel entry, and from the rule's learned entry), an
# unchanged route kept. Checked in /proc/net/ip_mr_cache, in "show", and with
# traffic reaching the right receivers only.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1
mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1
mroute from a1 source 10.0.1.2 group 225.1.1.4 to b2
mroute from a1 group 225.1.1.5 to b1
CONF
start_daemon

# q: the client, output captured by the caller.
q() { timeout 10 "$BIN/smcroutectl" "$@"; }
# vif IF: the interface's VIF number in the kernel.
vif() { awk -v n="$1" 'NR > 1 && $2 == n { print $1 }' /proc/net/ip_mr_vif; }
# oifs SRC GRP: the kernel entry's outbound VIFs, sorted, e.g. "1 2".
oifs() {
    mfc_line "$1" "$2" | awk '{ for (i = 7; i <= NF; i++) { split($i, a, ":"); print a[1] } }' | sort -n | xargs
}
# expect_oifs SRC GRP IF...: the entry forwards to exactly those interfaces.
expect_oifs() {
    local s=$1 g=$2 want="" ifname v; shift 2
    for ifname in "$@"; do
        v=$(vif "$ifname")
        [ -n "$v" ] || fail "$ifname has no VIF"
        want+="$v "
    done
    want=$(echo "$want" | tr ' ' '\n' | sed '/^$/d' | sort -n | xargs)
    local got
    got=$(oifs "$s" "$g") || fail "no kernel MFC entry for ($s, $g)"
    [ "$got" = "$want" ] || fail "($s, $g): kernel OIF VIFs '$got', want '$want' ($*)"
    say "ok: kernel ($s, $g) forwards to $* only"
}
# route_row KEY: the "show" row of KEY (empty when none).
route_row() { q show | grep -F -- "$1  " | head -n 1; }
# oifs_col ROW: the OIFS column (4th) of a show row.
oifs_col() { echo "$1" | awk -F '  +' '{ gsub(/^ +| +$/, ""); print $4 }'; }
expect_show_oifs() {
    local row
    row=$(route_row "$1")
    [ -n "$row" ] || fail "show lacks $1: $(q show)"
    [ "$(oifs_col "$row")" = "$2" ] || fail "show: $1 has OIFS '$(oifs_col "$row")', want '$2'"
    say "ok: show lists $1 to $2"
}

# ---- before: the old config, and a stop filter for the group to be added
expect_forward v4 225.1.1.1 rcv1; expect_recv rcv2 0
expect_forward v4 225.1.1.2 rcv1; expect_recv rcv2 0
expect_forward v4 225.1.1.4 rcv2; expect_recv rcv1 0
expect_forward v4 225.1.1.5 rcv1; expect_recv rcv2 0
expect_no_forward v4 225.1.1.3 rcv1; expect_recv rcv2 0
check "stop filter for (10.0.1.2, 225.1.1.3)" wait_for 2 mfc_has 10.0.1.2 225.1.1.3
check_not "the stop filter forwards nothing" mfc_forwards 10.0.1.2 225.1.1.3
expect_oifs 10.0.1.2 225.1.1.1 b1
expect_oifs 10.0.1.2 225.1.1.5 b1

# ---- reload to the new config
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b2
mroute from a1 source 10.0.1.2 group 225.1.1.3 to b1
mroute from a1 source 10.0.1.2 group 225.1.1.4 to b2
mroute from a1 group 225.1.1.5 to b2
CONF
ctl reload || fail "smcroutectl reload failed"

# Kernel: exactly the new OIFs (SMCRoute 2.5.6 leaves b1 in the first entry).
expect_oifs 10.0.1.2 225.1.1.1 b2
check "removed route gone from the kernel" mfc_lacks 10.0.1.2 225.1.1.2
expect_oifs 10.0.1.2 225.1.1.3 b1
expect_oifs 10.0.1.2 225.1.1.4 b2
# The rule's learned entry follows the rule (re-learned or updated).
expect_oifs 10.0.1.2 225.1.1.5 b2

# show: the new config, nothing of the old.
echo "$(q show)"
expect_show_oifs "(10.0.1.2, 225.1.1.1)" b2
expect_show_oifs "(10.0.1.2, 225.1.1.3)" b1
expect_show_oifs "(10.0.1.2, 225.1.1.4)" b2
expect_show_oifs "(*, 225.1.1.5)" b2
check_not "show no longer lists (10.0.1.2, 225.1.1.2)" eval "q show | grep -qF '(10.0.1.2, 225.1.1.2)'"
[ "$(q show | grep -cF '(10.0.1.2, 225.1.1.1)')" = 1 ] || fail "show lists (10.0.1.2, 225.1.1.1) more than once: $(q show)"

# Traffic: the right receivers only.
expect_forward v4 225.1.1.1 rcv2; expect_recv rcv1 0
expect_no_forward v4 225.1.1.2 rcv1; expect_recv rcv2 0
expect_forward v4 225.1.1.3 rcv1; expect_recv rcv2 0
expect_forward v4 225.1.1.4 rcv2; expect_recv rcv1 0
expect_forward v4 225.1.1.5 rcv2; expect_recv rcv1 0
pass

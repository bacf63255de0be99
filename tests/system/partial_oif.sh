#!/bin/bash
# A route whose outbound interfaces include one that does not exist yet (vc)
# or one disabled by phyint (b2), and a (*,G) rule to b1 and vc, forward to the others at once, as in
# SMCRoute 2.x. When vc appears (a veth into a new receiver namespace) it is
# added to the kernel entry with no reload, while a steady flow to b1 loses
# nothing; when vc goes, b1 keeps receiving. IPv6 likewise.
. "$(dirname "$0")/lib.sh"
topo
six=0
[ -e /proc/net/ip6_mr_cache ] && six=1
write_conf <<'CONF'
phyint b2 disable
mroute from a1 source 10.0.1.2 group 225.7.7.1 to b1 vc
mroute from a1 source 10.0.1.2 group 225.7.7.2 to b1 b2
mroute from a1 group 225.7.7.3 to b1 vc
CONF
[ "$six" = 1 ] && echo "mroute from a1 source fd01::2 group ff0e::771 to b1 vc" >>"$CONF"
start_daemon

# oif_count SRC GRP N: the resolved entry forwards to N VIFs (fields after the 6th).
oif_count() { [ "$(mfc_line "$1" "$2" | awk '{ print NF - 6 }')" = "$3" ]; }

pend=$(ctl show pending) || fail "show pending failed"
echo "$pend"
check "show pending names the missing vc" grep -q 'outbound interface vc does not exist' <<<"$pend"
check "show pending names the disabled b2" grep -q 'outbound interface b2 is disabled by phyint' <<<"$pend"
out=$(ctl show) || fail "show failed"
echo "$out"
check "the route with a missing OIF is active" \
    eval "grep -F -- '(10.0.1.2, 225.7.7.1)' <<<\"\$out\" | grep -qw active"
RECEIVERS="rcv1 rcv2"
check "(10.0.1.2, 225.7.7.1) forwards to b1 alone" oif_count 10.0.1.2 225.7.7.1 1
expect_forward v4 225.7.7.1 rcv1
expect_forward v4 225.7.7.2 rcv1; expect_recv rcv2 0
expect_forward v4 225.7.7.3 rcv1  # learned from the (*,G) rule, without vc
[ "$six" = 1 ] && expect_forward v6 ff0e::771 rcv1

# A steady flow to b1 (3 s at 100 pps) while vc appears.
ROUND=$((ROUND + 1))
rm -f "$TMP/steady.ready"
ip netns exec rcv1 "$TOOLS/mcrecv" -g 225.7.7.1 -p "$PORT" -i eth0 -w 60 -T -I "$ROUND" \
    -R "$TMP/steady.ready" >"$TMP/steady.out" 2>"$TMP/steady.err" &
steady_rcv=$!
check "steady receiver ready" wait_for 5 test -e "$TMP/steady.ready"
nsx snd "$TOOLS/mcsend" -g 225.7.7.1 -p "$PORT" -i eth0 -s 10.0.1.2 -n 300 -r 100 -I "$ROUND" &
steady_snd=$!
sleep 0.5
must ip netns add rcv3
must nsx rcv3 ip link set lo up
sysctl_in rcv3 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
must ip link add vc type veth peer name eth0 netns rcv3
must ip addr add 10.0.5.1/24 dev vc
must ip addr add fd05::1/64 dev vc nodad
must ip link set vc up
must nsx rcv3 ip addr add 10.0.5.2/24 dev eth0
must nsx rcv3 ip addr add fd05::2/64 dev eth0 nodad
must nsx rcv3 ip link set eth0 up
say "vc (to rcv3) created"
check "vc is added to (10.0.1.2, 225.7.7.1) without a reload" wait_for 5 oif_count 10.0.1.2 225.7.7.1 2
wait "$steady_snd" || fail "steady mcsend failed"
sleep 0.3
kill -TERM "$steady_rcv" 2>/dev/null
wait "$steady_rcv" || fail "steady mcrecv failed: $(cat "$TMP/steady.err")"
got=$(head -n 1 "$TMP/steady.out")
say "steady flow: rcv1 received $got of 300"
[ "$got" = 300 ] || fail "the flow to b1 was disturbed when vc appeared: $got of 300"
pend=$(ctl show pending) || fail "show pending failed"
check_not "show pending no longer names vc" grep -q 'vc' <<<"$pend"

check "vc is added to the learned (10.0.1.2, 225.7.7.3) too" wait_for 5 oif_count 10.0.1.2 225.7.7.3 2
RECEIVERS="rcv1 rcv3"
expect_forward v4 225.7.7.1 rcv1; expect_recv rcv3 10
expect_forward v4 225.7.7.3 rcv1; expect_recv rcv3 10
[ "$six" = 1 ] && { expect_forward v6 ff0e::771 rcv1; expect_recv rcv3 10; }

# vc goes: b1 keeps receiving.
must ip link del vc
RECEIVERS="rcv1"
check "(10.0.1.2, 225.7.7.1) stays in the kernel with b1 alone" wait_for 3 oif_count 10.0.1.2 225.7.7.1 1
expect_forward v4 225.7.7.1 rcv1
[ "$six" = 1 ] && expect_forward v6 ff0e::771 rcv1
pend=$(ctl show pending) || fail "show pending failed"
check "show pending names vc again" grep -q 'outbound interface vc does not exist' <<<"$pend"
pass

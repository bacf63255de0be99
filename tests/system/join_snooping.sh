#!/bin/bash
# A join on the inbound interface pulls a stream through an IGMP-snooping
# switch. The sender sits behind a bridge with multicast snooping and an
# IGMP querier (namespace sw); the router's inbound port on it (swr) neither
# floods unknown multicast nor is a multicast-router port, so without a
# membership the router's c1 receives nothing and rcv1 gets nothing although
# an (S,G) route c1 -> b1 is installed. After "smcroutectl join c1 G" the
# router's IGMP report creates the bridge's mdb entry and the stream is
# forwarded to rcv1; after "leave" (fast-leave port) it stops again.
#
#   snd2 eth0 10.0.4.2 --- swa [sw: br0] swr --- c1 10.0.4.1 [router] b1 --- rcv1
. "$(dirname "$0")/lib.sh"
topo
command -v bridge >/dev/null 2>&1 || skip "bridge(8) (iproute2) not found"

must ip netns add sw
must ip netns add snd2
must nsx sw ip link set lo up
must nsx snd2 ip link set lo up
# A query response interval of 1 s: the bridge starts filtering strictly
# (unregistered multicast only to multicast-router ports) one response
# interval after its querier starts; before that it floods.
nsx sw ip link add br0 type bridge mcast_snooping 1 mcast_query_response_interval 100 2>"$TMP/br.err" \
    || skip "cannot create a bridge with multicast snooping: $(cat "$TMP/br.err")"
[ "$(nsx sw cat /sys/class/net/br0/bridge/multicast_snooping 2>/dev/null)" = 1 ] \
    || skip "bridge multicast snooping not available"
must nsx sw ip link add swa type veth peer name eth0 netns snd2
must ip link add c1 type veth peer name swr netns sw
must nsx sw ip link set swa master br0
must nsx sw ip link set swr master br0
# The router's port: no flooding of unknown multicast, never an mrouter
# port (it would then get every stream), leave takes effect at once.
must nsx sw bridge link set dev swr mcast_flood off
must nsx sw bridge link set dev swr mcast_router 0
must nsx sw bridge link set dev swr fastleave on
for l in swa swr br0; do must nsx sw ip link set "$l" up; done
# The querier last: the delay before strict filtering is taken from the
# response interval in force when the querier is switched on.
nsx sw ip link set br0 type bridge mcast_querier 1 2>"$TMP/br.err" \
    || skip "cannot enable the bridge's IGMP querier: $(cat "$TMP/br.err")"
must nsx snd2 sysctl -qw net.ipv4.conf.all.rp_filter=0
must nsx snd2 ip addr add 10.0.4.2/24 dev eth0
must nsx snd2 ip link set eth0 up
must nsx snd2 ip route add default via 10.0.4.1
must sysctl -qw net.ipv4.conf.c1.rp_filter=0
must ip addr add 10.0.4.1/24 dev c1
must ip link set c1 up
say "snooping switch up: snd2 -- [sw br0] -- c1"

SND_NS=snd2
SRC4=10.0.4.2
RECEIVERS="rcv1"
G=225.1.2.3

# strict_filtering: the bridge no longer floods unregistered multicast, i.e.
# 20 datagrams to a group nobody joined do not reach br0's own port (in
# flooding mode each counts in br0's multicast statistics; a few other
# packets may count as well, hence the margin).
strict_filtering() {
    local c0 c1
    c0=$(nsx sw cat /sys/class/net/br0/statistics/multicast)
    nsx snd2 "$TOOLS/mcsend" -g 225.9.9.9 -p "$PORT" -i eth0 -s "$SRC4" -n 20 -r 0 -I probe || return 1
    sleep 0.1
    c1=$(nsx sw cat /sys/class/net/br0/statistics/multicast)
    [ $((c1 - c0)) -lt 10 ]
}
# mdb_has: the bridge has a membership of G on port swr.
mdb_has() { nsx sw bridge mdb show dev br0 | grep -w swr | grep -qwF "$G"; }
mdb_lacks() { ! nsx sw bridge mdb show dev br0 | grep -w swr | grep -qwF "$G"; }

write_conf <<CONF
mroute from c1 source $SRC4 group $G to b1
CONF
start_daemon
check "(S,G) route c1 -> b1 in the kernel" wait_for 2 mfc_forwards "$SRC4" "$G"

# ---- no join: the switch keeps the stream from the router
check "the snooping bridge filters unregistered multicast (its querier is active)" wait_for 15 strict_filtering
check_not "kernel holds no $G on c1 before the join" kernel_joined c1 "$G"
check "no mdb entry for $G on swr before the join" mdb_lacks
traffic v4 "$G" 20
expect_recv rcv1 0
in0=$(awk '$2 == "c1" { print $4 }' /proc/net/ip_mr_vif)
say "c1 VIF packets in before the join: ${in0:-?}"
[ "${in0:-0}" = 0 ] || fail "c1 received $in0 multicast packets although nobody joined (the switch floods)"
say "ok: without a join the switch does not send the stream to c1"

# ---- join on the inbound interface: the stream arrives and is forwarded
check "smcroutectl join c1 $G" ctl join c1 "$G"
check "kernel holds $G on c1" wait_for 2 kernel_joined c1 "$G"
check "the bridge learned $G on swr from the router's report" wait_for 5 mdb_has
nsx sw bridge mdb show dev br0
traffic v4 "$G" 20
expect_recv rcv1 20

# ---- leave: the switch stops the stream again
check "smcroutectl leave c1 $G" ctl leave c1 "$G"
check "kernel no longer holds $G on c1" wait_for 2 kernel_not_joined c1 "$G"
check "the bridge dropped $G on swr" wait_for 5 mdb_lacks
traffic v4 "$G" 20
expect_recv rcv1 0
pass

#!/bin/bash
# The proxy is a host on its upstream link (issue 17, RFC 4605 4.1), IPv4
# and IPv6: when the first receiver downstream joins a group, the router's
# kernel holds it on a1 (/proc/net/igmp, igmp6) and reports it on the wire
# (a capture in snd, the other end of a1, sees a report from the router's
# address, TTL 1, Router Alert, for the group); a second receiver changes
# nothing upstream (the group listed once; no leave when one of them goes); when the last one leaves, the
# kernel drops it and the wire carries the router's leave (IGMPv3/MLDv2:
# a TO_IN {} record for the group). A group nobody downstream wants is
# never joined upstream.
. "$(dirname "$0")/lib.sh"
proxy_topo

S=$TIME_SCALE
write_conf <<EOF
phyint a1 upstream
phyint br0 downstream query-interval $(scaled 2) query-response-interval $(scaled 1) last-member-query-interval $(scaled 0.2)
EOF
capture_start wire snd eth0
start_daemon
A1_LL=$(link_local a1)
[ -n "$A1_LL" ] || fail "a1 has no link-local address"

# wire_has SRC GROUP TYPE-PATTERN [SOURCES]: the capture has a message from
# SRC for GROUP matching TYPE-PATTERN (e.g. 'type=v3report rec=(TO_EX|IS_EX)'),
# TTL 1 with Router Alert, with that source list ('-': none) if given.
wire_has() {
    local tail=""
    [ -n "${4:-}" ] && tail=" sources=$4"
    grep -E "^t=[0-9.]+ dir=in src=$1 dst=[^ ]+ ttl=1 ra=1 $3 group=$2$tail( |\$)" "$TMP/wire.cap" >/dev/null
}

for fam in v4 v6; do
    if [ "$fam" = v4 ]; then six=() G=239.1.1.1 NEVER=239.1.1.99 F=IPv4 ME=10.0.1.1
    else six=(-6) G=ff0e::1:1 NEVER=ff0e::1:99 F=IPv6 ME=$A1_LL; fi
    say "==== $F"
    check_not "$F: $G not on a1 before any join" kernel_joined a1 "$G"
    check_not "$F: no report for $G on the wire before any join" wire_has "$ME" "$G" 'type=v3report rec=(TO_EX|IS_EX)'

    pjoin "r1-$fam" rcv1 "${six[@]}" "$G"
    check "$F: the router's kernel holds $G on a1" wait_for $((3 * S)) kernel_joined a1 "$G"
    check "$F: the router reported $G on the upstream wire (from $ME, TTL 1, Router Alert)" \
        wait_for $((3 * S)) wire_has "$ME" "$G" 'type=v3report rec=(TO_EX|IS_EX)'
    check "$F: show proxy lists $G upstream on a1" pq_is a1 "$F" "$G" 'G is not None and G["mode"] == "exclude"'
    check_not "$F: $NEVER (nobody wants it) not joined upstream" kernel_joined a1 "$NEVER"

    pjoin "r2-$fam" rcv2 "${six[@]}" "$G"
    check "$F: a second receiver: the upstream row still lists $G once, in exclude mode" \
        pq_is a1 "$F" "$G" "[(g['group'], g['mode']) for g in R['groups'] if g['group'] == '$G'] == [('$G', 'exclude')]"
    c0=$(pq br0 "$F" "" 'R["counters"]["reports"] + R["counters"]["leaves"]')
    pleave "r2-$fam"
    check "$F: the daemon received rcv2's leave" wait_for $((3 * S)) pq_is br0 "$F" "" \
        "R['counters']['reports'] + R['counters']['leaves'] > $c0"
    # Three last-member-query times: had the proxy taken rcv2's leave for
    # the last one, it would have left upstream by now.
    nap "$(scaled 1.2)"
    check "$F: one receiver left, $G still on a1" kernel_joined a1 "$G"
    check_not "$F: no leave for $G on the wire while rcv1 remains" wire_has "$ME" "$G" 'type=v3report rec=TO_IN'

    pleave "r1-$fam"
    check "$F: the last receiver left: $G gone from a1" wait_for $((5 * S)) kernel_not_joined a1 "$G"
    check "$F: the router's leave (TO_IN {}) for $G on the wire" \
        wait_for $((3 * S)) wire_has "$ME" "$G" 'type=v3report rec=TO_IN' -
    check "$F: show proxy no longer lists $G upstream" pq_is a1 "$F" "$G" 'G is None'
done
check "daemon alive" alive "$DAEMON_PID"
pass

#!/bin/bash
# allow/deny on a downstream (issue 17), IPv4 and IPv6: "allow 239.1.0.0/16
# deny 239.1.9.0/24" (and ff0e::1:0/112 less ff0e::1:900/120): the most
# specific prefix decides, and with an allow of the family present a group
# no prefix matches is denied. rcv1 joins three groups that all stream:
#   * the allowed one (239.1.1.1 / ff0e::1:1) is forwarded, listed on br0 and
#     joined upstream;
#   * the one inside the deny (239.1.9.1 / ff0e::1:901) and the one outside
#     every allow (239.2.0.1 / ff0e::2:1) never reach the segment, are not
#     listed on br0, are not joined upstream (show proxy, /proc/net/igmp[6]),
#     and counters.denied rose.
. "$(dirname "$0")/lib.sh"
proxy_topo

S=$TIME_SCALE
write_conf <<EOF
phyint a1 upstream
phyint br0 downstream allow 239.1.0.0/16 deny 239.1.9.0/24 allow ff0e::1:0/112 deny ff0e::1:900/120 query-interval $(scaled 2) query-response-interval $(scaled 1)
EOF
start_daemon

for fam in v4 v6; do
    if [ "$fam" = v4 ]; then six=() OK=239.1.1.1 DENY=239.1.9.1 OUT=239.2.0.1 SRC=10.0.1.2 F=IPv4
    else six=(-6) OK=ff0e::1:1 DENY=ff0e::1:901 OUT=ff0e::2:1 SRC=fd01::2 F=IPv6; fi
    say "==== $F: allowed $OK, denied $DENY (deny prefix), $OUT (no allow)"
    d0=$(pq br0 "$F" "" 'R["counters"]["denied"]')
    for g in $OK $DENY $OUT; do
        psend "s-$g" "${six[@]}" "$g" "$SRC"
        check "$F: the stream to $g reaches a1" arrives - a1 "${six[@]}" "$g" $((5 * S))
        pjoin "r-$g" rcv1 "${six[@]}" "$g"
    done
    check "$F: the allowed $OK arrives on the segment" arrives rcv1 eth0 "${six[@]}" "$OK" $((3 * S))
    check "$F: $OK listed on br0" pq_is br0 "$F" "$OK" 'G is not None'
    check "$F: $OK joined upstream" wait_for $((3 * S)) kernel_joined a1 "$OK"
    check "$F: counters.denied rose (two denied joins)" wait_for $((3 * S)) pq_is br0 "$F" "" "R['counters']['denied'] >= $d0 + 2"
    for g in $DENY $OUT; do
        n=$(frames_on rcv1 eth0 "${six[@]}" "$g" 2)
        [ "$n" = 0 ] || fail "$F: $n frame(s) of the denied group $g reached the segment"
        say "ok: $F: the denied $g is not forwarded"
        check "$F: denied $g not listed on br0" pq_is br0 "$F" "$g" 'G is None'
        check "$F: denied $g not listed upstream" pq_is a1 "$F" "$g" 'G is None'
        check "$F: denied $g not joined on a1" kernel_not_joined a1 "$g"
    done
    for g in $OK $DENY $OUT; do
        pleave "r-$g"
        kill -TERM "${BG_PID[s-$g]}" 2>/dev/null
    done
done
check "daemon alive" alive "$DAEMON_PID"
pass

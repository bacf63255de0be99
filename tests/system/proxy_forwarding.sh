#!/bin/bash
# The IGMP/MLD proxy forwards a group onto a downstream segment exactly while
# a host there wants it (issue 17), IPv4 and IPv6, with receivers that are
# real host stacks on one bridged segment (br0: rcv1, rcv2), each round with
# the hosts speaking IGMPv3 / IGMPv2 / MLDv2 / MLDv1 (force_*_version):
#   * nothing reaches the segment before a join (the stream does reach a1);
#   * after rcv1 joins, the group arrives within a bound, show proxy lists
#     it on br0 and upstream on a1;
#   * rcv2 joins too, then leaves: the traffic continues (the link never
#     goes 0.5 s without it over 3 last-member-query times), the group stays;
#   * rcv1 leaves too: the traffic stops within the last-member-query time
#     (plus slack) and the group goes from br0 and from the upstream row;
#   * rcv1 joins again and vanishes without a leave (its bridge port goes
#     down): the router keeps forwarding for a while (no leave was sent) and
#     stops after the group membership interval (robustness x query-interval
#     + query-response-interval).
# Short timers, scaled with SMCT_TIME_SCALE: query-interval 2, query-
# response-interval 1, last-member-query-interval 0.2 (count 2): LMQT 0.4 s,
# membership interval 5 s.
. "$(dirname "$0")/lib.sh"
proxy_topo

S=$TIME_SCALE
QI=$(scaled 2) QRI=$(scaled 1) LMQI=$(scaled 0.2)
write_conf <<EOF
phyint a1 upstream
phyint br0 downstream query-interval $QI query-response-interval $QRI last-member-query-interval $LMQI robustness 2
EOF
start_daemon

for round in v4:3 v4:2 v6:2 v6:1; do
    fam=${round%:*} ver=${round#*:}
    if [ "$fam" = v4 ]; then
        six=() G=239.1.1.$ver SRC=10.0.1.2 F=IPv4 name=IGMPv$ver
    else
        six=(-6) G=ff0e::1:$ver SRC=fd01::2 F=IPv6 name=MLDv$ver
    fi
    say "==== $F, hosts speak $name, group $G"
    for ns in rcv1 rcv2; do
        if [ "$fam" = v4 ]; then proxy_version "$ns" v4 "$([ "$ver" = 3 ] && echo 0 || echo 2)"
        else proxy_version "$ns" v6 "$([ "$ver" = 2 ] && echo 0 || echo 1)"; fi
    done
    psend "s-$round" "${six[@]}" "$G" "$SRC"
    check "$F: the stream reaches the router's a1" arrives - a1 "${six[@]}" "$G" $((5 * S))

    # Nothing before a join.
    n=$(frames_on rcv1 eth0 "${six[@]}" "$G" 2)
    [ "$n" = 0 ] || fail "$F: $n frame(s) of $G on the segment before any join"
    check "$F: show proxy lists no $G on br0 before a join" pq_is br0 "$F" "$G" 'G is None'
    say "ok: $F: nothing forwarded before a join"

    # Join: forwarding within the bound.
    pjoin "r1-$round" rcv1 "${six[@]}" "$G"
    check "$F: $G arrives on the segment within $((3 * S)) s of rcv1's join" arrives rcv1 eth0 "${six[@]}" "$G" $((3 * S))
    check "$F: show proxy lists $G on br0" pq_is br0 "$F" "$G" 'G is not None'
    check "$F: show proxy lists $G joined upstream on a1 (exclude)" \
        pq_is a1 "$F" "$G" 'R["role"] == "upstream" and G is not None and G["mode"] == "exclude"'

    # Two receivers, one leaves: continues.
    pjoin "r2-$round" rcv2 "${six[@]}" "$G"
    # rcv2's leave: a Leave / Done message from an IGMPv2 / MLDv1 host
    # (counted in leaves), a TO_IN {} report from an IGMPv3 / MLDv2 one.
    if [ "$ver" = 2 ] && [ "$fam" = v4 ] || [ "$ver" = 1 ]; then counted='R["counters"]["leaves"]'
    else counted='R["counters"]["reports"] + R["counters"]["leaves"]'; fi
    before=$(pq br0 "$F" "" "$counted")
    pleave "r2-$round"
    check "$F: the daemon received rcv2's leave" wait_for $((3 * S)) pq_is br0 "$F" "" "$counted > $before"
    if stops_within rcv1 eth0 "${six[@]}" "$G" 0.5 "$(scaled 1.2)"; then
        fail "$F: $G stopped on the segment after rcv2 left although rcv1 is still a member (last frame ${STOPPED_MS} ms)"
    fi
    say "ok: $F: rcv2 left, rcv1 still receives (never 0.5 s without $G in 3 LMQTs)"
    check "$F: show proxy still lists $G on br0" pq_is br0 "$F" "$G" 'G is not None'

    # Both leave: stops within the last-member-query time.
    pleave "r1-$round"
    limit=$(scaled 1.4)
    stops_within rcv1 eth0 "${six[@]}" "$G" 0.5 $((10 * S)) || fail "$F: $G still forwarded 10 s after the last leave"
    awk -v ms="$STOPPED_MS" -v l="$limit" 'BEGIN { exit !(ms <= l * 1000) }' \
        || fail "$F: the last frame of $G came ${STOPPED_MS} ms after the last leave, want <= LMQT 0.4 s + 1 s slack (${limit} s)"
    say "ok: $F: both left, the last frame ${STOPPED_MS} ms after the leave"
    check "$F: $G gone from br0 in show proxy" wait_for $((3 * S)) pq_is br0 "$F" "$G" 'G is None'
    check "$F: $G gone from the upstream row" wait_for $((3 * S)) pq_is a1 "$F" "$G" 'G is None'

    # Vanish without a leave: stops after the membership interval.
    pjoin "r3-$round" rcv1 "${six[@]}" "$G"
    check "$F: $G flows again after rcv1's new join" arrives rcv1 eth0 "${six[@]}" "$G" $((3 * S))
    must ip link set p1 down
    say "rcv1's bridge port is down: it can neither hear queries nor report"
    # Still forwarded onto the segment for a while: the group timer runs;
    # then it stops, within the membership interval (5 s) plus slack, and
    # not at once (at least MI - QI - QRI = 2 s after). Watched at rcv2,
    # which left but still sees what the router sends (the bridge floods:
    # snooping is off); a capture on the router's br0 misses its own egress.
    stops_within rcv2 eth0 "${six[@]}" "$G" 0.5 $((20 * S)) || fail "$F: $G still forwarded 20 s after rcv1 vanished"
    awk -v ms="$STOPPED_MS" -v s="$S" 'BEGIN { exit !(ms >= 1500 * s && ms <= 6500 * s) }' \
        || fail "$F: forwarding stopped ${STOPPED_MS} ms after rcv1 vanished, want between MI - QI - QRI (2 s, less slack) and MI 5 s + 1.5 s"
    say "ok: $F: rcv1 vanished; forwarding stopped ${STOPPED_MS} ms later (membership interval 5 s)"
    check "$F: $G gone from br0 after the membership interval" wait_for $((3 * S)) pq_is br0 "$F" "$G" 'G is None'
    pleave "r3-$round"
    must ip link set p1 up
    check "p1 up again" wait_for $((5 * S)) grep -qx 1 /sys/class/net/p1/carrier
    kill -TERM "${BG_PID[s-$round]}" 2>/dev/null
done
check "daemon alive" alive "$DAEMON_PID"
pass

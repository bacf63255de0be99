#!/bin/bash
# An IGMPv3/MLDv2 INCLUDE join through the proxy forwards only its sources
# (issue 17), IPv4 and IPv6. Two senders S1 and S2 send to one SSM group;
# rcv1's socket joins (G, S1) (MCAST_JOIN_SOURCE_GROUP, tests/tools/mcjoin
# -s), so its kernel reports ALLOW {S1}:
#   * S1's frames arrive on the segment, S2's never do (counted on the link,
#     member or not);
#   * show proxy: br0's group is in include mode with sources exactly [S1];
#     the upstream row on a1 holds the group in include mode with [S1], and
#     the router's kernel holds (G, S1) on a1 (/proc/net/mcfilter[6]);
#   * rcv2 joins (G, S2): both sources reach the segment, upstream includes
#     both;
#   * rcv1 leaves: S1 stops on the segment within the last-member-query time
#     (plus slack), S2 continues; upstream includes only S2; after rcv2
#     leaves too the group is gone upstream.
. "$(dirname "$0")/lib.sh"
proxy_topo

S=$TIME_SCALE
write_conf <<EOF
phyint a1 upstream
phyint br0 downstream query-interval $(scaled 2) query-response-interval $(scaled 1) last-member-query-interval $(scaled 0.2)
EOF
add_src 10.0.1.3
add_src fd01::3
mcfilter_anchor
start_daemon

for fam in v4 v6; do
    if [ "$fam" = v4 ]; then six=() G=232.1.1.1 S1=10.0.1.2 S2=10.0.1.3 F=IPv4
    else six=(-6) G=ff3e::1:1 S1=fd01::2 S2=fd01::3 F=IPv6; fi
    say "==== $F: ($S1 | $S2, $G)"
    psend "s1-$fam" "${six[@]}" "$G" "$S1"
    psend "s2-$fam" "${six[@]}" "$G" "$S2"
    check "$F: both streams reach a1" arrives - a1 "${six[@]}" "$G" -s "$S2" $((5 * S))

    pjoin "r1-$fam" rcv1 "${six[@]}" "$G" -s "$S1"
    check "$F: ($S1, $G) arrives on the segment" arrives rcv1 eth0 "${six[@]}" "$G" -s "$S1" $((3 * S))
    n=$(frames_on rcv1 eth0 "${six[@]}" "$G" -s "$S2" 2)
    [ "$n" = 0 ] || fail "$F: $n frame(s) of the excluded source $S2 reached the segment"
    say "ok: $F: only the included source $S1 is forwarded"
    check "$F: br0 holds $G in include mode with sources [$S1]" \
        pq_is br0 "$F" "$G" "G is not None and G['mode'] == 'include' and [s['source'] for s in G['sources']] == ['$S1']"
    check "$F: upstream a1 includes [$S1] for $G" \
        pq_is a1 "$F" "$G" "G is not None and G['mode'] == 'include' and G['sources'] == ['$S1']"
    check "$F: the router's kernel holds ($S1, $G) on a1" kernel_joined a1 "$G" "$S1"

    pjoin "r2-$fam" rcv2 "${six[@]}" "$G" -s "$S2"
    check "$F: ($S2, $G) arrives once rcv2 includes it" arrives rcv1 eth0 "${six[@]}" "$G" -s "$S2" $((3 * S))
    check "$F: upstream a1 includes both sources" \
        wait_for $((3 * S)) pq_is a1 "$F" "$G" "G is not None and G['mode'] == 'include' and sorted(G['sources']) == sorted(['$S1', '$S2'])"
    check "$F: the router's kernel holds ($S2, $G) on a1" kernel_joined a1 "$G" "$S2"

    pleave "r1-$fam"
    stops_within rcv1 eth0 "${six[@]}" "$G" -s "$S1" 0.5 $((10 * S)) || fail "$F: ($S1, $G) still forwarded 10 s after rcv1 left"
    awk -v ms="$STOPPED_MS" -v l="$(scaled 1.4)" 'BEGIN { exit !(ms <= l * 1000) }' \
        || fail "$F: ($S1, $G) stopped ${STOPPED_MS} ms after the leave, want <= LMQT + 1 s slack"
    say "ok: $F: $S1 stopped ${STOPPED_MS} ms after rcv1 left"
    check "$F: ($S2, $G) still arrives" arrives rcv1 eth0 "${six[@]}" "$G" -s "$S2" $((2 * S))
    check "$F: upstream a1 includes only [$S2]" \
        wait_for $((3 * S)) pq_is a1 "$F" "$G" "G is not None and G['sources'] == ['$S2']"
    check "$F: the router's kernel no longer includes $S1 on a1" wait_for $((3 * S)) kernel_not_joined a1 "$G" "$S1"
    pleave "r2-$fam"
    check "$F: $G gone upstream after the last leave" wait_for $((5 * S)) pq_is a1 "$F" "$G" 'G is None'
    kill -TERM "${BG_PID[s1-$fam]}" "${BG_PID[s2-$fam]}" 2>/dev/null
done
check "daemon alive" alive "$DAEMON_PID"
pass

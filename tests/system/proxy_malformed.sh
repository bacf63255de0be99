#!/bin/bash
# Malformed reports change nothing (issue 17), IGMP and MLD. While rcv2
# holds a group that flows, rcv1 sends hand-made reports (tests/tools/
# group_raw.py, bytes from the RFCs' layouts, sent whole on an AF_PACKET
# socket) for groups nobody wants: a bad checksum, a truncated message, an
# IGMPv3/MLDv2 record claiming more sources than it carries, and a correct
# report with TTL / hop limit 2 (RFC 3376 4.2.12 / RFC 3810 5: only TTL 1
# counts). Then:
#   * counters.malformed of br0 rose by exactly the number of bad reports
#     (and stays there);
#   * none of the reported groups appears in show proxy (br0 or upstream)
#     nor in the router's kernel on a1; br0's group list is what it was;
#   * the existing group still flows; the daemon is alive.
# And as a control, the same report made correctly (group_raw.py igmp-ok /
# mld-ok) IS taken: the group appears on br0 (so the checker can fail).
. "$(dirname "$0")/lib.sh"
proxy_topo
command -v python3 >/dev/null 2>&1 || fail "python3 not found (tests/tools/group_raw.py)"
RAW=$(dirname "$(readlink -f "$0")")/../tools/group_raw.py
[ -f "$RAW" ] || fail "$RAW missing"

S=$TIME_SCALE
write_conf <<EOF
phyint a1 upstream
phyint br0 downstream query-interval $(scaled 2) query-response-interval $(scaled 1)
EOF
start_daemon

for fam in v4 v6; do
    if [ "$fam" = v4 ]; then
        six=() G=239.1.1.1 SRC=10.0.1.2 F=IPv4 BAD=239.1.5.1 OK=239.1.5.9 p=igmp
        cases="igmp-badsum igmp-short igmp-overrun igmp-ttl2"
    else
        six=(-6) G=ff0e::1:1 SRC=fd01::2 F=IPv6 BAD=ff0e::5:1 OK=ff0e::5:9 p=mld
        cases="mld-badsum mld-short mld-overrun mld-hop2"
    fi
    say "==== $F"
    psend "s-$fam" "${six[@]}" "$G" "$SRC"
    pjoin "r2-$fam" rcv2 "${six[@]}" "$G"
    check "$F: $G flows to the segment" arrives rcv2 eth0 "${six[@]}" "$G" $((3 * S))
    groups0=$(pq br0 "$F" "" 'sorted(g["group"] for g in R["groups"])')
    mal0=$(pq br0 "$F" "" 'R["counters"]["malformed"]')
    say "before: groups $groups0, malformed $mal0"

    n=0
    for c in $cases; do
        nsx rcv1 python3 "$RAW" eth0 "$c" "$BAD" || fail "group_raw.py $c failed"
        # An ICMPv6 message with a bad checksum never reaches a raw socket:
        # the kernel drops it (Icmp6InCsumErrors); it must still change
        # nothing, which the checks below see, but it is not ours to count.
        [ "$c" = mld-badsum ] || n=$((n + 1))
    done
    check "$F: counters.malformed rose by $n" wait_for $((3 * S)) pq_is br0 "$F" "" "R['counters']['malformed'] == $mal0 + $n"
    # Nothing else of them may arrive late: the counter stays put a moment.
    nap 0.5
    check "$F: counters.malformed still exactly +$n" pq_is br0 "$F" "" "R['counters']['malformed'] == $mal0 + $n"
    check "$F: $BAD is not in show proxy on br0" pq_is br0 "$F" "$BAD" 'G is None'
    check "$F: $BAD is not joined upstream" pq_is a1 "$F" "$BAD" 'G is None'
    check "$F: the router's kernel does not hold $BAD on a1" kernel_not_joined a1 "$BAD"
    check "$F: br0's groups are what they were ($groups0)" pq_is br0 "$F" "" "sorted(g['group'] for g in R['groups']) == $groups0"
    check "$F: $G still flows" arrives rcv2 eth0 "${six[@]}" "$G" $((2 * S))
    check "daemon alive after the malformed $F reports" alive "$DAEMON_PID"

    # Control: a correct hand-made report is taken.
    nsx rcv1 python3 "$RAW" eth0 "$p-ok" "$OK" || fail "group_raw.py $p-ok failed"
    check "$F: the correct hand-made report for $OK is taken" wait_for $((3 * S)) pq_is br0 "$F" "$OK" 'G is not None'
    check "$F: counters.malformed unchanged by the correct report" pq_is br0 "$F" "" "R['counters']['malformed'] == $mal0 + $n"
    pleave "r2-$fam"
    kill -TERM "${BG_PID[s-$fam]}" 2>/dev/null
done
pass

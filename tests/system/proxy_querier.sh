#!/bin/bash
# Querier election on a downstream segment (issue 17; RFC 3376 6.6.2, RFC
# 3810 7.6.2), IPv4 and IPv6. The router's br0 gets the higher address
# (10.0.2.100, link-local fe80::100); rcv2's eth0 has the lower one
# (10.0.2.3, fe80::1) and runs another querier: tests/tools/group_inject
# sending General Queries (version 3 / MLDv2) every second, N times.
#   * before: ours is the querier (show proxy -j: querier true, its own
#     address);
#   * while the other queries: ours becomes non-querier within a bound
#     (querier false, querier_address the other's, other_querier_expires_in
#     set) and sends no query of its own meanwhile (queries_sent constant);
#   * after the other stops: ours takes over after the other-querier-present
#     interval (robustness x query-interval + query-response-interval / 2 =
#     4.5 s, scaled), not before its last query + 3 s and not after 6.5 s,
#     and sends queries again.
. "$(dirname "$0")/lib.sh"
proxy_topo
[ -x "$TOOLS/group_inject" ] || fail "$TOOLS/group_inject missing (build the test tools)"

S=$TIME_SCALE
# Ours the higher address on both families.
must ip addr del 10.0.2.1/24 dev br0
must ip addr add 10.0.2.100/24 dev br0
must ip -6 addr flush dev br0 scope link
must ip -6 addr add fe80::100/64 dev br0 nodad
must ip -n rcv2 -6 addr flush dev eth0 scope link
must ip -n rcv2 -6 addr add fe80::1/64 dev eth0 nodad
write_conf <<EOF
phyint a1 upstream
phyint br0 downstream query-interval $(scaled 2) query-response-interval $(scaled 1)
EOF
start_daemon

for fam in v4 v6; do
    if [ "$fam" = v4 ]; then F=IPv4 proto=igmp OURS=10.0.2.100 OTHER=10.0.2.3
    else F=IPv6 proto=mld OURS=fe80::100 OTHER=fe80::1; fi
    say "==== $F"
    check "$F: ours is the querier at first ($OURS)" \
        wait_for $((5 * S)) pq_is br0 "$F" "" "R['querier'] is True and R['querier_address'] == '$OURS'"

    count=8
    # It advertises our settings (QQIC, QRV, Max Resp): a non-querier adopts
    # the querier's QQI and QRV (RFC 3376 4.1.6/4.1.7, RFC 3810 5.1.9/5.1.11),
    # so the other-querier-present interval follows what the other says.
    ip netns exec rcv2 "$TOOLS/group_inject" eth0 "$proto" query --version 3 --interval "$(scaled 1)" --count "$count" \
        --query-interval "$(scaled 2)" --robustness 2 --max-resp "$(scaled 1)" \
        >"$TMP/inject-$fam.log" 2>&1 &
    INJ=$!
    RECV_PIDS+=("$INJ")
    check "$F: ours turns non-querier, the other ($OTHER) is the querier" \
        wait_for $((3 * S)) pq_is br0 "$F" "" \
        "R['querier'] is False and R['querier_address'] == '$OTHER' and R['other_querier_expires_in'] is not None"
    q0=$(pq br0 "$F" "" 'R["counters"]["queries_sent"]')
    say "non-querier; queries_sent $q0"
    wait "$INJ" || fail "$F: group_inject failed: $(cat "$TMP/inject-$fam.log")"
    t_stop=$EPOCHREALTIME
    check "$F: still non-querier when the other's last query went out" pq_is br0 "$F" "" "R['querier'] is False"
    check "$F: no query sent while non-querier" pq_is br0 "$F" "" "R['counters']['queries_sent'] == $q0"

    # Takeover: poll finely (the time is the assertion).
    took=""
    for ((i = 0; i < 100 * S; i++)); do
        if pq_is br0 "$F" "" "R['querier'] is True and R['querier_address'] == '$OURS'"; then
            took=$(awk -v a="$t_stop" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
            break
        fi
        nap 0.1
    done
    [ -n "$took" ] || fail "$F: ours never took over after the other querier stopped"
    awk -v t="$took" -v s="$S" 'BEGIN { exit !(t >= 3.0 * s && t <= 6.5 * s) }' \
        || fail "$F: ours took over ${took} s after the other's last query, want the other-querier-present interval (4.5 s, window 3..6.5 s)"
    say "ok: $F: ours took over ${took} s after the other querier fell silent"
    check "$F: ours sends queries again" wait_for $((3 * S)) pq_is br0 "$F" "" "R['counters']['queries_sent'] > $q0"
done
check "daemon alive" alive "$DAEMON_PID"
pass

#!/bin/bash
# The proxy's own queries on the downstream wire (issue 17; RFC 3376 4 and
# 4.1.12, RFC 2236 2, RFC 3810 5.1.14 and 5.1.15), IPv4 and IPv6, seen by a
# capture in rcv1 (the receivers' side of the bridge):
#   * General Queries go to 224.0.0.1 / ff02::1 with TTL / hop limit 1 and
#     Router Alert, from br0's address (IPv6: its link-local address), and
#     rcv1's kernel answers them with a report for the group it holds: it
#     took the query (a host drops one with a bad checksum, or, for MLD,
#     from a source that is not link-local);
#   * when rcv1 leaves, a Group-Specific Query goes to the group itself,
#     TTL / hop limit 1, Router Alert, still from br0's link-local address
#     for IPv6 (ff0e:: is a wider scope: left to itself the kernel would
#     choose the global fd02::1, which hosts ignore).
. "$(dirname "$0")/lib.sh"
proxy_topo

S=$TIME_SCALE
write_conf <<EOF
phyint a1 upstream
phyint br0 downstream query-interval $(scaled 2) query-response-interval $(scaled 1) last-member-query-interval $(scaled 0.2)
EOF
capture_start wire rcv1 eth0
start_daemon
BR_LL=$(link_local br0)
[ -n "$BR_LL" ] || fail "br0 has no link-local address"

# seen DIR SRC DST TYPE GROUP: the capture has such a message, TTL 1, Router Alert.
seen() {
    grep -E "^t=[0-9.]+ dir=$1 src=$2 dst=$3 ttl=1 ra=1 type=$4( rec=[A-Z_]+)? group=$5( |\$)" "$TMP/wire.cap" >/dev/null
}

for fam in v4 v6; do
    if [ "$fam" = v4 ]; then
        six=() G=239.1.7.1 F=IPv4 ME=10.0.2.1 ALL=224.0.0.1 ANY=0.0.0.0 REPORT=v3report RDST=224.0.0.22 HOST=10.0.2.2
    else
        six=(-6) G=ff0e::7:1 F=IPv6 ME=$BR_LL ALL=ff02::1 ANY=:: REPORT=v3report RDST=ff02::16
        HOST=$(link_local rcv1 eth0)
        [ -n "$HOST" ] || fail "rcv1 has no link-local address"
    fi
    say "==== $F"
    check "$F: a General Query from $ME to $ALL, TTL 1, Router Alert" \
        wait_for $((5 * S)) seen in "$ME" "$ALL" query "$ANY"
    pjoin "r1-$fam" rcv1 "${six[@]}" "$G"
    check "$F: show proxy lists $G on br0" wait_for $((3 * S)) pq_is br0 "$F" "$G" 'G is not None'
    # A current-state report (IS_EX) is an answer to a query: a state-change
    # report at the join is TO_EX.
    check "$F: rcv1 answers a General Query with IS_EX for $G (it took the query)" \
        wait_for $((4 * S)) grep -qE "dir=out src=$HOST dst=$RDST ttl=1 ra=1 type=$REPORT rec=IS_EX group=$G( |\$)" "$TMP/wire.cap"
    check_not "$F: no Group-Specific Query for $G before a leave" seen in "$ME" "$G" query "$G"
    pleave "r1-$fam"
    check "$F: a Group-Specific Query to $G from $ME, TTL 1, Router Alert" \
        wait_for $((3 * S)) seen in "$ME" "$G" query "$G"
    check "$F: $G gone from br0" wait_for $((3 * S)) pq_is br0 "$F" "$G" 'G is None'
done
check "daemon alive" alive "$DAEMON_PID"
pass

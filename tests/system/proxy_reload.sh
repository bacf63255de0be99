#!/bin/bash
# A reload that leaves the proxy lines alone leaves the proxy alone (issue
# 17), IPv4 and IPv6 at once, and static routes forward beside the proxy.
# The config: the proxy (a1 upstream, br0 downstream) and static (S,G)
# routes on another pair, a2 -> b2 (rcv3). rcv1 holds a proxy group per
# family. Then, while a counted stream runs on each proxy group and on each
# static route (tests/tools/mcsend -n N, mcrecv counting in rcv1 / rcv3):
#   * the config gains one static route and the daemon gets SIGHUP (the new
#     route is in the kernel: the reload was applied);
#   * rcv2 joins and leaves another proxy group (the proxy changes an OIF
#     list; the static routes must not notice).
# Afterwards: every datagram of all four streams arrived (no loss across
# the reload or the proxy's changes), show proxy lists the same groups in
# the same modes on br0 and a1 as before the reload, and the upstream wire
# (a capture in snd) carried no leave (TO_IN {} / leave / done) for the
# proxy groups.
. "$(dirname "$0")/lib.sh"
proxy_topo

S=$TIME_SCALE
proxy_lines="phyint a1 upstream
phyint br0 downstream query-interval $(scaled 2) query-response-interval $(scaled 1) last-member-query-interval $(scaled 0.2)"
static_lines="mroute from a2 source 10.0.4.2 group 225.1.2.3 to b2
mroute from a2 source fd04::2 group ff0e::5:5 to b2"
printf '%s\n%s\n' "$proxy_lines" "$static_lines" | write_conf
capture_start wire snd eth0
start_daemon
A1_LL=$(link_local a1)

pjoin p4 rcv1 239.1.1.1
pjoin p6 rcv1 -6 ff0e::1:1
psend warm4 239.1.1.1 10.0.1.2
psend warm6 -6 ff0e::1:1 fd01::2
check "IPv4 proxy group flows" arrives rcv1 eth0 239.1.1.1 $((3 * S))
check "IPv6 proxy group flows" arrives rcv1 eth0 -6 ff0e::1:1 $((3 * S))
kill -TERM "${BG_PID[warm4]}" "${BG_PID[warm6]}" 2>/dev/null
check "static IPv4 route installed" mfc_forwards 10.0.4.2 225.1.2.3
check "static IPv6 route installed" mfc_forwards fd04::2 ff0e::5:5

snapshot() { # IF FAMILY: the groups with modes and sources, sorted
    pq "$1" "$2" "" 'sorted((g["group"], g["mode"], sorted(s if isinstance(s, str) else s["source"] for s in g["sources"])) for g in R["groups"])'
}
b4=$(snapshot br0 IPv4) b6=$(snapshot br0 IPv6) u4=$(snapshot a1 IPv4) u6=$(snapshot a1 IPv6)
say "before: br0 $b4 $b6; a1 $u4 $u6"
[ "$b4" != "[]" ] && [ "$u6" != "[]" ] || fail "show proxy lists no groups before the reload: br0 $b4, a1 $u6"

N=$((300))
RATE=$((100 / S))
bg_recv_start rp4 rcv1 239.1.1.1 41
bg_recv_start rp6 rcv1 -6 ff0e::1:1 42
bg_recv_start rst4 rcv3 225.1.2.3 43
bg_recv_start rst6 rcv3 -6 ff0e::5:5 44
bg_send_start sp4 -g 239.1.1.1 -s 10.0.1.2 -n "$N" -r "$RATE" -I 41
bg_send_start sp6 -6 -g ff0e::1:1 -s fd01::2 -n "$N" -r "$RATE" -I 42
bg_send_start sst4 -i eth1 -g 225.1.2.3 -s 10.0.4.2 -n "$N" -r "$RATE" -I 43
bg_send_start sst6 -6 -i eth1 -g ff0e::5:5 -s fd04::2 -n "$N" -r "$RATE" -I 44
nap "$(scaled 0.5)"

printf '%s\n%s\nmroute from a2 source 10.0.4.2 group 225.1.2.4 to b2\n' "$proxy_lines" "$static_lines" >"$CONF.new"
mv -f "$CONF.new" "$CONF"
must kill -HUP "$DAEMON_PID"
check "the reload was applied (the added route is in the kernel)" wait_for $((5 * S)) mfc_has 10.0.4.2 225.1.2.4
check "IPv4 proxy groups unchanged on br0 after the reload" test "$(snapshot br0 IPv4)" = "$b4"
check "IPv6 proxy groups unchanged on br0 after the reload" test "$(snapshot br0 IPv6)" = "$b6"
check "IPv4 upstream groups unchanged after the reload" test "$(snapshot a1 IPv4)" = "$u4"
check "IPv6 upstream groups unchanged after the reload" test "$(snapshot a1 IPv6)" = "$u6"

# The proxy changes an OIF list while the static streams run.
pjoin x4 rcv2 239.1.1.7
pjoin x6 rcv2 -6 ff0e::1:7
check "rcv2's extra groups listed on br0" wait_for $((3 * S)) pq_is br0 IPv4 239.1.1.7 'G is not None'
pleave x4
pleave x6

for s in p4 p6 st4 st6; do bg_send_wait "s$s"; done
nap 0.5
for s in p4 p6 st4 st6; do
    bg_recv_stop "r$s"
    say "$s: ${BG_COUNT[r$s]}/$N"
    [ "${BG_COUNT[r$s]}" = "$N" ] || fail "stream $s: ${BG_COUNT[r$s]} of $N datagrams arrived across the reload and the proxy's changes"
done
say "ok: no datagram lost on the proxy groups nor on the static routes"
for g in 239.1.1.1 ff0e::1:1; do
    if grep -E "src=(10\.0\.1\.1|$A1_LL) .* (type=v3report rec=TO_IN|type=leave|type=done) group=$g( |\$)" "$TMP/wire.cap"; then
        fail "the router left $g upstream during the reload"
    fi
done
say "ok: no upstream leave for the proxy groups on the wire"
check "IPv4 proxy group still joined upstream" kernel_joined a1 239.1.1.1
check "IPv6 proxy group still joined upstream" kernel_joined a1 ff0e::1:1
pass

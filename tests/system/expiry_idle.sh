#!/bin/bash
# Idle learned entries expire (smcrouted -c 2): with a (*,G) rule, source A
# sends continuously and source B sends a short burst. About 2 check periods
# after B stops, B's learned entry is gone from the kernel, while A's is
# still there (never deleted meanwhile) and forwarding; a stop filter that
# saw no more packets expires too; a static (S,G) route with no traffic
# stays. "smcroutectl flush" removes A's learned entry at once, and A's next
# packet learns it again.
. "$(dirname "$0")/lib.sh"
topo
add_src 10.0.1.3
A=10.0.1.2
B=10.0.1.3
G=225.8.8.8
write_conf <<CONF
mroute from a1 group $G to b1
mroute from a1 source 10.0.1.2 group 225.8.8.1 to b2
CONF
PERIOD=$((2 * TIME_SCALE))
start_daemon -c "$PERIOD"
check "static (S,G) route installed" mfc_forwards 10.0.1.2 225.8.8.1

ip -4 monitor mroute >"$TMP/monitor.out" 2>&1 &
MON=$!
RECV_PIDS+=("$MON")
sleep 0.3

bg_send_start srcA -g "$G" -s "$A" -n $((1500 * TIME_SCALE)) -r 50 -I 801   # 15 periods
check "A's entry learned" wait_for 3 mfc_forwards "$A" "$G"
# B: a burst of 5, and a stop filter from B for a group no rule covers.
RECEIVERS=rcv1
traffic v4 225.8.9.9 3 -s "$B"
expect_recv rcv1 0
check "stop filter for (B, 225.8.9.9)" mfc_has "$B" 225.8.9.9
traffic v4 "$G" 5 -s "$B"
expect_recv rcv1 5
t0=$(date +%s.%N)
check "B's entry learned" mfc_forwards "$B" "$G"
# Not too early either: no entry goes before a whole period without packets.
sleep "$(scaled 0.6)"
check "B's entry still there ~half a period after its burst" mfc_forwards "$B" "$G"

check "B's idle entry expires within 2.5 periods" wait_for "$(scaled 5)" mfc_lacks "$B" "$G"
check "the idle stop filter expires too" wait_for "$(scaled 3)" mfc_lacks "$B" 225.8.9.9
t1=$(date +%s.%N)
say "B's entry gone after $(echo "$t1 - $t0" | bc 2>/dev/null || echo '?') s"
check "A's busy entry is still there" mfc_forwards "$A" "$G"
check "the idle static route stays" mfc_forwards 10.0.1.2 225.8.8.1
check_not "show no longer lists B's entry" eval "timeout 5 '$BIN/smcroutectl' show | grep -qF '($B, $G)'"
check "show still lists A's learned entry" eval "timeout 5 '$BIN/smcroutectl' show | grep -F '($A, $G)' | grep -qw learned"
# Two more periods: A's entry is never removed while packets flow.
sleep "$(scaled 4.5)"
check "A's entry still there after 4 periods" mfc_forwards "$A" "$G"
check_not "A's entry was never deleted" grep -q "Deleted.*($A,$G)" "$TMP/monitor.out"
check "B's deletion was seen by the monitor" grep -q "Deleted.*($B,$G)" "$TMP/monitor.out"
check "the static route was never deleted" eval "! grep -q 'Deleted.*(10.0.1.2,225.8.8.1)' '$TMP/monitor.out'"
bg_alive srcA || fail "A's sender stopped early: $(cat "$TMP/srcA.log")"
bg_recv_start a-rcv1 rcv1 "$G" 801
sleep 1
bg_recv_stop a-rcv1
[ "${BG_COUNT[a-rcv1]}" -ge 40 ] || fail "A's stream: rcv1 received ${BG_COUNT[a-rcv1]} in 1 s at 50 pps"
say "ok: A's stream still forwarded (${BG_COUNT[a-rcv1]} in 1 s)"

# ---- flush
check "smcroutectl flush" ctl flush
check "flush deleted A's learned entry" wait_for 2 grep -q "Deleted.*($A,$G)" "$TMP/monitor.out"
check "A's next packet learns it again" wait_for 2 mfc_forwards "$A" "$G"
check "the static route survives the flush" mfc_forwards 10.0.1.2 225.8.8.1
check "the rule survives the flush" eval "timeout 5 '$BIN/smcroutectl' show | grep -qF '(*, $G)'"
kill -TERM "${BG_PID[srcA]}" "$MON" 2>/dev/null
pass

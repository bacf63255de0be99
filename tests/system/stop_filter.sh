#!/bin/bash
# Traffic for a group no rule covers gets a stop filter: a resolved kernel
# MFC entry with no outbound interfaces, and nothing is forwarded. Adding a
# matching (*,G) rule with "smcroutectl add a1 GROUP b1" re-evaluates the
# stop filter: the running stream (the sender is never restarted) starts to
# flow. "smcroutectl remove a1 GROUP" removes the rule and its learned entry,
# and forwarding stops.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b2
CONF
start_daemon

G=225.9.9.9
ID=900
# One continuous stream, 50 datagrams/s for up to 60 s.
say "start a continuous sender to $G (id $ID)"
ip netns exec snd "$TOOLS/mcsend" -g "$G" -p "$PORT" -i eth0 -s 10.0.1.2 -n 3000 -r 50 -I "$ID" \
    >"$TMP/sender.log" 2>&1 &
SENDER=$!
RECV_PIDS+=("$SENDER")

# count_rcv1 SECONDS: datagrams of the stream rcv1 receives in that time.
count_rcv1() {
    rm -f "$TMP/c.ready"
    ip netns exec rcv1 "$TOOLS/mcrecv" -g "$G" -p "$PORT" -i eth0 -w 60 -I "$ID" -R "$TMP/c.ready" \
        >"$TMP/c.out" 2>"$TMP/c.err" &
    local pid=$!
    _wait_ready_files "$TMP/c.ready" || fail "mcrecv did not start: $(cat "$TMP/c.err")"
    sleep "$1"
    kill -TERM "$pid"
    wait "$pid" || fail "mcrecv failed: $(cat "$TMP/c.err")"
    alive "$SENDER" || fail "the sender stopped early: $(cat "$TMP/sender.log")"
    COUNT=$(head -n 1 "$TMP/c.out")
    case "$COUNT" in ''|*[!0-9]*) fail "mcrecv printed no count: $(cat "$TMP/c.out")" ;; esac
    say "rcv1 received $COUNT in $1 s"
}

# stop_filter_present: resolved entry, no OIFs.
stop_filter_present() { mfc_has 10.0.1.2 "$G" && ! mfc_forwards 10.0.1.2 "$G"; }

check "stop filter (10.0.1.2, $G) in the MFC" wait_for 3 stop_filter_present
say "MFC: $(mfc_line 10.0.1.2 $G)"
check "show lists the stop filter" eval "timeout 5 '$BIN/smcroutectl' show | grep -F '(10.0.1.2, $G)' | grep -qw stop"
count_rcv1 1
[ "$COUNT" = 0 ] || fail "rcv1 received $COUNT datagrams through a stop filter"
say "ok: nothing forwarded through the stop filter"
# The stop filter stays a stop filter (the kernel does not keep asking).
check "stop filter still there" stop_filter_present

check "smcroutectl add a1 $G b1" ctl add a1 "$G" b1
check "(10.0.1.2, $G) now forwards" wait_for 3 mfc_forwards 10.0.1.2 "$G"
say "MFC: $(mfc_line 10.0.1.2 $G)"
b1=$(awk '$2 == "b1" { print $1 }' /proc/net/ip_mr_vif)
mfc_line 10.0.1.2 "$G" | grep -q " $b1:" || fail "the entry does not forward to b1 (VIF $b1)"
check "show lists (10.0.1.2, $G) as learned" eval "timeout 5 '$BIN/smcroutectl' show | grep -F '(10.0.1.2, $G)' | grep -qw learned"
count_rcv1 1
[ "$COUNT" -ge 25 ] || fail "after the add, rcv1 received only $COUNT datagrams in 1 s (50/s sent)"
say "ok: the running stream flows after the add"
# The unrelated config route was not disturbed.
check "config route untouched" mfc_forwards 10.0.1.2 225.1.2.3

check "smcroutectl remove a1 $G" ctl remove a1 "$G"
check "(10.0.1.2, $G) no longer forwards" wait_for 3 eval "! mfc_forwards 10.0.1.2 $G"
check_not "show no longer lists a learned (10.0.1.2, $G)" \
    eval "timeout 5 '$BIN/smcroutectl' show | grep -F '(10.0.1.2, $G)' | grep -qw learned"
check_not "show no longer lists the (*, $G) rule" \
    eval "timeout 5 '$BIN/smcroutectl' show | grep -qF '(*, $G)'"
sleep 0.3   # datagrams in flight
count_rcv1 1
[ "$COUNT" = 0 ] || fail "after the remove, rcv1 still received $COUNT datagrams"
say "ok: forwarding stopped after the remove"
check "config route untouched" mfc_forwards 10.0.1.2 225.1.2.3

kill -TERM "$SENDER" 2>/dev/null
wait "$SENDER" 2>/dev/null
pass

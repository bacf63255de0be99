#!/bin/bash
# Reloads never interrupt forwarding: a 50 pps (S,G) stream and a 50 pps
# stream learned through a (*,G) rule run for the whole test while the
# config is reloaded 20 times (SIGHUP and "smcroutectl reload" alternately;
# unchanged file, or an unrelated route added/removed in between). Every
# datagram of both streams reaches both receivers, and the kernel never
# deletes their MFC entries.
. "$(dirname "$0")/lib.sh"
topo
add_src 10.0.1.3

BASE='mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
mroute from a1 group 225.3.3.3 to b1 b2'
EXTRA='mroute from a1 source 10.0.1.2 group 225.5.5.5 to b2'
echo "$BASE" | write_conf
start_daemon

# The (*,G) stream's source is learned before counting starts (the first
# packet of a new source is star_g_first_packet.sh's business).
traffic v4 225.3.3.3 2 -s 10.0.1.3
check "(10.0.1.3, 225.3.3.3) learned" wait_for 3 mfc_forwards 10.0.1.3 225.3.3.3
check "(10.0.1.2, 225.1.2.3) installed" mfc_forwards 10.0.1.2 225.1.2.3

ip -4 monitor mroute >"$TMP/monitor.out" 2>&1 &
MON=$!
RECV_PIDS+=("$MON")

N=$((1000 * TIME_SCALE))   # 20 s at 50 pps (times TIME_SCALE)
for ns in rcv1 rcv2; do
    bg_recv_start "sg-$ns" "$ns" 225.1.2.3 701
    bg_recv_start "sx-$ns" "$ns" 225.3.3.3 702
done
bg_send_start sg -g 225.1.2.3 -s 10.0.1.2 -n "$N" -r 50 -I 701
bg_send_start sx -g 225.3.3.3 -s 10.0.1.3 -n "$N" -r 50 -I 702
sleep 1

# show_has KEY: "show" lists a route KEY.
show_has() { timeout 5 "$BIN/smcroutectl" show | grep -qF -- "$1"; }
show_lacks() { ! show_has "$1"; }

for ((i = 1; i <= 20; i++)); do
    case $((i % 3)) in
    0) { echo "$BASE"; echo "$EXTRA"; } | write_conf; want=with ;;
    1) echo "$BASE" | write_conf; want=without ;;
    2) want=same ;;   # the file as it is
    esac
    if ((i % 2)); then
        say "reload $i (SIGHUP, extra route: $want)"
        kill -HUP "$DAEMON_PID"
    else
        ctl reload || fail "reload $i: smcroutectl reload failed"
    fi
    case $want in
    with)    check "reload $i applied: extra route listed" wait_for 3 show_has "(10.0.1.2, 225.5.5.5)" ;;
    without) check "reload $i applied: extra route gone" wait_for 3 show_lacks "(10.0.1.2, 225.5.5.5)" ;;
    same)    sleep 0.2 ;;
    esac
    alive "$DAEMON_PID" || fail "daemon died at reload $i"
    sleep 0.2
done
bg_alive sg || fail "the (S,G) sender finished before the reloads did; the test proves nothing"
bg_alive sx || fail "the (*,G) sender finished before the reloads did; the test proves nothing"
say "20 reloads done while both streams ran"

bg_send_wait sg
bg_send_wait sx
sleep 0.5
for ns in rcv1 rcv2; do
    bg_recv_stop "sg-$ns"
    bg_recv_stop "sx-$ns"
    say "$ns: (S,G) stream ${BG_COUNT[sg-$ns]}/$N, (*,G) stream ${BG_COUNT[sx-$ns]}/$N"
    [ "${BG_COUNT[sg-$ns]}" = "$N" ] || fail "$ns received ${BG_COUNT[sg-$ns]} of $N (S,G) datagrams across the reloads"
    [ "${BG_COUNT[sx-$ns]}" = "$N" ] || fail "$ns received ${BG_COUNT[sx-$ns]} of $N (*,G)-learned datagrams across the reloads"
done
say "ok: no datagram lost on either stream"

kill -TERM "$MON" 2>/dev/null
wait "$MON" 2>/dev/null
check_not "the kernel never deleted (10.0.1.2, 225.1.2.3)" grep -q 'Deleted.*(10.0.1.2,225.1.2.3)' "$TMP/monitor.out"
check_not "the kernel never deleted (10.0.1.3, 225.3.3.3)" grep -q 'Deleted.*(10.0.1.3,225.3.3.3)' "$TMP/monitor.out"
check "the monitor saw the extra route come and go" grep -q 'Deleted.*(10.0.1.2,225.5.5.5)' "$TMP/monitor.out"
pass

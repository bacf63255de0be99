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

streams_conf without
start_daemon
streams_ready
N=$((1000 * TIME_SCALE))   # 20 s at 50 pps (times TIME_SCALE)
streams_start "$N" 50 701
sleep 1

# show_has KEY: "show" lists a route KEY.
show_has() { timeout 5 "$BIN/smcroutectl" show | grep -qF -- "$1"; }
show_lacks() { ! show_has "$1"; }

for ((i = 1; i <= 20; i++)); do
    case $((i % 3)) in
    0) streams_conf with; want=with ;;
    1) streams_conf without; want=without ;;
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

streams_all_arrived "$N" "the reloads"
pass

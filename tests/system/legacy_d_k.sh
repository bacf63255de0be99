#!/bin/bash
# "smcroute -d" forks the daemon and returns only once it is ready: the
# socket answers, the pid file exists and the config's routes are in the
# kernel the moment it returns. "smcroute -k" stops it, and the daemon
# leaves nothing behind: no MFC entries, no VIFs, no socket, no pid file.
# Then "smcroute -d -n -u SOCK -P PIDFILE -f CONF", smcrouted's letters after
# -d as SMCRoute 2.x wrappers pass them, runs the daemon with those options.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF

say "+ smcroute -d --config $CONF"
timeout 20 "$BIN/smcroute" -d --config "$CONF" >"$TMP/legacy-d.log" 2>&1
rc=$?
[ "$rc" = 124 ] && fail "smcroute -d did not return within 20 s"
[ "$rc" = 0 ] || fail "smcroute -d exited with status $rc: $(cat "$TMP/legacy-d.log")"

# No polling from here on: "ready" means ready when -d returns.
check "socket /run/smcroute.sock exists when -d returns" test -S /run/smcroute.sock
check "smcroutectl show answers when -d returns" ctl_answers
check "pid file /run/smcroute.pid exists when -d returns" test -s /run/smcroute.pid
pid=$(cat /run/smcroute.pid)
case "$pid" in ''|*[!0-9]*) fail "pid file holds '$pid', not a pid" ;; esac
check "daemon pid $pid from the pid file is running" alive "$pid"
check "config route (10.0.1.2, 225.1.2.3) in the MFC when -d returns" mfc_forwards 10.0.1.2 225.1.2.3

traffic v4 225.1.2.3 10
expect_recv rcv1 10

check "smcroute -k" legacy -k
check "daemon pid $pid exits within 5 s of -k" wait_for 5 eval "! alive $pid"

[ "$(mfc_count 4)" = 0 ] || fail "IPv4 MFC not empty after exit: $(cat /proc/net/ip_mr_cache)"
[ "$(vif_count 4)" = 0 ] || fail "IPv4 VIFs left after exit: $(cat /proc/net/ip_mr_vif)"
[ "$(mfc_count 6)" = 0 ] || fail "IPv6 MFC not empty after exit: $(cat /proc/net/ip6_mr_cache)"
[ "$(vif_count 6)" = 0 ] || fail "IPv6 MIFs left after exit: $(cat /proc/net/ip6_mr_vif)"
say "ok: kernel MFC and VIF tables empty"
check_not "socket /run/smcroute.sock removed" test -e /run/smcroute.sock
check_not "pid file /run/smcroute.pid removed" test -e /run/smcroute.pid

traffic v4 225.1.2.3 10
expect_recv rcv1 0

WSOCK=$TMP/wrapper.sock
WPID=$TMP/wrapper.pid
say "+ smcroute -d -n -u $WSOCK -P $WPID -f $CONF"
"$BIN/smcroute" -d -n -u "$WSOCK" -P "$WPID" -f "$CONF" >"$TMP/wrapper.log" 2>&1 &
wpid=$!
check "socket $WSOCK answers" wait_for $((10 * TIME_SCALE)) ctl_answers -u "$WSOCK"
check "pid file $WPID holds the foreground daemon's pid $wpid" grep -qx "$wpid" "$WPID"
check_not "nothing at the default socket /run/smcroute.sock" test -e /run/smcroute.sock
check "route from $CONF in the MFC" mfc_forwards 10.0.1.2 225.1.2.3
check "smcroutectl -u $WSOCK kill" ctl -u "$WSOCK" kill
check "daemon pid $wpid exits within 5 s of kill" wait_for 5 eval "! alive $wpid"
wait "$wpid" || fail "smcroute -d -n ... exited with status $?: $(cat "$TMP/wrapper.log")"
check_not "pid file $WPID removed" test -e "$WPID"
pass

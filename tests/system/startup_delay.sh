#!/bin/bash
# smcrouted -d SEC: during the start-up delay the daemon already answers on
# its socket, telling clients it is starting (not "not running"), and installs
# nothing; once the delay is over the config's routes are in the kernel.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF

log=$TMP/delay.log
"$BIN/smcrouted" -n -l debug -f "$CONF" -d 3 >"$log" 2>&1 &
pid=$!
DAEMON_PIDS+=("$pid")
DAEMON_LOGS+=("$log")
check "socket appears during the delay" wait_for 2 test -S /run/smcroute.sock

out=$(timeout 5 "$BIN/smcroutectl" show 2>&1)
rc=$?
[ "$rc" -ne 0 ] || fail "show during the delay exited 0: $out"
case "$out" in
    *starting*) say "ok: show during the delay says: $out (exit $rc)" ;;
    *) fail "show during the delay should say the daemon is starting, said: $out" ;;
esac
check_not "no route in the kernel during the delay" mfc_has 10.0.1.2 225.1.2.3

check "routes installed once the delay is over" wait_for 6 mfc_forwards 10.0.1.2 225.1.2.3
check "show works after the delay" ctl_answers
traffic v4 225.1.2.3 10
expect_recv rcv1 10
pass

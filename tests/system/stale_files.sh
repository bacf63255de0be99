#!/bin/bash
# A daemon killed with SIGKILL leaves its socket and pid file behind. Neither
# blocks the next start: with a stale socket (bound, then its owner gone) at
# /run/smcroute.sock and a pid file naming a dead process, the daemon starts,
# answers on the socket, rewrites the pid file and routes.
# With -p nobody the socket and pid file live in root's runtime directory
# /run/smcroute/, which the daemon (nobody by then) cannot remove them from
# at exit: a stopped daemon leaves them behind, and the next start, with or
# without -p, replaces them the same way.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF

command -v python3 >/dev/null 2>&1 || skip "python3 not found"
# A UNIX socket file nobody listens on: bound, then the process exits.
must python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
s.close()' /run/smcroute.sock
check "stale socket file /run/smcroute.sock exists" test -S /run/smcroute.sock
check_not "nobody answers on the stale socket" ctl_answers

# A pid file naming a process that has exited.
sleep 0 &
dead=$!
wait "$dead"
alive "$dead" && fail "pid $dead should be dead"
echo "$dead" >/run/smcroute.pid
say "stale pid file /run/smcroute.pid holds dead pid $dead"

start_daemon
check "daemon answers on /run/smcroute.sock" ctl_answers
check "pid file exists" test -s /run/smcroute.pid
[ "$(cat /run/smcroute.pid)" = "$DAEMON_PID" ] \
    || fail "pid file holds '$(cat /run/smcroute.pid)', want the daemon's pid $DAEMON_PID"
say "ok: pid file holds the daemon's pid $DAEMON_PID"
check "config route in the MFC" mfc_forwards 10.0.1.2 225.1.2.3
traffic v4 225.1.2.3 10
expect_recv rcv1 10

# And it takes requests over that socket.
check "smcroutectl add" ctl add a1 10.0.1.2 225.1.2.4 b2
check "client route in the MFC" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.4
traffic v4 225.1.2.4 10
expect_recv rcv2 10

stop_daemon
check_not "socket removed on exit" test -e /run/smcroute.sock
check_not "pid file removed on exit" test -e /run/smcroute.pid

# The same after a real SIGKILL of a running daemon.
start_daemon
killed=$DAEMON_PID
kill -KILL "$killed"
wait "$killed" 2>/dev/null
STOPPED[$killed]=1
check "SIGKILL left the socket behind" test -S /run/smcroute.sock
check "SIGKILL left the pid file behind" test -e /run/smcroute.pid
start_daemon
[ "$(cat /run/smcroute.pid)" = "$DAEMON_PID" ] \
    || fail "pid file holds '$(cat /run/smcroute.pid)', want $DAEMON_PID"
check "route back in the MFC after restart" mfc_forwards 10.0.1.2 225.1.2.3
traffic v4 225.1.2.3 10
expect_recv rcv1 10
stop_daemon

# ---- with -p nobody: the files stay in /run/smcroute/ after a clean stop
getent passwd nobody >/dev/null || skip "no user 'nobody'"
RD=/run/smcroute
start_daemon -p nobody
first=$DAEMON_PID
stop_daemon
check "-p: the socket stays behind in $RD" test -S "$RD/smcroute.sock"
check "-p: the pid file stays behind, naming the stopped daemon" test "$(cat "$RD/smcroute.pid")" = "$first"
check_not "-p: nobody answers on the socket left behind" ctl_answers
check "-p: both are root's" test "$(stat -c %U "$RD/smcroute.sock" "$RD/smcroute.pid" | sort -u)" = root
start_daemon -p nobody
check "-p: the next start answers (stale socket replaced)" ctl_answers
[ "$(cat "$RD/smcroute.pid")" = "$DAEMON_PID" ] \
    || fail "-p: pid file holds '$(cat "$RD/smcroute.pid")', want $DAEMON_PID"
say "ok: -p: pid file replaced, holds $DAEMON_PID"
check "-p: route in the MFC" mfc_forwards 10.0.1.2 225.1.2.3
# And after SIGKILL, the same.
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
STOPPED[$DAEMON_PID]=1
start_daemon -p nobody
[ "$(cat "$RD/smcroute.pid")" = "$DAEMON_PID" ] || fail "-p after SIGKILL: pid file holds '$(cat "$RD/smcroute.pid")'"
traffic v4 225.1.2.3 10
expect_recv rcv1 10
pass

#!/bin/bash
# The SysV init script (dist/smcroute.init) with -p nobody in SMCROUTED_OPTS,
# set in /etc/default/smcroute as an operator would (issue 15):
#   * start: one daemon, running as nobody, its pid file where the script
#     gives it (-P /run/smcroute.pid, the default path: not moved into
#     /run/smcroute/), its routes in the kernel; a second start starts none;
#   * status: 0 and the pid while it runs; 3 once stopped;
#   * reload: goes through smcroutectl: a changed config is applied (exit 0),
#     a refused one is reported (non-zero) and the old one keeps running;
#   * restart: the old daemon gone, exactly one new one, the pid file naming it;
#   * stop: the daemon really gone, its routes gone, no pid file left;
#   * a start that fails (the routing table held by another daemon; a config
#     with an error, refused at start-up) exits non-zero and leaves nothing: no
#     daemon, no pid file, no /run/smcroute/ it made; a /run/smcroute/ that
#     was there before stays;
#   * a status line ("Starting static multicast routing daemon: smcroute")
#     ends with the result alone: what the daemon or smcroutectl said (the
#     reason of a failure) stands on lines of its own, never glued to the
#     line ("smcroutesmcroute: ...").
. "$(dirname "$0")/lib.sh"
nobody_setup
topo
one_route_conf

INIT=${SRCDIR:-$(dirname "$0")/../..}/dist/smcroute.init
[ -r "$INIT" ] || fail "no init script at $INIT (set SRCDIR)"
NOBODY_UID=$(id -u nobody)
MYNET=$(readlink /proc/self/ns/net)

# The operator's /etc/default/smcroute, in this test's mount namespace only.
must mount -t tmpfs -o mode=0755 smct-default /etc/default
cat >/etc/default/smcroute <<EOF
DAEMON=$BIN/smcrouted
SMCROUTECTL=$BIN/smcroutectl
SMCROUTED_OPTS="-p nobody -f $CONF"
SMCROUTECTL_OPTS=""
EOF

# A status line of the last run with more than its result after the name.
glued_status_line() {
    grep -E '^(Starting|Stopping|Reloading) ' "$TMP/init.out" | grep -qvE ': smcroute( failed!|\.)$'
}

# init VERB: run the init script, output in $TMP/init.log; its status in RC.
init() {
    say "+ smcroute.init $1"
    RC=0
    timeout $((30 * TIME_SCALE)) sh "$INIT" "$1" >"$TMP/init.out" 2>&1 || RC=$?
    sed 's/^/    /' "$TMP/init.out"
    cat "$TMP/init.out" >>"$TMP/init.log"
    check_not "$1: each status line ends with its result" glued_status_line
}

# The smcroute daemons of this network namespace (other tests may run beside
# this one when there is no PID namespace).
daemons() {
    local p exe
    for p in /proc/[0-9]*; do
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        [ "$exe" = "$SMCROUTE" ] || continue
        [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$MYNET" ] || continue
        echo "${p#/proc/}"
    done
}
one_daemon() {
    local list
    list=$(daemons)
    [ "$(echo "$list" | grep -c .)" = 1 ] || fail "$1: want exactly one daemon, have: ${list//$'\n'/ }"
    DAEMON_PID=$list
    DAEMON_PIDS+=("$DAEMON_PID")
}
no_daemon() {
    local list
    list=$(daemons)
    [ -z "$list" ] || fail "$1: daemon(s) still running: ${list//$'\n'/ }"
}

# ---- start
init start
[ "$RC" = 0 ] || fail "start exited $RC"
one_daemon "after start"
first=$DAEMON_PID
check "pid file where the script gave it" test "$(cat /run/smcroute.pid 2>/dev/null)" = "$first"
check_not "no pid file moved into /run/smcroute/" test -e /run/smcroute/smcroute.pid
check "the daemon runs as nobody" test "$(awk '$1 == "Uid:" { print $3 }' "/proc/$first/status")" = "$NOBODY_UID"
check "its route is in the kernel" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.3
init status
[ "$RC" = 0 ] || fail "status exited $RC while running, want 0"
check "status names the pid" grep -q "running (pid $first)" "$TMP/init.out"
init start
[ "$RC" = 0 ] || fail "a second start exited $RC"
one_daemon "after a second start"
[ "$DAEMON_PID" = "$first" ] || fail "a second start replaced the daemon ($first -> $DAEMON_PID)"

# ---- reload: applied, then refused
echo 'mroute from a1 source 10.0.1.2 group 225.1.2.4 to b2' | write_conf
init reload
[ "$RC" = 0 ] || fail "reload of a good config exited $RC"
check "reload applied the new route" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.4
check "reload removed the old route" wait_for 5 mfc_lacks 10.0.1.2 225.1.2.3
echo 'mroute from a1 sorce 10.0.1.2 group 225.1.2.5 to b2' | write_conf
init reload
[ "$RC" != 0 ] || fail "reload of a config with an error exited 0"
check "the refusal names the error" grep -q "error" "$TMP/init.out"
one_daemon "after a refused reload"
[ "$DAEMON_PID" = "$first" ] || fail "a refused reload changed the daemon"
check "the running config stays" mfc_forwards 10.0.1.2 225.1.2.4
one_route_conf

# ---- restart
init restart
[ "$RC" = 0 ] || fail "restart exited $RC"
check_not "the old daemon is gone" alive "$first"
one_daemon "after restart"
second=$DAEMON_PID
[ "$second" != "$first" ] || fail "restart kept pid $first"
check "pid file names the new daemon" test "$(cat /run/smcroute.pid 2>/dev/null)" = "$second"
check "route back after restart" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.3

# ---- stop
init stop
[ "$RC" = 0 ] || fail "stop exited $RC"
check_not "the daemon is gone" alive "$second"
no_daemon "after stop"
STOPPED[$first]=1; STOPPED[$second]=1
check "its routes are gone" mfc_lacks 10.0.1.2 225.1.2.3
check_not "no pid file left" test -e /run/smcroute.pid
init status
[ "$RC" = 3 ] || fail "status exited $RC when stopped, want 3"
init stop
[ "$RC" = 0 ] || fail "stop of a stopped daemon exited $RC"

# ---- a failed start leaves nothing it made
rm -rf /run/smcroute # as after a reboot
start_daemon -i holder -u "$TMP/holder.sock" -P "$TMP/holder.pid"
holder=$DAEMON_PID
init start
[ "$RC" != 0 ] || fail "start while another daemon holds the table exited 0"
check "the reason is given" grep -qi "in use\|another" "$TMP/init.out"
check "on a line of its own" grep -q '^smcroute: ' "$TMP/init.out"
[ "$(daemons)" = "$holder" ] || fail "daemons after the failed start: $(daemons | tr '\n' ' '), want only $holder"
check_not "no pid file left by the failed start" test -e /run/smcroute.pid
check_not "no /run/smcroute/ left by the failed start" test -e /run/smcroute
stop_daemon "$holder"

# A start the daemon refuses: a config error under --strict-config (by
# default the daemon would start with the valid lines, as 2.x did).
must sed -i 's|^SMCROUTED_OPTS="|SMCROUTED_OPTS="--strict-config |' /etc/default/smcroute
echo 'mroute from a1 sorce 10.0.1.2 group 225.1.2.3 to b1' | write_conf
init start
[ "$RC" = 78 ] || fail "start with a refused config exited $RC, want 78"
no_daemon "after a start with a refused config"
check_not "no pid file left" test -e /run/smcroute.pid
check_not "no /run/smcroute/ left" test -e /run/smcroute
# A directory that was there before is not this start's to remove.
must mkdir -m 0755 /run/smcroute
init start
[ "$RC" = 78 ] || fail "start with a refused config exited $RC, want 78"
check "the /run/smcroute/ that was there stays" test -d /run/smcroute
pass

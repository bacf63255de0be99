#!/bin/bash
# With a daemon running, a second daemon on the same socket refuses to start
# ("already running", non-zero exit), in the foreground and in the
# background; a second daemon on another socket (-i) but the same kernel
# table exits 69 naming the table ("in use"). Neither attempt disturbs the
# first daemon: its socket, pid file, kernel routes and forwarding stay.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
start_daemon
first=$DAEMON_PID

# first_intact WHEN: the first daemon still answers and routes.
first_intact() {
    check "$1: first daemon still running" alive "$first"
    check "$1: first daemon answers on /run/smcroute.sock" ctl_answers
    [ "$(cat /run/smcroute.pid 2>/dev/null)" = "$first" ] \
        || fail "$1: /run/smcroute.pid holds '$(cat /run/smcroute.pid 2>/dev/null)', want $first"
    check "$1: route still in the MFC" mfc_forwards 10.0.1.2 225.1.2.3
    traffic v4 225.1.2.3 10
    expect_recv rcv1 10
}

# second NAME ARGS...: run a second daemon, leave status in rc, output in $TMP/NAME.log.
second() {
    local name=$1; shift
    say "+ smcrouted $*"
    timeout 20 "$BIN/smcrouted" "$@" >"$TMP/$name.log" 2>&1
    rc=$?
    [ "$rc" = 124 ] && fail "second daemon ($name) still running after 20 s"
    say "second daemon ($name) exited $rc: $(cat "$TMP/$name.log")"
}

# ---- same socket, foreground
second same-fg -n -f "$CONF"
[ "$rc" != 0 ] || fail "second daemon on the same socket exited 0"
check "same socket (foreground): says 'already running'" grep -q 'already running' "$TMP/same-fg.log"
first_intact "after a second daemon on the same socket (foreground)"

# ---- same socket, background start: the parent reports the failure.
second same-bg -f "$CONF"
[ "$rc" != 0 ] || fail "second daemon on the same socket (background) exited 0"
check "same socket (background): says 'already running'" grep -q 'already running' "$TMP/same-bg.log"
first_intact "after a second daemon on the same socket (background)"

# ---- another socket and pid file, same table: 69, naming the table.
second other-ident -n -f "$CONF" -i other
[ "$rc" = 69 ] || fail "second daemon on the same table: exit $rc, want 69"
check "same table: message says 'in use'" grep -q 'in use' "$TMP/other-ident.log"
check "same table: message names table 0" grep -q 'table 0' "$TMP/other-ident.log"
check_not "same table: no /run/other.sock left" test -e /run/other.sock
check_not "same table: no /run/other.pid left" test -e /run/other.pid
first_intact "after a second daemon on the same table (-i other)"

second other-sock -n -f "$CONF" -u /run/other2.sock -P /run/other2.pid
[ "$rc" = 69 ] || fail "second daemon on the same table (-u): exit $rc, want 69"
check "same table (-u): message says 'in use'" grep -q 'in use' "$TMP/other-sock.log"
check "same table (-u): message names table 0" grep -q 'table 0' "$TMP/other-sock.log"
check_not "same table (-u): no /run/other2.sock left" test -e /run/other2.sock
check_not "same table (-u): no /run/other2.pid left" test -e /run/other2.pid
first_intact "after a second daemon on the same table (-u)"
pass

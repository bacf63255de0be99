#!/bin/bash
# --metrics-file never lets another user steer root's writes (issue 16):
# a textfile directory others may write that is not sticky stops the start
# (exit 77); in a sticky directory, user nobody's symbolic link at the
# file's name stops the start, and one planted after the start is refused
# at each write (logged, the daemon keeps running); in a directory only
# root may write, a link at the name is replaced by the file, never
# followed. The root-only victim file stays untouched throughout.
. "$(dirname "$0")/lib.sh"
nobody_setup
topo
victim_make
one_route_conf

# start_refused DIR: the daemon refuses --metrics-file DIR/smcroute.prom with exit 77.
start_refused() {
    local log=$TMP/refused.log rc=0
    timeout 30 "$BIN/smcrouted" -n -f "$CONF" --metrics-file "$1/smcroute.prom" >"$log" 2>&1 || rc=$?
    [ "$rc" = 77 ] || fail "start with --metrics-file $1/smcroute.prom: exit $rc, want 77: $(cat "$log")"
    say "ok: refused (exit 77): $(grep -m1 'metrics file' "$log")"
    mfc_lacks 10.0.1.2 225.1.2.3 || fail "a refused start left its route in the kernel"
}

# Others may write, not sticky.
OPEN=$TMP/open
mkdir -m 0777 "$OPEN"
chmod 0777 "$OPEN"
start_refused "$OPEN"
[ ! -e "$OPEN/smcroute.prom" ] || fail "a file was made in $OPEN"

# Sticky, with nobody's link at the name.
STICKY=$TMP/sticky
mkdir "$STICKY"
chmod 1777 "$STICKY"
as_nobody ln -s "$VICTIM" "$STICKY/smcroute.prom" || fail "nobody cannot make the link"
start_refused "$STICKY"
[ -L "$STICKY/smcroute.prom" ] || fail "nobody's link was removed"
victim_intact "link in a sticky directory at start"

# Sticky, empty at start; nobody plants the link while the daemon runs.
rm -f "$STICKY/smcroute.prom"
start_daemon --metrics-file "$STICKY/smcroute.prom" --metrics-interval 1
check "metrics file written" wait_for 5 test -s "$STICKY/smcroute.prom"
[ "$(stat -c %U "$STICKY/smcroute.prom")" = root ] || fail "metrics file not root's"
# nobody may not remove root's file in a sticky directory; it plants its
# link at the temporary name instead, and at the name once root's file is
# gone (root removes it for the test, as an operator might).
as_nobody ln -s "$VICTIM" "$STICKY/.smcroute.prom.$DAEMON_PID.tmp" || fail "nobody cannot make the link"
rm -f "$STICKY/smcroute.prom"
as_nobody ln -s "$VICTIM" "$STICKY/smcroute.prom" || fail "nobody cannot make the link"
check "refusal logged" wait_for 10 grep -q "refusing to replace another user's file" "$TMP/daemon.log"
say "log: $(grep -m1 "refusing to replace another user's file" "$TMP/daemon.log")"
nap 2
[ "$(grep -c "refusing to replace another user's file" "$TMP/daemon.log")" = 1 ] \
    || fail "the failing write was logged more than once within seconds"
victim_intact "links planted in a sticky directory while running"
[ -L "$STICKY/smcroute.prom" ] || fail "nobody's link was replaced"
check "daemon still answers" ctl_answers
alive "$DAEMON_PID" || fail "the daemon died of a failing metrics write"
# The links gone, writes work again, and say so.
rm -f "$STICKY/smcroute.prom" "$STICKY/.smcroute.prom.$DAEMON_PID.tmp"
check "written again" wait_for 10 grep -q "written again" "$TMP/daemon.log"
[ -f "$STICKY/smcroute.prom" ] && [ ! -L "$STICKY/smcroute.prom" ] || fail "no regular metrics file after recovery"
stop_daemon

# A directory only root may write: a link at the name (root's own, as an
# old setup might leave) is replaced by the file, the victim not written.
PRIV=$TMP/private
mkdir -m 0755 "$PRIV"
ln -s "$VICTIM" "$PRIV/smcroute.prom"
start_daemon --metrics-file "$PRIV/smcroute.prom"
check "the link replaced by the file" wait_for 5 sh -c "[ -f '$PRIV/smcroute.prom' ] && [ ! -L '$PRIV/smcroute.prom' ]"
grep -q '^smcroute_build_info{' "$PRIV/smcroute.prom" || fail "metrics file content: $(head -c 200 "$PRIV/smcroute.prom")"
victim_intact "link in a private directory"
stop_daemon
pass

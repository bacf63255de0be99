#!/bin/bash
# Issue 13, finding 2 (a): with -p USER the pid file lives in the runtime
# directory /run/IDENT/. USER (here nobody, as any process of that user
# could) plants a symbolic link there, named like the pid file, pointing at
# a root-only file; root's next start must not write through it. Performed
# for real, three ways:
#   1. the directory as this smcroute leaves it after a run with -p
#      (root's, mode 0755: nobody cannot even plant the link);
#   2. the directory as an older smcroute left it, owned by nobody, with
#      the link planted: the daemon takes the directory back (root's,
#      0755), removes the link (never following it) and writes a new pid
#      file of its own;
#   3. /run/smcroute itself a symbolic link to another directory: refused
#      with a clear message, the link never followed (nothing chowned or
#      created through it).
# Each time the root-only file keeps its content, mode and owner.
. "$(dirname "$0")/lib.sh"
nobody_setup
topo
one_route_conf

RD=/run/smcroute
PIDF=$RD/smcroute.pid
victim_make

# pid_file_is_the_daemons: a regular file (not a link), root's, holding the pid.
pid_file_is_the_daemons() {
    [ ! -L "$PIDF" ] || fail "$1: $PIDF is still a symbolic link (to $(readlink "$PIDF"))"
    [ -f "$PIDF" ] || fail "$1: no pid file $PIDF"
    [ "$(stat -c %U "$PIDF")" = root ] || fail "$1: $PIDF belongs to $(stat -c %U "$PIDF"), want root"
    [ "$(cat "$PIDF")" = "$DAEMON_PID" ] || fail "$1: $PIDF holds '$(cat "$PIDF")', want $DAEMON_PID"
    say "ok: $1: $PIDF is root's regular file holding $DAEMON_PID"
}

# ---- 1. the runtime directory as a run with -p leaves it
start_daemon -p nobody
stop_daemon
say "runtime directory after a run with -p nobody: $(stat -c '%a %U:%G' "$RD")"
if as_nobody ln -sfn "$VICTIM" "$PIDF" 2>"$TMP/plant.err"; then
    say "nobody planted $PIDF -> $VICTIM"
else
    say "nobody cannot plant a link in $RD: $(cat "$TMP/plant.err")"
fi
start_daemon -p nobody
victim_intact "after a restart"
pid_file_is_the_daemons "after a restart"
check "runtime directory is root's, mode 755" test "$(stat -c '%a %U:%G' "$RD")" = "755 root:root"
stop_daemon

# ---- 2. the directory as an older smcroute left it: owned by the user
must chown nobody:"$NOGROUP" "$RD"
must chmod 0755 "$RD"
rm -f "$PIDF"
check "as nobody: plant $PIDF -> $VICTIM in a directory nobody owns" as_nobody ln -sfn "$VICTIM" "$PIDF"
check "the link is in place" test -L "$PIDF"
start_daemon -p nobody
victim_intact "directory owned by nobody"
pid_file_is_the_daemons "directory owned by nobody"
check "runtime directory taken back: root's, mode 755" test "$(stat -c '%a %U:%G' "$RD")" = "755 root:root"
check_not "as nobody: cannot plant a link any more" as_nobody ln -sfn "$VICTIM" "$RD/other"
stop_daemon

# ---- 3. /run/smcroute is a symbolic link to another directory
ELSEWHERE=$TMP/elsewhere
mkdir -p "$ELSEWHERE" && chmod 0700 "$ELSEWHERE"
rm -rf "$RD"
must ln -s "$ELSEWHERE" "$RD"
say "+ smcrouted -n -f $CONF -p nobody   (with $RD -> $ELSEWHERE)"
rc=0
timeout $((20 * TIME_SCALE)) "$BIN/smcrouted" -n -f "$CONF" -p nobody >"$TMP/linked.log" 2>&1 || rc=$?
[ "$rc" != 124 ] || fail "daemon with $RD a symbolic link did not exit"
[ "$rc" != 0 ] || fail "daemon started with $RD a symbolic link (it must refuse it)"
check "the refusal names the symbolic link" grep -q "$RD is a symbolic link" "$TMP/linked.log"
say "ok: refused, exit $rc: $(head -n 1 "$TMP/linked.log")"
check "the link is still there" test -L "$RD"
check "the directory it points to is still root's, mode 700" \
    test "$(stat -c '%a %U:%G' "$ELSEWHERE")" = "700 root:root"
check "nothing was created through the link" test -z "$(ls -A "$ELSEWHERE")"
victim_intact "runtime directory a symbolic link"
pass

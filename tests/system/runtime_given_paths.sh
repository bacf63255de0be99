#!/bin/bash
# Socket and pid file paths given by the operator (-u, -P) get the same care
# as the defaults (issue 13, finding 2):
#   * a directory that other users may write and that is not sticky is
#     refused before anything is made (exit 77, the reason named): they
#     could replace the files in it;
#   * in a sticky directory (like /tmp) the daemon's own files are used, but
#     another user's file at the name (here a link planted by nobody) is
#     refused and left alone, never followed;
#   * in a directory only root may write, what is at the name is replaced,
#     never written through: a hard link or a symbolic link to a root-only
#     file at the pid file's name, or a symbolic link at the socket's, leave
#     that file as it was;
#   * a pid file path that is a directory is refused.
. "$(dirname "$0")/lib.sh"
nobody_setup
topo
one_route_conf

victim_make

# refused LABEL WANT-RC PATTERN DAEMON-ARGS...: the start fails with that
# status and a message matching PATTERN.
refused() {
    local label=$1 want=$2 pattern=$3 rc=0; shift 3
    say "+ smcrouted -n -f $CONF $*"
    timeout $((20 * TIME_SCALE)) "$BIN/smcrouted" -n -f "$CONF" "$@" >"$TMP/refused.log" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || fail "$label: exit $rc, want $want: $(cat "$TMP/refused.log")"
    grep -q -- "$pattern" "$TMP/refused.log" || fail "$label: message does not say '$pattern': $(cat "$TMP/refused.log")"
    say "ok: $label: exit $rc: $(grep -m1 -- "$pattern" "$TMP/refused.log")"
}

# ---- a directory anyone may write, not sticky: refused before anything
OPEN=$TMP/open
mkdir -p "$OPEN" && chmod 0777 "$OPEN"
refused "-u in a 0777 directory" 77 "cannot use $OPEN/s.sock as IPC socket: directory $OPEN may be written by other users (mode 0777) and is not sticky" \
    -u "$OPEN/s.sock"
refused "-P in a 0777 directory" 77 "pid file $OPEN/s.pid: directory $OPEN may be written by other users (mode 0777) and is not sticky" \
    -P "$OPEN/s.pid"
check "nothing made in $OPEN" test -z "$(ls -A "$OPEN")"
check_not "no socket made at the default path either" test -e /run/smcroute.sock
refused "-P in a group-writable directory" 77 "may be written by other users (mode 0775)" -P "$(mkdir -p "$TMP/grp" && chmod 0775 "$TMP/grp" && echo "$TMP/grp")/s.pid"

# ---- a sticky directory anyone may write, like /tmp
STICKY=$TMP/sticky
mkdir -p "$STICKY" && chmod 1777 "$STICKY"
start_daemon -u "$STICKY/s.sock" -P "$STICKY/s.pid" --socket-mode 0640
check "socket in the sticky directory is root's, mode 640" test "$(stat -c '%F %a %U' "$STICKY/s.sock")" = "socket 640 root"
check "pid file holds the pid" test "$(cat "$STICKY/s.pid")" = "$DAEMON_PID"
check_not "nobody cannot remove the daemon's socket there" as_nobody rm -f "$STICKY/s.sock"
check "it answers" ctl_answers -u "$STICKY/s.sock"
stop_daemon
check_not "socket removed at exit" test -e "$STICKY/s.sock"
check_not "pid file removed at exit" test -e "$STICKY/s.pid"

check "as nobody: plant $STICKY/s.pid -> $VICTIM" as_nobody ln -s "$VICTIM" "$STICKY/s.pid"
refused "nobody's link at the pid file's name" 77 "pid file $STICKY/s.pid exists and belongs to uid $(id -u nobody)" \
    -u "$STICKY/s.sock" -P "$STICKY/s.pid"
check "nobody's link is left alone" test -L "$STICKY/s.pid"
victim_intact "pid file link in a sticky directory"
must rm -f "$STICKY/s.pid"

check "as nobody: plant $STICKY/s.sock -> $VICTIM" as_nobody ln -s "$VICTIM" "$STICKY/s.sock"
refused "nobody's link at the socket's name" 69 "IPC socket $STICKY/s.sock exists and belongs to uid $(id -u nobody)" \
    -u "$STICKY/s.sock" -P "$STICKY/s.pid"
check "nobody's link is left alone" test -L "$STICKY/s.sock"
victim_intact "socket link in a sticky directory"

# ---- a directory only root may write: replaced, never written through
PRIV=$TMP/priv
mkdir -p "$PRIV" && chmod 0755 "$PRIV"
must ln "$VICTIM" "$PRIV/hard.pid"
start_daemon -u "$PRIV/s.sock" -P "$PRIV/hard.pid"
victim_intact "pid file a hard link to it"
check "the pid file is a file of its own holding the pid" test "$(stat -c %h "$PRIV/hard.pid"):$(cat "$PRIV/hard.pid")" = "1:$DAEMON_PID"
stop_daemon

must ln -s "$VICTIM" "$PRIV/soft.pid"
must ln -s "$VICTIM" "$PRIV/s.sock"
start_daemon -u "$PRIV/s.sock" -P "$PRIV/soft.pid" --socket-mode 0666
victim_intact "pid file and socket symbolic links to it"
check "the pid file is no longer a link" eval "[ -f '$PRIV/soft.pid' ] && [ ! -L '$PRIV/soft.pid' ]"
check "the socket is a socket, mode 666" test "$(stat -c '%F %a' "$PRIV/s.sock")" = "socket 666"
check "it answers" ctl_answers -u "$PRIV/s.sock"
stop_daemon

mkdir -p "$PRIV/dir.pid"
refused "-P naming a directory" 77 "pid file $PRIV/dir.pid is a directory" -u "$PRIV/s.sock" -P "$PRIV/dir.pid"
victim_intact "at the end"
pass

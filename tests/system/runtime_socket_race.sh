#!/bin/bash
# Issue 13, finding 2 (b): with -p USER, root creates the IPC socket in the
# runtime directory and gives it its mode and group. If USER can write that
# directory, USER can swap the fresh socket for a symbolic link to a
# root-only file between bind() and a chmod()/chown() by path, and root then
# changes that file instead (0666 with --socket-mode 0666: world-writable).
#
# Performed for real: a racer running as nobody (tests/tools/swap_racer)
# watches the runtime directory with inotify and, as soon as the socket
# appears, renames a symbolic link to a root-only file over it. The window
# is made wide and deterministic by
# starting the daemon under strace(1), which delays every chmod/chown-like
# system call by a second (times TIME_SCALE): an implementation that
# adjusts the socket by path loses the race every time. The directory
# starts out owned by nobody, as an older smcroute left it, so the racer
# has every chance; the daemon replaces it with a directory of root's, and
# the racer follows (it watches /run too) and tries there. Afterwards the
# root-only file must be untouched, the socket must be a socket with
# exactly mode 0666, owner root and group nogroup, and it must answer; the
# racer must have seen the socket and tried.
. "$(dirname "$0")/lib.sh"
nobody_setup
topo
command -v strace >/dev/null 2>&1 || skip "strace(1) not found (tests/run_all.sh installs it)"
one_route_conf

RD=/run/smcroute
SOCK=$RD/smcroute.sock
victim_make

# The runtime directory as an older smcroute left it: owned by the user.
mkdir -p "$RD"
must chown nobody:"$NOGROUP" "$RD"
must chmod 0755 "$RD"

# The racer, as nobody: swap the socket for a link to the victim as soon as
# it appears (and again whenever it changes and is a socket).
[ -x "$TOOLS/swap_racer" ] || fail "$TOOLS/swap_racer missing (build the test tools)"
must cp "$TOOLS/swap_racer" "$NB/swap_racer"
chmod 0755 "$NB/swap_racer"
RACE=$TMP/race
mkdir -p "$RACE" && must chown nobody:"$NOGROUP" "$RACE"
"${AS_NOBODY[@]}" "$NB/swap_racer" -d "$RD" -n smcroute.sock -t "$VICTIM" -R "$RACE/ready" >"$RACE/log" 2>&1 &
RACER=$!
RECV_PIDS+=("$RACER")
wait_for $((10 * TIME_SCALE)) test -e "$RACE/ready" || fail "the racer did not start: $(cat "$RACE/log")"

DELAY_US=$((1000000 * TIME_SCALE))
CALLS=chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown
say "+ strace -f -e inject=$CALLS:delay_enter=$DELAY_US smcrouted -n -l debug -f $CONF -p nobody --socket-mode 0666 --socket-group $NOGROUP"
# LeakSanitizer cannot work under ptrace; leaks are other tests' business.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -o "$TMP/strace.out" -e trace="$CALLS" -e inject="$CALLS:delay_enter=$DELAY_US" \
    "$BIN/smcrouted" -n -l debug -f "$CONF" -p nobody --socket-mode 0666 --socket-group "$NOGROUP" \
    >"$TMP/daemon.log" 2>&1 &
TRACER=$!
RECV_PIDS+=("$TRACER")

# Ready (or gone): the daemon logs "ready" once it has dropped privileges.
up() { grep -q ' ready, socket ' "$TMP/daemon.log" || ! alive "$TRACER"; }
wait_for $((60 * TIME_SCALE)) up || fail "daemon under strace neither ready nor gone after $((60 * TIME_SCALE)) s"
alive "$TRACER" || { wait "$TRACER"; fail "daemon under strace exited during start-up with status $?"; }
kill -TERM "$RACER"
wait "$RACER" 2>/dev/null
tries=$(grep -c '^try' "$RACE/log")
swaps=$(grep -c '^swapped' "$RACE/log")
say "racer: $tries attempt(s), $swaps swap(s); first failure: $(grep -m1 '^failed' "$RACE/log")"
say "delayed system calls: $(grep '(DELAYED)' "$TMP/strace.out" | sed 's/^[0-9]* *//' | cut -c1-100 | tr '\n' ';')"

victim_intact "after the race (the racer swapped $swaps time(s))"
check "the racer saw the socket and tried" test "$tries" -gt 0
check "the racer never swapped the socket" test "$swaps" = 0
check "$SOCK is a socket, not a link" eval "[ -S '$SOCK' ] && [ ! -L '$SOCK' ]"
node=$(stat -c '%F %a %U:%G' "$SOCK")
[ "$node" = "socket 666 root:$NOGROUP" ] || fail "$SOCK is '$node', want 'socket 666 root:$NOGROUP'"
say "ok: $SOCK is '$node'"
check "runtime directory taken back: root's, mode 755" test "$(stat -c '%a %U:%G' "$RD")" = "755 root:root"
check "the daemon answers on $SOCK" ctl_answers -u "$SOCK"
check "and without -u (the client finds it)" ctl_answers

# Stop it: SIGTERM to the daemon itself; strace exits with its status.
dpid=$(cat "$RD/smcroute.pid")
case "$dpid" in ''|*[!0-9]*) fail "pid file holds '$dpid'" ;; esac
kill -TERM "$dpid"
wait_for $((30 * TIME_SCALE)) eval "! alive $TRACER" || fail "daemon (pid $dpid) did not exit on SIGTERM"
wait "$TRACER"
rc=$?
[ "$rc" = 0 ] || fail "daemon exited with status $rc on SIGTERM, want 0"
say "ok: daemon stopped, status 0"
pass

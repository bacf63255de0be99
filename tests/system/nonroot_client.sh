#!/bin/bash
# A non-root user cannot change state (DESIGN §5, §8). With the socket's
# default mode 0660 root:root, user nobody cannot even connect: the client
# exits non-zero and says "Permission denied". With the socket opened to
# everyone (0666), nobody may "show", but add, remove, flush, reload (also -n), kill,
# join, leave (smcroutectl, the legacy form and a batch) each exit 77 with
# "permission denied", and the daemon's routes, the kernel MFC/VIF tables
# and forwarding are unchanged. Holding CAP_NET_ADMIN does not help a
# process that is not root: rights come only from the uid and groups fixed
# at connect (issue 13), so it is refused the same way.
. "$(dirname "$0")/lib.sh"
nobody_setup
SOCK=/run/smcroute.sock

topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
start_daemon
check "kernel MFC has (10.0.1.2, 225.1.2.3) after start-up" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1 10

as_nobody_with_net_admin() {
    setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups \
        --inh-caps=+net_admin --ambient-caps=+net_admin -- "$@"
}

# Preconditions, or the test proves nothing.
check "nobody can run the client copy" as_nobody test -x "$NB/smcroute"
caps=$(as_nobody awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
if [ -z "$caps" ] || [ "$((16#$caps))" != 0 ]; then
    fail "a process run as nobody still has capabilities (CapEff $caps)"
fi
[ "$(as_nobody id -u)" != 0 ] || fail "setpriv did not change the uid"
mode=$(stat -c '%a %U %G' "$SOCK")
[ "$mode" = "660 root root" ] || fail "IPC socket $SOCK: mode/owner '$mode', want '660 root root'"
say "ok: IPC socket is 0660 root:root"

BASE_SHOW=$(timeout 10 "$BIN/smcroutectl" show 2>&1) || fail "smcroutectl show failed: $BASE_SHOW"
BASE_MFC4=$(mfc_count 4)
BASE_VIF4=$(vif_count 4)

unchanged() {
    local after
    alive "$DAEMON_PID" || fail "daemon (pid $DAEMON_PID) died after: $1"
    after=$(timeout 10 "$BIN/smcroutectl" show 2>&1) || fail "smcroutectl show (as root) failed after: $1 -- $after"
    [ "$after" = "$BASE_SHOW" ] || fail "routes changed after: $1 -- before: '$BASE_SHOW' after: '$after'"
    [ "$(mfc_count 4)" = "$BASE_MFC4" ] || fail "kernel MFC changed after: $1"
    [ "$(vif_count 4)" = "$BASE_VIF4" ] || fail "kernel VIF table changed after: $1"
}

# denied WANT_RC PATTERN PROGRAM ARGS...: PROGRAM run as nobody (by the
# function named in RUN_AS) must exit non-zero (exactly WANT_RC unless that
# is "any") with stderr matching PATTERN (extended regex,
# case-insensitive); nothing may change.
RUN_AS=as_nobody
denied() {
    local want_rc=$1 pattern=$2 prog=$3; shift 3
    local what="$RUN_AS: $prog $*" rc=0
    say "+ $what"
    "$RUN_AS" timeout 10 "$NB/$prog" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    [ "$rc" != 0 ] || fail "$what exited 0, want a refusal (stdout: $(cat "$TMP/out"))"
    [ "$rc" -lt 124 ] || fail "$what exited $rc (timed out or killed by a signal): $(cat "$TMP/err")"
    [ "$want_rc" = any ] || [ "$rc" = "$want_rc" ] \
        || fail "$what exited $rc, want $want_rc; stderr: $(cat "$TMP/err")"
    grep -Eiq -- "$pattern" "$TMP/err" || fail "$what (exit $rc): stderr does not say /$pattern/: '$(cat "$TMP/err")'"
    say "ok: exit $rc: $(head -n 1 "$TMP/err")"
    unchanged "$what"
}

# ------------------------------------------------ socket mode 0660: no entry
denied any 'permission denied' smcroutectl show
denied any 'permission denied' smcroutectl add a1 10.0.1.2 225.1.1.1 b1
denied any 'permission denied' smcroute -a a1 10.0.1.2 225.1.1.1 b1
denied any 'permission denied' smcroute -k

# ------------------------------------------ socket mode 0666: show, no change
must chmod 0666 "$SOCK"
out=$(as_nobody timeout 10 "$NB/smcroutectl" show 2>&1) || fail "nobody: smcroutectl show failed with a 0666 socket: $out"
[ "$out" = "$BASE_SHOW" ] || fail "nobody: smcroutectl show printed '$out', root sees '$BASE_SHOW'"
say "ok: nobody may show: $out"

denied 77 'permission denied' smcroutectl add a1 10.0.1.2 225.1.1.1 b1
denied 77 'permission denied' smcroutectl add a1 10.0.1.2 225.1.2.3 b2
denied 77 'permission denied' smcroutectl remove a1 10.0.1.2 225.1.2.3
denied 77 'permission denied' smcroutectl remove a1 10.0.1.2 225.1.2.3 b1
denied 77 'permission denied' smcroutectl flush
denied 77 'permission denied' smcroutectl reload
denied 77 'permission denied' smcroutectl reload -n
denied 77 'permission denied' smcroutectl kill
denied 77 'permission denied' smcroutectl join a1 225.1.1.1
denied 77 'permission denied' smcroutectl leave a1 225.1.1.1
denied 77 'permission denied' smcroute -a a1 10.0.1.2 225.1.1.1 b1
denied 77 'permission denied' smcroute -r a1 10.0.1.2 225.1.2.3
denied 77 'permission denied' smcroute -k
printf 'add a1 10.0.1.2 225.1.1.1 b1\nremove a1 10.0.1.2 225.1.2.3\n' >"$TMP/batch"
denied 77 'line 1.*permission denied' smcroutectl -b <"$TMP/batch"
grep -Eiq 'line 2.*permission denied' "$TMP/err" || fail "nobody: batch line 2 not refused: $(cat "$TMP/err")"

# Nothing changed, and the route still forwards.
expect_forward v4 225.1.2.3 rcv1 10
expect_recv rcv2 0

# ------------------ not root, but CAP_NET_ADMIN: refused all the same
# Capabilities are not a fact fixed at connect (a process may exec a
# setuid program after connecting), so the daemon does not look at them.
caps=$(as_nobody_with_net_admin awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
[ -n "$caps" ] && [ $(( (16#$caps >> 12) & 1 )) = 1 ] \
    || fail "setpriv did not give nobody CAP_NET_ADMIN (CapEff '$caps'): the check below would prove nothing"
say "nobody with CapEff $caps (CAP_NET_ADMIN)"
RUN_AS=as_nobody_with_net_admin
denied 77 'permission denied' smcroutectl add a1 10.0.1.2 225.1.2.4 b2
check_not "kernel MFC has no (10.0.1.2, 225.1.2.4)" mfc_has 10.0.1.2 225.1.2.4
denied 77 'permission denied' smcroutectl remove a1 10.0.1.2 225.1.2.3
denied 77 'permission denied' smcroutectl kill

expect_forward v4 225.1.2.3 rcv1 10
pass

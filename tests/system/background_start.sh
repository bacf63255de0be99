#!/bin/bash
# "smcrouted -f CONF" (no -n) forks and returns only once the daemon is
# ready: the moment it returns, smcroutectl show answers, the config's routes
# are in the kernel MFC and the pid file holds the daemon's pid. A background
# start that fails (bad config with --strict-config) returns 78 with the
# reason on stderr.
# "smcroutectl kill" stops the daemon and it cleans up.
. "$(dirname "$0")/lib.sh"
topo

# ---- a failing background start
BAD=$TMP/bad.conf
cat >"$BAD" <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 sorce 10.0.1.2 group 225.1.2.4 to b1
CONF
say "+ smcrouted --strict-config -f $BAD"
timeout 20 "$BIN/smcrouted" --strict-config -f "$BAD" >"$TMP/bad.stdout" 2>"$TMP/bad.stderr"
rc=$?
[ "$rc" = 124 ] && fail "failing background start did not return within 20 s"
[ "$rc" = 78 ] || fail "background start with a bad config and --strict-config: exit $rc, want 78"
say "ok: background start with a bad config exits $rc"
check "the reason (the config error) is on stderr" grep -q -F -- "$BAD:2:16: error: unknown keyword 'sorce'" "$TMP/bad.stderr"
check_not "no daemon left answering" ctl_answers
check_not "no socket left" test -e /run/smcroute.sock
check_not "no pid file left" test -e /run/smcroute.pid
[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty after a failed start: $(cat /proc/net/ip_mr_cache)"
[ "$(vif_count 4)" = 0 ] || fail "VIFs left after a failed start: $(cat /proc/net/ip_mr_vif)"

# ---- a good background start
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.4 to b2
CONF
say "+ smcrouted -f $CONF"
timeout 20 "$BIN/smcrouted" -f "$CONF" >"$TMP/good.stdout" 2>"$TMP/good.stderr"
rc=$?
[ "$rc" = 124 ] && fail "smcrouted -f did not return within 20 s"
[ "$rc" = 0 ] || fail "smcrouted -f exited $rc: $(cat "$TMP/good.stderr")"
# No polling from here on: ready means ready when it returns.
check "smcroutectl show answers at once" ctl_answers
check "(10.0.1.2, 225.1.2.3) in the MFC at once" mfc_forwards 10.0.1.2 225.1.2.3
check "(10.0.1.2, 225.1.2.4) in the MFC at once" mfc_forwards 10.0.1.2 225.1.2.4
check "pid file /run/smcroute.pid exists at once" test -s /run/smcroute.pid
pid=$(cat /run/smcroute.pid)
case "$pid" in ''|*[!0-9]*) fail "pid file holds '$pid', not a pid" ;; esac
check "pid $pid is running" alive "$pid"
exe=$(readlink -f "/proc/$pid/exe")
[ "$exe" = "$SMCROUTE" ] || fail "pid $pid runs '$exe', not $SMCROUTE"
# It is the process that holds the routing socket: the only smcroute process.
others=$(pgrep -x smcrouted | grep -vx "$pid" || true)
[ -z "$others" ] || fail "other smcrouted processes besides $pid: $others"
say "ok: pid file holds the daemon's pid $pid"

traffic v4 225.1.2.3 10
expect_recv rcv1 10
expect_recv rcv2 0

check "smcroutectl kill" ctl kill
check "daemon pid $pid exits within 5 s of kill" wait_for 5 eval "! alive $pid"
check_not "socket removed" test -e /run/smcroute.sock
check_not "pid file removed" test -e /run/smcroute.pid
[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty after kill: $(cat /proc/net/ip_mr_cache)"
[ "$(vif_count 4)" = 0 ] || fail "VIFs left after kill: $(cat /proc/net/ip_mr_vif)"
say "ok: kernel tables empty after kill"
traffic v4 225.1.2.3 10
expect_recv rcv1 0
pass

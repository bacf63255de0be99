#!/bin/bash
# A reload of a config with a syntax error changes nothing: "smcroutectl
# reload" exits non-zero and names FILE:LINE; the old routes keep forwarding
# and "show" is unchanged (although the bad file also changes a valid
# route). SIGHUP with the same file logs the error and changes nothing
# either. Once the file is fixed, a reload applies it.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1
mroute from a1 group 225.1.1.2 to b2
CONF
start_daemon
LOG=${DAEMON_LOGS[0]}

q() { timeout 10 "$BIN/smcroutectl" "$@"; }

expect_forward v4 225.1.1.1 rcv1; expect_recv rcv2 0
expect_forward v4 225.1.1.2 rcv2; expect_recv rcv1 0
before=$(q show) || fail "show failed"
echo "$before"
kernel_before=$(awk 'NR > 1 { print $1, $2, $3, $7, $8, $9 }' /proc/net/ip_mr_cache | sort)

# Valid lines that change things, and an error on line 3.
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b2
mroute from a1 source 10.0.1.2 group 225.1.1.7 to b1
mroute frm a1 group 225.1.1.3 to b1
CONF

# ---- smcroutectl reload
lines=$(wc -l <"$LOG")
# new_log: the daemon log lines written since the last mark.
new_log() { tail -n +"$((lines + 1))" "$LOG"; }
out=$(ctl reload 2>&1)
rc=$?
echo "$out"
[ "$rc" != 0 ] || fail "smcroutectl reload of a bad config exited 0: $out"
say "ok: smcroutectl reload exited $rc"
check "the reload error names $CONF:3" grep -qF "$CONF:3" <<<"$out"
check "the daemon logs the error too" wait_for 2 eval "new_log | grep -qF '$CONF:3'"
alive "$DAEMON_PID" || fail "the daemon died on a bad reload"
after=$(q show) || fail "show failed after the bad reload"
[ "$after" = "$before" ] || fail "show changed after a failed reload: before: $before -- after: $after"
say "ok: show unchanged"
kernel_after=$(awk 'NR > 1 { print $1, $2, $3, $7, $8, $9 }' /proc/net/ip_mr_cache | sort)
[ "$kernel_after" = "$kernel_before" ] || fail "the kernel MFC changed after a failed reload: $kernel_before -> $kernel_after"
say "ok: kernel MFC unchanged"
expect_forward v4 225.1.1.1 rcv1; expect_recv rcv2 0
expect_forward v4 225.1.1.2 rcv2; expect_recv rcv1 0
check "(10.0.1.2, 225.1.1.7) not installed" mfc_lacks 10.0.1.2 225.1.1.7

# ---- SIGHUP: the error goes to the log
lines=$(wc -l <"$LOG")
kill -HUP "$DAEMON_PID"
check "SIGHUP: the log names $CONF:3" wait_for 3 eval "new_log | grep -qF '$CONF:3'"
new_log
sleep 0.3
alive "$DAEMON_PID" || fail "the daemon died on SIGHUP with a bad config"
after=$(q show) || fail "show failed after SIGHUP"
[ "$after" = "$before" ] || fail "show changed after SIGHUP with a bad config: before: $before -- after: $after"
say "ok: show unchanged after SIGHUP"
kernel_after=$(awk 'NR > 1 { print $1, $2, $3, $7, $8, $9 }' /proc/net/ip_mr_cache | sort)
[ "$kernel_after" = "$kernel_before" ] || fail "the kernel MFC changed after SIGHUP with a bad config: $kernel_before -> $kernel_after"
expect_forward v4 225.1.1.1 rcv1; expect_recv rcv2 0
expect_forward v4 225.1.1.2 rcv2; expect_recv rcv1 0

# ---- fixed: the reload now applies
sed -i 's/mroute frm/mroute from/' "$CONF"
check "smcroutectl reload of the fixed file succeeds" ctl reload
expect_forward v4 225.1.1.1 rcv2; expect_recv rcv1 0
expect_forward v4 225.1.1.7 rcv1
check_not "(*, 225.1.1.2) is gone" eval "q show | grep -qF '(*, 225.1.1.2)'"
pass

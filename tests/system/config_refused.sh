#!/bin/bash
# The daemon refuses a config file with errors: started in the foreground it
# exits 78 having printed every error, and leaves nothing behind (no socket,
# no pid file, no kernel VIFs or MFC entries). With --ignore-errors it starts
# with the valid lines. A missing *default* config (/etc/IDENT.conf) means no
# routes; a missing file named with -f is an error.
. "$(dirname "$0")/lib.sh"
topo

# Errors on lines 3, 4, 5 and 7; valid (S,G) routes on lines 2 and 6, a
# valid (*,G) rule on line 8.
write_conf <<'CONF'
# a file with several errors
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 sorce 10.0.1.2 group 225.1.2.4 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.5/33 to b1
mroute from a1 source 10.0.1.2 group 10.1.2.3 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.6 to b2
frobnicate a1 b1
mroute from a1 group 225.1.2.7 to b1
CONF

# nothing_left WHAT: no socket, no pid file, no kernel state.
nothing_left() {
    check_not "$1: no socket /run/smcroute.sock" test -e /run/smcroute.sock
    check_not "$1: no pid file /run/smcroute.pid" test -e /run/smcroute.pid
    [ "$(mfc_count 4)" = 0 ] || fail "$1: IPv4 MFC not empty: $(cat /proc/net/ip_mr_cache)"
    [ "$(vif_count 4)" = 0 ] || fail "$1: IPv4 VIFs present: $(cat /proc/net/ip_mr_vif)"
    [ "$(mfc_count 6)" = 0 ] || fail "$1: IPv6 MFC not empty"
    [ "$(vif_count 6)" = 0 ] || fail "$1: IPv6 MIFs present"
    say "ok: $1: nothing left behind"
}

# ---- refused
say "+ smcrouted -n -f $CONF"
timeout 20 "$BIN/smcrouted" -n -f "$CONF" >"$TMP/refused.log" 2>&1
rc=$?
[ "$rc" = 124 ] && fail "daemon with a bad config still running after 20 s"
[ "$rc" = 78 ] || fail "daemon with a bad config: exit $rc, want 78: $(cat "$TMP/refused.log")"
say "ok: daemon with a bad config exits 78"
for lc in 3:16 4:38 5:38 7:1; do
    check "error $lc reported" grep -q -F -- "$CONF:$lc: error: " "$TMP/refused.log"
done
for line in 2 6 8; do
    check_not "no error for valid line $line" grep -q -F -- "$CONF:$line:" "$TMP/refused.log"
done
nothing_left "refused start"

# ---- --ignore-errors: the valid lines are applied.
start_daemon --ignore-errors
check "(10.0.1.2, 225.1.2.3) from line 2 in the MFC" mfc_forwards 10.0.1.2 225.1.2.3
check "(10.0.1.2, 225.1.2.6) from line 6 in the MFC" mfc_forwards 10.0.1.2 225.1.2.6
check_not "no (10.0.1.2, 225.1.2.4) from the 'sorce' line" mfc_has 10.0.1.2 225.1.2.4
check_not "no (10.0.1.2, 225.1.2.5) from the /33 line" mfc_has 10.0.1.2 225.1.2.5
[ "$(mfc_count 4)" = 2 ] || fail "want exactly 2 MFC entries, have: $(cat /proc/net/ip_mr_cache)"
for lc in 3:16 4:38 5:38 7:1; do
    check "--ignore-errors: error $lc still reported" grep -q -F -- "$CONF:$lc: error: " "$TMP/daemon.log"
done
traffic v4 225.1.2.3 10
expect_recv rcv1 10
expect_recv rcv2 0
traffic v4 225.1.2.6 10
expect_recv rcv1 0
expect_recv rcv2 10
# The (*,G) rule on line 8 works; the 'sorce' line did not become one.
traffic v4 225.1.2.7 4 -r 0
expect_recv rcv1 4
traffic v4 225.1.2.4 10
expect_recv rcv1 0
stop_daemon
nothing_left "--ignore-errors daemon stopped"

# ---- missing default config: /etc/IDENT.conf absent, no -f.
ident=smct-nosuchident-$$
[ -e "/etc/$ident.conf" ] && skip "/etc/$ident.conf exists"
say "+ smcrouted -n -l debug -i $ident"
"$BIN/smcrouted" -n -l debug -i "$ident" >"$TMP/daemon-$ident.log" 2>&1 &
pid=$!
DAEMON_PIDS+=("$pid")
DAEMON_PID=$pid
check "daemon without /etc/$ident.conf answers" wait_for 5 ctl_answers -i "$ident"
check "daemon without /etc/$ident.conf still running" alive "$pid"
out=$(ctl -i "$ident" -t show) || fail "show failed: $out"
! grep -qF '225.' <<<"$out" || fail "routes present without a config: $out"
[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty without a config: $(cat /proc/net/ip_mr_cache)"
say "ok: no routes without a config"
stop_daemon "$pid"

# ---- explicit missing -f FILE: an error.
missing=$TMP/no-such-file.conf
say "+ smcrouted -n -f $missing"
timeout 20 "$BIN/smcrouted" -n -f "$missing" >"$TMP/missing.log" 2>&1
rc=$?
[ "$rc" = 124 ] && fail "daemon with a missing -f file still running after 20 s"
[ "$rc" != 0 ] || fail "daemon with a missing -f file exited 0"
say "ok: missing -f file: exit $rc"
check "message names the missing file" grep -q -F -- "$missing" "$TMP/missing.log"
check "message says why" grep -q -i 'no such file' "$TMP/missing.log"
nothing_left "missing -f file"
pass

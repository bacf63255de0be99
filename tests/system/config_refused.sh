#!/bin/bash
# A config file with errors. By default the daemon starts with its valid
# lines, as SMCRoute 2.x did: every error is logged (at most 20, then "and
# N more") and the valid routes forward real traffic. With --strict-config
# it refuses: started in the foreground it exits 78 having printed every
# error, and leaves nothing behind (no socket, no pid file, no kernel VIFs
# or MFC entries). A missing default config (/etc/IDENT.conf) means no
# routes; so does a missing file named with -f (a warning), and a reload
# reads it once it exists; with --strict-config a missing -f file is
# refused (78).
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

# ---- --strict-config: refused
say "+ smcrouted -n --strict-config -f $CONF"
timeout 20 "$BIN/smcrouted" -n --strict-config -f "$CONF" >"$TMP/refused.log" 2>&1
rc=$?
[ "$rc" = 124 ] && fail "daemon with a bad config and --strict-config still running after 20 s"
[ "$rc" = 78 ] || fail "daemon with a bad config and --strict-config: exit $rc, want 78: $(cat "$TMP/refused.log")"
say "ok: daemon with a bad config and --strict-config exits 78"
for lc in 3:16 4:38 5:38 7:1; do
    check "error $lc reported" grep -q -F -- "$CONF:$lc: error: " "$TMP/refused.log"
done
for line in 2 6 8; do
    check_not "no error for valid line $line" grep -q -F -- "$CONF:$line:" "$TMP/refused.log"
done
nothing_left "refused start"

# ---- the default (and --ignore-errors): the valid lines are applied.
for flag in "" --ignore-errors; do
    what=${flag:-default}
    # shellcheck disable=SC2086 # no flag: no word
    start_daemon $flag
    check "$what: (10.0.1.2, 225.1.2.3) from line 2 in the MFC" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.3
    check "$what: (10.0.1.2, 225.1.2.6) from line 6 in the MFC" mfc_forwards 10.0.1.2 225.1.2.6
    check_not "$what: no (10.0.1.2, 225.1.2.4) from the 'sorce' line" mfc_has 10.0.1.2 225.1.2.4
    check_not "$what: no (10.0.1.2, 225.1.2.5) from the /33 line" mfc_has 10.0.1.2 225.1.2.5
    [ "$(mfc_count 4)" = 2 ] || fail "$what: want exactly 2 MFC entries, have: $(cat /proc/net/ip_mr_cache)"
    for lc in 3:16 4:38 5:38 7:1; do
        check "$what: error $lc logged" grep -q -F -- "$CONF:$lc: error: " "$TMP/daemon.log"
    done
    check "$what: the log says it started with the valid lines" \
        grep -q -F -- "$CONF: 4 error(s); starting with the valid lines" "$TMP/daemon.log"
    if [ -z "$flag" ]; then
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
        # A reload of the same broken file is refused as a whole: the
        # running routes stay.
        check_not "$what: reload of the broken config is refused" ctl reload
        check "$what: routes kept after the refused reload" mfc_forwards 10.0.1.2 225.1.2.3
    fi
    stop_daemon
    nothing_left "$what daemon stopped"
done

# ---- many errors: at most 20 logged, then how many more.
cp "$CONF" "$TMP/few.conf"
{
    echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1"
    for ((i = 0; i < 25; i++)); do echo "frobnicate $i"; done
} >"$CONF"
start_daemon
check "many errors: the valid route is in the MFC" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.3
n=$(grep -c -F -- ": error: unknown directive 'frobnicate'" "$TMP/daemon.log")
[ "$n" = 20 ] || fail "many errors: $n of 25 errors logged, want 20: $(cat "$TMP/daemon.log")"
check "many errors: 'and 5 more' logged" grep -q -F -- "and 5 more (5 error(s), 0 warning(s)) not shown" "$TMP/daemon.log"
say "ok: 20 of 25 errors logged, then 'and 5 more'"
stop_daemon
nothing_left "many-errors daemon stopped"
cp "$TMP/few.conf" "$CONF"

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

# ---- explicit missing -f FILE with --strict-config: refused.
missing=$TMP/no-such-file.conf
say "+ smcrouted -n --strict-config -f $missing"
timeout 20 "$BIN/smcrouted" -n --strict-config -f "$missing" >"$TMP/missing.log" 2>&1
rc=$?
[ "$rc" = 124 ] && fail "daemon with a missing -f file and --strict-config still running after 20 s"
[ "$rc" = 78 ] || fail "daemon with a missing -f file and --strict-config: exit $rc, want 78"
say "ok: missing -f file with --strict-config: exit $rc"
check "message names the missing file" grep -q -F -- "$missing" "$TMP/missing.log"
check "message says why" grep -q -i 'no such file' "$TMP/missing.log"
nothing_left "missing -f file, --strict-config"

# ---- explicit missing -f FILE: a warning, no routes; a reload reads it
# once it exists.
start_daemon -f "$missing"
check "missing -f: warning names the file" grep -q -F -- "warning: no config file $missing" "$TMP/daemon.log"
[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty without the -f file: $(cat /proc/net/ip_mr_cache)"
say "ok: missing -f file: started with no routes"
echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1" >"$missing"
must ctl reload
check "after the reload the new file's route is in the MFC" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.3
traffic v4 225.1.2.3 10
expect_recv rcv1 10
stop_daemon
nothing_left "missing -f file, created later"
pass

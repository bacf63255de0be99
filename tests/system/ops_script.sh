#!/bin/bash
# The -e SCRIPT action script (smcrouted(8)): the daemon runs SCRIPT, never
# through a shell, with argv [SCRIPT, ACTION] and a fixed environment (PATH
# plus its own variables; nothing inherited from the daemon's environment):
#   * "reload" once the config is loaded at start-up, and again after every
#     successful reload (smcroutectl reload, SIGHUP); a reload that is refused
#     (config errors) runs nothing;
#   * "install" when traffic matches a (*,G) rule and the daemon installs the
#     (S,G) route, with source=S group=G iif=IIF in the environment.
# The daemon never waits for the script: while a script is held (it cannot
# finish before the test opens its gate), the daemon answers. Each exit is
# logged: "script PATH ACTION exited with status N" (debug level for 0).
. "$(dirname "$0")/lib.sh"
topo

OUT=$TMP/script.out
SCRIPT=$TMP/action.sh
cat >"$SCRIPT" <<EOF2
#!/bin/sh
# One line per run; the values the daemon passed, nothing else.
inherited=\$(env | grep -c '^SMCT_INSIDE=')
echo "action=\$1 argc=\$# source=\${source:-} group=\${group:-} iif=\${iif:-} path=\$PATH inherited=\$inherited" >>"$OUT"
# A "slow" run holds until the test opens the gate (at most 60 s).
if [ "\$1" = reload ] && [ -e "$TMP/slow" ]; then
    i=0; while [ ! -e "$TMP/gate" ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
fi
exit 0
EOF2
chmod 755 "$SCRIPT"

lines() { [ -e "$OUT" ] || { echo 0; return; }; grep -c "^action=$1 " "$OUT"; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }

write_conf <<'CONF'
mroute from a1 group 225.1.2.0/24 to b1
CONF
if [ -e /proc/net/ip6_mr_cache ]; then
    echo "mroute from a1 group ff0e::1:0/112 to b1" >>"$CONF"
fi

start_daemon -e "$SCRIPT"
check "script ran with 'reload' after start" wait_for 5 has_lines reload 1
sleep 0.5
[ "$(lines reload)" = 1 ] || fail "start-up ran 'reload' $(lines reload) times, want 1: $(cat "$OUT")"
first=$(grep '^action=reload ' "$OUT" | head -n 1)
[ "$first" = "action=reload argc=1 source= group= iif= path=/usr/sbin:/usr/bin:/sbin:/bin inherited=0" ] \
    || fail "unexpected script arguments/environment: '$first'"
say "ok: argv and environment: $first"
check "the exit was logged" wait_for 5 grep -qF "script $SCRIPT reload exited with status 0" "$TMP/daemon.log"

check "smcroutectl reload" ctl reload
check "script ran 'reload' again" wait_for 5 has_lines reload 2
kill -HUP "$DAEMON_PID"
check "script ran 'reload' after SIGHUP" wait_for 5 has_lines reload 3

# A refused reload runs nothing.
cp "$CONF" "$TMP/good.conf"
echo "mroute from a1 sorce 10.0.1.2 group 225.1.2.3 to b1" >>"$CONF"
check_not "reload of a bad config fails" ctl reload
sleep 1
[ "$(lines reload)" = 3 ] || fail "a refused reload ran the script: $(cat "$OUT")"
say "ok: refused reload ran no script"
cp "$TMP/good.conf" "$CONF"

# A script that has not finished does not hold up the daemon: it is held
# until the gate opens, and the daemon answers meanwhile.
exits() { grep -c "script $SCRIPT reload exited" "$TMP/daemon.log"; }
exits_before=$(exits)
touch "$TMP/slow"
check "smcroutectl reload (held script)" ctl reload
check "held script started" wait_for 5 has_lines reload 4
check "daemon answers while the script is held" ctl_answers
[ "$(exits)" = "$exits_before" ] || fail "the held script exited before its gate opened"
say "ok: the script was still running when show answered"
touch "$TMP/gate"
check "the held script exits once released" wait_for 10 eval '[ "$(exits)" -gt "$exits_before" ]'
rm -f "$TMP/slow" "$TMP/gate"

# (*,G) match -> route installed -> "install" with source, group, iif.
expect_forward v4 225.1.2.3 rcv1 10
want="action=install argc=1 source=10.0.1.2 group=225.1.2.3 iif=a1 path=/usr/sbin:/usr/bin:/sbin:/bin inherited=0"
check "script ran 'install' for (10.0.1.2, 225.1.2.3)" wait_for 5 grep -qxF "$want" "$OUT"
[ "$(grep -c '^action=install .*group=225.1.2.3 ' "$OUT")" = 1 ] \
    || fail "'install' ran more than once for one (S,G): $(cat "$OUT")"
add_src 10.0.1.7
expect_forward v4 225.1.2.9 rcv1 5 -s 10.0.1.7
check "script ran 'install' for (10.0.1.7, 225.1.2.9)" wait_for 5 \
    grep -qxF "action=install argc=1 source=10.0.1.7 group=225.1.2.9 iif=a1 path=/usr/sbin:/usr/bin:/sbin:/bin inherited=0" "$OUT"
if [ -e /proc/net/ip6_mr_cache ]; then
    expect_forward v6 ff0e::1:3 rcv1 10
    check "script ran 'install' for (fd01::2, ff0e::1:3)" wait_for 5 \
        grep -qxF "action=install argc=1 source=fd01::2 group=ff0e::1:3 iif=a1 path=/usr/sbin:/usr/bin:/sbin:/bin inherited=0" "$OUT"
fi
check_not "no script failure logged" grep -E "script .* (exited with status [1-9]|killed by signal|cannot run)" "$TMP/daemon.log"

# A missing script is an error in the log, not a crash.
stop_daemon
rm -f "$OUT"
start_daemon -e "$TMP/does-not-exist.sh"
check "missing script logged as an error" wait_for 5 grep -qF "script $TMP/does-not-exist.sh reload: cannot run: No such file or directory" "$TMP/daemon.log"
check "daemon still answers" ctl_answers
pass

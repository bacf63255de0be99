#!/bin/bash
# Started by a process that is not root but holds CAP_NET_ADMIN and
# CAP_NET_RAW (multicast routing socket, raw IGMP socket), the daemon runs
# with -u and -P in a directory that user owns: its config's routes
# forward ((S,G) and a (*,G) rule answered from upcalls), its join is held,
# and SIGTERM from root (foreground run) or "smcroutectl kill" from root
# (background run) stops it with status 0, routes and VIFs gone, socket and
# pid file removed. The same user WITHOUT those capabilities fails to start
# (foreground and background): non-zero exit, a message that mentions the
# permission problem, and nothing left behind (no socket, no pid file, no
# VIF, no MFC entry).
. "$(dirname "$0")/lib.sh"
nobody_setup
NOBODY_UID=$(id -u nobody)
topo

# A runtime directory of the user's own (one that anyone may write, and not
# sticky, is refused: see runtime_given_paths.sh).
RT=$TMP/rt
mkdir -p "$RT" && chmod 0755 "$RT" && chown nobody:"$NOGROUP" "$RT"
SOCK=$RT/smcroute.sock
PIDF=$RT/smcroute.pid

write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 group 225.1.2.5 to b2
mgroup from b1 group 225.7.7.7
CONF
chmod 0644 "$CONF"

NOCAPS=(setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups --)
# shellcheck disable=SC2054 # the commas belong to setpriv's capability lists
CAPS=(setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups
      --inh-caps=+net_admin,+net_raw --ambient-caps=+net_admin,+net_raw --)
DARGS=(-f "$CONF" -u "$SOCK" -P "$PIDF")

# Preconditions, or the test proves nothing.
[ "$("${NOCAPS[@]}" id -u)" = "$NOBODY_UID" ] || fail "setpriv did not change the uid"
check "nobody can run the daemon copy and read the config" "${NOCAPS[@]}" test -x "$NB/smcroute" -a -r "$CONF"
caps=$("${NOCAPS[@]}" awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
[ -n "$caps" ] && [ "$((16#$caps))" = 0 ] || fail "a process run as nobody still has capabilities (CapEff $caps)"
caps=$("${CAPS[@]}" awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
if [ -z "$caps" ] || [ $(( (16#$caps >> 12) & 3 )) != 3 ]; then
    skip "setpriv cannot give nobody CAP_NET_ADMIN and CAP_NET_RAW here (CapEff '$caps')"
fi
[ "$(( 16#$caps & ~0x3000 ))" = 0 ] || fail "nobody with caps holds more than NET_ADMIN|NET_RAW: CapEff $caps"
say "ok: nobody without caps has CapEff 0, with caps $caps"

# nothing_left WHAT: no socket, pid file, VIF or MFC entry remains.
nothing_left() {
    local left
    left=$(ls -A "$RT")
    [ -z "$left" ] || fail "$1: left in $RT: $left"
    [ "$(vif_count 4)" = 0 ] || fail "$1: VIFs left: $(cat /proc/net/ip_mr_vif)"
    [ "$(mfc_count 4)" = 0 ] || fail "$1: MFC entries left: $(cat /proc/net/ip_mr_cache)"
    kernel_not_joined b1 225.7.7.7 || fail "$1: 225.7.7.7 still joined on b1"
    say "ok: $1: nothing left behind"
}

# ---------------------------------------- without capabilities: refused
# refused LABEL DAEMON-ARGS...: smcrouted as nobody without capabilities.
refused() {
    local label=$1; shift
    local rc=0
    say "+ (nobody, no caps) smcrouted $*"
    timeout 10 "${NOCAPS[@]}" "$NB/smcrouted" "$@" >"$TMP/refused.out" 2>"$TMP/refused.err" || rc=$?
    [ "$rc" != 0 ] || fail "$label: the daemon started without CAP_NET_ADMIN/CAP_NET_RAW (exit 0)"
    [ "$rc" -lt 124 ] || fail "$label: exited $rc (timed out or killed by a signal): $(cat "$TMP/refused.err")"
    grep -Eiq 'permi' "$TMP/refused.err" \
        || fail "$label: exit $rc, but stderr does not mention the permission problem: '$(cat "$TMP/refused.err")'"
    say "ok: $label: exit $rc: $(grep -Ei -m1 'permi' "$TMP/refused.err")"
    sleep 0.3  # a forked child, if any, would have written its files by now
    nothing_left "$label"
}
refused "foreground, no caps" -n -l debug "${DARGS[@]}"
refused "background, no caps" "${DARGS[@]}"

# ---------------------------- CAP_NET_ADMIN + CAP_NET_RAW, foreground
say "+ (nobody, net_admin+net_raw) smcrouted -n -l debug ${DARGS[*]}"
"${CAPS[@]}" "$NB/smcrouted" -n -l debug "${DARGS[@]}" >"$TMP/daemon.log" 2>&1 &
pid=$!
DAEMON_PIDS+=("$pid")
DAEMON_PID=$pid
wait_for 5 ctl_answers -u "$SOCK" || {
    alive "$pid" || { wait "$pid"; fail "daemon (nobody with caps) exited during start-up with status $?"; }
    fail "daemon (nobody with caps) did not answer on $SOCK within 5 s"
}
say "daemon up (pid $pid)"
uid=$(awk '$1 == "Uid:" { print $2, $3 }' "/proc/$pid/status")
[ "$uid" = "$NOBODY_UID $NOBODY_UID" ] || fail "daemon runs with real/effective uid '$uid', want nobody ($NOBODY_UID)"
check "socket $SOCK exists" test -S "$SOCK"
check "pid file holds the daemon's pid" test "$(cat "$PIDF" 2>/dev/null)" = "$pid"

check "kernel MFC has (10.0.1.2, 225.1.2.3)" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1 10
expect_recv rcv2 0
# (*,G): learned from the NOCACHE upcall; the kernel queues up to 4 packets
# of an unresolved entry, all of which must be forwarded.
traffic v4 225.1.2.5 4 -r 0
expect_recv rcv2 4
expect_recv rcv1 0
check "learned (10.0.1.2, 225.1.2.5)" mfc_forwards 10.0.1.2 225.1.2.5
expect_forward v4 225.1.2.5 rcv2 10
check "225.7.7.7 joined on b1" kernel_joined b1 225.7.7.7

say "+ kill -TERM $pid (as root)"
kill -TERM "$pid"
wait_for 5 eval "! alive $pid" || fail "daemon (pid $pid) still running 5 s after SIGTERM"
wait "$pid"
rc=$?
STOPPED[$pid]=1
[ "$rc" = 0 ] || fail "daemon exited $rc on SIGTERM, want 0"
say "ok: exit status 0 on SIGTERM"
nothing_left "after SIGTERM"
check_not "no permission error logged" grep -Ei "permission denied|not permitted" "$TMP/daemon.log"

# ---------------------------- CAP_NET_ADMIN + CAP_NET_RAW, background
say "+ (nobody, net_admin+net_raw) smcrouted ${DARGS[*]} (forks)"
rc=0
timeout 10 "${CAPS[@]}" "$NB/smcrouted" "${DARGS[@]}" >"$TMP/bg.out" 2>"$TMP/bg.err" || rc=$?
[ "$rc" = 0 ] || fail "background start as nobody with caps exited $rc: $(cat "$TMP/bg.err")"
check "pid file written" wait_for 2 test -s "$PIDF"
pid=$(cat "$PIDF")
case "$pid" in ''|*[!0-9]*) fail "pid file holds '$pid'" ;; esac
check "daemon (pid $pid) running" alive "$pid"
uid=$(awk '$1 == "Uid:" { print $3 }' "/proc/$pid/status")
[ "$uid" = "$NOBODY_UID" ] || fail "background daemon runs with euid $uid, want $NOBODY_UID"
check "daemon answers on $SOCK" ctl_answers -u "$SOCK"
check "kernel MFC has (10.0.1.2, 225.1.2.3)" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1 10
check "smcroutectl kill (as root)" ctl -u "$SOCK" kill
wait_for 5 eval "! alive $pid" || fail "daemon (pid $pid) still running 5 s after kill"
nothing_left "after smcroutectl kill"
pass

#!/bin/bash
# Stray signals neither kill nor stop the daemon (issue 13, finding 7). With
# -p nobody any process of user nobody may signal the daemon; here one does,
# with every signal whose default action would end the process (ALRM USR1
# USR2 PIPE IO PROF VTALRM STKFLT PWR XCPU XFSZ, glibc's reserved 32 and 33,
# SIGRTMIN..SIGRTMAX) or stop it (TSTP TTIN TTOU). After each one the daemon
# is still running (not stopped) and answers "show"; afterwards its route
# still forwards, untouched in the kernel MFC, and the log names the first
# signal and its sender. SIGTERM then still stops it cleanly: exit 0, MFC
# and VIFs empty, nothing answering on the socket (after -p it stays, dead,
# in root's runtime directory for the next start). A fault signal (SIGABRT)
# keeps its default: a real crash still crashes.
. "$(dirname "$0")/lib.sh"
topo
nobody_setup
NOBODY_UID=$(id -u nobody)

write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
CONF
start_daemon -p nobody
pid=$DAEMON_PID
LOG=$TMP/daemon.log
sock=$(sed -n 's/.* ready, socket \([^ ,]*\).*/\1/p' "$LOG" | head -n 1)
RD=$(dirname "$sock")
[ -S "$sock" ] || fail "cannot find the daemon's socket from its log (got '$sock'): $(cat "$LOG")"
[ "$(awk '$1 == "Uid:" { print $2 }' "/proc/$pid/status")" = "$NOBODY_UID" ] || fail "daemon does not run as nobody"
say "daemon (pid $pid) runs as nobody, socket $sock"

expect_forward v4 225.1.2.3 rcv1 10
# The MFC entry without its counters: inbound VIF and outbound VIFs.
mfc_key() { mfc_line 10.0.1.2 225.1.2.3 | awk '{ $4 = $5 = $6 = ""; print }'; }
before=$(mfc_key) || fail "(10.0.1.2, 225.1.2.3) not in the MFC"

# state PID: the state letter of /proc/PID/stat (R, S, T stopped, Z, ...).
state() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo gone; return; }
    stat=${stat##*) }
    echo "${stat%% *}"
}

sigs=()
for name in ALRM USR1 USR2 PIPE IO PROF VTALRM STKFLT PWR XCPU XFSZ TSTP TTIN TTOU; do
    sigs+=("$(kill -l "$name")")
done
rtmax=$(kill -l RTMAX)
for ((n = 32; n <= rtmax; n++)); do sigs+=("$n"); done
say "sending ${#sigs[@]} signals as nobody: ${sigs[*]}"

for n in "${sigs[@]}"; do
    name=$(kill -l "$n" 2>/dev/null)
    what="signal $n${name:+ (SIG$name)}"
    as_nobody kill -s "$n" "$pid" || fail "nobody could not send $what to the daemon"
    # show is a round trip through the event loop: every signal sent before
    # it has been taken (or has ended or stopped the daemon) by then.
    if ! ctl_answers; then
        st=$(state "$pid")
        if [ "$st" = gone ] || [ "$st" = Z ]; then
            wait "$pid"
            rc=$?
            STOPPED[$pid]=1
            fail "$what from nobody ended the daemon (status $rc); log: $(tail -n 3 "$LOG")"
        fi
        if [ "$st" = T ] || [ "$st" = t ]; then
            kill -CONT "$pid"
            fail "$what from nobody stopped the daemon (state $st)"
        fi
        fail "daemon does not answer show after $what, state $st"
    fi
    st=$(state "$pid")
    case "$st" in
    T|t|Z|gone) fail "after $what the daemon is in state '$st'" ;;
    esac
done
say "ok: the daemon survived all ${#sigs[@]} signals, never stopped, answered show after each"

check "route still listed" eval "ctl show | grep -qF '(10.0.1.2, 225.1.2.3)'"
after=$(mfc_key) || fail "(10.0.1.2, 225.1.2.3) gone from the MFC after the signals"
[ "$after" = "$before" ] || fail "MFC entry changed: before '$before', after '$after'"
say "ok: MFC entry unchanged: $after"
expect_forward v4 225.1.2.3 rcv1 10
expect_recv rcv2 10
check "first stray signal logged with its sender" \
    grep -qE "warning: ignored SIGALRM from pid [0-9]+ \(uid $NOBODY_UID\)" "$LOG"

# SIGTERM still stops it cleanly.
stop_daemon "$pid"
[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty after SIGTERM: $(cat /proc/net/ip_mr_cache)"
[ "$(vif_count 4)" = 0 ] || fail "VIFs left after SIGTERM: $(cat /proc/net/ip_mr_vif)"
# After -p the daemon, nobody by then, may not remove root's files in
# root's $RD: they stay, dead, and the next start replaces them
# (smcroute(8), -p; runtime_pid_symlink.sh starts again over them).
check "socket $sock left behind, dead" eval "[ -S '$sock' ] && ! ctl_answers -u '$sock'"
left=$(find /run -path /run/netns -prune -o -path "$RD" -prune -o \( -name '*.sock' -o -name '*.pid' \) -print)
[ -z "$left" ] || fail "files left in /run outside $RD after SIGTERM: $left"
say "ok: SIGTERM after the stray signals: exit 0, kernel tables empty, nothing answers on the socket"

# A fault signal keeps its default action (no core file here).
ulimit -c 0
start_daemon
pid=$DAEMON_PID
kill -ABRT "$pid"
check "SIGABRT still ends the daemon" wait_for "$(scaled 5)" eval "! alive $pid"
wait "$pid"
rc=$?
STOPPED[$pid]=1
[ "$rc" = $((128 + $(kill -l ABRT))) ] || fail "daemon ended by SIGABRT with status $rc, want $((128 + $(kill -l ABRT)))"
say "ok: SIGABRT ended the daemon (status $rc)"
pass

#!/bin/bash
# A storm of 1 000 SIGHUPs loses no traffic (issue 13, "Also"): a 100 pps
# (S,G) stream and a 100 pps stream learned through a (*,G) rule run while
# the daemon gets 1 000 SIGHUPs, paced evenly over the storm (every 100th
# one after the config gained or lost an unrelated route, so reloads also
# change something). Afterwards:
#  * every datagram of both streams reached both receivers;
#  * the kernel never deleted either stream's MFC entry (ip monitor, and
#    the entry's packet counter covers the whole stream: a deleted and
#    re-added entry would start again from 0);
#  * the daemon is alive, answers, logged at least MIN_RELOADS completed
#    reloads (SIGHUPs that arrive during a reload coalesce, so not 1 000)
#    and no failed one, and runs the config as it was last written.
#
# What breaks it: a reload that deletes and re-adds unchanged routes, or
# forgets learned (*,G) entries (datagrams lost while the kernel asks
# again), a reload that closes the routing socket (flushes the kernel
# table), a crash or a hang under back-to-back signals. Proved with a
# scratch edit that removed and re-added every configured route on each
# reload: rcv1 got 5303 of 6000 (S,G) datagrams, the test failed.
. "$(dirname "$0")/lib.sh"
topo
add_src 10.0.1.3

streams_conf without
start_daemon
LOG=$TMP/daemon.log
streams_ready

# mfc_pkts SRC GRP: the kernel's packet counter of that entry.
mfc_pkts() { mfc_line "$1" "$2" | awk '{ print $4 }'; }
PKTS_SG0=$(mfc_pkts 10.0.1.2 225.1.2.3)
PKTS_SX0=$(mfc_pkts 10.0.1.3 225.3.3.3)

SIGNALS=1000
STORM_S=$((15 * TIME_SCALE))              # the storm is spread over this
N=$((100 * (STORM_S + 5 * TIME_SCALE)))   # 100 pps, and then some
MIN_RELOADS=100
streams_start "$N" 100 801
flowing() {
    [ "$(mfc_pkts 10.0.1.2 225.1.2.3)" -ge $((PKTS_SG0 + 10)) ] &&
        [ "$(mfc_pkts 10.0.1.3 225.3.3.3)" -ge $((PKTS_SX0 + 10)) ]
}
check "both streams flow through the kernel" wait_for 5 flowing

# The storm: signal k at k * STORM_S / SIGNALS seconds (a late one goes at
# once). No process per signal (a fork costs milliseconds under emulation):
# kill is a builtin, the clock is $EPOCHREALTIME, and the pauses are read -t
# on a FIFO nobody writes.
mkfifo "$TMP/pace"
exec 9<>"$TMP/pace"
logpos=$(wc -l <"$LOG")
t=${EPOCHREALTIME/./}
t0=$((10#$t))
step_us=$((STORM_S * 1000000 / SIGNALS))
extra=without
for ((k = 1; k <= SIGNALS; k++)); do
    if ((k % 100 == 0)); then
        if [ $extra = without ]; then extra=with; else extra=without; fi
        streams_conf $extra
        alive "$DAEMON_PID" || fail "the daemon died during the storm, before SIGHUP $k"
    fi
    kill -HUP "$DAEMON_PID" || fail "SIGHUP $k: the daemon is gone"
    t=${EPOCHREALTIME/./}
    wait_us=$((t0 + k * step_us - 10#$t))
    if ((wait_us > 0)); then
        printf -v frac '%06d' $((wait_us % 1000000))
        read -r -t "$((wait_us / 1000000)).$frac" -u 9
    fi
done
exec 9<&-
t=${EPOCHREALTIME/./}
storm_ms=$(((10#$t - t0) / 1000))
say "$SIGNALS SIGHUPs sent in $storm_ms ms (planned $((STORM_S * 1000)) ms)"
bg_alive sg || fail "the (S,G) sender finished before the storm did; the test proves nothing"
bg_alive sx || fail "the (*,G) sender finished before the storm did; the test proves nothing"
alive "$DAEMON_PID" || fail "the daemon died in the storm"
check "the daemon answers after the storm" ctl_answers

streams_all_arrived "$N" "the storm"
sg=$(mfc_pkts 10.0.1.2 225.1.2.3) sx=$(mfc_pkts 10.0.1.3 225.3.3.3)
say "kernel packet counters: (S,G) $PKTS_SG0 -> $sg, (*,G)-learned $PKTS_SX0 -> $sx (each stream: $N)"
[ "$sg" -ge $((PKTS_SG0 + N)) ] || fail "the (S,G) entry counted $((sg - PKTS_SG0)) of $N datagrams: it was replaced during the storm"
[ "$sx" -ge $((PKTS_SX0 + N)) ] || fail "the learned entry counted $((sx - PKTS_SX0)) of $N datagrams: it was replaced during the storm"
say "ok: both entries' packet counters cover the whole stream"

started=$(tail -n +"$((logpos + 1))" "$LOG" | grep -c 'reloading ')
done_n=$(tail -n +"$((logpos + 1))" "$LOG" | grep -c 'reload done')
failed=$(tail -n +"$((logpos + 1))" "$LOG" | grep -c 'reload failed\|: error')
say "daemon log: $started reloads started, $done_n done, $failed failed or errors, for $SIGNALS SIGHUPs"
[ "$done_n" -ge "$MIN_RELOADS" ] || fail "only $done_n reloads done for $SIGNALS SIGHUPs (want at least $MIN_RELOADS)"
[ "$done_n" -le "$SIGNALS" ] || fail "$done_n reloads done for $SIGNALS SIGHUPs"
[ "$started" = "$done_n" ] || fail "$started reloads started but $done_n done"
[ "$failed" = 0 ] || fail "reload errors in the log: $(tail -n +"$((logpos + 1))" "$LOG" | grep -m 3 'reload failed\|: error')"
say "ok: $done_n reloads done, none failed"

# The config as last written (SIGNALS / 100 swaps: without the extra route).
show_lacks() { local out; out=$(timeout 5 "$BIN/smcroutectl" show) || return 1; ! grep -qF -- "$1" <<<"$out"; }
check "the last config is the one running: no extra route" wait_for 3 show_lacks "(10.0.1.2, 225.5.5.5)"
check_not "kernel MFC has no extra route" mfc_has 10.0.1.2 225.5.5.5
expect_forward v4 225.1.2.3 rcv1 10
expect_recv rcv2 10
pass

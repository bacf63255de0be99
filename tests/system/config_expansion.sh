#!/bin/bash
# A tiny config must not expand without bound (issue 13, finding 6). Seven
# files of 1.2 KB in all, each including the next ten times, six levels
# deep, expand to 10^6 route lines. The daemon's limits (4096 files read per
# config, includes and repeats counted; 1 000 000 lines; 16 levels) stop it:
#   * "smcrouted -F" refuses it (exit 78) within 10 (scaled) seconds, with
#     a located error at the include line that went over (file:line:col,
#     naming the limit, then its include chain), in bounded memory (its
#     peak RSS within 50 MB of checking a one-line file);
#   * a daemon forwarding a route gets SIGHUP with that config included:
#     the reload is refused with the same located error, the control socket
#     answers again as soon as a check of the config would be done (twice
#     the -F time, plus 3 scaled seconds: the daemon reads the same 4096
#     files first), a stream through the route loses nothing, and its MFC
#     entry is untouched; "smcroutectl reload" is refused too, exit
#     non-zero, with the error.
. "$(dirname "$0")/lib.sh"
topo

# fan_out DIR LEVELS FANOUT COUNT LINE: DIR/l0.conf includes l1.conf FANOUT
# times, l1.conf includes l2.conf FANOUT times, ..., l<LEVELS>.conf holds
# COUNT times LINE.
fan_out() {
    local dir=$1 levels=$2 fanout=$3 count=$4 line=$5 l i
    mkdir -p "$dir"
    for ((l = 0; l < levels; l++)); do
        for ((i = 0; i < fanout; i++)); do echo "include l$((l + 1)).conf"; done >"$dir/l$l.conf"
    done
    for ((i = 0; i < count; i++)); do echo "$line"; done >"$dir/l$levels.conf"
}

ROUTE="mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2"
EXP=$TMP/exp
fan_out "$EXP" 6 10 1 "$ROUTE"
bytes=$(cat "$EXP"/*.conf | wc -c)
[ "$bytes" -lt 1300 ] || fail "the expanding config is $bytes bytes, meant to be tiny"
say "expanding config: $bytes bytes in 7 files, 10^6 route lines once expanded"
# Depth first, the 4097th file read is the 4th include of the 9th l5.conf
# of the 7th l4.conf of the 4th l3.conf (1 + 1 + 1 + 3 * 1111 + 1 + 6 * 111
# + 1 + 8 * 11 + 1 + 4).
WANT="$EXP/l5.conf:4:9: error: cannot include 'l6.conf': over the limit of 4096 files per config (includes and repeats counted)"

# run_measured OUT LIMIT CMD...: run CMD (output to OUT) for at most LIMIT
# seconds; prints "STATUS SECONDS MAXRSS_KB" (status 124: timed out).
run_measured() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
out, limit, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
start = time.monotonic()
with open(out, "wb") as f:
    try:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=limit).returncode
    except subprocess.TimeoutExpired:
        rc = 124
print(rc, "%.2f" % (time.monotonic() - start), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# ---- smcrouted -F: fast, located, bounded
echo "$ROUTE" >"$TMP/one.conf"
read -r rc secs base_kb < <(run_measured "$TMP/one.out" "$(scaled 10)" "$BIN/smcrouted" -F "$TMP/one.conf")
[ "$rc" = 0 ] || fail "smcrouted -F on a one-line file: exit $rc: $(cat "$TMP/one.out")"
say "smcrouted -F one-line file: ${secs} s, peak RSS ${base_kb} kB"

limit=$(scaled 10)
read -r rc secs kb < <(run_measured "$TMP/exp.out" "$limit" "$BIN/smcrouted" -F "$EXP/l0.conf")
check_secs=${secs%.*}
# How long a reload of it may keep the daemon busy: twice the check.
wait_s=$(( 2 * check_secs + TIME_SCALE * 3 + 1 ))
say "smcrouted -F expanding config: exit $rc in ${secs} s, peak RSS ${kb} kB"
[ "$rc" != 124 ] || fail "smcrouted -F on the expanding config still running after $limit s (peak RSS ${kb} kB)"
[ "$rc" = 78 ] || fail "smcrouted -F on the expanding config: exit $rc, want 78: $(head -c 2000 "$TMP/exp.out")"
check "located error at the include that went over" grep -qxF "$WANT" "$TMP/exp.out"
check "its include chain follows" grep -qxF "  included from $EXP/l4.conf:9" "$TMP/exp.out"
check "one error only" test "$(grep -c ': error: ' "$TMP/exp.out")" = 1
[ $((kb - base_kb)) -lt 51200 ] || fail "smcrouted -F used ${kb} kB at its peak, more than 50 MB over ${base_kb} kB"
say "ok: -F refused it in ${secs} s, $(( (kb - base_kb) / 1024 )) MB over a one-line check"

# ---- a running daemon: SIGHUP and "reload" with the config included
echo "$ROUTE" | write_conf
start_daemon
pid=$DAEMON_PID
LOG=$TMP/daemon.log
expect_forward v4 225.1.2.3 rcv1 10
mfc_key() { mfc_line 10.0.1.2 225.1.2.3 | awk '{ $4 = $5 = $6 = ""; print }'; }
before=$(mfc_key) || fail "(10.0.1.2, 225.1.2.3) not in the MFC"

N=$((50 * (2 * wait_s + 4)))   # at 50 pps: longer than both reloads take
bg_recv_start s-rcv1 rcv1 225.1.2.3 801
bg_send_start s -g 225.1.2.3 -s 10.0.1.2 -n "$N" -r 50 -I 801
sleep 0.5

{ echo "$ROUTE"; echo "include exp/l0.conf"; } | write_conf
# The config file itself is now the first file read: the 4097th is one
# include earlier, and the chain ends at the config's include line.
WANT="$EXP/l5.conf:3:9: error: cannot include 'l6.conf': over the limit of 4096 files per config (includes and repeats counted)"
say "+ kill -HUP $pid (config now includes exp/l0.conf)"
kill -HUP "$pid"
t0=$(date +%s%N)
SMCROUTE_CLIENT_TIMEOUT=$wait_s timeout "$wait_s" "$BIN/smcroutectl" show >"$TMP/show.out" 2>&1 \
    || fail "show did not answer within $wait_s s of the SIGHUP: $(cat "$TMP/show.out")"
say "ok: show answered $(( ($(date +%s%N) - t0) / 1000000 )) ms after the SIGHUP"
check "SIGHUP: reload refused with the located error" wait_for "$(scaled 5)" grep -qF "$WANT" "$LOG"
check "SIGHUP: the chain ends at the config's include" grep -qxF "  included from $CONF:2" "$LOG"
check "SIGHUP: running config kept" grep -qF "error(s), keeping the running config" "$LOG"
check_not "SIGHUP: no reload done" grep -q "reload done" "$LOG"

SMCROUTE_CLIENT_TIMEOUT=$wait_s ctl reload >"$TMP/reload.out" 2>&1
rc=$?
[ "$rc" != 0 ] || fail "smcroutectl reload of the expanding config exited 0"
check "smcroutectl reload: the located error" grep -qF "$WANT" "$TMP/reload.out"
say "ok: smcroutectl reload refused it, exit $rc"

alive "$pid" || fail "daemon died"
bg_alive s || fail "the sender finished before the reloads did; the test proves nothing"
bg_send_wait s
sleep 0.5
bg_recv_stop s-rcv1
say "stream through the running route: ${BG_COUNT[s-rcv1]}/$N"
[ "${BG_COUNT[s-rcv1]}" = "$N" ] || fail "rcv1 received ${BG_COUNT[s-rcv1]} of $N datagrams across the refused reloads"
after=$(mfc_key) || fail "(10.0.1.2, 225.1.2.3) gone from the MFC"
[ "$after" = "$before" ] || fail "MFC entry changed: before '$before', after '$after'"
check "route still listed" eval "ctl show | grep -qF '(10.0.1.2, 225.1.2.3)'"
expect_forward v4 225.1.2.3 rcv2 10
pass

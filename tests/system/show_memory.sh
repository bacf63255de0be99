#!/bin/bash
# Issue 13, finding 3: a user allowed only to `show` must not be able to
# make the daemon use gigabytes or lock root out. With 50 000 routes and
# the socket open to everyone (0666), 200 clients run as user nobody
# (tests/tools/show_flood) each ask for the whole table, 100 as text and
# 100 as JSON, and read it slowly (4 KiB every 0.5 s); then 40 more ask
# and never read. The daemon is the unsanitized build, as operators run it.
# Meanwhile:
#  * the daemon's VmRSS stays within SHOW_MEM_BOUND_MB (default 40) of
#    its level before the attack;
#  * root's `smcroutectl show` completes, with every route;
#  * multicast on a configured route still forwards;
# and after the clients leave, VmRSS is back within SHOW_MEM_BACK_MB
# (default 8) of that level within a few seconds (the daemon gives freed
# heap pages back after such a crowd leaves). A last round of the
# attack is cut short by SIGTERM: the daemon exits promptly, status 0.
. "$(dirname "$0")/lib.sh"
# The kernel's tables hold 50 000 entries: lib.sh's diagnostics, shortened.
diag() {
    echo "---- diagnostics ----"
    echo "# kernel MFC entries: $(mfc_count 4); VIFs: $(vif_count 4)"
    [ -n "${PID0:-}" ] && grep -E '^(VmRSS|VmHWM|Threads):' "/proc/$PID0/status" 2>/dev/null
    local f
    for f in "$TMP"/slow.out "$TMP"/mute.out "$TMP"/last.out; do
        [ -s "$f" ] && echo "# $(basename "$f"): $(cat "$f")"
    done
    echo "---------------------"
}
nobody_setup
[ -x "$TOOLS/show_flood" ] || fail "$TOOLS/show_flood missing (build the test tools)"
cp "$TOOLS/show_flood" "$NB/show_flood" && chmod 0755 "$NB/show_flood" || fail "cannot copy show_flood"
SOCK=/run/smcroute.sock
ROUTES=50000
CLIENTS=200
BOUND_MB=${SHOW_MEM_BOUND_MB:-40}
BACK_MB=${SHOW_MEM_BACK_MB:-8}
# Where nobody's attacker writes its ready file.
ATT=$TMP/attacker
mkdir -p "$ATT" && chown nobody "$ATT"

topo
# 50 000 (S,G) routes from a1 to b1 (groups 226.0.0.1 up), and the one the
# forwarding check uses.
{
    echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1"
    awk -v n=$((ROUTES - 1)) 'BEGIN { for (i = 1; i <= n; i++)
        printf "mroute from a1 source 10.0.1.2 group 226.%d.%d.%d to b1\n", int(i / 65536), int(i / 256) % 256, i % 256 }'
} >"$CONF"
# The unsanitized build, as operators run it: AddressSanitizer's allocator
# would hold what the daemon frees (lib.sh, use_plain_daemon).
use_plain_daemon
start_daemon --socket-mode 0666
PID0=$DAEMON_PID
plain_daemon_runs

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID0/status"; }
still_alive() { alive "$PID0" || fail "daemon (pid $PID0) died during: $1"; }

# Every route loaded and in the kernel before anything is measured.
loaded() { [ "$(mfc_count 4)" -ge "$ROUTES" ]; }
check "all $ROUTES routes in the kernel MFC" wait_for "$(scaled 60)" loaded
expect_forward v4 225.1.2.3 rcv1 10

# root_show: root's own `show` lists every route in time.
ROOT_LIMIT=$(( 20 * TIME_SCALE ))
root_show() {
    local t0 t1 n rc
    t0=$(now_ms)
    n=$(SMCROUTE_CLIENT_TIMEOUT=$ROOT_LIMIT timeout "$ROOT_LIMIT" "$BIN/smcroutectl" show 2>"$TMP/root.err" | wc -l)
    rc=$?
    t1=$(now_ms)
    [ "$rc" = 0 ] && [ "$n" = "$ROUTES" ] \
        || fail "root's show $1: $n of $ROUTES rows, exit $rc, after $((t1 - t0)) ms (limit ${ROOT_LIMIT} s): $(head -c 300 "$TMP/root.err")"
    say "ok: root's show $1: $n rows in $((t1 - t0)) ms"
}
root_show "before the attack"
root_show "again, for the baseline"
RSS0=$(rss_kb)
say "VmRSS before the attack: $RSS0 kB ($ROUTES routes)"

PEAK=$RSS0
# sample_rss WHAT: record the peak; fail as soon as it is over the bound.
sample_rss() {
    local r
    still_alive "$1"
    r=$(rss_kb)
    [ "$r" -gt "$PEAK" ] && PEAK=$r
    [ $((r - RSS0)) -le $((BOUND_MB * 1024)) ] \
        || fail "VmRSS $r kB during $1: +$(( (r - RSS0) / 1024 )) MB over the $RSS0 kB before the attack (bound +$BOUND_MB MB)"
}
# sample_for SECONDS WHAT: sample every 0.2 s for that long.
sample_for() {
    local end=$(( $(now_ms) + ${1%.*} * 1000 ))
    while [ "$(now_ms)" -lt "$end" ]; do
        sample_rss "$2"
        sleep 0.2
    done
}
# attack NAME CLIENTS JSON BYTES: show_flood as nobody in the background.
attack() {
    local name=$1 n=$2 json=$3 bytes=$4
    rm -f "$ATT/$name.ready"
    # $! is show_flood itself, which must get the SIGTERM to print its counts.
    "${AS_NOBODY[@]}" "$NB/show_flood" -u "$SOCK" -n "$n" -j "$json" -b "$bytes" -i 500 -t 3600 \
        -R "$ATT/$name.ready" >"$TMP/$name.out" 2>&1 &
    BG_PID[$name]=$!
    RECV_PIDS+=("$!")
}
attack_ready() { [ -e "$ATT/$1.ready" ]; }
# wait_ready NAME SECONDS: sampling meanwhile.
wait_ready() {
    local end=$(( $(now_ms) + ${2%.*} * 1000 ))
    while ! attack_ready "$1"; do
        alive "${BG_PID[$1]}" || fail "attacker $1 exited early: $(cat "$TMP/$1.out")"
        [ "$(now_ms)" -lt "$end" ] || fail "attacker $1: not every client answered within $2 s (VmRSS $(rss_kb) kB)"
        sample_rss "the attack ($1 starting)"
        sleep 0.2
    done
}
stop_attack() {
    kill -TERM "${BG_PID[$1]}" 2>/dev/null
    wait "${BG_PID[$1]}" 2>/dev/null
    say "attacker $1: $(cat "$TMP/$1.out")"
}

# ------------------------------------------------------ the attack
t_attack=$(now_ms)
attack slow "$CLIENTS" $((CLIENTS / 2)) 4096
wait_ready slow "$(scaled 120)"
say "200 slow readers connected and served in $(( $(now_ms) - t_attack )) ms (VmRSS $(rss_kb) kB)"
attack mute 40 20 0
wait_ready mute "$(scaled 60)"
say "40 more clients that never read connected (VmRSS $(rss_kb) kB)"
sample_for "$(scaled 5)" "the attack"
root_show "during the attack"
sample_rss "the attack, after root's show"
expect_forward v4 225.1.2.3 rcv1 10
sample_for "$(scaled 5)" "the attack"
alive "${BG_PID[slow]}" || fail "the slow readers' process exited: $(cat "$TMP/slow.out")"
say "peak VmRSS during the attack: $PEAK kB (+$(( (PEAK - RSS0) / 1024 )) MB, bound +$BOUND_MB MB)"

# ------------------------------------------------ the clients leave
stop_attack slow
stop_attack mute
grep -q "^clients=$CLIENTS connected=$CLIENTS first_bytes=$CLIENTS " "$TMP/slow.out" \
    || fail "the attack did not run as meant (every slow reader connected and served): $(cat "$TMP/slow.out")"
t_left=$(now_ms)
back() { [ $(( $(rss_kb) - RSS0 )) -le $((BACK_MB * 1024)) ]; }
wait_for "$(scaled 5)" back \
    || fail "VmRSS $(rss_kb) kB $(scaled 5) s after the clients left, $RSS0 kB before the attack (allowed +$BACK_MB MB)"
RSS1=$(rss_kb)
say "ok: VmRSS back to $RSS1 kB within $(( $(now_ms) - t_left )) ms of the clients leaving (before: $RSS0 kB, peak $PEAK kB)"
root_show "after the attack"
expect_forward v4 225.1.2.3 rcv1 10

# ------------------------------- SIGTERM in the middle of an attack
attack last "$CLIENTS" $((CLIENTS / 2)) 4096
wait_ready last "$(scaled 120)"
t0=$(now_ms)
stop_daemon "$PID0"
say "ok: SIGTERM during the attack: the daemon exited in $(( $(now_ms) - t0 )) ms, status 0"
stop_attack last
pass

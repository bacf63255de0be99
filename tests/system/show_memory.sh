#!/bin/bash
# Issue 13, finding 3: users allowed only to `show` must not be able to
# make the daemon use gigabytes or lock root out. With 50 000 routes and
# the socket open to everyone (0666), 200 clients (tests/tools/show_flood;
# 25 under each of 8 unprivileged uids, as one uid may hold 32) each ask
# for the whole table, 100 as text and 100 as JSON, and read it slowly
# (4 KiB every 0.5 s); then 40 more (20 under each of 2 more uids) ask and
# never read: 240 in all, every slot not kept for root. Every one of them
# is admitted and none is answered whole or closed while the attack lasts.
# The daemon is the unsanitized build, as operators run it. Meanwhile:
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
    for f in "$TMP"/slow-*.out "$TMP"/mute-*.out "$TMP"/last-*.out; do
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
# Where the attackers write their ready files.
ATT=$TMP/attacker
mkdir -p "$ATT" && chmod 1777 "$ATT"

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
# attack NAME UID0 UIDS CLIENTS JSON BYTES: CLIENTS show_flood clients (JSON
# of them asking for JSON) spread evenly over the uids UID0..UID0+UIDS-1, one
# show_flood process per uid in the background, each reading BYTES at a
# time (0: never).
attack() {
    local name=$1 uid0=$2 uids=$3 n=$4 json=$5 bytes=$6 k
    ATTACKERS[$name]=$uids
    for ((k = 0; k < uids; k++)); do
        rm -f "$ATT/$name-$k.ready"
        # $! is show_flood itself, which must get the SIGTERM to print its counts.
        setpriv --reuid=$((uid0 + k)) --regid=$((uid0 + k)) --clear-groups -- \
            "$NB/show_flood" -u "$SOCK" -n $((n / uids)) -j $(((json + k) / uids)) -b "$bytes" -i 500 -t 3600 \
            -R "$ATT/$name-$k.ready" >"$TMP/$name-$k.out" 2>&1 &
        BG_PID[$name-$k]=$!
        RECV_PIDS+=("$!")
    done
}
declare -A ATTACKERS
# wait_ready NAME SECONDS: until every process of that attack is ready,
# sampling meanwhile.
wait_ready() {
    local end=$(( $(now_ms) + ${2%.*} * 1000 )) k
    for ((k = 0; k < ATTACKERS[$1]; k++)); do
        while [ ! -e "$ATT/$1-$k.ready" ]; do
            alive "${BG_PID[$1-$k]}" || fail "attacker $1-$k exited early: $(cat "$TMP/$1-$k.out")"
            [ "$(now_ms)" -lt "$end" ] || fail "attacker $1: not every client answered within $2 s (VmRSS $(rss_kb) kB)"
            sample_rss "the attack ($1 starting)"
            sleep 0.2
        done
    done
}
# attack_alive NAME: every process of that attack still runs.
attack_alive() {
    local k
    for ((k = 0; k < ATTACKERS[$1]; k++)); do
        alive "${BG_PID[$1-$k]}" || fail "attacker $1-$k exited: $(cat "$TMP/$1-$k.out")"
    done
}
# stop_attack NAME: SIGTERM to each process; their counts summed into
# ATTACK_SUM (the show_flood line's fields added up).
stop_attack() {
    local k
    for ((k = 0; k < ATTACKERS[$1]; k++)); do
        kill -TERM "${BG_PID[$1-$k]}" 2>/dev/null
        wait "${BG_PID[$1-$k]}" 2>/dev/null
    done
    ATTACK_SUM=$(cat "$TMP/$1"-*.out | awk '
        /^clients=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); sum[kv[1]] += kv[2]; if (!(kv[1] in seen)) { seen[kv[1]] = 1; order[++n] = kv[1] } } }
        END { for (i = 1; i <= n; i++) printf "%s%s=%d", (i > 1 ? " " : ""), order[i], sum[order[i]] }')
    say "attacker $1 (${ATTACKERS[$1]} uids): $ATTACK_SUM"
}
# sockets_held: the daemon's open sockets.
sockets_held() { find "/proc/$PID0/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' 2>/dev/null | wc -l; }

# ------------------------------------------------------ the attack
t_attack=$(now_ms)
SOCKS0=$(sockets_held)
attack slow 61001 8 "$CLIENTS" $((CLIENTS / 2)) 4096
wait_ready slow "$(scaled 120)"
say "200 slow readers connected and served in $(( $(now_ms) - t_attack )) ms (VmRSS $(rss_kb) kB)"
attack mute 61009 2 40 20 0
wait_ready mute "$(scaled 60)"
say "40 more clients that never read connected (VmRSS $(rss_kb) kB)"
# Connected is not yet accepted: the last may still wait in the backlog.
all_held() { [ $(( $(sockets_held) - SOCKS0 )) -ge 240 ]; }
wait_for "$(scaled 10)" all_held \
    || fail "the daemon holds $(( $(sockets_held) - SOCKS0 )) attacking connections, want all 240 admitted"
say "ok: the daemon holds all 240 attacking connections"
sample_for "$(scaled 5)" "the attack"
root_show "during the attack"
sample_rss "the attack, after root's show"
expect_forward v4 225.1.2.3 rcv1 10
sample_for "$(scaled 5)" "the attack"
attack_alive slow
attack_alive mute
say "peak VmRSS during the attack: $PEAK kB (+$(( (PEAK - RSS0) / 1024 )) MB, bound +$BOUND_MB MB)"

# ------------------------------------------------ the clients leave
stop_attack slow
# Every slow reader was being served rows, none was refused (an END) or cut off.
[[ $ATTACK_SUM =~ ^clients=$CLIENTS\ connected=$CLIENTS\ first_bytes=$CLIENTS\ .*\ ends=0\ closed=0$ ]] \
    || fail "the attack did not run as meant (every slow reader admitted and served, none answered whole or closed): $ATTACK_SUM"
stop_attack mute
[[ $ATTACK_SUM =~ ^clients=40\ connected=40\  ]] || fail "the mute clients did not all connect: $ATTACK_SUM"
t_left=$(now_ms)
back() { [ $(( $(rss_kb) - RSS0 )) -le $((BACK_MB * 1024)) ]; }
wait_for "$(scaled 5)" back \
    || fail "VmRSS $(rss_kb) kB $(scaled 5) s after the clients left, $RSS0 kB before the attack (allowed +$BACK_MB MB)"
RSS1=$(rss_kb)
say "ok: VmRSS back to $RSS1 kB within $(( $(now_ms) - t_left )) ms of the clients leaving (before: $RSS0 kB, peak $PEAK kB)"
root_show "after the attack"
expect_forward v4 225.1.2.3 rcv1 10

# ------------------------------- SIGTERM in the middle of an attack
attack last 61001 8 "$CLIENTS" $((CLIENTS / 2)) 4096
wait_ready last "$(scaled 120)"
t0=$(now_ms)
stop_daemon "$PID0"
say "ok: SIGTERM during the attack: the daemon exited in $(( $(now_ms) - t0 )) ms, status 0"
stop_attack last
pass

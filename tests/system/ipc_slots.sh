#!/bin/bash
# No local user can hold the daemon's IPC slots, and root always gets in
# (issue 13, finding 4). With the socket open to everyone (0666):
#  (a) user nobody opens 300 connections -- more than the daemon's 256
#      slots -- and trickles one byte every 2 s on each (a 4 KiB request
#      that never completes), replacing every connection the daemon closes;
#      eight more unprivileged uids do the same with 40 connections each, so
#      together they want more than the slots not kept for root. For as long
#      as that lasts (at least 40 s, and until root has made 5 probes),
#      root's show, add and remove work, again and again; the daemon never
#      holds more than 256 clients; the attackers are refused with "too many
#      connections"; and no trickling connection lives much longer than the
#      frame deadline (5 s, checked every second): the daemon drops it ("no
#      complete request within 5000 ms").
#  (b) root opens 3 000 connections at once and holds them, silent: the
#      daemon's descriptors stay within its 256 clients, it closes those it
#      accepted once they have sent nothing for 5 s, and root's show works
#      while the 3 000 are still held.
# Afterwards: the daemon is back to its descriptors, no sanitizer report,
# and the route forwards.
. "$(dirname "$0")/lib.sh"
nobody_setup
SOCK=/run/smcroute.sock
LOG=$TMP/daemon.log
[ -x "$TOOLS/ipc_attack" ] || fail "$TOOLS/ipc_attack missing (build the test tools)"
must cp "$TOOLS/ipc_attack" "$NB/ipc_attack"
chmod 0755 "$NB/ipc_attack"

MAX_CLIENTS=256
FRAME_DEADLINE=5 # s, ipc_frame_timeout
# The longest a trickling connection may live: the deadline, the sweep
# period (1 s), and slack for a loaded, emulated machine. Without the
# deadline they live as long as the attack.
LIFE_LIMIT_MS=$(( (FRAME_DEADLINE + 1 + 4 * TIME_SCALE) * 1000 ))
ATTACK_SECS=40 # at least
[ "$LIFE_LIMIT_MS" -lt $((ATTACK_SECS * 1000)) ] || ATTACK_SECS=$((LIFE_LIMIT_MS / 1000 + 20))

topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
start_daemon --socket-mode 0666
PID0=$DAEMON_PID
check "kernel MFC has (10.0.1.2, 225.1.2.3) after start-up" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
ROUTE_ROW='(10.0.1.2, 225.1.2.3)  a1  active  b1'

nfds() { find "/proc/$PID0/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
FDS0=$(nfds)
say "daemon holds $FDS0 descriptors"
FD_LIMIT=$((FDS0 + MAX_CLIENTS + 2)) # + a connection being refused right now
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# field NAME FILE: a number from an ipc_attack report.
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$2" 2>/dev/null; }

# ------------------------------------------------ (a) trickling attackers
ATTACKERS=()
attacker() { # NAME SETPRIV-IDS N
    local name=$1 ids=$2 n=$3
    # shellcheck disable=SC2086
    setpriv $ids --clear-groups -- "$NB/ipc_attack" hold -n "$n" -i 2000 -r -t 3600 \
        -R "$TMP/$name.report" "$SOCK" >"$TMP/$name.out" 2>&1 &
    ATTACKERS+=($!)
    RECV_PIDS+=($!)
}
attacker nobody "--reuid=nobody --regid=$NOGROUP" 300
for u in 1 2 3 4 5 6 7 8; do
    attacker "uid6000$u" "--reuid=6000$u --regid=6000$u" 40
done
T_ATTACK=$(now_ms)
attack_on() { [ "$(nfds)" -ge $((FDS0 + 200)) ]; }
wait_for "$(scaled 20)" attack_on \
    || fail "the attackers hold only $(( $(nfds) - FDS0 )) connections after $(scaled 20) s: $(cat "$TMP"/nobody.out "$TMP/nobody.report" 2>&1)"
say "attack on: the daemon holds $(( $(nfds) - FDS0 )) client connections"

# Root, again and again while the attack lasts.
probes=0 most=0 slowest=0
for ((;;)); do
    for pid in "${ATTACKERS[@]}"; do
        alive "$pid" || fail "an attacker (pid $pid) stopped: $(cat "$TMP"/*.out)"
    done
    n=$(( $(nfds) - FDS0 ))
    [ "$n" -gt "$most" ] && most=$n
    [ "$(nfds)" -le "$FD_LIMIT" ] || fail "daemon holds $(nfds) descriptors, at most $FD_LIMIT allowed"
    age=$(field oldest_ms "$TMP/nobody.report")
    [ -z "$age" ] || [ "$age" -le "$LIFE_LIMIT_MS" ] \
        || fail "a trickling connection of nobody has been open $age ms (limit $LIFE_LIMIT_MS): $(head -n 1 "$TMP/nobody.report")"
    t0=$(now_ms)
    out=$(timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" show 2>&1) \
        || fail "probe $probes: root's show failed during the attack: $out"
    [ "$out" = "$ROUTE_ROW" ] || fail "probe $probes: root's show during the attack: '$out'"
    out=$(timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" add a1 10.0.1.2 225.1.2.4 b2 2>&1) \
        || fail "probe $probes: root's add failed during the attack: $out"
    mfc_has 10.0.1.2 225.1.2.4 || fail "probe $probes: root's add is not in the kernel"
    out=$(timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" remove a1 10.0.1.2 225.1.2.4 2>&1) \
        || fail "probe $probes: root's remove failed during the attack: $out"
    mfc_lacks 10.0.1.2 225.1.2.4 || fail "probe $probes: root's remove is not in the kernel"
    t1=$(now_ms)
    [ $((t1 - t0)) -gt "$slowest" ] && slowest=$((t1 - t0))
    probes=$((probes + 1))
    [ "$probes" -ge 5 ] && [ $((t1 - T_ATTACK)) -ge $((ATTACK_SECS * 1000)) ] && break
done
say "after $(( $(now_ms) - T_ATTACK )) ms of attack: root's show+add+remove worked $probes times (slowest $slowest ms); the daemon held at most $most clients"
[ "$most" -le "$MAX_CLIENTS" ] || fail "the daemon held $most clients, more than $MAX_CLIENTS"
kill -TERM "${ATTACKERS[@]}"
for pid in "${ATTACKERS[@]}"; do wait "$pid" || fail "an attacker (pid $pid) failed: $(cat "$TMP"/*.out)"; done
RECV_PIDS=()
for f in "$TMP"/*.out; do say "$(basename "$f" .out): $(tr '\n' '|' <"$f")"; done

# What the attackers saw.
R=$TMP/nobody.out
[ "$(field answers "$R")" = 0 ] || fail "a trickled request completed: the attack was not what it claims: $(head -n 1 "$R")"
[ "$(field longest_ms "$R")" -le "$LIFE_LIMIT_MS" ] \
    || fail "nobody's longest-lived connection lasted $(field longest_ms "$R") ms (limit $LIFE_LIMIT_MS): $(head -n 1 "$R")"
[ "$(field oldest_ms "$R")" -le "$LIFE_LIMIT_MS" ] || fail "a connection of nobody outlived the limit: $(head -n 1 "$R")"
[ "$(field dropped "$R")" -ge 10 ] || fail "the daemon dropped few of nobody's connections: $(head -n 1 "$R")"
[ "$(field refused "$R")" -ge 1 ] || fail "nobody's 300 connections were never refused: $(head -n 1 "$R")"
grep -q '^refusal: 69 too many connections' "$R" || fail "refusals without a clear message: $(tr '\n' '|' <"$R")"
say "ok: nobody: $(head -n 1 "$R")"
say "ok: refusal message: $(sed -n 's/^refusal: //p' "$R")"
for u in 1 2 3 4 5 6 7 8; do
    R=$TMP/uid6000$u.out
    [ "$(field longest_ms "$R")" -le "$LIFE_LIMIT_MS" ] && [ "$(field oldest_ms "$R")" -le "$LIFE_LIMIT_MS" ] \
        || fail "uid 6000$u held a connection too long: $(head -n 1 "$R")"
done
drops=$(grep -c 'no complete request within' "$LOG")
[ "$drops" -ge 10 ] || fail "the daemon logged $drops frame-deadline drops"
say "ok: the daemon dropped $drops trickling connections by the frame deadline: $(grep -m1 'no complete request within' "$LOG" | cut -c1-160)"
fds_back() { [ "$(nfds)" -le "$FDS0" ]; }
check "the daemon closed every attacker's connection" wait_for "$(scaled 5)" fds_back

# ------------------------------------------- (b) 3 000 idle root connections
(ulimit -n 8192 && exec "$TOOLS/ipc_attack" hold -n 3000 -t 3600 -R "$TMP/idle.report" "$SOCK") \
    >"$TMP/idle.out" 2>&1 &
IDLE=$!
RECV_PIDS+=("$IDLE")
most=0
all_connected() { [ "$(field connects "$TMP/idle.report")" = 3000 ]; }
for ((i = 0; i < 100 * TIME_SCALE; i++)); do
    n=$(nfds)
    [ "$n" -gt "$most" ] && most=$n
    [ "$n" -le "$FD_LIMIT" ] || fail "with 3 000 idle root connections the daemon holds $n descriptors (limit $FD_LIMIT)"
    all_connected && break
    sleep 0.1
done
all_connected || fail "3 000 connections were not made: $(cat "$TMP/idle.report" "$TMP/idle.out" 2>&1)"
say "ok: 3 000 idle root connections made; the daemon held at most $most descriptors (limit $FD_LIMIT)"
check "the daemon closes the silent connections it accepted" wait_for "$(scaled 15)" fds_back
alive "$IDLE" || fail "the idle client exited early: $(cat "$TMP/idle.out")"
out=$(timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" show 2>&1) || fail "root's show with 3 000 connections held: $out"
[ "$out" = "$ROUTE_ROW" ] || fail "root's show with 3 000 connections held: '$out'"
say "ok: root's show works while 3 000 connections are held: $(head -n 1 "$TMP/idle.report")"
kill -TERM "$IDLE" 2>/dev/null
wait "$IDLE" 2>/dev/null
RECV_PIDS=()

# ------------------------------------------------------------- afterwards
alive "$PID0" || fail "the daemon (pid $PID0) is gone"
check "daemon back to $FDS0 descriptors" wait_for "$(scaled 5)" fds_back
expect_forward v4 225.1.2.3 rcv1 10
check "kernel MFC holds just the configured route" test "$(mfc_count 4)" = 1
check_not "daemon log has no sanitizer report" grep -Eq 'Sanitizer|runtime error:' "$LOG"
pass

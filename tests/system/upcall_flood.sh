#!/bin/bash
# A flood of new sources (thousands of distinct forged source addresses to a
# group a (*,G) rule covers, each a NOCACHE upcall) is absorbed with bounded
# memory: with --max-learned 200 the daemon learns at most 200 entries,
# refuses the rest (counted, logged rate-limited as "learned-route limit 200
# reached: refused K new sources"), its VmRSS stays bounded, a static (S,G)
# route keeps forwarding and show keeps answering. flush makes room again.
. "$(dirname "$0")/lib.sh"
# Under AddressSanitizer freed memory sits in a quarantine and would read as growth.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
[ -x "$TOOLS/burst_send" ] || fail "$TOOLS/burst_send missing (build the test tools)"
topo
CAP=200
write_conf <<'CONF'
mroute from a1 group 225.5.0.0/16 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
CONF
start_daemon --max-learned "$CAP" -c 0
PID0=$DAEMON_PID
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID0/status"; }
RSS0=$(rss_kb)
say "VmRSS before the flood: $RSS0 kB"

# Resolved kernel entries for 225.5.0.0/16 (the learned ones; stop filters
# would be counted too).
learned_in_kernel() {
    awk -v le="$HOST_LE" 'NR > 1 && $3 != "-1" {
            g = toupper($1)
            hi = le ? substr(g, 7, 2) substr(g, 5, 2) : substr(g, 1, 2) substr(g, 3, 2)
            if (hi == "E105") n++
        } END { print n + 0 }' /proc/net/ip_mr_cache
}

check "static (S,G) forwards before the flood" expect_forward v4 225.1.2.3 rcv1 10

# 2 000 distinct sources at ~20 000/s, then 3 000 more: far past the cap.
# The kernel queues at most 10 unresolved (S,G) at once and drops the rest
# without an upcall, so several rounds make sure the cap is reached.
SENT=0
for round in 1 2 3 4 5; do
    out=$(nsx snd "$TOOLS/burst_send" -g 225.5.1.1 -S "10.$((100 + round)).0.1" -N 2000 -i eth0 -r 20000) \
        || fail "burst_send failed: $out"
    SENT=$((SENT + 2000))
    alive "$PID0" || fail "daemon died during the flood (round $round)"
    n=$(learned_in_kernel)
    say "round $round: $SENT sources sent, $n learned entries in the kernel, VmRSS $(rss_kb) kB"
    [ "$n" -ge "$CAP" ] && break
done
sleep 0.5
alive "$PID0" || fail "daemon died after the flood"
N=$(learned_in_kernel)
say "learned entries in the kernel: $N (cap $CAP)"
[ "$N" -le "$CAP" ] || fail "$N learned entries in the kernel, more than --max-learned $CAP"
[ "$N" -ge $((CAP / 2)) ] || fail "only $N learned entries: the flood did not reach the daemon"
say "ok: at most $CAP learned entries in the kernel"

# More new sources past the cap: refused and logged.
out=$(nsx snd "$TOOLS/burst_send" -g 225.5.1.1 -S 10.120.0.1 -N 500 -i eth0 -r 5000) || fail "burst_send failed: $out"
check "refusal logged" wait_for 5 grep -q "learned-route limit $CAP reached: refused [0-9]* new sources" "$TMP/daemon.log"
say "log: $(grep -m1 'learned-route limit' "$TMP/daemon.log")"
N=$(learned_in_kernel)
[ "$N" -le "$CAP" ] || fail "$N learned entries in the kernel after more sources, more than $CAP"
COUNT=$(timeout 10 "$BIN/smcroutectl" -j show | grep -o '"kind": "learned"' | wc -l)
say "show lists $COUNT learned entries"
[ "$COUNT" -le "$CAP" ] || fail "show lists $COUNT learned entries, more than $CAP"

RSS1=$(rss_kb)
say "VmRSS after the flood: $RSS1 kB (before: $RSS0 kB)"
[ $((RSS1 - RSS0)) -lt $((64 * 1024)) ] || fail "daemon VmRSS grew from $RSS0 kB to $RSS1 kB (> +64 MiB)"
say "ok: VmRSS grew by less than 64 MiB"

check "show still answers" ctl_answers
check "static (S,G) still forwards to rcv1 after the flood" expect_forward v4 225.1.2.3 rcv1 10
expect_recv rcv2 10

# flush frees the table; new sources are learned again (after the kernel's
# unanswered entries expire, at most ~10 s).
check "flush" ctl flush
learn_one() {
    nsx snd "$TOOLS/burst_send" -g 225.5.1.1 -S 10.130.0.1 -N 5 -i eth0 >/dev/null || return 1
    [ "$(learned_in_kernel)" -ge 1 ]
}
check "a new source is learned again after flush" wait_for 15 learn_one
alive "$PID0" || fail "daemon died"
pass

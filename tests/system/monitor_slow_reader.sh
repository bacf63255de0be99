#!/bin/bash
# A monitor that never reads (a python client: it sends the monitor request
# and sleeps) costs the daemon bounded memory and holds up nothing: while
# tens of thousands of events (flush in a batch) are published, a static
# route keeps forwarding every datagram, `show` answers at once, a reading
# monitor sees every event, and the daemon's VmRSS (unsanitized build) stays
# within 1.5 MiB after the stuck monitor's queue is full (keeping the
# 20000 events it misses would take some 3 MB). When the slow
# monitor finally reads, what it gets plus the counts in its events_dropped
# lines is exactly every event published meanwhile, in order.
. "$(dirname "$0")/lib.sh"
topo
one_route_conf
use_plain_daemon
start_daemon
plain_daemon_runs
PID0=$DAEMON_PID
SOCK=/run/smcroute.sock
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID0/status"; }

# The never-reading monitor: a small receive buffer, the request, then
# nothing until $TMP/go exists; then it reads to the end and reports.
cat >"$TMP/slowmon.py" <<'PY'
import os, socket, struct, sys, time
sock, ready, go, out = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sock)
arg = b"monitor"
body = struct.pack(">IH", 0, 1) + struct.pack(">H", len(arg)) + arg
s.sendall(struct.pack(">IIHH", 0x534D4352, len(body), 1, 1) + body)
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.1)
s.settimeout(5)
buf = b""
rows = []
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while len(buf) >= 12:
            magic, n, t, v = struct.unpack(">IIHH", buf[:12])
            if len(buf) < 12 + n:
                break
            if t == 2:
                rows.append(buf[12:12 + n].decode())
            buf = buf[12 + n:]
except socket.timeout:
    pass
with open(out, "w") as f:
    f.write("\n".join(rows) + "\n")
PY
python3 "$TMP/slowmon.py" "$SOCK" "$TMP/slow.ready" "$TMP/go" "$TMP/slow.rows" &
SLOW=$!
RECV_PIDS+=("$SLOW")
check "the slow monitor connected" wait_for 10 test -e "$TMP/slow.ready"
"$BIN/smcroutectl" monitor >"$TMP/reader.txt" 2>"$TMP/reader.err" &
READER=$!
RECV_PIDS+=("$READER")
check "the reading monitor subscribed" wait_for 10 grep -q monitor_started "$TMP/reader.txt"

# flushes N: N flush requests in one batch (one event each).
flushes() {
    local n=$1 t0=$SECONDS
    local i lines=""
    for ((i = 0; i < n; i++)); do lines+="flush"$'\n'; done
    timeout $((120 * TIME_SCALE)) "$PROBE_BIN/smcroutectl" -b <<<"$lines" >"$TMP/batch.out" 2>&1 \
        || fail "a batch of $n flushes failed: $(head -5 "$TMP/batch.out")"
    say "$n flushes in about $((SECONDS - t0)) s"
}
# Fill the slow monitor's socket and queue (1024 lines), and warm up.
flushes 5000
# seen_all N: the reading monitor has N flushes, as lines or counted drops.
seen_all() {
    awk -v want="$1" '$2 == "flushed" { n++ } $2 == "events_dropped" { sub("count=", "", $3); n += $3 }
        END { exit !(n >= want) }' "$TMP/reader.txt"
}
check "the reading monitor saw 5000 flushes" wait_for 20 seen_all 5000
RSS0=$(rss_kb)
say "VmRSS with the slow monitor's queue full: $RSS0 kB"

# While it is stuck: more events, forwarding and show go on.
flushes 20000 &
BATCH=$!
check "show answers while the slow monitor is stuck" eval "timeout $((2 * TIME_SCALE)) '$BIN/smcroutectl' show | grep -q 225.1.2.3"
RECEIVERS=rcv1
check "the static route forwards every datagram meanwhile" expect_forward v4 225.1.2.3 rcv1 20
wait "$BATCH" || fail "the second batch failed"
check "the reading monitor saw all 25000" wait_for 30 seen_all 25000
say "reading monitor: $(grep -c ' flushed count=0$' "$TMP/reader.txt") lines, drop notices: $(grep -c events_dropped "$TMP/reader.txt")"
RSS1=$(rss_kb)
say "VmRSS after 20000 more events: $RSS1 kB (before: $RSS0 kB)"
[ $((RSS1 - RSS0)) -lt 1536 ] || fail "daemon VmRSS grew from $RSS0 kB to $RSS1 kB with a monitor that never reads"
say "ok: VmRSS grew by $((RSS1 - RSS0)) kB"
alive "$SLOW" || fail "the slow monitor's client died"

# Now it reads: every event is there or counted as dropped.
touch "$TMP/go"
wait "$SLOW" || fail "the slow monitor's client failed"
python3 - "$TMP/slow.rows" <<'PY' || fail "the slow monitor's lines do not add up"
import re, sys
rows = [r for r in open(sys.argv[1]).read().split("\n") if r]
assert rows[0].split()[1] == "monitor_started", rows[0]
flushed = dropped = notices = 0
for r in rows[1:]:
    ev = r.split()[1]
    if ev == "flushed":
        flushed += 1
    elif ev == "events_dropped":
        dropped += int(re.search(r"count=(\d+)", r).group(1))
        notices += 1
    else:
        raise SystemExit("unexpected line: " + r)
print(f"slow monitor: {flushed} lines, {dropped} dropped in {notices} notices")
assert notices >= 1, "never told of drops"
assert flushed + dropped == 25000, (flushed, dropped)
PY
say "$(grep -c flushed "$TMP/slow.rows") flushed lines; notices: $(grep events_dropped "$TMP/slow.rows" | head -3 | tr '\n' ' ')"
check "show still answers" ctl_answers
pass

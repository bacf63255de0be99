#!/bin/bash
# Floods of valid IPC requests never deadlock or bloat the daemon (DESIGN §5),
# while it forwards an (S,G) route:
#  (a) 10 000 requests (show, and add/remove of a second route) through
#      "smcroutectl -b", and 10 000 frames pipelined on one connection by a
#      client that reads its replies concurrently: every request answered,
#      the daemon alive, VmRSS grown by less than 50 MB, the route forwards;
#  (b) with 5 000 routes, a client pipelining "show" requests that never
#      reads: other clients are still answered (the first while that client
#      is still held; each within 2 s, times TIME_SCALE), and the daemon
#      drops that client (output cap or idle timeout, logged) and closes
#      its socket;
#  (c) 200 clients connected at once, each sending a request and reading:
#      all are answered.
. "$(dirname "$0")/lib.sh"
# Under AddressSanitizer freed memory sits in a quarantine (256 MB by
# default) and would read as growth; a small one keeps the RSS bound below
# meaningful. A build without ASan ignores this.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
SOCK=/run/smcroute.sock

topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
start_daemon
PID0=$DAEMON_PID
LOG=$TMP/daemon.log
check "kernel MFC has (10.0.1.2, 225.1.2.3) after start-up" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1 10

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID0/status"; }
nfds() { find "/proc/$PID0/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
still_alive() { alive "$PID0" || fail "daemon (pid $PID0) died after: $1"; }
FDS0=$(nfds)

# A small client speaking the frame protocol (DESIGN §5; see also
# tests/tools/ipc_raw.py): magic "SMCR", body length, type, version;
# request body: flags u32, argc u16, then (len u16, bytes) per argument.
FLOOD=$TMP/flood.py
cat >"$FLOOD" <<'PY'
import select, socket, struct, sys, threading, time

MAGIC, VERSION = 0x534D4352, 1

def request(args):
    body = struct.pack(">IH", 0, len(args))
    for a in args:
        b = a.encode()
        body += struct.pack(">H", len(b)) + b
    return struct.pack(">IIHH", MAGIC, len(body), 1, VERSION) + body

def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

class Reader:
    """Parses reply frames; counts rows and END frames by status."""
    def __init__(self):
        self.buf = b""; self.rows = 0; self.ok = 0; self.err = 0; self.junk = None
    def feed(self, chunk):
        self.buf += chunk
        while len(self.buf) >= 12 and self.junk is None:
            magic, length, ftype, version = struct.unpack(">IIHH", self.buf[:12])
            if magic != MAGIC or version != VERSION or length > 65536:
                self.junk = self.buf[:12].hex(); return
            if len(self.buf) < 12 + length:
                return
            body, self.buf = self.buf[12:12 + length], self.buf[12 + length:]
            if ftype == 2:
                self.rows += 1
            elif ftype == 3:
                (status,) = struct.unpack(">I", body[:4])
                if status == 0: self.ok += 1
                else:
                    self.err += 1
                    if self.err <= 3: print("error reply:", status, body[4:].decode(errors="replace"), flush=True)
            else:
                self.junk = f"type {ftype}"
    def ends(self):
        return self.ok + self.err

def pipeline(path, n, timeout):
    # n frames on one connection, sent by a thread while this one reads.
    frames = []
    for i in range(n):
        k = i % 4
        if k == 1: frames.append(request(["add", "a1", "10.0.1.2", "225.1.2.9", "b2"]))
        elif k == 3: frames.append(request(["remove", "a1", "10.0.1.2", "225.1.2.9"]))
        else: frames.append(request(["show"]))
    data = b"".join(frames)
    s = connect(path)
    sent = {"err": None}
    def sender():
        try:
            s.sendall(data)
        except OSError as e:
            sent["err"] = repr(e)
    t = threading.Thread(target=sender, daemon=True)
    t0 = time.monotonic()
    t.start()
    r = Reader()
    end = "TIMEOUT"
    # The socket stays blocking: a timeout set on it would apply to the
    # sender thread's sendall too, and a daemon busy for a second (a loaded
    # emulated VM) would then cut the request stream mid-frame. The reader
    # waits with select instead.
    while time.monotonic() - t0 < timeout:
        if not select.select([s], [], [], 1.0)[0]:
            continue
        try:
            chunk = s.recv(1 << 16)
        except ConnectionResetError:
            end = "RESET"; break
        if not chunk:
            end = "EOF"; break
        r.feed(chunk)
        if r.junk or r.ends() >= n:
            end = "DONE" if not r.junk else "JUNK " + r.junk
            break
    ms = int((time.monotonic() - t0) * 1000)
    print(f"pipeline sent {n} frames ({len(data)} bytes), ends {r.ends()} ok {r.ok} err {r.err} "
          f"rows {r.rows} end {end} send_error {sent['err']} in {ms} ms", flush=True)

def noread(path, n, ready, secs):
    # Pipelines n "show" requests and never reads a byte of the replies.
    s = connect(path)
    data = request(["show"]) * n
    res = {"err": None, "done": False}
    def sender():
        try:
            s.sendall(data); res["done"] = True
        except OSError as e:
            res["err"] = repr(e)
    threading.Thread(target=sender, daemon=True).start()
    open(ready, "w").close()
    time.sleep(secs)
    print(f"noread sent_all {res['done']} send_error {res['err']}", flush=True)

def many(path, n, timeout):
    socks = []
    for _ in range(n):
        socks.append(connect(path))
    for s in socks:
        s.sendall(request(["show"]))
    t0 = time.monotonic()
    answered = 0; bad = 0
    for s in socks:
        r = Reader()
        s.settimeout(max(0.1, timeout - (time.monotonic() - t0)))
        try:
            while r.ends() == 0 and not r.junk:
                chunk = s.recv(1 << 16)
                if not chunk: break
                r.feed(chunk)
        except OSError:
            pass
        if r.ok == 1 and r.rows >= 1: answered += 1
        else: bad += 1
    for s in socks: s.close()
    print(f"many connected {len(socks)} answered {answered} bad {bad} "
          f"in {int((time.monotonic() - t0) * 1000)} ms", flush=True)

cmd = sys.argv[1]
if cmd == "pipeline": pipeline(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
elif cmd == "noread": noread(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
elif cmd == "many": many(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
else: raise SystemExit("usage")
PY

ROUTE_ROW='(10.0.1.2, 225.1.2.3)  a1  active  b1'
only_route() {
    local out
    out=$(timeout 5 "$BIN/smcroutectl" show 2>&1) || fail "smcroutectl show failed after: $1 -- $out"
    [ "$out" = "$ROUTE_ROW" ] || fail "show after $1: want '$ROUTE_ROW', got '$(echo "$out" | head -n 5)'"
}

# ------------------------------------------------ (a) 10 000 valid requests
# Per 4 requests: show, add 225.1.2.9, show (2 rows), remove 225.1.2.9.
RSS0=$(rss_kb)
say "VmRSS before the floods: $RSS0 kB"

for round in 1 2 3; do
    awk 'BEGIN { for (i = 0; i < 10000; i++) {
            k = i % 4
            if (k == 1) print "add a1 10.0.1.2 225.1.2.9 b2"
            else if (k == 3) print "remove a1 10.0.1.2 225.1.2.9"
            else print "show"
        } }' >"$TMP/batch.txt"
    t0=$(now_ms)
    timeout 120 "$BIN/smcroutectl" -b <"$TMP/batch.txt" >"$TMP/batch.out" 2>&1
    rc=$?
    t1=$(now_ms)
    [ "$rc" = 0 ] || fail "round $round: smcroutectl -b with 10 000 lines: exit $rc: $(grep -v '^(' "$TMP/batch.out" | head -n 5)"
    rows=$(grep -cF '(10.0.1.2, 225.1.2.3)' "$TMP/batch.out")
    [ "$rows" = 5000 ] || fail "round $round: want 5000 route rows from 5000 show lines, got $rows"
    say "ok: round $round: smcroutectl -b ran 10 000 requests in $((t1 - t0)) ms (VmRSS $(rss_kb) kB)"
    still_alive "smcroutectl -b round $round"

    t0=$(now_ms)
    out=$(timeout 120 python3 "$FLOOD" pipeline "$SOCK" 10000 90 2>&1) || fail "round $round: pipelining client failed: $out"
    t1=$(now_ms)
    say "$out"
    [[ $out == *"ends 10000 ok 10000 err 0 rows 7500 end DONE send_error None"* ]] \
        || fail "round $round: 10 000 pipelined requests read concurrently: want all answered, got: $out"
    say "ok: round $round: 10 000 pipelined requests answered in $((t1 - t0)) ms (VmRSS $(rss_kb) kB)"
    still_alive "pipelined round $round"
    only_route "round $round"
done
RSS1=$(rss_kb)
say "VmRSS after 60 000 requests: $RSS1 kB (before: $RSS0 kB, +$(( (RSS1 - RSS0) / 1024 )) MB)"
[ $((RSS1 - RSS0)) -lt $((50 * 1024)) ] || fail "daemon VmRSS grew from $RSS0 kB to $RSS1 kB (> +50 MB)"
say "ok: VmRSS grew by less than 50 MB"
check "kernel MFC still has (10.0.1.2, 225.1.2.3)" mfc_forwards 10.0.1.2 225.1.2.3
check_not "kernel MFC has no (10.0.1.2, 225.1.2.9) left" mfc_has 10.0.1.2 225.1.2.9
expect_forward v4 225.1.2.3 rcv1 10

# ----------------------------- (b) a never-reading client, large table
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "add a1 10.0.1.2 225.2.%d.%d b2\n", int(i / 256), i % 256 }' >"$TMP/add5k.txt"
t0=$(now_ms)
must timeout 120 "$BIN/smcroutectl" -b <"$TMP/add5k.txt"
say "5 000 routes added with -b in $(( $(now_ms) - t0 )) ms"
[ "$(mfc_count 4)" = 5001 ] || fail "want 5001 MFC entries, got $(mfc_count 4)"
FDS_BIG=$(nfds)

for round in 1 2; do
    logpos=$(wc -l <"$LOG")
    rm -f "$TMP/noread.ready"
    python3 "$FLOOD" noread "$SOCK" 2000 "$TMP/noread.ready" 40 >"$TMP/noread.out" 2>&1 &
    nr_pid=$!
    RECV_PIDS+=("$nr_pid")
    _wait_ready_files "$TMP/noread.ready" || fail "never-reading client did not start: $(cat "$TMP/noread.out")"
    t_start=$(now_ms)
    # The daemon drops the client: output cap or no progress for 10 s.
    dropped() { tail -n +"$((logpos + 1))" "$LOG" | grep -Eq 'dropping the client|no progress for'; }
    # Others are served meanwhile, however the daemon handles it: the first
    # show must be answered while the never-reading client is still held
    # (a daemon that waited for it would answer only once it is dropped),
    # every show within a limit that follows the kernel's speed.
    limit=$((2 * TIME_SCALE))
    worst=0
    for ((i = 0; i < 10; i++)); do
        t0=$(now_ms)
        n=$(timeout "$limit" "$BIN/smcroutectl" show 2>/dev/null | wc -l)
        rc=$?
        t1=$(now_ms)
        [ "$rc" = 0 ] && [ "$n" = 5001 ] \
            || fail "round $round: show while a client never reads: $n rows (want 5001) in $((t1 - t0)) ms (limit ${limit} s)"
        if [ "$i" = 0 ] && dropped; then
            fail "round $round: the never-reading client was dropped before the first show was answered"
        fi
        [ $((t1 - t0)) -gt "$worst" ] && worst=$((t1 - t0))
        sleep 0.3
    done
    say "ok: round $round: 10 shows of 5001 rows answered while a client never reads (slowest $worst ms)"
    t0=$(now_ms)
    check "round $round: add works meanwhile" timeout "$limit" "$BIN/smcroutectl" add a1 10.0.1.2 225.1.2.9 b2
    check "round $round: remove works meanwhile" timeout "$limit" "$BIN/smcroutectl" remove a1 10.0.1.2 225.1.2.9
    say "add+remove took $(( $(now_ms) - t0 )) ms"
    expect_forward v4 225.1.2.3 rcv1 10
    wait_for 25 dropped || fail "round $round: the never-reading client was not dropped within ~25 s: $(tail -n +"$((logpos + 1))" "$LOG" | tail -n 5)"
    say "ok: round $round: never-reading client dropped (seen $(( $(now_ms) - t_start )) ms after it started): $(tail -n +"$((logpos + 1))" "$LOG" | grep -E -m1 'dropping the client|no progress for' | cut -c1-150)"
    fds_back() { [ "$(nfds)" -le "$FDS_BIG" ]; }
    # The client process is still alive and holds its end: the daemon has
    # closed its own.
    alive "$nr_pid" || say "note: the never-reading client already exited: $(cat "$TMP/noread.out")"
    check "round $round: daemon closed the never-reading client's socket" wait_for 3 fds_back
    kill -TERM "$nr_pid" 2>/dev/null
    wait "$nr_pid" 2>/dev/null
    RECV_PIDS=()
    still_alive "never-reading client round $round"
    say "VmRSS after round $round: $(rss_kb) kB"
done

t0=$(now_ms)
sed 's/^add /remove /; s/ b2$//' "$TMP/add5k.txt" >"$TMP/rm5k.txt"
must timeout 120 "$BIN/smcroutectl" -b <"$TMP/rm5k.txt"
say "5 000 routes removed with -b in $(( $(now_ms) - t0 )) ms"
only_route "removing the 5 000 routes"

# ------------------------------------------------ (c) 200 clients at once
for round in 1 2 3; do
    out=$(timeout 60 python3 "$FLOOD" many "$SOCK" 200 30 2>&1) || fail "round $round: 200 clients: $out"
    say "$out"
    [[ $out == "many connected 200 answered 200 bad 0 "* ]] || fail "round $round: 200 clients at once: want all answered, got: $out"
    say "ok: round $round: 200 clients at once all answered"
    still_alive "200 clients round $round"
done

# ------------------------------------------------------------ afterwards
fds_base() { [ "$(nfds)" -le "$FDS0" ]; }
wait_for 5 fds_base || fail "daemon holds $(nfds) descriptors, $FDS0 at the start (leaked client sockets?)"
say "ok: daemon back to $FDS0 descriptors"
RSS2=$(rss_kb)
say "VmRSS at the end: $RSS2 kB (start $RSS0 kB)"
only_route "all floods"
check "kernel MFC holds just the configured route" test "$(mfc_count 4)" = 1
expect_forward v4 225.1.2.3 rcv1 10
check_not "daemon log has no sanitizer report" grep -Eq 'Sanitizer|runtime error:' "$LOG"
pass

#!/bin/bash
# Issue 13, finding 2 (c): with -p USER, USER must not be able to put a
# socket of its own where root's client looks for the daemon. Performed for
# real: while the daemon runs with -p nobody, a process of nobody removes
# the live socket /run/smcroute/smcroute.sock and binds an impostor there
# (and, failing that, at /run/smcroute.sock, the path clients try first)
# that answers every request "END 0" and records it. Then root runs
# "smcroutectl add": it must reach the real daemon (the route is in the
# kernel's MFC and forwards), and the impostor must have received nothing.
# The same after the daemon has stopped (its socket is left behind, dead):
# nobody still cannot take the path, and root's client fails instead of
# talking to anyone else. And where an older smcroute left the runtime
# directory to nobody, so that nobody's impostor does sit there, root's
# client refuses to use that directory (and says why) until a new start
# takes it back, removing the impostor's socket.
. "$(dirname "$0")/lib.sh"
nobody_setup
topo
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
one_route_conf

RD=/run/smcroute
SOCK=$RD/smcroute.sock
IMP=$TMP/impostor
mkdir -p "$IMP" && must chown nobody:"$NOGROUP" "$IMP"
cat >"$IMP/impostor.py" <<'PY'
# impostor.py SOCKET... : take the first SOCKET path that can be taken
# (removing what is there), answer every request with END 0 and log it.
import os, socket, struct, sys
log = open(sys.argv[1], "a", buffering=1)
srv = None
for path in sys.argv[2:]:
    try:
        os.unlink(path)
        log.write(f"removed {path}\n")
    except OSError as e:
        log.write(f"cannot remove {path}: {e.strerror}\n")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(path)
        s.listen(8)
    except OSError as e:
        log.write(f"cannot bind {path}: {e.strerror}\n")
        s.close()
        continue
    log.write(f"LISTENING {path}\n")
    srv = s
    break
open(sys.argv[1] + ".ready", "w").close()
if srv is None:
    sys.exit(0)
while True:
    c, _ = srv.accept()
    data = b""
    while len(data) < 12 or len(data) < 12 + struct.unpack(">I", data[4:8])[0]:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    args, at = [], 18
    if len(data) >= 18:
        for _ in range(struct.unpack(">H", data[16:18])[0]):
            n = struct.unpack(">H", data[at:at + 2])[0]
            args.append(data[at + 2:at + 2 + n].decode(errors="replace"))
            at += 2 + n
    log.write("GOT REQUEST: " + " ".join(args) + "\n")
    body = struct.pack(">I", 0)
    c.sendall(struct.pack(">IIHH", 0x534D4352, len(body), 3, 1) + body)
    c.close()
PY
chmod 0644 "$IMP/impostor.py"

# impostor LABEL: run the impostor as nobody; returns once it has tried.
impostor() {
    rm -f "$IMP/log" "$IMP/log.ready"
    "${AS_NOBODY[@]}" python3 "$IMP/impostor.py" "$IMP/log" "$SOCK" /run/smcroute.sock &
    IMPOSTOR=$!
    RECV_PIDS+=("$IMPOSTOR")
    wait_for $((10 * TIME_SCALE)) test -e "$IMP/log.ready" || fail "$1: the impostor did not start"
    say "$1: impostor (as nobody): $(tr '\n' ';' <"$IMP/log")"
}

no_request_reached_the_impostor() {
    if grep -q 'GOT REQUEST' "$IMP/log"; then
        fail "$1: root's smcroutectl talked to nobody's impostor: $(grep 'LISTENING\|GOT REQUEST' "$IMP/log" | tr '\n' ';')"
    fi
    say "ok: $1: the impostor received nothing"
}

# ---- while the daemon runs
start_daemon -p nobody
check "socket $SOCK exists" test -S "$SOCK"
impostor "daemon running"
check "root's smcroutectl add (reaches the daemon)" ctl add a1 10.0.1.2 225.1.2.4 b2
no_request_reached_the_impostor "daemon running"
check "the route of that add is in the kernel" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.4
expect_forward v4 225.1.2.4 rcv2 10
check "the daemon's socket is still in place" test -S "$SOCK"
check "and still answers" ctl_answers
kill "$IMPOSTOR" 2>/dev/null

# ---- after the daemon has stopped: its socket is left, dead
stop_daemon
impostor "daemon stopped"
rc=0
out=$(ctl add a1 10.0.1.2 225.1.2.5 b2 2>&1) || rc=$?
say "root's smcroutectl add with no daemon: exit $rc: $out"
no_request_reached_the_impostor "daemon stopped"
[ "$rc" != 0 ] || fail "smcroutectl add exited 0 with no daemon running: $out"
kill "$IMPOSTOR" 2>/dev/null

# ---- an older smcroute left the runtime directory to nobody; no daemon runs
must chown nobody:"$NOGROUP" "$RD"
impostor "directory left to nobody"
check "precondition: the impostor listens in $RD" grep -q "LISTENING $SOCK" "$IMP/log"
rc=0
out=$(ctl add a1 10.0.1.2 225.1.2.6 b2 2>&1) || rc=$?
say "root's smcroutectl add: exit $rc: $out"
no_request_reached_the_impostor "directory left to nobody"
[ "$rc" != 0 ] || fail "smcroutectl add exited 0 with only an impostor there: $out"
check "the client says why it does not use $SOCK" grep -q "not using $SOCK: directory $RD belongs to uid $(id -u nobody)" <<<"$out"
# A new start takes the directory back and replaces the impostor's socket.
start_daemon -p nobody
check "runtime directory root's again" test "$(stat -c '%a %U' "$RD")" = "755 root"
check "root's smcroutectl add (reaches the daemon)" ctl add a1 10.0.1.2 225.1.2.6 b2
no_request_reached_the_impostor "after the new start"
check "that route is in the kernel" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.6
kill "$IMPOSTOR" 2>/dev/null
pass

#!/bin/bash
# systemd readiness protocol, written by the daemon itself on $NOTIFY_SOCKET
# (no libsystemd), as Type=notify-reload expects:
#   * READY=1 once started (with a STATUS= line, which counts the config
#     errors of a start with the valid lines);
#   * on every reload (SIGHUP, smcroutectl reload, and also a refused one):
#     RELOADING=1 with MONOTONIC_USEC=<CLOCK_MONOTONIC now, in µs> first,
#     then READY=1 when done;
#   * STOPPING=1 on SIGTERM, before the daemon exits 0.
# Works with a path and with an abstract ("@name") socket. A python3 listener
# plays systemd: one line per datagram, newlines shown as '|', prefixed with
# its own CLOCK_MONOTONIC receive time in µs.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"

LISTENER=$TMP/listen.py
cat >"$LISTENER" <<'PY'
import socket, sys, time
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".ready", "w").close()
with open(out, "a", buffering=1) as f:
    while True:
        data = s.recv(65536).decode(errors="replace")
        f.write("%d %s\n" % (time.monotonic_ns() // 1000, data.replace("\n", "|")))
PY

LISTEN_PID=
listen() { # listen ADDR OUT
    rm -f "$2" "$2.ready"
    python3 "$LISTENER" "$1" "$2" &
    LISTEN_PID=$!
    wait_for 5 test -e "$2.ready" || fail "notify listener did not start"
}
msgs() { [ -e "$OUT" ] && cut -d' ' -f2- "$OUT"; }
count() { msgs | grep -c -- "$1"; }
has() { [ "$(count "$1")" -ge "$2" ]; }

topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF

# ---- path socket
OUT=$TMP/notify.out
listen "$TMP/notify.sock" "$OUT"
NOTIFY_SOCKET=$TMP/notify.sock start_daemon
check "READY=1 after start" wait_for 5 has '^READY=1' 1
[ "$(count 'RELOADING=1')" = 0 ] || fail "RELOADING before any reload: $(msgs)"
check "a STATUS= line" eval "msgs | grep -q 'STATUS=.'"
check "routes in place when READY=1 was sent" mfc_forwards 10.0.1.2 225.1.2.3

# check_reload N: the N-th RELOADING=1 carries a fresh MONOTONIC_USEC and is
# followed by READY=1.
check_reload() {
    local n=$1 line recv usec
    wait_for 5 has 'RELOADING=1' "$n" || fail "no RELOADING=1 #$n: $(msgs)"
    line=$(grep -- 'RELOADING=1' "$OUT" | sed -n "${n}p")
    recv=${line%% *}
    usec=$(echo "$line" | tr '|' '\n' | sed -n 's/^MONOTONIC_USEC=//p')
    case "$usec" in ''|*[!0-9]*) fail "RELOADING=1 without MONOTONIC_USEC: '$line'" ;; esac
    local diff=$((recv - usec))
    [ "$diff" -ge 0 ] && [ "$diff" -lt 2000000 ] \
        || fail "MONOTONIC_USEC=$usec is not CLOCK_MONOTONIC at send time (received at $recv)"
    # READY=1 after this RELOADING=1
    wait_for 5 eval "msgs | awk '/RELOADING=1/ { r++ } r == $n && /^READY=1/ { f = 1 } END { exit !f }'" \
        || fail "no READY=1 after RELOADING=1 #$n: $(msgs)"
    say "ok: reload #$n: RELOADING=1 MONOTONIC_USEC=$usec, then READY=1"
}

kill -HUP "$DAEMON_PID"
check_reload 1
check "smcroutectl reload" ctl reload
check_reload 2
echo "mroute from a1 sorce 10.0.1.2 group 225.1.2.4 to b1" >>"$CONF"
check_not "reload of a bad config fails" ctl reload
check_reload 3
check "daemon still answers" ctl_answers
[ "$(count 'STOPPING=1')" = 0 ] || fail "STOPPING=1 before stop: $(msgs)"
stop_daemon
check "STOPPING=1 on SIGTERM" wait_for 5 has '^STOPPING=1' 1
last=$(msgs | grep -E '^(READY|RELOADING|STOPPING)=1' | tail -n 1)
case "$last" in STOPPING=1*) ;; *) fail "last state message is '$last', want STOPPING=1" ;; esac
kill "$LISTEN_PID" 2>/dev/null; wait "$LISTEN_PID" 2>/dev/null

# ---- abstract socket; a start with the bad line still in the config
# starts with the valid lines and says so in its STATUS=.
OUT=$TMP/notify-abstract.out
listen "@smct-notify-$$" "$OUT"
NOTIFY_SOCKET="@smct-notify-$$" start_daemon
check "READY=1 on an abstract socket" wait_for 5 has '^READY=1' 1
check "STATUS= names the config error" eval "msgs | grep -q '^READY=1|STATUS=ready, 1 route(s) from .*, 1 config error(s)'"
stop_daemon
check "STOPPING=1 on an abstract socket" wait_for 5 has '^STOPPING=1' 1
kill "$LISTEN_PID" 2>/dev/null; wait "$LISTEN_PID" 2>/dev/null
pass

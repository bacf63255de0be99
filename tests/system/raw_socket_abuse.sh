#!/bin/bash
# Raw bytes on the IPC socket never harm the daemon (DESIGN §5): garbage,
# frame headers declaring length 0, 65537, 16 MiB and UINT32_MAX, a wrong
# magic, type or version, malformed request bodies (an empty argument among
# them) each get an END frame
# with an error status and the connection is closed; a client that says
# nothing, or stalls in the middle of a frame, does not stall other clients
# or forwarding; clients that hang up before reading their reply, and 200
# clients at once, are survived. Afterwards the daemon runs (same pid, no
# leaked descriptors, no sanitizer report) and its route still forwards.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not found (needed by tests/tools/ipc_raw.py)"
IPC_RAW=$(dirname "$(readlink -f "$0")")/../tools/ipc_raw.py
[ -r "$IPC_RAW" ] || fail "$IPC_RAW missing"
SOCK=/run/smcroute.sock
M=0x534d4352 # frame magic "SMCR"

topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
start_daemon
check "kernel MFC has (10.0.1.2, 225.1.2.3) after start-up" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1 10
PID0=$DAEMON_PID
ROUTE_ROW='(10.0.1.2, 225.1.2.3)  a1  active  b1'

nfds() { find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
FDS0=$(nfds)
say "daemon holds $FDS0 descriptors"

# One ipc_raw.py runs every exchange and hang-up (a python start takes
# seconds under software emulation); each still opens a connection of its
# own. serve LINE: one line for it; its report (without the "= OK" line)
# in $OUT; at most 20 s.
coproc RAWSRV { exec python3 "$IPC_RAW" serve 2>&1; }
RECV_PIDS+=("$RAWSRV_PID") # so that cleanup kills it whatever happens
serve() {
    local line deadline=$((SECONDS + 20))
    printf '%s\n' "$1" >&"${RAWSRV[1]}" || fail "ipc_raw.py serve is gone (before: $1)"
    OUT=""
    while ((SECONDS <= deadline)); do
        IFS= read -r -t 20 line <&"${RAWSRV[0]}" || break
        case "$line" in
        "= OK") OUT=${OUT%$'\n'}; return 0 ;;
        "= FAIL"*) fail "ipc_raw.py $1 failed: $OUT${line#= }" ;;
        esac
        OUT+="$line"$'\n'
    done
    fail "ipc_raw.py $1: no end of its report within 20 s: $OUT"
}

# raw [--ends N] PIECES...: one exchange with ipc_raw.py; its report (one line
# per reply frame, then EOF/RESET/TIMEOUT/DONE) in $OUT.
raw() {
    local opts=(--timeout 5)
    if [ "$1" = --ends ]; then opts+=(--ends "$2"); shift 2; fi
    serve "${opts[*]} exchange $SOCK $*"
}

# The daemon still runs and answers show with its route (asked by the
# unsanitized client: an instrument here).
alive_and_answering() {
    alive "$PID0" || fail "daemon (pid $PID0) died after: $1"
    local out
    out=$(timeout 5 "$PROBE_BIN/smcroutectl" show 2>&1) || fail "smcroutectl show failed after: $1 -- $out"
    [ "$out" = "$ROUTE_ROW" ] || fail "smcroutectl show after: $1 -- want '$ROUTE_ROW', got '$out'"
}

# rejected DESC PIECES...: the daemon answers with one END frame carrying a
# non-zero status and a message, sends nothing else, and closes.
rejected() {
    local what=$1; shift
    raw "$@"
    local first=${OUT%%$'\n'*} last=${OUT##*$'\n'} n=0 rows=0 l
    while IFS= read -r l; do
        [[ $l == "END "* ]] && n=$((n + 1))
        [[ $l == "ROW "* ]] && rows=$((rows + 1))
    done <<<"$OUT"
    [[ $first =~ ^END\ [1-9][0-9]*\ .+ ]] \
        || fail "$what: want an END frame with an error status and a message first, got: $(echo "$OUT" | tr '\n' '|')"
    if [ "$n" != 1 ] || [ "$rows" != 0 ]; then
        fail "$what: want exactly one END frame and no rows, got: $(echo "$OUT" | tr '\n' '|')"
    fi
    [ "$last" = EOF ] || [ "$last" = RESET ] \
        || fail "$what: the daemon did not close the connection: $(echo "$OUT" | tr '\n' '|')"
    say "ok: $what -> ${first:0:100}, closed"
    alive_and_answering "$what"
}

# refused DESC PIECES...: a well-formed request the daemon refuses: one END
# with an error status and a message (the connection may stay open).
refused() {
    local what=$1; shift
    raw --ends 1 "$@"
    local first=${OUT%%$'\n'*}
    [[ $first =~ ^END\ [1-9][0-9]*\ .+ ]] \
        || fail "$what: want an END frame with an error status and a message, got: $(echo "$OUT" | tr '\n' '|')"
    say "ok: $what -> ${first:0:100}"
    alive_and_answering "$what"
}

# ------------------------------------------------------------ sanity first
raw --ends 1 req:show
[ "$OUT" = "ROW $ROUTE_ROW
END 0 
DONE" ] || fail "a valid raw show request: unexpected reply: $(echo "$OUT" | tr '\n' '|')"
say "ok: raw show request answered with the route row and END 0"

# ------------------------------------------------------------ bad frames
rejected "64 bytes of garbage" garbage:64
rejected "wrong magic" "hdr:0x12345678:8:1:1" hex:0000000000000000
rejected "header declaring length 0" "hdr:$M:0:1:1"
rejected "header declaring length 65537" "hdr:$M:65537:1:1"
rejected "header declaring length 16 MiB" "hdr:$M:16777216:1:1"
rejected "header declaring length UINT32_MAX" "hdr:$M:0xffffffff:1:1"
rejected "protocol version 2" "hdr:$M:10:1:2" hex:00000000000100047368
rejected "protocol version 0" "hdr:$M:10:1:0" hex:00000000000100047368
rejected "unknown frame type 7" "hdr:$M:4:7:1" hex:41414141
rejected "a ROW frame from a client" "hdr:$M:4:2:1" hex:41414141
rejected "an END frame from a client" "hdr:$M:4:3:1" hex:00000000

# ------------------------------------------- bad request bodies in good frames
rejected "request with argc 2 but one argument" "hdr:$M:12:1:1" hex:000000000002000473686f77
rejected "argument running past the body" "hdr:$M:10:1:1" hex:00000000000100047368
rejected "request without arguments" "hdr:$M:6:1:1" hex:000000000000
rejected "request with trailing bytes" "hdr:$M:14:1:1" hex:000000000001000473686f77ffff
rejected "NUL byte in an argument" "hdr:$M:12:1:1" hex:0000000000010004730068ff
rejected "add with an empty interface name" "req:add,,10.0.1.2,225.1.2.9,b1"
rejected "add with an empty source" "req:add,a1,,225.1.2.9,b1"
rejected "unknown request flags" "hdr:$M:12:1:1" hex:8000000000010004736f6f77
rejected "request claiming 65535 arguments" "hdr:$M:6:1:1" hex:00000000ffff
rejected "a 64 KiB body of garbage" "hdr:$M:65536:1:1" garbage:65536
oifs=$(printf ',b1%.0s' {1..1030})
rejected "request with 1034 arguments" "req:add,a1,10.0.1.2,225.1.1.9$oifs"

# --------------------- well-formed requests the client would never send
refused "empty verb" "req:"
refused "unknown verb" "req:frobnicate"
refused "add with one word" "req:add,a1"
refused "add with mixed families" "req:add,a1,10.0.1.2,ff0e::1,b1"
refused "add with a /33 group" "req:add,a1,10.0.1.2,225.1.1.0/33,b1"
refused "remove of a route that does not exist" "req:remove,a1,10.0.1.2,225.9.9.9"

# ------------------------------- a valid request followed by garbage
raw req:show garbage:32
[[ $OUT =~ ^"ROW $ROUTE_ROW"$'\n'"END 0 "$'\n'"END "[1-9][0-9]*" ".+$'\n'(EOF|RESET)$ ]] \
    || fail "show + garbage: want the show reply, then an error END, then close; got: $(echo "$OUT" | tr '\n' '|')"
say "ok: show followed by garbage: answered, then rejected and closed"
alive_and_answering "show followed by garbage"
expect_forward v4 225.1.2.3 rcv1 10

# ---------------------------------------- silent and stalled clients
# Each holds its connection for up to 30 s; meanwhile other clients and
# forwarding must not wait for them.
HOLDERS=()
hold() {
    local name=$1; shift
    rm -f "$TMP/$name.ready"
    python3 "$IPC_RAW" hold "$SOCK" "$TMP/$name.ready" 30 "$@" >"$TMP/$name.out" 2>&1 &
    HOLDERS+=($!)
    RECV_PIDS+=($!) # so that cleanup kills it whatever happens
}
hold silent
hold half_header hex:534d4352aa
hold header_only "hdr:$M:100:1:1"
hold half_request half:show,routes
_wait_ready_files "$TMP"/{silent,half_header,header_only,half_request}.ready \
    || fail "stalling clients did not connect: $(cat "$TMP"/*.out)"
t0=$(date +%s%N)
# Within 2 s (times TIME_SCALE, as in ipc_flood: the client's own start
# takes a second of it on a loaded emulated host), far less than the 30 s
# the stalling clients hold on.
out=$(timeout $((2 * TIME_SCALE)) "$BIN/smcroutectl" show 2>&1) \
    || fail "smcroutectl show did not answer within $((2 * TIME_SCALE)) s while 4 clients stall: $out"
t1=$(date +%s%N)
[ "$out" = "$ROUTE_ROW" ] || fail "show while clients stall: got '$out'"
say "ok: show answered in $(( (t1 - t0) / 1000000 )) ms while a silent and 3 half-frame clients stall"
check "add works while clients stall" ctl add a1 10.0.1.2 225.1.2.4 b2
check "kernel MFC has (10.0.1.2, 225.1.2.4)" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.4
expect_forward v4 225.1.2.3 rcv1 10
expect_forward v4 225.1.2.4 rcv2 10
check "remove works while clients stall" ctl remove a1 10.0.1.2 225.1.2.4
kill -TERM "${HOLDERS[@]}" 2>/dev/null
wait "${HOLDERS[@]}" 2>/dev/null
RECV_PIDS=()
alive_and_answering "stalling clients"

# ------------------------------------------- hanging up before the reply
for ((i = 0; i < 20; i++)); do
    serve "hangup $SOCK req:show"
done
alive_and_answering "20 clients that hung up right after a show request"
# 500 requests in one write, then hang up: the daemon writes 500 replies
# into a socket whose peer is gone (EPIPE, never SIGPIPE).
reqs=()
for ((i = 0; i < 500; i++)); do reqs+=("req:show,interfaces"); done
for ((i = 0; i < 5; i++)); do
    serve "hangup $SOCK ${reqs[*]}"
done
alive_and_answering "clients that hung up after 500 pipelined requests"
# A real client killed while it waits for its reply.
for ((i = 0; i < 10; i++)); do
    "$BIN/smcroutectl" show >/dev/null 2>&1 &
    kill -KILL $! 2>/dev/null
    wait $! 2>/dev/null
done
alive_and_answering "smcroutectl killed while waiting for its reply"

# ------------------------------------------------ 200 clients at once
rm -f "$TMP/many.ready"
python3 "$IPC_RAW" many "$SOCK" 200 "$TMP/many.ready" 30 >"$TMP/many.out" 2>&1 &
many_pid=$!
RECV_PIDS+=("$many_pid")
_wait_ready_files "$TMP/many.ready" || fail "200 clients did not connect: $(cat "$TMP/many.out")"
grep -q '^connected 200$' "$TMP/many.out" || fail "200 clients: $(cat "$TMP/many.out")"
out=$(timeout $((2 * TIME_SCALE)) "$BIN/smcroutectl" show 2>&1) \
    || fail "smcroutectl show did not answer within $((2 * TIME_SCALE)) s while 200 other clients are connected: $out"
say "ok: show answered while 200 idle clients are connected"
expect_forward v4 225.1.2.3 rcv1 10
kill -TERM "$many_pid" 2>/dev/null
wait "$many_pid" 2>/dev/null
RECV_PIDS=()
alive_and_answering "200 clients at once"

# ----------------------------------------------------------- afterwards
# Every connection above is gone: the daemon must have closed its side too.
fds_back() { [ "$(nfds)" -le "$FDS0" ]; }
wait_for 5 fds_back \
    || fail "daemon holds $(nfds) descriptors, $FDS0 before the clients came (leaked client sockets?): $(find "/proc/$DAEMON_PID/fd" -mindepth 1 -printf '%f->%l|' 2>&1)"
say "ok: daemon is back to $FDS0 descriptors (no leaked client sockets)"
if [ "$DAEMON_PID" != "$PID0" ] || ! alive "$PID0"; then
    fail "daemon (pid $PID0) is gone"
fi
expect_forward v4 225.1.2.3 rcv1 10
expect_recv rcv2 0
check "kernel MFC still has exactly the configured route" test "$(mfc_count 4)" = 1

# The daemon checks the words of each verb itself, like the client does
# (a raw client bypasses the client's checks).
refused "flush with an extra word" "req:flush,x"
refused "show with two subjects" "req:show,routes,x"

check_not "daemon log has no sanitizer report" grep -Eq 'Sanitizer|runtime error:' "$TMP/daemon.log"
pass

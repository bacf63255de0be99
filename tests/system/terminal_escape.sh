#!/bin/bash
# Strings from the daemon cannot drive the operator's terminal (issue 13,
# finding 8). smcroutectl on a terminal prints every control byte as \xNN:
# in a refusal quoting a bad interface name, and in what an impostor on the
# socket sends (rows and the END message: whatever answers on a socket is
# not trusted to be the daemon). To a pipe the bytes pass as they are, for
# scripts; the daemon's JSON escapes them as \u00NN itself.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null 2>&1 || skip "script(1) not found"
command -v python3 >/dev/null 2>&1 || skip "python3 not found (needed by tests/tools/ipc_raw.py)"
IPC_RAW=$(dirname "$(readlink -f "$0")")/../tools/ipc_raw.py
topo
start_daemon

# on_tty CMD...: CMD with stdout and stderr on a pseudo-terminal.
# script(1) runs the line with $SHELL: bash, for the $'...' quoting of %q.
on_tty() { SHELL=/bin/bash timeout $((10 * TIME_SCALE)) script -qec "$(printf '%q ' "$@")" /dev/null; }
# no_controls TEXT: no byte below 0x20 but TAB, CR and LF (script(1) adds
# the CRs), no DEL, no C1 control (U+0080..U+009F as UTF-8).
no_controls() { ! LC_ALL=C grep -q $'[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]\|\xc2[\x80-\x9f]' <<<"$1"; }

# ---- the daemon refuses a name quoting control bytes
out=$(on_tty "$BIN/smcroutectl" add $'bad\e[2J' 225.1.2.3 b1)
printf '%q\n' "$out"
check "a refusal quoting the name on a terminal: escaped" grep -qF 'bad\x1b[2J' <<<"$out"
check "a refusal quoting the name on a terminal: no raw control byte" no_controls "$out"
out=$(timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" add $'bad\e[2J' 225.1.2.3 b1 2>&1)
check "the same refusal to a pipe: the bytes as they are" grep -qF $'bad\e[2J' <<<"$out"

# ---- an impostor on a socket: rows and messages with escape sequences
EVIL_ROW=$'(10.0.1.2, 225.1.2.3)  a1  active  b1\e]0;owned\a\e[2J\xc2\x9b1;1H'
EVIL_END=$'add: done\e[8m'
IMP=$TMP/impostor.sock
python3 "$IPC_RAW" impostor "$IMP" "$TMP/imp.ready" 3 0 "$EVIL_END" "$EVIL_ROW" &
IMP_PID=$!
check "the impostor listens" wait_for 10 test -e "$TMP/imp.ready"
out=$(on_tty "$BIN/smcroutectl" -u "$IMP" show)
printf '%q\n' "$out"
check "an impostor's row on a terminal: escaped" \
    grep -qF 'b1\x1b]0;owned\x07\x1b[2J\xc2\x9b1;1H' <<<"$out"
check "an impostor's row on a terminal: no raw control byte" no_controls "$out"
out=$(on_tty "$BIN/smcroutectl" -u "$IMP" flush)
printf '%q\n' "$out"
check "an impostor's END message on a terminal: escaped" grep -qF 'add: done\x1b[8m' <<<"$out"
check "an impostor's END message on a terminal: no raw control byte" no_controls "$out"
out=$(timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" -u "$IMP" show) || fail "show from the impostor failed"
check "an impostor's row to a pipe: the bytes as they are" grep -qF "$EVIL_ROW" <<<"$out"
wait "$IMP_PID" || fail "the impostor failed"
pass

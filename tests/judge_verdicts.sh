#!/usr/bin/env bash
# tests/judge_verdicts.sh SMCROUTE CASES_DIR: the real program judges every
# config of the shared table (tests/judge_cases, "# verdict: ok|warning|
# error" on the first line) the same way in all three places:
#   the daemon at start   smcrouted -n -f FILE  (refuses an error: exit 78)
#   -F                    smcrouted -F FILE     (exit 78 for an error)
#   check                 smcroutectl -f FILE check (its config findings)
# and every one bounds what it prints of a 1 MB bad line. It needs no kernel
# that routes multicast: check reports that kernel's support either way, and
# the daemon runs in a private network namespace for at most a few seconds.
set -uo pipefail
smcroute=${1:?usage: judge_verdicts.sh SMCROUTE CASES_DIR}
cases=${2:?usage: judge_verdicts.sh SMCROUTE CASES_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for name in smcrouted smcroutectl; do ln -s "$smcroute" "$tmp/$name"; done
[ "$(id -u)" = 0 ] || fail "needs root (the daemon path runs in a network namespace)"
unshare -n true || fail "unshare -n does not work here"
# Where the daemon starts despite errors unless told to be strict, tell it.
strict=()
"$tmp/smcrouted" -h 2>&1 | grep -q -- '--strict-config' && strict=(--strict-config)

# verdict_of EXIT OUTPUT-FILE CONF: error when refused (78), else warning
# when a warning about a line of CONF was printed, else ok.
verdict_of() {
    if [ "$1" = 78 ]; then echo error
    elif grep -qF -- "$3:" "$2" && grep -F -- "$3:" "$2" | grep -q ': warning: '; then echo warning
    else echo ok; fi
}

n=0
for conf in "$cases"/*.conf; do
    want=$(sed -n '1s/^# verdict: //p' "$conf")
    case $want in ok|warning|error) ;; *) fail "$conf: no '# verdict: ok|warning|error' first line" ;; esac
    base=$(basename "$conf" .conf)

    # -F
    timeout 20 "$tmp/smcrouted" -F "$conf" >"$tmp/F.out" 2>&1; rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 78 ] || fail "$base: smcrouted -F exited $rc: $(cat "$tmp/F.out")"
    got=$(verdict_of "$rc" "$tmp/F.out" "$conf")
    [ "$got" = "$want" ] || fail "$base: -F says $got, the table $want: $(cat "$tmp/F.out")"

    # The daemon at start (in its own network namespace; where the kernel
    # routes multicast an accepted config keeps it running until timeout).
    timeout 20 unshare -n timeout -s TERM 3 "$tmp/smcrouted" -n "${strict[@]}" -f "$conf" -i "judge$n" \
        -u "$tmp/d.sock" -P "$tmp/d.pid" -l notice >"$tmp/d.out" 2>&1; rc=$?
    [ "$want" = error ] && [ "$rc" != 78 ] && fail "$base: the daemon started (exit $rc), want refused (78): $(cat "$tmp/d.out")"
    [ "$want" != error ] && [ "$rc" = 78 ] && fail "$base: the daemon refused the config: $(cat "$tmp/d.out")"
    got=$(verdict_of "$rc" "$tmp/d.out" "$conf")
    [ "$got" = "$want" ] || fail "$base: the daemon says $got, the table $want: $(cat "$tmp/d.out")"

    # check: problems (config errors) and warnings about lines of the file.
    timeout 20 "$tmp/smcroutectl" -u "$tmp/none.sock" -f "$conf" check >"$tmp/c.out" 2>&1; rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "$base: check exited $rc: $(cat "$tmp/c.out")"
    grep -qE '^check: kernel multicast routing: IPv4 (yes|no), IPv6 (yes|no)$' "$tmp/c.out" \
        || fail "$base: check does not report the kernel's support: $(cat "$tmp/c.out")"
    grep -qxF "check: no daemon answers on $tmp/none.sock" "$tmp/c.out" \
        || fail "$base: check does not say that no daemon answers: $(cat "$tmp/c.out")"
    grep -q 'check: no problems found' "$tmp/c.out" \
        && fail "$base: check found no problem with no daemon running: $(cat "$tmp/c.out")"
    if grep -qF "problem: $conf:" "$tmp/c.out"; then got=error
    elif grep -qF "warning: $conf:" "$tmp/c.out"; then got=warning
    else got=ok; fi
    [ "$got" = "$want" ] || fail "$base: check says $got, the table $want: $(cat "$tmp/c.out")"
    echo "ok: $base: $want from -F, the daemon and check"
    n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "only $n cases in $cases"

# A 1 MB bad word, on 50 lines: each place prints a bounded text.
huge=$(head -c 1048576 /dev/zero | tr '\0' x)
{ for i in $(seq 50); do echo "mroute from a1 source 10.0.1.2 group $huge to b1"; done; } >"$tmp/huge.conf"
bounded() { # NAME FILE
    local size; size=$(wc -c <"$2")
    [ "$size" -lt 20000 ] || fail "$1 printed $size bytes for 50 bad 1 MB lines"
    grep -q 'and 30 more (30 error(s), 0 warning(s)) not shown' "$2" || fail "$1 does not count what it left out: $(head -c 3000 "$2")"
    echo "ok: $1 printed $size bytes for 50 bad 1 MB lines"
}
timeout 60 "$tmp/smcrouted" -F "$tmp/huge.conf" >"$tmp/F.out" 2>&1; rc=$?
[ "$rc" = 78 ] || fail "-F of the huge file exited $rc"
bounded "-F" "$tmp/F.out"
timeout 60 unshare -n "$tmp/smcrouted" -n "${strict[@]}" -f "$tmp/huge.conf" -i judgehuge -u "$tmp/d.sock" \
    -P "$tmp/d.pid" >"$tmp/d.out" 2>&1; rc=$?
[ "$rc" = 78 ] || fail "the daemon started on the huge file (exit $rc)"
bounded "the daemon" "$tmp/d.out"
timeout 60 "$tmp/smcroutectl" -u "$tmp/none.sock" -f "$tmp/huge.conf" check >"$tmp/c.out" 2>&1; rc=$?
[ "$rc" = 1 ] || fail "check of the huge file exited $rc"
bounded "check" "$tmp/c.out"
echo "judge verdicts ok: $n cases"

#!/bin/bash
# Bad client requests never harm the daemon (DESIGN §8, validation): every
# malformed add/remove (mixed families, unicast group, multicast source,
# /33, /129, 33 OIFs, unknown IIF/OIF, missing arguments, a 64 KiB argument,
# unknown verb, a verb with words it takes none of), through smcroutectl and the legacy smcroute
# form, makes the client exit non-zero (cleanly, not by a signal) with a
# clear message; afterwards the daemon is alive, its routes and the kernel
# MFC/VIF tables are unchanged, and the configured route still forwards.
. "$(dirname "$0")/lib.sh"
topo

# 34 real interfaces o1..o34 (veth pairs inside the router namespace), so
# "33 OIFs" is refused for its count, not because an interface is missing.
for ((i = 1; i <= 34; i += 2)); do
    must ip link add "o$i" type veth peer name "o$((i + 1))"
    must ip link set "o$i" up
    must ip link set "o$((i + 1))" up
done

write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
start_daemon
check "kernel MFC has (10.0.1.2, 225.1.2.3) after start-up" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1 10

# The daemon's routes (asked by the unsanitized client: an instrument here,
# run after every request) and the kernel's tables.
daemon_show() { timeout 10 "$PROBE_BIN/smcroutectl" show 2>&1; }
# kernel_tables: the number of entries in each of the kernel's MFC and VIF
# tables, "FILE=N ..." (one awk for all of them).
kernel_tables() {
    local f files=()
    for f in /proc/net/ip_mr_cache /proc/net/ip6_mr_cache /proc/net/ip_mr_vif /proc/net/ip6_mr_vif; do
        [ -e "$f" ] && files+=("$f")
    done
    awk 'FNR == 1 { f[++k] = FILENAME } FNR > 1 { n[FILENAME]++ }
         END { for (i = 1; i <= k; i++) printf "%s=%d ", f[i], n[f[i]]; print "" }' "${files[@]}"
}
BASE_SHOW=$(daemon_show) || fail "smcroutectl show failed: $BASE_SHOW"
BASE_TABLES=$(kernel_tables)
say "baseline: $BASE_TABLES"

# Printable form of a command line: long words shortened.
short_cmd() {
    local w out=""
    for w in "$@"; do
        if [ ${#w} -gt 40 ]; then out+=" ${w:0:20}...(${#w} bytes)"; else out+=" $w"; fi
    done
    echo "${out# }"
}

# unchanged: the daemon is alive and neither it nor the kernel gained state.
unchanged() {
    local after
    alive "$DAEMON_PID" || fail "daemon (pid $DAEMON_PID) died after: $1"
    after=$(daemon_show) || fail "smcroutectl show failed after: $1 -- $after"
    [ "$after" = "$BASE_SHOW" ] \
        || fail "daemon routes changed after: $1 -- before: '$BASE_SHOW' after: '$after'"
    after=$(kernel_tables)
    [ "$after" = "$BASE_TABLES" ] \
        || fail "kernel tables changed after: $1 -- before: $BASE_TABLES, after: $after"
}

# bad PATTERN PROGRAM ARGS...: PROGRAM (smcroutectl or smcroute) must exit
# non-zero, by itself (not killed, not timed out), with an error message on
# stderr matching the extended regex PATTERN (case-insensitive); nothing
# may change.
bad() {
    local pattern=$1 prog=$2; shift 2
    local what
    what="$prog $(short_cmd "$@")"
    say "+ $what"
    local rc=0
    timeout 10 "$BIN/$prog" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    local err=""
    { read -r -d '' err <"$TMP/err"; } 2>/dev/null # (bash: no program started)
    [ "$rc" != 0 ] || fail "'$what' exited 0, want an error (stdout: $(cut -c1-300 "$TMP/out"))"
    [ "$rc" -lt 124 ] || fail "'$what' exited $rc (timed out or killed by a signal), stderr: ${err:0:2000}"
    grep -Eiq -- "$pattern" "$TMP/err" \
        || fail "'$what' (exit $rc): stderr does not say /$pattern/: '${err:0:2000}'"
    err=${err%%$'\n'*}
    say "ok: exit $rc: ${err:0:160}"
    unchanged "$what"
}

forwards_still() {
    expect_forward v4 225.1.2.3 rcv1 10
    expect_recv rcv2 0
}

# --------------------------------------------------------- address errors
bad 'IPv4.*IPv6|IPv6.*IPv4|same family' smcroutectl add a1 10.0.1.2 ff0e::1 b1
bad 'IPv4.*IPv6|IPv6.*IPv4|same family' smcroutectl add a1 fd01::2 225.1.1.1 b1
bad 'not a multicast' smcroutectl add a1 10.0.1.2 10.0.2.5 b1
bad 'not a multicast' smcroutectl add a1 fd01::2 fd02::5 b1
bad 'source.*multicast' smcroutectl add a1 225.1.1.1 225.1.1.2 b1
bad 'invalid address.*10\.0\.1\.300' smcroutectl add a1 10.0.1.300 225.1.1.2 b1
forwards_still

# ---------------------------------------------------------- prefix lengths
bad 'out of range' smcroutectl add a1 10.0.1.2/33 225.1.1.2 b1
bad 'out of range' smcroutectl add a1 10.0.1.2 225.1.1.0/33 b1
bad 'out of range' smcroutectl add a1 fd01::2/129 ff0e::1 b1
bad 'out of range' smcroutectl add a1 fd01::2 ff0e::/129 b1
bad 'out of range|invalid' smcroutectl remove a1 10.0.1.2 225.1.2.3/33
forwards_still

# --------------------------------------------------------------- interfaces
oifs33=()
for ((i = 1; i <= 33; i++)); do oifs33+=("o$i"); done
bad 'too many outbound interfaces' smcroutectl add a1 10.0.1.2 225.1.1.2 "${oifs33[@]}"
bad 'no such interface.*nosuch0' smcroutectl add nosuch0 10.0.1.2 225.1.1.3 b1
bad 'no such interface.*nosuch0' smcroutectl add a1 10.0.1.2 225.1.1.3 b1 nosuch0
bad 'longer than 15|too long' smcroutectl add a1 10.0.1.2 225.1.1.3 abcdefghijklmnop
forwards_still

# --------------------------------------------------------- missing arguments
# ("add a1 225.1.1.3" is no longer one: without OIFs it is a stop filter.)
bad 'needs' smcroutectl add a1
bad 'needs' smcroutectl remove a1
bad 'needs' smcroutectl add
bad 'needs' smcroute -a a1 10.0.1.2
bad 'needs' smcroute -r a1

# ------------------------------------------------- a 64 KiB argument (and more)
big=$(head -c 65536 /dev/zero | tr '\0' x)
bad 'too large|too long|longer than' smcroutectl add a1 10.0.1.2 225.1.1.3 "$big"
bad 'too large|too long|invalid address' smcroutectl add a1 10.0.1.2 "$big" b1
bad 'too large|too long|longer than' smcroutectl remove "$big" 10.0.1.2 225.1.2.3
bad 'too large|too long|longer than' smcroute -a a1 10.0.1.2 225.1.1.3 "$big"
bad 'too large|too long|unknown command' smcroutectl "$big"
# Small enough for one frame: the daemon itself must refuse it.
bad 'longer than|too long' smcroutectl add a1 10.0.1.2 225.1.1.3 "${big:0:60000}"
forwards_still

# ------------------------------------------------------------------- verbs
bad 'unknown command' smcroutectl frobnicate
bad 'unknown command' smcroutectl x a1 10.0.1.2 225.1.2.3
# 're' is reload, as in SMCRoute 2.5.6 (no verb prefix is ambiguous now):
# with a route's words it is refused, not taken for remove (its one
# optional word is -n/--dry-run; anything else is refused too).
bad 'too many arguments to reload' smcroutectl re a1 10.0.1.2 225.1.2.3
bad "reload: unexpected 'a1' \(expected -n or --dry-run\)" smcroutectl re a1
bad "unknown option '--dry'" smcroutectl reload --dry
bad 'unknown' smcroutectl show bogus

# -------------------------------------------------- the legacy form as well
bad 'IPv4.*IPv6|IPv6.*IPv4|same family' smcroute -a a1 10.0.1.2 ff0e::1 b1
bad 'out of range' smcroute -a a1 10.0.1.2 225.1.1.0/33 b1
bad 'no such interface.*nosuch0' smcroute -a nosuch0 10.0.1.2 225.1.1.3 b1
bad 'not a multicast' smcroute -a a1 10.0.1.2 10.0.2.5 b1

# ------------------------------------------- batch: one connection, many lines
cat >"$TMP/batch" <<'BATCH'
# bad lines only; each is reported with its line number
add a1 10.0.1.2 ff0e::1 b1
add a1 10.0.1.2/33 225.1.1.2 b1
frobnicate
add a1
BATCH
bad 'line 2.*IPv4.*IPv6' smcroutectl -b <"$TMP/batch"
for want in 'line 3.*out of range' 'line 4.*unknown command' 'line 5.*needs'; do
    grep -Eiq -- "$want" "$TMP/err" || fail "smcroutectl -b: stderr does not say /$want/: '$(cat "$TMP/err")'"
done
say "ok: every bad batch line reported: $(tr '\n' '|' <"$TMP/err")"
forwards_still

# After all of it: still forwarding exactly as configured, and a good request
# still works (the daemon did not wedge its request handling).
forwards_still
check "a valid add after the bad requests succeeds" ctl add a1 10.0.1.2 225.1.2.4 b2
check "kernel MFC has (10.0.1.2, 225.1.2.4)" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.4
expect_forward v4 225.1.2.4 rcv2 10
check_not "daemon log has no sanitizer report" grep -Eq 'Sanitizer|runtime error:' "$TMP/daemon.log"
pass

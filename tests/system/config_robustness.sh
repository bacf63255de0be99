#!/bin/bash
# Hostile config files never crash or hang the daemon. For each file,
# "smcrouted -F FILE" exits 0 (valid) or 78 (errors, each reported as
# "file:line:col: error: ...") within a few seconds -- never by a signal or
# a timeout -- and "smcrouted -n --strict-config -f FILE" either exits 78
# just as promptly or starts and answers "smcroutectl show" (and then stops
# cleanly on SIGTERM). Covered: include loops, self-include, includes nested deeper
# than the limit (16), a directory (its *.conf are read) or a missing file
# (skipped, a warning) or an unreadable file (/proc/self/mem:
# root reads through chmod 000, so the test reads a file whose read()
# fails) as include target, binary garbage, a 1 MB line, 100 000 valid
# routes (all must reach the kernel), NUL bytes, CRLF line ends and a
# missing final newline (valid: must route), 33 OIFs (error at the 33rd)
# and every keyword misspelt once (a located error, and never a route).
# Every run is timed.
. "$(dirname "$0")/lib.sh"
topo

SOCK=$TMP/robust.sock
PIDF=$TMP/robust.pid
D=$TMP/conf
mkdir -p "$D"

# now_ms: milliseconds since the epoch (bash's clock: no process started).
now_ms() { local us=${EPOCHREALTIME/./}; echo $((us / 1000)); }

# check_file NAME FILE EXPECT [LOCATION [SECS]]: "smcrouted -F FILE" must
# exit 0 (EXPECT valid), 78 (EXPECT error) or either (EXPECT any) within
# SECS (default 10; times TIME_SCALE), the limit the daemon has too; a
# 78 comes with at least one located diagnostic, and LOCATION
# ("PATH:LINE:COL") is the place of one of them when given. Sets CHECK_RC.
check_file() {
    local name=$1 file=$2 expect=$3 loc=${4:-}
    local out=$TMP/check.out t0 t1 rc
    local limit=$(( ${5:-10} * TIME_SCALE ))
    t0=$(now_ms)
    timeout "$limit" "$BIN/smcrouted" -F "$file" >"$out" 2>&1
    rc=$?
    t1=$(now_ms)
    say "time: smcrouted -F ($name): exit $rc in $((t1 - t0)) ms"
    [ "$rc" = 124 ] && fail "$name: smcrouted -F still running after $limit s (hang)"
    [ "$rc" -gt 128 ] && fail "$name: smcrouted -F killed by signal $((rc - 128)): $(head -c 2000 "$out")"
    grep -Eq 'Sanitizer|runtime error:' "$out" && fail "$name: sanitizer report from -F: $(head -c 4000 "$out")"
    case "$expect:$rc" in
    valid:0 | error:78 | any:0 | any:78) ;;
    *) fail "$name: smcrouted -F exit $rc, want $expect (0 valid, 78 errors): $(head -c 2000 "$out")" ;;
    esac
    if [ "$rc" = 78 ]; then
        # Located, or (a top-level file that cannot be read has no line)
        # "FILE: error: cannot read 'FILE': why".
        grep -Eq "^[^ ]+:[0-9]+:[0-9]+: error: |^${file}: error: cannot read '${file}': " "$out" \
            || fail "$name: exit 78 without a 'file:line:col: error:' diagnostic: $(head -c 2000 "$out")"
        if [ -n "$loc" ]; then
            grep -qF -- "$loc: error: " "$out" \
                || fail "$name: want an error at $loc, got: $(head -c 2000 "$out")"
        fi
        say "ok: $name: -F exits 78 with $(awk '/: error: / { if (!n++) first = substr($0, 1, 160) }
                                             END { print n + 0 " located error(s): " first }' "$out")"
    else
        check_not "$name: -F prints no error for a valid file" grep -q ': error: ' "$out"
    fi
    CHECK_RC=$rc
}

# run_daemon NAME FILE WANT_RC [SECS [CHECK-COMMAND...]]: start
# "smcrouted -n -f FILE". WANT_RC 78: it must exit 78 within SECS (default
# 10; times TIME_SCALE) and leave no kernel state; WANT_RC 0: it must answer
# a request within SECS (a short one, "show interfaces": a show of 100 000
# routes alone can outlast a probe's limit in a software-emulated guest),
# then CHECK-COMMAND must succeed, then SIGTERM must stop it with status 0.
run_daemon() {
    local name=$1 file=$2 want=$3 secs=$(( ${4:-10} * TIME_SCALE ))
    shift 3; [ $# -gt 0 ] && shift
    local log=$TMP/robust-daemon.log t0 t1 pid rc="" up=0 deadline=$((SECONDS + secs))
    rm -f "$log"
    t0=$(now_ms)
    "$BIN/smcrouted" -n --strict-config -l info -f "$file" -u "$SOCK" -P "$PIDF" >"$log" 2>&1 &
    pid=$!
    DAEMON_PIDS+=("$pid")
    # Asked (by the unsanitized client, an instrument here) once its
    # socket exists; a daemon that refuses the file exits before it makes one.
    while ((SECONDS < deadline)); do
        if ! alive "$pid"; then
            wait "$pid"
            rc=$?
            # shellcheck disable=SC2034 # STOPPED is read by lib.sh
            STOPPED[$pid]=1
            break
        fi
        if [ -S "$SOCK" ] &&
            timeout $((5 * TIME_SCALE)) "$PROBE_BIN/smcroutectl" -u "$SOCK" show interfaces >/dev/null 2>&1; then
            up=1
            break
        fi
        nap 0.05
    done
    t1=$(now_ms)
    if [ "$up" = 1 ]; then
        say "time: smcrouted -n -f ($name): answering after $((t1 - t0)) ms"
    elif [ -n "$rc" ]; then
        say "time: smcrouted -n -f ($name): exit $rc after $((t1 - t0)) ms"
    else
        fail "$name: daemon neither answers nor exits within $secs s (hang)"
    fi
    grep -Eq 'Sanitizer|runtime error:' "$log" && fail "$name: sanitizer report from the daemon: $(head -c 4000 "$log")"
    if [ "$want" = 78 ]; then
        [ "$up" = 0 ] || { stop_daemon "$pid"; fail "$name: daemon started on a file that -F rejects"; }
        [ "$rc" = 78 ] || fail "$name: daemon exit $rc, want 78: $(head -c 2000 "$log")"
        grep -Eq ":[0-9]+:[0-9]+: error: |^${file}: error: cannot read '${file}': " "$log" \
            || fail "$name: daemon exit 78 without a located error: $(head -c 2000 "$log")"
        [ "$(mfc_count 4)" = 0 ] || fail "$name: MFC not empty after a refused start: $(cat /proc/net/ip_mr_cache)"
        [ "$(vif_count 4)" = 0 ] || fail "$name: VIFs left after a refused start"
        check_not "$name: no socket left" test -e "$SOCK"
        say "ok: $name: daemon refuses the file (exit 78), nothing left behind"
        return 0
    fi
    [ "$up" = 1 ] || fail "$name: daemon exit $rc on a file -F accepts, want it running: $(head -c 2000 "$log")"
    if [ $# -gt 0 ]; then
        "$@" || { stop_daemon "$pid"; fail "$name: check failed: $*"; }
        say "ok: $name: $*"
    fi
    stop_daemon "$pid"
    say "ok: $name: daemon started, answered show, stopped"
}

# hostile NAME FILE EXPECT [LOCATION [SECS [CHECK-COMMAND...]]]: both runs;
# the daemon must agree with -F.
hostile() {
    local name=$1 file=$2 expect=$3 loc=${4:-} secs=${5:-10}
    [ $# -gt 5 ] && shift 5 || shift $#
    say "==== $name"
    check_file "$name" "$file" "$expect" "$loc" "$secs"
    if [ "$CHECK_RC" = 78 ]; then
        run_daemon "$name" "$file" 78 "$secs"
    else
        run_daemon "$name" "$file" 0 "$secs" "$@"
    fi
}

# col_of FILE LINE WORD: column of the first whole-word WORD on LINE.
col_of() {
    awk -v n="$2" -v w="$3" 'NR == n {
        line = $0; off = 0
        while ((i = index(line, w)) > 0) {
            before = i > 1 ? substr(line, i - 1, 1) : " "
            after = substr(line, i + length(w), 1)
            if (before ~ /[ \t]/ && (after == "" || after ~ /[ \t\r]/)) { print off + i; exit }
            off += i; line = substr(line, i + 1)
        }
    }' "$1"
}

routes_225_1_2_3() { wait_for 3 mfc_forwards 10.0.1.2 225.1.2.3; }

# ------------------------------------------------------------- includes
printf 'include %s\n' "$D/loop_b.conf" >"$D/loop_a.conf"
printf '# b\ninclude %s\n' "$D/loop_a.conf" >"$D/loop_b.conf"
hostile "include loop a->b->a" "$D/loop_a.conf" error "$D/loop_b.conf:2:9"

printf '# self\ninclude %s\n' "$D/self.conf" >"$D/self.conf"
hostile "self-include" "$D/self.conf" error "$D/self.conf:2:9"

# main -> deep1 -> ... -> deep17: 17 levels of nested includes.
for ((i = 0; i <= 17; i++)); do
    if [ "$i" = 17 ]; then
        echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1" >"$D/deep$i.conf"
    else
        printf 'include %s\n' "$D/deep$((i + 1)).conf" >"$D/deep$i.conf"
    fi
done
hostile "include chain 17 deep (limit 16)" "$D/deep0.conf" error
check_not "deep chain: the innermost route did not reach the kernel" mfc_has 10.0.1.2 225.1.2.3
# A chain of 8 is fine.
for ((i = 0; i <= 8; i++)); do
    if [ "$i" = 8 ]; then
        echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1" >"$D/ok$i.conf"
    else
        printf 'include %s\n' "$D/ok$((i + 1)).conf" >"$D/ok$i.conf"
    fi
done
hostile "include chain 8 deep" "$D/ok0.conf" valid "" 10 routes_225_1_2_3

# A directory: its *.conf files (nothing else of it) are read.
mkdir -p "$D/adir" "$D/adir/sub.conf"
echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1" >"$D/adir/10-route.conf"
echo "frobnicate" >"$D/adir/README"
printf 'include %s\n' "$D/adir" >"$D/dir.conf"
hostile "directory as include target" "$D/dir.conf" valid "" 10 routes_225_1_2_3

# chmod 000 does not stop root; /proc/self/mem opens but every read at
# offset 0 fails (EIO): an unreadable file even for root.
printf 'include /proc/self/mem\n' >"$D/unreadable.conf"
hostile "unreadable include (/proc/self/mem)" "$D/unreadable.conf" error "$D/unreadable.conf:1:9"

printf 'include %s\n' "$D/missing.conf" >"$D/missing_inc.conf"
hostile "missing include (skipped, as in 2.x)" "$D/missing_inc.conf" valid
grep -qF "$D/missing_inc.conf:1:9: warning: include '$D/missing.conf' skipped" "$TMP/check.out" \
    || fail "missing include: no located warning from -F: $(cat "$TMP/check.out")"

# --------------------------------------------------------------- garbage
head -c 65536 /dev/urandom >"$D/garbage.conf"
cp "$D/garbage.conf" "$TMP/garbage.sample" # shown in the log on failure
hostile "64 KiB of binary garbage" "$D/garbage.conf" any

# 1 MB on one line: a word, a comment (valid, and the next line counts).
head -c 1048576 /dev/zero | tr '\0' 'x' >"$D/longword.conf"
echo >>"$D/longword.conf"
hostile "1 MB single word" "$D/longword.conf" error "$D/longword.conf:1:1"
{ printf '#'; head -c 1048576 /dev/zero | tr '\0' 'c'; printf '\n'
  echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1"; } >"$D/longcomment.conf"
hostile "1 MB comment line, then a route" "$D/longcomment.conf" valid "" 10 routes_225_1_2_3
{ printf 'mroute from a1 source 10.0.1.2 group 225.1.2.3 to'
  head -c 1048576 /dev/zero | tr '\0' ' '; echo " b1"; } >"$D/longspace.conf"
hostile "1 MB of blanks inside a route line" "$D/longspace.conf" valid "" 10 routes_225_1_2_3

# NUL bytes inside a line.
printf 'mroute from a1 source 10.0.1.2 group 225.1.2.3\0\0 to b1\n' >"$D/nul.conf"
hostile "NUL bytes inside a line" "$D/nul.conf" any
printf 'mroute from a1 sou\0rce 10.0.1.2 group 225.1.2.3 to b1\n' >"$D/nul2.conf"
hostile "NUL byte inside a keyword" "$D/nul2.conf" error
check_not "NUL in a keyword: no route made" mfc_has 10.0.1.2 225.1.2.3

# ------------------------------------------------- valid but unusual
printf 'phyint a1 enable\r\nmroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\r\n# comment\r\n' >"$D/crlf.conf"
hostile "CRLF line ends" "$D/crlf.conf" valid "" 10 routes_225_1_2_3
printf 'mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1' >"$D/nonl.conf"
hostile "missing final newline" "$D/nonl.conf" valid "" 10 routes_225_1_2_3

# Forwarding with a CRLF file, for real.
say "==== CRLF file forwards"
start_daemon -f "$D/crlf.conf"
check "CRLF: kernel MFC has (10.0.1.2, 225.1.2.3)" wait_for 3 mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1 10
stop_daemon

# ------------------------------------------------------------ 33 OIFs
oifs32="b1 b2"
for ((i = 3; i <= 32; i++)); do oifs32+=" x$i"; done
echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to $oifs32" >"$D/oif32.conf"
check_file "32 OIFs" "$D/oif32.conf" valid
echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to $oifs32 x33" >"$D/oif33.conf"
hostile "33 OIFs" "$D/oif33.conf" error "$D/oif33.conf:1:$(col_of "$D/oif33.conf" 1 x33)"
check_not "33 OIFs: no route made" mfc_has 10.0.1.2 225.1.2.3

# ------------------------------------------------------ misspelt keywords
# "FILE-LINE|WORD": each file holds one misspelt keyword WORD; the error
# must point at it, and the daemon must refuse (never a route).
R="from a1 source 10.0.1.2 group 225.1.2.3"
n=0
while IFS='|' read -r line word; do
    [ -n "$line" ] || continue
    n=$((n + 1))
    f=$D/typo$n.conf
    printf '# typo %s\n%s\n' "$word" "$line" >"$f"
    hostile "misspelt '$word'" "$f" error "$f:2:$(col_of "$f" 2 "$word")" 10
    [ "$(mfc_count 4)" = 0 ] || fail "misspelt '$word': a route reached the kernel: $(cat /proc/net/ip_mr_cache)"
done <<EOF
phyin a1 enable|phyin
mrout $R to b1|mrout
mgrop from a1 group 225.1.2.3|mgrop
includ $D/crlf.conf|includ
mroute frm a1 source 10.0.1.2 group 225.1.2.3 to b1|frm
mroute from a1 sorce 10.0.1.2 group 225.1.2.3 to b1|sorce
mroute from a1 source 10.0.1.2 grop 225.1.2.3 to b1|grop
mroute $R too b1|too
mgroup frm a1 group 225.1.2.3|frm
mgroup from a1 sorce 10.0.1.2 group 225.1.2.3|sorce
mgroup from a1 grop 225.1.2.3|grop
phyint a1 enabel|enabel
phyint a1 disabel|disabel
phyint a1 ttl-treshold 5|ttl-treshold
phyint a1 mrdsic|mrdsic
EOF

# ----------------------------------------------------- 100 000 routes
awk 'BEGIN { for (i = 0; i < 100000; i++)
    printf "mroute from a1 source 10.0.1.2 group 225.%d.%d.%d to b1\n", int(i / 65536), int(i / 256) % 256, i % 256 }' \
    >"$D/big.conf"
mfc_100k() {
    local n
    n=$(mfc_count 4)
    say "kernel MFC holds $n entries"
    [ "$n" = 100000 ]
}
hostile "100 000 valid routes" "$D/big.conf" valid "" 60 mfc_100k

[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty at the end: $(mfc_count 4) entries"

# --------------------------------------------- files that are not files
# A FIFO nobody writes to: open() for reading would block forever.
mkfifo "$D/fifo"
printf 'include %s\n' "$D/fifo" >"$D/fifo_inc.conf"
hostile "FIFO without a writer as include target" "$D/fifo_inc.conf" any
hostile "FIFO without a writer as the config file" "$D/fifo" any
# /dev/zero never ends: reading it whole would eat all memory (the reader
# takes regular files only, at most 256 MiB). Under a 2 GB address-space
# limit, so that a daemon that tried would fail fast instead of hurting the
# machine -- except with AddressSanitizer (linked statically by clang, so
# look for its symbols), whose shadow memory needs more address space.
printf 'include /dev/zero\n' >"$D/zero_inc.conf"
if grep -qa __asan_init "$SMCROUTE"; then
    hostile "/dev/zero as include target" "$D/zero_inc.conf" any
else
    ( ulimit -v 2000000; hostile "/dev/zero as include target" "$D/zero_inc.conf" any ) || exit 1
fi
pass

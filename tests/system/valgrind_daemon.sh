#!/bin/bash
# The daemon under valgrind's memcheck (issue "Hardening", item 2) through a
# whole life: start-up with routes, a (*,G) rule, joins and router discovery
# from the config; forwarding; client adds, removes, joins, leaves, every
# show (text, -d, -j); bad requests, a bad batch, raw garbage, a half frame
# and a client that hangs up; reloads (changed, unchanged, broken, SIGHUP);
# an interface deleted and re-created; a flush; then `kill`. valgrind must
# report zero errors and zero definitely lost bytes, and the daemon must
# exit 0 on its own.
#
# A sanitized build cannot run under valgrind, so CMake hands this test an
# unsanitized copy of the daemon in PLAIN_SMCROUTE (the program itself
# when the build is not sanitized). Clients run the ordinary binary.
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null 2>&1 || skip "valgrind not found"
command -v python3 >/dev/null 2>&1 || skip "python3 not found (needed by tests/tools/ipc_raw.py)"
VG_BIN=$(readlink -f "${PLAIN_SMCROUTE:-$SMCROUTE}")
[ -x "$VG_BIN" ] || fail "PLAIN_SMCROUTE=$VG_BIN is not executable"
IPC_RAW=$(dirname "$(readlink -f "$0")")/../tools/ipc_raw.py
[ -r "$IPC_RAW" ] || fail "$IPC_RAW missing"
SOCK=/run/smcroute.sock
require_v6mr
# valgrind runs the daemon tens of times slower: clients wait longer for it.
export SMCROUTE_CLIENT_TIMEOUT=$((10 * TIME_SCALE))

topo
write_conf <<'CONF'
phyint a1 enable mrdisc
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 source fd01::2 group ff05::114 to b1
mroute from a1 group 225.3.0.0/16 to b1 b2
mgroup from b1 group 225.9.9.9
mgroup from b1 source 10.0.1.2 group 232.1.1.1
mgroup from b2 group 225.8.0.0/30
mgroup from b1 group ff05::9
CONF

# The daemon under valgrind, in the foreground, as smcrouted.
mkdir -p "$TMP/vg"
ln -s "$VG_BIN" "$TMP/vg/smcrouted"
VG_LOG=$TMP/valgrind.log
DLOG=$TMP/daemon.log
say "+ valgrind smcrouted -n -l debug -f $CONF -c $((2 * TIME_SCALE))"
valgrind --quiet --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --error-exitcode=99 --track-origins=yes --log-file="$VG_LOG" \
    "$TMP/vg/smcrouted" -n -l debug -f "$CONF" -c "$((2 * TIME_SCALE))" >"$DLOG" 2>&1 &
VG_PID=$!
DAEMON_PIDS+=("$VG_PID")
DAEMON_PID=$VG_PID
# Asked once its log says it is ready (and every 1 s before, should the
# line not come): a client start takes long under software emulation.
deadline=$((SECONDS + 30 * TIME_SCALE))
for ((i = 0; SECONDS < deadline; i++)); do
    alive "$VG_PID" || { wait "$VG_PID"; fail "daemon under valgrind exited during start-up with status $?"; }
    text=""
    { read -r -d '' text <"$DLOG"; } 2>/dev/null
    if [[ $text == *" ready, socket "* ]] || ((i % 10 == 9)); then
        ctl_answers && break
    fi
    nap 0.1
done
ctl_answers || fail "daemon under valgrind did not answer within $((30 * TIME_SCALE)) s"
say "daemon up under valgrind (pid $VG_PID)"

check "kernel MFC has (10.0.1.2, 225.1.2.3)" wait_for 10 mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1 10
expect_forward v6 ff05::114 rcv1 10
# A (*,G) match learns a route under valgrind too (slowly: the kernel keeps
# only a few packets of an unresolved entry, so count the second round).
traffic v4 225.3.1.1 10
check "(10.0.1.2, 225.3.1.1) learned" wait_for 10 mfc_forwards 10.0.1.2 225.3.1.1
expect_forward v4 225.3.1.1 rcv2 10
check "kernel joined 225.9.9.9 on b1" wait_for 5 kernel_joined b1 225.9.9.9

# Client traffic of every kind.
must ctl add a1 10.0.1.2 225.1.2.4 b1 b2
must ctl add a1 fd01::2 ff05::115 b2
must ctl remove a1 10.0.1.2 225.1.2.4 b2
must ctl remove a1 fd01::2 ff05::115
must ctl join b2 225.7.7.7
must ctl join b2 10.0.1.2 232.2.2.2
must ctl leave b2 225.7.7.7
for args in "show" "-d show" "-j show" "-d -j show" "show groups" "-j show groups" "-d show groups" \
    "show interfaces" "-j show interfaces" "show pending" "-j show pending" \
    "show memberships" "-j show memberships" "version" "help"; do
    # shellcheck disable=SC2086
    out=$(timeout $((20 * TIME_SCALE)) "$BIN/smcroutectl" $args 2>&1) || fail "smcroutectl $args failed: $out"
done

# Bad requests: each refused, the daemon unharmed.
for bad in "add a1 10.0.1.2 10.0.0.1 b1" "add a1 225.1.2.3 10.0.1.2 b1" "add a1 10.0.1.2/33 225.1.2.3 b1" \
    "add nosuch0 10.0.1.2 225.1.2.3 b1" "remove a1 10.0.9.9 225.1.2.3" "leave b2 225.6.6.6" \
    "join b2 225.0.0.0/8" "add a1 fd01::2 225.1.2.3 b1" "bogus" "rex" "add a1 '' 225.1.2.3 b1"; do
    # shellcheck disable=SC2086
    if out=$(timeout $((20 * TIME_SCALE)) "$BIN/smcroutectl" $bad 2>&1); then fail "'smcroutectl $bad' succeeded: $out"; fi
done
printf 'add a1 10.0.1.2 225.1.2.5 b1\nadd a1 10.0.1.2 nonsense b1\n# comment\nremove a1 10.0.1.2 225.1.2.5\n' \
    | timeout $((20 * TIME_SCALE)) "$BIN/smcroutectl" -b >/dev/null 2>&1 && fail "a batch with a bad line succeeded"
raw() { timeout $((30 * TIME_SCALE)) python3 "$IPC_RAW" --timeout $((10 * TIME_SCALE)) "$@" >/dev/null 2>&1; }
raw exchange "$SOCK" garbage:300
raw exchange "$SOCK" hdr:0x534d4352:0xffffffff:1:1
raw exchange "$SOCK" hdr:0x534d4352:0:1:1
raw exchange "$SOCK" half:show
raw hangup "$SOCK" req:show,routes
alive "$VG_PID" || fail "daemon died after bad requests"

# Reloads: changed, unchanged, broken, and by signal.
write_conf <<'CONF'
phyint a1 enable
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b2
mroute from a1 group 225.4.0.0/16 to b1
mgroup from b1 group 225.9.9.10
CONF
must ctl reload
check "reload moved (10.0.1.2, 225.1.2.3) to b2" wait_for 10 mfc_forwards 10.0.1.2 225.1.2.3
must ctl reload
echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to" >>"$CONF"
ctl reload && fail "a reload of a broken config succeeded"
sed -i '$d' "$CONF"
reloads_before=$(grep -c "reload done" "$DLOG")
kill -HUP "$VG_PID"
wait_for 10 eval "[ \"\$(grep -c 'reload done' '$DLOG')\" -gt $reloads_before ]" \
    || fail "the daemon did not log \"reload done\" after SIGHUP"
expect_forward v4 225.1.2.3 rcv2 10

# An interface goes away and comes back.
must ip link del b1
sleep 0.5
must ip link add b1 type veth peer name eth0 netns rcv1
must ip addr add 10.0.2.1/24 dev b1
must ip link set b1 up
must nsx rcv1 ip addr add 10.0.2.2/24 dev eth0
must nsx rcv1 ip link set eth0 up
sleep 1
must ctl flush
alive "$VG_PID" || fail "daemon died during reloads or link changes"

# Exit through the client; valgrind's verdict is the exit status.
must ctl kill
deadline=$((SECONDS + 60 * TIME_SCALE))
while alive "$VG_PID" && ((SECONDS < deadline)); do
    nap 0.1
done
alive "$VG_PID" && fail "daemon under valgrind did not exit within $((60 * TIME_SCALE)) s of kill"
wait "$VG_PID"
rc=$?
STOPPED[$VG_PID]=1
say "valgrind exit status $rc"
if [ "$rc" != 0 ]; then
    cat "$VG_LOG" >&2
    tail -n 50 "$DLOG" >&2
    fail "valgrind/daemon exit status $rc (99: memcheck found errors or definite leaks)"
fi
# --quiet: the log holds only what memcheck found.
if grep -qE 'Invalid|uninitialised|definitely lost|Mismatched|overlap' "$VG_LOG"; then
    cat "$VG_LOG" >&2
    fail "valgrind reported problems"
fi
pass

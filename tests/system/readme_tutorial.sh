#!/usr/bin/env bash
# tests/system/readme_tutorial.sh: the README's tutorial, exactly as written.
# Extracts the code blocks between <!-- tutorial:begin --> and
# <!-- tutorial:end --> from README.md and runs them in order, as root, from
# a directory whose ./build/smcroute is the binary under test, in private
# mount, network and PID namespaces with their own /run and /tmp (so the
# tutorial's `ip netns add` names and files never meet the host's). The
# stream must arrive: all 10 datagrams printed by the tutorial's receiver,
# the learned route in `show -d` with its counters; and the cleanup must
# leave nothing behind.
#
# TUT_MARKER=proxy-tutorial (tests/system/proxy_tutorial.sh) runs the
# README's proxy tutorial the same way instead (blocks between
# <!-- proxy-tutorial:begin --> and <!-- proxy-tutorial:end -->): its five
# datagrams must reach the receiver through the proxy alone.
#
# Environment: SMCROUTE = the smcroute binary, SRCDIR = the source tree
# (default: two levels above this script). Exit 0 pass, 1 fail, 77 skip.
set -u -o pipefail

TUT_MARKER=${TUT_MARKER:-tutorial}
case "$TUT_MARKER" in tutorial) NAME=readme_tutorial ;; proxy-tutorial) NAME=proxy_tutorial ;;
    *) echo "TUT_MARKER must be tutorial or proxy-tutorial" >&2; exit 2 ;; esac
export TUT_MARKER
say()  { echo "[$NAME] $*"; }
skip() { echo "SKIP: $NAME: $*"; exit 77; }
fail() { echo "FAIL: $NAME: $*" >&2; exit 1; }

if [ -z "${TUT_INSIDE:-}" ]; then
    [ "$(id -u)" = 0 ] || skip "needs root (network namespaces, multicast routing)"
    for tool in unshare ip python3; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
    done
    [ -n "${SMCROUTE:-}" ] || { echo "usage: SMCROUTE=/path/to/smcroute [SRCDIR=...] bash $0" >&2; exit 2; }
    SMCROUTE=$(readlink -f "$SMCROUTE")
    [ -x "$SMCROUTE" ] || fail "SMCROUTE=$SMCROUTE is not executable"
    SRCDIR=$(readlink -f "${SRCDIR:-$(dirname "$0")/../..}")
    [ -f "$SRCDIR/README.md" ] || fail "no README.md in $SRCDIR"
    export SMCROUTE SRCDIR TUT_INSIDE=1
    script=$(readlink -f "$0")
    if unshare -mnp --fork --kill-child --mount-proc --propagation private true 2>/dev/null; then
        exec unshare -mnp --fork --kill-child --mount-proc --propagation private bash "$script"
    fi
    unshare -mn --propagation private true 2>/dev/null || skip "cannot create network/mount namespaces"
    exec unshare -mn --propagation private bash "$script"
fi

# ------------------------------------------------------ inside the namespaces
mount -t tmpfs -o mode=0755 tut-run /run || skip "cannot mount a tmpfs on /run"
# The host's /tmp stays reachable under /run/host-tmp (the binary or the
# source tree may live there) while the tutorial gets a /tmp of its own.
mkdir -p /run/host-tmp
# --rbind: a tree mounted below /tmp (the VM runner keeps a clone there) too.
mount --rbind /tmp /run/host-tmp || skip "cannot bind-mount /tmp"
mount -t tmpfs -o mode=1777 tut-tmp /tmp || skip "cannot mount a tmpfs on /tmp"
case "$SMCROUTE" in /tmp/*) SMCROUTE=/run/host-tmp/${SMCROUTE#/tmp/} ;; esac
case "$SRCDIR" in /tmp/*) SRCDIR=/run/host-tmp/${SRCDIR#/tmp/} ;; esac
[ -e /proc/net/ip_mr_cache ] || skip "kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE)"
ip link set lo up

work=/tmp/readme-tutorial
mkdir -p "$work/build"
ln -s "$SMCROUTE" "$work/build/smcroute"

# The shell lines of every fenced block between the markers, in order.
awk -v m="$TUT_MARKER" '
    $0 ~ ("<!-- *" m ":begin *-->") { inside = 1; next }
    $0 ~ ("<!-- *" m ":end *-->")   { if (!inside) { print "end marker without begin at line " NR > "/dev/stderr"; bad = 1 }
                                  inside = 0; blocks++; next }
    inside && /^[ \t]*```/      { fence = !fence; next }
    inside && fence             { print }
    END { if (inside) { print "begin marker without end" > "/dev/stderr"; bad = 1 }
          if (!blocks) { print "no tutorial blocks" > "/dev/stderr"; bad = 1 }
          exit bad }' "$SRCDIR/README.md" >"$work/tutorial.sh" || fail "cannot extract the tutorial from $SRCDIR/README.md"
[ -s "$work/tutorial.sh" ] || fail "the tutorial blocks in README.md are empty"
say "running $(wc -l <"$work/tutorial.sh") lines from README.md"

cd "$work" || fail "cannot enter $work"
# -e: any failing command of the tutorial fails the test; -x: show where.
# SMCT_TIME_SCALE: the VM runner under software emulation is slower.
timeout $((60 * ${SMCT_TIME_SCALE:-1})) bash -ex "$work/tutorial.sh" >"$work/out" 2>&1
rc=$?
cat "$work/out"
[ "$rc" = 0 ] || fail "the tutorial failed (status $rc), output above"

if [ "$TUT_MARKER" = tutorial ]; then
    got=$(grep -c '^received: hello [0-9]*$' "$work/out")
    [ "$got" = 10 ] || fail "the receiver printed $got of the 10 datagrams, output above"
    for i in 1 2 3 4 5 6 7 8 9 10; do
        grep -qx "received: hello $i" "$work/out" || fail "datagram 'hello $i' did not arrive"
    done
    say "ok: all 10 datagrams crossed the router"
    # The route the daemon learned, in the tutorial's two "-d show"s: its
    # packet counter first at 10, then (after ten more) at 20.
    counts=$(awk '$1 == "(10.10.1.2," && $2 == "239.1.2.3)" && $4 == "learned" { printf "%s ", $5 }' "$work/out")
    [ "$counts" = "10 20 " ] || fail "show -d of (10.10.1.2, 239.1.2.3) counted '$counts' packets, want '10 20 ', output above"
    say "ok: show -d lists the learned route, its counter going from 10 to 20"
    conf=/tmp/smcroute-tutorial.conf
else
    got=$(grep -c '^received: tick [0-9]*$' "$work/out")
    [ "$got" = 5 ] || fail "the proxy tutorial's receiver printed $got of 5 datagrams, output above"
    say "ok: 5 datagrams reached the receiver through the proxy (no route in its config)"
    conf=/tmp/smcroute-proxy.conf
fi

# The cleanup left nothing: no namespaces, no daemon, no files.
[ -z "$(ip netns list)" ] || fail "namespaces left after the cleanup: $(ip netns list)"
ls /run/*.sock /run/*.pid >/dev/null 2>&1 && fail "daemon files left after the cleanup: $(ls /run)"
[ -e "$conf" ] && fail "the tutorial's config file is left after the cleanup"
if pgrep -f "$work/build/smcroute" >/dev/null 2>&1; then
    fail "a daemon still runs after the cleanup"
fi
say "ok: the cleanup removed the namespaces, the daemon and its files"
echo "PASS: $NAME"

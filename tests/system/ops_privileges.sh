#!/bin/bash
# -p USER[:GROUP]: the daemon starts as root, opens what needs root, then runs
# as USER with only CAP_NET_ADMIN and CAP_NET_RAW (effective = permitted =
# bounding set; nothing inheritable or ambient). As nobody it still:
#   * forwards the config's routes;
#   * applies a changed config on "smcroutectl reload" (sent by root);
#   * activates a pending route when its interface appears later (new VIF);
#   * exits cleanly on "smcroutectl kill": status 0, routes and VIFs gone.
#     With -p the default socket and pid file live in the runtime directory
#     /run/smcroute/, which is root's (mode 0755) so that the user cannot
#     replace them; clients find the socket there by themselves. The
#     daemon, nobody by then, cannot remove them either: they are left
#     behind (a dead socket, a pid file naming a gone process) with no
#     error logged, and the next start with -p replaces them.
# An unknown user is refused at start-up with "unknown user 'NAME'".
. "$(dirname "$0")/lib.sh"
topo

getent passwd nobody >/dev/null || skip "no user 'nobody'"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
CAPS=0000000000003000   # CAP_NET_ADMIN (12) | CAP_NET_RAW (13)

# ---- an unknown user: refused, nothing left behind
echo "# empty" >"$TMP/empty.conf"
say "+ smcrouted -n -f $TMP/empty.conf -p no-such-user-smct"
timeout 10 "$BIN/smcrouted" -n -f "$TMP/empty.conf" -p no-such-user-smct >"$TMP/baduser.log" 2>&1
rc=$?
[ "$rc" = 124 ] && fail "daemon with an unknown user did not exit"
[ "$rc" != 0 ] || fail "daemon with an unknown user exited 0"
check "unknown user named in the error" grep -qF "unknown user 'no-such-user-smct'" "$TMP/baduser.log"
check_not "no socket left" test -e /run/smcroute.sock

# ---- a third receiver whose link appears only later
must ip netns add rcv3
must nsx rcv3 ip link set lo up
must nsx rcv3 sysctl -qw net.ipv4.conf.all.rp_filter=0

write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.5 to c1
CONF
start_daemon -p nobody
pid=$DAEMON_PID
st=/proc/$pid/status
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$st"; }
check "daemon still running after dropping privileges" alive "$pid"
[ "$(field Uid)" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ] || fail "Uid: $(field Uid), want $NOBODY_UID x4"
[ "$(field Gid)" = "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" ] || fail "Gid: $(field Gid), want $NOBODY_GID x4"
[ "$(field Groups)" = "$NOBODY_GID" ] || fail "Groups: '$(field Groups)', want $NOBODY_GID"
for k in CapEff CapPrm CapBnd; do
    [ "$(field $k)" = "$CAPS" ] || fail "$k: $(field $k), want $CAPS (NET_ADMIN|NET_RAW)"
done
for k in CapInh CapAmb; do
    [ "$(field $k)" = 0000000000000000 ] || fail "$k: $(field $k), want none"
done
say "ok: runs as nobody ($NOBODY_UID:$NOBODY_GID) with CapEff $CAPS"

# Routes from the config forward.
RECEIVERS="rcv1 rcv2"
expect_forward v4 225.1.2.3 rcv1 10
check "route to the missing c1 is pending" eval "ctl show pending | grep -q 225.1.2.5"

# Reload with a changed config, by root.
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.4 to b2
mroute from a1 source 10.0.1.2 group 225.1.2.5 to c1
CONF
check "smcroutectl reload as root" ctl reload
check "(10.0.1.2, 225.1.2.3) removed by reload" wait_for 5 mfc_lacks 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.4 rcv2 10
expect_recv rcv1 0

# An interface that appears later activates the pending route: a new VIF,
# added by the unprivileged daemon.
must ip link add c1 type veth peer name eth0 netns rcv3
must sysctl -qw net.ipv4.conf.c1.rp_filter=0
must ip addr add 10.0.4.1/24 dev c1
must ip link set c1 up
must nsx rcv3 ip addr add 10.0.4.2/24 dev eth0
must nsx rcv3 ip link set eth0 up
must nsx rcv3 ip route add default via 10.0.4.1
check "c1 up" wait_for 5 eval "ip link show c1 | grep -q LOWER_UP"
check "pending route activated in the kernel" wait_for 5 mfc_forwards 10.0.1.2 225.1.2.5
RECEIVERS="rcv1 rcv2 rcv3"
expect_forward v4 225.1.2.5 rcv3 10

# The script of -e runs as nobody too, without capabilities (checked in
# ops_script.sh for the arguments); here: kill and clean up.
check "socket in the runtime directory while running" test -S /run/smcroute/smcroute.sock
check "pid file in the runtime directory while running" test -s /run/smcroute/smcroute.pid
check "runtime directory is root's, mode 755" test "$(stat -c '%a %u' /run/smcroute)" = "755 0"
check "socket and pid file are root's" test "$(stat -c %u /run/smcroute/smcroute.sock /run/smcroute/smcroute.pid | sort -u)" = 0
check_not "no socket at the root-owned default path" test -e /run/smcroute.sock
check "smcroutectl kill" ctl kill
check "daemon exits within 5 s" wait_for 5 eval "! alive $pid"
wait "$pid"
rc=$?
STOPPED[$pid]=1
[ "$rc" = 0 ] || fail "daemon running as nobody exited $rc after kill, want 0 (log: $(tail -n 5 "$TMP/daemon.log"))"
left=$(find /run -path /run/netns -prune -o \( -name '*.sock' -o -name '*.pid' \) -print | sort | tr '\n' ' ')
[ "$left" = "/run/smcroute/smcroute.pid /run/smcroute/smcroute.sock " ] \
    || fail "after kill, want exactly the socket and pid file left in /run/smcroute, found: $left"
check_not "nobody answers on the socket left behind" ctl_answers
[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty after kill: $(cat /proc/net/ip_mr_cache)"
[ "$(vif_count 4)" = 0 ] || fail "VIFs left after kill: $(cat /proc/net/ip_mr_vif)"
check_not "no error logged at exit" grep -E "^error: .*(Permission denied|Operation not permitted)" "$TMP/daemon.log"
check "the files left behind are explained in the log" grep -q "left behind, the next start replaces it" "$TMP/daemon.log"
say "ok: clean exit as nobody"

# The next start replaces what was left behind.
start_daemon -p nobody
check "pid file holds the new daemon's pid" test "$(cat /run/smcroute/smcroute.pid)" = "$DAEMON_PID"
check "the new daemon answers" ctl_answers
expect_forward v4 225.1.2.4 rcv2 10
pass

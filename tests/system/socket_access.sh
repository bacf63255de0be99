#!/bin/bash
# --socket-mode and --socket-group: the IPC socket gets that mode and group,
# and members of the group may change state (SO_PEERCRED: primary or
# supplementary group). Without the group, others may at most "show".
#   * --socket-group nogroup: the socket is 0660 root:nogroup; nobody (whose
#     group is nogroup) may show, add and remove; the route forwards.
#   * --socket-mode 0666 without a group: nobody may show, add gets 77.
#   * --socket-mode 0666 --socket-group 4242 (a gid without a name): user
#     nobody with 4242 as its primary group, and nobody with 4242 among its
#     supplementary groups, may each add and remove; nobody without it may
#     show, and add gets 77 with nothing added. Rights come from SO_PEERCRED
#     (gid) and SO_PEERGROUPS, read when the client connects.
#   * --socket-mode 0600 --socket-group nogroup: nobody cannot connect (77).
. "$(dirname "$0")/lib.sh"
nobody_setup
SOCK=/run/smcroute.sock

topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF

nb_ctl() { as_nobody timeout 10 "$NB/smcroutectl" "$@"; }

# ---- the group may change state
start_daemon --socket-group "$NOGROUP"
mode=$(stat -c '%a %U %G' "$SOCK")
[ "$mode" = "660 root $NOGROUP" ] || fail "socket is '$mode', want '660 root $NOGROUP'"
say "ok: socket is 0660 root:$NOGROUP"
check "nobody may show" nb_ctl show
check "nobody (group $NOGROUP) may add" nb_ctl add a1 10.0.1.2 225.1.2.4 b2
check "the group member's route is in the kernel" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.4
expect_forward v4 225.1.2.4 rcv2 10
check "nobody may remove" nb_ctl remove a1 10.0.1.2 225.1.2.4
check "removed from the kernel" wait_for 2 mfc_lacks 10.0.1.2 225.1.2.4
stop_daemon "$DAEMON_PID"

# ---- open to all for show, state changes refused
start_daemon --socket-mode 0666
mode=$(stat -c '%a %G' "$SOCK")
[ "$mode" = "666 root" ] || fail "socket is '$mode', want '666 root'"
check "nobody may show through a 0666 socket" nb_ctl show
out=$(nb_ctl add a1 10.0.1.2 225.1.2.4 b2 2>&1)
rc=$?
[ "$rc" = 77 ] || fail "add by nobody without the group exited $rc, want 77: $out"
case "$out" in *"permission denied"*) ;; *) fail "add by nobody: no 'permission denied' in: $out" ;; esac
check_not "nothing added" mfc_has 10.0.1.2 225.1.2.4
stop_daemon "$DAEMON_PID"

# ---- a group by number, as primary or supplementary group
G=4242
as_primary() { setpriv --reuid=nobody --regid=$G --clear-groups -- "$@"; }
as_supplementary() { setpriv --reuid=nobody --regid="$NOGROUP" --groups=$G -- "$@"; }
[ "$(as_primary id -g)" = $G ] || fail "setpriv did not make $G nobody's primary group: $(as_primary id)"
case " $(as_supplementary id -G) " in
*" $G "*) [ "$(as_supplementary id -g)" != $G ] || fail "4242 is the primary group: $(as_supplementary id)" ;;
*) fail "setpriv did not give nobody the supplementary group $G: $(as_supplementary id)" ;;
esac
start_daemon --socket-mode 0666 --socket-group $G
mode=$(stat -c '%a %g' "$SOCK")
[ "$mode" = "666 $G" ] || fail "socket is '$mode', want '666 $G'"
check "primary member of $G may add" as_primary timeout 10 "$NB/smcroutectl" add a1 10.0.1.2 225.1.2.5 b2
check "its route is in the kernel" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.5
check "supplementary member of $G may remove it" \
    as_supplementary timeout 10 "$NB/smcroutectl" remove a1 10.0.1.2 225.1.2.5
check "removed from the kernel" wait_for 2 mfc_lacks 10.0.1.2 225.1.2.5
check "supplementary member of $G may add" as_supplementary timeout 10 "$NB/smcroutectl" add a1 10.0.1.2 225.1.2.6 b2
check "its route is in the kernel" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.6
expect_forward v4 225.1.2.6 rcv2 10
check "primary member of $G may remove it" as_primary timeout 10 "$NB/smcroutectl" remove a1 10.0.1.2 225.1.2.6
check "removed from the kernel" wait_for 2 mfc_lacks 10.0.1.2 225.1.2.6
check "nobody outside $G may show" nb_ctl show
out=$(nb_ctl add a1 10.0.1.2 225.1.2.7 b2 2>&1)
rc=$?
[ "$rc" = 77 ] || fail "add by nobody outside $G exited $rc, want 77: $out"
case "$out" in *"permission denied"*) say "ok: refused: $out" ;; *) fail "add outside $G: no 'permission denied' in: $out" ;; esac
check_not "nothing added" mfc_has 10.0.1.2 225.1.2.7
stop_daemon "$DAEMON_PID"

# ---- 0600: even the group cannot connect
start_daemon --socket-mode 0600 --socket-group "$NOGROUP"
mode=$(stat -c '%a %G' "$SOCK")
[ "$mode" = "600 $NOGROUP" ] || fail "socket is '$mode', want '600 $NOGROUP'"
out=$(nb_ctl show 2>&1)
rc=$?
[ "$rc" = 77 ] || fail "show by nobody through a 0600 socket exited $rc, want 77: $out"
say "ok: 0600 keeps nobody out ($out)"

# ---- bad values are usage errors
out=$(timeout 10 "$BIN/smcrouted" -n -f "$CONF" --socket-mode 0999 2>&1)
rc=$?
[ "$rc" = 64 ] || fail "--socket-mode 0999 exited $rc, want 64: $out"
out=$(timeout 10 "$BIN/smcrouted" -n -f "$CONF" -u /run/other.sock -i other --socket-group no-such-group-smct 2>&1)
rc=$?
[ "$rc" != 0 ] || fail "--socket-group with an unknown group started"
case "$out" in *"unknown group"*) say "ok: unknown group refused: $out" ;; *) fail "unknown group: unclear message: $out" ;; esac
pass

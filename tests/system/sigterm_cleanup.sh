#!/bin/bash
# On SIGTERM, and likewise on SIGINT, the daemon removes every route it
# installed -- config (S,G) routes and (S,G) entries learned from (*,G)
# rules -- releases its VIFs/MIFs, removes its socket and pid file, and exits
# 0. Afterwards the kernel's IPv4 and IPv6 multicast tables are empty.
. "$(dirname "$0")/lib.sh"
topo
v6=0
[ -e /proc/net/ip6_mr_cache ] && v6=1
{
    echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2"
    echo "mroute from a1 group 225.1.2.9 to b1"
    if [ "$v6" = 1 ]; then
        echo "mroute from a1 source fd01::2 group ff0e::123 to b1"
        echo "mroute from a1 group ff0e::129 to b2"
    fi
} | write_conf

# one_round SIGNAL
one_round() {
    local sig=$1
    start_daemon
    local pid=$DAEMON_PID
    check "$sig round: (S,G) route in the MFC" mfc_forwards 10.0.1.2 225.1.2.3
    traffic v4 225.1.2.9 4 -r 0
    expect_recv rcv1 4
    check "$sig round: learned (10.0.1.2, 225.1.2.9) in the MFC" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.9
    if [ "$v6" = 1 ]; then
        check "$sig round: IPv6 (S,G) route in the MFC" mfc_forwards fd01::2 ff0e::123
        traffic v6 ff0e::129 4 -r 0
        expect_recv rcv2 4
        check "$sig round: learned (fd01::2, ff0e::129) in the MFC" wait_for 2 mfc_forwards fd01::2 ff0e::129
    fi
    [ "$(vif_count 4)" -ge 3 ] || fail "$sig round: want 3 VIFs, have: $(cat /proc/net/ip_mr_vif)"
    check "$sig round: socket exists" test -S /run/smcroute.sock
    check "$sig round: pid file exists" test -s /run/smcroute.pid

    say "+ kill -$sig $pid"
    kill "-$sig" "$pid"
    local i
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    alive "$pid" && fail "daemon still running 5 s after SIG$sig"
    wait "$pid"
    local rc=$?
    STOPPED[$pid]=1
    [ "$rc" = 0 ] || fail "daemon exited with status $rc on SIG$sig, want 0"
    say "ok: SIG$sig: daemon exited 0"

    [ "$(mfc_count 4)" = 0 ] || fail "SIG$sig: IPv4 MFC not empty: $(cat /proc/net/ip_mr_cache)"
    [ "$(vif_count 4)" = 0 ] || fail "SIG$sig: IPv4 VIFs left: $(cat /proc/net/ip_mr_vif)"
    [ "$(mfc_count 6)" = 0 ] || fail "SIG$sig: IPv6 MFC not empty: $(cat /proc/net/ip6_mr_cache)"
    [ "$(vif_count 6)" = 0 ] || fail "SIG$sig: IPv6 MIFs left: $(cat /proc/net/ip6_mr_vif)"
    say "ok: SIG$sig: kernel MFC and VIF tables empty (IPv4 and IPv6)"
    check_not "SIG$sig: socket removed" test -e /run/smcroute.sock
    check_not "SIG$sig: pid file removed" test -e /run/smcroute.pid
    traffic v4 225.1.2.3 10
    expect_recv rcv1 0
}

one_round TERM
one_round INT
pass

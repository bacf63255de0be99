#!/bin/bash
# show status counts the upcalls the kernel dropped (SO_RXQ_OVFL), and show
# metrics stays bounded on a big table (issue 16). 48 000 static (S,G)
# routes from a1 to b1; while the daemon is stopped (SIGSTOP), forged
# datagrams of each of those sources arrive on b2 (tests/tools/burst_send):
# each is a WRONGVIF upcall, 48 000 of them, more than the routing socket's
# receive buffer holds, so the kernel drops the rest. Once the daemon runs
# again, status and metrics report those drops, and show metrics lists
# 1000 routes and counts the others as omitted; promtool passes it.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || fail "python3 not found"
command -v promtool >/dev/null 2>&1 || fail "promtool not found (apt-get install prometheus)"
[ -x "$TOOLS/burst_send" ] || fail "$TOOLS/burst_send missing (build the test tools)"
topo
N=48000
{
    echo 'mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2'
    awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
        printf "mroute from a1 source 10.50.%d.%d group 225.7.7.7 to b1 b2\n", int((i + 1) / 256), (i + 1) % 256 }'
} | write_conf
start_daemon -l notice # not a debug line per upcall
st() {
    timeout 30 "$BIN/smcroutectl" -j show status | python3 -c '
import json, sys
v = json.load(sys.stdin)["status"]
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1" || fail "show status -j failed or has no $1"
}
check "the last route is in the MFC" wait_for 30 mfc_has 10.50.187.128 225.7.7.7
[ "$(st routes.static)" = $((N + 1)) ] || fail "static routes: $(st routes.static), want $((N + 1))"
DROP0=$(st upcalls.kernel_dropped)
say "kernel drops before: $DROP0"

kill -STOP "$DAEMON_PID"
out=$(nsx rcv2 "$TOOLS/burst_send" -g 225.7.7.7 -S 10.50.0.1 -N "$N" -i eth0 -t 8) || {
    kill -CONT "$DAEMON_PID"
    fail "burst_send: $out"
}
say "burst: $out"
kill -CONT "$DAEMON_PID"
# One more upcall after the drops: its message carries the kernel's count.
check "status answers" wait_for 30 ctl_answers
traffic v4 225.9.9.9 2
check "kernel drops reported" wait_for 30 sh -c "[ \"\$(timeout 30 $BIN/smcroutectl -j show status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"upcalls\"][\"kernel_dropped\"])')\" -gt $DROP0 ]"
DROPS=$(st upcalls.kernel_dropped)
RECV=$(st upcalls.received)
say "kernel drops: $DROPS, upcalls received: $RECV"
ctl show status | grep -E '^  (kernel drops|received):'
[ "$RECV" -gt 1000 ] || fail "only $RECV upcalls received: the burst did not raise WRONGVIF upcalls"
grep -q "kernel dropped [0-9]* upcalls (queue full)" "$TMP/daemon.log" || fail "the drops were not logged"

timeout 60 "$BIN/smcroutectl" show metrics >"$TMP/metrics.txt" || fail "show metrics failed"
M=$(awk '$1 == "smcroute_upcalls_kernel_dropped_total" { print $2 }' "$TMP/metrics.txt")
[ "$M" -ge "$DROPS" ] || fail "metrics: kernel drops $M, status said $DROPS"
series=$(grep -c '^smcroute_route_packets_total{' "$TMP/metrics.txt")
[ "$series" = 1000 ] || fail "show metrics lists $series routes, want the limit 1000"
total=$(( $(st routes.static) + $(st routes.learned) + $(st routes.stop_filters) ))
omitted=$(awk '$1 == "smcroute_metrics_routes_omitted" { print $2 }' "$TMP/metrics.txt")
[ "$omitted" = $((total - 1000)) ] || fail "routes omitted: $omitted, want $((total - 1000))"
say "ok: show metrics: 1000 routes listed, $omitted omitted, $(wc -c <"$TMP/metrics.txt") bytes"
promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 || fail "promtool: $(cat "$TMP/promtool.out")"
[ ! -s "$TMP/promtool.out" ] || fail "promtool check metrics complains: $(cat "$TMP/promtool.out")"
check "static (S,G) still forwards" expect_forward v4 225.1.2.3 rcv1 5
alive "$DAEMON_PID" || fail "daemon died"
pass

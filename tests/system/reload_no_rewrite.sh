#!/bin/bash
# A reload does not rewrite what did not change: with 100 config routes (and
# a (*,G) rule with a learned entry), a reload of the unchanged file
# (SIGHUP, then "smcroutectl reload") causes no MFC change event at all
# (rtnetlink, watched with "ip -4 monitor mroute") and the packet counters of
# the kernel entries are kept. A reload that changes one route's OIFs, removes
# one and adds one causes events for exactly those three routes.
. "$(dirname "$0")/lib.sh"
topo

gen_conf() {  # gen_conf [CHANGED]: the 100 routes; CHANGED edits 3 of them
    local n
    for ((n = 1; n <= 100; n++)); do
        if [ -n "${1:-}" ]; then
            [ "$n" = 50 ] && { echo "mroute from a1 source 10.0.1.2 group 225.2.0.50 to b2"; continue; }
            [ "$n" = 60 ] && continue
        fi
        echo "mroute from a1 source 10.0.1.2 group 225.2.0.$n to b1"
    done
    [ -n "${1:-}" ] && echo "mroute from a1 source 10.0.1.2 group 225.2.1.1 to b1"
    echo "mroute from a1 group 225.2.2.2 to b2"
}
gen_conf | write_conf
start_daemon -c 0
check "100 routes in the kernel" wait_for 3 eval '[ "$(mfc_count)" -ge 100 ]'
traffic v4 225.2.0.7 5
expect_recv rcv1 5
traffic v4 225.2.2.2 5
expect_recv rcv2 5
check "(10.0.1.2, 225.2.2.2) learned" mfc_forwards 10.0.1.2 225.2.2.2

# pkts SRC GRP: the kernel packet counter of the entry.
pkts() { mfc_line "$1" "$2" | awk '{ print $4 }'; }
p7=$(pkts 10.0.1.2 225.2.0.7); pl=$(pkts 10.0.1.2 225.2.2.2)
[ "$p7" -ge 5 ] && [ "$pl" -ge 5 ] || fail "counters did not count the traffic: $p7 $pl"
mfc_before=$(awk 'NR > 1' /proc/net/ip_mr_cache | sort)

ip -4 monitor mroute >"$TMP/monitor.out" 2>&1 &
MON=$!
RECV_PIDS+=("$MON")
# The monitor is listening once it reports an event: a packet for an unrouted
# group makes the kernel create an unresolved entry (and the daemon a stop filter).
ensure_monitor() {
    traffic v4 225.2.9.9 1
    wait_for 3 grep -qF '225.2.9.9' "$TMP/monitor.out" || fail "ip monitor mroute reports no MFC events: $(cat "$TMP/monitor.out")"
    check "stop filter (10.0.1.2, 225.2.9.9)" wait_for 2 mfc_has 10.0.1.2 225.2.9.9
    sleep 0.3
    mfc_before=$(awk 'NR > 1' /proc/net/ip_mr_cache | sort)
}
ensure_monitor
# events_since N: the monitor lines after line N.
events_since() { tail -n +"$(($1 + 1))" "$TMP/monitor.out"; }

# ---- unchanged config, SIGHUP and the client
for how in SIGHUP client; do
    mark=$(wc -l <"$TMP/monitor.out")
    loglines=$(wc -l <"${DAEMON_LOGS[0]}")
    if [ "$how" = SIGHUP ]; then
        kill -HUP "$DAEMON_PID"
        wait_for 3 eval "tail -n +$((loglines + 1)) '${DAEMON_LOGS[0]}' | grep -q reload" \
            || fail "the daemon did not log a reload after SIGHUP"
    else
        ctl reload || fail "smcroutectl reload failed"
    fi
    sleep 1
    ev=$(events_since "$mark")
    [ -z "$ev" ] || fail "reload ($how) of an unchanged config changed the MFC: $ev"
    say "ok: reload ($how) of the unchanged config: no MFC event"
    [ "$(awk 'NR > 1' /proc/net/ip_mr_cache | sort)" = "$mfc_before" ] \
        || fail "reload ($how): the kernel MFC differs: $(diff <(echo "$mfc_before") <(awk 'NR > 1' /proc/net/ip_mr_cache | sort))"
    say "ok: reload ($how): MFC identical, counters kept ($(pkts 10.0.1.2 225.2.0.7), $(pkts 10.0.1.2 225.2.2.2))"
done

# ---- one route changed, one removed, one added
gen_conf changed | write_conf
mark=$(wc -l <"$TMP/monitor.out")
ctl reload || fail "smcroutectl reload failed"
sleep 1
ev=$(events_since "$mark")
echo "$ev"
for g in 225.2.0.50 225.2.0.60 225.2.1.1; do
    grep -qF "(10.0.1.2,$g)" <<<"$ev" || fail "no MFC event for the changed route to $g: $ev"
    say "ok: event for (10.0.1.2, $g)"
done
others=$(grep -vF -e '(10.0.1.2,225.2.0.50)' -e '(10.0.1.2,225.2.0.60)' -e '(10.0.1.2,225.2.1.1)' <<<"$ev")
[ -z "$others" ] || fail "the reload touched routes that did not change: $others"
say "ok: no event for any other route"
check "(10.0.1.2, 225.2.0.60) removed" mfc_lacks 10.0.1.2 225.2.0.60
check_not "(10.0.1.2, 225.2.0.50) updated in place, not deleted" grep -q 'Deleted.*(10.0.1.2,225.2.0.50)' <<<"$ev"
[ "$(pkts 10.0.1.2 225.2.0.7)" = "$p7" ] || fail "counter of the unchanged (10.0.1.2, 225.2.0.7) changed: $p7 -> $(pkts 10.0.1.2 225.2.0.7)"
expect_forward v4 225.2.0.50 rcv2; expect_recv rcv1 0
kill -TERM "$MON" 2>/dev/null
pass

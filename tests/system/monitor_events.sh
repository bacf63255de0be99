#!/bin/bash
# smcroutectl monitor sees each event class as it happens, in text and as
# JSON Lines (-j), two monitors at once: a route learned from a (*,G) rule
# (real multicast traffic), a stop filter, its expiry (-c), flush, an
# interface appearing (and the pending route it activates) and vanishing,
# a reload applied (with its counts) and one refused (its first error),
# upcall refusals past --max-learned (forged burst, tests/tools/burst_send).
# Every JSON line parses and carries time, event and the documented fields.
# A monitor ends with exit 0 on SIGINT; when the daemon exits the other
# says the daemon went away and exits 69. Waits for the events, never for
# a fixed time.
. "$(dirname "$0")/lib.sh"
[ -x "$TOOLS/burst_send" ] || fail "$TOOLS/burst_send missing (build the test tools)"
topo
G=225.8.8.1
write_conf <<CONF
mroute from a1 group 225.8.8.0/24 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
mroute from x9 source 10.0.1.2 group 225.9.9.9 to b1
CONF
PERIOD=$((2 * TIME_SCALE))
CAP=8
start_daemon -c "$PERIOD" --max-learned "$CAP"

TXT=$TMP/monitor.txt
JSN=$TMP/monitor.json
"$BIN/smcroutectl" monitor >"$TXT" 2>"$TMP/monitor-txt.err" &
MON_T=$!
"$BIN/smcroutectl" -j monitor >"$JSN" 2>"$TMP/monitor-json.err" &
MON_J=$!
RECV_PIDS+=("$MON_T" "$MON_J")
# seen PATTERN [FILE]: an extended regexp matches a line of the monitors' output.
seen() { grep -Eq -- "$1" "${2:-$TXT}"; }
check "text monitor subscribed" wait_for 10 seen '^[0-9T:.-]+Z monitor_started pid=[0-9]+ daemon='
check "JSON monitor subscribed" wait_for 10 seen '"event": "monitor_started"' "$JSN"

# ---- learned from a rule, with real traffic
RECEIVERS=rcv1
traffic v4 "$G" 5
expect_recv rcv1 5
check "learned" wait_for 5 seen "Z learned source=10.0.1.2 group=$G iif=a1 oifs=b1 rule=\"a1 \(\*, 225.8.8.0/24\)\"$"
check "learned (JSON)" wait_for 5 seen "\"event\": \"learned\", \"source\": \"10.0.1.2\", \"group\": \"$G\", \"iif\": \"a1\", \"oifs\": \[\"b1\"\]" "$JSN"

# ---- a stop filter: a group no rule covers
traffic v4 225.7.7.7 3
expect_recv rcv1 0
check "stop_filter" wait_for 5 seen "Z stop_filter source=10.0.1.2 group=225.7.7.7 iif=a1$"

# ---- expiry: both go after a period or two without packets
check "learned entry expired" wait_for "$(scaled 8)" seen "Z expired source=10.0.1.2 group=$G iif=a1 entry=learned$"
check "stop filter expired" wait_for "$(scaled 8)" seen "Z expired source=10.0.1.2 group=225.7.7.7 iif=a1 entry=stop_filter$"

# ---- flush: learn again, then flush it
traffic v4 "$G" 3
check "learned again" wait_for 5 eval "[ \$(grep -c ' learned source=10.0.1.2 group=$G ' '$TXT') -ge 2 ]"
check "smcroutectl flush" ctl flush
check "flushed count=1" wait_for 5 seen "Z flushed count=1$"
check "flushed (JSON)" wait_for 5 seen '"event": "flushed", "count": 1\}$' "$JSN"

# ---- an interface appears: the pending route from it activates; it goes
check "a route waits for x9" eval "timeout 5 '$BIN/smcroutectl' show pending | grep -q 225.9.9.9"
must ip link add x9 type dummy
must ip link set x9 up multicast on
check "interface_added x9" wait_for 5 seen "Z interface_added interface=x9 ifindex=[0-9]+$"
check "pending_activated on x9" wait_for 5 seen "Z pending_activated interface=x9 count=1$"
check "pending_activated (JSON)" wait_for 5 seen '"event": "pending_activated", "interface": "x9", "count": 1\}' "$JSN"
must ip link del x9
check "interface_removed x9" wait_for 5 seen "Z interface_removed interface=x9 ifindex=[0-9]+$"

# ---- reload applied, with its counts: one route added, one removed, one changed
write_conf <<CONF
mroute from a1 group 225.8.8.0/24 to b1 b2
mroute from a1 source 10.0.1.2 group 225.1.2.4 to b1
mgroup from b2 group 225.6.6.6
CONF
check "reload" ctl reload
check "reload_applied" wait_for 5 seen "Z reload_applied config=$CONF routes_added=1 routes_removed=2 routes_changed=1 joins_added=1 joins_removed=0 phyints_changed=0$"
check "reload_applied (JSON)" wait_for 5 seen "\"event\": \"reload_applied\", \"config\": \"$CONF\", \"routes_added\": 1, \"routes_removed\": 2, \"routes_changed\": 1, \"joins_added\": 1" "$JSN"
# ---- and refused: the running config stays
printf 'mroute from a1 group 225.8.8.0/24 to b1\nmroute bogus\n' >"$CONF"
check_not "reload of a broken config fails" ctl reload
check "reload_refused with the first error" wait_for 5 seen "Z reload_refused config=$CONF error=\"$CONF:2:[0-9]+: error: .+\"$"
check "reload_refused (JSON)" wait_for 5 seen "\"event\": \"reload_refused\", \"config\": \"$CONF\", \"error\": \"$CONF:2:" "$JSN"

# ---- upcall refusals past --max-learned (forged new sources)
out=$(nsx snd "$TOOLS/burst_send" -g 225.8.8.2 -S 10.101.0.1 -N 200 -i eth0 -r 5000) || fail "burst_send failed: $out"
check "upcall_losses with refusals" wait_for 10 seen "Z upcall_losses kernel_dropped=[0-9]+ refused=[1-9][0-9]* total_kernel_dropped=[0-9]+ total_refused=[1-9]"
check "learned from the burst too" wait_for 5 seen "Z learned source=10\.101\."

# ---- every JSON line parses, with time and event first
check "every JSON line is an object with time and event" python3 - "$JSN" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert list(o)[:2] == ["time", "event"], line
    assert o["time"].endswith("Z") and "T" in o["time"], line
    n += 1
assert n >= 10, n
print(n, "lines")
PY

# ---- SIGINT ends a monitor cleanly
kill -INT "$MON_J"
wait "$MON_J"
rc=$?
[ "$rc" = 0 ] || fail "JSON monitor exited $rc on SIGINT, want 0: $(cat "$TMP/monitor-json.err")"
say "ok: the JSON monitor exited 0 on SIGINT"
# ---- the daemon exits: the text monitor says so and exits 69
stop_daemon
wait "$MON_T"
rc=$?
[ "$rc" = 69 ] || fail "text monitor exited $rc when the daemon exited, want 69"
check "the monitor said the daemon went away" grep -q "monitor: the daemon went away" "$TMP/monitor-txt.err"
say "text monitor: $(cat "$TMP/monitor-txt.err")"
say "---- text sample"; cat "$TXT"
say "---- JSON sample"; cat "$JSN"
pass

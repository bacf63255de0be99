#!/bin/bash
# A route without outbound interfaces is a stop filter, as in SMCRoute 2.x:
# "mroute from IIF source S group G" with no 'to', "smcroutectl add IIF S G"
# and "smcroute -a IIF S G" each put a resolved kernel MFC entry with no
# OIFs in place at once, and the kernel drops that (S,G)'s real traffic
# (its packet counter counts it, no receiver gets any). A (*,G) without
# OIFs is a rule whose learned entries forward nowhere. A forwarding route
# from the same sender shows the path works; an add with OIFs later turns a
# stop filter into a forwarding route; remove takes it away.
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3
mroute from a1 group 225.1.2.4
mroute from a1 source 10.0.1.2 group 225.1.2.5 to b1 b2
CONF
start_daemon

# stop_filter SRC GRP: a resolved entry with no OIFs.
stop_filter() { mfc_has "$1" "$2" && ! mfc_forwards "$1" "$2"; }
# mfc_packets SRC GRP: the entry's packet counter.
mfc_packets() { mfc_line "$1" "$2" | awk '{ print $4 }'; }
# dropped SRC GRP COUNT: COUNT datagrams sent to GRP reach no receiver and
# the stop filter's counter grew by at least COUNT.
dropped() {
    local before after
    before=$(mfc_packets "$1" "$2")
    traffic v4 "$2" "$3"
    expect_recv rcv1 0
    expect_recv rcv2 0
    after=$(mfc_packets "$1" "$2")
    [ "$((after - before))" -ge "$3" ] || fail "the stop filter ($1, $2) counted $((after - before)) packets, $3 sent"
    check "($1, $2) is still a stop filter" stop_filter "$1" "$2"
    say "ok: $3 datagrams to $2 dropped by the stop filter (counter $before -> $after)"
}

check "config stop filter (10.0.1.2, 225.1.2.3) in the MFC before any traffic" stop_filter 10.0.1.2 225.1.2.3
say "MFC: $(mfc_line 10.0.1.2 225.1.2.3)"
check "show lists it as a stop filter" \
    eval "timeout 5 '$BIN/smcroutectl' show | grep -F '(10.0.1.2, 225.1.2.3)' | grep -qw stop"
# json_stop GRP: smcroutectl -j show has a route to GRP of kind and state
# stop with an empty OIF array.
json_stop() {
    timeout 5 "$BIN/smcroutectl" -j show | python3 -c '
import json, sys
def walk(x):
    if isinstance(x, dict):
        yield x
        for v in x.values(): yield from walk(v)
    elif isinstance(x, list):
        for v in x: yield from walk(v)
hits = [d for d in walk(json.load(sys.stdin)) if d.get("group") == sys.argv[1]]
sys.exit(not any(d.get("kind") == "stop" and d.get("state") == "stop" and d.get("oifs") == [] for d in hits))
' "$1"
}
check "JSON lists it as a stop filter with no OIFs" json_stop 225.1.2.3

traffic v4 225.1.2.5 10
expect_recv rcv1 10
expect_recv rcv2 10
dropped 10.0.1.2 225.1.2.3 10

# (*,G) without OIFs: the upcall gets an entry that forwards nowhere.
traffic v4 225.1.2.4 10
expect_recv rcv1 0
expect_recv rcv2 0
check "learned (10.0.1.2, 225.1.2.4) has no OIFs" stop_filter 10.0.1.2 225.1.2.4
check "show lists the (*, 225.1.2.4) rule" eval "timeout 5 '$BIN/smcroutectl' show | grep -qF '(*, 225.1.2.4)'"

# The client: add IIF SOURCE GROUP.
check "smcroutectl add a1 10.0.1.2 225.1.2.6" ctl add a1 10.0.1.2 225.1.2.6
check "client stop filter (10.0.1.2, 225.1.2.6) in the MFC" stop_filter 10.0.1.2 225.1.2.6
dropped 10.0.1.2 225.1.2.6 10
check_not "an add without OIFs to a route with OIFs is refused" ctl add a1 10.0.1.2 225.1.2.5
check "(10.0.1.2, 225.1.2.5) still forwards" mfc_forwards 10.0.1.2 225.1.2.5
check "smcroutectl add a1 10.0.1.2 225.1.2.6 b1" ctl add a1 10.0.1.2 225.1.2.6 b1
check "(10.0.1.2, 225.1.2.6) now forwards" mfc_forwards 10.0.1.2 225.1.2.6
traffic v4 225.1.2.6 10
expect_recv rcv1 10
expect_recv rcv2 0
check "smcroutectl remove a1 10.0.1.2 225.1.2.6 b1" ctl remove a1 10.0.1.2 225.1.2.6 b1
check "a stop filter again" stop_filter 10.0.1.2 225.1.2.6
check "smcroutectl remove a1 10.0.1.2 225.1.2.6" ctl remove a1 10.0.1.2 225.1.2.6
check "(10.0.1.2, 225.1.2.6) gone from the MFC" mfc_lacks 10.0.1.2 225.1.2.6

# The legacy client: smcroute -a IIF SOURCE GROUP.
check "smcroute -a a1 10.0.1.2 225.1.2.7" legacy -a a1 10.0.1.2 225.1.2.7
check "legacy stop filter (10.0.1.2, 225.1.2.7) in the MFC" stop_filter 10.0.1.2 225.1.2.7
dropped 10.0.1.2 225.1.2.7 5
pass

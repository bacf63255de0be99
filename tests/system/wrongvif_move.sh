#!/bin/bash
# A learned (*,G) entry follows its source (DESIGN §4): source S first
# sends from snd (arrives on a1), the rule "from a1 ... to b1 b2" installs
# (S,G) iif a1, oifs b1 b2. Then S moves behind rcv1 (arrives on b1). The
# kernel sends a WRONGVIF upcall only when the packet arrives on one of the
# entry's OUTBOUND interfaces (PIM off), so b1 is an OIF of the first entry;
# the rule "from b1 ... to a1 b2" allows b1, so the daemon moves the entry:
# iif b1, oifs a1 b2, and rcv2 (and snd) receive the stream from the new
# side. The log says it moved, and `smcroutectl monitor` shows a
# wrongvif_move event from a1 to b1. A static (S,G) route is never moved, even
# when a rule would allow the new interface: it keeps iif a1 and its
# packets arriving on b1 are not forwarded.
. "$(dirname "$0")/lib.sh"
topo

S=10.9.9.9      # an address of no namespace's subnets; rp_filter is off
G=225.1.2.3     # learned from the rules
GS=225.1.2.4    # static (S, GS) from a1; a rule would allow b1 too
write_conf <<CONF
mroute from a1 group $G to b1 b2
mroute from b1 group $G to a1 b2
mroute from b1 group $GS to a1 b2
mroute from a1 source $S group $GS to b1 b2
CONF
start_daemon
"$BIN/smcroutectl" monitor >"$TMP/monitor.txt" 2>&1 &
RECV_PIDS+=("$!")
check "monitor subscribed" wait_for 10 grep -q monitor_started "$TMP/monitor.txt"

vif_of() { awk -v n="$1" 'NR > 1 && $2 == n { print $1 }' /proc/net/ip_mr_vif; }
# entry_is SRC GRP IIF OIF...: the kernel entry has that IIF's VIF as Iif
# and exactly those OIFs' VIFs as outbound interfaces.
entry_is() {
    local src=$1 grp=$2 iif=$3; shift 3
    local line want got n v
    line=$(mfc_line "$src" "$grp") || return 1
    [ "$(awk '{ print $3 }' <<<"$line")" = "$(vif_of "$iif")" ] || return 1
    want=""
    for n in "$@"; do
        v=$(vif_of "$n")
        [ -n "$v" ] || return 1
        want+="$v "
    done
    want=$(tr ' ' '\n' <<<"$want" | sed '/^$/d' | sort -n | tr '\n' ' ')
    got=$(awk '{ for (i = 7; i <= NF; i++) { split($i, p, ":"); print p[1] } }' <<<"$line" | sort -n | tr '\n' ' ')
    [ "$got" = "$want" ]
}
show_entry() { mfc_line "$1" "$2" || echo "(no resolved entry for ($1, $2))"; }

check "static ($S, $GS) installed from a1 to b1 b2" wait_for 3 entry_is $S $GS a1 b1 b2

# ---- phase 1: S behind snd, arrives on a1
add_src $S
SND_NS=snd RECEIVERS="rcv1 rcv2"
traffic v4 $G 10 -s $S
expect_recv rcv1 10
expect_recv rcv2 10
check "learned ($S, $G): iif a1, oifs b1 b2" wait_for 2 entry_is $S $G a1 b1 b2
say "entry: $(show_entry $S $G)"
traffic v4 $GS 10 -s $S
expect_recv rcv1 10
expect_recv rcv2 10

# ---- phase 2: S stops on snd and appears behind rcv1, arrives on b1
must nsx snd ip addr del $S/24 dev eth0
must nsx rcv1 ip addr add $S/24 dev eth0
SND_NS=rcv1 RECEIVERS="snd rcv2"
# The packets that raise the WRONGVIF upcall are dropped by the kernel; the
# rest of the stream reaches the new OIFs once the daemon moved the entry.
traffic v4 $G 30 -s $S -r 50
expect_recv_at_least rcv2 20
expect_recv_at_least snd 20
check "moved ($S, $G): iif b1, oifs a1 b2" wait_for 2 entry_is $S $G b1 a1 b2
say "entry: $(show_entry $S $G)"
check "daemon logged the move of ($S, $G) to b1" \
    grep -Eq "\(?$S, ?$G\)?.*mov.*b1|mov.*\(?$S, ?$G\)?.*b1" "$TMP/daemon.log"
check "monitor saw the move" wait_for 5 grep -Eq "Z wrongvif_move source=$S group=$G from=a1 to=b1$" "$TMP/monitor.txt"
say "monitor: $(grep wrongvif_move "$TMP/monitor.txt")"
# Steady state on the new side: every datagram.
traffic v4 $G 10 -s $S
expect_recv rcv2 10
expect_recv snd 10

# ---- the static route stays where the config put it
traffic v4 $GS 20 -s $S -r 50
expect_recv rcv2 0
expect_recv snd 0
check "static ($S, $GS) still iif a1, oifs b1 b2" entry_is $S $GS a1 b1 b2
check "the kernel counted the static route's wrong-interface packets" \
    eval "[ \"\$(mfc_line $S $GS | awk '{ print \$6 }')\" -gt 0 ]"
check_not "daemon did not log a move of ($S, $GS)" \
    grep -Eq "mov.*$S, ?$GS|$S, ?$GS.*mov" "$TMP/daemon.log"
say "static entry: $(show_entry $S $GS)"

# ---- and back: S returns behind snd, the entry moves back to a1
must nsx rcv1 ip addr del $S/24 dev eth0
must nsx snd ip addr add $S/24 dev eth0
sleep 1.1  # the daemon moves an entry at most once a second
SND_NS=snd RECEIVERS="rcv1 rcv2"
traffic v4 $G 30 -s $S -r 50
expect_recv_at_least rcv1 20
expect_recv_at_least rcv2 20
check "moved back ($S, $G): iif a1, oifs b1 b2" wait_for 2 entry_is $S $G a1 b1 b2
pass

#!/bin/bash
# `smcroute check`: every problem is created for real in the router
# namespace, and check must name it with its fix and exit 1 (warnings only:
# exit 0); once all is fixed it says "no problems found" and exits 0.
. "$(dirname "$0")/lib.sh"
topo
v6=0
[ -e /proc/net/ip6_mr_cache ] && v6=1

# chk [CLIENT-ARGS...]: run smcroutectl ... check ...; output in OUT, status in RC.
chk() {
    say "+ smcroutectl $*"
    OUT=$(timeout 20 "$BIN/smcroutectl" "$@" 2>&1)
    RC=$?
    sed 's/^/    | /' <<<"$OUT"
}
has()    { grep -qxF -- "$1" <<<"$OUT" || fail "check output lacks the line: $1"; say "ok: '$1'"; }
has_re() { grep -qE -- "$1" <<<"$OUT" || fail "check output matches nothing of: $1"; say "ok: /$1/"; }
lacks()  { ! grep -qF -- "$1" <<<"$OUT" || fail "check output should not contain: $1"; say "ok: no '$1'"; }
rc_is()  { [ "$RC" = "$1" ] || fail "check exited $RC, expected $1"; say "ok: exit $1"; }

echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1" | write_conf

# ------------------------------------------------------------ no daemon
chk -f "$CONF" check
has "problem: daemon: no multicast routing daemon is running: the kernel forwards nothing"
has "  fix: smcrouted -f $CONF"
has "check: 1 problem, 0 warnings"
has "check: no daemon answers on /run/smcroute.sock"
has_re "^check: kernel multicast routing: IPv4 yes, IPv6 (yes|no)$"
rc_is 1
# An empty config still needs a daemon.
: >"$TMP/empty.conf"
chk -f "$TMP/empty.conf" check
has "problem: daemon: no multicast routing daemon is running: the kernel forwards nothing"
rc_is 1
# The legacy personality's verb form, and its start command.
say "+ smcroute --config $CONF check"
OUT=$(timeout 20 "$BIN/smcroute" --config "$CONF" check 2>&1); RC=$?
has "  fix: smcroute -d --config $CONF"
rc_is 1

# ------------------------------------------------- another program holds it
start_daemon -i other -u /run/other.sock
other=$DAEMON_PID
chk -f "$CONF" check
has_re "^problem: IPv4 routing table 0: held by another program, pid $other \(smcrouted\), not by smcroute"
rc_is 1
stop_daemon "$other"

# ----------------------------------------------------------- all is well
start_daemon
check "the daemon has a VIF on b1" wait_for 3 grep -qx 1 /proc/sys/net/ipv4/conf/b1/mc_forwarding
chk -f "$CONF" check
has "check: config $CONF: 1 route, 0 joins, 0 phyints"
has "check: the daemon answers on /run/smcroute.sock"
has "check: no problems found"
rc_is 0
chk -j -f "$CONF" check
has '  "daemon": true,'
has '  "problems": 0,'
rc_is 0

# A config the running daemon does not run: no VIF on b2 yet.
echo "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b2" >"$TMP/other.conf"
chk -f "$TMP/other.conf" check
has "warning: b2: the running daemon has no VIF on it (net.ipv4.conf.b2.mc_forwarding is 0): it does not run this configuration yet"
has "  fix: smcroute reload"
rc_is 0

# ------------------------------------------------------------ link down
must ip link set b1 down
chk -f "$CONF" check
has "problem: b1: interface is down"
has "  fix: ip link set b1 up"
rc_is 1
must ip link set b1 up

# ------------------------------------------------------- multicast off
must ip link set b2 multicast off
chk check a1 10.0.1.2 225.1.2.3 b2
has "check: route (10.0.1.2, 225.1.2.3) from a1"
has "problem: b2: interface has no MULTICAST flag"
has "  fix: ip link set b2 multicast on"
rc_is 1
must ip link set b2 multicast on

# --------------------------------------- no carrier, no address (c1 <-> c2)
must ip link add c1 type veth peer name c2
must ip link set c1 up
chk check a1 10.0.1.2 225.1.2.3 c1
has "problem: c1: interface is up but has no carrier (cable unplugged or the other end down)"
rc_is 1
must ip link set c2 up
check "c1 has carrier" wait_for 3 sh -c 'ip link show c1 | grep -q LOWER_UP'
chk check a1 10.0.1.2 225.1.2.3 c1
has_re "^warning: c1: no IPv4 address: "
has "  fix: ip addr add ADDRESS/LEN dev c1"
has "check: no problems found, 1 warning"
rc_is 0
if [ "$v6" = 1 ]; then
    must sysctl -qw net.ipv6.conf.c1.disable_ipv6=1
    chk check a1 fd01::2 ff0e::123 c1
    has "problem: c1: no IPv6 address (IPv6 disabled?): IPv6 multicast cannot be routed on it"
    has "  fix: sysctl -w net.ipv6.conf.c1.disable_ipv6=0"
    rc_is 1
    must sysctl -qw net.ipv6.conf.c1.disable_ipv6=0
fi

# ------------------------------------------------------------- rp_filter
must sysctl -qw net.ipv4.conf.a1.rp_filter=1
chk check a1 10.9.9.9 225.1.2.3 b1
has "problem: route (10.9.9.9, 225.1.2.3) from a1: reverse-path filter (net.ipv4.conf.a1.rp_filter = 1) drops its packets: the kernel has no route back to 10.9.9.9"
rc_is 1
must ip route add 10.9.9.0/24 via 10.0.2.2 dev b1
chk check a1 10.9.9.9 225.1.2.3 b1
has "problem: route (10.9.9.9, 225.1.2.3) from a1: reverse-path filter is strict (net.ipv4.conf.a1.rp_filter = 1) and the route back to 10.9.9.9 goes out of b1, not a1: the kernel drops its packets"
has "  fix: sysctl -w net.ipv4.conf.a1.rp_filter=0   (or route 10.9.9.9 via a1)"
rc_is 1
# What check says is what the kernel does: dropped now, forwarded once fixed.
add_src 10.9.9.9
must ctl add a1 10.9.9.9 225.1.2.9 b1
expect_no_forward v4 225.1.2.9 rcv1 10 -s 10.9.9.9
# A source that is routed back via a1 passes.
chk check a1 10.0.1.2 225.1.2.3 b1
lacks "reverse-path"
rc_is 0
must sysctl -qw net.ipv4.conf.a1.rp_filter=0
chk check a1 10.9.9.9 225.1.2.3 b1
lacks "reverse-path"
rc_is 0
expect_forward v4 225.1.2.9 rcv1 10 -s 10.9.9.9
must ctl remove a1 10.9.9.9 225.1.2.9

# ------------------------------------------------------ route-level issues
chk check a1 10.0.1.2 225.1.2.3 nosuch0
has "problem: nosuch0: no such interface: the routes and joins that name it wait until it appears"
rc_is 1
# The config's own rules, as -F and the daemon judge them (model/config_judge).
chk check a1 10.0.1.2 224.0.0.5 b1
has "warning: route (10.0.1.2, 224.0.0.5) from a1: group 224.0.0.5 is link-local (224.0.0.0/24): the kernel never forwards it"
rc_is 0
chk check a1 10.0.1.2 225.1.2.3 a1
has "warning: route (10.0.1.2, 225.1.2.3) from a1: outbound interface a1 is also the inbound interface: traffic may loop"
rc_is 0

cat >"$TMP/conflict.conf" <<EOF
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from b2 source 10.0.1.2 group 225.1.2.3 to b1
EOF
chk -f "$TMP/conflict.conf" check
has_re "^problem: .*conflict.conf:2: config error: route \(10.0.1.2, 225.1.2.3\) from b2 conflicts with the route from a1 at .*conflict.conf:1: "
rc_is 1
printf 'phyint a+ disable\nmroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n' >"$TMP/disabled.conf"
chk -f "$TMP/disabled.conf" check
has_re "^warning: .*disabled.conf:2: config: inbound interface a1 is disabled by 'phyint a\+ disable' at .*disabled.conf:1: "

chk check a1
rc_is 64

# -------------------------------------------------- everything fixed again
check "VIFs back after the link changes" wait_for 5 sh -c "'$BIN/smcroutectl' -f '$CONF' check >/dev/null"
chk -f "$CONF" check
has "check: no problems found"
rc_is 0
pass

#!/bin/bash
# Two daemons side by side on kernel multicast routing tables 1 and 2
# (-t 1 -i one, -t 2 -i two), selected by "ip mrule ... iif": each installs
# its routes in its own table, forwards its own traffic only, answers on its
# own socket, and stopping one leaves the other forwarding.
. "$(dirname "$0")/lib.sh"
topo
ip mrule show >/dev/null 2>&1 \
    || skip "kernel lacks multiple multicast routing tables (ip mrule; CONFIG_IP_MROUTE_MULTIPLE_TABLES)"
ip mrule add iif a1 table 1 2>/dev/null \
    || skip "cannot add 'ip mrule iif a1 table 1' (CONFIG_IP_MROUTE_MULTIPLE_TABLES)"
must ip mrule add iif b2 table 2

cat >"$TMP/one.conf" <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
cat >"$TMP/two.conf" <<'CONF'
mroute from b2 source 10.0.3.2 group 225.1.2.4 to b1
CONF
start_daemon -t 1 -i one -f "$TMP/one.conf"
pid_one=$DAEMON_PID
start_daemon -t 2 -i two -f "$TMP/two.conf"
pid_two=$DAEMON_PID

check "socket /run/one.sock" test -S /run/one.sock
check "socket /run/two.sock" test -S /run/two.sock
check "table 1 has (10.0.1.2, 225.1.2.3)" wait_for 2 mroute_table_has 1 10.0.1.2 225.1.2.3
check "table 2 has (10.0.3.2, 225.1.2.4)" wait_for 2 mroute_table_has 2 10.0.3.2 225.1.2.4
check_not "table 1 lacks (10.0.3.2, 225.1.2.4)" mroute_table_has 1 10.0.3.2 225.1.2.4
check_not "table 2 lacks (10.0.1.2, 225.1.2.3)" mroute_table_has 2 10.0.1.2 225.1.2.3
check_not "default table lacks (10.0.1.2, 225.1.2.3)" mfc_has 10.0.1.2 225.1.2.3

# Daemon one: snd -> a1 -> b1.
traffic v4 225.1.2.3 10
expect_recv rcv1 10
expect_recv rcv2 0
# Table 1 has no route for 225.1.2.4.
traffic v4 225.1.2.4 10
expect_recv rcv1 0

# Daemon two: rcv2 -> b2 -> b1.
SND_NS=rcv2 RECEIVERS="rcv1 snd"
traffic v4 225.1.2.4 10 -s 10.0.3.2
expect_recv rcv1 10
expect_recv snd 0
traffic v4 225.1.2.3 10 -s 10.0.3.2
expect_recv rcv1 0

# Each client reaches its own daemon.
check "smcroutectl -i two add b2 10.0.3.2 225.1.2.5 b1" ctl -i two add b2 10.0.3.2 225.1.2.5 b1
check "table 2 has (10.0.3.2, 225.1.2.5)" wait_for 2 mroute_table_has 2 10.0.3.2 225.1.2.5
check_not "table 1 lacks (10.0.3.2, 225.1.2.5)" mroute_table_has 1 10.0.3.2 225.1.2.5
traffic v4 225.1.2.5 10 -s 10.0.3.2
expect_recv rcv1 10

# Stopping daemon two leaves daemon one and its table untouched.
stop_daemon "$pid_two"
check_not "table 2 empty after daemon two exits" mroute_table_has 2 10.0.3.2 225.1.2.4
traffic v4 225.1.2.4 10 -s 10.0.3.2
expect_recv rcv1 0
SND_NS=snd RECEIVERS="rcv1 rcv2"
check "table 1 still has (10.0.1.2, 225.1.2.3)" mroute_table_has 1 10.0.1.2 225.1.2.3
traffic v4 225.1.2.3 10
expect_recv rcv1 10
check "daemon one still running" alive "$pid_one"
pass

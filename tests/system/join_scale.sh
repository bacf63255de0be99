#!/bin/bash
# Thousands of joins on one interface work although the kernel allows only
# net.ipv4.igmp_max_memberships (default 20) per socket: 4 x /24 mgroup
# ranges (1024 groups) on a1, 1000 single mgroup lines on b1 and a /120
# IPv6 range (256) on b2 are all in /proc/net/igmp{,6} after start; a range
# joined through the verb (/28: 16 groups) and left again; exit leaves them
# all. Times are printed, not asserted.
. "$(dirname "$0")/lib.sh"
topo

max=$(sysctl -n net.ipv4.igmp_max_memberships)
say "net.ipv4.igmp_max_memberships = $max"
[ "$max" -lt 1000 ] || fail "igmp_max_memberships is $max: this test needs a small per-socket limit"

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Expected sets, sorted.
for c in 0 1 2 3; do for d in $(seq 0 255); do echo "225.10.$c.$d"; done; done | sort >"$TMP/want_a1"
for i in $(seq 0 999); do echo "226.20.$((i / 250)).$((i % 250 + 1))"; done | sort >"$TMP/want_b1"
for i in $(seq 0 255); do expand6 "ff0e::7:$(printf '%x' "$i")"; done | sort >"$TMP/want_b2"
{
    for c in 0 1 2 3; do echo "mgroup from a1 group 225.10.$c.0/24"; done
    while read -r g; do echo "mgroup from b1 group $g"; done <"$TMP/want_b1"
    echo "mgroup from b2 group ff0e::7:0/120"
} | write_conf

# got IF PATTERN: the kernel's groups on IF matching PATTERN, sorted.
got() { kernel_groups "$1" | grep -E -- "$2" | sort; }
all_there() {
    [ "$(got a1 '^225\.10\.' | wc -l)" = 1024 ] &&
    [ "$(got b1 '^226\.20\.' | wc -l)" = 1000 ] &&
    [ "$(got b2 '^ff0e:0000:0000:0000:0000:0000:0007:' | wc -l)" = 256 ]
}

t0=$(ms)
start_daemon
t1=$(ms)
wait_for 30 all_there
t2=$(ms)
say "TIMING: daemon answering after $((t1 - t0)) ms; all 2280 joins in the kernel after $((t2 - t0)) ms"
diff <(got a1 '^225\.10\.') "$TMP/want_a1" >"$TMP/diff" || fail "a1: groups in /proc/net/igmp differ from the 4 x /24: $(head -20 "$TMP/diff")"
say "ok: all 1024 groups of 225.10.0.0/24..225.10.3.0/24 on a1"
diff <(got b1 '^226\.20\.') "$TMP/want_b1" >"$TMP/diff" || fail "b1: groups in /proc/net/igmp differ from the 1000 mgroup lines: $(head -20 "$TMP/diff")"
say "ok: all 1000 single-line groups on b1"
diff <(got b2 '^ff0e:0000:0000:0000:0000:0000:0007:') "$TMP/want_b2" >"$TMP/diff" || fail "b2: groups in /proc/net/igmp6 differ from ff0e::7:0/120: $(head -20 "$TMP/diff")"
say "ok: all 256 groups of ff0e::7:0/120 on b2"
check_not "none of them leaked to another interface" grep -qE '^(225\.10|226\.20)\.' <(kernel_groups b2; kernel_groups a1 | grep '^226'; kernel_groups b1 | grep '^225')

n=$(timeout 10 "$BIN/smcroutectl" show groups | grep -c ' active ')
[ "$n" = 1005 ] || fail "show groups: $n active rows, want 1005 (4 ranges, 1000 lines, 1 IPv6 range)"
say "ok: show groups lists 1005 active joins"

# A range through the verb.
t0=$(ms)
check "join a1 225.4.4.0/28" ctl join a1 225.4.4.0/28
t1=$(ms)
say "TIMING: join of a /28 took $((t1 - t0)) ms"
for d in $(seq 0 15); do echo "225.4.4.$d"; done | sort >"$TMP/want_r"
diff <(got a1 '^225\.4\.4\.') "$TMP/want_r" >"$TMP/diff" || fail "a1: after join 225.4.4.0/28: $(cat "$TMP/diff")"
say "ok: the 16 groups of 225.4.4.0/28 are on a1"
check "leave a1 225.4.4.0/28" ctl leave a1 225.4.4.0/28
[ -z "$(got a1 '^225\.4\.4\.')" ] || fail "a1 still holds groups of 225.4.4.0/28 after leave: $(got a1 '^225\.4\.4\.')"
say "ok: leave of the /28 removed its 16 groups"
[ "$(got a1 '^225\.10\.' | wc -l)" = 1024 ] || fail "the 1024 config groups changed after join/leave of the /28"

# Exit leaves every group.
t0=$(ms)
stop_daemon
t1=$(ms)
say "TIMING: exit (leaving 2280 groups) took $((t1 - t0)) ms"
left=$( (got a1 '^225\.'; got b1 '^226\.'; got b2 '^ff0e:') | wc -l)
[ "$left" = 0 ] || fail "$left groups still joined after the daemon exited"
say "ok: no group left after exit"
pass

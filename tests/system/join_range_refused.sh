#!/bin/bash
# A join range larger than the limit (1024 joins per line) is refused: the
# verb (IPv4 /16, IPv6 /112) fails with an error naming the range and the
# limit, joins nothing, and the daemon keeps running and forwarding; the
# limit itself (/22 = 1024) is accepted. The same line in a config makes
# smcrouted -F fail with the located error (file:line:col: error: ...).
. "$(dirname "$0")/lib.sh"
topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
start_daemon
expect_forward v4 225.1.2.3 rcv1

# refused_range CMD...: non-zero, message names the range and the limit 1024.
refused_range() {
    local range=$1 out; shift
    say "+ $*"
    if out=$("$@" 2>&1); then
        fail "$* succeeded, want it refused: $out"
    fi
    grep -qF -- "$range" <<<"$out" || fail "$*: message does not name the range $range: $out"
    grep -qw 1024 <<<"$out" || fail "$*: message does not name the limit 1024: $out"
    grep -qi limit <<<"$out" || fail "$*: message does not say 'limit': $out"
    say "ok: refused: $out"
}
n_a1() { kernel_groups a1 | grep -c "^$1" ; }
before=$(kernel_groups a1 | wc -l)

refused_range 225.4.0.0/16 timeout 10 "$BIN/smcroutectl" join a1 225.4.0.0/16
refused_range 225.4.0.0/21 timeout 10 "$BIN/smcroutectl" join a1 225.4.0.0/21
refused_range ff0e::/112   timeout 10 "$BIN/smcroutectl" join a1 ff0e::/112
refused_range 225.4.0.0/16 timeout 10 "$BIN/smcroute" -j a1 225.4.0.0/16
check "daemon still running" alive "$DAEMON_PID"
[ "$(kernel_groups a1 | wc -l)" = "$before" ] || fail "a refused range changed the groups on a1: $(kernel_groups a1 | head)"
say "ok: no group joined by a refused range"
check_not "show groups does not list the refused range" grep -qF 225.4.0.0 <(timeout 10 "$BIN/smcroutectl" show groups)
check "the existing route is still in the kernel" mfc_forwards 10.0.1.2 225.1.2.3
expect_forward v4 225.1.2.3 rcv1

# The limit itself is allowed, and can be left again.
check "join a1 225.5.0.0/22 (1024 joins, the limit)" ctl join a1 225.5.0.0/22
[ "$(n_a1 '225\.5\.')" = 1024 ] || fail "join of 225.5.0.0/22: $(n_a1 '225\.5\.') groups on a1, want 1024"
say "ok: 1024 groups of 225.5.0.0/22 on a1"
check "leave a1 225.5.0.0/22" ctl leave a1 225.5.0.0/22
[ "$(n_a1 '225\.5\.')" = 0 ] || fail "leave of 225.5.0.0/22 left $(n_a1 '225\.5\.') groups"

# The same in a config file: smcrouted -F names file, line and column.
bad=$TMP/bad.conf
cat >"$bad" <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mgroup from a1 group 225.4.0.0/16
mgroup from a1 group 225.5.0.0/22
CONF
say "+ smcrouted -F $bad"
out=$(timeout 10 "$BIN/smcrouted" -F "$bad" 2>&1)
rc=$?
echo "$out"
[ "$rc" != 0 ] || fail "smcrouted -F accepted a /16 join range"
[ "$rc" = 78 ] || fail "smcrouted -F exit status $rc, want 78 (config error)"
grep -qE "^$bad:2:[0-9]+: error: .*225\.4\.0\.0/16.*" <<<"$out" || fail "no '$bad:2:COL: error: ... 225.4.0.0/16' line: $out"
grep -E "^$bad:2:" <<<"$out" | grep -qw 1024 || fail "the located error does not name the limit 1024: $out"
grep -qE "^$bad:3:" <<<"$out" && fail "line 3 (a /22, at the limit) reported as an error: $out"
say "ok: smcrouted -F fails (78) with the located error"
# ...and a reload with that file keeps the running config.
cp "$bad" "$CONF"
check_not "reload with the /16 line fails" ctl reload
check "daemon still running after the refused reload" alive "$DAEMON_PID"
check_not "no group of the refused config was joined" grep -q '^225\.[45]\.' <(kernel_groups a1)
expect_forward v4 225.1.2.3 rcv1
pass

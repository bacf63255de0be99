#!/bin/bash
# smcroutectl show: routes and rules with their states (active, rule,
# pending, learned, stop); -d counters that grow with real traffic; show
# interfaces with the VIF numbers the kernel has; JSON (-j) that parses;
# show pending with the reason; abbreviated verbs ("s i"); headings: none
# when not on a terminal, -p forces them, -t drops them (also on a terminal).
. "$(dirname "$0")/lib.sh"
topo
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 group 225.1.2.9 to b2
mroute from nosuch0 source 10.0.1.2 group 225.1.2.4 to b1
CONF
start_daemon

# q ARGS...: the client, output captured by the caller (ctl also logs).
q() { timeout 10 "$BIN/smcroutectl" "$@"; }
# squeeze: rows compared regardless of column widths.
squeeze() { sed -e 's/  */ /g' -e 's/ $//'; }

SG='(10.0.1.2, 225.1.2.3)'

# row OUTPUT KEY: the line of OUTPUT whose first column is KEY.
row() { echo "$1" | grep -F -- "$2  " | head -n 1; }
# col LINE N: column N of a table line (columns are separated by 2+ spaces).
col() { echo "$1" | awk -F '  +' -v n="$2" '{ gsub(/^ +| +$/, ""); print $n }'; }
# state_of OUTPUT KEY: the STATE column (3rd) of the row KEY.
state_of() { col "$(row "$1" "$2")" 3; }

# ---- show: every row with its state
traffic v4 225.1.2.9 4 -r 0            # learned via the (*,G) rule
expect_recv rcv2 4
traffic v4 225.1.2.77 4 -r 0           # no rule: stop filter
expect_recv rcv1 0
expect_recv rcv2 0
check "learned entry in the MFC" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.9
check "stop filter in the MFC" wait_for 2 mfc_has 10.0.1.2 225.1.2.77
out=$(q show) || fail "show failed"
echo "$out"
for want in "$SG:active" "(*, 225.1.2.9):rule" "(10.0.1.2, 225.1.2.4):pending" \
            "(10.0.1.2, 225.1.2.9):learned" "(10.0.1.2, 225.1.2.77):stop"; do
    key=${want%:*}; st=${want##*:}
    [ "$(state_of "$out" "$key")" = "$st" ] \
        || fail "show: row $key has state '$(state_of "$out" "$key")', want '$st'"
    say "ok: show lists $key as $st"
done
[ "$(col "$(row "$out" "$SG")" 2)" = a1 ] || fail "show: $SG IIF column is not a1"
[ "$(col "$(row "$out" "$SG")" 4)" = b1 ] || fail "show: $SG OIFS column is not b1"
[ "$(col "$(row "$out" "(*, 225.1.2.9)")" 4)" = b2 ] || fail "show: (*, 225.1.2.9) OIFS column is not b2"

# ---- headings: none when not a terminal, -p prints them, -t drops them
check_not "show (not a terminal) prints no heading" grep -q '^ROUTE' <<<"$out"
outp=$(q -p show) || fail "-p show failed"
[ "$(echo "$outp" | head -n 1 | awk '{ print $1 }')" = ROUTE ] || fail "-p show: first line is not a heading: $outp"
say "ok: -p show prints the heading"
[ "$(echo "$outp" | tail -n +2 | squeeze)" = "$(echo "$out" | squeeze)" ] || fail "-p show rows differ from show rows"
outt=$(q -t show) || fail "-t show failed"
[ "$outt" = "$out" ] || fail "-t show differs from show when not a terminal"
if command -v script >/dev/null 2>&1; then
    tty_out=$(script -qec "$BIN/smcroutectl show" /dev/null | tr -d '\r')
    [ "$(echo "$tty_out" | head -n 1 | awk '{ print $1 }')" = ROUTE ] \
        || fail "show on a terminal prints no heading: $tty_out"
    say "ok: show on a terminal prints the heading"
    tty_out=$(script -qec "$BIN/smcroutectl -t show" /dev/null | tr -d '\r')
    check_not "-t show on a terminal prints no heading" grep -q '^ROUTE' <<<"$tty_out"
    check "-t show on a terminal still prints the rows" grep -q -F "$SG" <<<"$tty_out"
fi

# ---- -d show: counters of (S,G) grow with real traffic
# packets_of: the PACKETS column of $SG in "-p -d show" (found by heading).
packets_of() {
    local o
    o=$(timeout 10 "$BIN/smcroutectl" -p -d show) || return 1
    echo "$o" | awk -F '  +' -v key="$SG" -v want="$1" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) c = i; next }
        index($0, key "  ") == 1 && c { print $c; found = 1 }
        END { exit !(c && found) }'
}
p0=$(packets_of PACKETS) || fail "-p -d show has no PACKETS column / no $SG row: $(q -p -d show)"
b0=$(packets_of BYTES) || fail "-p -d show has no BYTES column"
say "before: packets=$p0 bytes=$b0"
traffic v4 225.1.2.3 10
expect_recv rcv1 10
p1=$(packets_of PACKETS); b1=$(packets_of BYTES)
say "after: packets=$p1 bytes=$b1"
case "$p0$p1$b0$b1" in *[!0-9]*) fail "counters are not numbers: $p0 $p1 $b0 $b1" ;; esac
[ $((p1 - p0)) -ge 10 ] || fail "-d show: packets went from $p0 to $p1 after 10 datagrams"
[ "$b1" -gt "$b0" ] || fail "-d show: bytes went from $b0 to $b1 after 10 datagrams"
# The kernel agrees (Pkts column of /proc/net/ip_mr_cache).
kp=$(mfc_line 10.0.1.2 225.1.2.3 | awk '{ print $4 }')
[ "$kp" = "$p1" ] || fail "-d show says $p1 packets, the kernel $kp"
say "ok: -d show counters grew by $((p1 - p0)) packets, match the kernel"
# The plain -d show row carries the same counter.
dout=$(q -d show) || fail "-d show failed"
row "$dout" "$SG" | grep -q -w -- "$p1" || fail "-d show row lacks the packet count $p1: $dout"

# ---- show interfaces: VIF numbers match /proc/net/ip_mr_vif
ifs=$(q -p show interfaces) || fail "show interfaces failed"
echo "$ifs"
vifcol=$(echo "$ifs" | head -n 1 | awk -F '  +' '{ for (i = 1; i <= NF; i++) if ($i == "VIF") print i }')
[ -n "$vifcol" ] || fail "show interfaces: no VIF heading: $ifs"
for ifname in a1 b1 b2; do
    kvif=$(awk -v n="$ifname" 'NR > 1 && $2 == n { print $1 }' /proc/net/ip_mr_vif)
    [ -n "$kvif" ] || fail "$ifname has no VIF in the kernel"
    svif=$(echo "$ifs" | awk -F '  +' -v n="$ifname" -v c="$vifcol" '{ for (i = 1; i <= NF; i++) if ($i == n) print $c }')
    [ "$svif" = "$kvif" ] || fail "show interfaces: $ifname VIF '$svif', kernel says $kvif"
    say "ok: show interfaces: $ifname VIF $svif as in the kernel"
done
lo_vif=$(echo "$ifs" | awk -F '  +' -v c="$vifcol" '{ for (i = 1; i <= NF; i++) if ($i == "lo") print $c }')
[ "$lo_vif" = - ] || fail "show interfaces: lo has VIF '$lo_vif', want '-'"
# Abbreviations.
[ "$(q -p s i)" = "$ifs" ] || fail "'s i' differs from 'show interfaces'"
say "ok: 's i' = 'show interfaces'"
[ "$(q s)" = "$(q show routes)" ] || fail "'s' differs from 'show routes'"
[ "$(q sh r)" = "$(q show routes)" ] || fail "'sh r' differs from 'show routes'"
[ "$(q s p)" = "$(q show pending)" ] || fail "'s p' differs from 'show pending'"
say "ok: abbreviations s, sh r, s p"

# ---- JSON
q -j show >"$TMP/routes.json" || fail "-j show failed"
check "-j show: valid JSON with the expected routes" python3 - "$TMP/routes.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = {(r["source"], r["group"]): r for r in d["routes"]}
r = rows[("10.0.1.2", "225.1.2.3")]
assert r["state"] == "active" and r["iif"] == "a1" and r["oifs"] == ["b1"], r
assert rows[("*", "225.1.2.9")]["state"] == "rule"
assert rows[("10.0.1.2", "225.1.2.4")]["state"] == "pending"
assert rows[("10.0.1.2", "225.1.2.9")]["state"] == "learned"
assert rows[("10.0.1.2", "225.1.2.77")]["state"] == "stop"
PY
q -j -d show >"$TMP/routes-d.json" || fail "-j -d show failed"
check "-j -d show: counters equal the kernel's" python3 - "$TMP/routes-d.json" "$kp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = [r for r in d["routes"] if r["source"] == "10.0.1.2" and r["group"] == "225.1.2.3"][0]
assert r["packets"] == int(sys.argv[2]), (r, sys.argv[2])
assert r["bytes"] > 0 and r["wrong_if"] == 0, r
PY
q -j show interfaces >"$TMP/ifs.json" || fail "-j show interfaces failed"
awk 'NR > 1 { print $2, $1 }' /proc/net/ip_mr_vif >"$TMP/kvifs"
check "-j show interfaces: valid JSON, VIFs as in the kernel" python3 - "$TMP/ifs.json" "$TMP/kvifs" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
vifs = {i["name"]: i["vif"] for i in d["interfaces"]}
kernel = dict((n, int(v)) for n, v in (l.split() for l in open(sys.argv[2])))
for name in ("a1", "b1", "b2"):
    assert vifs[name] == kernel[name], (name, vifs, kernel)
assert vifs["lo"] is None, vifs
PY

# ---- show pending: the route with the missing interface, and why
pend=$(q show pending) || fail "show pending failed"
echo "$pend"
prow=$(row "$pend" "(10.0.1.2, 225.1.2.4)")
[ -n "$prow" ] || fail "show pending lacks (10.0.1.2, 225.1.2.4): $pend"
check "show pending gives the reason naming nosuch0" grep -q 'nosuch0.*does not exist' <<<"$prow"
check_not "show pending does not list the active route" grep -q -F "$SG" <<<"$pend"
[ "$(echo "$pend" | grep -c .)" = 1 ] || fail "show pending lists more than the one pending route: $pend"
pass

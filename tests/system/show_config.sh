#!/bin/bash
# show config prints the effective configuration as config-file text that
# round-trips: a config with include (a file, a directory, a glob), a
# merged route key, wildcards, a (*,G) prefix rule, a stop filter, a route
# pending on a missing interface, ssmgroup, an SSM and a range join and
# phyint options. Every config line carries its source file:line (which
# names a line of that directive); client entries are commented out.
# `smcrouted -F` accepts the text, and a second daemon (its own socket)
# started from it after the first stopped holds exactly the same routes
# and joins (show routes, show groups) and shows the same config lines.
# -j: {"config": [...]} with kind, origin, text, file, line.
. "$(dirname "$0")/lib.sh"
topo
command -v python3 >/dev/null 2>&1 || fail "python3 not found (needed to check the JSON)"

mkdir -p "$TMP/conf.d" "$TMP/more"
write_conf <<'CONF'
# main file
phyint b2 ttl-threshold 4
phyint a1 enable mrdisc
include conf.d
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1
include more/*.conf
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b2
ssmgroup from b1 group 232.1.1.1 source 10.0.2.2
CONF
cat >"$TMP/conf.d/10-rules.conf" <<'CONF'
mroute from a1 group 225.2.0.0/16 to b+
mroute from a1 source 10.0.1.0/24 group 225.3.3.3 to b1

mgroup from b2 group 225.4.4.0/30
CONF
cat >"$TMP/conf.d/20-misc.conf" <<'CONF'
phyint nosuch3 disable
mroute from nosuch1 group 225.6.6.6 to b1
CONF
cat >"$TMP/more/a.conf" <<'CONF'
   mroute from a1 source 10.0.1.2 group 225.5.5.5
mgroup from b+ group 225.9.9.9
CONF
start_daemon

q() { timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" "$@"; }
check "routes in the kernel" wait_for 3 mfc_forwards 10.0.1.2 225.1.1.1
q show routes >"$TMP/routes.1" || fail "show routes"
q show groups >"$TMP/groups.1" || fail "show groups"
# Client entries: listed, commented out.
ctl add a1 10.0.1.2 225.7.7.7 b2 || fail "client add"
ctl join b1 225.8.8.8 || fail "client join"

q show config >"$TMP/effective.conf" || fail "show config"
say "show config:"; cat "$TMP/effective.conf"
q -j show config >"$TMP/effective.json" || fail "show -j config"
say "show -j config:"; cat "$TMP/effective.json"

# Every directive line that is not a client's ends in "# FILE:LINE" naming
# a line of the same directive (ssmgroup for an mgroup written from it).
n=0
while IFS= read -r line; do
    case "$line" in '#'*|'') continue ;; esac
    where=${line##*# }
    [ "$where" != "$line" ] || fail "no source comment: '$line'"
    file=${where%:*}; num=${where##*:}
    src=$(sed -n "${num}p" "$file") || fail "cannot read $where"
    directive=${line%% *}
    srcdir=$(echo "$src" | awk '{ print $1 }')
    [ "$srcdir" = "$directive" ] || { [ "$directive" = mgroup ] && [ "$srcdir" = ssmgroup ]; } \
        || fail "'$line': $where is '$src'"
    n=$((n + 1))
done <"$TMP/effective.conf"
say "ok: $n config lines, each naming its source line"
check "the merged route is one line with both OIFs" \
    grep -qx "mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1 b2    # $CONF:5" "$TMP/effective.conf"
check "the included directory's line is named" \
    grep -qx "mgroup from b2 group 225.4.4.0/30    # $TMP/conf.d/10-rules.conf:4" "$TMP/effective.conf"
check "ssmgroup is written as mgroup" \
    grep -qx "mgroup from b1 source 10.0.2.2 group 232.1.1.1    # $CONF:8" "$TMP/effective.conf"
check "phyint options" grep -qx "phyint b2 enable ttl-threshold 4    # $CONF:2" "$TMP/effective.conf"
check "phyint mrdisc" grep -qx "phyint a1 enable mrdisc    # $CONF:3" "$TMP/effective.conf"
check "the client's route, commented out" \
    grep -qx "# mroute from a1 source 10.0.1.2 group 225.7.7.7 to b2    # added by a client" "$TMP/effective.conf"
check "the client's join, commented out" \
    grep -qx "# mgroup from b1 group 225.8.8.8    # added by a client" "$TMP/effective.conf"
cat >"$TMP/check.py" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
lines = doc["config"]
text = [l for l in open(sys.argv[2]).read().split("\n") if l and not l.startswith("#")]
config = [l for l in lines if l["origin"] == "config"]
assert len(config) == len(text), (len(config), len(text))
for l, t in zip(config, text):
    assert set(l) >= {"kind", "origin", "text", "file", "line"}, l
    assert t.startswith(l["text"] + "    # " + l["file"] + ":" + str(l["line"])), (l, t)
    assert l["kind"] == t.split()[0], l
clients = [l for l in lines if l["origin"] == "client"]
assert sorted(l["kind"] for l in clients) == ["mgroup", "mroute"], clients
assert all("file" not in l for l in clients), clients
print(len(config), "config lines,", len(clients), "client lines")
PY
python3 "$TMP/check.py" "$TMP/effective.json" "$TMP/effective.conf" || fail "show -j config does not match the text"
say "ok: the JSON has the text's lines"

check "smcrouted -F accepts it" "$BIN/smcrouted" -F "$TMP/effective.conf"

# A second daemon from it, after the first stopped: the same routes and joins.
stop_daemon
start_daemon -f "$TMP/effective.conf" -i second
q2() { timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" -i second "$@"; }
check "routes in the kernel again" wait_for 3 mfc_forwards 10.0.1.2 225.1.1.1
q2 show routes >"$TMP/routes.2" || fail "show routes (second)"
q2 show groups >"$TMP/groups.2" || fail "show groups (second)"
cat "$TMP/routes.2" "$TMP/groups.2"
cmp -s "$TMP/routes.1" "$TMP/routes.2" || fail "show routes differ: $(diff "$TMP/routes.1" "$TMP/routes.2")"
cmp -s "$TMP/groups.1" "$TMP/groups.2" || fail "show groups differ: $(diff "$TMP/groups.1" "$TMP/groups.2")"
say "ok: the second daemon holds the same routes and joins"
# And shows the same lines (now from the one file it read).
strip() { grep -v '^#' "$1" | sed 's/    # .*//'; }
q2 show config >"$TMP/effective.2" || fail "show config (second)"
diff <(strip "$TMP/effective.conf") <(strip "$TMP/effective.2") >/dev/null \
    || fail "show config of the second daemon differs: $(diff <(strip "$TMP/effective.conf") <(strip "$TMP/effective.2"))"
say "ok: the second daemon's show config has the same lines"
pass

#!/bin/bash
# show status and show metrics on the real kernel (issue 16): the counters
# move with what really happens. A (*,G) rule learns a sender's (S,G):
# upcalls received and routes installed from rules grow; forged new sources
# (tests/tools/burst_send) past --max-learned are refused and counted; a
# reload is counted done, a broken config's reload refused (status names
# its first error); IPC clients are counted served, and refused when user
# nobody holds more connections than one uid may. show metrics, and the
# file --metrics-file writes every second (atomically), pass Prometheus's
# own `promtool check metrics`, hold the same counters and grow with time.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || fail "python3 not found"
command -v promtool >/dev/null 2>&1 || fail "promtool not found (apt-get install prometheus)"
[ -x "$TOOLS/burst_send" ] || fail "$TOOLS/burst_send missing (build the test tools)"
[ -x "$TOOLS/ipc_attack" ] || fail "$TOOLS/ipc_attack missing (build the test tools)"
nobody_setup
must cp "$TOOLS/ipc_attack" "$NB/ipc_attack"
chmod 0755 "$NB/ipc_attack"
topo
CAP=5
write_conf <<'CONF'
mroute from a1 group 225.5.0.0/16 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
mroute from nosuch0 source 10.0.1.2 group 225.1.2.4 to b1
mgroup from b1 group 225.6.6.6
mgroup from b1 group ff0e::6:6
CONF
TEXTFILE=$TMP/textfile
mkdir -m 0755 "$TEXTFILE"
start_daemon --max-learned "$CAP" -c 0 --socket-mode 0666 --metrics-file "$TEXTFILE/smcroute.prom" \
    --metrics-interval 1

# st PATH: one value of `smcroutectl -j show status`, by dotted path.
st() {
    timeout 10 "$BIN/smcroutectl" -j show status | python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert list(doc) == ["status"], list(doc)
v = doc["status"]
for k in sys.argv[1].split("."):
    v = v[k]
print(json.dumps(v) if isinstance(v, (list, dict)) else v)' "$1" || fail "show status -j failed or has no $1"
}
# metric NAME{LABELS}: its value in `smcroutectl show metrics`.
metric() {
    timeout 10 "$BIN/smcroutectl" show metrics | awk -v m="$1" '$1 == m { print $2; found = 1 } END { exit !found }' \
        || fail "show metrics has no sample $1"
}
expect() { # WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
    say "ok: $1 = $2"
}

# ------------------------------------------------------------ the text form
ctl show status >"$TMP/status.txt" || fail "show status failed"
cat "$TMP/status.txt"
grep -Eq "^  pid: +$DAEMON_PID\$" "$TMP/status.txt" || fail "show status does not give pid $DAEMON_PID"
grep -Eq "^  file: +$CONF\$" "$TMP/status.txt" || fail "show status does not name $CONF"
grep -Eq '^  last load: +[0-9-]+T[0-9:]+Z, ok$' "$TMP/status.txt" || fail "show status: last load not ok"
# Every "key: value" line has its value in the same column.
cols=$(awk '/^  / { match($0, /: +/); print RSTART + RLENGTH }' "$TMP/status.txt" | sort -u | wc -l)
expect "columns of the values" "$cols" 1
ctl show -j status >"$TMP/status.json" || fail "show -j status failed"
cat "$TMP/status.json"

expect "pid" "$(st pid)" "$DAEMON_PID"
expect "identity" "$(st identity)" smcroute
expect "config file" "$(st config.file)" "$CONF"
expect "last load" "$(st config.result)" ok
expect "static routes" "$(st routes.static)" 2
expect "rules" "$(st routes.rules)" 1
expect "pending routes" "$(st routes.pending)" 1
expect "max learned" "$(st routes.max_learned)" "$CAP"
expect "IPv4 joins active" "$(st joins.inet.active)" 1
expect "IPv6 joins active" "$(st joins.inet6.active)" 1
[ "$(st vifs.inet)" -ge 2 ] || fail "fewer than 2 VIFs used: $(st vifs.inet)"
now=$(date +%s)
started=$(st started_unix)
[ $((now - started)) -ge 0 ] && [ $((now - started)) -lt 600 ] || fail "started_unix $started, now $now"

# ------------------------------------------------- upcalls and learned routes
RECV0=$(st upcalls.received)
INST0=$(st upcalls.installed_from_rules)
expect "routes installed from rules before traffic" "$INST0" 0
traffic v4 225.5.1.1 4 -r 0
expect_recv rcv1 4
check "learned entry in the MFC" wait_for 5 mfc_forwards 10.0.1.2 225.5.1.1
expect "routes installed from rules" "$(st upcalls.installed_from_rules)" 1
RECV1=$(st upcalls.received)
[ "$RECV1" -gt "$RECV0" ] || fail "upcalls received did not grow with the new sender: $RECV0 -> $RECV1"
say "ok: upcalls received $RECV0 -> $RECV1"
expect "learned entries" "$(st routes.learned)" 1

# Forged new sources past --max-learned: refused and counted.
out=$(nsx snd "$TOOLS/burst_send" -g 225.5.1.1 -S 10.101.0.1 -N 60 -i eth0 -r 200) || fail "burst_send: $out"
check "learned entries reach the limit" wait_for 10 sh -c "[ \"\$(timeout 10 $BIN/smcroutectl -j show status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"routes\"][\"learned\"])')\" = $CAP ]"
REFUSED=$(st upcalls.refused_max_learned)
[ "$REFUSED" -gt 0 ] || fail "no upcall refused past --max-learned $CAP"
expect "routes installed from rules at the limit" "$(st upcalls.installed_from_rules)" "$CAP"
expect "metrics: refused" "$(metric smcroute_upcalls_refused_total)" "$(st upcalls.refused_max_learned)"
expect "metrics: installed from rules" "$(metric smcroute_routes_installed_from_rules_total)" "$CAP"
expect "metrics: the rule's learned routes" \
    "$(metric 'smcroute_rule_learned_routes{iif="a1",source="*",group="225.5.0.0/16"}')" "$CAP"
# The static route's packets, through the metrics.
traffic v4 225.1.2.3 6
expect_recv rcv1 6
expect "metrics: the static route's packets" \
    "$(metric 'smcroute_route_packets_total{iif="a1",source="10.0.1.2",group="225.1.2.3",kind="route"}')" 6

# ----------------------------------------------------------------- reloads
expect "reloads done" "$(st reloads.done)" 0
echo 'mroute from a1 source 10.0.1.2 group 225.1.2.5 to b2' >>"$CONF"
ctl reload || fail "reload failed"
expect "reloads done after a reload" "$(st reloads.done)" 1
expect "static routes after the reload" "$(st routes.static)" 3
echo 'mroute from a1 source 10.0.1.2 grop 225.1.2.6 to b2' >>"$CONF"
ctl reload && fail "a reload of a config with an error succeeded"
expect "reloads refused" "$(st reloads.refused)" 1
expect "reloads done after a refused one" "$(st reloads.done)" 1
expect "last load" "$(st config.result)" refused
expect "errors of the last load" "$(st config.errors)" 2
st config.first_errors | grep -q "smcroute.conf:7:32: error: unknown keyword 'grop'" || fail "status does not name the error: $(st config.first_errors)"
expect "metrics: last load failed" "$(metric smcroute_config_last_load_success)" 0
expect "metrics: reloads refused" "$(metric smcroute_reloads_refused_total)" 1
ctl show status | grep -E '^  error: ' || fail "the text form does not list the error"
kill -HUP "$DAEMON_PID"
check "SIGHUP reload refused too" wait_for 5 sh -c "[ \"\$(timeout 10 $BIN/smcroutectl -j show status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"reloads\"][\"refused\"])')\" = 2 ]"
sed -i '$d' "$CONF"
ctl reload || fail "reload of the fixed config failed"
expect "reloads done" "$(st reloads.done)" 2
expect "last load" "$(st config.result)" ok

# ----------------------------------------------------------- IPC clients
SERVED0=$(st clients.served)
for _ in 1 2 3; do ctl show >/dev/null || fail "show failed"; done
SERVED1=$(st clients.served)
# Three shows and the st itself between the two readings.
expect "clients served by 3 shows (and one status)" "$((SERVED1 - SERVED0))" 4
REF0=$(st clients.refused)
# Its report is its last line on stdout (nobody may not write in $TMP).
as_nobody "$NB/ipc_attack" hold -n 40 -t 2 /run/smcroute.sock >"$TMP/hold.out" 2>&1 || fail "ipc_attack: $(cat "$TMP/hold.out")"
say "nobody's connections: $(grep -m1 '^open ' "$TMP/hold.out")"
HELD_REFUSED=$(awk '$1 == "open" { for (i = 1; i < NF; i++) if ($i == "refused") print $(i + 1) }' "$TMP/hold.out" | head -n 1)
[ "${HELD_REFUSED:-0}" -ge 8 ] || fail "nobody's 40 connections were not refused past 32: $(cat "$TMP/hold.out")"
expect "clients refused" "$(( $(st clients.refused) - REF0 ))" "$HELD_REFUSED"
expect "metrics: clients refused" "$(metric smcroute_ipc_clients_refused_total)" "$(st clients.refused)"

# ------------------------------------------------- Prometheus's own checker
timeout 10 "$BIN/smcroutectl" show metrics >"$TMP/metrics.txt" || fail "show metrics failed"
head -n 12 "$TMP/metrics.txt"
promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 || fail "promtool check metrics: $(cat "$TMP/promtool.out")"
[ ! -s "$TMP/promtool.out" ] || fail "promtool check metrics complains: $(cat "$TMP/promtool.out")"
say "ok: promtool check metrics passes show metrics ($(wc -l <"$TMP/metrics.txt") lines)"
grep -E '^smcroute_(upcalls_|routes_installed|reloads|ipc_clients_|rule_learned_|route_packets_total)' "$TMP/metrics.txt"
# -j: the same samples as the text, as JSON (one object a family).
timeout 10 "$BIN/smcroutectl" show metrics >"$TMP/metrics2.txt" || fail "show metrics failed"
timeout 10 "$BIN/smcroutectl" -j show metrics >"$TMP/metrics.json" || fail "show -j metrics failed"
python3 - "$TMP/metrics2.txt" "$TMP/metrics.json" <<'PY' || fail "show -j metrics differs from show metrics"
import json, re, sys
text = [l for l in open(sys.argv[1]).read().splitlines() if l and not l.startswith("#")]
doc = json.load(open(sys.argv[2]))
assert list(doc) == ["metrics"], list(doc)
def unesc(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)
def key(name, labels):
    return (name, tuple(sorted(labels.items())))
want = {}
for l in text:
    m = re.match(r'^([a-z_]+)(?:\{(.*)\})? (-?\d+)$', l)
    assert m, l
    labels = dict((k, unesc(v)) for k, v in re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
    want[key(m.group(1), labels)] = int(m.group(3))
got = {}
for fam in doc["metrics"]:
    assert set(fam) == {"name", "type", "help", "samples"}, fam
    assert fam["type"] in ("counter", "gauge"), fam
    for smp in fam["samples"]:
        got[key(fam["name"], smp["labels"])] = smp["value"]
# Uptime may tick between the two reads; every other sample of this idle daemon is the same.
for k in [k for k in want if k[0] in ("smcroute_uptime_seconds", "smcroute_ipc_requests_total", "smcroute_ipc_clients_served_total")]:
    assert abs(got.pop(k) - want.pop(k)) <= 2, k
assert got == want, (sorted(set(got.items()) ^ set(want.items())))[:10]
print(f"show -j metrics: {len(doc['metrics'])} families, {len(got) + 3} samples, the same as the text")
PY

# The textfile: written every second, whole, by the daemon; checked too.
PROM=$TEXTFILE/smcroute.prom
check "metrics file written" wait_for 5 test -s "$PROM"
up0=$(awk '$1 == "smcroute_uptime_seconds" { print $2 }' "$PROM")
check "metrics file rewritten" wait_for 10 sh -c "[ \"\$(awk '\$1 == \"smcroute_uptime_seconds\" { print \$2 }' $PROM)\" -gt $up0 ]"
cp "$PROM" "$TMP/textfile.prom"
promtool check metrics <"$TMP/textfile.prom" >"$TMP/promtool.out" 2>&1 || fail "promtool on the textfile: $(cat "$TMP/promtool.out")"
[ ! -s "$TMP/promtool.out" ] || fail "promtool check metrics complains about the textfile: $(cat "$TMP/promtool.out")"
expect "textfile: reloads" "$(awk '$1 == "smcroute_reloads_total" { print $2 }' "$TMP/textfile.prom")" 2
[ "$(stat -c %a "$PROM")" = 644 ] || fail "metrics file mode $(stat -c %a "$PROM")"
[ -z "$(find "$TEXTFILE" -name '.*.tmp')" ] || fail "temporary files left: $(ls -a "$TEXTFILE")"
say "ok: the metrics file passes promtool and is rewritten (uptime $up0 -> later)"
ctl show status # the counters after all of the above, for the log
alive "$DAEMON_PID" || fail "daemon died"
stop_daemon
[ -s "$PROM" ] || fail "the metrics file went at exit"
pass

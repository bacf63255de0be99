#!/bin/bash
# reload --dry-run (smcroutectl reload -n) changes nothing and predicts the
# real reload. On an unchanged config (with and without client entries), a
# broken one and a changed one, a dry run leaves the kernel untouched: no
# rtnetlink mroute event (ip monitor mroute), the same /proc/net/ip_mr_cache,
# ip_mr_vif and joined groups, the same "show routes" and "show groups".
# Its text is exact; its exit status is 0, or 78 with the errors for the
# broken file. Then the real reload runs, and the routes and joins it
# changed (show -j before and after, static entries only) are exactly those
# the dry run's JSON listed, client entries included; the kernel's MFC
# follows (a removed (S,G) gone, a changed one re-programmed).
. "$(dirname "$0")/lib.sh"
topo
command -v python3 >/dev/null 2>&1 || fail "python3 not found (needed to compare the JSON)"

write_conf <<'CONF'
phyint b2 ttl-threshold 3
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1
mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1
mroute from a1 source 10.0.1.2 group 225.1.1.4 to b1
mroute from a1 group 225.1.1.5 to b1
mgroup from b1 group 225.3.3.3
mgroup from b1 group 225.3.3.4
CONF
start_daemon

ip -4 monitor mroute >"$TMP/monitor.out" 2>&1 &
RECV_PIDS+=($!)

q() { timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" "$@"; }
# The kernel's multicast state: MFC entries and VIFs (without their packet
# counters, which the routers' own IGMP reports may move), and the groups
# joined on every interface.
kernel_state() {
    awk '{ $4 = $5 = $6 = ""; print }' /proc/net/ip_mr_cache
    awk '{ $3 = $4 = $5 = $6 = ""; print }' /proc/net/ip_mr_vif
    local i
    for i in a1 b1 b2; do echo "$i: $(kernel_groups "$i" | sort | xargs)"; done
}
daemon_state() { q show routes; q show groups; }
# dry_run NAME WANT-STATUS [CLIENT-ARGS...]: run the dry run (stdout to
# $TMP/NAME.out, stderr to NAME.err), check its status, and that neither
# the kernel nor the daemon changed and no mroute event came. PROG: the
# client personality (smcroutectl).
dry_run() {
    local name=$1 want=$2 prog=${PROG:-smcroutectl}; shift 2
    local k0 d0 m0 rc
    k0=$(kernel_state); d0=$(daemon_state); m0=$(wc -l <"$TMP/monitor.out")
    say "+ $prog $*"
    timeout $((10 * TIME_SCALE)) "$BIN/$prog" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    rc=$?
    say "$name: exit $rc; stdout:"; cat "$TMP/$name.out"; say "$name: stderr:"; cat "$TMP/$name.err"
    [ "$rc" = "$want" ] || fail "$name: exit $rc, want $want"
    nap 0.3 # an event, had there been one, would be in by now
    [ "$(kernel_state)" = "$k0" ] || fail "$name changed the kernel: $(diff <(echo "$k0") <(kernel_state))"
    [ "$(daemon_state)" = "$d0" ] || fail "$name changed the daemon: $(diff <(echo "$d0") <(daemon_state))"
    [ "$(wc -l <"$TMP/monitor.out")" = "$m0" ] || fail "$name: mroute events: $(tail -n +$((m0 + 1)) "$TMP/monitor.out")"
    say "ok: $name changed neither kernel nor daemon, no mroute event"
}
expect_out() { # NAME: stdout equals stdin
    local want
    want=$(cat)
    [ "$(cat "$TMP/$1.out")" = "$want" ] || fail "$1: output differs: $(diff <(echo "$want") "$TMP/$1.out")"
    say "ok: $1 output as expected"
}

check "static routes in the kernel" wait_for 3 mfc_forwards 10.0.1.2 225.1.1.4
check "joins made" wait_for 3 kernel_joined b1 225.3.3.4

# ---- unchanged config, nothing added by clients
dry_run unchanged 0 reload -n
expect_out unchanged <<<"no changes (dry run: none made)"
dry_run unchanged_json 0 -j reload --dry-run
expect_out unchanged_json <<<'{"dry_run": [
]}'

# ---- client entries: a reload drops them, the dry run says so
ctl add a1 10.0.1.2 225.1.1.9 b2 || fail "client add"
ctl join b2 225.3.3.9 || fail "client join"
check "the monitor sees the client's route (it observes)" wait_for 3 grep -q '10.0.1.2,225.1.1.9' "$TMP/monitor.out"
dry_run unchanged_clients 0 reload -n
expect_out unchanged_clients <<'OUT'
- mroute from a1 source 10.0.1.2 group 225.1.1.9 to b2    # added by a client
- mgroup from b2 group 225.3.3.9    # added by a client
reload would make 2 changes (dry run: none made)
OUT

# ---- broken config: refused with its errors, exit 78, nothing on stdout
cp "$CONF" "$TMP/good.conf"
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1
mroute from a1 sorce 10.0.1.2 group 225.1.1.2 to b1
CONF
dry_run broken 78 reload -n
[ -s "$TMP/broken.out" ] && fail "broken: something on stdout"
check "broken: the error names the line" grep -q "$CONF:2:.*error: unknown keyword 'sorce'" "$TMP/broken.err"
check "broken: says a reload would be refused" grep -q "1 error(s), a reload would be refused" "$TMP/broken.err"
dry_run broken_json 78 -j reload -n
[ -s "$TMP/broken_json.out" ] && fail "broken_json: something on stdout"
check_not "the daemon logged no reload" grep -q "reloading $CONF" "$TMP/daemon.log"

# ---- changed config
write_conf <<'CONF'
phyint b2 ttl-threshold 5
mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1
mroute from a1 source 10.0.1.2 group 225.1.1.4 to b2
mroute from a1 group 225.1.1.5 to b1 b2
mroute from a1 source 10.0.1.2 group 225.1.1.6 to b1 b2
mgroup from b1 group 225.3.3.3
mgroup from b2 group 225.3.3.5
CONF
dry_run changed 0 reload -n
expect_out changed <<OUT
- mroute from a1 source 10.0.1.2 group 225.1.1.9 to b2    # added by a client
- mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1
- phyint b2 enable ttl-threshold 3
+ phyint b2 enable ttl-threshold 5
~ mroute from a1 source 10.0.1.2 group 225.1.1.4 to b2    # $CONF:3: to +b2 -b1
~ mroute from a1 group 225.1.1.5 to b1 b2    # $CONF:4: to +b2
- mgroup from b2 group 225.3.3.9    # added by a client
- mgroup from b1 group 225.3.3.4
+ mroute from a1 source 10.0.1.2 group 225.1.1.6 to b1 b2    # $CONF:5
+ mgroup from b2 group 225.3.3.5    # $CONF:7
reload would make 10 changes (dry run: none made)
OUT
dry_run changed_json 0 -j reload -n
# The legacy personality takes it too, with the same answer.
PROG=smcroute dry_run changed_legacy 0 reload --dry-run
cmp -s "$TMP/changed.out" "$TMP/changed_legacy.out" || fail "smcroute reload --dry-run differs from smcroutectl reload -n"

# ---- the real reload does what the dry run said
q -j show routes >"$TMP/routes.before" || fail "show routes"
q -j show groups >"$TMP/groups.before" || fail "show groups"
m0=$(wc -l <"$TMP/monitor.out")
ctl reload || fail "reload failed"
q -j show routes >"$TMP/routes.after" || fail "show routes"
q -j show groups >"$TMP/groups.after" || fail "show groups"
cat >"$TMP/predict.py" <<'PY'
import json, sys
d = sys.argv[1]
load = lambda n: json.load(open(f"{d}/{n}"))
dry = load("changed_json.out")["dry_run"]
def routes(doc):
    return {(r["iif"], r["source"], r["group"]): sorted(r["oifs"])
            for r in doc["routes"] if r["kind"] in ("route", "rule", "stop")}
def groups(doc):
    return {(g["iif"], g["source"], g["group"]) for g in doc["groups"]}
before_r, after_r = routes(load("routes.before")), routes(load("routes.after"))
before_g, after_g = groups(load("groups.before")), groups(load("groups.after"))
pred_r, pred_g = dict(before_r), set(before_g)
for c in dry:
    if c["kind"] == "mroute":
        key = (c["iif"], c["source"], c["group"])
        if c["change"] == "remove":
            del pred_r[key]
        else:
            assert c["change"] == "add" or key in pred_r, c
            pred_r[key] = sorted(c["oifs"])
    elif c["kind"] == "mgroup":
        key = (c["iif"], c["source"] or "*", c["group"])
        if c["change"] == "remove":
            pred_g.remove(key)
        else:
            pred_g.add(key)
ok = True
if pred_r != after_r:
    print("routes: predicted", sorted(pred_r.items()), "\n  got", sorted(after_r.items())); ok = False
if pred_g != after_g:
    print("groups: predicted", sorted(pred_g), "\n  got", sorted(after_g)); ok = False
if pred_r == before_r or pred_g == before_g:
    print("the dry run predicted no change of routes or groups"); ok = False
print("routes after:", len(after_r), "groups after:", len(after_g))
sys.exit(0 if ok else 1)
PY
python3 "$TMP/predict.py" "$TMP" || fail "the real reload did not do what the dry run said"
say "ok: the real reload changed routes and joins exactly as the dry run listed"
# The kernel followed, and the monitor saw it (it would have seen a dry run's change too).
check "removed (S,G) gone from the kernel" wait_for 3 mfc_lacks 10.0.1.2 225.1.1.2
check "client route gone from the kernel" mfc_lacks 10.0.1.2 225.1.1.9
check "new (S,G) in the kernel" mfc_forwards 10.0.1.2 225.1.1.6
check "left join gone" kernel_not_joined b1 225.3.3.4
check "client join gone" kernel_not_joined b2 225.3.3.9
check "new join made" kernel_joined b2 225.3.3.5
[ "$(wc -l <"$TMP/monitor.out")" -gt "$m0" ] || fail "the real reload made no mroute event"
say "ok: the real reload's mroute events: $(tail -n +$((m0 + 1)) "$TMP/monitor.out" | wc -l)"
# After it, the same file is a dry run with no changes.
dry_run after 0 reload -n
expect_out after <<<"no changes (dry run: none made)"
pass

#!/bin/bash
# Every JSON output of smcroutectl (-j show, -j -d show, routes, pending,
# groups, -d groups, interfaces, memberships, memberships -f inet6, graph) is one
# strict JSON document (UTF-8, valid string escapes, no duplicate keys, no
# trailing data) with the top-level key and element keys of smcroute.8
# (section JSON) and the values the daemon holds: (S,G) routes, a (*,G)
# rule with its learned entry, a pending route with its reason, ASM and SSM
# joins (IPv4 and IPv6, a range, a pending one). Interfaces whose names hold
# a quote, a backslash and a control character, and a pending client route
# naming a missing one like that, test the string escapes. Each query runs
# several times.
. "$(dirname "$0")/lib.sh"
topo
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
[ -e /proc/net/igmp6 ] || skip "kernel without IPv6 (/proc/net/igmp6 missing)"
mcfilter_anchor   # the /proc/net/mcfilter files complete (see lib.sh)

# Interfaces with JSON-special characters in their names (the kernel allows
# anything but '/', ':' and white space).
ODD='q"x\y'
CTRL=$(printf 'c\001"z')
must ip link add "$ODD" type veth peer name odd1
must ip link add "$CTRL" type veth peer name odd2
for i in "$ODD" odd1 "$CTRL" odd2; do must ip link set "$i" up; done
MISSING='n"o\such'

write_conf <<CONF
mroute from a1 source 10.0.1.2 group 225.1.2.7 to $MISSING
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
mroute from a1 group 225.1.2.9 to b2
mroute from nosuch0 source 10.0.1.2 group 225.1.2.4 to b1
mroute from a1 source fd01::2 group ff0e::1:3 to b1
mgroup from b1 group 225.5.5.5
mgroup from b1 source 10.0.2.2 group 232.5.5.5
mgroup from b2 group 225.6.6.0/30
mgroup from b1 group ff0e::5:5
mgroup from b1 source fd02::2 group ff3e::5:5
mgroup from nosuch1 group 225.7.7.7
CONF
start_daemon

# A client route naming the odd interface (the client refuses missing
# interfaces, so the one naming the missing $MISSING is in the config).
must timeout 10 "$BIN/smcroutectl" add a1 10.0.1.2 225.1.2.6 "$ODD"

# A learned entry from the (*,G) rule, and a stop filter.
traffic v4 225.1.2.9 4 -r 0
expect_recv rcv2 4
traffic v4 225.1.2.77 2 -r 0
check "learned entry in the MFC" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.9
check "stop filter in the MFC" wait_for 2 mfc_has 10.0.1.2 225.1.2.77
# Traffic on the static route, so -d counters are non-zero.
traffic v4 225.1.2.3 5
expect_recv rcv1 5
check "joins made" wait_for 3 kernel_joined b1 232.5.5.5 10.0.2.2

cat >"$TMP/check.py" <<'PY'
# check.py NAME FILE ODD CTRL MISSING: FILE holds the output of "smcroutectl -j ..."
# for case NAME; it must be one strict JSON document as smcroute.8 says.
import json, sys

name, path, odd, ctrl, missing = sys.argv[1:6]
raw = open(path, "rb").read()
text = raw.decode("utf-8")              # strict: invalid UTF-8 fails

def no_dupes(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
    return dict(pairs)

def no_constants(c):
    raise AssertionError(f"non-JSON constant {c}")

# json.loads is strict: raw control characters in strings, bad escapes and
# trailing data (a second document) are errors.
doc = json.loads(text, object_pairs_hook=no_dupes, parse_constant=no_constants)
assert isinstance(doc, dict), f"top level is not an object: {type(doc)}"

TOP = {"show": "routes", "show-d": "routes", "routes": "routes", "pending": "pending",
       "groups": "groups", "groups-d": "groups", "interfaces": "interfaces",
       "memberships": "memberships", "memberships6": "memberships", "graph": "graph"}[name]
assert list(doc) == [TOP], f"top-level keys {list(doc)}, want [{TOP!r}]"
rows = doc[TOP]
assert isinstance(rows, list), f"{TOP} is not an array"
assert all(isinstance(r, dict) for r in rows), f"{TOP}: an element is not an object"

def need(r, keys):
    missing = [k for k in keys if k not in r]
    assert not missing, f"element lacks {missing}: {r}"

def only(r, keys):
    extra = [k for k in r if k not in keys]
    assert not extra, f"element has undocumented keys {extra}: {r}"

def find(pred, what):
    hits = [r for r in rows if pred(r)]
    assert hits, f"no element {what} in {rows}"
    assert len(hits) == 1, f"{len(hits)} elements {what}: {hits}"
    return hits[0]

S = lambda x: isinstance(x, str)

if TOP in ("routes", "pending"):
    base = ["kind", "source", "group", "iif", "oifs", "state", "origin"]
    opt = ["reason", "learned", "rule"]
    detail = ["packets", "bytes", "wrong_if"]
    where = ["file", "line", "age", "expires_in"]  # -d only
    for r in rows:
        need(r, base)
        only(r, base + opt + detail + where)
        if name == "show-d":
            assert type(r.get("age")) is int and r["age"] >= 0, f"-d row without its age: {r}"
            from_config = r["origin"] == "config" and r["kind"] != "learned" and not (
                r["kind"] == "stop" and r["state"] == "stop")
            if from_config:
                assert S(r.get("file")) and r["file"].endswith(".conf"), f"config row without its file: {r}"
                assert type(r.get("line")) is int and r["line"] >= 1, r
            else:
                assert "file" not in r and "line" not in r, f"file:line on a {r['kind']} row: {r}"
            # The daemon runs with the default cache timeout: learned entries
            # and upcall stop filters tell when they expire if idle.
            if r["state"] in ("learned", "stop"):
                assert type(r.get("expires_in")) is int and 0 <= r["expires_in"] <= 120, r
            else:
                assert "expires_in" not in r, r
        else:
            assert not any(k in r for k in where), f"{where} without -d: {r}"
        assert r["kind"] in ("rule", "route", "learned", "stop"), r
        assert r["state"] in ("rule", "active", "pending", "learned", "stop"), r
        assert r["origin"] in ("config", "client"), r
        assert isinstance(r["oifs"], list) and all(S(o) for o in r["oifs"]), r
        assert all(S(r[k]) for k in ("source", "group", "iif")), r
        if name == "show-d" and r["state"] in ("active", "learned", "stop"):
            need(r, detail)   # counters of entries in the kernel's MFC
            assert all(type(r[k]) is int and r[k] >= 0 for k in detail), r
        elif name == "show-d":
            assert not any(k in r for k in detail), f"counters of a {r['state']} row: {r}"
        else:
            assert not any(k in r for k in detail), f"counters without -d: {r}"
    key = lambda s, g: (lambda r: r["source"] == s and r["group"] == g)
    pend = find(key("10.0.1.2", "225.1.2.4"), "(10.0.1.2, 225.1.2.4)")
    assert pend["state"] == "pending" and pend["origin"] == "config", pend
    assert S(pend.get("reason")) and "nosuch0" in pend["reason"], pend
    # Its only OIF is missing: in the kernel forwarding nowhere, and why.
    cpend = find(key("10.0.1.2", "225.1.2.7"), "(10.0.1.2, 225.1.2.7)")
    assert cpend["state"] == "active" and cpend["origin"] == "config", cpend
    assert cpend["oifs"] == [missing], f"the odd name did not survive: {cpend}"
    assert missing in cpend.get("reason", ""), cpend
    if name == "pending":
        assert all(r["state"] == "pending" or r.get("reason") for r in rows), rows
        assert len(rows) == 2, rows
    else:
        sg = find(key("10.0.1.2", "225.1.2.3"), "(10.0.1.2, 225.1.2.3)")
        assert sg["kind"] == "route" and sg["state"] == "active", sg
        assert sg["iif"] == "a1" and sorted(sg["oifs"]) == ["b1", "b2"], sg
        assert sg["origin"] == "config", sg
        six = find(key("fd01::2", "ff0e::1:3"), "(fd01::2, ff0e::1:3)")
        assert six["state"] == "active" and six["oifs"] == ["b1"], six
        rule = find(key("*", "225.1.2.9"), "(*, 225.1.2.9)")
        assert rule["kind"] == "rule" and rule["state"] == "rule", rule
        assert rule["iif"] == "a1" and rule["oifs"] == ["b2"], rule
        assert rule.get("learned") == 1, f"rule should count its 1 learned entry: {rule}"
        learned = find(key("10.0.1.2", "225.1.2.9"), "learned (10.0.1.2, 225.1.2.9)")
        assert learned["kind"] == "learned" and learned["state"] == "learned", learned
        assert learned["iif"] == "a1" and learned["oifs"] == ["b2"], learned
        assert learned.get("rule") == "(*, 225.1.2.9)", learned
        stop = find(key("10.0.1.2", "225.1.2.77"), "stop (10.0.1.2, 225.1.2.77)")
        assert stop["kind"] == "stop" and stop["state"] == "stop" and stop["oifs"] == [], stop
        odd_route = find(key("10.0.1.2", "225.1.2.6"), "(10.0.1.2, 225.1.2.6)")
        assert odd_route["oifs"] == [odd] and odd_route["state"] == "active", odd_route
        assert odd_route["origin"] == "client", odd_route
        if name == "show-d":
            assert sg["packets"] >= 5 and sg["bytes"] > 0, sg
            assert learned["packets"] >= 4, learned
            assert sg["line"] == 2 and rule["line"] == 3, (sg, rule)

elif TOP == "interfaces":
    keys = ["index", "name", "up", "vif", "mif"]
    for r in rows:
        need(r, keys)
        only(r, keys)
        assert type(r["index"]) is int and r["index"] > 0 and S(r["name"]), r
        assert isinstance(r["up"], bool), r
        for k in ("vif", "mif"):
            assert r[k] is None or (type(r[k]) is int and r[k] >= 0), r
    names = {r["name"]: r for r in rows}
    # The daemon does not list the interface whose name holds a control
    # character (it refuses such names); its presence must not break the
    # output, and if listed its name must come back exactly.
    if any("\x01" in n for n in names):
        assert ctrl in names, f"control-character name mangled: {sorted(names)}"
    for n in ("lo", "a1", "b1", "b2", odd, "odd1", "odd2"):
        assert n in names, f"interface {n!r} missing: {sorted(names)}"
    for n in ("a1", "b1", "b2"):
        assert names[n]["vif"] is not None and names[n]["up"] is True, names[n]
    assert names[odd]["vif"] is not None, names[odd]   # used by a route
    assert names["lo"]["vif"] is None and names["odd1"]["vif"] is None, names
    assert names["a1"]["mif"] is not None and names["b1"]["mif"] is not None, names

elif TOP == "groups":
    base = ["source", "group", "iif", "state", "origin", "addresses", "interfaces"]
    opt = ["reason"]
    detail = ["memberships"]
    for r in rows:
        need(r, base)
        only(r, base + opt + detail)
        assert all(S(r[k]) for k in ("source", "group", "iif", "state", "origin")), r
        assert r["state"] in ("active", "pending") and r["origin"] in ("config", "client"), r
        assert type(r["addresses"]) is int and r["addresses"] >= 0, r
        assert isinstance(r["interfaces"], list) and all(S(i) for i in r["interfaces"]), r
        if name == "groups-d":
            need(r, detail)
            assert isinstance(r["memberships"], list), r
            for m in r["memberships"]:
                assert isinstance(m, dict), r
                need(m, ["interface", "source", "group"])
                only(m, ["interface", "source", "group"])
        else:
            assert "memberships" not in r, f"memberships without -d: {r}"
    key = lambda s, g: (lambda r: r["source"] == s and r["group"] == g)
    asm = find(key("*", "225.5.5.5"), "ASM 225.5.5.5")
    ssm = find(key("10.0.2.2", "232.5.5.5"), "SSM (10.0.2.2, 232.5.5.5)")
    rng = find(key("*", "225.6.6.0/30"), "range 225.6.6.0/30")
    asm6 = find(key("*", "ff0e::5:5"), "ASM ff0e::5:5")
    ssm6 = find(key("fd02::2", "ff3e::5:5"), "SSM (fd02::2, ff3e::5:5)")
    pend = find(key("*", "225.7.7.7"), "pending 225.7.7.7")
    for r in (asm, ssm, rng, asm6, ssm6):
        assert r["origin"] == "config" and r["interfaces"] == [r["iif"]], r
        assert "reason" not in r, r
    assert asm["iif"] == "b1" and ssm["iif"] == "b1" and rng["iif"] == "b2", (asm, ssm, rng)
    assert asm["addresses"] == 1 and rng["addresses"] == 4, (asm, rng)
    assert all(r["state"] == "active" for r in (asm, ssm, rng, asm6, ssm6)), rows
    assert pend["state"] == "pending", pend
    assert pend["iif"] == "nosuch1" and pend["interfaces"] == [], pend
    assert S(pend.get("reason")) and "nosuch1" in pend["reason"], pend
    if name == "groups-d":
        got = {(m["interface"], m["source"], m["group"]) for m in rng["memberships"]}
        want = {("b2", "*", f"225.6.6.{i}") for i in range(4)}
        assert got == want, (got, want)
        assert [(m["interface"], m["source"], m["group"]) for m in ssm["memberships"]] \
            == [("b1", "10.0.2.2", "232.5.5.5")], ssm
        assert pend["memberships"] == [], pend

elif TOP == "memberships":
    keys = ["interface", "family", "group", "mode", "sources", "users"]
    for r in rows:
        need(r, keys)
        only(r, keys)
        assert r["family"] in ("inet", "inet6"), r
        assert r["mode"] in ("include", "exclude"), r
        assert isinstance(r["sources"], list) and all(S(s) for s in r["sources"]), r
        assert type(r["users"]) is int and r["users"] >= 1, r
        if name == "memberships6":
            assert r["family"] == "inet6", f"-f inet6 shows {r}"
    key = lambda i, g: (lambda r: r["interface"] == i and r["group"] == g)
    ssm6 = find(key("b1", "ff3e::5:5"), "b1 ff3e::5:5")
    assert ssm6["mode"] == "include" and ssm6["sources"] == ["fd02::2"], ssm6
    asm6 = find(key("b1", "ff0e::5:5"), "b1 ff0e::5:5")
    assert asm6["mode"] == "exclude" and asm6["sources"] == [], asm6
    if name == "memberships":
        ssm = find(key("b1", "232.5.5.5"), "b1 232.5.5.5")
        assert ssm["mode"] == "include" and ssm["sources"] == ["10.0.2.2"], ssm
        asm = find(key("b1", "225.5.5.5"), "b1 225.5.5.5")
        assert asm["mode"] == "exclude" and asm["sources"] == [], asm
        for i in range(4):
            find(key("b2", f"225.6.6.{i}"), f"b2 225.6.6.{i}")
        assert any(r["family"] == "inet" for r in rows) and any(r["family"] == "inet6" for r in rows)
    # The control character in an interface name, escaped (\u0001).
    assert any(r["interface"] == ctrl for r in rows), "no membership on the control-character interface"
elif TOP == "graph":
    types = [r.get("type") for r in rows]
    assert set(types) <= {"edge", "node", "drop", "note"}, types
    # Edges, then nodes, then the drop node (no notes: the table is small).
    assert types == ["edge"] * types.count("edge") + ["node"] * types.count("node") + ["drop"], types
    edges = [r for r in rows if r["type"] == "edge"]
    nodes = {r["name"]: r for r in rows if r["type"] == "node"}
    assert len(nodes) == types.count("node"), "a node twice"
    for r in rows:
        if r["type"] == "edge":
            need(r, ["type", "from", "to", "kind", "active", "label"])
            only(r, ["type", "from", "to", "kind", "active", "label", "packets", "learned"])
            assert S(r["from"]) and (r["to"] is None or S(r["to"])) and S(r["label"]), r
            assert r["kind"] in ("rule", "route", "learned", "stop") and isinstance(r["active"], bool), r
            assert not ("packets" in r and "learned" in r), r
            assert all(type(r[k]) is int and r[k] >= 0 for k in ("packets", "learned") if k in r), r
            assert "learned" not in r or r["kind"] == "rule", r
            assert r["from"] in nodes and (r["to"] is None or r["to"] in nodes), f"edge to no node: {r}"
        elif r["type"] == "node":
            need(r, ["type", "name", "vif", "mif", "up", "state"])
            only(r, ["type", "name", "vif", "mif", "up", "state"])
            assert S(r["name"]) and isinstance(r["up"], bool), r
            assert all(r[k] is None or (type(r[k]) is int and r[k] >= 0) for k in ("vif", "mif")), r
            assert r["state"] in ("present", "missing", "wildcard"), r
            if r["state"] != "present":
                assert r["vif"] is None and r["mif"] is None and r["up"] is False, r
        else:
            only(r, ["type"])
    def edge(frm, to, label):
        hits = [e for e in edges if e["from"] == frm and e["to"] == to and e["label"] == label]
        assert len(hits) == 1, f"{len(hits)} edges {frm} -> {to} {label}: {edges}"
        return hits[0]
    for oif in ("b1", "b2"):
        sg = edge("a1", oif, "(10.0.1.2, 225.1.2.3)")
        assert sg["kind"] == "route" and sg["active"] is True and sg["packets"] >= 5, sg
    rule = edge("a1", "b2", "(*, 225.1.2.9)")
    assert rule["kind"] == "rule" and rule["active"] is True and rule["learned"] == 1, rule
    learned = edge("a1", "b2", "(10.0.1.2, 225.1.2.9)")
    assert learned["kind"] == "learned" and learned["packets"] >= 4, learned
    stop = edge("a1", None, "(10.0.1.2, 225.1.2.77)")
    assert stop["kind"] == "stop" and stop["active"] is True and "packets" in stop, stop
    pend = edge("nosuch0", "b1", "(10.0.1.2, 225.1.2.4)")
    assert pend["active"] is False and "packets" not in pend, pend
    # In the kernel, but nothing reaches the missing OIF with the odd name.
    cpend = edge("a1", missing, "(10.0.1.2, 225.1.2.7)")
    assert cpend["active"] is False and "packets" in cpend, cpend
    assert edge("a1", odd, "(10.0.1.2, 225.1.2.6)")["active"] is True
    six = edge("a1", "b1", "(fd01::2, ff0e::1:3)")
    assert six["active"] is True, six
    for n in ("a1", "b1", "b2", odd):
        assert nodes[n]["state"] == "present" and nodes[n]["up"] is True, nodes[n]
    assert nodes["a1"]["vif"] is not None and nodes["a1"]["mif"] is not None, nodes["a1"]
    assert nodes[odd]["vif"] is not None, nodes[odd]
    for n in ("nosuch0", missing):
        assert nodes[n] == {"type": "node", "name": n, "vif": None, "mif": None, "up": False,
                            "state": "missing"}, nodes.get(n)
print(f"{name}: {len(rows)} element(s) ok")
PY

# jcheck NAME ARGS...: smcroutectl ARGS, its output checked as case NAME.
jcheck() {
    local name=$1; shift
    local out=$TMP/$name.json
    timeout 10 "$BIN/smcroutectl" "$@" >"$out" 2>"$TMP/$name.err" \
        || fail "smcroutectl $* failed: $(cat "$TMP/$name.err")"
    [ -s "$TMP/$name.err" ] && fail "smcroutectl $* wrote to stderr: $(cat "$TMP/$name.err")"
    python3 "$TMP/check.py" "$name" "$out" "$ODD" "$CTRL" "$MISSING" >"$TMP/$name.py.out" 2>&1 \
        || { cat "$out" >&2; fail "smcroutectl $*: $(tail -n 3 "$TMP/$name.py.out")"; }
}

for round in 1 2 3; do
    jcheck show -j show
    jcheck show-d -j -d show
    jcheck routes -j show routes
    jcheck pending -j show pending
    jcheck groups -j show groups
    jcheck groups-d -j -d show groups
    jcheck interfaces -j show interfaces
    jcheck memberships -j show memberships
    jcheck memberships6 -j show memberships -f inet6
    jcheck graph -j show graph
    say "ok: round $round: every JSON output is one valid document as documented"
done
# The same through the legacy personality (-j before a verb means --json).
out=$(timeout 10 "$BIN/smcroute" -j show routes) || fail "smcroute -j show routes failed"
[ "$out" = "$(timeout 10 "$BIN/smcroutectl" -j show routes)" ] \
    || fail "smcroute -j show routes differs from smcroutectl -j show routes"
say "ok: smcroute -j show routes = smcroutectl -j show routes"
pass

#!/bin/bash
# show graph on the real kernel: a daemon with a static route (to b1, b2
# and an interface whose name holds a quote and a backslash), a (*,G) rule
# with an entry learned from real traffic, a stop filter (traffic no rule
# covers) and a pending route (its inbound interface is missing). The DOT
# renders with dot -Tsvg; its edges, read back by gvpr (Graphviz's own
# parser), are exactly those show -d -j implies (every route's IIF -> OIF,
# or -> drop), with the packet counts of the traffic sent. show -j graph is
# one JSON document whose edges and nodes are exactly the DOT's.
. "$(dirname "$0")/lib.sh"
for tool in dot gvpr python3; do
    command -v "$tool" >/dev/null || fail "$tool not found (apt-get install graphviz python3)"
done
topo
ODD='q"x\'
must ip link add "$ODD" type dummy
must ip link set "$ODD" up
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
mroute from a1 group 225.5.0.0/16 to b1
mroute from ghost0 source 10.0.1.2 group 225.7.7.7 to b1
CONF
# -c 0: the learned entry and the stop filter never expire during the test.
start_daemon -c 0
check "smcroutectl add a1 10.0.1.2 225.8.8.8 '$ODD'" ctl add a1 10.0.1.2 225.8.8.8 "$ODD"

# packets_of SOURCE GROUP: the kernel's packet count of that row of show -d -j.
packets_of() {
    timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" -d -j show | python3 -c '
import json, sys
src, grp = sys.argv[1:3]
for r in json.load(sys.stdin)["routes"]:
    if r["source"] == src and r["group"] == grp and "packets" in r:
        print(r["packets"])
' "$1" "$2"
}
packets_are() { [ "$(packets_of "$1" "$2")" = "$3" ]; }
stop_filter_present() { mfc_has 10.0.1.2 225.9.9.9 && ! mfc_forwards 10.0.1.2 225.9.9.9; }

# Traffic: 20 datagrams on the static route, 15 on a group of the rule (a
# learned entry), 10 on a group nothing routes (a stop filter).
traffic v4 225.1.2.3 20
expect_recv rcv1 20
expect_recv rcv2 20
check "the static route counted 20 packets" wait_for $((10 * TIME_SCALE)) packets_are 10.0.1.2 225.1.2.3 20
traffic v4 225.5.1.1 15
expect_recv_at_least rcv1 1
LEARNED=${RECV[rcv1]}
check "the learned entry counted the $LEARNED packets rcv1 received" wait_for $((10 * TIME_SCALE)) packets_are 10.0.1.2 225.5.1.1 "$LEARNED"
traffic v4 225.9.9.9 10
expect_recv rcv1 0
check "stop filter (10.0.1.2, 225.9.9.9) in the MFC" wait_for $((10 * TIME_SCALE)) stop_filter_present
check "the stop filter counted packets" wait_for $((10 * TIME_SCALE)) eval '[ "$(packets_of 10.0.1.2 225.9.9.9)" -ge 1 ]'

# The graph, then the table it must show (traffic has stopped: the
# counters no longer move).
timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" show graph >"$TMP/g.dot" 2>"$TMP/g.err" \
    || fail "show graph failed: $(cat "$TMP/g.err")"
timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" -d -j show >"$TMP/routes.json" || fail "show -d -j failed"
say "show graph:"
cat "$TMP/g.dot"
say "show -d -j:"
cat "$TMP/routes.json"
dot -Tsvg "$TMP/g.dot" >"$TMP/g.svg" 2>"$TMP/dot.err" || fail "dot -Tsvg failed: $(cat "$TMP/dot.err")"
[ ! -s "$TMP/dot.err" ] || fail "dot -Tsvg warned: $(cat "$TMP/dot.err")"
grep -q '<svg' "$TMP/g.svg" || fail "dot wrote no SVG"
say "ok: dot -Tsvg rendered $(wc -c <"$TMP/g.svg") bytes of SVG"

# Graphviz's own parser reads the graph back: one line per edge and node.
gvpr 'E { printf("E\t%s\t%s\t%s\t%s\n", tail.name, head.name, $.label, $.style); }
      N { printf("N\t%s\t%s\t%s\n", $.name, $.label, $.style); }' "$TMP/g.dot" >"$TMP/g.tsv" \
    || fail "gvpr could not read the graph"
python3 - "$TMP/g.tsv" "$TMP/routes.json" "$LEARNED" "$ODD" <<'PY' || fail "the graph does not match show -d -j"
import collections, json, sys

tsv, routes_json, learned_count, odd = sys.argv[1:5]
edges, nodes = collections.Counter(), {}
for line in open(tsv, encoding="ascii"):
    f = line.rstrip("\n").split("\t")
    if f[0] == "E":
        edges[(f[1], f[2], f[3], f[4])] += 1
    else:
        nodes[f[1]] = (f[2], f[3])

def node_id(name):
    # The DOT ID of an interface as gvpr returns it: "if:" and the name with
    # backslashes doubled (DOT keeps them so) and quotes unescaped.
    return "if:" + name.replace("\\", "\\\\")

want = collections.Counter()
rows = json.load(open(routes_json))["routes"]
for r in rows:
    key = f'({r["source"]}, {r["group"]})'
    key += {"rule": " rule", "route": "", "learned": " learned", "stop": " stop filter"}[r["kind"]]
    if r["state"] == "pending":
        second = "pending"
    elif r["kind"] == "rule":
        second = f'{r["learned"]} learned'
    else:
        n = r["packets"]
        second = f'{n} packet' + ("" if n == 1 else "s")
    # DOT label text: \n between the lines, backslashes doubled.
    label = (key + "\\n" + second)
    pending = r["state"] == "pending"
    heads = [node_id(o) for o in r["oifs"]] or ["drop"]
    for h in heads:
        want[(node_id(r["iif"]), h, label, "dashed" if pending else "")] += 1

if edges != want:
    print("edges in the graph but not implied by show -d -j:", dict(edges - want))
    print("edges implied by show -d -j but not in the graph:", dict(want - edges))
    sys.exit(1)
print(f"ok: {sum(edges.values())} edges, each from show -d -j")

def edge_label(tail, head, key):
    hits = [e for e in edges if e[0] == tail and e[1] == head and e[2].startswith(key)]
    assert len(hits) == 1, f"{len(hits)} edges {tail} -> {head} {key}: {list(edges)}"
    return hits[0][2]

# The counts are those of the traffic sent.
assert edge_label("if:a1", "if:b1", "(10.0.1.2, 225.1.2.3)\\n") == "(10.0.1.2, 225.1.2.3)\\n20 packets"
assert edge_label("if:a1", "if:b2", "(10.0.1.2, 225.1.2.3)\\n") == "(10.0.1.2, 225.1.2.3)\\n20 packets"
assert edge_label("if:a1", "if:b1", "(10.0.1.2, 225.5.1.1) learned") \
    == f"(10.0.1.2, 225.5.1.1) learned\\n{learned_count} packet" + ("" if learned_count == "1" else "s")
assert edge_label("if:a1", "if:b1", "(*, 225.5.0.0/16) rule") == "(*, 225.5.0.0/16) rule\\n1 learned"
assert edge_label("if:a1", "drop", "(10.0.1.2, 225.9.9.9) stop filter\\n")
assert edge_label("if:ghost0", "if:b1", "(10.0.1.2, 225.7.7.7)") == "(10.0.1.2, 225.7.7.7)\\npending"
assert edge_label("if:a1", node_id(odd), "(10.0.1.2, 225.8.8.8)").startswith("(10.0.1.2, 225.8.8.8)\\n")
# Nodes: interfaces with their VIF and state, the missing one dashed, drop.
assert nodes["if:a1"][0].startswith("a1\\nVIF ") and nodes["if:a1"][0].endswith("\\nup"), nodes["if:a1"]
assert nodes["if:ghost0"] == ("ghost0\\nmissing", "dashed"), nodes["if:ghost0"]
assert nodes[node_id(odd)][0].startswith(odd.replace("\\", "\\\\") + "\\n"), nodes[node_id(odd)]
assert nodes["drop"][0] == "drop", nodes["drop"]
print("ok: counts and nodes as expected")
PY
say "ok: every edge of the graph is a route's IIF -> OIF of show -d -j, with its packets"

timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" -j show graph >"$TMP/g.json" 2>"$TMP/gj.err" \
    || fail "smcroutectl -j show graph failed: $(cat "$TMP/gj.err")"
say "show -j graph:"
cat "$TMP/g.json"
python3 - "$TMP/g.tsv" "$TMP/g.json" "$ODD" <<'PY' || fail "show -j graph does not match the DOT"
import collections, json, sys

tsv, graph_json, odd = sys.argv[1:4]
dot_edges, dot_nodes = collections.Counter(), set()
for line in open(tsv, encoding="ascii"):
    f = line.rstrip("\n").split("\t")
    if f[0] == "E":
        dot_edges[(f[1], f[2], f[3], f[4])] += 1
    else:
        dot_nodes.add(f[1])

def no_dupes(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
    return dict(pairs)

doc = json.loads(open(graph_json, encoding="utf-8").read(), object_pairs_hook=no_dupes)
assert list(doc) == ["graph"], list(doc)
node_id = lambda name: "if:" + name.replace("\\", "\\\\")
suffix = {"rule": " rule", "route": "", "learned": " learned", "stop": " stop filter"}
json_edges, json_nodes = collections.Counter(), set()
for el in doc["graph"]:
    if el["type"] == "edge":
        first = el["label"] + suffix[el["kind"]]
        if "packets" in el:
            second = f'{el["packets"]} packet' + ("" if el["packets"] == 1 else "s")
        elif "learned" in el:
            second = f'{el["learned"]} learned'
        else:
            second = "pending"
        head = "drop" if el["to"] is None else node_id(el["to"])
        json_edges[(node_id(el["from"]), head, first + "\\n" + second, "" if el["active"] else "dashed")] += 1
    elif el["type"] == "node":
        json_nodes.add(node_id(el["name"]))
    elif el["type"] == "drop":
        json_nodes.add("drop")
    else:
        raise AssertionError(f"unexpected element {el}")
if json_edges != dot_edges:
    print("edges in the DOT, not in the JSON:", dict(dot_edges - json_edges))
    print("edges in the JSON, not in the DOT:", dict(json_edges - dot_edges))
    sys.exit(1)
assert json_nodes == dot_nodes, (json_nodes, dot_nodes)
# Names raw: the odd interface's name as the kernel has it.
assert any(el.get("to") == odd for el in doc["graph"]), f"no edge to {odd!r}"
assert any(el.get("name") == odd and el["state"] == "present" for el in doc["graph"]), f"no node {odd!r}"
ghost = [el for el in doc["graph"] if el.get("name") == "ghost0"]
assert ghost == [{"type": "node", "name": "ghost0", "vif": None, "mif": None, "up": False, "state": "missing"}], ghost
print(f"ok: {sum(json_edges.values())} edges and {len(json_nodes)} nodes, as in the DOT")
PY
say "ok: show -j graph holds the DOT's edges and nodes"
pass

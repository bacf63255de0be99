#!/bin/bash
# show memberships (text and -j) lists what the kernel holds -- every group
# on every interface, joined by anyone, with its filter mode and sources --
# exactly as /proc/net/igmp, igmp6, mcfilter and mcfilter6 say (parsed here
# independently, in python3); -i IF and -f inet|inet6 narrow it. Then the
# daemon's SSM filters must be shown even when the kernel's mcfilter files
# hide them (a device whose newest group is an ASM join is skipped there).
. "$(dirname "$0")/lib.sh"
topo
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
[ -e /proc/net/igmp6 ] || skip "kernel without IPv6 (/proc/net/igmp6 missing)"
mcfilter_anchor   # the /proc files complete (see lib.sh)
ANCHORS=$(jobs -p)

write_conf <<'CONF'
mgroup from a1 group 225.1.1.1
mgroup from a1 source 10.0.1.2 group 232.1.1.1
mgroup from a1 source 10.0.1.3 group 232.1.1.1
mgroup from b1 group ff0e::1:1
mgroup from b1 source fd01::2 group ff3e::1:2
CONF
start_daemon
# Memberships of other processes: EXCLUDE {source}, IPv4 and IPv6.
hold_join a1 225.8.8.8 -b 10.0.1.9
hold_join -6 b2 ff0e::8:8 -b fd01::9

cat >"$TMP/memb.py" <<'PY'
# memb.py MODE FILE [IF] [FAMILY]: compare show memberships output (MODE json
# or text, in FILE) with the kernel's /proc files, narrowed to IF / FAMILY.
import json, re, socket, struct, sys

def kernel():
    names, groups, filt = {}, {}, {}
    dev = None
    for line in open("/proc/net/igmp"):
        m = re.match(r"^(\d+)\s+(\S+)\s*:", line)
        if m:
            dev = m.group(2); names[int(m.group(1))] = dev
            continue
        w = line.split()
        if dev and line[:1] == "\t" and len(w) >= 2 and len(w[0]) == 8:
            g = socket.inet_ntoa(struct.pack("=I", int(w[0], 16)))  # host order
            groups[(dev, "inet", g)] = int(w[1])
    for line in open("/proc/net/igmp6"):
        w = line.split()
        names[int(w[0])] = w[1]
        g = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(w[2]))
        groups[(w[1], "inet6", g)] = int(w[3])
    for line in list(open("/proc/net/mcfilter"))[1:]:
        w = line.split()
        g = socket.inet_ntoa(struct.pack("!I", int(w[2], 16)))
        s = socket.inet_ntoa(struct.pack("!I", int(w[3], 16)))
        filt.setdefault((names[int(w[0])], "inet", g), []).append((s, int(w[4]), int(w[5])))
    for line in list(open("/proc/net/mcfilter6"))[1:]:
        w = line.split()
        g = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(w[2]))
        s = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(w[3]))
        filt.setdefault((names[int(w[0])], "inet6", g), []).append((s, int(w[4]), int(w[5])))
    out = []
    for key, users in groups.items():
        f = filt.get(key, [])
        if not f:
            mode, srcs = "exclude", []
        elif any(exc for _, _, exc in f):
            mode, srcs = "exclude", [s for s, inc, exc in f if exc and not inc]
        else:
            mode, srcs = "include", [s for s, inc, _ in f if inc]
        out.append(key + (mode, norm_srcs(key[1], srcs), users))
    return sorted(out)

def norm(fam, a):
    af = socket.AF_INET if fam == "inet" else socket.AF_INET6
    return socket.inet_ntop(af, socket.inet_pton(af, a))

def norm_srcs(fam, srcs):
    return tuple(sorted(norm(fam, s) for s in srcs))

def shown(mode, text):
    out = []
    if mode == "json":
        for r in json.loads(text)["memberships"]:
            fam = r["family"]
            out.append((r["interface"], fam, norm(fam, r["group"]), r["mode"], norm_srcs(fam, r["sources"]), r["users"]))
    else:
        for line in text.splitlines():
            if line == "No memberships.":
                continue
            c = re.split(r" {2,}", line.strip())
            assert len(c) == 5, "bad row: %r" % line
            fam = "inet6" if ":" in c[1] else "inet"
            srcs = [] if c[3] == "-" else c[3].split()
            out.append((c[0], fam, norm(fam, c[1]), c[2], norm_srcs(fam, srcs), int(c[4])))
    return sorted(out)

mode, path = sys.argv[1], sys.argv[2]
want_if = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
want_fam = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
k = [r for r in kernel() if (not want_if or r[0] == want_if) and (not want_fam or r[1] == want_fam)]
s = shown(mode, open(path).read())
if s != k:
    print("shown but not in the kernel:", sorted(set(s) - set(k)))
    print("in the kernel but not shown:", sorted(set(k) - set(s)))
    if sorted(set(s)) == sorted(set(k)):
        print("(duplicated rows)")
    sys.exit(1)
print("%d memberships agree with the kernel" % len(k))
PY

# agree MODE IF FAMILY [CLIENT-ARGS...]: the output of show memberships with
# those arguments agrees with the kernel (narrowed to IF / FAMILY, "" = all).
agree() {
    local mode=$1 ifn=$2 fam=$3 i; shift 3
    for i in 1 2 3; do # the kernel's files may change between the two reads
        timeout 10 "$BIN/smcroutectl" "$@" >"$TMP/out" || fail "smcroutectl $* failed"
        python3 "$TMP/memb.py" "$mode" "$TMP/out" "$ifn" "$fam" >"$TMP/cmp" 2>&1 && break
    done
    [ "$i" -lt 3 ] || python3 "$TMP/memb.py" "$mode" "$TMP/out" "$ifn" "$fam" >"$TMP/cmp" 2>&1 \
        || fail "smcroutectl $*: differs from the kernel: $(cat "$TMP/cmp")$(echo; cat "$TMP/out")"
    say "ok: smcroutectl $*: $(cat "$TMP/cmp")"
}
# row_of JSON-FILE IF GROUP: "mode sources" of that membership in -j output.
row_of() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["memberships"] if r["interface"] == sys.argv[2] and r["group"] == sys.argv[3]]
print(" ".join([rows[0]["mode"]] + sorted(rows[0]["sources"])) if len(rows) == 1 else "rows: %d" % len(rows))
PY
}
expect_row() {
    local got
    got=$(row_of "$TMP/j.json" "$1" "$2")
    [ "$got" = "$3" ] || fail "-j show memberships: $2 on $1 is '$got', want '$3'"
    say "ok: $2 on $1: $3"
}

agree json "" ""       -j show memberships
agree text "" ""       show memberships
agree json a1 ""       -j show memberships -i a1
agree text b1 ""       show memberships -i b1
agree json "" inet     -j show memberships -f inet
agree text "" inet6    show memberships -f inet6
agree json b2 inet6    -j show memberships -i b2 -f inet6
agree text a1 inet     show memberships -i a1 -f inet
# The filters really narrow.
timeout 10 "$BIN/smcroutectl" show memberships -i b1 >"$TMP/out"
check "-i b1 lists only b1" [ "$(awk '{ print $1 }' "$TMP/out" | sort -u)" = b1 ]
timeout 10 "$BIN/smcroutectl" show memberships -f inet >"$TMP/out"
check_not "-f inet lists no IPv6 group" grep -q '  ff' "$TMP/out"
check "-f inet lists 225.1.1.1" grep -q ' 225\.1\.1\.1 ' "$TMP/out"
# What this test made, whatever the parsing above concluded.
timeout 10 "$BIN/smcroutectl" -j show memberships >"$TMP/j.json"
expect_row a1 225.1.1.1 "exclude"
expect_row a1 232.1.1.1 "include 10.0.1.2 10.0.1.3"
expect_row a1 225.8.8.8 "exclude 10.0.1.9"
expect_row b1 ff0e::1:1 "exclude"
expect_row b1 ff3e::1:2 "include fd01::2"
expect_row b2 ff0e::8:8 "exclude fd01::9"
check "show memberships -i nosuch0 lists nothing" [ "$(timeout 10 "$BIN/smcroutectl" show memberships -i nosuch0)" = "No memberships." ]
check_not "show memberships -f ipx is refused" timeout 10 "$BIN/smcroutectl" show memberships -f ipx

# ---- without the anchor, the newest group of a1 and b1 an ASM join: the
# kernel's mcfilter files skip those devices; the daemon's SSM joins must
# still be shown with their sources.
# shellcheck disable=SC2086
kill $ANCHORS
check "join a1 225.1.1.9" ctl join a1 225.1.1.9
check "join b1 ff0e::1:9" ctl join b1 ff0e::1:9
sleep 0.2
timeout 10 "$BIN/smcroutectl" -j show memberships >"$TMP/j.json"
expect_row a1 232.1.1.1 "include 10.0.1.2 10.0.1.3"
expect_row b1 ff3e::1:2 "include fd01::2"
pass

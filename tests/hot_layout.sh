#!/usr/bin/env bash
# tests/hot_layout.sh PROGRAM LIST: the static PROGRAM (the g++ build of
# warnings_gcc, linked as a release is) has the functions of LIST
# (dist/hot-symbols.txt, the ones an idle daemon runs) placed together at
# the start of its code, which is what keeps the idle daemon's RSS below
# SMCRoute 2.5.6's (tests/bench/run.sh, "idle"):
#   * it was linked by ld.lld (the only linker that orders by such a list;
#     tests/run_all.sh installs it);
#   * at most 10 % of the listed functions are missing from the program (a
#     list gone stale after the code moved; regenerate it with
#     tests/bench/hot_symbols.sh);
#   * at least 95 % of the listed functions it has lie in the first half of
#     its code (without the list they are spread over all of it).
# Exit 0 pass, 1 fail.
set -euo pipefail
prog=${1:?usage: hot_layout.sh PROGRAM LIST}
list=${2:?usage: hot_layout.sh PROGRAM LIST}
fail() { echo "FAIL: hot_layout: $*" >&2; exit 1; }
[ -x "$prog" ] || fail "no program $prog"
readelf -p .comment "$prog" 2>/dev/null | grep 'Linker: .*LLD' > /dev/null ||
    fail "$prog was not linked by ld.lld, so dist/hot-symbols.txt did not lay it out (apt-get install lld)"
python3 - "$prog" "$list" <<'PY'
import re, subprocess, sys
prog, listfile = sys.argv[1], sys.argv[2]
text = None
for line in subprocess.run(["readelf", "-SW", prog], capture_output=True, text=True, check=True).stdout.splitlines():
    m = re.search(r"\]\s+\.text\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
    if m:
        text = (int(m.group(1), 16), int(m.group(2), 16))
if not text:
    sys.exit(f"FAIL: hot_layout: no .text in {prog}")
lo, size = text
addr = {}
for line in subprocess.run(["nm", "--defined-only", prog], capture_output=True, text=True, check=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3 and f[1] in "tTwW":
        addr.setdefault(f[2], int(f[0], 16))
listed = [l.strip() for l in open(listfile) if l.strip() and not l.startswith("#")]
if not listed:
    sys.exit("FAIL: hot_layout: the list is empty")
have = [n for n in listed if n in addr]
missing = len(listed) - len(have)
early = sum(1 for n in have if addr[n] < lo + size // 2)
print(f"hot_layout: {len(listed)} listed, {missing} missing, {early} of {len(have)} in the first half of .text ({size // 1024} KiB)")
if missing * 10 > len(listed):
    sys.exit(f"FAIL: hot_layout: {missing} of {len(listed)} listed functions are not in the program: regenerate dist/hot-symbols.txt (tests/bench/hot_symbols.sh)")
if early * 100 < 95 * len(have):
    sys.exit(f"FAIL: hot_layout: only {early} of {len(have)} listed functions lie in the first half of the code: the list did not order the link")
print("PASS: hot_layout")
PY

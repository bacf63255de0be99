#!/usr/bin/env python3
# tests/bench/touched_functions.py PID PROGRAM: the functions of PROGRAM on
# the code pages process PID has mapped, in address order, one per line
# (from /proc/PID/maps and /proc/PID/pagemap; needs root). With the kernel's
# fault-around off (debugfs fault_around_bytes = 4096) a mapped page is one
# the process ran code on. tests/bench/hot_symbols.sh lists them for the
# link's layout; proxy_bench.sh writes them for it (PBENCH_TOUCHED).
import os, struct, subprocess, sys
pid, prog = sys.argv[1], os.path.realpath(sys.argv[2])
loads = []
for l in subprocess.run(["readelf", "-lW", prog], capture_output=True, text=True, check=True).stdout.splitlines():
    f = l.split()
    if f and f[0] == "LOAD":
        loads.append((int(f[1], 16), int(f[2], 16)))  # file offset, address
syms = []
for l in subprocess.run(["nm", "-n", "-S", "--defined-only", prog], capture_output=True, text=True, check=True).stdout.splitlines():
    f = l.split()
    if len(f) == 4 and f[2] in "tTwWi": # i: the IFUNC resolvers the start-up runs
        syms.append((int(f[0], 16), int(f[1], 16), f[3]))
pages = set()
with open(f"/proc/{pid}/pagemap", "rb") as pm:
    for line in open(f"/proc/{pid}/maps"):
        f = line.split()
        if len(f) < 6 or "x" not in f[1] or os.path.realpath(f[5]) != prog:
            continue
        a, b = (int(x, 16) for x in f[0].split("-"))
        off = int(f[2], 16)
        seg = max((L for L in loads if L[0] <= off), key=lambda L: L[0])
        bias = a - (seg[1] + off - seg[0])
        pm.seek(a // 4096 * 8)
        data = pm.read((b - a) // 4096 * 8)
        for i in range((b - a) // 4096):
            if struct.unpack_from("<Q", data, i * 8)[0] >> 63:
                pages.add((a - bias) // 4096 + i)
for addr, size, name in syms:
    if any(p in pages for p in range(addr // 4096, (addr + max(size, 1) - 1) // 4096 + 1)):
        print(name)

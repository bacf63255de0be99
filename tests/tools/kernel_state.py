#!/usr/bin/env python3
"""tests/tools/kernel_state.py: the multicast state of this network
namespace's kernel, one sorted line per fact and by interface NAME, so two
daemons' results can be compared with diff: VIFs/MIFs, MFC entries (inbound
interface, source, group, outbound interfaces with their TTL thresholds),
group memberships and source filters. Link-local groups every host joins
(224.0.0.0/24, ff02::/16, ff01::/16) are left out.

    kernel_state.py            print the state
"""
import ipaddress
import socket
import struct
import sys


def lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()[1:]
    except FileNotFoundError:
        return []


def hex4_host(h):
    """An address the kernel printed with %08X from a __be32 (host order)."""
    return socket.inet_ntoa(struct.pack("=I", int(h, 16)))


def hex4_net(h):
    """An address printed with 0x%08x after ntohl (network order)."""
    return socket.inet_ntoa(struct.pack(">I", int(h, 16)))


def hex6(h):
    """An IPv6 address in 32 hex digits (%pi6) or with colons (%pI6)."""
    if ":" in h:
        return str(ipaddress.IPv6Address(h))
    return str(ipaddress.IPv6Address(bytes.fromhex(h)))


def local_group(g):
    a = ipaddress.ip_address(g)
    if a.version == 4:
        return a in ipaddress.ip_network("224.0.0.0/24")
    return a in ipaddress.ip_network("ff02::/16") or a in ipaddress.ip_network("ff01::/16")


def vifs(path):
    out = {}
    for ln in lines(path):
        f = ln.split()
        if len(f) >= 2:
            out[f[0]] = f[1]
    return out


def mfc(path, vif, conv, tag, facts):
    for ln in lines(path):
        f = ln.split()
        if len(f) < 6 or f[2] in ("65535", "-1"):
            continue  # unresolved entries
        oifs = []
        for o in f[6:]:
            idx, ttl = o.split(":")
            oifs.append("%s:%s" % (vif.get(idx, "vif" + idx), ttl))
        facts.append("%s from %s source %s group %s to %s" % (
            tag, vif.get(f[2], "vif" + f[2]), conv(f[1]), conv(f[0]), " ".join(sorted(oifs)) or "-"))


def main():
    facts = []
    v4 = vifs("/proc/net/ip_mr_vif")
    v6 = vifs("/proc/net/ip6_mr_vif")
    facts += ["vif4 " + n for n in v4.values()]
    facts += ["vif6 " + n for n in v6.values()]
    mfc("/proc/net/ip_mr_cache", v4, hex4_host, "mfc4", facts)
    mfc("/proc/net/ip6_mr_cache", v6, hex6, "mfc6", facts)
    dev = None
    for ln in lines("/proc/net/igmp"):
        f = ln.split()
        if not ln.startswith(("\t", " ")) and len(f) >= 2:
            dev = f[1]
        elif f and dev and len(f[0]) == 8:
            g = hex4_host(f[0])
            if not local_group(g):
                facts.append("join4 %s %s" % (dev, g))
    for ln in open("/proc/net/igmp6").read().splitlines():
        f = ln.split()
        if len(f) >= 3:
            g = hex6(f[2])
            if not local_group(g):
                facts.append("join6 %s %s" % (f[1], g))
    for ln in lines("/proc/net/mcfilter"):
        f = ln.split()
        if len(f) >= 6:
            facts.append("filter4 %s %s %s inc=%s exc=%s" % (f[1], hex4_net(f[2]), hex4_net(f[3]), f[4], f[5]))
    for ln in lines("/proc/net/mcfilter6"):
        f = ln.split()
        if len(f) >= 6:
            facts.append("filter6 %s %s %s inc=%s exc=%s" % (f[1], hex6(f[2]), hex6(f[3]), f[4], f[5]))
    sys.stdout.write("".join(x + "\n" for x in sorted(set(facts))))


if __name__ == "__main__":
    main()

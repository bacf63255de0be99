#!/usr/bin/env python3
"""tests/tools/group_raw.py: send one hand-made IGMP or MLD report, valid or
broken on purpose, for tests/system/proxy_malformed.sh. The bytes are built
here from the RFCs' layouts (RFC 2236/3376 for IGMP, RFC 2710/3810 for MLD),
independent of the code under test, and sent as a whole IP packet with an
AF_PACKET socket, so nothing in the sending kernel fixes them up.

    group_raw.py IFNAME CASE GROUP

CASE (v4: IGMP from IFNAME's IPv4 address to GROUP, TTL 1, Router Alert;
v6: MLD from IFNAME's link-local address, hop limit 1, Router Alert):
    igmp-ok        IGMPv2 report, correct (for checking the checker)
    igmp-badsum    IGMPv2 report, checksum off by one
    igmp-short     6 bytes of IGMP (a report needs 8)
    igmp-overrun   IGMPv3 report: one record claiming 5 sources, carrying 0
    igmp-ttl2      IGMPv2 report, correct, but TTL 2
    mld-ok         MLDv1 report, correct
    mld-badsum     MLDv1 report, checksum off by one
    mld-short      20 bytes of MLD (a report needs 24)
    mld-overrun    MLDv2 report: one record claiming 5 sources, carrying 0
    mld-hop2       MLDv1 report, correct, but hop limit 2
Exit 0 sent, 1 error, 64 usage.
"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def if_addr4(ifname):
    import fcntl
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    req = struct.pack("256s", ifname.encode()[:15])
    return socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, req)[20:24])  # SIOCGIFADDR


def if_linklocal6(ifname):
    with open("/proc/net/if_inet6") as f:
        for line in f:
            w = line.split()
            if w[5] == ifname and w[3] == "20":
                return socket.inet_ntop(socket.AF_INET6, bytes.fromhex(w[0]))
    raise SystemExit("group_raw: %s has no link-local address" % ifname)


def ipv4(src, dst, payload, ttl):
    opts = b"\x94\x04\x00\x00"  # Router Alert
    hl = 20 + len(opts)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x46, 0xC0, hl + len(payload), 0, 0, ttl, 2, 0,
                      socket.inet_aton(src), socket.inet_aton(dst)) + opts
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, icmp, hops, fix_sum=True, sum_delta=0):
    s = socket.inet_pton(socket.AF_INET6, src)
    d = socket.inet_pton(socket.AF_INET6, dst)
    if fix_sum:
        pseudo = s + d + struct.pack("!I3xB", len(icmp), 58)
        icmp = icmp[:2] + b"\0\0" + icmp[4:]
        c = (csum(pseudo + icmp) + sum_delta) & 0xFFFF
        icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])  # next ICMPv6; Router Alert (MLD); PadN
    plen = len(hbh) + len(icmp)
    hdr = struct.pack("!IHBB", 6 << 28, plen, 0, hops) + s + d
    return hdr + hbh + icmp


def mac_for(dst):
    if ":" in dst:
        b = socket.inet_pton(socket.AF_INET6, dst)
        return b"\x33\x33" + b[12:]
    b = socket.inet_aton(dst)
    return bytes([0x01, 0x00, 0x5E, b[1] & 0x7F, b[2], b[3]])


def build(case, ifname, group):
    if case.startswith("igmp"):
        src = if_addr4(ifname)
        g = socket.inet_aton(group)
        ttl = 2 if case == "igmp-ttl2" else 1
        if case == "igmp-overrun":
            body = struct.pack("!BBHHH", 0x22, 0, 0, 0, 1) + struct.pack("!BBH4s", 2, 0, 5, g)
            body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
            return ipv4(src, "224.0.0.22", body, 1), "224.0.0.22"
        if case == "igmp-short":
            body = struct.pack("!BBH", 0x16, 0, 0) + g[:2]
            body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
            return ipv4(src, group, body, 1), group
        body = struct.pack("!BBH4s", 0x16, 0, 0, g)
        c = csum(body)
        if case == "igmp-badsum":
            c = (c + 1) & 0xFFFF
        body = body[:2] + struct.pack("!H", c) + body[4:]
        return ipv4(src, group, body, ttl), group
    src = if_linklocal6(ifname)
    g = socket.inet_pton(socket.AF_INET6, group)
    hops = 2 if case == "mld-hop2" else 1
    if case == "mld-overrun":
        body = struct.pack("!BBHHH", 143, 0, 0, 0, 1) + struct.pack("!BBH", 2, 0, 5) + g
        return ipv6(src, "ff02::16", body, 1), "ff02::16"
    if case == "mld-short":
        body = struct.pack("!BBHHH", 131, 0, 0, 0, 0) + g[:12]
        return ipv6(src, group, body, 1), group
    body = struct.pack("!BBHHH", 131, 0, 0, 0, 0) + g
    delta = 1 if case == "mld-badsum" else 0
    return ipv6(src, group, body, hops, True, delta), group


CASES = ["igmp-ok", "igmp-badsum", "igmp-short", "igmp-overrun", "igmp-ttl2",
         "mld-ok", "mld-badsum", "mld-short", "mld-overrun", "mld-hop2"]


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in CASES:
        print(__doc__, file=sys.stderr)
        return 64
    ifname, case, group = sys.argv[1:]
    packet, dst = build(case, ifname, group)
    proto = 0x86DD if case.startswith("mld") else 0x0800
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(proto))
    s.sendto(packet, (ifname, proto, 0, 0, mac_for(dst)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

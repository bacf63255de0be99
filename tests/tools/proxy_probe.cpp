// tests/tools/proxy_probe: the receiver and sender of the proxy benchmark
// (tests/bench/proxy_bench.sh) and the link watcher and IGMP/MLD capture of
// the proxy system tests (tests/system/proxy_*.sh). Plain sockets only, independent of the code under test (and of any
// proxy: it only joins groups like any host and watches the link).
//
//   proxy_probe latency -i IF -g GROUP [-p PORT] [-n ROUNDS] [-q QUIET] [-T SEC]
//   proxy_probe groups  -i IF -G FIRST -N NUM [-p PORT] [-T SEC]
//   proxy_probe send    -i IF -G FIRST -N NUM [-p PORT] [-r PPS] [-t TTL] [-s SRC]
//   proxy_probe watch   [-6] -i IF -g GROUP [-p PORT] [-s SRC] (-a | -Q QUIET | -w SEC) [-T SEC]
//   proxy_probe capture -i IF -w SEC [-R READYFILE]
//
// latency (IPv4): ROUNDS times: a UDP socket bound to PORT joins GROUP on IF
// (IP_ADD_MEMBERSHIP; the host's kernel reports), and the time from that
// call to the first datagram the socket receives that was sent after it
// (send's payloads carry their send time) is the join latency; a router
// that kept packets queued from before the join (the kernel's unresolved
// queue, released when the route is added) may deliver those first, and
// the time to the first datagram of any age is printed beside it; then
// it leaves (IP_DROP_MEMBERSHIP) and watches the link itself (AF_PACKET on
// IF: every frame to GROUP:PORT that arrives, member or not): the time from
// the leave call to the last such frame, once none came for QUIET seconds
// (default 3), is the leave latency (0 when none came after the leave).
// Prints "round K join_ms X leave_ms Y any_ms Z" per round ("fail" where
// nothing came within -T SEC, default 30; a failed join ends the run, exit 1).
// Times come from the kernel's receive timestamps (SO_TIMESTAMPNS) against
// CLOCK_REALTIME read right at the syscalls.
//
// groups (IPv4): NUM consecutive groups from FIRST are joined on IF (200 a
// socket: the kernel's option memory per socket holds some 400), and the time
// from the first join to the moment every group delivered a datagram is
// printed: "all_ms X seen N of NUM" (exit 1 when -T SEC, default 120, ran
// out; X is then "fail").
//
// send (IPv4): datagrams to NUM consecutive groups from FIRST round-robin,
// RATE per second in all (default 2000), TTL (default 8), optionally from
// SRC (bound), until SIGTERM/SIGINT. Payload "SMCT bench SEQ".
//
// watch: frames to GROUP:PORT (from SRC if given) arriving on IF (AF_PACKET).
// -a: exit 0 at the first one (exit 1 if none within -T, default 30);
// -Q QUIET: exit 0 once none came for QUIET seconds (exit 1 if frames still
// came after -T), printing "quiet_after_ms X" (X = time from start to the
// last frame, 0 if none); -w SEC: count for SEC seconds and print
// "count N".
//
// capture: every IGMP and MLD message arriving on or sent out of IF for SEC
// seconds (or until SIGTERM), one line each, flushed at once:
//   t=SECONDS dir=in|out src=ADDR dst=ADDR ttl=N type=TYPE group=GROUP
// TYPE: query, v1report, v2report, leave (IGMP 0x17), done (MLD 132),
// v3report (IGMPv3 0x22 / MLDv2 143: one line per record, with rec=IS_IN|
// IS_EX|TO_IN|TO_EX|ALLOW|BLOCK and sources=A,B (or sources=-)), or
// other:N; ra=1 when the packet carries a Router Alert option. -R FILE is
// created once the socket is bound. Exit 64 on bad usage, 2 on a socket
// error.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <ctime>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

double now_real()
{
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int usage(const char* why)
{
    std::fprintf(stderr,
                 "proxy_probe: %s\n"
                 "usage: proxy_probe latency -i IF -g GROUP [-p PORT] [-n ROUNDS] [-q QUIET] [-T SEC]\n"
                 "       proxy_probe groups  -i IF -G FIRST -N NUM [-p PORT] [-T SEC]\n"
                 "       proxy_probe send    -i IF -G FIRST -N NUM [-p PORT] [-r PPS] [-t TTL] [-s SRC]\n"
                 "       proxy_probe watch   [-6] -i IF -g GROUP [-p PORT] [-s SRC] (-a | -Q QUIET | -w SEC)"
                 " [-T SEC]\n"
                 "       proxy_probe capture -i IF -w SEC [-R READYFILE]\n",
                 why);
    return 64;
}

struct Options {
    std::string mode;
    bool v6 = false;
    std::string ifname;
    std::string group;
    std::string first;
    long num = 0;
    int port = 4321;
    long rounds = 20;
    double quiet = 3;
    double timeout = -1;
    double rate = 2000;
    int ttl = 8;
    std::string src;
    bool any = false;
    double watch_for = -1;
    std::string ready;
};

double timestamp_of(msghdr& msg)
{
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec t{};
            std::memcpy(&t, CMSG_DATA(c), sizeof(t));
            return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
        }
    }
    return now_real();
}

// Receives one message within `wait` seconds; its kernel timestamp, or -1.
// `buf` gets the bytes, `len` their number.
double recv_stamped(int fd, double wait, std::vector<unsigned char>& buf, ssize_t& len)
{
    pollfd p{fd, POLLIN, 0};
    int ms = wait <= 0 ? 0 : static_cast<int>(wait * 1000) + 1;
    if (poll(&p, 1, ms) <= 0)
        return -1;
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) unsigned char ctl[256];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl;
    msg.msg_controllen = sizeof(ctl);
    len = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (len < 0)
        return -1;
    return timestamp_of(msg);
}

// The send time a `send` payload carries ("SMCT bench SEQ TIME"); -1 when
// the datagram has none.
double sent_at(const std::vector<unsigned char>& buf, ssize_t n)
{
    if (n <= 0)
        return -1;
    std::string text(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(n));
    long seq = 0;
    double at = -1;
    if (std::sscanf(text.c_str(), "SMCT bench %ld %lf", &seq, &at) != 2)
        return -1;
    return at;
}

void stamp(int fd)
{
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
}

// The link watcher: AF_PACKET on IF, matching frames to group:port (from src).
struct Watcher {
    int fd = -1;
    bool v6 = false;
    in_addr g4{};
    in_addr s4{};
    in6_addr g6{};
    in6_addr s6{};
    bool has_src = false;
    uint16_t port = 0;
    ~Watcher()
    {
        if (fd >= 0)
            close(fd);
    }
    bool open_on(const std::string& ifname, bool six, const std::string& group, const std::string& src, int p)
    {
        v6 = six;
        port = htons(static_cast<uint16_t>(p));
        if (six ? inet_pton(AF_INET6, group.c_str(), &g6) != 1 : inet_pton(AF_INET, group.c_str(), &g4) != 1)
            return false;
        has_src = !src.empty();
        if (has_src && (six ? inet_pton(AF_INET6, src.c_str(), &s6) != 1 : inet_pton(AF_INET, src.c_str(), &s4) != 1))
            return false;
        uint16_t proto = htons(six ? ETH_P_IPV6 : ETH_P_IP);
        fd = socket(AF_PACKET, SOCK_DGRAM, proto);
        if (fd < 0)
            return false;
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = proto;
        sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
        if (sll.sll_ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) < 0)
            return false;
        stamp(fd);
        return true;
    }
    bool matches(const unsigned char* b, ssize_t n) const
    {
        if (!v6) {
            if (n < static_cast<ssize_t>(sizeof(iphdr) + sizeof(udphdr)))
                return false;
            iphdr ip{};
            std::memcpy(&ip, b, sizeof(ip));
            size_t hl = static_cast<size_t>(ip.ihl) * 4;
            if (ip.protocol != IPPROTO_UDP || ip.daddr != g4.s_addr || (has_src && ip.saddr != s4.s_addr)
                || n < static_cast<ssize_t>(hl + sizeof(udphdr)))
                return false;
            udphdr u{};
            std::memcpy(&u, b + hl, sizeof(u));
            return u.dest == port;
        }
        if (n < static_cast<ssize_t>(sizeof(ip6_hdr) + sizeof(udphdr)))
            return false;
        ip6_hdr ip{};
        std::memcpy(&ip, b, sizeof(ip));
        if (ip.ip6_nxt != IPPROTO_UDP || std::memcmp(&ip.ip6_dst, &g6, sizeof(g6)) != 0
            || (has_src && std::memcmp(&ip.ip6_src, &s6, sizeof(s6)) != 0))
            return false;
        udphdr u{};
        std::memcpy(&u, b + sizeof(ip6_hdr), sizeof(u));
        return u.dest == port;
    }
    // The timestamp of the next matching frame within `wait` seconds, or -1.
    double next(double wait)
    {
        std::vector<unsigned char> buf(2048);
        double end = now_real() + wait;
        while (!g_stop) {
            double left = end - now_real();
            if (left <= 0)
                return -1;
            ssize_t n = 0;
            double t = recv_stamped(fd, left, buf, n);
            if (t < 0)
                continue;
            if (matches(buf.data(), n))
                return t;
        }
        return -1;
    }
    // Drops everything queued so far.
    void drain()
    {
        unsigned char b[2048];
        while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0) {
        }
    }
};

int run_latency(const Options& o)
{
    in_addr g{};
    if (inet_pton(AF_INET, o.group.c_str(), &g) != 1)
        return usage("bad group");
    unsigned idx = if_nametoindex(o.ifname.c_str());
    if (idx == 0)
        return usage("no such interface");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(o.port));
    sa.sin_addr = g;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
        std::perror("proxy_probe: bind");
        return 2;
    }
    stamp(fd);
    Watcher w;
    if (!w.open_on(o.ifname, false, o.group, "", o.port)) {
        std::perror("proxy_probe: packet socket");
        return 2;
    }
    double limit = o.timeout > 0 ? o.timeout : 30;
    std::vector<unsigned char> buf(2048);
    ip_mreqn mr{};
    mr.imr_multiaddr = g;
    mr.imr_ifindex = static_cast<int>(idx);
    for (long k = 1; k <= o.rounds && !g_stop; ++k) {
        // Nothing queued from before the join counts.
        while (recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) > 0) {
        }
        double t0 = now_real();
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
            std::perror("proxy_probe: IP_ADD_MEMBERSHIP");
            return 2;
        }
        double t1 = -1, any = -1;
        while (t1 < 0 && now_real() - t0 < limit && !g_stop) {
            ssize_t n = 0;
            double t = recv_stamped(fd, limit - (now_real() - t0), buf, n);
            if (t < t0)
                continue;
            if (any < 0)
                any = t;
            if (sent_at(buf, n) >= t0)
                t1 = t;
        }
        if (t1 < 0) {
            std::printf("round %ld join_ms fail leave_ms fail any_ms fail\n", k);
            std::fflush(stdout);
            return 1;
        }
        w.drain();
        double t2 = now_real();
        if (setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
            std::perror("proxy_probe: IP_DROP_MEMBERSHIP");
            return 2;
        }
        double last = t2;
        bool quiet = false;
        while (!g_stop && now_real() - t2 < limit) {
            double t = w.next(o.quiet);
            if (t < 0) {
                quiet = true;
                break;
            }
            if (t > last)
                last = t;
        }
        if (quiet)
            std::printf("round %ld join_ms %.3f leave_ms %.3f any_ms %.3f\n", k, (t1 - t0) * 1000, (last - t2) * 1000,
                        (any - t0) * 1000);
        else
            std::printf("round %ld join_ms %.3f leave_ms fail any_ms %.3f\n", k, (t1 - t0) * 1000, (any - t0) * 1000);
        std::fflush(stdout);
        if (!quiet)
            return 1;
    }
    return 0;
}

int run_groups(const Options& o)
{
    in_addr first{};
    if (inet_pton(AF_INET, o.first.c_str(), &first) != 1 || o.num <= 0)
        return usage("bad -G/-N");
    unsigned idx = if_nametoindex(o.ifname.c_str());
    if (idx == 0)
        return usage("no such interface");
    // The kernel charges every membership to its socket's option memory
    // (net.core.optmem_max, global): some 400 fit in one socket, so one
    // socket per 200 groups, each receiving only its own groups.
    const long per_socket = 200;
    std::vector<int> fds;
    std::vector<bool> seen(static_cast<size_t>(o.num), false);
    long count = 0;
    uint32_t base = ntohl(first.s_addr);
    double t0 = now_real();
    for (long k = 0; k < o.num; ++k) {
        if (k % per_socket == 0) {
            int fd = socket(AF_INET, SOCK_DGRAM, 0);
            int on = 1, off = 0, big = 8 << 20;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
            setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
            setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof(off));
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            sa.sin_port = htons(static_cast<uint16_t>(o.port));
            if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
                std::perror("proxy_probe: bind");
                return 2;
            }
            fds.push_back(fd);
        }
        ip_mreqn mr{};
        mr.imr_multiaddr.s_addr = htonl(base + static_cast<uint32_t>(k));
        mr.imr_ifindex = static_cast<int>(idx);
        if (setsockopt(fds.back(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
            std::fprintf(stderr, "proxy_probe: join %ld: %s (net.ipv4.igmp_max_memberships?)\n", k,
                         std::strerror(errno));
            return 2;
        }
    }
    double limit = o.timeout > 0 ? o.timeout : 120;
    unsigned char buf[2048];
    std::vector<pollfd> pfds;
    for (int fd : fds)
        pfds.push_back(pollfd{fd, POLLIN, 0});
    while (count < o.num && !g_stop && now_real() - t0 < limit) {
        if (poll(pfds.data(), pfds.size(), 100) <= 0)
            continue;
        for (const pollfd& p : pfds) {
            if ((p.revents & POLLIN) == 0)
                continue;
            iovec iov{buf, sizeof(buf)};
            alignas(cmsghdr) unsigned char ctl[256];
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = ctl;
            msg.msg_controllen = sizeof(ctl);
            if (recvmsg(p.fd, &msg, MSG_DONTWAIT) < 0)
                continue;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO)
                    continue;
                in_pktinfo pi{};
                std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
                long k = static_cast<long>(ntohl(pi.ipi_addr.s_addr)) - static_cast<long>(base);
                if (k >= 0 && k < o.num && !seen[static_cast<size_t>(k)]) {
                    seen[static_cast<size_t>(k)] = true;
                    ++count;
                }
            }
        }
    }
    if (count < o.num) {
        std::printf("all_ms fail seen %ld of %ld\n", count, o.num);
        return 1;
    }
    std::printf("all_ms %.3f seen %ld of %ld\n", (now_real() - t0) * 1000, count, o.num);
    return 0;
}

int run_send(const Options& o)
{
    in_addr first{};
    if (inet_pton(AF_INET, o.first.c_str(), &first) != 1 || o.num <= 0)
        return usage("bad -G/-N");
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return 2;
    ip_mreqn mr{};
    mr.imr_ifindex = static_cast<int>(if_nametoindex(o.ifname.c_str()));
    if (mr.imr_ifindex == 0)
        return usage("no such interface");
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr));
    int ttl = o.ttl, off = 0;
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof(off));
    if (!o.src.empty()) {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        if (inet_pton(AF_INET, o.src.c_str(), &sa.sin_addr) != 1
            || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
            std::perror("proxy_probe: bind source");
            return 2;
        }
    }
    uint32_t base = ntohl(first.s_addr);
    const double step = o.rate > 0 ? 1.0 / o.rate : 0;
    double next = now_real();
    char payload[64];
    for (long seq = 0; !g_stop; ++seq) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(o.port));
        to.sin_addr.s_addr = htonl(base + static_cast<uint32_t>(seq % o.num));
        int len = std::snprintf(payload, sizeof(payload), "SMCT bench %ld %.6f", seq, now_real());
        sendto(fd, payload, static_cast<size_t>(len), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
        next += step;
        double wait = next - now_real();
        if (wait > 0) {
            timespec ts{static_cast<time_t>(wait), static_cast<long>((wait - static_cast<double>(static_cast<time_t>(wait))) * 1e9)};
            nanosleep(&ts, nullptr);
        } else if (wait < -1) {
            next = now_real(); // far behind (a slow machine): do not burst
        }
    }
    return 0;
}

int run_watch(const Options& o)
{
    Watcher w;
    if (!w.open_on(o.ifname, o.v6, o.group, o.src, o.port)) {
        std::perror("proxy_probe: packet socket");
        return 2;
    }
    double t0 = now_real();
    if (o.any) {
        double t = w.next(o.timeout > 0 ? o.timeout : 30);
        if (t < 0)
            return 1;
        std::printf("first_ms %.3f\n", (t - t0) * 1000);
        return 0;
    }
    if (o.watch_for >= 0) {
        long n = 0;
        while (!g_stop) {
            double left = t0 + o.watch_for - now_real();
            if (left <= 0 || w.next(left) < 0)
                break;
            ++n;
        }
        std::printf("count %ld\n", n);
        return 0;
    }
    double limit = o.timeout > 0 ? o.timeout : 30;
    double last = t0;
    while (!g_stop && now_real() - t0 < limit) {
        double t = w.next(o.quiet);
        if (t < 0) {
            std::printf("quiet_after_ms %.3f\n", (last - t0) * 1000);
            return 0;
        }
        last = t;
    }
    std::printf("quiet_after_ms fail\n");
    return 1;
}


const char* record_name(unsigned t)
{
    static const char* const names[] = {"?", "IS_IN", "IS_EX", "TO_IN", "TO_EX", "ALLOW", "BLOCK"};
    return t <= 6 ? names[t] : "?";
}

std::string addr_text(int fam, const unsigned char* p)
{
    char b[INET6_ADDRSTRLEN] = "";
    inet_ntop(fam, p, b, sizeof(b));
    return b;
}

// One IGMP (fam AF_INET) or MLD (AF_INET6) message: its lines.
void print_group_message(double t, bool out, int fam, const std::string& src, const std::string& dst, int ttl,
                         bool ra, const unsigned char* m, size_t n)
{
    size_t alen = fam == AF_INET ? 4 : 16;
    auto head = [&](const char* type) {
        std::printf("t=%.3f dir=%s src=%s dst=%s ttl=%d ra=%d type=%s", t, out ? "out" : "in", src.c_str(), dst.c_str(),
                    ttl, ra ? 1 : 0, type);
    };
    if (n < 1)
        return;
    unsigned type = m[0];
    bool v3 = fam == AF_INET ? type == 0x22 : type == 143;
    if (v3) {
        // IGMPv3: type, reserved, csum(2), reserved(2), nrec(2); MLDv2: type,
        // code, csum(2), reserved(2), nrec(2). Records from byte 8.
        if (n < 8) {
            head("v3report");
            std::printf(" truncated\n");
            return;
        }
        unsigned nrec = (static_cast<unsigned>(m[6]) << 8) | m[7];
        size_t off = 8;
        for (unsigned r = 0; r < nrec; ++r) {
            if (off + 4 + alen > n) {
                head("v3report");
                std::printf(" truncated\n");
                return;
            }
            unsigned rtype = m[off], aux = m[off + 1];
            unsigned ns = (static_cast<unsigned>(m[off + 2]) << 8) | m[off + 3];
            std::string grp = addr_text(fam, m + off + 4);
            size_t s0 = off + 4 + alen;
            if (s0 + ns * alen > n) {
                head("v3report");
                std::printf(" truncated\n");
                return;
            }
            std::string srcs;
            for (unsigned k = 0; k < ns; ++k)
                srcs += (k ? "," : "") + addr_text(fam, m + s0 + k * alen);
            head("v3report");
            std::printf(" rec=%s group=%s sources=%s\n", record_name(rtype), grp.c_str(), srcs.empty() ? "-" : srcs.c_str());
            off = s0 + ns * alen + aux * 4;
        }
        return;
    }
    const char* name = nullptr;
    size_t goff = fam == AF_INET ? 4 : 8;
    if (fam == AF_INET)
        name = type == 0x11 ? "query" : type == 0x12 ? "v1report" : type == 0x16 ? "v2report" : type == 0x17 ? "leave" : nullptr;
    else
        name = type == 130 ? "query" : type == 131 ? "v1report" : type == 132 ? "done" : nullptr;
    if (name == nullptr) {
        if (fam == AF_INET6 && (type < 130 || type > 143))
            return; // other ICMPv6 (neighbour discovery...)
        std::printf("t=%.3f dir=%s src=%s dst=%s ttl=%d ra=%d type=other:%u\n", t, out ? "out" : "in", src.c_str(),
                    dst.c_str(), ttl, ra ? 1 : 0, type);
        return;
    }
    head(name);
    if (n >= goff + alen)
        std::printf(" group=%s\n", addr_text(fam, m + goff).c_str());
    else
        std::printf(" truncated\n");
}

int run_capture(const Options& o)
{
    int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
    if (fd < 0) {
        std::perror("proxy_probe: packet socket");
        return 2;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(o.ifname.c_str()));
    if (sll.sll_ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) < 0) {
        std::perror("proxy_probe: bind");
        return 2;
    }
    if (!o.ready.empty()) {
        FILE* f = std::fopen(o.ready.c_str(), "w");
        if (f != nullptr)
            std::fclose(f);
    }
    double t0 = now_real();
    double limit = o.watch_for > 0 ? o.watch_for : 3600;
    unsigned char b[4096];
    while (!g_stop) {
        double left = t0 + limit - now_real();
        if (left <= 0)
            break;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0)
            continue;
        sockaddr_ll from{};
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(fd, b, sizeof(b), 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n <= 0)
            continue;
        double t = now_real() - t0;
        bool out = from.sll_pkttype == PACKET_OUTGOING;
        size_t len = static_cast<size_t>(n);
        if (ntohs(from.sll_protocol) == ETH_P_IP && len >= sizeof(iphdr)) {
            iphdr ip{};
            std::memcpy(&ip, b, sizeof(ip));
            size_t hl = static_cast<size_t>(ip.ihl) * 4;
            if (ip.protocol != IPPROTO_IGMP || hl > len)
                continue;
            bool ra = false;
            for (size_t k = sizeof(iphdr); k + 1 < hl;) {
                if (b[k] == 0 || b[k] == 1) { // end of options, no-op
                    ++k;
                    continue;
                }
                if (b[k] == 148)
                    ra = true;
                k += b[k + 1] > 1 ? b[k + 1] : 1;
            }
            size_t total = std::min(len, static_cast<size_t>(ntohs(ip.tot_len)));
            print_group_message(t, out, AF_INET, addr_text(AF_INET, reinterpret_cast<unsigned char*>(&ip.saddr)),
                                addr_text(AF_INET, reinterpret_cast<unsigned char*>(&ip.daddr)), ip.ttl, ra, b + hl,
                                total > hl ? total - hl : 0);
        } else if (ntohs(from.sll_protocol) == ETH_P_IPV6 && len >= sizeof(ip6_hdr)) {
            ip6_hdr ip{};
            std::memcpy(&ip, b, sizeof(ip));
            size_t off = sizeof(ip6_hdr);
            unsigned nxt = ip.ip6_nxt;
            bool ra = false;
            if (nxt == 0 && off + 8 <= len) { // hop-by-hop options
                size_t hl = (static_cast<size_t>(b[off + 1]) + 1) * 8;
                if (off + hl > len)
                    continue;
                for (size_t k = off + 2; k + 1 < off + hl;) {
                    if (b[k] == 0) {
                        ++k;
                        continue;
                    }
                    if (b[k] == 5)
                        ra = true;
                    k += 2 + b[k + 1];
                }
                nxt = b[off];
                off += hl;
            }
            if (nxt != IPPROTO_ICMPV6 || off >= len)
                continue;
            print_group_message(t, out, AF_INET6, addr_text(AF_INET6, reinterpret_cast<unsigned char*>(&ip.ip6_src)),
                                addr_text(AF_INET6, reinterpret_cast<unsigned char*>(&ip.ip6_dst)), ip.ip6_hlim, ra,
                                b + off, len - off);
        }
        std::fflush(stdout);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
        return usage("no mode");
    Options o;
    o.mode = argv[1];
    optind = 2;
    int c;
    while ((c = getopt(argc, argv, "6i:g:G:N:p:n:q:T:r:t:s:aQ:w:R:")) != -1) {
        switch (c) {
        case '6': o.v6 = true; break;
        case 'i': o.ifname = optarg; break;
        case 'g': o.group = optarg; break;
        case 'G': o.first = optarg; break;
        case 'N': o.num = std::atol(optarg); break;
        case 'p': o.port = std::atoi(optarg); break;
        case 'n': o.rounds = std::atol(optarg); break;
        case 'q': o.quiet = std::atof(optarg); break;
        case 'T': o.timeout = std::atof(optarg); break;
        case 'r': o.rate = std::atof(optarg); break;
        case 't': o.ttl = std::atoi(optarg); break;
        case 's': o.src = optarg; break;
        case 'a': o.any = true; break;
        case 'Q': o.quiet = std::atof(optarg); break;
        case 'w': o.watch_for = std::atof(optarg); break;
        case 'R': o.ready = optarg; break;
        default: return usage("bad option");
        }
    }
    if (o.ifname.empty())
        return usage("-i IF is required");
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    if (o.mode == "latency")
        return run_latency(o);
    if (o.mode == "groups")
        return run_groups(o);
    if (o.mode == "send")
        return run_send(o);
    if (o.mode == "capture")
        return run_capture(o);
    if (o.mode == "watch")
        return o.group.empty() ? usage("-g GROUP is required") : run_watch(o);
    return usage("unknown mode");
}

// mrdisc_capture: the system tests' view of Multicast Router Discovery on the
// wire. Captures every IPv4 IGMP / IPv6 ICMPv6 MRD message (RFC 4286) arriving
// on one interface with a packet socket, parses the IP headers itself (no
// smcroute code, so it checks the daemon independently) and prints one line
// per message; on SIGUSR1 it sends an IPv4 and an IPv6 solicitation.
//   mrdisc_capture -i IFNAME [-w SECONDS] [-R READY-FILE]
// Lines (t = seconds since start):
//   t=1.234 v4 src=10.0.1.1 dst=224.0.0.106 ttl=1 ra=1 csum=ok type=48 code=4 qi=125 rv=2
//   t=1.300 v6 src=fe80::1 dst=ff02::6a ttl=1 ra=1 csum=ok type=151 code=4 qi=125 rv=2
//   t=2.000 solicit v4 ok / solicit v6 ok
// Exits 0 after SECONDS (default 60) or on SIGTERM/SIGINT, 1 on errors.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
Clock::time_point start_time;

double now_s()
{
    return std::chrono::duration<double>(Clock::now() - start_time).count();
}

// RFC 1071 sum over data, folded; 0xffff when a checksum inside verifies.
uint16_t fold_sum(const std::vector<uint8_t>& data)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < data.size(); i += 2)
        sum += (uint64_t(data[i]) << 8) + (i + 1 < data.size() ? data[i + 1] : 0);
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

bool is_mrd(int type)
{
    return (type >= 0x30 && type <= 0x32) || (type >= 151 && type <= 153);
}

void report(const char* fam, const char* src, const char* dst, int ttl, bool ra, bool csum_ok,
            const std::vector<uint8_t>& body)
{
    if (body.size() < 4 || !is_mrd(body[0]))
        return;
    std::printf("t=%.3f %s src=%s dst=%s ttl=%d ra=%d csum=%s type=%d code=%d", now_s(), fam, src, dst, ttl, ra ? 1 : 0,
                csum_ok ? "ok" : "bad", body[0], body[1]);
    if (body.size() >= 8)
        std::printf(" qi=%d rv=%d", (body[4] << 8) | body[5], (body[6] << 8) | body[7]);
    std::printf(" len=%zu\n", body.size());
    std::fflush(stdout);
}

void parse_v4(const uint8_t* p, size_t n)
{
    if (n < 20 || (p[0] >> 4) != 4 || p[9] != IPPROTO_IGMP)
        return;
    size_t hl = (p[0] & 0x0f) * 4u;
    size_t total = (size_t(p[2]) << 8) | p[3];
    if (hl < 20 || hl > n)
        return;
    if (total >= hl && total < n)
        n = total;
    bool ra = false;
    for (size_t i = 20; i < hl && p[i] != 0;) {
        if (p[i] == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= hl || p[i + 1] < 2)
            break;
        if (p[i] == 0x94 && p[i + 1] == 4)
            ra = true;
        i += p[i + 1];
    }
    std::vector<uint8_t> body(p + hl, p + n);
    char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, p + 12, src, sizeof src);
    inet_ntop(AF_INET, p + 16, dst, sizeof dst);
    report("v4", src, dst, p[8], ra, fold_sum(body) == 0xffff, body);
}

void parse_v6(const uint8_t* p, size_t n)
{
    if (n < 40 || (p[0] >> 4) != 6)
        return;
    size_t plen = (size_t(p[4]) << 8) | p[5];
    if (40 + plen < n)
        n = 40 + plen;
    uint8_t next = p[6];
    size_t off = 40;
    bool ra = false;
    if (next == 0) { // Hop-by-Hop Options
        if (n < 48)
            return;
        size_t len = (p[41] + 1u) * 8;
        if (40 + len > n)
            return;
        for (size_t i = 42; i < 40 + len;) {
            if (p[i] == 0) { // Pad1
                ++i;
                continue;
            }
            if (i + 1 >= 40 + len)
                break;
            if (p[i] == 5 && p[i + 1] == 2 && i + 3 < 40 + len && p[i + 2] == 0 && p[i + 3] == 0)
                ra = true;
            i += 2u + p[i + 1];
        }
        next = p[40];
        off = 40 + len;
    }
    if (next != IPPROTO_ICMPV6)
        return;
    std::vector<uint8_t> body(p + off, p + n);
    std::vector<uint8_t> pseudo(p + 8, p + 40);
    size_t len = body.size();
    const uint8_t tail[8] = {0, 0, uint8_t(len >> 8), uint8_t(len), 0, 0, 0, IPPROTO_ICMPV6};
    pseudo.insert(pseudo.end(), tail, tail + 8);
    pseudo.insert(pseudo.end(), body.begin(), body.end());
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, p + 8, src, sizeof src);
    inet_ntop(AF_INET6, p + 24, dst, sizeof dst);
    report("v6", src, dst, p[7], ra, fold_sum(pseudo) == 0xffff, body);
}

bool solicit_v4(unsigned ifindex)
{
    int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP);
    if (s < 0)
        return false;
    ip_mreqn mreq{};
    mreq.imr_ifindex = static_cast<int>(ifindex);
    unsigned char ttl = 1, loop = 0;
    const uint8_t ra[4] = {0x94, 4, 0, 0};
    bool ok = setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) == 0 &&
              setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, 1) == 0 &&
              setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, 1) == 0 &&
              setsockopt(s, IPPROTO_IP, IP_OPTIONS, ra, sizeof ra) == 0;
    // type 0x31, reserved, checksum ~0x3100 = 0xceff
    const uint8_t msg[4] = {0x31, 0, 0xce, 0xff};
    sockaddr_in to{};
    to.sin_family = AF_INET;
    inet_pton(AF_INET, "224.0.0.2", &to.sin_addr);
    ok = ok && sendto(s, msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == sizeof msg;
    close(s);
    return ok;
}

bool solicit_v6(unsigned ifindex)
{
    int s = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (s < 0)
        return false;
    int idx = static_cast<int>(ifindex), hops = 1, loop = 0;
    const uint8_t hbh[8] = {0, 0, 5, 2, 0, 0, 1, 0};
    bool ok = setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx) == 0 &&
              setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) == 0 &&
              setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop) == 0 &&
              setsockopt(s, IPPROTO_IPV6, IPV6_HOPOPTS, hbh, sizeof hbh) == 0;
    const uint8_t msg[4] = {152, 0, 0, 0}; // the kernel fills in the checksum
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_scope_id = ifindex;
    inet_pton(AF_INET6, "ff02::2", &to.sin6_addr);
    ok = ok && sendto(s, msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == sizeof msg;
    close(s);
    return ok;
}

void usage()
{
    std::fprintf(stderr, "usage: mrdisc_capture -i IFNAME [-w SECONDS] [-R READY-FILE]\n");
    std::exit(2);
}

} // namespace

int main(int argc, char** argv)
{
    const char* ifname = nullptr;
    const char* ready = nullptr;
    double wait_s = 60;
    int opt;
    while ((opt = getopt(argc, argv, "i:w:R:")) != -1) {
        switch (opt) {
        case 'i':
            ifname = optarg;
            break;
        case 'w':
            wait_s = std::atof(optarg);
            break;
        case 'R':
            ready = optarg;
            break;
        default:
            usage();
        }
    }
    if (!ifname)
        usage();
    unsigned ifindex = if_nametoindex(ifname);
    if (!ifindex) {
        std::perror(ifname);
        return 1;
    }
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        std::perror("packet socket");
        return 1;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        std::perror("bind");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) {
        std::perror("signalfd");
        return 1;
    }
    start_time = Clock::now();
    if (ready) {
        FILE* f = std::fopen(ready, "w");
        if (f)
            std::fclose(f);
    }
    for (;;) {
        double left = wait_s - now_s();
        if (left <= 0)
            return 0;
        pollfd pfd[2] = {{fd, POLLIN, 0}, {sfd, POLLIN, 0}};
        int rc = poll(pfd, 2, static_cast<int>(left * 1000) + 1);
        if (rc < 0 && errno != EINTR) {
            std::perror("poll");
            return 1;
        }
        if (pfd[1].revents & POLLIN) {
            signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo != SIGUSR1)
                    return 0;
                bool ok4 = solicit_v4(ifindex);
                std::printf("t=%.3f solicit v4 %s\n", now_s(), ok4 ? "ok" : "failed");
                bool ok6 = solicit_v6(ifindex);
                std::printf("t=%.3f solicit v6 %s\n", now_s(), ok6 ? "ok" : "failed");
                std::fflush(stdout);
            }
        }
        if (pfd[0].revents & POLLIN) {
            for (;;) {
                uint8_t buf[2048];
                sockaddr_ll from{};
                socklen_t fl = sizeof from;
                ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl);
                if (n <= 0)
                    break;
                if (from.sll_pkttype == PACKET_OUTGOING)
                    continue;
                uint16_t proto = ntohs(from.sll_protocol);
                if (proto == ETH_P_IP)
                    parse_v4(buf, static_cast<size_t>(n));
                else if (proto == ETH_P_IPV6)
                    parse_v6(buf, static_cast<size_t>(n));
            }
        }
    }
}

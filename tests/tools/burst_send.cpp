// tests/tools/burst_send: send one small UDP datagram to an IPv4 multicast
// group from each of many forged source addresses, as fast as asked, for the
// upcall flood test (every new source is a NOCACHE upcall on the router).
// A raw socket with IP_HDRINCL writes the IP header itself, so the sources
// need not exist anywhere. Plain sockets only, independent of the code under test.
//
//   burst_send -g GROUP -S FIRST -N NUM [-i IFNAME] [-p PORT] [-t TTL]
//              [-r RATE_PPS (0 = no pacing)] [-c PER_SOURCE]
//
// Sources are FIRST, FIRST+1, ... (NUM of them); each sends PER_SOURCE
// (default 1) datagrams. Prints "sent N" on success.
// Exit status: 0 all sent, 1 a send failed, 64 usage.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int usage(const char* why)
{
    std::fprintf(stderr,
                 "burst_send: %s\n"
                 "usage: burst_send -g GROUP -S FIRST -N NUM [-i IFNAME] [-p PORT] [-t TTL]\n"
                 "                  [-r RATE_PPS (0 = no pacing)] [-c PER_SOURCE]\n",
                 why);
    return 64;
}

bool parse_long(const char* text, long lo, long hi, long& out)
{
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
        return false;
    out = v;
    return true;
}

double now_s()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace

int main(int argc, char** argv)
{
    std::string group, first, ifname;
    long num = 0, port = 4321, ttl = 8, rate = 0, per_source = 1;
    int opt;
    while ((opt = getopt(argc, argv, "g:S:N:i:p:t:r:c:")) != -1) {
        switch (opt) {
        case 'g': group = optarg; break;
        case 'S': first = optarg; break;
        case 'i': ifname = optarg; break;
        case 'N':
            if (!parse_long(optarg, 1, 1 << 24, num))
                return usage("bad -N");
            break;
        case 'p':
            if (!parse_long(optarg, 1, 65535, port))
                return usage("bad -p");
            break;
        case 't':
            if (!parse_long(optarg, 1, 255, ttl))
                return usage("bad -t");
            break;
        case 'r':
            if (!parse_long(optarg, 0, 10000000, rate))
                return usage("bad -r");
            break;
        case 'c':
            if (!parse_long(optarg, 1, 1000000, per_source))
                return usage("bad -c");
            break;
        default: return usage("unknown option");
        }
    }
    in_addr grp{}, src{};
    if (group.empty() || inet_pton(AF_INET, group.c_str(), &grp) != 1 || !IN_MULTICAST(ntohl(grp.s_addr)))
        return usage("-g needs an IPv4 multicast group");
    if (first.empty() || inet_pton(AF_INET, first.c_str(), &src) != 1)
        return usage("-S needs an IPv4 address");
    if (num == 0)
        return usage("-N is required");

    int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW); // IPPROTO_RAW implies IP_HDRINCL
    if (fd < 0) {
        std::perror("burst_send: socket");
        return 1;
    }
    int on = 1;
    if (::setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof on) < 0) {
        std::perror("burst_send: IP_HDRINCL");
        return 1;
    }
    if (!ifname.empty()) {
        if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), static_cast<socklen_t>(ifname.size())) < 0) {
            std::perror("burst_send: SO_BINDTODEVICE");
            return 1;
        }
        ip_mreqn mr{};
        mr.imr_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
        if (mr.imr_ifindex == 0 || ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) < 0) {
            std::perror("burst_send: IP_MULTICAST_IF");
            return 1;
        }
    }

    constexpr size_t payload_len = 16;
    unsigned char pkt[sizeof(iphdr) + sizeof(udphdr) + payload_len] = {};
    auto* ip = reinterpret_cast<iphdr*>(pkt);
    auto* udp = reinterpret_cast<udphdr*>(pkt + sizeof(iphdr));
    ip->version = 4;
    ip->ihl = 5;
    ip->tot_len = htons(sizeof pkt);
    ip->ttl = static_cast<uint8_t>(ttl);
    ip->protocol = IPPROTO_UDP;
    ip->daddr = grp.s_addr;
    udp->source = htons(static_cast<uint16_t>(port));
    udp->dest = htons(static_cast<uint16_t>(port));
    udp->len = htons(sizeof(udphdr) + payload_len);
    udp->check = 0; // optional for IPv4
    std::memcpy(pkt + sizeof(iphdr) + sizeof(udphdr), "SMCT burst      ", payload_len);

    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = grp;
    const uint32_t base = ntohl(src.s_addr);
    const double start = now_s();
    long sent = 0;
    for (long round = 0; round < per_source; ++round) {
        for (long i = 0; i < num; ++i) {
            ip->saddr = htonl(base + static_cast<uint32_t>(i));
            ip->id = htons(static_cast<uint16_t>(sent));
            ip->check = 0; // the kernel fills it in
            if (::sendto(fd, pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
                if (errno == ENOBUFS || errno == EAGAIN) { // a full device queue: retry shortly
                    usleep(1000);
                    --i;
                    continue;
                }
                std::perror("burst_send: sendto");
                return 1;
            }
            ++sent;
            if (rate > 0) {
                double due = start + static_cast<double>(sent) / static_cast<double>(rate);
                double wait = due - now_s();
                if (wait > 0)
                    usleep(static_cast<useconds_t>(wait * 1e6));
            }
        }
    }
    std::printf("sent %ld\n", sent);
    ::close(fd);
    return 0;
}

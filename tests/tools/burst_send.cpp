// tests/tools/burst_send: one UDP multicast datagram (or COUNT) from each of
// many source addresses, forged with a raw IPv4 socket (IP_HDRINCL), so the
// sources need not exist anywhere: every new source is a NOCACHE upcall on
// the router. Used by the upcall flood test and the benchmark. Plain
// sockets only, independent of the code under test.
//
//   burst_send -g GROUP -i IFNAME -S FIRST -N NUM [-p PORT] [-r RATE] [-c COUNT]
//              [-t TTL] [-T]
//
// Sends COUNT (default 1) datagrams from each source FIRST, FIRST+1, ...
// (NUM sources), all of one source's back to back, at RATE new sources per
// second (default 0: as fast as possible), to PORT (default 4321). Payload
// "SMCT burst SEQ", the format tests/tools/mcrecv counts. With -T it prints
// "tx SEQ MONO_SECONDS SOURCE" for the first datagram of every source once
// all are sent. Last line: "sent=N seconds=S". Exit: 0 ok, 1 a send
// failed, 64 usage.
#include <arpa/inet.h>
#include <cerrno>
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
#include <vector>

namespace {

double mono()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void sleep_until(double when)
{
    timespec t{};
    t.tv_sec = static_cast<time_t>(when);
    t.tv_nsec = static_cast<long>((when - static_cast<double>(t.tv_sec)) * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) == EINTR) {
    }
}

int usage(const char* why)
{
    std::fprintf(stderr,
                 "burst_send: %s\n"
                 "usage: burst_send -g GROUP -i IFNAME -S FIRST -N NUM [-p PORT] [-r RATE] [-c COUNT] [-t TTL] [-T]\n",
                 why);
    return 64;
}

} // namespace

int main(int argc, char** argv)
{
    std::string group;
    std::string ifname;
    std::string first;
    long port = 4321;
    long num = -1;
    long count = 1;
    long ttl = 16;
    bool timestamps = false;
    double rate = 0;
    int opt;
    while ((opt = getopt(argc, argv, "g:p:i:S:N:r:c:t:T")) != -1) {
        switch (opt) {
        case 'g': group = optarg; break;
        case 'p': port = std::strtol(optarg, nullptr, 10); break;
        case 'i': ifname = optarg; break;
        case 'S': first = optarg; break;
        case 'N': num = std::strtol(optarg, nullptr, 10); break;
        case 'r': rate = std::strtod(optarg, nullptr); break;
        case 'c': count = std::strtol(optarg, nullptr, 10); break;
        case 't': ttl = std::strtol(optarg, nullptr, 10); break;
        case 'T': timestamps = true; break;
        default: return usage("unknown option");
        }
    }
    in_addr grp{};
    in_addr src0{};
    if (inet_pton(AF_INET, group.c_str(), &grp) != 1 || inet_pton(AF_INET, first.c_str(), &src0) != 1)
        return usage("need -g GROUP and -S FIRST (IPv4)");
    if (port < 1 || port > 65535 || num < 1 || count < 1 || ttl < 1 || ttl > 255 || rate < 0 || ifname.empty())
        return usage("need -N NUM>0 -i IFNAME, PORT 1..65535, COUNT>0, TTL 1..255, RATE>=0");
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0)
        return usage("no such interface");

    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) {
        std::perror("burst_send: socket");
        return 1;
    }
    ip_mreqn mreq{};
    mreq.imr_ifindex = static_cast<int>(ifindex);
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), static_cast<socklen_t>(ifname.size())) < 0) {
        std::perror("burst_send: IP_MULTICAST_IF/SO_BINDTODEVICE");
        return 1;
    }
    int sndbuf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));

    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = grp;
    std::vector<double> sent_at(static_cast<size_t>(num));
    double start = mono();
    for (long i = 0; i < num; ++i) {
        if (rate > 0)
            sleep_until(start + static_cast<double>(i) / rate);
        for (long c = 0; c < count; ++c) {
            char pkt[128]{};
            auto* ip = reinterpret_cast<iphdr*>(pkt);
            auto* udp = reinterpret_cast<udphdr*>(pkt + sizeof(iphdr));
            char* payload = pkt + sizeof(iphdr) + sizeof(udphdr);
            int plen = std::snprintf(payload, 64, "SMCT burst %ld", i * count + c);
            size_t total = sizeof(iphdr) + sizeof(udphdr) + static_cast<size_t>(plen);
            ip->version = 4;
            ip->ihl = 5;
            ip->ttl = static_cast<uint8_t>(ttl);
            ip->protocol = IPPROTO_UDP;
            ip->saddr = htonl(ntohl(src0.s_addr) + static_cast<uint32_t>(i));
            ip->daddr = grp.s_addr;
            ip->tot_len = htons(static_cast<uint16_t>(total));
            udp->source = htons(static_cast<uint16_t>(port));
            udp->dest = htons(static_cast<uint16_t>(port));
            udp->len = htons(static_cast<uint16_t>(total - sizeof(iphdr)));
            udp->check = 0;
            if (c == 0)
                sent_at[static_cast<size_t>(i)] = mono();
            while (sendto(fd, pkt, total, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) {
                if (errno == ENOBUFS || errno == EAGAIN) {
                    usleep(50);
                    continue;
                }
                std::perror("burst_send: sendto");
                return 1;
            }
        }
    }
    double seconds = mono() - start;
    for (long i = 0; timestamps && i < num; ++i) {
        in_addr s{};
        s.s_addr = htonl(ntohl(src0.s_addr) + static_cast<uint32_t>(i));
        std::printf("tx %ld %.6f %s\n", i, sent_at[static_cast<size_t>(i)], inet_ntoa(s));
    }
    std::printf("sent=%ld seconds=%.6f\n", num * count, seconds);
    close(fd);
    return 0;
}

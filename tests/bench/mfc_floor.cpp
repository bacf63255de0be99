// tests/bench/mfc_floor: the kernel's own cost of filling the multicast
// forwarding cache, the floor any daemon is measured against. Plain sockets
// only, independent of the code under test.
//
//   mfc_floor [-6] -i IIF -o OIF -n N [-H] [-B BYTES]
//
// Opens the routing socket (MRT_INIT / MRT6_INIT), adds IIF and OIF as VIFs,
// then adds N (S,G) entries with the benchmark's address scheme (source
// 10.0.1.2 / fd01::2, group number k = 225.k>>16.k>>8.k / ff0e::k>>16:k&ffff)
// and prints the seconds the N adds took ("elapsed=S"). With -H it then holds
// the socket, never answering upcalls, until SIGTERM/SIGINT: a way to watch
// the kernel's unresolved queue on its own; -B sets the socket's receive
// buffer (SO_RCVBUFFORCE), where the kernel queues its upcalls. Exit: 0 ok, 1 failure, 64 usage.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <linux/mroute.h>
#include <linux/mroute6.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

double now_s()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int usage(const char* why)
{
    std::fprintf(stderr, "mfc_floor: %s\nusage: mfc_floor [-6] -i IIF -o OIF -n N [-H] [-B BYTES]\n", why);
    return 64;
}

int fail(const char* what)
{
    std::fprintf(stderr, "mfc_floor: %s: %s\n", what, std::strerror(errno));
    return 1;
}

in_addr group4(long k)
{
    in_addr a{};
    a.s_addr = htonl((225U << 24) | static_cast<uint32_t>(k & 0xffffff));
    return a;
}

in6_addr group6(long k)
{
    in6_addr a{};
    inet_pton(AF_INET6, "ff0e::", &a);
    a.s6_addr[12] = static_cast<uint8_t>(k >> 24);
    a.s6_addr[13] = static_cast<uint8_t>(k >> 16);
    a.s6_addr[14] = static_cast<uint8_t>(k >> 8);
    a.s6_addr[15] = static_cast<uint8_t>(k);
    return a;
}

int run4(int fd, unsigned iif, unsigned oif, long n)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_IP, MRT_INIT, &one, sizeof(one)) < 0)
        return fail("MRT_INIT");
    unsigned ifs[2] = {iif, oif};
    for (int v = 0; v < 2; ++v) {
        vifctl vc{};
        vc.vifc_vifi = static_cast<vifi_t>(v);
        vc.vifc_flags = VIFF_USE_IFINDEX;
        vc.vifc_threshold = 1;
        vc.vifc_lcl_ifindex = static_cast<int>(ifs[v]);
        if (setsockopt(fd, IPPROTO_IP, MRT_ADD_VIF, &vc, sizeof(vc)) < 0)
            return fail("MRT_ADD_VIF");
    }
    mfcctl mc{};
    inet_pton(AF_INET, "10.0.1.2", &mc.mfcc_origin);
    mc.mfcc_parent = 0;
    mc.mfcc_ttls[1] = 1;
    double t0 = now_s();
    for (long k = 0; k < n; ++k) {
        mc.mfcc_mcastgrp = group4(k);
        if (setsockopt(fd, IPPROTO_IP, MRT_ADD_MFC, &mc, sizeof(mc)) < 0)
            return fail("MRT_ADD_MFC");
    }
    std::printf("elapsed=%.6f\n", now_s() - t0);
    return 0;
}

int run6(int fd, unsigned iif, unsigned oif, long n)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_IPV6, MRT6_INIT, &one, sizeof(one)) < 0)
        return fail("MRT6_INIT");
    unsigned ifs[2] = {iif, oif};
    for (int v = 0; v < 2; ++v) {
        mif6ctl mc{};
        mc.mif6c_mifi = static_cast<mifi_t>(v);
        mc.mif6c_pifi = static_cast<uint16_t>(ifs[v]);
        if (setsockopt(fd, IPPROTO_IPV6, MRT6_ADD_MIF, &mc, sizeof(mc)) < 0)
            return fail("MRT6_ADD_MIF");
    }
    mf6cctl mc{};
    mc.mf6cc_origin.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "fd01::2", &mc.mf6cc_origin.sin6_addr);
    mc.mf6cc_mcastgrp.sin6_family = AF_INET6;
    mc.mf6cc_parent = 0;
    IF_SET(1, &mc.mf6cc_ifset);
    double t0 = now_s();
    for (long k = 0; k < n; ++k) {
        mc.mf6cc_mcastgrp.sin6_addr = group6(k);
        if (setsockopt(fd, IPPROTO_IPV6, MRT6_ADD_MFC, &mc, sizeof(mc)) < 0)
            return fail("MRT6_ADD_MFC");
    }
    std::printf("elapsed=%.6f\n", now_s() - t0);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    bool v6 = false;
    bool hold = false;
    std::string iif;
    std::string oif;
    long n = -1;
    int rcvbuf = 0;
    int opt;
    while ((opt = getopt(argc, argv, "6i:o:n:HB:")) != -1) {
        switch (opt) {
        case '6': v6 = true; break;
        case 'i': iif = optarg; break;
        case 'o': oif = optarg; break;
        case 'n': n = std::strtol(optarg, nullptr, 10); break;
        case 'H': hold = true; break;
        case 'B': rcvbuf = static_cast<int>(std::strtol(optarg, nullptr, 10)); break;
        default: return usage("unknown option");
        }
    }
    if (iif.empty() || oif.empty() || n < 0 || n > 0xffffff)
        return usage("need -i IIF -o OIF -n N (0..16777215)");
    unsigned iif_index = if_nametoindex(iif.c_str());
    unsigned oif_index = if_nametoindex(oif.c_str());
    if (iif_index == 0 || oif_index == 0)
        return fail("if_nametoindex");
    int fd = v6 ? socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6) : socket(AF_INET, SOCK_RAW, IPPROTO_IGMP);
    if (fd < 0)
        return fail("socket");
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        return fail("SO_RCVBUFFORCE");
    int rc = v6 ? run6(fd, iif_index, oif_index, n) : run4(fd, iif_index, oif_index, n);
    std::fflush(stdout);
    if (rc == 0 && hold) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, nullptr);
        int sig = 0;
        sigwait(&set, &sig);
    }
    close(fd);
    return rc;
}

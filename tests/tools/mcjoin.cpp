// tests/tools/mcjoin: hold one group membership on an interface, for the
// system tests (a membership made by "someone else" than the daemon).
// Plain sockets only, on purpose independent of the code under test.
//
//   mcjoin [-6] -i IFNAME -g GROUP [-s SOURCE | -b SOURCE] [-R READYFILE]
//
// Joins GROUP on IFNAME (by index): ASM, or with -s SOURCE a source-specific
// join (INCLUDE {SOURCE}), or with -b SOURCE an ASM join that blocks SOURCE
// (EXCLUDE {SOURCE}). -R FILE is created once joined. Then waits until
// SIGINT/SIGTERM or until its parent exits (PR_SET_PDEATHSIG), and exits 0.
// Exit 1 when the join fails, 64 on bad usage.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int usage(const char* why)
{
    std::fprintf(stderr,
                 "mcjoin: %s\n"
                 "usage: mcjoin [-6] -i IFNAME -g GROUP [-s SOURCE | -b SOURCE] [-R READYFILE]\n",
                 why);
    return 64;
}

// addr into a sockaddr_storage of the family; false when it does not parse.
bool to_storage(bool v6, const char* addr, sockaddr_storage& ss)
{
    std::memset(&ss, 0, sizeof ss);
    if (v6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        return inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1;
    }
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    return inet_pton(AF_INET, addr, &sin->sin_addr) == 1;
}

} // namespace

int main(int argc, char** argv)
{
    bool v6 = false;
    std::string ifname, group, source, block, ready_file;
    int c;
    while ((c = getopt(argc, argv, "6i:g:s:b:R:h")) != -1) {
        switch (c) {
        case '6': v6 = true; break;
        case 'i': ifname = optarg; break;
        case 'g': group = optarg; break;
        case 's': source = optarg; break;
        case 'b': block = optarg; break;
        case 'R': ready_file = optarg; break;
        default: return usage("bad option");
        }
    }
    if (optind != argc || ifname.empty() || group.empty() || (!source.empty() && !block.empty()))
        return usage("bad arguments");

    // Block the signals first, so none is lost between prctl() and sigwait().
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) // the parent already exited
        return 0;

    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) {
        std::fprintf(stderr, "mcjoin: %s: %s\n", ifname.c_str(), std::strerror(errno));
        return 1;
    }
    int family = v6 ? AF_INET6 : AF_INET;
    int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::perror("mcjoin: socket");
        return 1;
    }
    const std::string& src = source.empty() ? block : source;
    if (source.empty()) {
        group_req gr{};
        gr.gr_interface = ifindex;
        if (!to_storage(v6, group.c_str(), gr.gr_group))
            return usage("bad group");
        if (setsockopt(fd, level, MCAST_JOIN_GROUP, &gr, sizeof gr) < 0) {
            std::fprintf(stderr, "mcjoin: join %s on %s: %s\n", group.c_str(), ifname.c_str(), std::strerror(errno));
            return 1;
        }
    }
    if (!src.empty()) {
        group_source_req gsr{};
        gsr.gsr_interface = ifindex;
        if (!to_storage(v6, group.c_str(), gsr.gsr_group) || !to_storage(v6, src.c_str(), gsr.gsr_source))
            return usage("bad group or source");
        int opt = source.empty() ? MCAST_BLOCK_SOURCE : MCAST_JOIN_SOURCE_GROUP;
        if (setsockopt(fd, level, opt, &gsr, sizeof gsr) < 0) {
            std::fprintf(stderr, "mcjoin: %s (%s, %s) on %s: %s\n", source.empty() ? "block" : "join", src.c_str(),
                         group.c_str(), ifname.c_str(), std::strerror(errno));
            return 1;
        }
    }
    if (!ready_file.empty()) {
        int rf = open(ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (rf < 0) {
            std::fprintf(stderr, "mcjoin: %s: %s\n", ready_file.c_str(), std::strerror(errno));
            return 1;
        }
        close(rf);
    }
    int sig = 0;
    sigwait(&set, &sig);
    close(fd);
    return 0;
}

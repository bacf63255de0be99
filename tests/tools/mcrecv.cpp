// tests/tools/mcrecv: count UDP multicast datagrams for the system tests.
// Plain sockets only, on purpose independent of the code under test.
//
//   mcrecv [-6] -g GROUP -p PORT -i IFNAME [-w SECONDS] [-q] [-T] [-J]
//          [-I ID] [-R READYFILE] [-v]
//
// Joins GROUP on IFNAME (by index; -J: do not join), receives until SECONDS
// (default 2, fractions allowed) have passed or SIGINT/SIGTERM arrives, then
// prints the number of datagrams received on stdout and exits 0. Only
// datagrams whose payload starts with "SMCT " count (with -I ID only those
// from mcsend -I ID). With -T it then prints "ttl N COUNT" per distinct TTL /
// hop limit seen; with -v "src ADDR COUNT" per source address. -R FILE is
// created once the socket is bound and joined (so a sender may start).
// -q silences diagnostics on stderr.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

struct Options {
    bool v6 = false;
    std::string group;
    int port = -1;
    std::string ifname;
    double seconds = 2.0;
    bool quiet = false;
    bool show_ttl = false;
    bool show_sources = false;
    bool join = true;
    std::string id;
    std::string ready_file;
};

int usage(const char* why)
{
    std::fprintf(stderr,
                 "mcrecv: %s\n"
                 "usage: mcrecv [-6] -g GROUP -p PORT -i IFNAME [-w SECONDS] [-q] [-T] [-J]\n"
                 "              [-I ID] [-R READYFILE] [-v]\n",
                 why);
    return 64;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

int64_t now_ms()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

struct Counts {
    long total = 0;
    std::map<int, long> ttls;
    std::map<std::string, long> sources;
};

// Reads every queued datagram (socket is non-blocking).
void drain(int fd, const Options& o, Counts& counts)
{
    for (;;) {
        char buf[2048];
        alignas(cmsghdr) char control[256];
        sockaddr_storage from{};
        iovec iov{buf, sizeof(buf)};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof(from);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        ssize_t n = ::recvmsg(fd, &msg, 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && !o.quiet)
                std::fprintf(stderr, "mcrecv: recvmsg: %s\n", std::strerror(errno));
            return;
        }
        std::string_view payload(buf, static_cast<size_t>(n));
        if (payload.substr(0, 5) != "SMCT ")
            continue;
        if (!o.id.empty()) {
            std::string_view rest = payload.substr(5);
            std::string_view id = rest.substr(0, rest.find(' '));
            if (id != o.id)
                continue;
        }
        ++counts.total;
        int ttl = -1;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
                || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
                std::memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
        }
        ++counts.ttls[ttl];
        char addr[INET6_ADDRSTRLEN] = "?";
        if (from.ss_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&from)->sin_addr, addr, sizeof(addr));
        else if (from.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr, addr, sizeof(addr));
        ++counts.sources[addr];
    }
}

} // namespace

int main(int argc, char** argv)
{
    Options o;
    int c;
    while ((c = getopt(argc, argv, "6g:p:i:w:qTJI:R:vh")) != -1) {
        switch (c) {
        case '6': o.v6 = true; break;
        case 'g': o.group = optarg; break;
        case 'p': {
            char* end = nullptr;
            long v = std::strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 1 || v > 65535)
                return usage("invalid port");
            o.port = static_cast<int>(v);
            break;
        }
        case 'i': o.ifname = optarg; break;
        case 'w': {
            char* end = nullptr;
            o.seconds = std::strtod(optarg, &end);
            if (end == optarg || *end != '\0' || o.seconds < 0 || o.seconds > 86400)
                return usage("invalid -w SECONDS");
            break;
        }
        case 'q': o.quiet = true; break;
        case 'T': o.show_ttl = true; break;
        case 'J': o.join = false; break;
        case 'I': o.id = optarg; break;
        case 'R': o.ready_file = optarg; break;
        case 'v': o.show_sources = true; break;
        case 'h':
        default: return usage("bad option");
        }
    }
    if (optind != argc)
        return usage("unexpected argument");
    if (o.group.empty() || o.port < 0 || o.ifname.empty())
        return usage("-g GROUP, -p PORT and -i IFNAME are required");

    const unsigned ifindex = if_nametoindex(o.ifname.c_str());
    if (ifindex == 0) {
        std::fprintf(stderr, "mcrecv: interface %s: %s\n", o.ifname.c_str(), std::strerror(errno));
        return 1;
    }

    // Block the stop signals first, so none is lost before poll() sees them.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) {
        std::perror("mcrecv: sigprocmask");
        return 1;
    }
    Fd sig(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (sig.get() < 0) {
        std::perror("mcrecv: signalfd");
        return 1;
    }

    Fd sock(::socket(o.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (sock.get() < 0) {
        std::perror("mcrecv: socket");
        return 1;
    }
    const int fd = sock.get();
    int on = 1;
    int off = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    int rcvbuf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

    // Bind to the group itself, so datagrams to other groups are not counted.
    sockaddr_storage bind_addr{};
    socklen_t bind_len = 0;
    if (o.v6) {
        auto* sa = reinterpret_cast<sockaddr_in6*>(&bind_addr);
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons(static_cast<uint16_t>(o.port));
        if (inet_pton(AF_INET6, o.group.c_str(), &sa->sin6_addr) != 1)
            return usage("GROUP is not an IPv6 address");
        bind_len = sizeof(*sa);
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) < 0) {
            std::perror("mcrecv: IPV6_RECVHOPLIMIT");
            return 1;
        }
    } else {
        auto* sa = reinterpret_cast<sockaddr_in*>(&bind_addr);
        sa->sin_family = AF_INET;
        sa->sin_port = htons(static_cast<uint16_t>(o.port));
        if (inet_pton(AF_INET, o.group.c_str(), &sa->sin_addr) != 1)
            return usage("GROUP is not an IPv4 address (use -6 for IPv6)");
        bind_len = sizeof(*sa);
        if (setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) < 0) {
            std::perror("mcrecv: IP_RECVTTL");
            return 1;
        }
        // Only the groups this socket joined (bound to GROUP anyway). Not with
        // -J: such a socket must see the groups other sockets joined.
        if (o.join)
            (void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof(off));
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&bind_addr), bind_len) < 0) {
        std::fprintf(stderr, "mcrecv: bind %s port %d: %s\n", o.group.c_str(), o.port, std::strerror(errno));
        return 1;
    }

    if (o.join) {
        int rc;
        if (o.v6) {
            ipv6_mreq mreq{};
            mreq.ipv6mr_multiaddr = reinterpret_cast<sockaddr_in6*>(&bind_addr)->sin6_addr;
            mreq.ipv6mr_interface = ifindex;
            rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof(mreq));
        } else {
            ip_mreqn mreq{};
            mreq.imr_multiaddr = reinterpret_cast<sockaddr_in*>(&bind_addr)->sin_addr;
            mreq.imr_ifindex = static_cast<int>(ifindex);
            rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq));
        }
        if (rc < 0) {
            std::fprintf(stderr, "mcrecv: join %s on %s: %s\n", o.group.c_str(), o.ifname.c_str(),
                         std::strerror(errno));
            return 1;
        }
    }

    if (!o.ready_file.empty()) {
        Fd ready(::open(o.ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (ready.get() < 0) {
            std::fprintf(stderr, "mcrecv: %s: %s\n", o.ready_file.c_str(), std::strerror(errno));
            return 1;
        }
    }

    Counts counts;
    const int64_t deadline = now_ms() + static_cast<int64_t>(o.seconds * 1000.0);
    bool stop = false;
    while (!stop) {
        const int64_t left = deadline - now_ms();
        if (left <= 0)
            break;
        pollfd fds[2] = {{fd, POLLIN, 0}, {sig.get(), POLLIN, 0}};
        int n = ::poll(fds, 2, static_cast<int>(left));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            std::perror("mcrecv: poll");
            return 1;
        }
        if (fds[0].revents & POLLIN)
            drain(fd, o, counts);
        if (fds[1].revents & POLLIN)
            stop = true;
    }
    drain(fd, o, counts); // anything already queued at the deadline counts

    std::printf("%ld\n", counts.total);
    if (o.show_ttl)
        for (const auto& [ttl, n] : counts.ttls)
            std::printf("ttl %d %ld\n", ttl, n);
    if (o.show_sources)
        for (const auto& [src, n] : counts.sources)
            std::printf("src %s %ld\n", src.c_str(), n);
    std::fflush(stdout);
    return 0;
}

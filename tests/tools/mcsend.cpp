// tests/tools/mcsend: send numbered UDP multicast datagrams for the system
// tests. Plain sockets only, on purpose independent of the code under test.
//
//   mcsend [-6] -g GROUP -p PORT [-s SRCADDR | -S FIRST -N NUM] [-i IFNAME]
//          [-t TTL] [-n COUNT] [-r RATE_PPS] [-I ID]
//
// Payload of datagram SEQ (0-based): "SMCT <ID> <SEQ>". Multicast loop is off.
// -S FIRST -N NUM cycles the source over NUM consecutive addresses starting at
// FIRST (one socket each; IP_FREEBIND/IP_TRANSPARENT so they need not be local).
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
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

struct Options {
    bool v6 = false;
    std::string group;
    int port = -1;
    std::string source;
    std::string first_source;
    long num_sources = 0;
    std::string ifname;
    int ttl = 8;
    long count = 10;
    double rate = 100.0;
    std::string id = "0";
};

int usage(const char* why)
{
    std::fprintf(stderr,
                 "mcsend: %s\n"
                 "usage: mcsend [-6] -g GROUP -p PORT [-s SRCADDR | -S FIRST -N NUM] [-i IFNAME]\n"
                 "              [-t TTL] [-n COUNT] [-r RATE_PPS (0 = no pacing)] [-I ID]\n",
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

// Holds either family's socket address.
struct SockAddr {
    sockaddr_storage ss{};
    socklen_t len = 0;
};

bool make_addr(bool v6, const std::string& text, int port, SockAddr& out)
{
    out = SockAddr{};
    if (v6) {
        auto* sa = reinterpret_cast<sockaddr_in6*>(&out.ss);
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons(static_cast<uint16_t>(port));
        if (inet_pton(AF_INET6, text.c_str(), &sa->sin6_addr) != 1)
            return false;
        out.len = sizeof(*sa);
    } else {
        auto* sa = reinterpret_cast<sockaddr_in*>(&out.ss);
        sa->sin_family = AF_INET;
        sa->sin_port = htons(static_cast<uint16_t>(port));
        if (inet_pton(AF_INET, text.c_str(), &sa->sin_addr) != 1)
            return false;
        out.len = sizeof(*sa);
    }
    return true;
}

// The address n steps after base (same family), as text.
std::string addr_plus(bool v6, const std::string& base, long n)
{
    if (v6) {
        in6_addr a{};
        inet_pton(AF_INET6, base.c_str(), &a);
        uint64_t carry = static_cast<uint64_t>(n);
        for (int i = 15; i >= 0 && carry != 0; --i) {
            uint64_t sum = a.s6_addr[i] + (carry & 0xff);
            a.s6_addr[i] = static_cast<uint8_t>(sum);
            carry = (carry >> 8) + (sum >> 8);
        }
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a, buf, sizeof(buf));
        return buf;
    }
    in_addr a{};
    inet_pton(AF_INET, base.c_str(), &a);
    a.s_addr = htonl(ntohl(a.s_addr) + static_cast<uint32_t>(n));
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, buf, sizeof(buf));
    return buf;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd& operator=(Fd&&) = delete;
    ~Fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// One sending socket: multicast options set, bound to source (if any).
// Returns an Fd holding -1 on failure (after printing why).
Fd open_sender(const Options& o, unsigned ifindex, const std::string& source, bool freebind)
{
    Fd guard(::socket(o.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const int fd = guard.get();
    if (fd < 0) {
        std::perror("mcsend: socket");
        return Fd(-1);
    }
    int off = 0;
    int ttl = o.ttl;
    if (o.v6) {
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof(ttl)) < 0
            || setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off)) < 0) {
            std::perror("mcsend: setsockopt hops/loop");
            return Fd(-1);
        }
        if (ifindex != 0) {
            int idx = static_cast<int>(ifindex);
            if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) < 0) {
                std::perror("mcsend: setsockopt IPV6_MULTICAST_IF");
                return Fd(-1);
            }
        }
    } else {
        if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0
            || setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof(off)) < 0) {
            std::perror("mcsend: setsockopt ttl/loop");
            return Fd(-1);
        }
        if (ifindex != 0) {
            ip_mreqn mreq{};
            mreq.imr_ifindex = static_cast<int>(ifindex);
            if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) < 0) {
                std::perror("mcsend: setsockopt IP_MULTICAST_IF");
                return Fd(-1);
            }
        }
    }
    if (!source.empty()) {
        if (freebind) {
            int on = 1;
            // FREEBIND lets bind() take a non-local address, TRANSPARENT lets
            // the route lookup accept it as source (needs CAP_NET_ADMIN).
            (void)setsockopt(fd, o.v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                             o.v6 ? IPV6_FREEBIND : IP_FREEBIND, &on, sizeof(on));
            (void)setsockopt(fd, o.v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                             o.v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, &on, sizeof(on));
        }
        SockAddr src;
        if (!make_addr(o.v6, source, 0, src)) {
            std::fprintf(stderr, "mcsend: invalid source address '%s'\n", source.c_str());
            return Fd(-1);
        }
        if (::bind(fd, reinterpret_cast<sockaddr*>(&src.ss), src.len) < 0) {
            std::fprintf(stderr, "mcsend: bind %s: %s\n", source.c_str(), std::strerror(errno));
            return Fd(-1);
        }
    }
    return guard;
}

void sleep_until(const timespec& t)
{
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) == EINTR) {
    }
}

} // namespace

int main(int argc, char** argv)
{
    Options o;
    int c;
    long v = 0;
    while ((c = getopt(argc, argv, "6g:p:s:S:N:i:t:n:r:I:h")) != -1) {
        switch (c) {
        case '6': o.v6 = true; break;
        case 'g': o.group = optarg; break;
        case 'p':
            if (!parse_long(optarg, 1, 65535, v))
                return usage("invalid port");
            o.port = static_cast<int>(v);
            break;
        case 's': o.source = optarg; break;
        case 'S': o.first_source = optarg; break;
        case 'N':
            if (!parse_long(optarg, 1, 65536, v))
                return usage("invalid number of sources");
            o.num_sources = v;
            break;
        case 'i': o.ifname = optarg; break;
        case 't':
            if (!parse_long(optarg, 0, 255, v))
                return usage("invalid TTL");
            o.ttl = static_cast<int>(v);
            break;
        case 'n':
            if (!parse_long(optarg, 0, 100000000, v))
                return usage("invalid count");
            o.count = v;
            break;
        case 'r': {
            char* end = nullptr;
            o.rate = std::strtod(optarg, &end);
            if (end == optarg || *end != '\0' || o.rate < 0)
                return usage("invalid rate");
            break;
        }
        case 'I': o.id = optarg; break;
        case 'h':
        default: return usage("bad option");
        }
    }
    if (optind != argc)
        return usage("unexpected argument");
    if (o.group.empty() || o.port < 0)
        return usage("-g GROUP and -p PORT are required");
    if (!o.source.empty() && !o.first_source.empty())
        return usage("-s and -S are mutually exclusive");
    if (!o.first_source.empty() && o.num_sources == 0)
        o.num_sources = 1;

    SockAddr dst;
    if (!make_addr(o.v6, o.group, o.port, dst))
        return usage(o.v6 ? "GROUP is not an IPv6 address" : "GROUP is not an IPv4 address (use -6 for IPv6)");

    unsigned ifindex = 0;
    if (!o.ifname.empty()) {
        ifindex = if_nametoindex(o.ifname.c_str());
        if (ifindex == 0) {
            std::fprintf(stderr, "mcsend: interface %s: %s\n", o.ifname.c_str(), std::strerror(errno));
            return 1;
        }
    }

    std::vector<Fd> socks;
    if (o.first_source.empty()) {
        Fd fd = open_sender(o, ifindex, o.source, false);
        if (fd.get() < 0)
            return 1;
        socks.push_back(std::move(fd));
    } else {
        SockAddr probe;
        if (!make_addr(o.v6, o.first_source, 0, probe))
            return usage("invalid -S address");
        for (long i = 0; i < o.num_sources; ++i) {
            Fd fd = open_sender(o, ifindex, addr_plus(o.v6, o.first_source, i), true);
            if (fd.get() < 0)
                return 1;
            socks.push_back(std::move(fd));
        }
    }

    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    const long step_ns = o.rate > 0 ? static_cast<long>(1e9 / o.rate) : 0;
    int status = 0;
    for (long seq = 0; seq < o.count; ++seq) {
        if (step_ns > 0 && seq > 0) {
            next.tv_nsec += step_ns;
            next.tv_sec += next.tv_nsec / 1000000000L;
            next.tv_nsec %= 1000000000L;
            sleep_until(next);
        }
        std::string payload = "SMCT " + o.id + " " + std::to_string(seq);
        const Fd& s = socks[static_cast<size_t>(seq) % socks.size()];
        ssize_t n = ::sendto(s.get(), payload.data(), payload.size(), 0,
                             reinterpret_cast<const sockaddr*>(&dst.ss), dst.len);
        if (n < 0) {
            std::fprintf(stderr, "mcsend: send #%ld to %s: %s\n", seq, o.group.c_str(), std::strerror(errno));
            status = 1;
        }
    }
    return status;
}

// runtime/mrdisc: per-interface RFC 4286 announcers over the EventLoop, with
// one raw socket per family (IGMP for IPv4, ICMPv6 for IPv6) that sends every
// message and receives solicitations.
#include "smcroute/runtime/mrdisc.hpp"

#include "smcroute/os/procfs.hpp"
#include "smcroute/os/socket_msg.hpp"

// glibc's headers first: the kernel's uapi headers then skip their duplicates.
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace smcroute {

namespace {

using Clock = EventLoop::Clock;

std::chrono::milliseconds uniform_ms(std::mt19937_64& rng, int64_t lo, int64_t hi)
{
    std::uniform_int_distribution<int64_t> d(lo, hi);
    return std::chrono::milliseconds(d(rng));
}

// A small positive integer from a sysctl file, or fallback.
uint16_t read_sysctl(const char* path, uint16_t fallback)
{
    auto v = read_sysctl_int(path);
    if (v && *v > 0 && *v <= 0xffff)
        return static_cast<uint16_t>(*v);
    return fallback;
}

template <class T>
Status set_opt(int fd, int level, int name, const T& value, const char* what)
{
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
        return os_error(errno, cat("mrdisc: setsockopt ", what));
    return {};
}

Result<UniqueFd> open_socket4()
{
    UniqueFd fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_IGMP));
    if (!fd)
        return os_error(errno, "mrdisc: IPv4 raw IGMP socket");
    int s = fd.get();
    auto ra = ipv4_router_alert_option();
    if (::setsockopt(s, IPPROTO_IP, IP_OPTIONS, ra.data(), static_cast<socklen_t>(ra.size())) != 0)
        return os_error(errno, "mrdisc: setsockopt IP_OPTIONS (router alert)");
    unsigned char ttl = 1, loop = 0;
    int on = 1, off = 0;
    if (auto st = set_opt(s, IPPROTO_IP, IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL"); !st)
        return st.take_error();
    if (auto st = set_opt(s, IPPROTO_IP, IP_MULTICAST_LOOP, loop, "IP_MULTICAST_LOOP"); !st)
        return st.take_error();
    if (auto st = set_opt(s, IPPROTO_IP, IP_PKTINFO, on, "IP_PKTINFO"); !st)
        return st.take_error();
    // Only the groups this socket joined (224.0.0.2), not every IGMP packet
    // to every group some other socket joined. Old kernels lack it: harmless.
    (void)set_opt(s, IPPROTO_IP, IP_MULTICAST_ALL, off, "IP_MULTICAST_ALL");
    return fd;
}

Result<UniqueFd> open_socket6()
{
    UniqueFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6));
    if (!fd)
        return os_error(errno, "mrdisc: IPv6 raw ICMPv6 socket");
    int s = fd.get();
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(mrdisc::icmp6_solicitation, &filter);
    if (auto st = set_opt(s, IPPROTO_ICMPV6, ICMP6_FILTER, filter, "ICMP6_FILTER"); !st)
        return st.take_error();
    int hops = 1, loop = 0, on = 1, off = 0;
    if (auto st = set_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops, "IPV6_MULTICAST_HOPS"); !st)
        return st.take_error();
    if (auto st = set_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, loop, "IPV6_MULTICAST_LOOP"); !st)
        return st.take_error();
    if (auto st = set_opt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, on, "IPV6_RECVPKTINFO"); !st)
        return st.take_error();
    auto hbh = ipv6_router_alert_hopopts();
    if (::setsockopt(s, IPPROTO_IPV6, IPV6_HOPOPTS, hbh.data(), static_cast<socklen_t>(hbh.size())) != 0)
        return os_error(errno, "mrdisc: setsockopt IPV6_HOPOPTS (router alert)");
#ifdef IPV6_MULTICAST_ALL
    (void)set_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_ALL, off, "IPV6_MULTICAST_ALL");
#else
    (void)off;
#endif
    return fd;
}

Status send_on(int fd, Family f, unsigned ifindex, const std::vector<uint8_t>& bytes, const IpAddr& dst)
{
    ssize_t n;
    if (f == Family::inet) {
        ip_mreqn mreq{};
        mreq.imr_ifindex = static_cast<int>(ifindex);
        if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) != 0)
            return os_error(errno, "setsockopt IP_MULTICAST_IF");
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr = dst.v4();
        n = ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    } else {
        int idx = static_cast<int>(ifindex);
        if (::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx) != 0)
            return os_error(errno, "setsockopt IPV6_MULTICAST_IF");
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = dst.v6();
        sin6.sin6_scope_id = ifindex;
        n = ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
    }
    if (n < 0)
        return os_error(errno, "sendto");
    return {};
}

const char* type_name(MrdiscType t)
{
    switch (t) {
    case MrdiscType::advertisement:
        return "advertisement";
    case MrdiscType::solicitation:
        return "solicitation";
    case MrdiscType::termination:
        return "termination";
    }
    return "?";
}

} // namespace

std::chrono::milliseconds MrdiscSchedule::next(std::mt19937_64& rng)
{
    if (initial_left_ > 0) {
        --initial_left_;
        return uniform_ms(rng, 0, timing_.max_initial_interval.count());
    }
    auto j = timing_.jitter().count();
    auto i = timing_.interval.count();
    return uniform_ms(rng, std::max<int64_t>(0, i - j), i + j);
}

Mrdisc::Mrdisc(EventLoop& loop, Logger& log, std::chrono::seconds interval)
    : Mrdisc(loop, log, [&] {
          MrdiscOptions o;
          o.timing.interval = interval;
          return o;
      }())
{
}

Mrdisc::Mrdisc(EventLoop& loop, Logger& log, MrdiscOptions options)
    : loop_(loop), log_(log), options_(std::move(options))
{
    uint64_t seed = options_.seed;
    if (seed == 0) {
        std::random_device rd;
        seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }
    rng_.seed(seed);
    if (options_.robustness) {
        robustness4_ = robustness6_ = options_.robustness;
    } else {
        robustness4_ = read_sysctl("/proc/sys/net/ipv4/igmp_qrv", 2);
        robustness6_ = read_sysctl("/proc/sys/net/ipv6/mld_qrv", 2);
    }
}

Mrdisc::~Mrdisc()
{
    stop();
    for (auto& [f, s] : sockets_)
        if (s.fd)
            loop_.unwatch(s.fd.get());
}

void Mrdisc::stop()
{
    for (auto& [index, e] : entries_)
        finish(e, true);
    entries_.clear();
}

std::vector<unsigned> Mrdisc::active() const
{
    std::vector<unsigned> out;
    for (const auto& [index, e] : entries_)
        out.push_back(index);
    return out;
}

void Mrdisc::set_interfaces(const std::vector<Interface>& enabled)
{
    std::map<unsigned, const Interface*> want;
    for (const auto& i : enabled)
        if (i.index != 0 && i.up() && i.multicast())
            want[i.index] = &i;
    for (auto it = entries_.begin(); it != entries_.end();) {
        auto w = want.find(it->first);
        if (w == want.end()) {
            log_.info(cat("mrdisc: stopping on ", it->second.iface.name.str()));
            finish(it->second, true);
            it = entries_.erase(it);
        } else {
            it->second.iface.name = w->second->name; // renamed: same link
            it->second.iface.flags = w->second->flags;
            ++it;
        }
    }
    for (const auto& [index, iface] : want)
        if (!entries_.count(index))
            start(*iface);
}

void Mrdisc::start(const Interface& iface)
{
    Entry& e = entries_.emplace(iface.index, Entry{iface, {}}).first->second;
    for (Family f : {Family::inet, Family::inet6}) {
        if (!options_.send && socket_for(f) < 0)
            continue;
        e.announcers.emplace(f, Announcer(options_.timing));
        join(f, iface.index, true);
        schedule_next(iface.index, f);
    }
    log_.info(cat("mrdisc: announcing on ", iface.name.str(), " every ",
                  std::chrono::duration_cast<std::chrono::seconds>(options_.timing.interval).count(), " s"));
}

void Mrdisc::finish(Entry& e, bool terminate)
{
    for (auto& [f, a] : e.announcers) {
        if (a.periodic)
            loop_.cancel(a.periodic);
        if (a.answer)
            loop_.cancel(a.answer);
        a.periodic = a.answer = 0;
        if (terminate) {
            MrdiscMessage m;
            m.type = MrdiscType::termination;
            send(e, f, m);
        }
        join(f, e.iface.index, false);
    }
    e.announcers.clear();
}

void Mrdisc::schedule_next(unsigned ifindex, Family f)
{
    auto& a = entries_.at(ifindex).announcers.at(f);
    auto delay = a.schedule.next(rng_);
    a.periodic = loop_.after(delay, [this, ifindex, f] {
        auto it = entries_.find(ifindex);
        if (it == entries_.end() || !it->second.announcers.count(f))
            return;
        it->second.announcers.at(f).periodic = 0;
        advertise(ifindex, f);
        schedule_next(ifindex, f);
    });
}

MrdiscMessage Mrdisc::advertisement(Family f) const
{
    MrdiscMessage m;
    m.type = MrdiscType::advertisement;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(options_.timing.interval).count();
    m.interval = static_cast<uint8_t>(std::clamp<int64_t>(secs, 0, 255));
    m.query_interval = options_.query_interval;
    m.robustness = f == Family::inet ? robustness4_ : robustness6_;
    return m;
}

void Mrdisc::advertise(unsigned ifindex, Family f)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end() || !it->second.announcers.count(f))
        return;
    send(it->second, f, advertisement(f));
}

void Mrdisc::on_solicitation(Family f, unsigned ifindex)
{
    auto it = entries_.find(ifindex);
    if (it == entries_.end() || !it->second.announcers.count(f))
        return;
    auto& a = it->second.announcers.at(f);
    log_.debug(cat("mrdisc: ", family_name(f), " solicitation on ", it->second.iface.name.str()));
    if (a.answer) // an answer is already due: it covers this one too
        return;
    auto now = loop_.now();
    auto gap = options_.timing.min_message_gap;
    if (!a.sent_any || now - a.last_sent >= gap) {
        advertise(ifindex, f);
        return;
    }
    a.answer = loop_.after(a.last_sent + gap - now, [this, ifindex, f] {
        auto due = entries_.find(ifindex);
        if (due == entries_.end() || !due->second.announcers.count(f))
            return;
        due->second.announcers.at(f).answer = 0;
        advertise(ifindex, f);
    });
}

void Mrdisc::send(Entry& e, Family f, const MrdiscMessage& m)
{
    auto& a = e.announcers.at(f);
    Status st;
    if (options_.send) {
        st = options_.send(f, e.iface, m);
    } else {
        int fd = socket_for(f);
        st = fd < 0 ? Status(fail("no socket")) : send_on(fd, f, e.iface.index, encode_mrdisc(f, m), mrdisc_all_snoopers(f));
    }
    a.last_sent = loop_.now();
    a.sent_any = true;
    if (st) {
        log_.debug(cat("mrdisc: ", family_name(f), " ", type_name(m.type), " sent on ", e.iface.name.str()));
        return;
    }
    // A termination on a vanished interface is expected to fail.
    auto level = m.type == MrdiscType::termination ? LogLevel::debug : LogLevel::warning;
    log_.log(level, cat("mrdisc: ", family_name(f), " ", type_name(m.type), " on ", e.iface.name.str(), ": ",
                        st.error().message));
}

int Mrdisc::socket_for(Family f)
{
    auto& s = sockets_[f];
    if (s.fd || s.tried)
        return s.fd.get();
    s.tried = true;
    auto fd = f == Family::inet ? open_socket4() : open_socket6();
    if (!fd) {
        log_.warning(cat(fd.error().message, "; no ", family_name(f), " multicast router discovery"));
        return -1;
    }
    s.fd = std::move(*fd);
    loop_.watch(s.fd.get(), POLLIN, [this, f](short) { read_socket(f); });
    return s.fd.get();
}

void Mrdisc::join(Family f, unsigned ifindex, bool on)
{
    if (options_.send)
        return;
    auto it = sockets_.find(f);
    if (it == sockets_.end() || !it->second.fd)
        return;
    int fd = it->second.fd.get();
    int rc;
    if (f == Family::inet) {
        ip_mreqn mreq{};
        mreq.imr_multiaddr = mrdisc_all_routers(f).v4();
        mreq.imr_ifindex = static_cast<int>(ifindex);
        rc = ::setsockopt(fd, IPPROTO_IP, on ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq, sizeof mreq);
    } else {
        ipv6_mreq mreq{};
        mreq.ipv6mr_multiaddr = mrdisc_all_routers(f).v6();
        mreq.ipv6mr_interface = ifindex;
        rc = ::setsockopt(fd, IPPROTO_IPV6, on ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mreq, sizeof mreq);
    }
    // Leaving fails when the interface is gone (the kernel left already).
    if (rc != 0 && on)
        log_.warning(os_error(errno, cat("mrdisc: join ", mrdisc_all_routers(f).str(), " on ifindex ", ifindex,
                                         " (solicitations will not be answered)"))
                         .message);
}

void Mrdisc::read_socket(Family f)
{
    int fd = sockets_.at(f).fd.get();
    for (int budget = 64; budget > 0; --budget) {
        uint8_t buf[1500];
        auto got = receive_datagram(fd, buf);
        if (!got) {
            int e = got.error().code;
            if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR)
                log_.debug(os_error(e, "mrdisc: recvmsg").message);
            return;
        }
        const unsigned ifindex = got->ifindex; // IP_PKTINFO / IPV6_PKTINFO
        std::span<const uint8_t> body(buf, got->size);
        if (f == Family::inet) {
            auto d = parse_ipv4(body);
            if (!d || d->protocol != IPPROTO_IGMP)
                continue;
            body = d->payload;
        }
        auto m = decode_mrdisc(f, body);
        if (m && m->type == MrdiscType::solicitation && ifindex)
            on_solicitation(f, ifindex);
    }
}

} // namespace smcroute

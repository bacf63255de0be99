// os/group_socket: raw IGMP / ICMPv6 sockets for the proxy, with Router Alert.
#include "smcroute/os/group_socket.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/model/mrdisc_packet.hpp"
#include "smcroute/os/socket_msg.hpp"

// glibc's headers first: the kernel's uapi headers then skip their duplicates.
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace smcroute {

namespace {

template <class T>
Status set_opt(int fd, int level, int name, const T& value, std::string_view who, const char* what)
{
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
        return os_error(errno, cat(who, ": setsockopt ", what));
    return {};
}

Status setup4(int s, const GroupSocketOptions& o)
{
    auto ra = ipv4_router_alert_option();
    if (::setsockopt(s, IPPROTO_IP, IP_OPTIONS, ra.data(), static_cast<socklen_t>(ra.size())) != 0)
        return os_error(errno, cat(o.who, ": setsockopt IP_OPTIONS (router alert)"));
    unsigned char ttl = 1, loop = 0;
    int on = 1, off = 0;
    if (auto st = set_opt(s, IPPROTO_IP, IP_MULTICAST_TTL, ttl, o.who, "IP_MULTICAST_TTL"); !st)
        return st;
    if (auto st = set_opt(s, IPPROTO_IP, IP_MULTICAST_LOOP, loop, o.who, "IP_MULTICAST_LOOP"); !st)
        return st;
    if (auto st = set_opt(s, IPPROTO_IP, IP_PKTINFO, on, o.who, "IP_PKTINFO"); !st)
        return st;
    // Old kernels lack it: harmless.
    if (o.only_own_groups)
        (void)set_opt(s, IPPROTO_IP, IP_MULTICAST_ALL, off, o.who, "IP_MULTICAST_ALL");
    // Reports to groups no socket here joined reach only the sockets in the
    // Router Alert chain (the multicast routing socket is one).
    if (o.router_alert_chain)
        return set_opt(s, IPPROTO_IP, IP_ROUTER_ALERT, on, o.who, "IP_ROUTER_ALERT");
    return {};
}

Status setup6(int s, const GroupSocketOptions& o)
{
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    for (uint8_t t : o.icmp6_types)
        ICMP6_FILTER_SETPASS(t, &filter);
    if (auto st = set_opt(s, IPPROTO_ICMPV6, ICMP6_FILTER, filter, o.who, "ICMP6_FILTER"); !st)
        return st;
    int hops = 1, loop = 0, on = 1;
    if (auto st = set_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops, o.who, "IPV6_MULTICAST_HOPS"); !st)
        return st;
    if (auto st = set_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, loop, o.who, "IPV6_MULTICAST_LOOP"); !st)
        return st;
    if (auto st = set_opt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, on, o.who, "IPV6_RECVPKTINFO"); !st)
        return st;
    if (auto st = set_opt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, on, o.who, "IPV6_RECVHOPLIMIT"); !st)
        return st;
    auto hbh = ipv6_router_alert_hopopts();
    if (::setsockopt(s, IPPROTO_IPV6, IPV6_HOPOPTS, hbh.data(), static_cast<socklen_t>(hbh.size())) != 0)
        return os_error(errno, cat(o.who, ": setsockopt IPV6_HOPOPTS (router alert)"));
#ifdef IPV6_MULTICAST_ALL
    int off = 0;
    if (o.only_own_groups)
        (void)set_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_ALL, off, o.who, "IPV6_MULTICAST_ALL");
#endif
    return {};
}

} // namespace

Result<GroupSocket> GroupSocket::open(Family f, const GroupSocketOptions& options)
{
    UniqueFd fd(f == Family::inet ? ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_IGMP)
                                  : ::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6));
    if (!fd)
        return os_error(errno, cat(options.who, f == Family::inet ? ": IPv4 raw IGMP socket" : ": IPv6 raw ICMPv6 socket"));
    if (auto st = f == Family::inet ? setup4(fd.get(), options) : setup6(fd.get(), options); !st)
        return st.take_error();
    if (options.receive_queue > 0)
        size_receive_queue(fd.get(), options.receive_queue, true);
    return GroupSocket(f, std::move(fd), options.who);
}

Status GroupSocket::join(unsigned ifindex, const IpAddr& group)
{
    int rc;
    if (family_ == Family::inet) {
        ip_mreqn mreq{};
        mreq.imr_multiaddr = group.v4();
        mreq.imr_ifindex = static_cast<int>(ifindex);
        rc = ::setsockopt(fd_.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq);
    } else {
        ipv6_mreq mreq{};
        mreq.ipv6mr_multiaddr = group.v6();
        mreq.ipv6mr_interface = ifindex;
        rc = ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq);
    }
    if (rc != 0 && errno != EADDRINUSE)
        return os_error(errno, cat(who_, ": join ", group.str(), " on ifindex ", ifindex));
    return {};
}

Status GroupSocket::leave(unsigned ifindex, const IpAddr& group)
{
    int rc;
    if (family_ == Family::inet) {
        ip_mreqn mreq{};
        mreq.imr_multiaddr = group.v4();
        mreq.imr_ifindex = static_cast<int>(ifindex);
        rc = ::setsockopt(fd_.get(), IPPROTO_IP, IP_DROP_MEMBERSHIP, &mreq, sizeof mreq);
    } else {
        ipv6_mreq mreq{};
        mreq.ipv6mr_multiaddr = group.v6();
        mreq.ipv6mr_interface = ifindex;
        rc = ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mreq, sizeof mreq);
    }
    // The interface is gone: the kernel left already.
    if (rc != 0 && errno != EADDRNOTAVAIL && errno != ENODEV && errno != ENOENT)
        return os_error(errno, cat(who_, ": leave ", group.str(), " on ifindex ", ifindex));
    return {};
}

Status GroupSocket::send(unsigned ifindex, const IpAddr& dst, std::span<const uint8_t> body, const IpAddr& source)
{
    ssize_t n;
    int fd = fd_.get();
    if (family_ == Family::inet) {
        ip_mreqn mreq{};
        mreq.imr_ifindex = static_cast<int>(ifindex);
        if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) != 0)
            return os_error(errno, cat(who_, ": setsockopt IP_MULTICAST_IF"));
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr = dst.v4();
        n = ::sendto(fd, body.data(), body.size(), 0, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    } else {
        int idx = static_cast<int>(ifindex);
        if (::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx) != 0)
            return os_error(errno, cat(who_, ": setsockopt IPV6_MULTICAST_IF"));
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = dst.v6();
        sin6.sin6_scope_id = ifindex;
        iovec iov{const_cast<uint8_t*>(body.data()), body.size()};
        msghdr msg{};
        msg.msg_name = &sin6;
        msg.msg_namelen = sizeof sin6;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
        if (source.family() == Family::inet6 && !source.is_unspecified()) {
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
            in6_pktinfo pi{};
            pi.ipi6_addr = source.v6();
            pi.ipi6_ifindex = ifindex;
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
        n = ::sendmsg(fd, &msg, 0);
    }
    if (n < 0)
        return os_error(errno, cat(who_, ": send to ", dst.str(), " on ifindex ", ifindex));
    return {};
}

Result<std::optional<GroupDatagram>> GroupSocket::receive(std::span<uint8_t> buf)
{
    sockaddr_in6 from{};
    auto got = receive_datagram(fd_.get(), buf, reinterpret_cast<sockaddr*>(&from), sizeof from);
    if (!got)
        return got.take_error();
    GroupDatagram d;
    d.ifindex = got->ifindex;
    d.drop_count = got->drop_count;
    std::span<const uint8_t> bytes(buf.data(), got->size);
    if (got->truncated)
        return std::optional<GroupDatagram>();
    if (family_ == Family::inet) {
        auto ip = parse_ipv4(bytes);
        if (!ip || ip->protocol != IPPROTO_IGMP)
            return std::optional<GroupDatagram>();
        d.source = ip->source;
        d.ttl = ip->ttl;
        d.router_alert = ip->router_alert;
        d.body = ip->payload;
    } else {
        if (from.sin6_family != AF_INET6)
            return std::optional<GroupDatagram>();
        d.source = IpAddr::from_v6(from.sin6_addr);
        d.ttl = got->hop_limit;
        d.body = bytes;
    }
    return std::optional<GroupDatagram>(d);
}

std::optional<IpAddr> interface_address(Family f, std::string_view ifname)
{
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0)
        return std::nullopt;
    std::optional<IpAddr> found;
    for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
        if (!a->ifa_addr || !a->ifa_name || ifname != a->ifa_name)
            continue;
        if (f == Family::inet && a->ifa_addr->sa_family == AF_INET) {
            found = IpAddr::from_v4(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr);
        } else if (f == Family::inet6 && a->ifa_addr->sa_family == AF_INET6) {
            const in6_addr& v6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(&v6))
                found = IpAddr::from_v6(v6);
        }
    }
    ::freeifaddrs(list);
    return found;
}

} // namespace smcroute

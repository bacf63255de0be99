// os/interfaces: interface snapshot (RTM_GETLINK dump) and link-event monitor
// on NETLINK_ROUTE; the bytes are walked by os/netlink, which never trusts them.
#include "smcroute/os/interfaces.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/os/netlink.hpp"
#include "smcroute/os/socket_msg.hpp"

#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <span>

namespace smcroute {

namespace {

constexpr size_t max_datagrams_per_read = 4096;
constexpr size_t monitor_buffer_size = 64 * 1024;
constexpr int monitor_rcvbuf = 4 * 1024 * 1024;
constexpr int dump_attempts = 5; // retries when the dump was interrupted (NLM_F_DUMP_INTR)

using Bytes = std::span<const uint8_t>;

// The interface described by an RTM_NEWLINK/RTM_DELLINK payload. The name is
// left empty when IFLA_IFNAME is absent or not a valid interface name.
std::optional<Interface> parse_ifinfo(Bytes payload)
{
    if (payload.size() < sizeof(ifinfomsg))
        return std::nullopt;
    ifinfomsg ifi;
    std::memcpy(&ifi, payload.data(), sizeof ifi);
    if (ifi.ifi_index <= 0)
        return std::nullopt;
    Interface iface;
    iface.index = static_cast<unsigned>(ifi.ifi_index);
    iface.flags = ifi.ifi_flags;

    NetlinkAttrs attrs(payload, sizeof(ifinfomsg));
    while (auto a = attrs.next()) {
        if ((a->type & NLA_TYPE_MASK) != IFLA_IFNAME)
            continue;
        const char* p = reinterpret_cast<const char*>(a->payload.data());
        auto name = IfName::parse(std::string_view(p, ::strnlen(p, a->payload.size())));
        if (name)
            iface.name = *name;
    }
    return iface;
}

// Receive one whole datagram from the kernel into buf (grown as needed).
// Returns its length, or -1 with errno set.
ssize_t recv_datagram(int fd, std::vector<uint8_t>& buf)
{
    for (;;) {
        ssize_t want = ::recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
        if (want < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (buf.size() < static_cast<size_t>(want))
            buf.resize(static_cast<size_t>(want));
        sockaddr_nl from{};
        socklen_t fromlen = sizeof from;
        ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (from.nl_pid != 0)
            continue; // not from the kernel
        return n;
    }
}

enum class DumpOutcome { done, interrupted };

Result<DumpOutcome> dump_links(std::vector<Interface>& out)
{
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd)
        return os_error(errno, "list interfaces: open netlink socket");
    // The kernel always answers; the timeout only guards against a hang.
    timeval tv{5, 0};
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    struct {
        nlmsghdr h;
        ifinfomsg ifi;
    } req{};
    constexpr uint32_t seq = 1;
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
    req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = seq;
    req.ifi.ifi_family = AF_UNSPEC;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd.get(), &req, req.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
        return os_error(errno, "list interfaces: send RTM_GETLINK");

    std::vector<uint8_t> buf; // sized to each datagram by recv_datagram
    bool done = false;
    bool interrupted = false;
    int error = 0;
    while (!done) {
        ssize_t n = recv_datagram(fd.get(), buf);
        if (n < 0)
            return os_error(errno, "list interfaces: receive RTM_NEWLINK");
        NetlinkMessages msgs(Bytes(buf.data(), static_cast<size_t>(n)));
        while (auto m = msgs.next()) {
            if (m->seq != seq)
                continue;
            if (m->flags & NLM_F_DUMP_INTR)
                interrupted = true;
            if (m->type == NLMSG_DONE) {
                done = true;
                break;
            }
            if (m->type == NLMSG_ERROR) {
                error = netlink_error_code(m->payload);
                if (error != 0) {
                    done = true;
                    break;
                }
                continue;
            }
            if (m->type == RTM_NEWLINK) {
                auto iface = parse_ifinfo(m->payload);
                if (iface && !iface->name.empty())
                    out.push_back(*iface);
            }
        }
    }
    if (error != 0)
        return os_error(error, "list interfaces");
    return interrupted ? DumpOutcome::interrupted : DumpOutcome::done;
}

} // namespace

bool Interface::up() const { return (flags & IFF_UP) != 0; }
bool Interface::multicast() const { return (flags & IFF_MULTICAST) != 0; }
bool Interface::loopback() const { return (flags & IFF_LOOPBACK) != 0; }

Result<std::vector<Interface>> list_interfaces()
{
    std::vector<Interface> out;
    for (int attempt = 0; attempt < dump_attempts; ++attempt) {
        out.clear();
        auto r = dump_links(out);
        if (!r)
            return r.take_error();
        if (*r == DumpOutcome::done)
            break;
        // Interrupted by a concurrent change: try again; keep the last
        // (possibly inconsistent) result if it never settles.
    }
    std::sort(out.begin(), out.end(), [](const Interface& a, const Interface& b) { return a.index < b.index; });
    // A dump never repeats an index, but be safe against duplicates.
    out.erase(std::unique(out.begin(), out.end(),
                          [](const Interface& a, const Interface& b) { return a.index == b.index; }),
              out.end());
    return out;
}

Result<LinkMonitor> LinkMonitor::open()
{
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd)
        return os_error(errno, "link monitor: open netlink socket");
    size_receive_queue(fd.get(), monitor_rcvbuf, false);
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
        return os_error(errno, "link monitor: subscribe to rtnetlink link events");
    LinkMonitor m;
    m.fd_ = std::move(fd);
    return m;
}

std::vector<LinkEvent> LinkMonitor::read(bool& overflowed)
{
    overflowed = false;
    std::vector<LinkEvent> events;
    if (!fd_)
        return events;
    // Not zero-filled: only the bytes received are touched.
    auto storage = std::make_unique_for_overwrite<uint8_t[]>(monitor_buffer_size);
    std::span<uint8_t> buf(storage.get(), monitor_buffer_size);
    for (size_t i = 0; i < max_datagrams_per_read; ++i) {
        sockaddr_nl from{};
        auto d = receive_datagram(fd_.get(), buf, reinterpret_cast<sockaddr*>(&from), sizeof from);
        if (!d) {
            if (d.error().code == EINTR)
                continue;
            if (d.error().code == ENOBUFS) { // the kernel dropped events
                overflowed = true;
                continue;
            }
            break; // EAGAIN: drained
        }
        if (d->truncated) { // a message did not fit: treat as lost
            overflowed = true;
            continue;
        }
        if (from.nl_pid != 0)
            continue; // not from the kernel
        auto decoded = decode_link_messages(buf.data(), d->size);
        events.insert(events.end(), decoded.begin(), decoded.end());
    }
    return events;
}

std::vector<LinkEvent> decode_link_messages(const void* data, size_t len)
{
    std::vector<LinkEvent> events;
    if (data == nullptr)
        return events;
    NetlinkMessages msgs(Bytes(static_cast<const uint8_t*>(data), len));
    while (auto m = msgs.next()) {
        if (m->type != RTM_NEWLINK && m->type != RTM_DELLINK)
            continue; // address events only wake the caller
        auto iface = parse_ifinfo(m->payload);
        if (iface)
            events.push_back(LinkEvent{m->type == RTM_NEWLINK ? LinkEvent::Kind::added_or_changed
                                                              : LinkEvent::Kind::removed,
                                       *iface});
    }
    return events;
}

} // namespace smcroute

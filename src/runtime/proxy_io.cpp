// runtime/proxy_io: GroupSockets, the daemon's wire for the proxy.
#include "smcroute/runtime/proxy_io.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/model/group_packet.hpp"

#include <poll.h>

#include <cerrno>

namespace smcroute {

namespace {

// What a querier receives beyond the groups it is asked about: leaves and
// dones (all-routers) and v3 reports (224.0.0.22 / ff02::16).
std::array<IpAddr, 2> link_groups(Family f)
{
    return {group_all_routers(f), group_v3_reports(f)};
}

} // namespace

GroupSockets::~GroupSockets()
{
    for (auto& [f, s] : sockets_)
        if (s)
            loop_.unwatch(s->fd());
}

GroupSocket* GroupSockets::socket_for(Family f)
{
    auto it = sockets_.find(f);
    if (it != sockets_.end())
        return it->second ? &*it->second : nullptr;
    GroupSocketOptions options;
    options.who = "proxy";
    options.router_alert_chain = true;
    options.icmp6_types = {130, 131, 132, 143}; // MLD: query, v1 report, done, v2 report
    // A burst of reports (a host joining a thousand groups, every host
    // answering a General Query) waits here while the proxy works through
    // it: room for some 2 000 (the kernel charges ~2 KiB a datagram on a
    // 1500-byte link, and only for what is queued). Beyond it the kernel
    // drops, and counts them (show proxy, queue_dropped).
    options.receive_queue = 4 * 1024 * 1024;
    auto opened = GroupSocket::open(f, options);
    if (!opened) {
        log_.error(cat(opened.error().message, ": the ", family_name(f), " proxy cannot hear or query listeners"));
        sockets_[f] = std::nullopt;
        return nullptr;
    }
    auto& slot = sockets_[f];
    slot.emplace(std::move(*opened));
    loop_.watch(slot->fd(), POLLIN, [this, f](short) { read(f); });
    return &*slot;
}

Status GroupSockets::send(Family f, unsigned ifindex, const IpAddr& source, const IpAddr& dst,
                          std::span<const uint8_t> body)
{
    GroupSocket* s = socket_for(f);
    if (!s)
        return fail(cat("no ", family_name(f), " proxy socket"));
    return s->send(ifindex, dst, body, source);
}

Status GroupSockets::listen(Family f, unsigned ifindex, bool on)
{
    GroupSocket* s = socket_for(f);
    if (!s)
        return fail(cat("no ", family_name(f), " proxy socket"));
    for (const auto& g : link_groups(f)) {
        auto st = on ? s->join(ifindex, g) : s->leave(ifindex, g);
        if (!st)
            return st;
    }
    return {};
}

std::optional<IpAddr> GroupSockets::address(Family f, const Interface& iface)
{
    return interface_address(f, iface.name.view());
}

void GroupSockets::read(Family f)
{
    auto it = sockets_.find(f);
    if (it == sockets_.end() || !it->second)
        return;
    // One bounded batch per wake-up; the socket's queue keeps the rest.
    for (int budget = 64; budget > 0; --budget) {
        uint8_t buf[9000];
        auto got = it->second->receive(buf);
        if (!got) {
            int e = got.error().code;
            if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR)
                log_.debug(os_error(e, "proxy: recvmsg").message);
            return;
        }
        if (proxy_ && *got)
            proxy_->receive(f, **got);
    }
}

} // namespace smcroute

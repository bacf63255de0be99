// runtime/proxy_io: the daemon's ProxyIo: one GroupSocket (os/group_socket)
// per family, opened when the proxy first listens on an interface of that
// family, watched by the event loop and read into Proxy::receive(); the
// link-scope groups a querier listens on joined per interface.
#pragma once

#include "smcroute/runtime/proxy.hpp"

#include <map>
#include <optional>

namespace smcroute {

// The daemon's ProxyIo: one GroupSocket per family, opened when the proxy of
// that family starts, read from the event loop into Proxy::receive().
class GroupSockets final : public ProxyIo {
public:
    GroupSockets(EventLoop& loop, Logger& log) : loop_(loop), log_(log) {}
    ~GroupSockets() override;
    GroupSockets(const GroupSockets&) = delete;
    GroupSockets& operator=(const GroupSockets&) = delete;

    // Where received datagrams go (set before the first listen()).
    void set_proxy(Proxy* proxy) { proxy_ = proxy; }
    Status send(Family f, unsigned ifindex, const IpAddr& source, const IpAddr& dst,
                std::span<const uint8_t> body) override;
    Status listen(Family f, unsigned ifindex, bool on) override;
    std::optional<IpAddr> address(Family f, const Interface& iface) override;

private:
    GroupSocket* socket_for(Family f);
    void read(Family f);

    EventLoop& loop_;
    Logger& log_;
    Proxy* proxy_ = nullptr;
    std::map<Family, std::optional<GroupSocket>> sockets_;
};

} // namespace smcroute

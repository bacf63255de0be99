// os/interfaces: the system's network interfaces (name, index, flags) as a
// snapshot read via rtnetlink, and the rtnetlink link-event monitor that keeps
// it current. Knows nothing of VIFs or routes.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <string>
#include <vector>

namespace smcroute {

struct Interface {
    IfName name;
    unsigned index = 0;
    unsigned flags = 0; // IFF_UP, IFF_MULTICAST, IFF_LOOPBACK, ...
    bool up() const;
    bool multicast() const;
    bool loopback() const;
};

// Every interface now present, in index order.
Result<std::vector<Interface>> list_interfaces();

struct LinkEvent {
    enum class Kind { added_or_changed, removed };
    Kind kind = Kind::added_or_changed;
    Interface iface;
};

// Subscribed to RTNLGRP_LINK (and the address groups). Poll fd(), then read().
class LinkMonitor {
public:
    static Result<LinkMonitor> open();
    int fd() const { return fd_.get(); }
    // Everything pending, without blocking. overflowed is set to whether
    // events were lost (ENOBUFS, or a truncated message); then the caller
    // should re-read list_interfaces(). Address changes (RTMGRP_IPV4/6_IFADDR)
    // wake fd() but yield no events.
    std::vector<LinkEvent> read(bool& overflowed);

private:
    UniqueFd fd_;
};

// Decode a buffer of rtnetlink messages (RTM_NEWLINK/RTM_DELLINK; all other
// types are skipped). Pure (fuzzable): stops at the first malformed header.
// iface.name is empty when the message carries no valid IFLA_IFNAME.
std::vector<LinkEvent> decode_link_messages(const void* data, size_t len);

} // namespace smcroute

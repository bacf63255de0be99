// os/group_socket: the IGMP/MLD proxy's raw socket of one family. IPv4: a raw
// IGMP socket in the kernel's Router Alert chain (IP_ROUTER_ALERT), so that
// reports for groups nobody on this host joined still arrive; IPv6: a raw
// ICMPv6 socket that passes only MLD. It sends with TTL/hop limit 1 and
// Router Alert out of a chosen interface, joins link-scope groups (the
// all-routers and v3 report addresses) per interface, and hands back each
// datagram with its arrival interface, IP source and TTL/hop limit. Knows
// nothing of what the messages say.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/base/result.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace smcroute {

struct GroupDatagram {
    unsigned ifindex = 0; // arrival interface (0: unknown)
    IpAddr source;
    std::optional<uint8_t> ttl; // IPv4 TTL / IPv6 hop limit, when known
    bool router_alert = false;  // IPv4: a Router Alert option was present
    std::span<const uint8_t> body; // the IGMP or ICMPv6 message, in the caller's buffer
};

class GroupSocket {
public:
    // Needs CAP_NET_RAW. Non-blocking, close-on-exec.
    static Result<GroupSocket> open(Family f);

    int fd() const { return fd_.get(); }
    Family family() const { return family_; }

    // Join/leave a (link-scope) group on an interface, for this socket.
    Status join(unsigned ifindex, const IpAddr& group);
    Status leave(unsigned ifindex, const IpAddr& group);
    // One message out of ifindex to dst (TTL/hop limit 1, Router Alert).
    // IPv6: the kernel fills in the ICMPv6 checksum.
    Status send(unsigned ifindex, const IpAddr& dst, std::span<const uint8_t> body);
    // One datagram, without blocking. Errors carry errno only (EAGAIN: none
    // pending). nullopt: a datagram that is not a well-formed IPv4 IGMP one
    // (the caller counts it as malformed).
    Result<std::optional<GroupDatagram>> receive(std::span<uint8_t> buf);

private:
    GroupSocket(Family f, UniqueFd fd) : family_(f), fd_(std::move(fd)) {}
    Family family_;
    UniqueFd fd_;
};

// The address an interface queries from: IPv4 its primary (first) address,
// IPv6 its first link-local one; nullopt when it has none.
std::optional<IpAddr> interface_address(Family f, std::string_view ifname);

} // namespace smcroute

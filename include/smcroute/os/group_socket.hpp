// os/group_socket: a raw socket of one family for the router side of the
// group protocols (the proxy's querier, multicast router discovery): IGMP for
// IPv4, optionally in the kernel's Router Alert chain (IP_ROUTER_ALERT) so
// that reports for groups nobody on this host joined still arrive; ICMPv6 for
// IPv6, passing only the types asked for. It sends with TTL/hop limit 1 and
// Router Alert out of a chosen interface, joins link-scope groups (all-routers,
// the v3 report addresses, all-snoopers) per interface, and hands back each
// datagram with its arrival interface, IP source and TTL/hop limit. Knows
// nothing of what the messages say.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/base/result.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

struct GroupDatagram {
    unsigned ifindex = 0; // arrival interface (0: unknown)
    IpAddr source;
    std::optional<uint8_t> ttl; // IPv4 TTL / IPv6 hop limit, when known
    bool router_alert = false;  // IPv4: a Router Alert option was present
    std::span<const uint8_t> body; // the IGMP or ICMPv6 message, in the caller's buffer
    // With GroupSocketOptions::receive_queue: the socket's running count of
    // datagrams the kernel dropped for want of room (SO_RXQ_OVFL), once
    // non-zero.
    std::optional<uint32_t> drop_count;
};

struct GroupSocketOptions {
    std::string_view who = "proxy"; // begins its error messages
    // IPv4: in the Router Alert chain, so reports to any group arrive.
    bool router_alert_chain = false;
    // Only what goes to groups this socket joined (IP_MULTICAST_ALL /
    // IPV6_MULTICAST_ALL off, where the kernel has them).
    bool only_own_groups = false;
    // IPv6: the ICMPv6 types that pass; every other one is blocked.
    std::vector<uint8_t> icmp6_types;
    // Bytes of receive queue (0: the kernel's default), and the kernel's
    // count of what did not fit on every datagram (drop_count).
    int receive_queue = 0;
};

class GroupSocket {
public:
    // Needs CAP_NET_RAW. Non-blocking, close-on-exec.
    static Result<GroupSocket> open(Family f, const GroupSocketOptions& options);

    int fd() const { return fd_.get(); }
    Family family() const { return family_; }

    // Join/leave a (link-scope) group on an interface, for this socket.
    Status join(unsigned ifindex, const IpAddr& group);
    Status leave(unsigned ifindex, const IpAddr& group);
    // One message out of ifindex to dst (TTL/hop limit 1, Router Alert).
    // IPv6: the kernel fills in the ICMPv6 checksum; a source given (not
    // unspecified) is used, so a query to a wider-scope group still comes
    // from the link-local address hosts require (RFC 3810 section 5.1.14).
    Status send(unsigned ifindex, const IpAddr& dst, std::span<const uint8_t> body, const IpAddr& source = {});
    // One datagram, without blocking. Errors carry errno only (EAGAIN: none
    // pending). nullopt: a datagram that is not a well-formed IPv4 IGMP one
    // (the caller counts it as malformed).
    Result<std::optional<GroupDatagram>> receive(std::span<uint8_t> buf);

private:
    GroupSocket(Family f, UniqueFd fd, std::string_view who) : family_(f), fd_(std::move(fd)), who_(who) {}
    Family family_;
    UniqueFd fd_;
    std::string who_;
};

// The address an interface queries from: IPv4 its primary (first) address,
// IPv6 its first link-local one; nullopt when it has none.
std::optional<IpAddr> interface_address(Family f, std::string_view ifname);

} // namespace smcroute

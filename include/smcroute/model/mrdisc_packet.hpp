// model/mrdisc_packet: RFC 4286 Multicast Router Discovery messages as bytes:
// encode/decode of the IGMP (IPv4) and ICMPv6 (IPv6) bodies, the Internet
// checksum, the Router Alert option values and a parser for the IPv4 header a
// raw socket hands back. Pure: no sockets, no clock, no logging.
#pragma once

#include "smcroute/base/addr.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace smcroute {

enum class MrdiscType : uint8_t { advertisement, solicitation, termination };

struct MrdiscMessage {
    MrdiscType type = MrdiscType::advertisement;
    // Advertisements only (zero in the others): the advertisement interval
    // in seconds, and IGMP/MLD's Query Interval and Robustness Variable.
    uint8_t interval = 0;
    uint16_t query_interval = 0;
    uint16_t robustness = 0;

    friend bool operator==(const MrdiscMessage&, const MrdiscMessage&) = default;
};

namespace mrdisc {
// IGMP types (IPv4) and ICMPv6 types (IPv6), RFC 4286 section 6.
inline constexpr uint8_t igmp_advertisement = 0x30;
inline constexpr uint8_t igmp_solicitation = 0x31;
inline constexpr uint8_t igmp_termination = 0x32;
inline constexpr uint8_t icmp6_advertisement = 151;
inline constexpr uint8_t icmp6_solicitation = 152;
inline constexpr uint8_t icmp6_termination = 153;
// Body sizes: an advertisement carries two 16-bit fields after the header.
inline constexpr size_t advertisement_size = 8;
inline constexpr size_t short_message_size = 4;
} // namespace mrdisc

// 224.0.0.106 / ff02::6a (All-Snoopers): advertisements and terminations.
IpAddr mrdisc_all_snoopers(Family f);
// 224.0.0.2 / ff02::2 (All-Routers): solicitations.
IpAddr mrdisc_all_routers(Family f);

uint8_t mrdisc_wire_type(Family f, MrdiscType t);
std::optional<MrdiscType> mrdisc_type_from_wire(Family f, uint8_t wire);

// The message body (8 bytes for an advertisement, 4 otherwise). IPv4: with
// the IGMP checksum. IPv6: checksum 0, since it covers the IPv6 pseudo-header
// and the kernel fills it in on raw ICMPv6 sockets.
std::vector<uint8_t> encode_mrdisc(Family f, const MrdiscMessage& m);
// As encode_mrdisc, IPv6 with the checksum computed for these addresses.
std::vector<uint8_t> encode_mrdisc6(const in6_addr& src, const in6_addr& dst, const MrdiscMessage& m);

// nullopt for a short body, a type that is not MRD, or (IPv4 only) a bad
// checksum. Longer bodies are accepted (the checksum covers all of it).
// IPv6 checksums are not checked here (the kernel does on raw sockets).
std::optional<MrdiscMessage> decode_mrdisc(Family f, std::span<const uint8_t> body);

// RFC 1071 one's complement sum, folded and complemented; `sum` carries a
// partial sum (e.g. of a pseudo-header) in.
uint16_t internet_checksum(std::span<const uint8_t> data, uint32_t sum = 0);
// ICMPv6 checksum over the pseudo-header (src, dst, length, next header 58).
uint16_t icmp6_checksum(const in6_addr& src, const in6_addr& dst, std::span<const uint8_t> body);

// IP_OPTIONS value: IPv4 Router Alert (RFC 2113), value 0.
std::array<uint8_t, 4> ipv4_router_alert_option();
// IPV6_HOPOPTS value: a Hop-by-Hop Options header holding Router Alert
// (RFC 2711) value 0 (MLD) and PadN to 8 bytes. The kernel sets next header.
std::array<uint8_t, 8> ipv6_router_alert_hopopts();

// An IPv4 datagram as a raw socket returns it.
struct Ipv4Datagram {
    IpAddr source;
    IpAddr destination;
    uint8_t ttl = 0;
    uint8_t protocol = 0;
    bool router_alert = false; // a Router Alert option is among the options
    std::span<const uint8_t> payload; // into the parsed buffer
};
// nullopt when not IPv4, the header length is out of range, or the options
// are malformed. The payload is cut to the header's total length.
std::optional<Ipv4Datagram> parse_ipv4(std::span<const uint8_t> packet);

} // namespace smcroute

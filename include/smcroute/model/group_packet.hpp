// model/group_packet: IGMP (RFC 1112, 2236, 3376) and MLD (RFC 2710, 3810)
// messages as bytes: decode into the family-neutral GroupMessage (or a drop
// reason), encode back, the 8- and 16-bit floating point codes of the
// v3 queries, and the addresses each message is sent to. Pure: no sockets,
// no clock, no logging. The checksum, Router Alert and IPv4 header helpers
// are model/mrdisc_packet's.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/model/group_message.hpp"

#include <cassert>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace smcroute {

namespace group_wire {
// IGMP types (RFC 3376 section 4, RFC 2236 section 2.1).
inline constexpr uint8_t igmp_query = 0x11;
inline constexpr uint8_t igmp_v1_report = 0x12;
inline constexpr uint8_t igmp_v2_report = 0x16;
inline constexpr uint8_t igmp_v2_leave = 0x17;
inline constexpr uint8_t igmp_v3_report = 0x22;
// ICMPv6 types (RFC 2710 section 3, RFC 3810 section 5).
inline constexpr uint8_t mld_query = 130;
inline constexpr uint8_t mld_v1_report = 131;
inline constexpr uint8_t mld_v1_done = 132;
inline constexpr uint8_t mld_v2_report = 143;
// Fixed sizes: IGMPv1/v2 messages and IGMPv3 query/report headers; MLDv1
// messages and MLDv2 query/report headers.
inline constexpr size_t igmp_size = 8;
inline constexpr size_t igmp_v3_query_size = 12;
inline constexpr size_t igmp_v3_report_size = 8;
inline constexpr size_t mld_size = 24;
inline constexpr size_t mld_v2_query_size = 28;
inline constexpr size_t mld_v2_report_size = 8;
// The largest values the floating point codes express (units of the field).
inline constexpr uint32_t code8_max = 31744;    // (0x0f | 0x10) << (7 + 3)
inline constexpr uint32_t code16_max = 8387584; // (0xfff | 0x1000) << (7 + 3)
} // namespace group_wire

// Why a received message was not decoded. The runtime counts drops per
// reason; not_membership is not an error (another protocol's message).
enum class GroupDrop : uint8_t {
    truncated,      // shorter than its type, or its counts, say
    bad_length,     // a query length no version has (IGMP 9-11, MLD 25-27 bytes)
    bad_checksum,   // IGMP checksum wrong (MLD's is the kernel's to check)
    unknown_type,   // an IGMP type no RFC assigns
    not_membership, // another protocol's type (DVMRP, PIMv1, mtrace, MRD, ND...)
    bad_group,      // not multicast (query: nor unspecified), or MLD scope 0/1
    bad_source,     // a source that is not unicast; sources in a general query
    local_group,    // a report or leave for 224.0.0.0/24 or a link-scope (ff02::) group
};
inline constexpr size_t group_drop_count = 8;
// "truncated", "bad_length", ...: the enumerator's name.
std::string_view drop_reason_name(GroupDrop d);
// True for the reasons that mean broken bytes (truncated, bad_length,
// bad_checksum, bad_group, bad_source), which `show proxy` counts as
// malformed; false for messages that are fine but not for us
// (unknown_type, not_membership, local_group).
bool drop_is_malformed(GroupDrop d);

// A decoded message or the reason it was dropped.
class GroupDecode {
public:
    GroupDecode(GroupMessage m) : v_(std::move(m)) {}
    GroupDecode(GroupDrop d) : v_(d) {}
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    const GroupMessage& message() const { assert(ok()); return std::get<0>(v_); }
    GroupMessage& message() { assert(ok()); return std::get<0>(v_); }
    const GroupMessage& operator*() const { return message(); }
    const GroupMessage* operator->() const { return &message(); }
    GroupDrop drop() const { assert(!ok()); return std::get<1>(v_); }

private:
    std::variant<GroupMessage, GroupDrop> v_;
};

// The IGMP message (the IPv4 payload, e.g. Ipv4Datagram::payload). Checks
// the checksum over the whole body; bytes past a message's fields are
// ignored (RFC 3376 section 4.1.10, RFC 2236 section 2.5). Queries: 8 bytes
// with Max Resp 0 are IGMPv1 (group ignored, max_response 10 s), 8 bytes
// otherwise IGMPv2, 12 or more IGMPv3. v3 report records of an unknown type
// or for a 224.0.0.0/24 group are left out (RFC 3376 section 4.2.12); the
// message is local_group only when that leaves none of several. A v3
// report's `group` is the unspecified address of its family.
GroupDecode decode_igmp(std::span<const uint8_t> body);
// The ICMPv6 message as a raw ICMPv6 socket returns it (no IPv6 header; the
// kernel has checked the checksum). Queries: 24 bytes MLDv1 (version v2),
// 28 or more MLDv2 (v3). Link-scope (scope 2) groups are local_group, as
// in decode_igmp; scope 0 and 1 groups are bad_group (RFC 3810 section 6).
GroupDecode decode_mld(std::span<const uint8_t> body);

// The encoders write what the message says, in its version's format
// (reports and leaves of MLD: version v1 is written as v2, MLD has no v1;
// leaves are IGMPv2 Leave / MLDv1 Done whatever the version). Exact:
// decode(encode(m)) == m for every m decode could return; other values are
// rounded to what the wire can carry (codes: see below; an IGMPv1 query
// carries no group and 10 s; robustness above 7 is sent as QRV 0, as
// RFC 3376 section 4.1.6 says). Addresses of the other family are not
// expected (their first bytes are written).
std::vector<uint8_t> encode_igmp(const GroupMessage& m);
// Checksum 0: it covers the IPv6 pseudo-header, and the kernel fills it in
// on raw ICMPv6 sockets.
std::vector<uint8_t> encode_mld(const GroupMessage& m);
// As encode_mld, with the checksum computed for these addresses.
std::vector<uint8_t> encode_mld6(const in6_addr& src, const in6_addr& dst, const GroupMessage& m);

// The floating point codes: RFC 3376 sections 4.1.1 and 4.1.7 (8 bits: Max
// Resp Code in 1/10 s, QQIC in s; below 128 the value itself) and RFC 3810
// sections 5.1.3 and 5.1.9 (16 bits: Maximum Response Code in ms, below
// 32768 the value itself; its QQIC is the 8-bit code). The encoders round
// DOWN: the code of the largest representable value not above `value`
// (a host then answers no later than asked; a querier that times with
// decode(encode(x)) keeps exactly what it announced). Values beyond the
// largest representable give the largest code (0xff, 0xffff).
uint32_t decode_code8(uint8_t code);
uint8_t encode_code8(uint32_t value);
uint32_t decode_code16(uint16_t code);
uint16_t encode_code16(uint32_t value);

// 224.0.0.1 / ff02::1 (All-Systems / all-nodes): general queries.
IpAddr group_all_systems(Family f);
// 224.0.0.2 / ff02::2 (All-Routers): IGMPv2 leaves, MLDv1 dones.
IpAddr group_all_routers(Family f);
// 224.0.0.22 / ff02::16 (all IGMPv3 / MLDv2 routers): v3 reports.
IpAddr group_v3_reports(Family f);
// Where a message goes: a general query to all-systems, a group-specific
// query and a v1/v2 report to its group, a leave to all-routers, a v3
// report to group_v3_reports.
IpAddr group_destination(Family f, const GroupMessage& m);

} // namespace smcroute

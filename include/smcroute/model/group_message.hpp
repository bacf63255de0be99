// model/group_message: IGMP (RFC 1112, 2236, 3376) and MLD (RFC 2710, 3810)
// messages as one family-neutral model, the vocabulary shared by the codec
// (model/group_packet) and the querier (model/querier). Plain values: no
// bytes, no sockets, no clock.
#pragma once

#include "smcroute/base/addr.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

namespace smcroute {

// Protocol generation. v1: IGMPv1. v2: IGMPv2 or MLDv1. v3: IGMPv3 or MLDv2.
enum class GroupVersion : uint8_t { v1 = 1, v2 = 2, v3 = 3 };

// "IGMPv2", "MLDv1", ...: how operators name the version of a family.
std::string_view group_version_name(Family f, GroupVersion v);

// RFC 3376 section 4.2.12 / RFC 3810 section 5.2.12 record types, with
// their wire values.
enum class RecordType : uint8_t {
    is_include = 1, // MODE_IS_INCLUDE
    is_exclude = 2, // MODE_IS_EXCLUDE
    to_include = 3, // CHANGE_TO_INCLUDE_MODE
    to_exclude = 4, // CHANGE_TO_EXCLUDE_MODE
    allow = 5,      // ALLOW_NEW_SOURCES
    block = 6,      // BLOCK_OLD_SOURCES
};

// "IS_IN", "IS_EX", "TO_IN", "TO_EX", "ALLOW", "BLOCK" (the RFCs' names).
std::string_view record_type_name(RecordType t);

struct GroupRecord {
    RecordType type = RecordType::is_include;
    IpAddr group;
    std::vector<IpAddr> sources;
    friend bool operator==(const GroupRecord&, const GroupRecord&) = default;
};

struct GroupMessage {
    enum class Kind : uint8_t {
        query,  // Membership Query / Multicast Listener Query, any version
        report, // v1/v2: `group` is the group; v3: `records`
        leave,  // IGMPv2 Leave Group / MLDv1 Done: `group`
    };
    Kind kind = Kind::query;
    GroupVersion version = GroupVersion::v3;
    // Query: the group asked about (unspecified: a General Query).
    // v1/v2 report and leave: the group reported or left.
    IpAddr group;
    // v3 query: the sources of a group-and-source-specific query.
    std::vector<IpAddr> sources;
    // Query: Max Resp Code / Maximum Response Delay, decoded (v1: 10 s).
    std::chrono::milliseconds max_response{0};
    // v3 query: Suppress Router-Side Processing, QRV (0: none given) and
    // QQIC decoded to seconds (0: none given).
    bool suppress = false;
    uint8_t robustness = 0;
    uint32_t query_interval = 0;
    // v3 report.
    std::vector<GroupRecord> records;
    friend bool operator==(const GroupMessage&, const GroupMessage&) = default;
};

} // namespace smcroute

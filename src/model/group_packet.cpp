// model/group_packet: IGMP and MLD bytes <-> GroupMessage, the floating
// point codes and the destination addresses. Pure.
#include "smcroute/model/group_packet.hpp"

#include "smcroute/model/mrdisc_packet.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <optional>

namespace smcroute {

namespace {

using namespace group_wire;
using Bytes = std::span<const uint8_t>;

constexpr std::chrono::milliseconds igmp_v1_max_response{10000}; // RFC 2236 section 4
constexpr uint8_t qrv_max = 7;

uint16_t get16(Bytes b, size_t at)
{
    return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v)
{
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v & 0xff);
}

IpAddr addr_at(Family f, Bytes b, size_t at)
{
    if (f == Family::inet) {
        in_addr a{};
        std::memcpy(&a, &b[at], 4);
        return IpAddr::from_v4(a);
    }
    in6_addr a{};
    std::memcpy(&a, &b[at], 16);
    return IpAddr::from_v6(a);
}

size_t addr_size(Family f)
{
    return f == Family::inet ? 4 : 16;
}

void put_addr(std::vector<uint8_t>& b, Family f, const IpAddr& a)
{
    const auto& bytes = a.bytes();
    b.insert(b.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(addr_size(f)));
}

void put_addr_at(std::vector<uint8_t>& b, size_t at, Family f, const IpAddr& a)
{
    std::copy_n(a.bytes().begin(), addr_size(f), b.begin() + static_cast<ptrdiff_t>(at));
}

uint16_t clamp16(size_t n)
{
    return static_cast<uint16_t>(std::min<size_t>(n, 0xffff));
}

// RFC 3810 section 6: no MLD message for scope 0 (reserved) or 1
// (interface-local) groups.
bool bad_scope(const IpAddr& g)
{
    return !g.is_v4() && (g.bytes()[1] & 0x0f) <= 1;
}

// Never reported: IPv4 224.0.0.0/24, IPv6 link scope (and below).
bool local(const IpAddr& g)
{
    if (g.is_v4())
        return g.is_link_local_multicast();
    return (g.bytes()[1] & 0x0f) <= 2;
}

bool unicast(const IpAddr& s)
{
    return !s.is_unspecified() && !s.is_multicast() && !s.is_broadcast();
}

// A reported or left group: nullopt when fine.
std::optional<GroupDrop> judge_reported(const IpAddr& g)
{
    if (!g.is_multicast() || bad_scope(g))
        return GroupDrop::bad_group;
    if (local(g))
        return GroupDrop::local_group;
    return std::nullopt;
}

std::optional<GroupDrop> judge_sources(const std::vector<IpAddr>& sources)
{
    for (const auto& s : sources)
        if (!unicast(s))
            return GroupDrop::bad_source;
    return std::nullopt;
}

// Reads `n` addresses at `at`; false when they do not fit.
bool read_sources(Family f, Bytes b, size_t at, size_t n, std::vector<IpAddr>& out)
{
    // Bound the count by the body before reserving anything.
    if (n > (b.size() - std::min(at, b.size())) / addr_size(f))
        return false;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i)
        out.push_back(addr_at(f, b, at + i * addr_size(f)));
    return true;
}

// The v3 query's fields after the group (IGMP byte 8, MLD byte 24): flags,
// QQIC, source count and sources. The caller checked the fixed part fits.
GroupDecode decode_v3_query_tail(Family f, Bytes b, size_t at, GroupMessage m)
{
    m.version = GroupVersion::v3;
    m.suppress = (b[at] & 0x08) != 0;
    m.robustness = b[at] & 0x07;
    m.query_interval = decode_code8(b[at + 1]);
    if (!read_sources(f, b, at + 4, get16(b, at + 2), m.sources))
        return GroupDrop::truncated;
    return m;
}

GroupDecode judge_query(GroupMessage m)
{
    if (!m.group.is_unspecified() && (!m.group.is_multicast() || bad_scope(m.group)))
        return GroupDrop::bad_group;
    if (m.group.is_unspecified() && !m.sources.empty())
        return GroupDrop::bad_source; // RFC 3376 section 4.1.8: a general query has none
    if (auto d = judge_sources(m.sources))
        return *d;
    return m;
}

// The records of a v3 report (IGMP and MLD share the layout bar the
// address size), from byte 8 on.
GroupDecode decode_v3_report(Family f, Bytes b)
{
    GroupMessage m;
    m.kind = GroupMessage::Kind::report;
    m.version = GroupVersion::v3;
    m.group = IpAddr::any(f);
    size_t count = get16(b, 6);
    size_t at = igmp_v3_report_size;
    bool left_local = false;
    size_t record_head = 4 + addr_size(f);
    // Each record takes at least record_head bytes.
    if (count > (b.size() - at) / record_head)
        return GroupDrop::truncated;
    for (size_t i = 0; i < count; ++i) {
        if (b.size() - at < record_head)
            return GroupDrop::truncated;
        uint8_t type = b[at];
        size_t aux = static_cast<size_t>(b[at + 1]) * 4;
        size_t nsrc = get16(b, at + 2);
        GroupRecord r;
        r.group = addr_at(f, b, at + 4);
        if (!read_sources(f, b, at + record_head, nsrc, r.sources))
            return GroupDrop::truncated;
        at += record_head + nsrc * addr_size(f);
        if (b.size() - at < aux)
            return GroupDrop::truncated;
        at += aux;
        if (type < static_cast<uint8_t>(RecordType::is_include) || type > static_cast<uint8_t>(RecordType::block))
            continue; // RFC 3376 section 4.2.12, RFC 3810 section 5.2.12: ignored
        r.type = static_cast<RecordType>(type);
        if (auto d = judge_reported(r.group)) {
            if (*d != GroupDrop::local_group)
                return *d;
            left_local = true;
            continue;
        }
        if (auto d = judge_sources(r.sources))
            return *d;
        m.records.push_back(std::move(r));
    }
    if (m.records.empty() && left_local)
        return GroupDrop::local_group;
    return m;
}

GroupDecode single_group(GroupMessage::Kind kind, GroupVersion v, const IpAddr& group)
{
    if (auto d = judge_reported(group))
        return *d;
    GroupMessage m;
    m.kind = kind;
    m.version = v;
    m.group = group;
    return m;
}

bool other_igmp_type(uint8_t t)
{
    switch (t) {
    case 0x13: // DVMRP
    case 0x14: // PIMv1
    case 0x15: // Cisco trace
    case 0x1e: // mtrace response
    case 0x1f: // mtrace
    case mrdisc::igmp_advertisement:
    case mrdisc::igmp_solicitation:
    case mrdisc::igmp_termination:
        return true;
    default:
        return false;
    }
}

// The v3 tail of a query (from `at`): flags/QRV, QQIC, sources.
void put_v3_query_tail(std::vector<uint8_t>& b, Family f, const GroupMessage& m)
{
    uint8_t qrv = m.robustness <= qrv_max ? m.robustness : 0;
    b.push_back(static_cast<uint8_t>((m.suppress ? 0x08 : 0) | qrv));
    b.push_back(encode_code8(m.query_interval));
    size_t n = std::min<size_t>(m.sources.size(), 0xffff);
    b.push_back(static_cast<uint8_t>(n >> 8));
    b.push_back(static_cast<uint8_t>(n & 0xff));
    for (size_t i = 0; i < n; ++i)
        put_addr(b, f, m.sources[i]);
}

void put_v3_records(std::vector<uint8_t>& b, Family f, const GroupMessage& m)
{
    size_t n = std::min<size_t>(m.records.size(), 0xffff);
    put16(b, 6, static_cast<uint16_t>(n));
    for (size_t i = 0; i < n; ++i) {
        const auto& r = m.records[i];
        size_t nsrc = clamp16(r.sources.size());
        b.push_back(static_cast<uint8_t>(r.type));
        b.push_back(0); // no auxiliary data
        b.push_back(static_cast<uint8_t>(nsrc >> 8));
        b.push_back(static_cast<uint8_t>(nsrc & 0xff));
        put_addr(b, f, r.group);
        for (size_t s = 0; s < nsrc; ++s)
            put_addr(b, f, r.sources[s]);
    }
}

uint8_t max_resp_ds(std::chrono::milliseconds ms)
{
    return static_cast<uint8_t>(std::clamp<int64_t>(ms.count() / 100, 0, 0xff));
}

uint32_t to_u32(int64_t v)
{
    return static_cast<uint32_t>(std::clamp<int64_t>(v, 0, UINT32_MAX));
}

std::vector<uint8_t> mld_body(const GroupMessage& m)
{
    const Family f = Family::inet6;
    std::vector<uint8_t> b;
    if (m.kind == GroupMessage::Kind::report && m.version == GroupVersion::v3) {
        b.assign(mld_v2_report_size, 0);
        b[0] = mld_v2_report;
        put_v3_records(b, f, m);
        return b;
    }
    b.assign(mld_size, 0);
    switch (m.kind) {
    case GroupMessage::Kind::query:
        b[0] = mld_query;
        if (m.version == GroupVersion::v3) {
            put16(b, 4, encode_code16(to_u32(m.max_response.count())));
        } else {
            put16(b, 4, clamp16(static_cast<size_t>(std::max<int64_t>(m.max_response.count(), 0))));
        }
        break;
    case GroupMessage::Kind::report:
        b[0] = mld_v1_report;
        break;
    case GroupMessage::Kind::leave:
        b[0] = mld_v1_done;
        break;
    }
    put_addr_at(b, 8, f, m.group);
    if (m.kind == GroupMessage::Kind::query && m.version == GroupVersion::v3)
        put_v3_query_tail(b, f, m);
    return b;
}

} // namespace

std::string_view drop_reason_name(GroupDrop d)
{
    switch (d) {
    case GroupDrop::truncated: return "truncated";
    case GroupDrop::bad_length: return "bad_length";
    case GroupDrop::bad_checksum: return "bad_checksum";
    case GroupDrop::unknown_type: return "unknown_type";
    case GroupDrop::not_membership: return "not_membership";
    case GroupDrop::bad_group: return "bad_group";
    case GroupDrop::bad_source: return "bad_source";
    case GroupDrop::local_group: return "local_group";
    }
    return "?";
}

bool drop_is_malformed(GroupDrop d)
{
    switch (d) {
    case GroupDrop::truncated:
    case GroupDrop::bad_length:
    case GroupDrop::bad_checksum:
    case GroupDrop::bad_group:
    case GroupDrop::bad_source:
        return true;
    case GroupDrop::unknown_type:
    case GroupDrop::not_membership:
    case GroupDrop::local_group:
        return false;
    }
    return true;
}

namespace {

// RFC 3376 4.1.1/4.1.7 (8 bits, M = 4) and RFC 3810 5.1.3 (16 bits, M = 12):
// below 2^(M+3) the code is the value; above, 1 | exp (3 bits) | mant (M
// bits) stands for (mant | 2^M) << (exp + 3).
template <unsigned M>
constexpr uint32_t decode_float(uint32_t code)
{
    constexpr uint32_t top = 1u << (M + 3);
    if (code < top)
        return code;
    unsigned exp = (code >> M) & 0x07;
    uint32_t mant = code & ((1u << M) - 1);
    return (mant | (1u << M)) << (exp + 3);
}

// The largest representable value not above value (all ones past the top).
template <unsigned M>
constexpr uint32_t encode_float(uint32_t value)
{
    constexpr uint32_t top = 1u << (M + 3);
    constexpr uint32_t max = ((1u << (M + 1)) - 1) << (7 + 3);
    if (value < top)
        return value;
    if (value >= max)
        return (1u << (M + 4)) - 1;
    // value in [2^(M+3+exp), 2^(M+4+exp)): its top M + 1 bits are 1m...m.
    unsigned exp = static_cast<unsigned>(std::bit_width(value)) - (M + 4);
    uint32_t mant = (value >> (exp + 3)) & ((1u << M) - 1);
    return top | (exp << M) | mant;
}

static_assert(decode_float<4>(0xff) == group_wire::code8_max && decode_float<12>(0xffff) == group_wire::code16_max);

} // namespace

uint32_t decode_code8(uint8_t code) { return decode_float<4>(code); }

uint8_t encode_code8(uint32_t value) { return static_cast<uint8_t>(encode_float<4>(value)); }

uint32_t decode_code16(uint16_t code) { return decode_float<12>(code); }

uint16_t encode_code16(uint32_t value) { return static_cast<uint16_t>(encode_float<12>(value)); }

GroupDecode decode_igmp(Bytes b)
{
    if (b.empty())
        return GroupDrop::truncated;
    uint8_t type = b[0];
    switch (type) {
    case igmp_query:
    case igmp_v1_report:
    case igmp_v2_report:
    case igmp_v2_leave:
    case igmp_v3_report:
        break;
    default:
        return other_igmp_type(type) ? GroupDrop::not_membership : GroupDrop::unknown_type;
    }
    if (b.size() < igmp_size)
        return GroupDrop::truncated;
    if (type == igmp_query && b.size() > igmp_size && b.size() < igmp_v3_query_size)
        return GroupDrop::bad_length; // RFC 3376 section 7.1
    // Structure first (so a cut message says truncated), then the checksum,
    // then the addresses.
    GroupDecode out = GroupDrop::truncated;
    IpAddr group = addr_at(Family::inet, b, 4);
    switch (type) {
    case igmp_query: {
        GroupMessage m;
        m.kind = GroupMessage::Kind::query;
        m.group = group;
        if (b.size() >= igmp_v3_query_size) {
            m.max_response = std::chrono::milliseconds(decode_code8(b[1]) * 100);
            out = decode_v3_query_tail(Family::inet, b, 8, std::move(m));
        } else if (b[1] == 0) {
            m.version = GroupVersion::v1;
            m.group = IpAddr::any(Family::inet); // RFC 1112: ignored on receipt
            m.max_response = igmp_v1_max_response;
            out = std::move(m);
        } else {
            m.version = GroupVersion::v2;
            m.max_response = std::chrono::milliseconds(b[1] * 100);
            out = std::move(m);
        }
        break;
    }
    case igmp_v3_report:
        out = decode_v3_report(Family::inet, b);
        break;
    default:
        out = GroupMessage{}; // the single-group kinds: judged below
        break;
    }
    if (!out && out.drop() == GroupDrop::truncated)
        return out;
    if (internet_checksum(b) != 0)
        return GroupDrop::bad_checksum;
    switch (type) {
    case igmp_query:
        return out ? judge_query(std::move(out.message())) : out;
    case igmp_v1_report:
        return single_group(GroupMessage::Kind::report, GroupVersion::v1, group);
    case igmp_v2_report:
        return single_group(GroupMessage::Kind::report, GroupVersion::v2, group);
    case igmp_v2_leave:
        return single_group(GroupMessage::Kind::leave, GroupVersion::v2, group);
    default:
        return out;
    }
}

GroupDecode decode_mld(Bytes b)
{
    if (b.empty())
        return GroupDrop::truncated;
    const Family f = Family::inet6;
    uint8_t type = b[0];
    if (type == mld_v2_report) {
        if (b.size() < mld_v2_report_size)
            return GroupDrop::truncated;
        return decode_v3_report(f, b);
    }
    if (type != mld_query && type != mld_v1_report && type != mld_v1_done)
        return GroupDrop::not_membership;
    if (b.size() < mld_size)
        return GroupDrop::truncated;
    IpAddr group = addr_at(f, b, 8);
    if (type == mld_v1_report)
        return single_group(GroupMessage::Kind::report, GroupVersion::v2, group);
    if (type == mld_v1_done)
        return single_group(GroupMessage::Kind::leave, GroupVersion::v2, group);
    if (b.size() > mld_size && b.size() < mld_v2_query_size)
        return GroupDrop::bad_length; // RFC 3810 section 8.1
    GroupMessage m;
    m.kind = GroupMessage::Kind::query;
    m.group = group;
    uint16_t code = get16(b, 4);
    if (b.size() == mld_size) {
        m.version = GroupVersion::v2;
        m.max_response = std::chrono::milliseconds(code);
        return judge_query(std::move(m));
    }
    m.max_response = std::chrono::milliseconds(decode_code16(code));
    auto out = decode_v3_query_tail(f, b, mld_size, std::move(m));
    return out ? judge_query(std::move(out.message())) : out;
}

std::vector<uint8_t> encode_igmp(const GroupMessage& m)
{
    const Family f = Family::inet;
    std::vector<uint8_t> b;
    if (m.kind == GroupMessage::Kind::report && m.version == GroupVersion::v3) {
        b.assign(igmp_v3_report_size, 0);
        b[0] = igmp_v3_report;
        put_v3_records(b, f, m);
    } else {
        b.assign(igmp_size, 0);
        switch (m.kind) {
        case GroupMessage::Kind::query:
            b[0] = igmp_query;
            if (m.version == GroupVersion::v3)
                b[1] = encode_code8(to_u32(m.max_response.count() / 100));
            else if (m.version == GroupVersion::v2)
                b[1] = std::max<uint8_t>(max_resp_ds(m.max_response), 1); // 0 would say IGMPv1
            if (m.version != GroupVersion::v1)
                put_addr_at(b, 4, f, m.group);
            if (m.version == GroupVersion::v3)
                put_v3_query_tail(b, f, m);
            break;
        case GroupMessage::Kind::report:
            b[0] = m.version == GroupVersion::v1 ? igmp_v1_report : igmp_v2_report;
            put_addr_at(b, 4, f, m.group);
            break;
        case GroupMessage::Kind::leave:
            b[0] = igmp_v2_leave;
            put_addr_at(b, 4, f, m.group);
            break;
        }
    }
    put16(b, 2, internet_checksum(b));
    return b;
}

std::vector<uint8_t> encode_mld(const GroupMessage& m)
{
    return mld_body(m);
}

std::vector<uint8_t> encode_mld6(const in6_addr& src, const in6_addr& dst, const GroupMessage& m)
{
    auto b = mld_body(m);
    put16(b, 2, icmp6_checksum(src, dst, b));
    return b;
}

IpAddr group_all_systems(Family f)
{
    return *IpAddr::parse(f == Family::inet ? "224.0.0.1" : "ff02::1");
}

IpAddr group_all_routers(Family f)
{
    return mrdisc_all_routers(f);
}

IpAddr group_v3_reports(Family f)
{
    return *IpAddr::parse(f == Family::inet ? "224.0.0.22" : "ff02::16");
}

IpAddr group_destination(Family f, const GroupMessage& m)
{
    switch (m.kind) {
    case GroupMessage::Kind::query:
        return m.group.is_unspecified() ? group_all_systems(f) : m.group;
    case GroupMessage::Kind::report:
        return m.version == GroupVersion::v3 ? group_v3_reports(f) : m.group;
    case GroupMessage::Kind::leave:
        return group_all_routers(f);
    }
    return group_all_systems(f);
}

} // namespace smcroute

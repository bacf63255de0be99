// Tests for model/group_packet: the floating point codes at every boundary,
// every IGMP and MLD message kind against bytes written out by hand from the
// RFC layouts (checksums worked out by hand or by a separate plain sum),
// truncation at every byte, checksums, group and source validation, hostile
// counts, auxiliary data, and round trips.
#include "smcroute/model/group_packet.hpp"
#include "smcroute/model/mrdisc_packet.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <set>
#include <string>
#include <vector>

using namespace smcroute;
using namespace std::chrono_literals;

namespace {

using Kind = GroupMessage::Kind;
using Bytes = std::vector<uint8_t>;

Bytes v(std::initializer_list<int> bytes)
{
    Bytes out;
    for (int b : bytes)
        out.push_back(static_cast<uint8_t>(b));
    return out;
}

Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

IpAddr ip(const char* text)
{
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a) << text;
    return a.value_or(IpAddr{});
}

// The address's wire bytes (4 or 16).
Bytes ab(const char* text)
{
    IpAddr a = ip(text);
    return Bytes(a.bytes().begin(), a.bytes().begin() + (a.is_v4() ? 4 : 16));
}

in6_addr a6(const char* text)
{
    in6_addr a{};
    EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1) << text;
    return a;
}

// A second, deliberately plain checksum: the 16-bit words summed in 64 bits,
// folded, complemented, written at bytes 2-3 (which must be zero).
Bytes with_cs(Bytes b)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < b.size(); i += 2)
        sum += (uint64_t(b[i]) << 8) + (i + 1 < b.size() ? b[i + 1] : 0);
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t cs = static_cast<uint16_t>(~sum & 0xffff);
    b[2] = static_cast<uint8_t>(cs >> 8);
    b[3] = static_cast<uint8_t>(cs & 0xff);
    return b;
}

GroupMessage query(GroupVersion ver, const char* group, std::chrono::milliseconds mr)
{
    GroupMessage m;
    m.kind = Kind::query;
    m.version = ver;
    m.group = ip(group);
    m.max_response = mr;
    return m;
}

GroupMessage single(Kind k, GroupVersion ver, const char* group)
{
    GroupMessage m;
    m.kind = k;
    m.version = ver;
    m.group = ip(group);
    return m;
}

GroupRecord rec(RecordType t, const char* group, std::initializer_list<const char*> sources = {})
{
    GroupRecord r;
    r.type = t;
    r.group = ip(group);
    for (const char* s : sources)
        r.sources.push_back(ip(s));
    return r;
}

GroupMessage v3report(std::initializer_list<GroupRecord> records)
{
    GroupMessage m;
    m.kind = Kind::report;
    m.version = GroupVersion::v3;
    m.records = records;
    m.group = IpAddr::any(m.records.empty() ? Family::inet : m.records[0].group.family());
    return m;
}

GroupDecode decode(Family f, const Bytes& b)
{
    // A copy of exactly the bytes, so ASan sees any read past them.
    auto exact = std::make_unique<uint8_t[]>(b.size() + 1);
    std::copy(b.begin(), b.end(), exact.get());
    std::span<const uint8_t> s(exact.get(), b.size());
    return f == Family::inet ? decode_igmp(s) : decode_mld(s);
}

GroupMessage ok(Family f, const Bytes& b)
{
    auto d = decode(f, b);
    EXPECT_TRUE(d.ok()) << "dropped: " << (d.ok() ? "" : drop_reason_name(d.drop()));
    return d.ok() ? d.message() : GroupMessage{};
}

std::string dropped(Family f, const Bytes& b)
{
    auto d = decode(f, b);
    return d.ok() ? "decoded" : std::string(drop_reason_name(d.drop()));
}

Bytes encode(Family f, const GroupMessage& m)
{
    return f == Family::inet ? encode_igmp(m) : encode_mld(m);
}

// ---- the wire images, written from the RFC figures

// RFC 3376 section 4.1: IGMPv3 query, 239.1.2.3, Max Resp Code 0x8c
// (exp 0, mant 12: 28 << 3 = 224 = 22.4 s), S set, QRV 2, QQIC 125,
// sources 10.0.0.1 and 10.0.0.2.
Bytes igmp_v3_query_bytes()
{
    return with_cs(cat({v({0x11, 0x8c, 0, 0}), ab("239.1.2.3"), v({0x0a, 125, 0x00, 0x02}), ab("10.0.0.1"),
                        ab("10.0.0.2")}));
}

// RFC 3376 section 4.2: IGMPv3 report with two records; the first carries
// one word of auxiliary data.
Bytes igmp_v3_report_bytes()
{
    return with_cs(cat({v({0x22, 0, 0, 0, 0, 0, 0x00, 0x02}),
                        v({4, 1, 0x00, 0x01}), ab("232.1.1.1"), ab("10.1.1.1"), v({0xde, 0xad, 0xbe, 0xef}),
                        v({2, 0, 0x00, 0x00}), ab("239.9.9.9")}));
}

GroupMessage igmp_v3_report_message()
{
    return v3report({rec(RecordType::to_exclude, "232.1.1.1", {"10.1.1.1"}), rec(RecordType::is_exclude, "239.9.9.9")});
}

// RFC 3810 section 5.1: MLDv2 query for ff0e::1:3, Maximum Response Code
// 0x8001 ((0x1000 | 1) << 3 = 32776 ms), QRV 3, QQIC 0x84 ((16 | 4) << 3 =
// 160 s), one source.
Bytes mld_v2_query_bytes()
{
    return cat({v({130, 0, 0, 0, 0x80, 0x01, 0, 0}), ab("ff0e::1:3"), v({0x03, 0x84, 0x00, 0x01}),
                ab("2001:db8::7")});
}

// RFC 3810 section 5.2: MLDv2 report, two records, the second with two
// words of auxiliary data.
Bytes mld_v2_report_bytes()
{
    return cat({v({143, 0, 0, 0, 0, 0, 0x00, 0x02}), v({1, 0, 0x00, 0x02}), ab("ff05::1:3"), ab("2001:db8::1"),
                ab("2001:db8::2"), v({6, 2, 0x00, 0x00}), ab("ff3e::8000:1"), v({1, 2, 3, 4, 5, 6, 7, 8})});
}

GroupMessage mld_v2_report_message()
{
    return v3report({rec(RecordType::is_include, "ff05::1:3", {"2001:db8::1", "2001:db8::2"}),
                     rec(RecordType::block, "ff3e::8000:1")});
}

struct Case {
    const char* name;
    Family f;
    Bytes bytes;
};

// One valid image of every message kind of both families.
std::vector<Case> every_kind()
{
    return {
        {"igmp v1 query", Family::inet, with_cs(v({0x11, 0, 0, 0, 0, 0, 0, 0}))},
        {"igmp v2 query", Family::inet, with_cs(cat({v({0x11, 100, 0, 0}), ab("239.1.2.3")}))},
        {"igmp v3 query", Family::inet, igmp_v3_query_bytes()},
        {"igmp v1 report", Family::inet, with_cs(cat({v({0x12, 0, 0, 0}), ab("239.1.2.3")}))},
        {"igmp v2 report", Family::inet, with_cs(cat({v({0x16, 0, 0, 0}), ab("239.1.2.3")}))},
        {"igmp leave", Family::inet, with_cs(cat({v({0x17, 0, 0, 0}), ab("239.1.2.3")}))},
        {"igmp v3 report", Family::inet, igmp_v3_report_bytes()},
        {"mld v1 query", Family::inet6, cat({v({130, 0, 0, 0, 0x27, 0x10, 0, 0}), ab("ff0e::1:3")})},
        {"mld v2 query", Family::inet6, mld_v2_query_bytes()},
        {"mld v1 report", Family::inet6, cat({v({131, 0, 0, 0, 0, 0, 0, 0}), ab("ff0e::1:3")})},
        {"mld done", Family::inet6, cat({v({132, 0, 0, 0, 0, 0, 0, 0}), ab("ff0e::1:3")})},
        {"mld v2 report", Family::inet6, mld_v2_report_bytes()},
    };
}

} // namespace

// ---------------------------------------------------------------- codes

TEST(GroupPacketCodes, Code8Boundaries)
{
    // Below 128 the value itself.
    for (uint32_t x : {0u, 1u, 100u, 127u}) {
        EXPECT_EQ(encode_code8(x), x);
        EXPECT_EQ(decode_code8(static_cast<uint8_t>(x)), x);
    }
    // 1 000 0000: (0 | 0x10) << 3 = 128, continuing the linear range.
    EXPECT_EQ(decode_code8(0x80), 128u);
    EXPECT_EQ(encode_code8(128), 0x80);
    // 1 000 1111: 31 << 3 = 248; 1 001 0000: 16 << 4 = 256.
    EXPECT_EQ(decode_code8(0x8f), 248u);
    EXPECT_EQ(decode_code8(0x90), 256u);
    // Rounding down: 129..135 -> 128, 255 -> 248, 256 -> 256.
    EXPECT_EQ(encode_code8(129), 0x80);
    EXPECT_EQ(encode_code8(135), 0x80);
    EXPECT_EQ(encode_code8(136), 0x81);
    EXPECT_EQ(encode_code8(255), 0x8f);
    EXPECT_EQ(encode_code8(256), 0x90);
    // RFC 3376's largest: 1 111 1111 = 31 << 10 = 31744; then saturation.
    EXPECT_EQ(decode_code8(0xff), 31744u);
    EXPECT_EQ(group_wire::code8_max, 31744u);
    EXPECT_EQ(encode_code8(31744), 0xff);
    EXPECT_EQ(encode_code8(31743), 0xfe);
    EXPECT_EQ(decode_code8(0xfe), 30720u);
    EXPECT_EQ(encode_code8(31745), 0xff);
    EXPECT_EQ(encode_code8(1000000), 0xff);
    EXPECT_EQ(encode_code8(UINT32_MAX), 0xff);
    // 125 (the default QQIC) and 3174.4 s in tenths (the config's limit).
    EXPECT_EQ(encode_code8(125), 125);
    EXPECT_EQ(decode_code8(encode_code8(31744)), 31744u);
}

TEST(GroupPacketCodes, Code8EveryCodeAndValue)
{
    for (unsigned c = 0; c < 256; ++c) {
        EXPECT_EQ(encode_code8(decode_code8(static_cast<uint8_t>(c))), c) << c;
        if (c > 0)
            EXPECT_LT(decode_code8(static_cast<uint8_t>(c - 1)), decode_code8(static_cast<uint8_t>(c))) << c;
    }
    // The largest representable value not above x.
    for (uint32_t x = 0; x <= 40000; ++x) {
        uint8_t c = encode_code8(x);
        ASSERT_LE(decode_code8(c), x) << x;
        if (c < 0xff)
            ASSERT_GT(decode_code8(static_cast<uint8_t>(c + 1)), x) << x;
    }
}

TEST(GroupPacketCodes, Code16Boundaries)
{
    for (uint32_t x : {0u, 1u, 10000u, 32767u}) {
        EXPECT_EQ(encode_code16(x), x);
        EXPECT_EQ(decode_code16(static_cast<uint16_t>(x)), x);
    }
    // 1 000 0000 0000 0000: 0x1000 << 3 = 32768.
    EXPECT_EQ(decode_code16(0x8000), 32768u);
    EXPECT_EQ(encode_code16(32768), 0x8000);
    EXPECT_EQ(decode_code16(0x8001), 32776u);
    EXPECT_EQ(encode_code16(32775), 0x8000);
    EXPECT_EQ(encode_code16(32776), 0x8001);
    EXPECT_EQ(decode_code16(0x8fff), 0x1fffu << 3);
    EXPECT_EQ(decode_code16(0x9000), 0x1000u << 4);
    EXPECT_EQ(encode_code16(65535), 0x8fff);
    EXPECT_EQ(encode_code16(65536), 0x9000);
    // 31744 fits the linear range here.
    EXPECT_EQ(encode_code16(31744), 31744);
    EXPECT_EQ(decode_code16(0xffff), 8387584u);
    EXPECT_EQ(group_wire::code16_max, 8387584u);
    EXPECT_EQ(encode_code16(8387584), 0xffff);
    EXPECT_EQ(encode_code16(8387583), 0xfffe);
    EXPECT_EQ(encode_code16(8387585), 0xffff);
    EXPECT_EQ(encode_code16(UINT32_MAX), 0xffff);
}

TEST(GroupPacketCodes, Code16EveryCodeAndValue)
{
    for (uint32_t c = 0; c < 65536; ++c) {
        ASSERT_EQ(encode_code16(decode_code16(static_cast<uint16_t>(c))), c) << c;
        if (c > 0)
            ASSERT_LT(decode_code16(static_cast<uint16_t>(c - 1)), decode_code16(static_cast<uint16_t>(c))) << c;
    }
    for (uint32_t x = 0; x <= 8400000; x += (x < 70000 ? 1 : 7)) {
        uint16_t c = encode_code16(x);
        ASSERT_LE(decode_code16(c), x) << x;
        if (c < 0xffff)
            ASSERT_GT(decode_code16(static_cast<uint16_t>(c + 1)), x) << x;
    }
}

// ---------------------------------------------------------------- IGMP

TEST(GroupPacketIgmp, V1Query)
{
    // RFC 1112 appendix I: type 0x11, unused 0, checksum, group 0.
    Bytes b = v({0x11, 0x00, 0xee, 0xff, 0, 0, 0, 0});
    auto m = ok(Family::inet, b);
    EXPECT_EQ(m.kind, Kind::query);
    EXPECT_EQ(m.version, GroupVersion::v1);
    EXPECT_TRUE(m.group.is_unspecified());
    EXPECT_EQ(m.max_response, 10s);
    EXPECT_EQ(encode_igmp(m), b);
    // The group field of a v1 query is ignored on receipt (RFC 1112).
    m = ok(Family::inet, with_cs(cat({v({0x11, 0, 0, 0}), ab("239.1.1.1")})));
    EXPECT_TRUE(m.group.is_unspecified());
    // Only a general query is v1: the encoder writes no group or time.
    auto g = query(GroupVersion::v1, "239.1.1.1", 3s);
    EXPECT_EQ(encode_igmp(g), b);
}

TEST(GroupPacketIgmp, V2Queries)
{
    // General query, Max Resp Time 100 (10 s): 0x1164 -> checksum 0xee9b.
    Bytes general = v({0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0});
    auto m = ok(Family::inet, general);
    EXPECT_EQ(m, query(GroupVersion::v2, "0.0.0.0", 10s));
    EXPECT_EQ(encode_igmp(m), general);
    // Group-specific, 1 s: 0x110a + 0xef01 + 0x0203 = 0x1020e -> 0x020f -> ~ 0xfdf0.
    Bytes specific = v({0x11, 0x0a, 0xfd, 0xf0, 239, 1, 2, 3});
    m = ok(Family::inet, specific);
    EXPECT_EQ(m, query(GroupVersion::v2, "239.1.2.3", 1s));
    EXPECT_EQ(encode_igmp(m), specific);
    // 25.5 s, the largest; larger values are clamped to it.
    EXPECT_EQ(ok(Family::inet, with_cs(v({0x11, 0xff, 0, 0, 0, 0, 0, 0}))).max_response, 25500ms);
    EXPECT_EQ(encode_igmp(query(GroupVersion::v2, "0.0.0.0", 60s))[1], 0xff);
    // Below 100 ms: 1 (0 would make it an IGMPv1 query).
    EXPECT_EQ(encode_igmp(query(GroupVersion::v2, "0.0.0.0", 50ms))[1], 1);
}

TEST(GroupPacketIgmp, V3Query)
{
    auto m = ok(Family::inet, igmp_v3_query_bytes());
    auto want = query(GroupVersion::v3, "239.1.2.3", 22400ms);
    want.suppress = true;
    want.robustness = 2;
    want.query_interval = 125;
    want.sources = {ip("10.0.0.1"), ip("10.0.0.2")};
    EXPECT_EQ(m, want);
    EXPECT_EQ(encode_igmp(want), igmp_v3_query_bytes());
    // The default general query: 10 s, QRV 2, QQIC 125: 0x1164 + 0x027d =
    // 0x13e1 -> checksum 0xec1e.
    auto general = query(GroupVersion::v3, "0.0.0.0", 10s);
    general.robustness = 2;
    general.query_interval = 125;
    Bytes gb = v({0x11, 0x64, 0xec, 0x1e, 0, 0, 0, 0, 0x02, 0x7d, 0, 0});
    EXPECT_EQ(encode_igmp(general), gb);
    EXPECT_EQ(ok(Family::inet, gb), general);
    // The reserved bits above S are ignored; QQIC 0x80 = 128 s; 0 Max Resp
    // Code stays a v3 query at this length.
    Bytes r = with_cs(v({0x11, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0x80, 0, 0}));
    m = ok(Family::inet, r);
    EXPECT_EQ(m.version, GroupVersion::v3);
    EXPECT_EQ(m.max_response, 0ms);
    EXPECT_TRUE(m.suppress);
    EXPECT_EQ(m.robustness, 7);
    EXPECT_EQ(m.query_interval, 128u);
}

TEST(GroupPacketIgmp, V3QueryEncodingRounds)
{
    auto m = query(GroupVersion::v3, "0.0.0.0", 3174400ms); // 31744 tenths: 0xff
    m.query_interval = 31744;
    m.robustness = 8; // above 7: QRV 0 (RFC 3376 section 4.1.6)
    auto b = encode_igmp(m);
    EXPECT_EQ(b[1], 0xff);
    EXPECT_EQ(b[8], 0x00);
    EXPECT_EQ(b[9], 0xff);
    m.max_response = 25550ms; // 255.5 tenths -> 255 -> 248 (0x8f)
    m.query_interval = 130;    // -> 128 (0x80)
    b = encode_igmp(m);
    EXPECT_EQ(b[1], 0x8f);
    EXPECT_EQ(b[9], 0x80);
    auto back = ok(Family::inet, b);
    EXPECT_EQ(back.max_response, 24800ms);
    EXPECT_EQ(back.query_interval, 128u);
}

TEST(GroupPacketIgmp, ReportsAndLeave)
{
    // 0x1600 + 0xef01 + 0x0203 = 0x10704 -> 0x0705 -> ~ 0xf8fa.
    Bytes v2 = v({0x16, 0x00, 0xf8, 0xfa, 239, 1, 2, 3});
    EXPECT_EQ(ok(Family::inet, v2), single(Kind::report, GroupVersion::v2, "239.1.2.3"));
    EXPECT_EQ(encode_igmp(single(Kind::report, GroupVersion::v2, "239.1.2.3")), v2);
    Bytes v1 = with_cs(cat({v({0x12, 0, 0, 0}), ab("225.1.2.3")}));
    EXPECT_EQ(ok(Family::inet, v1), single(Kind::report, GroupVersion::v1, "225.1.2.3"));
    EXPECT_EQ(encode_igmp(single(Kind::report, GroupVersion::v1, "225.1.2.3")), v1);
    Bytes leave = with_cs(cat({v({0x17, 0, 0, 0}), ab("239.1.2.3")}));
    EXPECT_EQ(ok(Family::inet, leave), single(Kind::leave, GroupVersion::v2, "239.1.2.3"));
    EXPECT_EQ(encode_igmp(single(Kind::leave, GroupVersion::v2, "239.1.2.3")), leave);
    // A leave is an IGMPv2 Leave whatever the version says.
    EXPECT_EQ(encode_igmp(single(Kind::leave, GroupVersion::v3, "239.1.2.3")), leave);
}

TEST(GroupPacketIgmp, V3ReportWithAuxData)
{
    EXPECT_EQ(ok(Family::inet, igmp_v3_report_bytes()), igmp_v3_report_message());
    // Our encoder writes no auxiliary data: the same records without the word.
    Bytes plain = with_cs(cat({v({0x22, 0, 0, 0, 0, 0, 0x00, 0x02}), v({4, 0, 0x00, 0x01}), ab("232.1.1.1"),
                               ab("10.1.1.1"), v({2, 0, 0x00, 0x00}), ab("239.9.9.9")}));
    EXPECT_EQ(encode_igmp(igmp_v3_report_message()), plain);
    EXPECT_EQ(ok(Family::inet, plain), igmp_v3_report_message());
    // No records at all is a (useless) valid report.
    Bytes empty = with_cs(v({0x22, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(ok(Family::inet, empty), v3report({}));
    EXPECT_EQ(encode_igmp(v3report({})), empty);
}

TEST(GroupPacketIgmp, EveryRecordType)
{
    for (int t = 1; t <= 6; ++t) {
        auto m = v3report({rec(static_cast<RecordType>(t), "239.1.1.1", {"10.0.0.1"})});
        auto b = encode_igmp(m);
        EXPECT_EQ(b[8], t);
        EXPECT_EQ(ok(Family::inet, b), m) << t;
    }
}

TEST(GroupPacketIgmp, UnknownRecordTypesAreSkipped)
{
    // Types 0 and 7 are not defined: ignored, the records around them kept.
    Bytes b = with_cs(cat({v({0x22, 0, 0, 0, 0, 0, 0x00, 0x03}), v({0, 0, 0, 1}), ab("239.1.1.1"), ab("10.0.0.1"),
                           v({5, 0, 0, 1}), ab("239.2.2.2"), ab("10.0.0.2"), v({7, 1, 0, 0}), ab("239.3.3.3"),
                           v({9, 9, 9, 9})}));
    EXPECT_EQ(ok(Family::inet, b), v3report({rec(RecordType::allow, "239.2.2.2", {"10.0.0.2"})}));
}

TEST(GroupPacketIgmp, TrailingBytesAreIgnored)
{
    // RFC 2236 section 2.5 / RFC 3376 section 4.1.10: longer messages are
    // accepted, the checksum covers the whole body.
    Bytes b = with_cs(cat({v({0x16, 0, 0, 0}), ab("239.1.2.3"), v({1, 2, 3, 4, 5})}));
    EXPECT_EQ(ok(Family::inet, b), single(Kind::report, GroupVersion::v2, "239.1.2.3"));
    b = with_cs(cat({igmp_v3_query_bytes(), v({0xaa, 0xbb})}));
    b[2] = b[3] = 0;
    b = with_cs(b);
    EXPECT_EQ(ok(Family::inet, b).sources.size(), 2u);
    b = igmp_v3_report_bytes();
    b.insert(b.end(), {0xaa, 0xbb, 0xcc});
    b[2] = b[3] = 0;
    EXPECT_EQ(ok(Family::inet, with_cs(b)), igmp_v3_report_message());
}

TEST(GroupPacketIgmp, BadChecksum)
{
    for (const auto& c : every_kind()) {
        if (c.f != Family::inet)
            continue;
        for (size_t at : {size_t{2}, size_t{3}, size_t{5}, c.bytes.size() - 1}) {
            Bytes b = c.bytes;
            b[at] ^= 0x10;
            EXPECT_EQ(dropped(Family::inet, b), "bad_checksum") << c.name << " byte " << at;
        }
    }
    // A checksum of 0 where one is due.
    Bytes b = with_cs(cat({v({0x16, 0, 0, 0}), ab("239.1.2.3")}));
    b[2] = b[3] = 0;
    EXPECT_EQ(dropped(Family::inet, b), "bad_checksum");
}

TEST(GroupPacketIgmp, QueryLengths)
{
    // RFC 3376 section 7.1: 8 bytes v1/v2, 12 or more v3, 9-11 ignored.
    for (size_t n : {9u, 10u, 11u}) {
        Bytes b(n, 0);
        b[0] = 0x11;
        b[1] = 100;
        EXPECT_EQ(dropped(Family::inet, with_cs(b)), "bad_length") << n;
    }
}

TEST(GroupPacketIgmp, Types)
{
    // DVMRP, PIMv1, Cisco trace, mtrace, MRD: another protocol's.
    for (int t : {0x13, 0x14, 0x15, 0x1e, 0x1f, 0x30, 0x31, 0x32})
        EXPECT_EQ(dropped(Family::inet, with_cs(v({t, 0, 0, 0, 0, 0, 0, 0}))), "not_membership") << t;
    // Not even MRD's 4-byte solicitation is truncated for us.
    EXPECT_EQ(dropped(Family::inet, v({0x31, 0, 0xce, 0xff})), "not_membership");
    for (int t : {0x00, 0x10, 0x18, 0x21, 0x23, 0x40, 0xff})
        EXPECT_EQ(dropped(Family::inet, with_cs(v({t, 0, 0, 0, 0, 0, 0, 0}))), "unknown_type") << t;
    // ICMPv6 numbers mean nothing in IGMP.
    EXPECT_EQ(dropped(Family::inet, with_cs(v({130, 0, 0, 0, 0, 0, 0, 0}))), "unknown_type");
    EXPECT_EQ(dropped(Family::inet, {}), "truncated");
}

TEST(GroupPacketIgmp, Groups)
{
    auto report = [](int type, const char* g) { return with_cs(cat({v({type, 0, 0, 0}), ab(g)})); };
    for (int t : {0x12, 0x16, 0x17}) {
        EXPECT_EQ(dropped(Family::inet, report(t, "10.0.0.1")), "bad_group") << t;
        EXPECT_EQ(dropped(Family::inet, report(t, "0.0.0.0")), "bad_group") << t;
        EXPECT_EQ(dropped(Family::inet, report(t, "255.255.255.255")), "bad_group") << t;
        EXPECT_EQ(dropped(Family::inet, report(t, "224.0.0.1")), "local_group") << t;
        EXPECT_EQ(dropped(Family::inet, report(t, "224.0.0.251")), "local_group") << t;
        EXPECT_EQ(dropped(Family::inet, report(t, "224.0.1.1")), "decoded") << t;
        EXPECT_EQ(dropped(Family::inet, report(t, "239.255.255.255")), "decoded") << t;
    }
    // Queries: unspecified or multicast (a v1 query's group is ignored).
    auto v2q = [](const char* g) { return with_cs(cat({v({0x11, 100, 0, 0}), ab(g)})); };
    EXPECT_EQ(dropped(Family::inet, v2q("10.0.0.1")), "bad_group");
    EXPECT_EQ(dropped(Family::inet, v2q("224.0.0.5")), "decoded");
    EXPECT_EQ(dropped(Family::inet, report(0x11, "10.0.0.1")), "decoded");
    Bytes v3q = with_cs(cat({v({0x11, 100, 0, 0}), ab("192.168.1.1"), v({2, 125, 0, 0})}));
    EXPECT_EQ(dropped(Family::inet, v3q), "bad_group");
}

TEST(GroupPacketIgmp, Sources)
{
    auto q = [](const char* group, const char* source) {
        return with_cs(cat({v({0x11, 100, 0, 0}), ab(group), v({2, 125, 0, 1}), ab(source)}));
    };
    EXPECT_EQ(dropped(Family::inet, q("232.1.1.1", "10.0.0.1")), "decoded");
    EXPECT_EQ(dropped(Family::inet, q("232.1.1.1", "0.0.0.0")), "bad_source");
    EXPECT_EQ(dropped(Family::inet, q("232.1.1.1", "225.0.0.1")), "bad_source");
    EXPECT_EQ(dropped(Family::inet, q("232.1.1.1", "255.255.255.255")), "bad_source");
    // RFC 3376 section 4.1.8: a general query names no sources.
    EXPECT_EQ(dropped(Family::inet, q("0.0.0.0", "10.0.0.1")), "bad_source");
    auto r = [](const char* source) {
        return with_cs(cat({v({0x22, 0, 0, 0, 0, 0, 0, 1}), v({1, 0, 0, 1}), ab("232.1.1.1"), ab(source)}));
    };
    EXPECT_EQ(dropped(Family::inet, r("10.0.0.1")), "decoded");
    EXPECT_EQ(dropped(Family::inet, r("239.0.0.1")), "bad_source");
    EXPECT_EQ(dropped(Family::inet, r("0.0.0.0")), "bad_source");
}

TEST(GroupPacketIgmp, V3ReportGroups)
{
    auto r = [](std::initializer_list<const char*> groups) {
        Bytes b = v({0x22, 0, 0, 0, 0, 0, 0, static_cast<int>(groups.size())});
        for (const char* g : groups)
            b = cat({b, v({2, 0, 0, 0}), ab(g)});
        return with_cs(b);
    };
    // A local group among others is left out; alone, the report is local.
    EXPECT_EQ(ok(Family::inet, r({"224.0.0.251", "239.1.1.1"})),
              v3report({rec(RecordType::is_exclude, "239.1.1.1")}));
    EXPECT_EQ(dropped(Family::inet, r({"224.0.0.251"})), "local_group");
    EXPECT_EQ(dropped(Family::inet, r({"224.0.0.251", "224.0.0.252"})), "local_group");
    // A bad group anywhere drops the report.
    EXPECT_EQ(dropped(Family::inet, r({"239.1.1.1", "10.0.0.1"})), "bad_group");
    EXPECT_EQ(dropped(Family::inet, r({"0.0.0.0"})), "bad_group");
}

TEST(GroupPacketIgmp, HostileCounts)
{
    // A v3 query claiming 65535 sources in a 16-byte body.
    Bytes q = with_cs(cat({v({0x11, 100, 0, 0}), ab("232.1.1.1"), v({2, 125, 0xff, 0xff}), ab("10.0.0.1")}));
    EXPECT_EQ(dropped(Family::inet, q), "truncated");
    // One source too many.
    q = with_cs(cat({v({0x11, 100, 0, 0}), ab("232.1.1.1"), v({2, 125, 0, 2}), ab("10.0.0.1")}));
    EXPECT_EQ(dropped(Family::inet, q), "truncated");
    // 65535 records in none.
    EXPECT_EQ(dropped(Family::inet, with_cs(v({0x22, 0, 0, 0, 0, 0, 0xff, 0xff}))), "truncated");
    // A record with 65535 sources, and one whose aux data runs past the end.
    Bytes r = with_cs(cat({v({0x22, 0, 0, 0, 0, 0, 0, 1}), v({1, 0, 0xff, 0xff}), ab("232.1.1.1"), ab("10.0.0.1")}));
    EXPECT_EQ(dropped(Family::inet, r), "truncated");
    r = with_cs(cat({v({0x22, 0, 0, 0, 0, 0, 0, 1}), v({1, 255, 0, 1}), ab("232.1.1.1"), ab("10.0.0.1"),
                     v({1, 2, 3, 4})}));
    EXPECT_EQ(dropped(Family::inet, r), "truncated");
    // The largest count that fits is read.
    Bytes many = cat({v({0x22, 0, 0, 0, 0, 0, 0, 1}), v({1, 0, 0x01, 0x00}), ab("232.1.1.1")});
    for (int i = 0; i < 256; ++i)
        many = cat({many, v({10, 0, i, 1})});
    EXPECT_EQ(ok(Family::inet, with_cs(many)).records.at(0).sources.size(), 256u);
}

// ---------------------------------------------------------------- MLD

TEST(GroupPacketMld, V1Query)
{
    // RFC 2710 section 3: type 130, code 0, checksum, Maximum Response
    // Delay (ms), reserved, multicast address; 24 bytes.
    Bytes b = cat({v({130, 0, 0, 0, 0x27, 0x10, 0, 0}), ab("::")});
    auto m = ok(Family::inet6, b);
    EXPECT_EQ(m, query(GroupVersion::v2, "::", 10s));
    EXPECT_EQ(encode_mld(m), b);
    // Linear up to 65535 ms, clamped above.
    b = cat({v({130, 0, 0, 0, 0xff, 0xff, 0, 0}), ab("ff0e::1")});
    EXPECT_EQ(ok(Family::inet6, b), query(GroupVersion::v2, "ff0e::1", 65535ms));
    EXPECT_EQ(encode_mld(query(GroupVersion::v2, "ff0e::1", 100s)), b);
}

TEST(GroupPacketMld, V2Query)
{
    auto want = query(GroupVersion::v3, "ff0e::1:3", 32776ms);
    want.robustness = 3;
    want.query_interval = 160;
    want.sources = {ip("2001:db8::7")};
    EXPECT_EQ(ok(Family::inet6, mld_v2_query_bytes()), want);
    EXPECT_EQ(encode_mld(want), mld_v2_query_bytes());
    // The default general query: 10000 ms, QRV 2, QQIC 125.
    auto general = query(GroupVersion::v3, "::", 10s);
    general.robustness = 2;
    general.query_interval = 125;
    Bytes gb = cat({v({130, 0, 0, 0, 0x27, 0x10, 0, 0}), ab("::"), v({0x02, 0x7d, 0, 0})});
    EXPECT_EQ(encode_mld(general), gb);
    EXPECT_EQ(ok(Family::inet6, gb), general);
    // Beyond 32767 ms the code rounds down: 40007 >> 3 = 5000 = 0x1388,
    // code 0x8388, which is 40000.
    want.max_response = 40007ms;
    auto b = encode_mld(want);
    EXPECT_EQ(b[4], 0x83);
    EXPECT_EQ(b[5], 0x88);
    EXPECT_EQ(ok(Family::inet6, b).max_response, 40000ms);
}

TEST(GroupPacketMld, ReportsAndDone)
{
    Bytes report = cat({v({131, 0, 0, 0, 0, 0, 0, 0}), ab("ff0e::1:3")});
    EXPECT_EQ(ok(Family::inet6, report), single(Kind::report, GroupVersion::v2, "ff0e::1:3"));
    EXPECT_EQ(encode_mld(single(Kind::report, GroupVersion::v2, "ff0e::1:3")), report);
    // MLD has no v1: written as MLDv1 (version v2).
    EXPECT_EQ(encode_mld(single(Kind::report, GroupVersion::v1, "ff0e::1:3")), report);
    Bytes done = cat({v({132, 0, 0, 0, 0, 0, 0, 0}), ab("ff05::2")});
    EXPECT_EQ(ok(Family::inet6, done), single(Kind::leave, GroupVersion::v2, "ff05::2"));
    EXPECT_EQ(encode_mld(single(Kind::leave, GroupVersion::v2, "ff05::2")), done);
    // The code byte, the delay and the reserved bytes are not looked at.
    Bytes odd = cat({v({131, 7, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}), ab("ff0e::1:3")});
    EXPECT_EQ(ok(Family::inet6, odd), single(Kind::report, GroupVersion::v2, "ff0e::1:3"));
}

TEST(GroupPacketMld, V2ReportWithAuxData)
{
    EXPECT_EQ(ok(Family::inet6, mld_v2_report_bytes()), mld_v2_report_message());
    Bytes plain = cat({v({143, 0, 0, 0, 0, 0, 0x00, 0x02}), v({1, 0, 0x00, 0x02}), ab("ff05::1:3"), ab("2001:db8::1"),
                       ab("2001:db8::2"), v({6, 0, 0x00, 0x00}), ab("ff3e::8000:1")});
    EXPECT_EQ(encode_mld(mld_v2_report_message()), plain);
    EXPECT_EQ(ok(Family::inet6, plain), mld_v2_report_message());
}

TEST(GroupPacketMld, ChecksumWithPseudoHeader)
{
    auto src = a6("fe80::1"), dst = a6("ff02::16");
    auto b = encode_mld6(src, dst, mld_v2_report_message());
    EXPECT_NE(b[2] | b[3], 0);
    EXPECT_EQ(icmp6_checksum(src, dst, b), 0) << "does not verify";
    b[2] = b[3] = 0;
    EXPECT_EQ(b, encode_mld(mld_v2_report_message()));
    // Hand-checked: MLDv1 report for ff0e::1 from fe80::1 to ff0e::1.
    // Pseudo-header fe80 + 0001 + ff0e + 0001 + 0018 + 003a = 0x1fde2 (the
    // addresses' other words are 0); body 8300 + ff0e + 0001 = 0x1820f;
    // total 0x37ff1 -> 0x7ff4 -> checksum 0x800b.
    auto r = encode_mld6(src, a6("ff0e::1"), single(Kind::report, GroupVersion::v2, "ff0e::1"));
    EXPECT_EQ(r, cat({v({131, 0, 0x80, 0x0b, 0, 0, 0, 0}), ab("ff0e::1")}));
}

TEST(GroupPacketMld, QueryLengths)
{
    for (size_t n : {25u, 26u, 27u}) {
        Bytes b(n, 0);
        b[0] = 130;
        EXPECT_EQ(dropped(Family::inet6, b), "bad_length") << n;
    }
}

TEST(GroupPacketMld, Types)
{
    // Neighbour discovery, echo, errors, MRD, IGMP numbers: not ours.
    for (int t : {1, 128, 129, 133, 134, 135, 136, 151, 152, 0x11, 0x16, 0x22, 255})
        EXPECT_EQ(dropped(Family::inet6, cat({v({t, 0, 0, 0, 0, 0, 0, 0}), ab("ff0e::1")})), "not_membership") << t;
    EXPECT_EQ(dropped(Family::inet6, {}), "truncated");
}

TEST(GroupPacketMld, Groups)
{
    auto msg = [](int type, const char* g) { return cat({v({type, 0, 0, 0, 0, 0, 0, 0}), ab(g)}); };
    for (int t : {131, 132}) {
        EXPECT_EQ(dropped(Family::inet6, msg(t, "2001:db8::1")), "bad_group") << t;
        EXPECT_EQ(dropped(Family::inet6, msg(t, "::")), "bad_group") << t;
        // Scope 0 (reserved) and 1 (interface-local): RFC 3810 section 6.
        EXPECT_EQ(dropped(Family::inet6, msg(t, "ff00::5")), "bad_group") << t;
        EXPECT_EQ(dropped(Family::inet6, msg(t, "ff01::1")), "bad_group") << t;
        EXPECT_EQ(dropped(Family::inet6, msg(t, "ff11::1")), "bad_group") << t;
        // Link scope: never routed.
        EXPECT_EQ(dropped(Family::inet6, msg(t, "ff02::1")), "local_group") << t;
        EXPECT_EQ(dropped(Family::inet6, msg(t, "ff02::1:ff00:1")), "local_group") << t;
        EXPECT_EQ(dropped(Family::inet6, msg(t, "ff12::5")), "local_group") << t;
        EXPECT_EQ(dropped(Family::inet6, msg(t, "ff05::1:3")), "decoded") << t;
        EXPECT_EQ(dropped(Family::inet6, msg(t, "ff3e::8000:1")), "decoded") << t;
    }
    EXPECT_EQ(dropped(Family::inet6, msg(130, "2001:db8::1")), "bad_group");
    EXPECT_EQ(dropped(Family::inet6, msg(130, "ff01::1")), "bad_group");
    EXPECT_EQ(dropped(Family::inet6, msg(130, "ff02::1:ff00:1")), "decoded");
    // A v2 report: the local record left out, a bad one drops it.
    auto r = [](std::initializer_list<const char*> groups) {
        Bytes b = v({143, 0, 0, 0, 0, 0, 0, static_cast<int>(groups.size())});
        for (const char* g : groups)
            b = cat({b, v({4, 0, 0, 0}), ab(g)});
        return b;
    };
    EXPECT_EQ(ok(Family::inet6, r({"ff02::1", "ff0e::5"})), v3report({rec(RecordType::to_exclude, "ff0e::5")}));
    EXPECT_EQ(dropped(Family::inet6, r({"ff02::fb"})), "local_group");
    EXPECT_EQ(dropped(Family::inet6, r({"ff0e::5", "ff01::2"})), "bad_group");
}

TEST(GroupPacketMld, Sources)
{
    auto q = [](const char* group, const char* source) {
        return cat({v({130, 0, 0, 0, 0x27, 0x10, 0, 0}), ab(group), v({2, 125, 0, 1}), ab(source)});
    };
    EXPECT_EQ(dropped(Family::inet6, q("ff3e::1", "2001:db8::1")), "decoded");
    EXPECT_EQ(dropped(Family::inet6, q("ff3e::1", "::")), "bad_source");
    EXPECT_EQ(dropped(Family::inet6, q("ff3e::1", "ff0e::1")), "bad_source");
    EXPECT_EQ(dropped(Family::inet6, q("::", "2001:db8::1")), "bad_source");
    Bytes r = cat({v({143, 0, 0, 0, 0, 0, 0, 1}), v({1, 0, 0, 1}), ab("ff3e::1"), ab("ff05::2")});
    EXPECT_EQ(dropped(Family::inet6, r), "bad_source");
}

TEST(GroupPacketMld, HostileCounts)
{
    Bytes q = cat({v({130, 0, 0, 0, 0x27, 0x10, 0, 0}), ab("ff3e::1"), v({2, 125, 0xff, 0xff}), ab("2001:db8::1")});
    EXPECT_EQ(dropped(Family::inet6, q), "truncated");
    EXPECT_EQ(dropped(Family::inet6, v({143, 0, 0, 0, 0, 0, 0xff, 0xff})), "truncated");
    Bytes r = cat({v({143, 0, 0, 0, 0, 0, 0, 1}), v({1, 0, 0xff, 0xff}), ab("ff3e::1"), ab("2001:db8::1")});
    EXPECT_EQ(dropped(Family::inet6, r), "truncated");
    r = cat({v({143, 0, 0, 0, 0, 0, 0, 1}), v({1, 1, 0, 0}), ab("ff3e::1"), v({1, 2, 3})});
    EXPECT_EQ(dropped(Family::inet6, r), "truncated");
}

// ---------------------------------------------------------------- both

TEST(GroupPacket, EveryKindDecodes)
{
    std::set<std::pair<int, int>> seen; // (kind, version) per family
    for (const auto& c : every_kind()) {
        auto d = decode(c.f, c.bytes);
        ASSERT_TRUE(d.ok()) << c.name << ": " << drop_reason_name(d.drop());
        seen.insert({static_cast<int>(d->kind) * 10 + static_cast<int>(d->version), static_cast<int>(c.f)});
    }
    EXPECT_EQ(seen.size(), 12u) << "every case a different kind and version";
}

TEST(GroupPacket, TruncatedAtEveryByte)
{
    for (const auto& c : every_kind()) {
        for (size_t n = 0; n < c.bytes.size(); ++n) {
            Bytes cut(c.bytes.begin(), c.bytes.begin() + static_cast<ptrdiff_t>(n));
            auto d = decode(c.f, cut);
            std::string why = d.ok() ? "decoded" : std::string(drop_reason_name(d.drop()));
            bool query = c.bytes[0] == 0x11 || c.bytes[0] == 130;
            std::string want = "truncated";
            if (c.f == Family::inet && query && n > 8 && n < 12)
                want = "bad_length";
            else if (c.f == Family::inet6 && query && n > 24 && n < 28)
                want = "bad_length";
            else if (c.f == Family::inet && query && n == 8)
                want = "bad_checksum"; // the v3 query's first 8 bytes as a v2 query
            else if (c.f == Family::inet6 && query && n == 24)
                want = "decoded"; // the MLDv2 query's first 24 bytes are an MLDv1 query
            EXPECT_EQ(why, want) << c.name << " cut to " << n << " of " << c.bytes.size();
        }
    }
}

TEST(GroupPacket, RoundTrips)
{
    std::vector<std::pair<Family, GroupMessage>> all;
    for (const auto& c : every_kind())
        all.push_back({c.f, ok(c.f, c.bytes)});
    // max_response at the edges of what each format carries.
    for (auto mr : {0ms, 100ms, 12700ms, 12800ms, 24800ms, 25600ms, 3072000ms, 3174400ms}) {
        auto m = query(GroupVersion::v3, "232.1.1.1", mr);
        m.sources = {ip("10.0.0.1")};
        all.push_back({Family::inet, m});
    }
    for (auto mr : {100ms, 25500ms})
        all.push_back({Family::inet, query(GroupVersion::v2, "0.0.0.0", mr)});
    for (auto mr : {0ms, 1ms, 32767ms, 32768ms, 32776ms, 65536ms, 8387584ms}) {
        auto m = query(GroupVersion::v3, "ff3e::1", mr);
        m.robustness = 7;
        m.suppress = true;
        m.query_interval = 31744;
        all.push_back({Family::inet6, m});
    }
    for (auto mr : {0ms, 1ms, 65535ms})
        all.push_back({Family::inet6, query(GroupVersion::v2, "::", mr)});
    for (int i = 0; i < 256; ++i) {
        auto m = query(GroupVersion::v3, "0.0.0.0", std::chrono::milliseconds(decode_code8(static_cast<uint8_t>(i)) * 100));
        m.query_interval = decode_code8(static_cast<uint8_t>(255 - i));
        m.robustness = static_cast<uint8_t>(i % 8);
        m.suppress = i % 2;
        all.push_back({Family::inet, m});
        auto m6 = m;
        m6.group = ip("::");
        m6.max_response = std::chrono::milliseconds(decode_code16(static_cast<uint16_t>(i * 257)));
        all.push_back({Family::inet6, m6});
    }
    // A report with many records and sources.
    GroupMessage big = v3report({});
    for (int i = 0; i < 40; ++i) {
        GroupRecord r = rec(static_cast<RecordType>(1 + i % 6), "239.0.0.0");
        r.group = ip("239.0.0.0").plus(static_cast<uint64_t>(i));
        for (int s = 0; s < i; ++s)
            r.sources.push_back(ip("10.0.0.1").plus(static_cast<uint64_t>(s)));
        big.records.push_back(r);
    }
    all.push_back({Family::inet, big});
    for (const auto& [f, m] : all) {
        auto b = encode(f, m);
        auto d = decode(f, b);
        ASSERT_TRUE(d.ok()) << drop_reason_name(d.drop());
        EXPECT_EQ(*d, m) << static_cast<int>(m.kind) << " v" << static_cast<int>(m.version) << " "
                         << m.max_response.count();
    }
}

TEST(GroupPacket, DropReasonNames)
{
    std::set<std::string_view> names;
    for (size_t i = 0; i < group_drop_count; ++i) {
        auto n = drop_reason_name(static_cast<GroupDrop>(i));
        EXPECT_NE(n, "?");
        names.insert(n);
    }
    EXPECT_EQ(names.size(), group_drop_count);
    EXPECT_EQ(drop_reason_name(GroupDrop::local_group), "local_group");
    EXPECT_EQ(drop_reason_name(GroupDrop::not_membership), "not_membership");
    std::set<std::string_view> malformed;
    for (size_t i = 0; i < group_drop_count; ++i)
        if (drop_is_malformed(static_cast<GroupDrop>(i)))
            malformed.insert(drop_reason_name(static_cast<GroupDrop>(i)));
    EXPECT_EQ(malformed, (std::set<std::string_view>{"truncated", "bad_length", "bad_checksum", "bad_group",
                                                      "bad_source"}));
}

TEST(GroupPacket, Destinations)
{
    EXPECT_EQ(group_all_systems(Family::inet).str(), "224.0.0.1");
    EXPECT_EQ(group_all_systems(Family::inet6).str(), "ff02::1");
    EXPECT_EQ(group_all_routers(Family::inet).str(), "224.0.0.2");
    EXPECT_EQ(group_all_routers(Family::inet6).str(), "ff02::2");
    EXPECT_EQ(group_v3_reports(Family::inet).str(), "224.0.0.22");
    EXPECT_EQ(group_v3_reports(Family::inet6).str(), "ff02::16");
    EXPECT_EQ(group_destination(Family::inet, query(GroupVersion::v3, "0.0.0.0", 10s)).str(), "224.0.0.1");
    EXPECT_EQ(group_destination(Family::inet, query(GroupVersion::v2, "239.1.1.1", 1s)).str(), "239.1.1.1");
    EXPECT_EQ(group_destination(Family::inet6, query(GroupVersion::v3, "::", 10s)).str(), "ff02::1");
    EXPECT_EQ(group_destination(Family::inet6, query(GroupVersion::v3, "ff3e::1", 1s)).str(), "ff3e::1");
    EXPECT_EQ(group_destination(Family::inet, single(Kind::report, GroupVersion::v2, "239.1.1.1")).str(),
              "239.1.1.1");
    EXPECT_EQ(group_destination(Family::inet6, single(Kind::report, GroupVersion::v2, "ff0e::1")).str(), "ff0e::1");
    EXPECT_EQ(group_destination(Family::inet, single(Kind::leave, GroupVersion::v2, "239.1.1.1")).str(), "224.0.0.2");
    EXPECT_EQ(group_destination(Family::inet6, single(Kind::leave, GroupVersion::v2, "ff0e::1")).str(), "ff02::2");
    EXPECT_EQ(group_destination(Family::inet, v3report({})).str(), "224.0.0.22");
    EXPECT_EQ(group_destination(Family::inet6, v3report({})).str(), "ff02::16");
}

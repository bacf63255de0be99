// Unit tests of os/netlink: the message and attribute walkers on well-formed,
// padded, truncated and lying bytes, and the NLMSG_ERROR code.
#include "smcroute/os/netlink.hpp"

#include <gtest/gtest.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <bit>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

namespace smcroute {
namespace {

using Buf = std::vector<uint8_t>;

void put16(Buf& b, uint16_t v)
{
    uint8_t x[2];
    std::memcpy(x, &v, 2);
    b.insert(b.end(), x, x + 2);
}

void put32(Buf& b, uint32_t v)
{
    uint8_t x[4];
    std::memcpy(x, &v, 4);
    b.insert(b.end(), x, x + 4);
}

// A message header claiming nlmsg_len = len, then `payload`, then `pad` zero bytes.
void message(Buf& b, uint32_t len, uint16_t type, uint32_t seq, const Buf& payload, size_t pad = 0)
{
    put32(b, len);
    put16(b, type);
    put16(b, NLM_F_MULTI);
    put32(b, seq);
    put32(b, 0); // pid
    b.insert(b.end(), payload.begin(), payload.end());
    b.insert(b.end(), pad, 0);
}

void attr(Buf& b, uint16_t len, uint16_t type, const Buf& payload, size_t pad = 0)
{
    put16(b, len);
    put16(b, type);
    b.insert(b.end(), payload.begin(), payload.end());
    b.insert(b.end(), pad, 0);
}

std::vector<NetlinkMessage> all(const Buf& b)
{
    std::vector<NetlinkMessage> out;
    NetlinkMessages msgs(b);
    while (auto m = msgs.next())
        out.push_back(*m);
    EXPECT_FALSE(msgs.next()) << "the walk must stay ended";
    return out;
}

std::vector<NetlinkAttr> attrs_of(const Buf& payload, size_t header)
{
    std::vector<NetlinkAttr> out;
    NetlinkAttrs attrs(payload, header);
    while (auto a = attrs.next())
        out.push_back(*a);
    EXPECT_FALSE(attrs.next()) << "the walk must stay ended";
    return out;
}

bool within(std::span<const uint8_t> inner, const Buf& outer)
{
    return inner.empty() || (inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size());
}

TEST(NetlinkMessages, NoneInNoBytes)
{
    EXPECT_TRUE(all({}).empty());
    EXPECT_TRUE(all(Buf(15, 0xff)).empty()); // shorter than a header
}

TEST(NetlinkMessages, WalksPaddedMessagesInOrder)
{
    Buf b;
    message(b, 16 + 5, RTM_NEWLINK, 7, {1, 2, 3, 4, 5}, 3); // padded to 24
    message(b, 16, NLMSG_DONE, 8, {});
    message(b, 16 + 2, RTM_DELLINK, 9, {6, 7}); // the last: unpadded
    auto ms = all(b);
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(ms[0].type, RTM_NEWLINK);
    EXPECT_EQ(ms[0].flags, NLM_F_MULTI);
    EXPECT_EQ(ms[0].seq, 7u);
    EXPECT_EQ(Buf(ms[0].payload.begin(), ms[0].payload.end()), (Buf{1, 2, 3, 4, 5}));
    EXPECT_EQ(ms[1].type, NLMSG_DONE);
    EXPECT_TRUE(ms[1].payload.empty());
    EXPECT_EQ(ms[2].seq, 9u);
    EXPECT_EQ(Buf(ms[2].payload.begin(), ms[2].payload.end()), (Buf{6, 7}));
}

TEST(NetlinkMessages, StopsAtALengthShorterThanTheHeader)
{
    for (uint32_t len : {0u, 1u, 15u}) {
        Buf b;
        message(b, 20, RTM_NEWLINK, 1, {1, 2, 3, 4});
        message(b, len, RTM_NEWLINK, 2, {});
        message(b, 16, RTM_NEWLINK, 3, {});
        auto ms = all(b);
        ASSERT_EQ(ms.size(), 1u) << len; // a zero length must not loop forever
        EXPECT_EQ(ms[0].seq, 1u);
    }
}

TEST(NetlinkMessages, StopsAtALengthPastTheBytes)
{
    for (uint32_t len : {21u, 100u, 0xffffffffu}) {
        Buf b;
        message(b, 16, NLMSG_NOOP, 1, {});
        message(b, len, RTM_NEWLINK, 2, {1, 2, 3, 4}); // 20 bytes there
        auto ms = all(b);
        ASSERT_EQ(ms.size(), 1u) << len;
        EXPECT_EQ(ms[0].seq, 1u);
    }
}

TEST(NetlinkMessages, IgnoresATrailShorterThanAHeader)
{
    Buf b;
    message(b, 17, RTM_NEWLINK, 1, {9}); // unpadded, then 12 stray bytes
    b.insert(b.end(), 12, 0xee);
    auto ms = all(b);
    ASSERT_EQ(ms.size(), 1u);
    // The stray bytes are not the padding of the first: its payload is its own.
    EXPECT_EQ(Buf(ms[0].payload.begin(), ms[0].payload.end()), Buf{9});
}

TEST(NetlinkMessages, EveryPrefixOfAGoodBufferIsSafe)
{
    Buf b;
    message(b, 16 + 6, RTM_NEWLINK, 1, {1, 2, 3, 4, 5, 6}, 2);
    message(b, 16 + 4, RTM_NEWLINK, 2, {1, 2, 3, 4});
    for (size_t n = 0; n <= b.size(); ++n) {
        Buf prefix(b.begin(), b.begin() + static_cast<long>(n));
        auto ms = all(prefix);
        size_t want = n >= 44 ? 2 : n >= 22 ? 1 : 0;
        EXPECT_EQ(ms.size(), want) << n;
        for (const auto& m : ms)
            EXPECT_TRUE(within(m.payload, prefix));
    }
}

TEST(NetlinkAttrs, WalksAttributesAfterTheAlignedHeader)
{
    Buf p(17, 0xaa); // a 17-byte header: attributes start at 20
    p.insert(p.end(), 3, 0);
    attr(p, 4 + 5, IFLA_IFNAME, {'e', 't', 'h', '0', 0}, 3);
    attr(p, 4, IFLA_MTU | NLA_F_NESTED, {});
    attr(p, 4 + 4, IFLA_LINK, {1, 0, 0, 0});
    auto as = attrs_of(p, 17);
    ASSERT_EQ(as.size(), 3u);
    EXPECT_EQ(as[0].type, IFLA_IFNAME);
    EXPECT_EQ(Buf(as[0].payload.begin(), as[0].payload.end()), (Buf{'e', 't', 'h', '0', 0}));
    EXPECT_EQ(as[1].type, IFLA_MTU | NLA_F_NESTED); // the flags are the caller's to mask
    EXPECT_TRUE(as[1].payload.empty());
    EXPECT_EQ(as[2].type, IFLA_LINK);
    EXPECT_EQ(as[2].payload.size(), 4u);
}

TEST(NetlinkAttrs, NoneWhenThePayloadIsShorterThanTheHeader)
{
    EXPECT_TRUE(attrs_of({}, 0).empty());
    EXPECT_TRUE(attrs_of(Buf(16, 0), 16).empty());
    EXPECT_TRUE(attrs_of(Buf(10, 4), 16).empty());
    EXPECT_TRUE(attrs_of(Buf(18, 4), 17).empty()); // 17 fits, its alignment to 20 does not
    EXPECT_TRUE(attrs_of(Buf(19, 4), 16).empty()); // 3 bytes: no attribute header
}

TEST(NetlinkAttrs, StopsAtALyingLength)
{
    // 8 bytes, then an attribute claiming len of the 16 bytes left (12 its
    // own, 4 the last attribute's).
    const std::pair<uint16_t, size_t> cases[] = {
        {0, 1}, {1, 1}, {3, 1}, {17, 1}, {0xffff, 1}, // RTA_OK fails: stop
        {12, 3},                                      // the truth
        {13, 2}, {16, 2},                             // swallows the last one, within bounds
        {4, 2}, // then its payload, read as a header, claims 'x' = 120 bytes: stop
    };
    for (auto [len, want] : cases) {
        Buf p;
        attr(p, 8, IFLA_MTU, {1, 2, 3, 4});
        attr(p, len, IFLA_IFNAME, {'x', 0, 0, 0, 0, 0, 0, 0});
        attr(p, 4, IFLA_LINK, {});
        auto as = attrs_of(p, 0);
        ASSERT_EQ(as.size(), want) << len;
        EXPECT_EQ(as[0].type, IFLA_MTU);
        for (const auto& a : as)
            EXPECT_TRUE(within(a.payload, p));
    }
}

TEST(NetlinkAttrs, EveryPrefixIsSafe)
{
    Buf p(16, 0);
    attr(p, 4 + 5, IFLA_IFNAME, {'l', 'o', 0, 0, 0}, 3);
    attr(p, 4 + 4, IFLA_MTU, {0, 1, 0, 0});
    for (size_t n = 0; n <= p.size(); ++n) {
        Buf prefix(p.begin(), p.begin() + static_cast<long>(n));
        auto as = attrs_of(prefix, 16);
        size_t want = n >= 36 ? 2 : n >= 25 ? 1 : 0;
        EXPECT_EQ(as.size(), want) << n;
        for (const auto& a : as)
            EXPECT_TRUE(within(a.payload, prefix));
    }
}

TEST(NetlinkWalkers, RandomBytesStayInBounds)
{
    std::mt19937 rng(14);
    for (int round = 0; round < 2000; ++round) {
        Buf b(rng() % 200);
        for (auto& x : b)
            x = static_cast<uint8_t>(rng() % 4 == 0 ? rng() % 40 : rng());
        NetlinkMessages msgs(b);
        size_t n = 0;
        while (auto m = msgs.next()) {
            ASSERT_TRUE(within(m->payload, b));
            ASSERT_LE(++n, b.size() / 16);
            NetlinkAttrs attrs(m->payload, rng() % 24);
            size_t k = 0;
            while (auto a = attrs.next()) {
                ASSERT_TRUE(within(a->payload, b));
                ASSERT_LE(++k, m->payload.size() / 4);
            }
        }
    }
}

TEST(NetlinkErrorCode, NegatedErrnoAckAndNonsense)
{
    auto payload = [](int32_t error, size_t size) {
        Buf p(sizeof(nlmsgerr), 0);
        std::memcpy(p.data(), &error, sizeof error);
        p.resize(size);
        return p;
    };
    EXPECT_EQ(netlink_error_code(payload(-ENODEV, sizeof(nlmsgerr))), ENODEV);
    EXPECT_EQ(netlink_error_code(payload(-EPERM, 4)), EPERM);
    EXPECT_EQ(netlink_error_code(payload(0, sizeof(nlmsgerr))), 0); // an ack
    EXPECT_EQ(netlink_error_code({}), 0);
    EXPECT_EQ(netlink_error_code(payload(0, 2)), 0);
    if constexpr (std::endian::native == std::endian::little) {
        // A short field reads as zero bytes past its end: 0x0000ffff, no negated errno.
        EXPECT_EQ(netlink_error_code(payload(-1, 2)), EPROTO);
    }
    EXPECT_EQ(netlink_error_code(payload(5, 4)), EPROTO);
    EXPECT_EQ(netlink_error_code(payload(INT_MIN, 4)), EPROTO);
}

} // namespace
} // namespace smcroute

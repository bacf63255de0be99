// Tests for os/interfaces: the rtnetlink decoder on crafted, truncated and
// random buffers, and the live interface list / monitor (no root needed).
#include "smcroute/os/interfaces.hpp"

#include <gtest/gtest.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace smcroute;

namespace {

void put(std::vector<uint8_t>& b, const void* p, size_t n)
{
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
}

void pad4(std::vector<uint8_t>& b)
{
    while (b.size() % 4)
        b.push_back(0);
}

void attr(std::vector<uint8_t>& b, uint16_t type, const void* data, size_t n)
{
    rtattr a{};
    a.rta_len = static_cast<unsigned short>(sizeof(rtattr) + n);
    a.rta_type = type;
    put(b, &a, sizeof a);
    put(b, data, n);
    pad4(b);
}

// One rtnetlink link message: header, ifinfomsg, IFLA_MTU, optional IFLA_IFNAME
// (with its NUL unless raw_name), IFLA_TXQLEN.
std::vector<uint8_t> link_msg(uint16_t type, int index, unsigned flags, const std::string& name,
                              bool with_name = true, bool raw_name = false)
{
    std::vector<uint8_t> b(sizeof(nlmsghdr), 0);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    ifi.ifi_flags = flags;
    put(b, &ifi, sizeof ifi);
    pad4(b);
    uint32_t mtu = 1500;
    attr(b, IFLA_MTU, &mtu, sizeof mtu);
    if (with_name)
        attr(b, IFLA_IFNAME, name.c_str(), name.size() + (raw_name ? 0 : 1));
    uint32_t txq = 1000;
    attr(b, IFLA_TXQLEN, &txq, sizeof txq);
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(b.size());
    h.nlmsg_type = type;
    std::memcpy(b.data(), &h, sizeof h);
    return b;
}

std::vector<uint8_t> addr_msg()
{
    std::vector<uint8_t> b(sizeof(nlmsghdr), 0);
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_INET;
    ifa.ifa_prefixlen = 24;
    ifa.ifa_index = 2;
    put(b, &ifa, sizeof ifa);
    uint8_t a4[4] = {10, 0, 0, 1};
    attr(b, IFA_ADDRESS, a4, 4);
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(b.size());
    h.nlmsg_type = RTM_NEWADDR;
    std::memcpy(b.data(), &h, sizeof h);
    return b;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts)
{
    std::vector<uint8_t> out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

std::vector<LinkEvent> decode(const std::vector<uint8_t>& b, size_t len)
{
    // Decode from an exact-size heap copy so ASan sees any overread.
    std::vector<uint8_t> exact(b.begin(), b.begin() + static_cast<long>(len));
    return decode_link_messages(exact.data(), exact.size());
}
std::vector<LinkEvent> decode(const std::vector<uint8_t>& b) { return decode(b, b.size()); }

} // namespace

TEST(InterfaceFlags, Accessors)
{
    Interface i;
    i.flags = IFF_UP | IFF_MULTICAST;
    EXPECT_TRUE(i.up());
    EXPECT_TRUE(i.multicast());
    EXPECT_FALSE(i.loopback());
    i.flags = IFF_LOOPBACK;
    EXPECT_FALSE(i.up());
    EXPECT_FALSE(i.multicast());
    EXPECT_TRUE(i.loopback());
}

TEST(DecodeLinkMessages, NewLink)
{
    auto ev = decode(link_msg(RTM_NEWLINK, 7, IFF_UP | IFF_MULTICAST, "eth0"));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].kind, LinkEvent::Kind::added_or_changed);
    EXPECT_EQ(ev[0].iface.name.str(), "eth0");
    EXPECT_EQ(ev[0].iface.index, 7u);
    EXPECT_TRUE(ev[0].iface.up());
    EXPECT_TRUE(ev[0].iface.multicast());
}

TEST(DecodeLinkMessages, DelLinkAndMixedBuffer)
{
    auto buf = concat({link_msg(RTM_NEWLINK, 3, IFF_UP, "veth0"), addr_msg(),
                       link_msg(RTM_DELLINK, 4, 0, "veth1"), link_msg(RTM_GETLINK, 5, 0, "x")});
    auto ev = decode(buf);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].kind, LinkEvent::Kind::added_or_changed);
    EXPECT_EQ(ev[0].iface.name.str(), "veth0");
    EXPECT_EQ(ev[0].iface.index, 3u);
    EXPECT_EQ(ev[1].kind, LinkEvent::Kind::removed);
    EXPECT_EQ(ev[1].iface.name.str(), "veth1");
    EXPECT_EQ(ev[1].iface.index, 4u);
}

TEST(DecodeLinkMessages, NameEdgeCases)
{
    // Name without its NUL terminator still decodes.
    auto ev = decode(link_msg(RTM_NEWLINK, 2, 0, "br0", true, true));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].iface.name.str(), "br0");
    // A 15-byte name is the longest allowed.
    ev = decode(link_msg(RTM_NEWLINK, 2, 0, "abcdefghijklmno"));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].iface.name.str(), "abcdefghijklmno");
    // Too long, or absent: the event keeps the index, the name stays empty.
    ev = decode(link_msg(RTM_DELLINK, 9, 0, "abcdefghijklmnopqrst"));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_TRUE(ev[0].iface.name.empty());
    EXPECT_EQ(ev[0].iface.index, 9u);
    ev = decode(link_msg(RTM_DELLINK, 9, 0, "", false));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_TRUE(ev[0].iface.name.empty());
}

TEST(DecodeLinkMessages, InvalidIndexIsSkipped)
{
    EXPECT_TRUE(decode(link_msg(RTM_NEWLINK, 0, 0, "eth0")).empty());
    EXPECT_TRUE(decode(link_msg(RTM_NEWLINK, -3, 0, "eth0")).empty());
}

TEST(DecodeLinkMessages, TruncatedAtEveryLength)
{
    auto m1 = link_msg(RTM_NEWLINK, 3, IFF_UP, "veth0");
    auto m2 = link_msg(RTM_DELLINK, 4, 0, "veth1");
    auto buf = concat({m1, m2});
    for (size_t len = 0; len <= buf.size(); ++len) {
        auto ev = decode(buf, len);
        const size_t complete = (len >= m1.size()) + (len == buf.size());
        ASSERT_EQ(ev.size(), complete) << "len " << len;
        if (complete >= 1) {
            EXPECT_EQ(ev[0].iface.name.str(), "veth0");
        }
    }
    EXPECT_TRUE(decode_link_messages(nullptr, 100).empty());
}

TEST(DecodeLinkMessages, BadLengthsStopOrSkipSafely)
{
    // nlmsg_len larger than the buffer: nothing decoded.
    auto m = link_msg(RTM_NEWLINK, 3, IFF_UP, "veth0");
    uint32_t big = 100000;
    std::memcpy(m.data(), &big, 4);
    EXPECT_TRUE(decode(m).empty());
    // nlmsg_len smaller than a header: stop (no endless loop).
    uint32_t tiny = 4;
    std::memcpy(m.data(), &tiny, 4);
    EXPECT_TRUE(decode(m).empty());
    // Message too short for ifinfomsg: skipped, the next one still decodes.
    std::vector<uint8_t> shortmsg(sizeof(nlmsghdr) + 4, 0);
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(shortmsg.size());
    h.nlmsg_type = RTM_NEWLINK;
    std::memcpy(shortmsg.data(), &h, sizeof h);
    auto ev = decode(concat({shortmsg, link_msg(RTM_NEWLINK, 5, 0, "eth5")}));
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].iface.index, 5u);
    // A broken attribute length ends the attribute walk, not the message.
    auto bad = link_msg(RTM_NEWLINK, 6, 0, "eth6");
    const size_t first_attr = sizeof(nlmsghdr) + sizeof(ifinfomsg);
    uint16_t huge = 60000;
    std::memcpy(&bad[first_attr], &huge, 2);
    ev = decode(bad);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].iface.index, 6u);
    EXPECT_TRUE(ev[0].iface.name.empty());
}

TEST(DecodeLinkMessages, RandomGarbage)
{
    std::mt19937 rng(777);
    const auto valid = link_msg(RTM_NEWLINK, 3, IFF_UP, "veth0");
    for (int i = 0; i < 50000; ++i) {
        std::vector<uint8_t> b;
        if (i % 2 == 0) {
            b.resize(rng() % 200);
            for (auto& x : b)
                x = static_cast<uint8_t>(rng());
        } else {
            // Mutate a valid message: more interesting paths.
            b = valid;
            for (int k = 0; k < 3; ++k)
                b[rng() % b.size()] = static_cast<uint8_t>(rng());
            b.resize(rng() % (b.size() + 1));
        }
        auto ev = decode(b);
        for (const auto& e : ev) {
            EXPECT_GT(e.iface.index, 0u);
            EXPECT_LE(e.iface.name.view().size(), IfName::max_len);
        }
    }
}

TEST(ListInterfaces, HasLoopbackSortedByIndex)
{
    auto r = list_interfaces();
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto& v = *r;
    ASSERT_FALSE(v.empty());
    bool found_lo = false;
    for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) {
            EXPECT_LT(v[i - 1].index, v[i].index);
        }
        EXPECT_FALSE(v[i].name.empty());
        EXPECT_EQ(if_nametoindex(v[i].name.str().c_str()), v[i].index) << v[i].name.str();
        if (v[i].name.str() == "lo") {
            found_lo = true;
            EXPECT_TRUE(v[i].loopback());
        }
    }
    EXPECT_TRUE(found_lo);
}

TEST(LinkMonitor, OpensAndReadsNothingWhenQuiet)
{
    auto m = LinkMonitor::open();
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_GE(m->fd(), 0);
    bool overflowed = true;
    auto ev = m->read(overflowed);
    EXPECT_FALSE(overflowed);
    (void)ev; // other processes may change links meanwhile; only check it returns
}

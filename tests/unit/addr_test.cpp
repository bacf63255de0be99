#include "smcroute/base/addr.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <unordered_set>
#include <vector>

using namespace smcroute;

namespace {

IpAddr ip(std::string_view text)
{
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddr{});
}

} // namespace

TEST(AddrTest, ParseAndFormatV4)
{
    auto a = IpAddr::parse("225.1.2.3");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_v4());
    EXPECT_EQ(a->family(), Family::inet);
    EXPECT_EQ(a->str(), "225.1.2.3");
    EXPECT_EQ(a->bytes()[0], 225);
    EXPECT_EQ(a->bytes()[3], 3);
}

// Every octet value formats as inet_ntop formats it (str() does IPv4 by hand).
TEST(AddrTest, FormatV4AsInetNtop)
{
    for (unsigned v = 0; v < 256; ++v) {
        for (unsigned pos = 0; pos < 4; ++pos) {
            in_addr a{};
            auto* b = reinterpret_cast<unsigned char*>(&a);
            b[0] = 10;
            b[1] = 0;
            b[2] = 99;
            b[3] = 255;
            b[pos] = static_cast<unsigned char>(v);
            char want[INET_ADDRSTRLEN];
            ASSERT_TRUE(inet_ntop(AF_INET, &a, want, sizeof want));
            EXPECT_EQ(IpAddr::from_v4(a).str(), want);
        }
    }
    EXPECT_EQ(IpAddr::any(Family::inet).str(), "0.0.0.0");
    EXPECT_EQ(ip("255.255.255.255").str(), "255.255.255.255");
}

TEST(AddrTest, ParseAndFormatV6)
{
    auto a = IpAddr::parse("FF0E:0:0::1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family(), Family::inet6);
    EXPECT_EQ(a->str(), "ff0e::1");
    EXPECT_EQ(ip("::").str(), "::");
}

TEST(AddrTest, ParseRejectsGarbage)
{
    for (std::string_view bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "eth0", "1.2.3.4 ", "::g", "1.2.3.4/24",
                                 "ff0e::1::2", "01234567890123456789012345678901234567890123456789"})
        EXPECT_FALSE(IpAddr::parse(bad)) << bad;
    // An embedded NUL must not end the text early.
    EXPECT_FALSE(IpAddr::parse(std::string_view("1.2.3.4\0junk", 12)));
}

TEST(AddrTest, Classification)
{
    EXPECT_TRUE(ip("224.0.0.1").is_multicast());
    EXPECT_TRUE(ip("239.255.255.255").is_multicast());
    EXPECT_FALSE(ip("240.0.0.1").is_multicast());
    EXPECT_FALSE(ip("223.255.255.255").is_multicast());
    EXPECT_TRUE(ip("ff0e::1").is_multicast());
    EXPECT_FALSE(ip("fe80::1").is_multicast());
    EXPECT_TRUE(ip("224.0.0.251").is_link_local_multicast());
    EXPECT_FALSE(ip("224.0.1.1").is_link_local_multicast());
    EXPECT_TRUE(ip("ff02::fb").is_link_local_multicast());
    EXPECT_FALSE(ip("ff0e::fb").is_link_local_multicast());
    EXPECT_TRUE(ip("255.255.255.255").is_broadcast());
    EXPECT_FALSE(ip("255.255.255.254").is_broadcast());
    EXPECT_TRUE(ip("0.0.0.0").is_unspecified());
    EXPECT_TRUE(ip("::").is_unspecified());
    EXPECT_FALSE(ip("::1").is_unspecified());
    EXPECT_TRUE(IpAddr::any(Family::inet6).is_unspecified());
    EXPECT_EQ(IpAddr::any(Family::inet6).family(), Family::inet6);
}

TEST(AddrTest, Masked)
{
    EXPECT_EQ(ip("225.1.2.3").masked(24).str(), "225.1.2.0");
    EXPECT_EQ(ip("225.1.2.3").masked(20).str(), "225.1.0.0");
    EXPECT_EQ(ip("225.1.255.3").masked(20).str(), "225.1.240.0");
    EXPECT_EQ(ip("225.1.2.3").masked(0).str(), "0.0.0.0");
    EXPECT_EQ(ip("225.1.2.3").masked(32).str(), "225.1.2.3");
    EXPECT_EQ(ip("ff0e:1:2:3::ffff").masked(33).str(), "ff0e:1::");
    EXPECT_EQ(ip("ff0e:1:2:3::ffff").masked(128).str(), "ff0e:1:2:3::ffff");
}

TEST(AddrTest, Plus)
{
    EXPECT_EQ(ip("225.1.2.3").plus(0).str(), "225.1.2.3");
    EXPECT_EQ(ip("225.1.2.255").plus(1).str(), "225.1.3.0");
    EXPECT_EQ(ip("225.1.2.0").plus(65536).str(), "225.2.2.0");
    EXPECT_EQ(ip("255.255.255.255").plus(1).str(), "0.0.0.0"); // wraps within IPv4
    EXPECT_EQ(ip("ff0e::ffff").plus(1).str(), "ff0e::1:0");
    EXPECT_EQ(ip("ff0e::").plus(0x1'0000'0000ULL).str(), "ff0e::1:0:0");
}

TEST(AddrTest, Ordering)
{
    EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
    EXPECT_EQ(ip("10.0.0.1"), ip("10.0.0.1"));
    EXPECT_NE(ip("10.0.0.1"), ip("::ffff:10.0.0.1"));
    std::unordered_set<IpAddr> set{ip("10.0.0.1"), ip("10.0.0.1"), ip("ff0e::1")};
    EXPECT_EQ(set.size(), 2u);
}

TEST(AddrTest, PrefixParse)
{
    auto p = Prefix::parse("225.1.2.3/24");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->addr.str(), "225.1.2.0");
    EXPECT_EQ(p->len, 24);
    EXPECT_EQ(p->str(), "225.1.2.0/24");
    EXPECT_FALSE(p->is_host());

    auto h = Prefix::parse("225.1.2.3");
    ASSERT_TRUE(h);
    EXPECT_TRUE(h->is_host());
    EXPECT_EQ(h->str(), "225.1.2.3");
    EXPECT_EQ(Prefix::parse("225.1.2.3/32")->str(), "225.1.2.3");

    auto v6 = Prefix::parse("ff0e::1/16");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->str(), "ff0e::/16");
    EXPECT_EQ(Prefix::parse("ff0e::1/128")->str(), "ff0e::1");
    EXPECT_EQ(Prefix::parse("0.0.0.0/0")->len, 0);
}

TEST(AddrTest, PrefixParseErrors)
{
    EXPECT_EQ(Prefix::parse("225.1.2.3/33").error().message,
              "prefix length 33 out of range 0-32 for IPv4 in '225.1.2.3/33'");
    EXPECT_EQ(Prefix::parse("ff0e::1/129").error().message,
              "prefix length 129 out of range 0-128 for IPv6 in 'ff0e::1/129'");
    EXPECT_EQ(Prefix::parse("225.1.2/24").error().message, "invalid address '225.1.2'");
    EXPECT_EQ(Prefix::parse("225.1.2.3/").error().message, "invalid prefix length '' in '225.1.2.3/'");
    EXPECT_EQ(Prefix::parse("225.1.2.3/x").error().message, "invalid prefix length 'x' in '225.1.2.3/x'");
    EXPECT_EQ(Prefix::parse("225.1.2.3/-1").error().message, "invalid prefix length '-1' in '225.1.2.3/-1'");
    EXPECT_FALSE(Prefix::parse("225.1.2.3/24/1"));
    EXPECT_FALSE(Prefix::parse(""));
}

TEST(AddrTest, PrefixContains)
{
    auto p = *Prefix::parse("225.1.2.0/24");
    EXPECT_TRUE(p.contains(ip("225.1.2.0")));
    EXPECT_TRUE(p.contains(ip("225.1.2.255")));
    EXPECT_FALSE(p.contains(ip("225.1.3.0")));
    EXPECT_FALSE(p.contains(ip("ff0e::1")));
    auto all = *Prefix::parse("0.0.0.0/0");
    EXPECT_TRUE(all.contains(ip("1.2.3.4")));
    EXPECT_FALSE(all.contains(ip("::1")));
    auto v6 = *Prefix::parse("ff0e::/16");
    EXPECT_TRUE(v6.contains(ip("ff0e:1::2")));
    EXPECT_FALSE(v6.contains(ip("ff0f::1")));
    auto host = Prefix::host(ip("10.0.0.1"));
    EXPECT_TRUE(host.is_host());
    EXPECT_TRUE(host.contains(ip("10.0.0.1")));
    EXPECT_FALSE(host.contains(ip("10.0.0.2")));
}

TEST(AddrTest, IfNameParse)
{
    auto n = IfName::parse("eth0");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->view(), "eth0");
    EXPECT_FALSE(n->is_wildcard());
    EXPECT_TRUE(IfName::parse("abcdefghijklmno")); // 15 bytes
    EXPECT_EQ(IfName::parse("abcdefghijklmnop").error().message,
              "interface name 'abcdefghijklmnop' is longer than 15 characters");
    EXPECT_EQ(IfName::parse("").error().message, "empty interface name");
    EXPECT_FALSE(IfName::parse("eth/0"));
    EXPECT_FALSE(IfName::parse("eth 0"));
    EXPECT_FALSE(IfName::parse("eth\t0"));
    EXPECT_FALSE(IfName::parse("eth0\r"));
    EXPECT_FALSE(IfName::parse(std::string_view("eth\0", 4)));
    EXPECT_FALSE(IfName::parse("e+th"));
    EXPECT_TRUE(IfName().empty());
}

TEST(AddrTest, IfNameWildcard)
{
    auto w = *IfName::parse("eth+");
    EXPECT_TRUE(w.is_wildcard());
    EXPECT_TRUE(w.matches("eth0"));
    EXPECT_TRUE(w.matches("eth12"));
    EXPECT_TRUE(w.matches("eth"));
    EXPECT_FALSE(w.matches("et"));
    EXPECT_FALSE(w.matches("veth0"));
    auto exact = *IfName::parse("eth0");
    EXPECT_TRUE(exact.matches("eth0"));
    EXPECT_FALSE(exact.matches("eth01"));
    EXPECT_FALSE(exact.matches("eth"));
}

TEST(AddrTest, IfNameOrderAndHash)
{
    auto a = *IfName::parse("eth0");
    auto b = *IfName::parse("eth1");
    EXPECT_LT(a, b);
    EXPECT_EQ(a, *IfName::parse("eth0"));
    std::unordered_set<IfName> set{a, b, *IfName::parse("eth0")};
    EXPECT_EQ(set.size(), 2u);
}

// The inline dotted-quad parser accepts exactly what inet_pton(AF_INET) does.
TEST(AddrTest, V4ParseMatchesInetPton)
{
    std::vector<std::string> cases = {
        "0.0.0.0", "1.2.3.4", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04",
        "1.2.3.0", "00.1.2.3", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/", "1.2.3.a",
        "999.1.1.1", "1.2.3.255", "1.2.3.2555", "-1.2.3.4", "+1.2.3.4", "1.2.3.4\n", "", ".", "....", "1",
        "0x1.2.3.4", "225.0.0.0", "10.0.1.2", "1.2.3.00", "1.2.3.0000",
    };
    // And every short string over a small alphabet.
    const std::string alphabet = "0125.9a";
    std::vector<std::string> level = {""};
    for (int len = 1; len <= 5; ++len) {
        std::vector<std::string> next;
        for (const auto& s : level)
            for (char c : alphabet)
                next.push_back(s + c);
        cases.insert(cases.end(), next.begin(), next.end());
        level = std::move(next);
    }
    for (int a : {0, 1, 9, 10, 99, 100, 199, 249, 250, 255, 256, 300})
        cases.push_back(std::to_string(a) + ".1." + std::to_string(a) + ".7");
    for (const auto& text : cases) {
        in_addr want{};
        bool ok = inet_pton(AF_INET, text.c_str(), &want) == 1;
        auto got = IpAddr::parse(text);
        ASSERT_EQ(got.has_value(), ok) << "'" << text << "'";
        if (ok) {
            EXPECT_TRUE(got->is_v4()) << text;
            EXPECT_EQ(got->v4().s_addr, want.s_addr) << text;
            EXPECT_EQ(*got, IpAddr::from_v4(want)) << text;
        }
    }
}

TEST(AddrTest, HashesSpreadAndAgreeWithEquality)
{
    std::unordered_set<size_t> seen;
    for (unsigned k = 0; k < 4096; ++k) {
        IpAddr a = ip("225.0.0.0").plus(k);
        EXPECT_EQ(std::hash<IpAddr>{}(a), std::hash<IpAddr>{}(ip(a.str())));
        seen.insert(std::hash<IpAddr>{}(a));
    }
    EXPECT_EQ(seen.size(), 4096u);
    // Same bytes, other family: other hash.
    EXPECT_NE(std::hash<IpAddr>{}(ip("0.0.0.0")), std::hash<IpAddr>{}(ip("::")));
    auto n1 = IfName::parse("eth0"), n2 = IfName::parse("eth0"), n3 = IfName::parse("eth1");
    ASSERT_TRUE(n1 && n2 && n3);
    EXPECT_EQ(n1->hash(), n2->hash());
    EXPECT_NE(n1->hash(), n3->hash());
}

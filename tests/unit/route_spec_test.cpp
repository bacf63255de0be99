#include "smcroute/model/route_spec.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

using namespace smcroute;

namespace {

RouteText route(std::string_view iif, std::string_view source, std::string_view group,
                std::vector<std::string_view> oifs)
{
    return RouteText{iif, source, group, std::move(oifs)};
}

// The only issue, which must be an error on the given argument.
template <class T>
std::string only_error(const Checked<T>& c, size_t expect_arg)
{
    EXPECT_FALSE(c.value.has_value());
    EXPECT_EQ(c.issues.size(), 1u);
    if (c.issues.empty())
        return "";
    EXPECT_EQ(c.issues[0].severity, Severity::error);
    EXPECT_EQ(c.issues[0].arg, expect_arg);
    return c.issues[0].message;
}

} // namespace

TEST(RouteSpecTest, ExactRoute)
{
    auto c = check_route(route("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}));
    ASSERT_TRUE(c.value);
    EXPECT_TRUE(c.issues.empty());
    const RouteSpec& r = *c.value;
    EXPECT_EQ(r.iif.view(), "eth0");
    EXPECT_EQ(r.source.str(), "10.0.0.1");
    EXPECT_EQ(r.group.str(), "225.1.2.3");
    ASSERT_EQ(r.oifs.size(), 2u);
    EXPECT_EQ(r.oifs[0].view(), "eth1");
    EXPECT_EQ(r.oifs[1].view(), "eth2");
    EXPECT_FALSE(r.any_source());
    EXPECT_FALSE(r.is_template());
    EXPECT_EQ(r.family(), Family::inet);
    EXPECT_EQ(r.key_str(), "(10.0.0.1, 225.1.2.3)");
}

TEST(RouteSpecTest, AnySourceSpellings)
{
    for (std::string_view s : {"", "*", "0.0.0.0", "0.0.0.0/0", "10.0.0.0/0"}) {
        auto c = check_route(route("eth0", s, "225.1.2.0/24", {"eth1"}));
        ASSERT_TRUE(c.value) << s;
        EXPECT_TRUE(c.value->any_source()) << s;
        EXPECT_TRUE(c.value->is_template());
        EXPECT_EQ(c.value->source, (Prefix{IpAddr::any(Family::inet), 0}));
        EXPECT_EQ(c.value->key_str(), "(*, 225.1.2.0/24)");
    }
    for (std::string_view s : {"", "*", "::", "::/0"}) {
        auto c = check_route(route("eth0", s, "ff0e::1", {"eth1"}));
        ASSERT_TRUE(c.value) << s;
        EXPECT_TRUE(c.value->any_source());
        EXPECT_EQ(c.value->source.family(), Family::inet6) << s;
        EXPECT_EQ(c.value->key_str(), "(*, ff0e::1)");
    }
}

TEST(RouteSpecTest, SourcePrefixKey)
{
    auto c = check_route(route("eth0", "10.1.2.3/8", "225.1.2.3", {"eth1"}));
    ASSERT_TRUE(c.value);
    EXPECT_EQ(c.value->key_str(), "(10.0.0.0/8, 225.1.2.3)");
    EXPECT_TRUE(c.value->is_template());
}

TEST(RouteSpecTest, WildcardIifIsTemplate)
{
    auto c = check_route(route("eth+", "10.0.0.1", "225.1.2.3", {"eth0"}));
    ASSERT_TRUE(c.value);
    EXPECT_TRUE(c.value->is_template());
    EXPECT_TRUE(c.issues.empty()); // no IIF == OIF warning for a wildcard
}

TEST(RouteSpecTest, MixedFamilies)
{
    EXPECT_EQ(only_error(check_route(route("eth0", "10.0.0.1", "ff0e::1", {"eth1"})), arg::source),
              "source 10.0.0.1 is IPv4 but group ff0e::1 is IPv6");
    EXPECT_EQ(only_error(check_route(route("eth0", "fe80::1", "225.1.2.3", {"eth1"})), arg::source),
              "source fe80::1 is IPv6 but group 225.1.2.3 is IPv4");
    EXPECT_EQ(only_error(check_route(route("eth0", "0.0.0.0", "ff0e::1", {"eth1"})), arg::source),
              "source 0.0.0.0 is IPv4 but group ff0e::1 is IPv6");
}

TEST(RouteSpecTest, UnicastGroup)
{
    EXPECT_EQ(only_error(check_route(route("eth0", "", "10.0.0.1", {"eth1"})), arg::group),
              "group 10.0.0.1 is not a multicast address");
    EXPECT_EQ(only_error(check_route(route("eth0", "", "fe80::1", {"eth1"})), arg::group),
              "group fe80::1 is not a multicast address");
    EXPECT_EQ(only_error(check_route(route("eth0", "", "224.0.0.0/3", {"eth1"})), arg::group),
              "group range 224.0.0.0/3 is not entirely multicast (224.0.0.0/4)");
    EXPECT_EQ(only_error(check_route(route("eth0", "", "ff00::/7", {"eth1"})), arg::group),
              "group ff00::/7 is not a multicast address");
    EXPECT_TRUE(check_route(route("eth0", "", "224.0.0.0/4", {"eth1"})).value);
    EXPECT_TRUE(check_route(route("eth0", "", "ff00::/8", {"eth1"})).value);
}

TEST(RouteSpecTest, MulticastOrBroadcastSource)
{
    EXPECT_EQ(only_error(check_route(route("eth0", "225.1.1.1", "225.1.2.3", {"eth1"})), arg::source),
              "source 225.1.1.1 is a multicast address; a source must be the unicast address of a sender");
    EXPECT_EQ(only_error(check_route(route("eth0", "ff0e::5", "ff0e::1", {"eth1"})), arg::source),
              "source ff0e::5 is a multicast address; a source must be the unicast address of a sender");
    EXPECT_EQ(only_error(check_route(route("eth0", "255.255.255.255", "225.1.2.3", {"eth1"})), arg::source),
              "source 255.255.255.255 is the broadcast address; a source must be the unicast address of a sender");
}

TEST(RouteSpecTest, PrefixLengthOutOfRange)
{
    EXPECT_EQ(only_error(check_route(route("eth0", "", "225.1.2.3/33", {"eth1"})), arg::group),
              "prefix length 33 out of range 0-32 for IPv4 in '225.1.2.3/33'");
    EXPECT_EQ(only_error(check_route(route("eth0", "::1/129", "ff0e::1", {"eth1"})), arg::source),
              "prefix length 129 out of range 0-128 for IPv6 in '::1/129'");
    EXPECT_EQ(only_error(check_route(route("eth0", "", "ff0e::1/129", {"eth1"})), arg::group),
              "prefix length 129 out of range 0-128 for IPv6 in 'ff0e::1/129'");
    EXPECT_EQ(only_error(check_route(route("eth0", "", "bogus", {"eth1"})), arg::group),
              "invalid address 'bogus'");
}

TEST(RouteSpecTest, InterfaceNames)
{
    EXPECT_EQ(only_error(check_route(route("abcdefghijklmnop", "", "225.1.2.3", {"eth1"})), arg::iif),
              "interface name 'abcdefghijklmnop' is longer than 15 characters");
    EXPECT_EQ(only_error(check_route(route("eth0", "", "225.1.2.3", {"eth1", "abcdefghijklmnop"})),
                         arg::first_oif + 1),
              "interface name 'abcdefghijklmnop' is longer than 15 characters");
    EXPECT_TRUE(check_route(route("abcdefghijklmno", "", "225.1.2.3", {"eth1"})).value);
}

TEST(RouteSpecTest, OifLimit)
{
    std::vector<std::string> names;
    for (int i = 0; i < 33; ++i)
        names.push_back("veth" + std::to_string(i));
    std::vector<std::string_view> views(names.begin(), names.end());

    std::vector<std::string_view> first32(views.begin(), views.begin() + 32);
    auto ok = check_route(route("eth0", "", "225.1.2.3", first32));
    ASSERT_TRUE(ok.value);
    EXPECT_EQ(ok.value->oifs.size(), 32u);

    EXPECT_EQ(only_error(check_route(route("eth0", "", "225.1.2.3", views)), arg::first_oif + 32),
              "too many outbound interfaces: 33 given, at most 32");

    // Duplicates do not count.
    auto dup = first32;
    dup.push_back("veth0");
    dup.push_back("veth31");
    auto d = check_route(route("eth0", "", "225.1.2.3", dup));
    ASSERT_TRUE(d.value);
    EXPECT_EQ(d.value->oifs.size(), 32u);
}

TEST(RouteSpecTest, DuplicateOifsDropped)
{
    auto c = check_route(route("eth0", "", "225.1.2.3", {"eth1", "eth2", "eth1"}));
    ASSERT_TRUE(c.value);
    EXPECT_TRUE(c.issues.empty());
    ASSERT_EQ(c.value->oifs.size(), 2u);
    EXPECT_EQ(c.value->oifs[0].view(), "eth1");
    EXPECT_EQ(c.value->oifs[1].view(), "eth2");
}

// No OIF is a stop filter, (S,G) or (*,G), as in SMCRoute 2.x: valid, no issue.
TEST(RouteSpecTest, NoOifsIsAStopFilter)
{
    auto rule = check_route(route("eth0", "", "225.1.2.3", {}));
    ASSERT_TRUE(rule.value);
    EXPECT_TRUE(rule.issues.empty());
    EXPECT_TRUE(rule.value->oifs.empty());
    EXPECT_TRUE(rule.value->is_template());
    auto stop = check_route(route("eth0", "10.0.0.1", "225.1.2.3", {}));
    ASSERT_TRUE(stop.value);
    EXPECT_TRUE(stop.issues.empty());
    EXPECT_TRUE(stop.value->oifs.empty());
    EXPECT_FALSE(stop.value->is_template());
    // The other checks still apply.
    EXPECT_EQ(only_error(check_route(route("eth0", "10.0.0.1", "10.1.2.3", {})), arg::group),
              "group 10.1.2.3 is not a multicast address");
}

TEST(RouteSpecTest, LinkLocalGroupWarns)
{
    auto c = check_route(route("eth0", "", "224.0.0.251", {"eth1"}));
    ASSERT_TRUE(c.value); // a warning keeps the value
    ASSERT_EQ(c.issues.size(), 1u);
    EXPECT_EQ(c.issues[0].severity, Severity::warning);
    EXPECT_EQ(c.issues[0].arg, arg::group);
    EXPECT_EQ(c.issues[0].message,
              "group 224.0.0.251 is link-local (224.0.0.0/24): the kernel never forwards it");

    auto v6 = check_route(route("eth0", "", "ff02::fb", {"eth1"}));
    ASSERT_TRUE(v6.value);
    ASSERT_EQ(v6.issues.size(), 1u);
    EXPECT_EQ(v6.issues[0].message, "group ff02::fb is link-local (ff02::/16): the kernel never forwards it");

    // A wide template that merely includes the link-local range does not warn.
    EXPECT_TRUE(check_route(route("eth0", "", "224.0.0.0/4", {"eth1"})).issues.empty());
    EXPECT_TRUE(check_route(route("eth0", "", "224.0.1.1", {"eth1"})).issues.empty());
}

TEST(RouteSpecTest, IifEqualsOifWarns)
{
    auto c = check_route(route("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth0"}));
    ASSERT_TRUE(c.value);
    ASSERT_EQ(c.issues.size(), 1u);
    EXPECT_EQ(c.issues[0].severity, Severity::warning);
    EXPECT_EQ(c.issues[0].arg, arg::first_oif + 1);
    EXPECT_EQ(c.issues[0].message, "outbound interface eth0 is also the inbound interface: traffic may loop");
    EXPECT_EQ(c.value->oifs.size(), 2u);
}

TEST(RouteSpecTest, SeveralErrorsAtOnce)
{
    auto c = check_route(route("abcdefghijklmnopq", "225.1.1.1", "10.0.0.1", {"x/y"}));
    EXPECT_FALSE(c.value);
    ASSERT_EQ(c.issues.size(), 4u);
    EXPECT_EQ(c.issues[0].arg, arg::iif);
    EXPECT_EQ(c.issues[1].arg, arg::source);
    EXPECT_EQ(c.issues[2].arg, arg::group);
    EXPECT_EQ(c.issues[3].arg, arg::first_oif);
    EXPECT_EQ(c.issues[3].message, "invalid interface name 'x/y'");
}

TEST(RouteSpecTest, JoinAsm)
{
    auto c = check_join(JoinText{"eth0", "", "225.1.2.3"});
    ASSERT_TRUE(c.value);
    EXPECT_TRUE(c.issues.empty());
    EXPECT_FALSE(c.value->source);
    EXPECT_EQ(c.value->expansion(), 1u);
    EXPECT_EQ(c.value->key_str(), "(*, 225.1.2.3)");
    for (std::string_view s : {"*", "0.0.0.0", "0.0.0.0/0"}) {
        auto a = check_join(JoinText{"eth0", s, "225.1.2.3"});
        ASSERT_TRUE(a.value) << s;
        EXPECT_FALSE(a.value->source) << s;
    }
}

TEST(RouteSpecTest, JoinSsm)
{
    auto c = check_join(JoinText{"eth0", "10.0.0.1", "232.1.2.3"});
    ASSERT_TRUE(c.value);
    ASSERT_TRUE(c.value->source);
    EXPECT_EQ(c.value->source->str(), "10.0.0.1");
    EXPECT_EQ(c.value->key_str(), "(10.0.0.1, 232.1.2.3)");
    EXPECT_EQ(c.value->family(), Family::inet);

    auto v6 = check_join(JoinText{"eth0", "2001:db8::1", "ff3e::1"});
    ASSERT_TRUE(v6.value);
    EXPECT_EQ(v6.value->key_str(), "(2001:db8::1, ff3e::1)");
}

TEST(RouteSpecTest, JoinExpansion)
{
    auto c = check_join(JoinText{"eth0", "10.0.0.0/30", "225.1.2.0/24"});
    ASSERT_TRUE(c.value);
    EXPECT_EQ(c.value->expansion(), 4u * 256u);

    JoinSpec huge;
    huge.group = *Prefix::parse("ff0e::/16");
    EXPECT_EQ(huge.expansion(), std::numeric_limits<uint64_t>::max());
    huge.group = *Prefix::parse("ff0e::/65");
    EXPECT_EQ(huge.expansion(), uint64_t{1} << 63);
}

TEST(RouteSpecTest, JoinRangeLimit)
{
    EXPECT_TRUE(check_join(JoinText{"eth0", "", "225.0.0.0/22"}).value); // exactly 1024
    EXPECT_EQ(only_error(check_join(JoinText{"eth0", "", "225.0.0.0/16"}), arg::group),
              "group range 225.0.0.0/16 expands to 65536 joins, more than the limit of 1024");
    EXPECT_EQ(only_error(check_join(JoinText{"eth0", "", "ff0e::/16"}), arg::group),
              "group range ff0e::/16 expands to 2^112 joins, more than the limit of 1024");
    EXPECT_EQ(only_error(check_join(JoinText{"eth0", "10.0.0.0/16", "232.1.1.1"}), arg::source),
              "source range 10.0.0.0/16 expands to 65536 joins, more than the limit of 1024");
    EXPECT_EQ(only_error(check_join(JoinText{"eth0", "10.0.0.0/28", "232.1.1.0/25"}), arg::group),
              "source range 10.0.0.0/28 and group range 232.1.1.0/25 expand to 2048 joins, more than the limit of 1024");
    // A raised limit allows more.
    auto big = check_join(JoinText{"eth0", "", "225.0.0.0/16"}, 65536);
    ASSERT_TRUE(big.value);
    EXPECT_EQ(big.value->expansion(), 65536u);
}

TEST(RouteSpecTest, JoinValidation)
{
    EXPECT_EQ(only_error(check_join(JoinText{"eth0", "10.0.0.1", "ff0e::1"}), arg::source),
              "source 10.0.0.1 is IPv4 but group ff0e::1 is IPv6");
    EXPECT_EQ(only_error(check_join(JoinText{"eth0", "", "10.0.0.1"}), arg::group),
              "group 10.0.0.1 is not a multicast address");
    EXPECT_EQ(only_error(check_join(JoinText{"eth0", "225.1.1.1", "225.1.1.2"}), arg::source),
              "source 225.1.1.1 is a multicast address; a source must be the unicast address of a sender");
    EXPECT_EQ(only_error(check_join(JoinText{"", "", "225.1.1.2"}), arg::iif), "empty interface name");
}

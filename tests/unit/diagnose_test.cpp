#include "smcroute/model/diagnose.hpp"
#include "smcroute/base/log.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace smcroute;

namespace {

Prefix pfx(const char* text)
{
    auto p = Prefix::parse(text);
    EXPECT_TRUE(p.ok()) << text;
    return p.ok() ? *p : Prefix{};
}

IfFacts iface(const char* name, unsigned index, const char* subnet)
{
    IfFacts f;
    f.name = name;
    f.index = index;
    f.up = true;
    f.carrier = true;
    f.multicast = true;
    f.has_v4_address = true;
    f.has_v6_address = true;
    f.v4_subnets.push_back(pfx(subnet));
    f.rp_filter = 0;
    f.v4_vif = true;
    f.v6_vif = true;
    return f;
}

// A healthy router: a1 (sender side, 10.0.1.0/24), b1, b2; lo; our daemon
// running and holding both tables.
SystemFacts good_facts()
{
    SystemFacts s;
    IfFacts lo = iface("lo", 1, "127.0.0.0/8");
    lo.loopback = true;
    lo.multicast = false;
    lo.v4_vif = lo.v6_vif = false;
    s.interfaces = {lo, iface("a1", 2, "10.0.1.0/24"), iface("b1", 3, "10.0.2.0/24"), iface("b2", 4, "10.0.3.0/24")};
    s.daemon_answers = true;
    s.v4.holder = TableHolder::held;
    s.v6.holder = TableHolder::held;
    s.all_rp_filter = 0;
    s.igmp_max_memberships = 20;
    s.nofile_limit = 1024;
    return s;
}

IfFacts& facts_of(SystemFacts& s, const char* name)
{
    for (auto& i : s.interfaces)
        if (i.name == name)
            return i;
    ADD_FAILURE() << "no interface " << name;
    return s.interfaces.front();
}

CheckRequest config(std::string_view text)
{
    MemoryFiles files;
    ParseResult parsed = parse_config_text(text, "test.conf", files);
    EXPECT_EQ(parsed.error_count(), 0u) << (parsed.diagnostics.empty() ? "" : parsed.diagnostics.front().format());
    CheckRequest req;
    req.config = std::move(parsed.config);
    return req;
}

constexpr std::string_view good_conf = "phyint a1 enable\n"
                                       "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2\n"
                                       "mroute from a1 group 225.1.3.0/24 to b1\n"
                                       "mroute from a1 source fd01::2 group ff0e::123 to b2\n"
                                       "mgroup from b1 group 225.9.9.9\n"
                                       "mgroup from b2 source fd03::5 group ff3e::1\n";

std::string dump(const std::vector<Finding>& fs)
{
    std::string out;
    for (const auto& f : fs)
        out += cat(f.severity == Severity::error ? "problem: " : "warning: ", f.subject, ": ", f.message, " | fix: ",
                   f.fix, "\n");
    return out;
}

// The one finding about subject whose message contains `needle`.
const Finding* find(const std::vector<Finding>& fs, std::string_view subject, std::string_view needle)
{
    for (const auto& f : fs)
        if (f.subject == subject && f.message.find(needle) != std::string::npos)
            return &f;
    return nullptr;
}

size_t count(const std::vector<Finding>& fs, Severity sev)
{
    return static_cast<size_t>(std::count_if(fs.begin(), fs.end(), [&](const Finding& f) { return f.severity == sev; }));
}

} // namespace

TEST(Diagnose, AllGoodHasNoFindings)
{
    auto fs = diagnose(config(good_conf), good_facts());
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(Diagnose, EmptyConfigNeedsNoFindingWithTheDaemonRunning)
{
    EXPECT_TRUE(diagnose(config("# nothing\n"), good_facts()).empty());
}

// An empty config still needs a daemon (routes come by the client) and a
// kernel that routes multicast.
TEST(Diagnose, EmptyConfigWithoutDaemonIsAProblem)
{
    SystemFacts s = good_facts();
    s.daemon_answers = false;
    s.v4.holder = s.v6.holder = TableHolder::nobody;
    auto fs = diagnose(config("# nothing\n"), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "daemon");
    EXPECT_EQ(fs[0].severity, Severity::error);
}

TEST(Diagnose, EmptyConfigOnAKernelWithoutMulticastRouting)
{
    SystemFacts s = good_facts();
    s.daemon_answers = false;
    s.v4 = s.v6 = FamilyFacts{false, TableHolder::unknown, {}};
    auto fs = diagnose(config("# nothing\n"), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "kernel");
    EXPECT_EQ(fs[0].severity, Severity::error);
    EXPECT_NE(fs[0].message.find("CONFIG_IP_MROUTE"), std::string::npos);
    // One family is enough for an empty config: the other is not reported.
    s.v4.kernel_support = true;
    s.v4.holder = TableHolder::nobody;
    fs = diagnose(config("# nothing\n"), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "daemon");
}

// Disabled interfaces, loops, link-local groups and conflicting routes are
// the config's own rules (config_judge_test): check gets them from there.
TEST(Diagnose, ConfigRulesAreNotRepeated)
{
    auto fs = diagnose(config("phyint b+ disable\n"
                              "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 a1\n"
                              "mroute from b2 source 10.0.1.2 group 225.1.2.3 to b+\n"
                              "mroute from a1 group 224.0.0.251 to b1\n"),
                       good_facts());
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(Diagnose, NoDaemonRunningReportedOnceWithStartCommand)
{
    SystemFacts s = good_facts();
    s.daemon_answers = false;
    s.v4.holder = s.v6.holder = TableHolder::nobody;
    CheckRequest req = config(good_conf);
    req.daemon_command = "smcroute -d --config /x.conf";
    auto fs = diagnose(req, s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].severity, Severity::error);
    EXPECT_EQ(fs[0].subject, "daemon");
    EXPECT_EQ(fs[0].message, "no multicast routing daemon is running: the kernel forwards nothing");
    EXPECT_EQ(fs[0].fix, "smcroute -d --config /x.conf");
}

TEST(Diagnose, DaemonAnswersButHoldsNoTable)
{
    SystemFacts s = good_facts();
    s.v6.holder = TableHolder::nobody;
    auto fs = diagnose(config(good_conf), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "IPv6 routing");
    EXPECT_NE(fs[0].message.find("nothing holds the IPv6 multicast routing table"), std::string::npos);
}

TEST(Diagnose, TableHeldByAnotherProgram)
{
    SystemFacts s = good_facts();
    s.daemon_answers = false;
    s.v4.holder_detail = "pid 42 (igmpproxy)";
    s.table = 3;
    auto fs = diagnose(config(good_conf), s);
    const Finding* v4 = find(fs, "IPv4 routing table 3", "held by another program, pid 42 (igmpproxy)");
    ASSERT_NE(v4, nullptr) << dump(fs);
    EXPECT_EQ(v4->severity, Severity::error);
    EXPECT_NE(v4->fix.find("--table"), std::string::npos);
    const Finding* v6 = find(fs, "IPv6 routing table 3", "held by another program, not by smcroute");
    EXPECT_NE(v6, nullptr) << dump(fs);
    EXPECT_EQ(fs.size(), 2u) << dump(fs);
}

TEST(Diagnose, UnknownHolderIsAWarning)
{
    SystemFacts s = good_facts();
    s.daemon_answers = false;
    s.v4.holder = TableHolder::unknown;
    auto fs = diagnose(config("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].severity, Severity::warning);
    EXPECT_NE(fs[0].message.find("cannot tell"), std::string::npos);
}

TEST(Diagnose, NoKernelSupportOnlyForFamiliesInUse)
{
    SystemFacts s = good_facts();
    s.v6.kernel_support = false;
    auto fs = diagnose(config("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"), s);
    EXPECT_TRUE(fs.empty()) << dump(fs);
    fs = diagnose(config(good_conf), s);
    ASSERT_NE(find(fs, "IPv6 routing", "CONFIG_IPV6_MROUTE"), nullptr) << dump(fs);
    EXPECT_EQ(count(fs, Severity::error), 1u) << dump(fs);
}

TEST(Diagnose, MissingInterface)
{
    auto fs = diagnose(config("mroute from a1 source 10.0.1.2 group 225.1.2.3 to eth7\n"), good_facts());
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].severity, Severity::error);
    EXPECT_EQ(fs[0].subject, "eth7");
    EXPECT_NE(fs[0].message.find("no such interface"), std::string::npos);
}

TEST(Diagnose, PhyintOnlyInterfaces)
{
    // A phyint naming a missing interface is only a warning; an existing one
    // that nothing routes is not checked at all.
    SystemFacts s = good_facts();
    facts_of(s, "b2").up = false;
    auto fs = diagnose(config("phyint eth9 enable\nphyint b2 enable\n"), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].severity, Severity::warning);
    EXPECT_EQ(fs[0].subject, "eth9");
    EXPECT_NE(fs[0].message.find("test.conf:1"), std::string::npos);
}

TEST(Diagnose, InterfaceDownReportedOnce)
{
    SystemFacts s = good_facts();
    facts_of(s, "b1").up = false;
    auto fs = diagnose(config(good_conf), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "b1");
    EXPECT_EQ(fs[0].message, "interface is down");
    EXPECT_EQ(fs[0].fix, "ip link set b1 up");
}

TEST(Diagnose, NoCarrier)
{
    SystemFacts s = good_facts();
    facts_of(s, "a1").carrier = false;
    auto fs = diagnose(config(good_conf), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_NE(fs[0].message.find("no carrier"), std::string::npos);
}

TEST(Diagnose, NoMulticastFlag)
{
    SystemFacts s = good_facts();
    facts_of(s, "b2").multicast = false;
    auto fs = diagnose(config(good_conf), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].message, "interface has no MULTICAST flag");
    EXPECT_EQ(fs[0].fix, "ip link set b2 multicast on");
}

TEST(Diagnose, LoopbackNeverRouted)
{
    auto fs = diagnose(config("mroute from a1 source 10.0.1.2 group 225.1.2.3 to lo\n"), good_facts());
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "lo");
    EXPECT_NE(fs[0].message.find("loopback"), std::string::npos);
}

TEST(Diagnose, NoAddressInFamily)
{
    SystemFacts s = good_facts();
    facts_of(s, "b1").has_v4_address = false;
    facts_of(s, "b1").v4_subnets.clear();
    facts_of(s, "b2").has_v6_address = false;
    auto fs = diagnose(config(good_conf), s);
    const Finding* v4 = find(fs, "b1", "no IPv4 address");
    ASSERT_NE(v4, nullptr) << dump(fs);
    EXPECT_EQ(v4->severity, Severity::warning);
    EXPECT_EQ(v4->fix, "ip addr add ADDRESS/LEN dev b1");
    const Finding* v6 = find(fs, "b2", "no IPv6 address");
    ASSERT_NE(v6, nullptr) << dump(fs);
    EXPECT_EQ(v6->severity, Severity::error);
    EXPECT_EQ(v6->fix, "sysctl -w net.ipv6.conf.b2.disable_ipv6=0");
    EXPECT_EQ(fs.size(), 2u) << dump(fs);

    // b2 used only for IPv4: its missing IPv6 address does not matter.
    fs = diagnose(config("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b2\n"), s);
    EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(Diagnose, TtlThresholdOnOif)
{
    auto fs = diagnose(config("phyint b1 ttl-threshold 8\nphyint a1 ttl-threshold 9\n"
                              "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"),
                       good_facts());
    ASSERT_EQ(fs.size(), 1u) << dump(fs); // a1 is only an IIF
    EXPECT_EQ(fs[0].severity, Severity::warning);
    EXPECT_EQ(fs[0].subject, "b1");
    EXPECT_NE(fs[0].message.find("senders must use TTL 9 or more"), std::string::npos) << fs[0].message;
}

TEST(Diagnose, DaemonHasNoVifYetOnlyForWholeConfig)
{
    SystemFacts s = good_facts();
    facts_of(s, "b2").v4_vif = false;
    CheckRequest req = config("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b2\n");
    auto fs = diagnose(req, s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].severity, Severity::warning);
    EXPECT_NE(fs[0].message.find("net.ipv4.conf.b2.mc_forwarding is 0"), std::string::npos);
    EXPECT_EQ(fs[0].fix, "smcroute reload");
    req.whole_config = false;
    EXPECT_TRUE(diagnose(req, s).empty());
    s.daemon_answers = false; // then there is no VIF to expect
    req.whole_config = true;
    fs = diagnose(req, s);
    EXPECT_EQ(find(fs, "b2", "mc_forwarding"), nullptr) << dump(fs);
}

TEST(Diagnose, WildcardWithoutMatch)
{
    auto fs = diagnose(config("mroute from a1 group 225.1.2.0/24 to b+\nmgroup from eth+ group 225.3.3.3\n"),
                       good_facts());
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "eth+");
    EXPECT_NE(fs[0].message.find("no interface matches eth+"), std::string::npos);
}

TEST(Diagnose, RpFilterStrictWithRouteElsewhere)
{
    SystemFacts s = good_facts();
    facts_of(s, "a1").rp_filter = 1;
    s.route_to_source[*IpAddr::parse("10.0.1.2")] = "a1";
    s.route_to_source[*IpAddr::parse("10.7.7.7")] = "b1";
    auto fs = diagnose(config("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"
                              "mroute from a1 source 10.7.7.7 group 225.1.2.3 to b1\n"),
                       s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].severity, Severity::error);
    EXPECT_EQ(fs[0].subject, "route (10.7.7.7, 225.1.2.3) from a1 (test.conf:2)");
    EXPECT_NE(fs[0].message.find("strict (net.ipv4.conf.a1.rp_filter = 1)"), std::string::npos) << fs[0].message;
    EXPECT_NE(fs[0].message.find("goes out of b1, not a1"), std::string::npos) << fs[0].message;
    EXPECT_EQ(fs[0].fix.substr(0, fs[0].fix.find("   ")), "sysctl -w net.ipv4.conf.a1.rp_filter=0");
}

TEST(Diagnose, RpFilterEffectiveIsMaxOfAllAndIif)
{
    SystemFacts s = good_facts();
    s.all_rp_filter = 1;
    facts_of(s, "a1").rp_filter = 0;
    s.route_to_source[*IpAddr::parse("10.7.7.7")] = "b1";
    auto fs = diagnose(config("mroute from a1 source 10.7.7.7 group 225.1.2.3 to b1\n"), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].fix.substr(0, fs[0].fix.find("   ")), "sysctl -w net.ipv4.conf.all.rp_filter=0");
    s.all_rp_filter = 0;
    EXPECT_TRUE(diagnose(config("mroute from a1 source 10.7.7.7 group 225.1.2.3 to b1\n"), s).empty());
}

TEST(Diagnose, RpFilterLooseOnlyDropsUnroutedSources)
{
    SystemFacts s = good_facts();
    facts_of(s, "a1").rp_filter = 2;
    s.route_to_source[*IpAddr::parse("10.7.7.7")] = "b1";
    s.route_to_source[*IpAddr::parse("10.8.8.8")] = "";
    auto fs = diagnose(config("mroute from a1 source 10.7.7.7 group 225.1.2.3 to b1\n"
                              "mroute from a1 source 10.8.8.8 group 225.1.2.3 to b1\n"),
                       s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_NE(fs[0].subject.find("10.8.8.8"), std::string::npos);
    EXPECT_NE(fs[0].message.find("no route back to 10.8.8.8"), std::string::npos);
}

TEST(Diagnose, RpFilterWithoutLookupFallsBackToConnectedSubnets)
{
    SystemFacts s = good_facts();
    facts_of(s, "a1").rp_filter = 1;
    auto fs = diagnose(config("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"
                              "mroute from a1 source 10.9.0.1 group 225.1.2.3 to b1\n"
                              "mroute from a1 group 225.1.2.4 to b1\n"),
                       s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].severity, Severity::warning);
    EXPECT_NE(fs[0].message.find("10.9.0.1 is not on a subnet of a1"), std::string::npos);
}

TEST(Diagnose, IgmpMaxMembershipsZero)
{
    SystemFacts s = good_facts();
    s.igmp_max_memberships = 0;
    auto fs = diagnose(config(good_conf), s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "joins");
    EXPECT_EQ(fs[0].fix, "sysctl -w net.ipv4.igmp_max_memberships=20");
    // No IPv4 joins: irrelevant.
    EXPECT_TRUE(diagnose(config("mgroup from b2 group ff0e::1\n"), s).empty());
}

TEST(Diagnose, JoinsNeedMoreSocketsThanTheFileLimit)
{
    SystemFacts s = good_facts();
    s.igmp_max_memberships = 20;
    s.nofile_limit = nofile_margin + 10; // room for 10 sockets = 200 joins
    auto small = config("mgroup from b1 group 225.1.0.0/24\n"); // 256 joins: 13 sockets
    auto fs = diagnose(small, s);
    ASSERT_EQ(fs.size(), 1u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "joins");
    EXPECT_NE(fs[0].message.find("256 IPv4 joins need 13 membership sockets"), std::string::npos) << fs[0].message;
    EXPECT_EQ(fs[0].fix.substr(0, fs[0].fix.find("   ")), "sysctl -w net.ipv4.igmp_max_memberships=26");
    s.nofile_limit = nofile_margin + 13;
    EXPECT_TRUE(diagnose(small, s).empty());
}

TEST(Diagnose, Helpers)
{
    auto req = config(good_conf);
    auto srcs = sources_to_look_up(req.config);
    ASSERT_EQ(srcs.size(), 1u);
    EXPECT_EQ(srcs[0].str(), "10.0.1.2");
    EXPECT_TRUE(uses_family(req.config, Family::inet));
    EXPECT_TRUE(uses_family(req.config, Family::inet6));
    EXPECT_FALSE(uses_family(config("mroute from a1 group 225.1.2.3 to b1\n").config, Family::inet6));
}

TEST(Diagnose, FindingsComeInOrderSystemInterfacesRoutes)
{
    SystemFacts s = good_facts();
    s.daemon_answers = false;
    s.v4.holder = TableHolder::nobody;
    facts_of(s, "b1").up = false;
    facts_of(s, "a1").rp_filter = 1;
    s.route_to_source[pfx("10.0.1.2/32").addr] = "";
    auto fs = diagnose(config("mroute from a1 source 10.0.1.2 group 225.1.2.9 to b1\n"), s);
    ASSERT_EQ(fs.size(), 3u) << dump(fs);
    EXPECT_EQ(fs[0].subject, "daemon");
    EXPECT_EQ(fs[1].subject, "b1");
    EXPECT_NE(fs[2].subject.find("route"), std::string::npos);
}

TEST(Diagnose, ProxyInterfacesAreChecked)
{
    // A proxy line alone makes the interface one that carries traffic: a
    // missing one is a problem, a down one too, but an existing healthy one
    // gives no finding.
    EXPECT_EQ(dump(diagnose(config("phyint a1 upstream\nphyint b1 downstream\n"), good_facts())), "");
    SystemFacts s = good_facts();
    facts_of(s, "b1").up = false;
    auto fs = diagnose(config("phyint a1 upstream\nphyint b1 downstream\nphyint eth9 downstream igmp\n"), s);
    EXPECT_EQ(dump(fs), "problem: b1: interface is down | fix: ip link set b1 up\n"
                        "problem: eth9: no such interface: the proxy's downstream (phyint at test.conf:3): nothing is "
                        "proxied through it while it is missing | fix: ip link show (check the name), or create eth9\n");
}

TEST(Diagnose, ProxyInterfaceWithoutAnAddressOfItsFamily)
{
    SystemFacts s = good_facts();
    facts_of(s, "a1").has_v4_address = false;
    facts_of(s, "b1").has_v6_address = false;
    auto fs = diagnose(config("phyint a1 upstream igmp\nphyint b1 downstream\nphyint b2 downstream igmp\n"), s);
    EXPECT_EQ(count(fs, Severity::error), 0u) << dump(fs);
    ASSERT_TRUE(find(fs, "a1", "the proxy's IGMP messages (its upstream) go out from 0.0.0.0")) << dump(fs);
    ASSERT_TRUE(find(fs, "b1", "the proxy's MLD part (its downstream) cannot run on it")) << dump(fs);
    EXPECT_EQ(fs.size(), 2u) << dump(fs);
    // An igmp-only line needs no IPv6 address.
    facts_of(s, "b2").has_v6_address = false;
    EXPECT_EQ(diagnose(config("phyint b2 downstream igmp\n"), s).size(), 0u);
}

TEST(Diagnose, ProxyLinesUseTheirFamilies)
{
    Config c = config("phyint a1 upstream mld\n").config;
    EXPECT_FALSE(uses_family(c, Family::inet));
    EXPECT_TRUE(uses_family(c, Family::inet6));
    Config both = config("phyint a1 downstream\n").config;
    EXPECT_TRUE(uses_family(both, Family::inet));
    EXPECT_TRUE(uses_family(both, Family::inet6));
    EXPECT_FALSE(uses_family(config("phyint a1 enable\n").config, Family::inet));
}

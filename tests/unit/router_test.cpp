// Unit tests for runtime/router: the routing engine driven against a fake
// kernel. Every expectation about the kernel is read back from what the fake
// recorded (VIF slots by ifindex, MFC entries with their iif and OIF TTLs).
#include "fake_kernel.hpp"
#include "route_words.hpp"

#include "smcroute/runtime/router.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <net/if.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>

namespace smcroute {
namespace {

using test::FakeKernel;
using test::FakeMfc;
using test::spec;

Interface make_iface(std::string_view name, unsigned index, unsigned flags = IFF_UP | IFF_MULTICAST)
{
    Interface i;
    i.name = IfName::parse(name).value();
    i.index = index;
    i.flags = flags;
    return i;
}

IpAddr ip(std::string_view text)
{
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a) << text;
    return a ? *a : IpAddr{};
}

PhyintSpec phyint(std::string_view name, bool enable = true, uint8_t ttl = 1)
{
    PhyintSpec p;
    p.name = IfName::parse(name).value();
    p.enable = enable;
    p.ttl_threshold = ttl;
    return p;
}

Upcall nocache(unsigned vif, std::string_view source, std::string_view group)
{
    Upcall u;
    u.kind = Upcall::Kind::nocache;
    u.vif = vif;
    u.source = ip(source);
    u.group = ip(group);
    return u;
}

class RouterTest : public ::testing::Test {
protected:
    RouterTest()
    {
        log.set_level(LogLevel::none);
        base = {make_iface("eth0", 1), make_iface("eth1", 2), make_iface("eth2", 3), make_iface("eth3", 4),
                make_iface("lo", 5, IFF_UP | IFF_LOOPBACK)};
        router.set_interfaces(base);
    }
    void TearDown() override
    {
        EXPECT_TRUE(k4.misuse.empty()) << k4.misuse.front();
        EXPECT_TRUE(k6.misuse.empty()) << k6.misuse.front();
    }

    unsigned index_of(std::string_view name) const
    {
        const Interface* i = router.find_interface(name);
        EXPECT_TRUE(i) << name;
        return i ? i->index : 0;
    }
    // The kernel's VIF for an interface (from what the fake recorded).
    std::optional<unsigned> kvif(std::string_view name, const FakeKernel& k) const
    {
        return k.vif_of_ifindex(index_of(name));
    }
    std::optional<unsigned> kvif(std::string_view name) const { return kvif(name, k4); }
    unsigned must_vif(std::string_view name) const
    {
        auto v = kvif(name);
        EXPECT_TRUE(v) << "no VIF for " << name;
        return v.value_or(999);
    }
    std::string name_of_vif(const FakeKernel& k, unsigned vif) const
    {
        auto it = k.vifs.find(vif);
        if (it == k.vifs.end())
            return cat("<vif ", vif, " not added>");
        auto jt = router.interfaces().find(it->second.ifindex);
        return jt == router.interfaces().end() ? cat("<ifindex ", it->second.ifindex, ">") : jt->second.name.str();
    }
    std::string iif_name(const FakeMfc& e, const FakeKernel& k) const { return name_of_vif(k, e.iif_vif); }
    std::string iif_name(const FakeMfc& e) const { return iif_name(e, k4); }
    std::set<std::string> oif_names(const FakeMfc& e, const FakeKernel& k) const
    {
        std::set<std::string> out;
        for (unsigned v : e.oif_vifs())
            out.insert(name_of_vif(k, v));
        return out;
    }
    std::set<std::string> oif_names(const FakeMfc& e) const { return oif_names(e, k4); }
    std::set<std::string> vif_names(const FakeKernel& k) const
    {
        std::set<std::string> out;
        for (const auto& [vif, v] : k.vifs)
            out.insert(name_of_vif(k, vif));
        return out;
    }
    std::set<std::string> vif_names() const { return vif_names(k4); }
    const FakeMfc* mfc(std::string_view s, std::string_view g) const { return k4.find(ip(s), ip(g)); }

    std::vector<RouteView> views() const
    {
        std::vector<RouteView> out;
        router.for_each_route([&](const RouteView& v) { out.push_back(v); });
        return out;
    }
    // The view of one (S,G) entry (route, learned or stop).
    std::optional<RouteView> view_of(std::string_view s, std::string_view g) const
    {
        for (const auto& v : views())
            if (v.kind != RouteView::Kind::rule && v.key.source == ip(s) && v.key.group == ip(g))
                return v;
        return std::nullopt;
    }

    Logger log;
    FakeKernel k4{Family::inet};
    FakeKernel k6{Family::inet6};
    Router router{log, &k4, &k6};
    std::vector<Interface> base;
};

using Names = std::set<std::string>;

// (S,G) routes ------------------------------------------------------------------

TEST_F(RouterTest, SgRouteProgramsIifVifAndOifTtls)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    ASSERT_EQ(k4.mfc.size(), 1u);
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2"}));
    for (unsigned v : e->oif_vifs())
        EXPECT_EQ(e->oif_ttl[v], 1) << "default ttl-threshold is 1";
    EXPECT_EQ(e->oif_ttl[e->iif_vif], 0) << "the iif is not an oif";
    EXPECT_EQ(router.static_count(), 1u);
    EXPECT_TRUE(k6.mfc.empty());
    EXPECT_TRUE(k6.vifs.empty());
    // The router's own view of VIFs agrees with the kernel's.
    EXPECT_EQ(router.vif_of(Family::inet, index_of("eth0")), kvif("eth0"));
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->kind, RouteView::Kind::route);
    EXPECT_TRUE(v->active);
    EXPECT_EQ(v->iif, "eth0");
}

TEST_F(RouterTest, OifTtlIsPhyintTtlThreshold)
{
    router.set_phyints({phyint("eth1", true, 5), phyint("eth2", true, 64)});
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2", "eth3"}), Origin::config));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->oif_ttl[must_vif("eth1")], 5);
    EXPECT_EQ(e->oif_ttl[must_vif("eth2")], 64);
    EXPECT_EQ(e->oif_ttl[must_vif("eth3")], 1);
    EXPECT_EQ(k4.vifs.at(must_vif("eth1")).ttl_threshold, 5);
    EXPECT_EQ(k4.vifs.at(must_vif("eth2")).ttl_threshold, 64);
}

TEST_F(RouterTest, Ipv6RouteGoesToTheV6Kernel)
{
    ASSERT_TRUE(router.add(spec("eth0", "2001:db8::1", "ff0e::1", {"eth1"}), Origin::config));
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
    const FakeMfc* e = k6.find(ip("2001:db8::1"), ip("ff0e::1"));
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e, k6), "eth0");
    EXPECT_EQ(oif_names(*e, k6), (Names{"eth1"}));
}

// VIF allocation ------------------------------------------------------------------

TEST_F(RouterTest, VifsAreAllocatedLazilyForNamedInterfacesOnly)
{
    EXPECT_TRUE(k4.vifs.empty());
    EXPECT_TRUE(k6.vifs.empty());
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth2"}), Origin::config));
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth2"}));
    EXPECT_TRUE(k6.vifs.empty());
}

TEST_F(RouterTest, VifsAreReleasedWithTheirLastRoute)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.2", "225.1.2.3", {"eth1"}), Origin::config));
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1", "eth2"}));
    const unsigned vif_eth0 = must_vif("eth0");

    ASSERT_TRUE(router.remove(spec("eth0", "10.0.0.1", "225.1.2.3"), false));
    EXPECT_FALSE(mfc("10.0.0.1", "225.1.2.3"));
    EXPECT_TRUE(mfc("10.0.0.2", "225.1.2.3"));
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1"})) << "eth2 was used only by the removed route";
    EXPECT_EQ(must_vif("eth0"), vif_eth0) << "a VIF still in use keeps its slot";

    ASSERT_TRUE(router.remove(spec("eth0", "10.0.0.2", "225.1.2.3"), false));
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
    EXPECT_EQ(router.static_count(), 0u);
}

TEST_F(RouterTest, ThirtyThirdInterfaceIsAClearErrorNotACrash)
{
    std::vector<Interface> many;
    for (unsigned i = 0; i < 33; ++i)
        many.push_back(make_iface(cat("if", i), 100 + i));
    router.set_interfaces(many);
    // Sixteen routes use if0..if31: all 32 slots.
    for (unsigned i = 0; i < 32; i += 2) {
        std::string iif = cat("if", i), oif = cat("if", i + 1), src = cat("10.0.0.", i + 1);
        ASSERT_TRUE(router.add(spec(iif, src, "225.1.2.3", {oif}), Origin::config)) << i;
    }
    EXPECT_EQ(k4.vifs.size(), 32u);
    EXPECT_EQ(k4.mfc.size(), 16u);
    // One more interface.
    auto st = router.add(spec("if0", "10.9.9.9", "225.1.2.3", {"if32"}), Origin::client);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("no free VIF for if32"), std::string::npos) << st.error().message;
    EXPECT_EQ(k4.vifs.size(), 32u);
    EXPECT_EQ(k4.mfc.size(), 16u);
    EXPECT_FALSE(mfc("10.9.9.9", "225.1.2.3"));
    EXPECT_EQ(router.static_count(), 16u) << "a refused route is not kept";
    // The failed attempt took no extra reference on if0: removing if0's route frees it.
    ASSERT_TRUE(router.remove(spec("if0", "10.0.0.1", "225.1.2.3"), false));
    EXPECT_EQ(k4.vifs.size(), 30u);
    EXPECT_TRUE(router.add(spec("if0", "10.9.9.9", "225.1.2.3", {"if32"}), Origin::client));
}

TEST_F(RouterTest, RouteNeedingThirtyThreeVifsFailsAndHoldsNothing)
{
    std::vector<Interface> many;
    for (unsigned i = 0; i < 33; ++i)
        many.push_back(make_iface(cat("if", i), 100 + i));
    router.set_interfaces(many);
    std::vector<std::string> names;
    for (unsigned i = 1; i < 33; ++i)
        names.push_back(cat("if", i));
    std::vector<std::string_view> oifs(names.begin(), names.end());
    auto st = router.add(spec("if0", "10.0.0.1", "225.1.2.3", oifs), Origin::config);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("no free VIF"), std::string::npos) << st.error().message;
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty()) << "every VIF taken for the failed route is released";
    EXPECT_EQ(router.static_count(), 0u);
}

TEST_F(RouterTest, KernelRefusingMfcIsAnErrorAndReleasesVifs)
{
    k4.fail_add_mfc = true;
    auto st = router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::client);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("(10.0.0.1, 225.1.2.3)"), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("eth0"), std::string::npos) << st.error().message;
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
    EXPECT_EQ(router.static_count(), 0u);
}

// Conflicts, merge, remove ------------------------------------------------------------

TEST_F(RouterTest, SameSgFromAnotherIifIsRefusedNamingTheFirst)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    const unsigned calls = k4.add_mfc_calls;
    auto st = router.add(spec("eth2", "10.0.0.1", "225.1.2.3", {"eth3"}), Origin::client);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("eth0"), std::string::npos) << st.error().message;
    EXPECT_EQ(k4.add_mfc_calls, calls);
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1"}));
}

TEST_F(RouterTest, AddToExistingRouteMergesOifs)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth2", "eth1"}), Origin::client));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2"}));
    EXPECT_EQ(router.static_count(), 1u);
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v && v->spec);
    EXPECT_EQ(v->spec->oifs.size(), 2u);
}

TEST_F(RouterTest, RemoveWithOifsDropsOnlyThoseThenLeavesAStopFilter)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    ASSERT_TRUE(router.remove(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), true));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth2"}));
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth2"})) << "eth1's VIF is no longer used";

    ASSERT_TRUE(router.remove(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth2"}), true));
    e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e) << "a route left with no OIFs stays in the kernel and blocks";
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_TRUE(e->oif_vifs().empty());
    EXPECT_EQ(vif_names(), (Names{"eth0"}));
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->kind, RouteView::Kind::stop);
    EXPECT_TRUE(v->active);

    // And it is removed entirely without OIFs.
    ASSERT_TRUE(router.remove(spec("eth0", "10.0.0.1", "225.1.2.3"), false));
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
}

TEST_F(RouterTest, RemoveOfMissingRouteOrOifIsAnError)
{
    auto st = router.remove(spec("eth0", "10.0.0.1", "225.1.2.3"), false);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("(10.0.0.1, 225.1.2.3)"), std::string::npos) << st.error().message;

    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    EXPECT_FALSE(router.remove(spec("eth2", "10.0.0.1", "225.1.2.3"), false)) << "wrong IIF";
    EXPECT_FALSE(router.remove(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth3"}), true)) << "OIF not in the route";
    EXPECT_FALSE(router.remove(spec("eth0", "", "225.1.2.3"), false)) << "no such rule";
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
}

TEST_F(RouterTest, RemoveOriginKeepsTheOther)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.2", "225.1.2.3", {"eth2"}), Origin::client));
    ASSERT_TRUE(router.add(spec("eth0", "", "225.9.9.9", {"eth3"}), Origin::client));
    router.remove_origin(Origin::client);
    EXPECT_EQ(router.static_count(), 1u);
    EXPECT_EQ(router.rule_count(), 0u);
    EXPECT_TRUE(mfc("10.0.0.1", "225.1.2.3"));
    EXPECT_FALSE(mfc("10.0.0.2", "225.1.2.3"));
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1"}));
}

// (*,G) rules and upcalls ---------------------------------------------------------------

TEST_F(RouterTest, StarGRuleInstallsLearnedEntryOnNocache)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    EXPECT_EQ(router.rule_count(), 1u);
    EXPECT_TRUE(k4.mfc.empty()) << "a rule is a template, not a kernel entry";
    EXPECT_EQ(vif_names(), (Names{"eth0"})) << "the rule holds its IIF so upcalls arrive";

    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2"}));
    EXPECT_EQ(router.dynamic_count(), 1u);
    auto v = view_of("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->kind, RouteView::Kind::learned);
    ASSERT_TRUE(v->spec);
    EXPECT_EQ(v->spec->group.str(), "225.1.2.3");
    EXPECT_EQ(v->iif, "eth0");

    // A second upcall for the same (S,G) (the kernel queued several) is ignored.
    const unsigned calls = k4.add_mfc_calls;
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    EXPECT_EQ(k4.add_mfc_calls, calls);
    // Upcalls of another kind install nothing.
    Upcall wp = nocache(must_vif("eth0"), "10.0.0.10", "225.1.2.3");
    wp.kind = Upcall::Kind::wholepkt;
    router.handle_upcall(Family::inet, wp);
    EXPECT_FALSE(mfc("10.0.0.10", "225.1.2.3"));
}

TEST_F(RouterTest, WildcardOifExcludesTheIif)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth+"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2", "eth3"}));
}

TEST_F(RouterTest, NonMatchingUpcallInstallsStopFilterThenRuleConvertsIt)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.9.9.9"));
    const FakeMfc* e = mfc("10.0.0.9", "225.9.9.9");
    ASSERT_TRUE(e) << "a stop filter is installed so the kernel stops asking";
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_TRUE(e->oif_vifs().empty());
    auto v = view_of("10.0.0.9", "225.9.9.9");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->kind, RouteView::Kind::stop);

    ASSERT_TRUE(router.add(spec("eth0", "", "225.9.9.0/24", {"eth2", "eth3"}), Origin::client));
    e = mfc("10.0.0.9", "225.9.9.9");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(oif_names(*e), (Names{"eth2", "eth3"}));
    v = view_of("10.0.0.9", "225.9.9.9");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->kind, RouteView::Kind::learned);
    EXPECT_EQ(router.dynamic_count(), 1u);
}

TEST_F(RouterTest, RuleFromOtherIifDoesNotConvertStopFilter)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.9.9.9"));
    ASSERT_TRUE(router.add(spec("eth2", "", "225.9.9.9", {"eth3"}), Origin::client));
    const FakeMfc* e = mfc("10.0.0.9", "225.9.9.9");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->oif_vifs().empty());
}

TEST_F(RouterTest, RemovingRuleRemovesItsLearnedEntries)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.5.5.5", {"eth3"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.8", "225.1.2.3"));
    EXPECT_EQ(k4.mfc.size(), 3u);
    EXPECT_EQ(router.dynamic_count(), 2u);

    ASSERT_TRUE(router.remove(spec("eth0", "", "225.1.2.3"), false));
    EXPECT_EQ(router.rule_count(), 0u);
    EXPECT_EQ(router.dynamic_count(), 0u);
    EXPECT_FALSE(mfc("10.0.0.9", "225.1.2.3"));
    EXPECT_FALSE(mfc("10.0.0.8", "225.1.2.3"));
    EXPECT_TRUE(mfc("10.0.0.1", "225.5.5.5"));
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth3"})) << "eth1 was held only by the learned entries";
}

TEST_F(RouterTest, PrefixRulesMostSpecificWins)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.0.0/16", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.0/24", {"eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.0/8", "225.1.2.0/24", {"eth3"}), Origin::config));
    const unsigned v0 = must_vif("eth0");

    router.handle_upcall(Family::inet, nocache(v0, "10.1.1.1", "225.1.2.5"));
    router.handle_upcall(Family::inet, nocache(v0, "192.168.1.1", "225.1.2.5"));
    router.handle_upcall(Family::inet, nocache(v0, "10.1.1.1", "225.1.3.5"));
    router.handle_upcall(Family::inet, nocache(v0, "10.1.1.1", "225.2.0.1"));

    const FakeMfc* e = mfc("10.1.1.1", "225.1.2.5");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth3"})) << "(10/8, 225.1.2.0/24) beats (*, 225.1.2.0/24)";
    e = mfc("192.168.1.1", "225.1.2.5");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth2"})) << "(*, /24) beats (*, /16)";
    e = mfc("10.1.1.1", "225.1.3.5");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    e = mfc("10.1.1.1", "225.2.0.1");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->oif_vifs().empty()) << "outside every rule: stop filter";
}

TEST_F(RouterTest, SourcePrefixRuleMatchesOnlyItsSources)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.1.0.0/16", "225.1.2.3", {"eth1"}), Origin::config));
    const unsigned v0 = must_vif("eth0");
    router.handle_upcall(Family::inet, nocache(v0, "10.1.200.7", "225.1.2.3"));
    router.handle_upcall(Family::inet, nocache(v0, "10.2.0.1", "225.1.2.3"));
    const FakeMfc* e = mfc("10.1.200.7", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    e = mfc("10.2.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->oif_vifs().empty());
}

TEST_F(RouterTest, ExactIifRuleOnlyMatchesItsIif)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth1", "", "225.7.7.7", {"eth2"}), Origin::config));
    // (S,225.1.2.3) arriving on eth1 does not match the eth0 rule.
    router.handle_upcall(Family::inet, nocache(must_vif("eth1"), "10.0.0.1", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth1");
    EXPECT_TRUE(e->oif_vifs().empty());
}

TEST_F(RouterTest, WildcardIifRuleHoldsVifsForEveryMatchingInterface)
{
    std::vector<Interface> ifs = base;
    ifs.push_back(make_iface("veth0", 10));
    ifs.push_back(make_iface("veth1", 11));
    router.set_interfaces(ifs);
    ASSERT_TRUE(router.add(spec("veth+", "", "225.1.2.3", {"eth0"}), Origin::config));
    EXPECT_EQ(vif_names(), (Names{"veth0", "veth1"}));
    EXPECT_TRUE(k4.mfc.empty());

    router.handle_upcall(Family::inet, nocache(must_vif("veth1"), "10.0.0.5", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.5", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "veth1");
    EXPECT_EQ(oif_names(*e), (Names{"eth0"}));

    // A new matching interface gets a VIF too, with no reload.
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("veth7", 12)});
    EXPECT_TRUE(kvif("veth7"));
    router.handle_upcall(Family::inet, nocache(must_vif("veth7"), "10.0.0.6", "225.1.2.3"));
    e = mfc("10.0.0.6", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "veth7");
    EXPECT_EQ(oif_names(*e), (Names{"eth0"}));

    // A vanished one loses its VIF.
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("veth0", 10)});
    EXPECT_FALSE(k4.vif_of_ifindex(10));

    ASSERT_TRUE(router.remove(spec("veth+", "", "225.1.2.3"), false));
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
}

// An interface appearing that matches a wildcard-IIF rule must not disturb
// entries learned on the interfaces that were already there.
TEST_F(RouterTest, NewMatchingInterfaceKeepsOtherLearnedEntries)
{
    std::vector<Interface> ifs = base;
    ifs.push_back(make_iface("veth0", 10));
    ifs.push_back(make_iface("veth1", 11));
    router.set_interfaces(ifs);
    ASSERT_TRUE(router.add(spec("veth+", "", "225.1.2.3", {"eth0"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("veth1"), "10.0.0.5", "225.1.2.3"));
    ASSERT_TRUE(mfc("10.0.0.5", "225.1.2.3"));
    const unsigned del_mfc = k4.del_mfc_calls;
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("veth7", 12)});
    EXPECT_TRUE(mfc("10.0.0.5", "225.1.2.3")) << "learned entry on veth1 was deleted when veth7 appeared";
    EXPECT_EQ(k4.del_mfc_calls, del_mfc);
    EXPECT_EQ(vif_names(), (Names{"veth0", "veth1", "veth7", "eth0"}));
}

TEST_F(RouterTest, StaticRouteWildcardOifGainsNewInterface)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth+"}), Origin::config));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2", "eth3"}));
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth5", 20)});
    e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2", "eth3", "eth5"}));
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth2", 3)});
    e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e) << "a wildcard OIF never makes a route pending";
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth3", "eth5"}));
}

// A learned entry of a rule with a wildcard OIF gains an interface that
// appears later, like a static route does.
TEST_F(RouterTest, LearnedWildcardOifGainsNewInterface)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth+"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth5", 20)});
    // Either reprogrammed in place or dropped to be re-learned on the next upcall.
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2", "eth3", "eth5"}));
}

TEST_F(RouterTest, StaticRouteReplacesStopFilterForSameSg)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.9.9.9"));
    ASSERT_EQ(router.dynamic_count(), 1u);
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.9", "225.9.9.9", {"eth2"}), Origin::client));
    EXPECT_EQ(router.dynamic_count(), 0u);
    const FakeMfc* e = mfc("10.0.0.9", "225.9.9.9");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth2"}));
    // An upcall for an (S,G) with a static route in the kernel is ignored.
    const unsigned calls = k4.add_mfc_calls;
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.9.9.9"));
    EXPECT_EQ(k4.add_mfc_calls, calls);
    EXPECT_EQ(router.dynamic_count(), 0u);
}

// Interfaces coming and going ---------------------------------------------------------

TEST_F(RouterTest, OifRemovalDropsOnlyThatOifAndItsReturnAddsItBack)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.2", "225.1.2.3", {"eth2"}), Origin::config));
    const unsigned dels = k4.del_mfc_calls;
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth1", 2)});
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e) << "the route keeps forwarding to the OIF that is left";
    EXPECT_EQ(oif_names(*e), (Names{"eth2"}));
    EXPECT_EQ(k4.del_mfc_calls, dels) << "the entry is replaced in place, never deleted";
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->active);
    EXPECT_EQ(v->pending_reason, "outbound interface eth1 does not exist");
    EXPECT_EQ(router.static_count(), 2u);
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth2"}));

    // eth1 comes back with a new ifindex; the other route is not touched.
    const unsigned adds = k4.add_mfc_calls;
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth1", 42)});
    EXPECT_EQ(k4.add_mfc_calls, adds + 1) << "only the route naming eth1 is re-programmed";
    EXPECT_EQ(k4.del_mfc_calls, dels);
    e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2"}));
    EXPECT_EQ(k4.vifs.at(must_vif("eth1")).ifindex, 42u);
    v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->active);
    EXPECT_TRUE(v->pending_reason.empty());
}

TEST_F(RouterTest, IifRemovalViaResyncAndReturn)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    std::vector<Interface> without(base.begin() + 1, base.end()); // no eth0
    router.set_interfaces(without);
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->active);
    EXPECT_NE(v->pending_reason.find("eth0"), std::string::npos) << v->pending_reason;

    without.push_back(make_iface("eth0", 77));
    router.set_interfaces(without);
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(k4.vifs.at(e->iif_vif).ifindex, 77u);
}

TEST_F(RouterTest, RouteWithMissingOifForwardsToTheOthers)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth9"}), Origin::config));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1"}));
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->active);
    EXPECT_EQ(v->pending_reason, "outbound interface eth9 does not exist");

    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth9", 9)});
    e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth9"}));
    v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pending_reason, "");
}

TEST_F(RouterTest, RouteWithOnlyMissingOifsBlocksUntilOneAppears)
{
    // Nothing to forward to yet: the entry is in the kernel with no OIFs
    // (it forwards nowhere, as it would with them all missing from 2.x).
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth8", "eth9"}), Origin::config));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_TRUE(oif_names(*e).empty());
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pending_reason,
              "outbound interface eth8 does not exist; outbound interface eth9 does not exist");
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth9", 9)});
    e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth9"}));
}

TEST_F(RouterTest, LearnedEntryOnVanishedInterfaceIsDropped)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    ASSERT_TRUE(mfc("10.0.0.9", "225.1.2.3"));
    const unsigned dels = k4.del_mfc_calls;
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth2", 3)});
    EXPECT_FALSE(k4.vif_of_ifindex(3));
    // A named OIF is missing: the rule stays active and its learned entry
    // keeps forwarding to the other OIF, replaced in place.
    const FakeMfc* e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    EXPECT_EQ(k4.del_mfc_calls, dels);
    EXPECT_EQ(router.dynamic_count(), 1u);
    std::string rule_reason = "?";
    bool rule_active = false;
    router.for_each_route([&](const RouteView& v) {
        if (v.kind == RouteView::Kind::rule) {
            rule_active = v.active;
            rule_reason = v.pending_reason;
        }
    });
    EXPECT_TRUE(rule_active);
    EXPECT_EQ(rule_reason, "outbound interface eth2 does not exist");
    // eth2 comes back (new ifindex): the learned entry gains it at once, no upcall needed.
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth2", 33)});
    e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2"}));
    EXPECT_EQ(k4.del_mfc_calls, dels);
    // And a new source is learned with both.
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.8", "225.1.2.3"));
    e = mfc("10.0.0.8", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2"}));
}

TEST_F(RouterTest, RuleWithMissingOifLearnsWithTheOthers)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1", "eth9"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth9", 9)});
    e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth9"}));
}

// phyint --------------------------------------------------------------------------

TEST_F(RouterTest, PhyintDisableExcludesInterface)
{
    std::vector<Interface> ifs = base;
    ifs.push_back(make_iface("veth0", 10));
    ifs.push_back(make_iface("veth1", 11));
    router.set_interfaces(ifs);
    router.set_phyints({phyint("veth1", false), phyint("eth2", false)});

    // A wildcard IIF rule skips the disabled interface.
    ASSERT_TRUE(router.add(spec("veth+", "", "225.1.2.3", {"eth+"}), Origin::config));
    EXPECT_EQ(vif_names(), (Names{"veth0"}));
    // Wildcard OIFs skip it too.
    router.handle_upcall(Family::inet, nocache(must_vif("veth0"), "10.0.0.1", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth0", "eth1", "eth3"}));
    // A static route from a disabled interface is not installed.
    ASSERT_TRUE(router.add(spec("veth1", "10.0.0.2", "225.1.2.3", {"eth1"}), Origin::config));
    EXPECT_FALSE(mfc("10.0.0.2", "225.1.2.3"));
    EXPECT_FALSE(kvif("veth1"));
    // One that names a disabled interface as OIF forwards to the others only.
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.3", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    e = mfc("10.0.0.3", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    EXPECT_FALSE(kvif("eth2"));
    auto v = view_of("10.0.0.3", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->active);
    EXPECT_EQ(v->pending_reason, "outbound interface eth2 is disabled by phyint");

    // Enabling again installs the first and adds eth2 to the second.
    router.set_phyints({});
    EXPECT_TRUE(mfc("10.0.0.2", "225.1.2.3"));
    e = mfc("10.0.0.3", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2"}));
    EXPECT_TRUE(kvif("veth1"));
}

TEST_F(RouterTest, DisablingAnInterfaceTakesItOutOfItsRoutes)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth3"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth2", "10.0.0.2", "225.1.2.3", {"eth3"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth1", "10.0.0.3", "225.1.2.3", {"eth3"}), Origin::config));
    router.set_phyints({phyint("eth1", false)});
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth3"}));
    EXPECT_TRUE(mfc("10.0.0.2", "225.1.2.3"));
    EXPECT_FALSE(mfc("10.0.0.3", "225.1.2.3")) << "a disabled inbound interface withdraws the route";
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth2", "eth3"}));
}

// -N: only interfaces a phyint enables are used.
TEST_F(RouterTest, OnlyEnabledUsesOnlyPhyintEnabledInterfaces)
{
    std::vector<Interface> ifs = base;
    ifs.push_back(make_iface("veth0", 10));
    ifs.push_back(make_iface("veth1", 11));
    router.set_interfaces(ifs);
    router.set_only_enabled(true);
    // a wildcard enable; eth3 is named but has no enable; a later disable wins.
    router.set_phyints({phyint("veth+"), phyint("eth1"), phyint("veth1", false)});

    ASSERT_TRUE(router.add(spec("veth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pending_reason, "outbound interface eth2 is not enabled by phyint");
    // An inbound interface without enable: never installed.
    ASSERT_TRUE(router.add(spec("eth2", "10.0.0.2", "225.1.2.3", {"eth1"}), Origin::config));
    EXPECT_FALSE(mfc("10.0.0.2", "225.1.2.3"));
    v = view_of("10.0.0.2", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->active);
    EXPECT_EQ(v->pending_reason, "inbound interface eth2 is not enabled by phyint");
    // Wildcards expand to enabled interfaces only.
    ASSERT_TRUE(router.add(spec("eth+", "", "225.1.2.4", {"veth+"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth1"), "10.0.0.3", "225.1.2.4"));
    e = mfc("10.0.0.3", "225.1.2.4");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"veth0"}));
    EXPECT_EQ(vif_names(), (Names{"eth1", "veth0"})) << "no VIF for an interface not enabled";

    // Without -N every interface not disabled is used again.
    router.set_only_enabled(false);
    e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth1", "eth2"}));
    EXPECT_TRUE(mfc("10.0.0.2", "225.1.2.3"));
}

TEST_F(RouterTest, PendingRuleActivatesWhenItsIifAppears)
{
    ASSERT_TRUE(router.add(spec("eth9", "", "225.1.2.3", {"eth1"}), Origin::config));
    EXPECT_TRUE(k4.vifs.empty());
    auto vs = views();
    ASSERT_EQ(vs.size(), 1u);
    EXPECT_EQ(vs[0].kind, RouteView::Kind::rule);
    EXPECT_FALSE(vs[0].active);
    EXPECT_NE(vs[0].pending_reason.find("eth9"), std::string::npos) << vs[0].pending_reason;

    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth9", 9)});
    EXPECT_EQ(vif_names(), (Names{"eth9"}));
    vs = views();
    ASSERT_EQ(vs.size(), 1u);
    EXPECT_TRUE(vs[0].active);
    router.handle_upcall(Family::inet, nocache(must_vif("eth9"), "10.0.0.1", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth9");
    EXPECT_EQ(oif_names(*e), (Names{"eth1"}));
    vs = views();
    ASSERT_EQ(vs.size(), 2u);
    EXPECT_EQ(vs[0].learned, 1u);
}

TEST_F(RouterTest, UpcallFromUnknownVifIsIgnored)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(31, "10.0.0.1", "225.1.2.3"));
    router.handle_upcall(Family::inet, nocache(max_vifs + 5, "10.0.0.1", "225.1.2.3"));
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_EQ(router.dynamic_count(), 0u);
}

// flush, clear, no needless reprogramming --------------------------------------------------

TEST_F(RouterTest, FlushDynamicKeepsStaticRoutesAndRules)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.5.5.5", {"eth3"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3")); // learned
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.9.9.9")); // stop
    ASSERT_EQ(k4.mfc.size(), 3u);
    EXPECT_EQ(router.flush_dynamic(), 2u);
    EXPECT_EQ(k4.mfc.size(), 1u);
    EXPECT_TRUE(mfc("10.0.0.1", "225.5.5.5"));
    EXPECT_EQ(router.static_count(), 1u);
    EXPECT_EQ(router.rule_count(), 1u);
    EXPECT_EQ(router.dynamic_count(), 0u);
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth3"}));
    // The rule still answers.
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    EXPECT_TRUE(mfc("10.0.0.9", "225.1.2.3"));
}

TEST_F(RouterTest, ClearLeavesTheKernelEmpty)
{
    std::vector<Interface> ifs = base;
    ifs.push_back(make_iface("veth0", 10));
    router.set_interfaces(ifs);
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.5.5.5", {"eth3"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.2", "225.5.5.5", {"eth9"}), Origin::config)); // pending
    ASSERT_TRUE(router.add(spec("veth+", "", "225.1.2.3", {"eth1"}), Origin::client));
    ASSERT_TRUE(router.add(spec("eth1", "2001:db8::1", "ff0e::1", {"eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth1", "", "ff0e::2", {"eth2"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("veth0"), "10.0.0.9", "225.1.2.3"));
    router.handle_upcall(Family::inet, nocache(must_vif("veth0"), "10.0.0.9", "225.9.9.9"));
    ASSERT_FALSE(k4.mfc.empty());
    ASSERT_FALSE(k6.mfc.empty());
    router.clear();
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
    EXPECT_TRUE(k6.mfc.empty());
    EXPECT_TRUE(k6.vifs.empty());
    EXPECT_EQ(router.static_count(), 0u);
    EXPECT_EQ(router.rule_count(), 0u);
    EXPECT_EQ(router.dynamic_count(), 0u);
    EXPECT_TRUE(views().empty());
}

TEST_F(RouterTest, UnchangedReconcileDoesNotReprogramTheKernel)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "", "225.7.7.0/24", {"eth3"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.7.7.7"));
    const unsigned add_mfc = k4.add_mfc_calls, del_mfc = k4.del_mfc_calls;
    const unsigned add_vif = k4.add_vif_calls, del_vif = k4.del_vif_calls;
    ASSERT_EQ(add_mfc, 2u);

    router.set_interfaces(base);                // same interfaces
    router.set_phyints({});                     // same (default) phyints
    router.set_phyints({phyint("eth3", true)}); // equivalent to the default
    Interface flags_changed = make_iface("eth1", 2, IFF_UP | IFF_MULTICAST | IFF_RUNNING);
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, flags_changed});
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("dummy0", 50)}); // unrelated
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("dummy0", 50)});
    EXPECT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth2"}), Origin::client)); // nothing new
    EXPECT_TRUE(router.add(spec("eth0", "", "225.7.7.0/24", {"eth3"}), Origin::client));

    EXPECT_EQ(k4.add_mfc_calls, add_mfc);
    EXPECT_EQ(k4.del_mfc_calls, del_mfc);
    EXPECT_EQ(k4.add_vif_calls, add_vif);
    EXPECT_EQ(k4.del_vif_calls, del_vif);
    EXPECT_TRUE(mfc("10.0.0.9", "225.7.7.7"));
}

TEST_F(RouterTest, CountersComeFromTheKernel)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    k4.canned_counters[{ip("10.0.0.1"), ip("225.1.2.3")}] = MfcCounters{12, 3400, 5};
    auto c = router.counters(SgKey{ip("10.0.0.1"), ip("225.1.2.3")});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->packets, 12u);
    EXPECT_EQ(c->bytes, 3400u);
    EXPECT_EQ(c->wrong_if, 5u);
    EXPECT_FALSE(router.counters(SgKey{ip("10.0.0.2"), ip("225.1.2.3")}));
}

// Expiry and in-place changes -----------------------------------------------------------

TEST_F(RouterTest, ExpireIdleRemovesOnlyIdleLearnedEntries)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.0/24", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.9.9.9", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.5", "225.1.2.3")); // busy
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.6", "225.1.2.4")); // idle
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.7", "226.0.0.1")); // stop filter
    ASSERT_EQ(router.dynamic_count(), 3u);
    // The first check only records the counters.
    k4.canned_counters[{ip("10.0.0.5"), ip("225.1.2.3")}] = MfcCounters{10, 1000, 0};
    EXPECT_EQ(router.expire_idle(), 0u);
    // Only the busy one moved on: the idle entry and the idle stop filter go.
    k4.canned_counters[{ip("10.0.0.5"), ip("225.1.2.3")}] = MfcCounters{25, 2500, 0};
    EXPECT_EQ(router.expire_idle(), 2u);
    EXPECT_TRUE(mfc("10.0.0.5", "225.1.2.3"));
    EXPECT_FALSE(mfc("10.0.0.6", "225.1.2.4"));
    EXPECT_FALSE(mfc("10.0.0.7", "226.0.0.1"));
    // A static route is never expired, however idle.
    EXPECT_TRUE(mfc("10.0.0.1", "225.9.9.9"));
    EXPECT_EQ(router.expire_idle(), 1u); // now the busy one was idle too
    EXPECT_TRUE(mfc("10.0.0.1", "225.9.9.9"));
    EXPECT_EQ(router.dynamic_count(), 0u);
}

TEST_F(RouterTest, ReplaceOifsReprogramsInPlace)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "", "225.7.7.7", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.5", "225.7.7.7"));
    const unsigned dels = k4.del_mfc_calls;
    ASSERT_TRUE(router.replace_oifs(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth3"})));
    ASSERT_TRUE(router.replace_oifs(spec("eth0", "", "225.7.7.7", {"eth2", "eth3"})));
    const FakeMfc* e = mfc("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth3"})); // the old OIFs are gone, not merged
    e = mfc("10.0.0.5", "225.7.7.7");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), (Names{"eth2", "eth3"}));
    EXPECT_EQ(k4.del_mfc_calls, dels); // replaced, never deleted in between
    EXPECT_FALSE(router.replace_oifs(spec("eth1", "10.0.0.1", "225.1.2.3", {"eth3"})));
}

// WRONGVIF ------------------------------------------------------------------------------

TEST_F(RouterTest, WrongvifMovesALearnedEntryWhenARuleAllowsIt)
{
    ASSERT_TRUE(router.add(spec("eth+", "", "225.1.2.3", {"eth+"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    const FakeMfc* e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");

    Upcall w = nocache(must_vif("eth1"), "10.0.0.9", "225.1.2.3");
    w.kind = Upcall::Kind::wrongvif;
    router.handle_upcall(Family::inet, w);
    e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth1");
    EXPECT_EQ(oif_names(*e), (Names{"eth0", "eth2", "eth3"}));

    // Rate limited: a second move within a second is ignored.
    Upcall back = w;
    back.vif = must_vif("eth0");
    router.handle_upcall(Family::inet, back);
    e = mfc("10.0.0.9", "225.1.2.3");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth1");
}

TEST_F(RouterTest, WrongvifNeverMovesStaticRoutesOrUnmatchedSources)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "", "225.7.7.7", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.7.7.7"));
    const unsigned adds = k4.add_mfc_calls;
    for (auto [src, grp] : {std::pair{"10.0.0.1", "225.1.2.3"}, std::pair{"10.0.0.9", "225.7.7.7"}}) {
        Upcall w = nocache(must_vif("eth1"), src, grp);
        w.kind = Upcall::Kind::wrongvif;
        router.handle_upcall(Family::inet, w);
        const FakeMfc* e = mfc(src, grp);
        ASSERT_TRUE(e);
        EXPECT_EQ(iif_name(*e), "eth0") << src; // no rule allows eth1 as inbound
    }
    EXPECT_EQ(k4.add_mfc_calls, adds);
}

// Learned-route limit and upcall counters ----------------------------------------------

TEST_F(RouterTest, LearnedLimitRefusesNewSourcesCountsAndLogs)
{
    log.set_level(LogLevel::warning);
    router.set_max_learned(3);
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.0/24", {"eth1"}), Origin::config));
    testing::internal::CaptureStderr();
    for (int i = 1; i <= 5; ++i)
        router.handle_upcall(Family::inet, nocache(must_vif("eth0"), cat("10.0.0.", i), "225.1.2.3"));
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(router.dynamic_count(), 3u);
    EXPECT_EQ(k4.mfc.size(), 3u);
    EXPECT_TRUE(mfc("10.0.0.1", "225.1.2.3") && mfc("10.0.0.3", "225.1.2.3"));
    EXPECT_FALSE(mfc("10.0.0.4", "225.1.2.3")) << "past the limit the upcall is not answered";
    EXPECT_FALSE(mfc("10.0.0.5", "225.1.2.3"));
    UpcallStats st = router.upcall_stats();
    EXPECT_EQ(st.received, 5u);
    EXPECT_EQ(st.refused, 2u);
    EXPECT_EQ(st.kernel_dropped, 0u);
    // The first refusal is logged at once, the second only counted (one line per 10 s).
    EXPECT_NE(err.find("learned-route limit 3 reached: refused 1 new sources"), std::string::npos) << err;
    EXPECT_EQ(err.find("refused 2"), std::string::npos) << err;
    // An upcall for a source already learned is no refusal.
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.2", "225.1.2.3"));
    EXPECT_EQ(router.upcall_stats().refused, 2u);
    // Static routes are not limited.
    ASSERT_TRUE(router.add(spec("eth0", "10.9.9.9", "225.1.2.3", {"eth2"}), Origin::config));
    EXPECT_TRUE(mfc("10.9.9.9", "225.1.2.3"));
}

TEST_F(RouterTest, LearnedLimitCountsStopFilters)
{
    router.set_max_learned(2);
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.1", "225.7.7.7")); // stop filter
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.2", "225.7.7.8")); // stop filter
    EXPECT_EQ(router.dynamic_count(), 2u);
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.3", "225.1.2.3"));
    EXPECT_FALSE(mfc("10.0.0.3", "225.1.2.3")) << "stop filters fill the limit too";
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.4", "225.7.7.9"));
    EXPECT_FALSE(mfc("10.0.0.4", "225.7.7.9"));
    EXPECT_EQ(router.upcall_stats().refused, 2u);
    EXPECT_EQ(k4.mfc.size(), 2u);
}

TEST_F(RouterTest, LearnedLimitBelowCapLearnsAndFlushFreesRoom)
{
    router.set_max_learned(2);
    EXPECT_EQ(router.max_learned(), 2u);
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.1", "225.1.2.3"));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.2", "225.1.2.3"));
    EXPECT_EQ(router.upcall_stats().refused, 0u) << "entries below the cap are learned";
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.3", "225.1.2.3"));
    EXPECT_EQ(router.upcall_stats().refused, 1u);
    EXPECT_EQ(router.flush_dynamic(), 2u);
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.3", "225.1.2.3"));
    EXPECT_TRUE(mfc("10.0.0.3", "225.1.2.3")) << "the kernel asks again after a refusal; flush made room";
    // A WRONGVIF move replaces an entry: it needs no room of its own.
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.4", "225.1.2.3"));
    EXPECT_EQ(router.dynamic_count(), 2u);
    // 0 lifts the limit.
    router.set_max_learned(0);
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.5", "225.1.2.3"));
    EXPECT_TRUE(mfc("10.0.0.5", "225.1.2.3"));
    EXPECT_EQ(router.upcall_stats().refused, 1u);
}

TEST_F(RouterTest, KernelDropsAreReportedWithTotals)
{
    log.set_level(LogLevel::warning);
    k4.stats.dropped = 7;
    k6.stats.dropped = 5;
    EXPECT_EQ(router.upcall_stats().kernel_dropped, 12u);
    testing::internal::CaptureStderr();
    router.report_upcall_losses();
    k4.stats.dropped = 9;
    router.report_upcall_losses(); // within 10 s: not logged
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("kernel dropped 12 upcalls"), std::string::npos) << err;
    EXPECT_EQ(err.find("dropped 2"), std::string::npos) << err;
    EXPECT_EQ(router.upcall_stats().kernel_dropped, 14u);
}

// Link events and the compact table -----------------------------------------------------

TEST_F(RouterTest, LinkEventsForOtherInterfacesDoNotRescanRoutes)
{
    // 10000 routes on eth0 -> eth1 that the kernel refuses: each waits
    // (pending) and every visit of one retries MRT_ADD_MFC, so the fake
    // kernel's add_mfc count is the number of route visits. A link event
    // visits the routes naming its interface, never all of them.
    for (unsigned i = 0; i < 10000; ++i) {
        std::string src = cat("10.", (i >> 8) & 255, ".", i & 255, ".1");
        ASSERT_TRUE(router.add(spec("eth0", src, "225.1.2.3", {"eth1"}), Origin::config));
    }
    ASSERT_EQ(k4.mfc.size(), 10000u);
    unsigned adds = k4.add_mfc_calls, dels = k4.del_mfc_calls;
    k4.fail_add_mfc = true;
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth1", 2)});
    EXPECT_TRUE(k4.mfc.empty()) << "a refused re-program withdraws the entry";
    EXPECT_EQ(k4.del_mfc_calls, dels + 10000);
    EXPECT_EQ(k4.add_mfc_calls, adds + 10000) << "one refused re-program (without eth1) per route naming eth1";
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth1", 2)});
    EXPECT_EQ(k4.add_mfc_calls, adds + 20000) << "one refused retry per route naming eth1";
    EXPECT_TRUE(k4.mfc.empty());

    // 200 link events for an interface none of them names: no visit.
    adds = k4.add_mfc_calls, dels = k4.del_mfc_calls;
    for (unsigned i = 0; i < 100; ++i) {
        router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("dummy0", 50)});
        router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("dummy0", 50)});
    }
    EXPECT_EQ(k4.add_mfc_calls, adds) << "link events for dummy0 visited routes that do not name it";
    EXPECT_EQ(k4.del_mfc_calls, dels);

    // The routes naming an interface do follow it: one kernel call each.
    k4.fail_add_mfc = false;
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth1", 2)});
    EXPECT_EQ(k4.add_mfc_calls, adds + 10000) << "each installed once, without eth1";
    EXPECT_EQ(k4.del_mfc_calls, dels) << "none of them was in the kernel";
    EXPECT_EQ(k4.mfc.size(), 10000u);
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth1", 2)});
    EXPECT_EQ(k4.add_mfc_calls, adds + 20000);
    EXPECT_EQ(k4.mfc.size(), 10000u);
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth1", 2)});
    EXPECT_EQ(k4.add_mfc_calls, adds + 30000) << "each re-programmed in place without eth1";
    EXPECT_EQ(k4.mfc.size(), 10000u);
    EXPECT_EQ(k4.del_mfc_calls, dels);
}

TEST_F(RouterTest, RemovedInterfaceDropsEntriesArrivingOnIt)
{
    ASSERT_TRUE(router.add(spec("eth+", "", "225.1.2.3", {"eth3"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth1"), "10.0.0.1", "225.1.2.3")); // learned
    router.handle_upcall(Family::inet, nocache(must_vif("eth1"), "10.0.0.2", "225.9.9.9")); // stop filter
    router.handle_upcall(Family::inet, nocache(must_vif("eth2"), "10.0.0.3", "225.9.9.9")); // stop filter
    ASSERT_EQ(k4.mfc.size(), 3u);
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth1", 2)});
    EXPECT_FALSE(mfc("10.0.0.1", "225.1.2.3"));
    EXPECT_FALSE(mfc("10.0.0.2", "225.9.9.9"));
    EXPECT_TRUE(mfc("10.0.0.3", "225.9.9.9")) << "a stop filter on another interface stays";
    EXPECT_EQ(router.dynamic_count(), 1u);
    EXPECT_FALSE(k4.vif_of_ifindex(2));
}

TEST_F(RouterTest, PendingReasonNamesTheMissingOifAndFollowsInterfaces)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth7"}), Origin::config));
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->active);
    EXPECT_EQ(v->pending_reason, "outbound interface eth7 does not exist");
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("eth7", 30)});
    v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->active);
    EXPECT_EQ(v->pending_reason, "");
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth0", 1)});
    v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->pending_reason, "inbound interface eth0 does not exist");
    EXPECT_TRUE(k4.mfc.empty());
}

TEST_F(RouterTest, ViewCopiesKeepTheirOwnSpec)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "eth2"}), Origin::config));
    auto v = view_of("10.0.0.1", "225.1.2.3");
    ASSERT_TRUE(v && v->spec);
    RouteView copy = *v;
    v.reset();
    ASSERT_TRUE(copy.spec);
    EXPECT_EQ(copy.spec->iif.view(), "eth0");
    EXPECT_EQ(copy.spec->oifs.size(), 2u);
    EXPECT_EQ(copy.spec->key_str(), "(10.0.0.1, 225.1.2.3)");
}

TEST_F(RouterTest, RoutesSharingInterfacesStayIndependent)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.2", "225.1.2.3", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.2", "225.1.2.3", {"eth2"}), Origin::client));
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "225.1.2.3")), (Names{"eth1"}));
    EXPECT_EQ(oif_names(*mfc("10.0.0.2", "225.1.2.3")), (Names{"eth1", "eth2"}));
    ASSERT_TRUE(router.replace_oifs(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth3"})));
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "225.1.2.3")), (Names{"eth3"}));
    EXPECT_EQ(oif_names(*mfc("10.0.0.2", "225.1.2.3")), (Names{"eth1", "eth2"}));
    // Only the route now naming eth3 follows it.
    const unsigned adds = k4.add_mfc_calls;
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("eth3", 4)});
    ASSERT_TRUE(mfc("10.0.0.1", "225.1.2.3"));
    EXPECT_TRUE(oif_names(*mfc("10.0.0.1", "225.1.2.3")).empty()) << "left without its only OIF";
    EXPECT_EQ(oif_names(*mfc("10.0.0.2", "225.1.2.3")), (Names{"eth1", "eth2"}));
    EXPECT_EQ(k4.add_mfc_calls, adds + 1) << "only the route naming eth3 was re-programmed";
    // find and keys_of serve a reload's diff.
    auto f = router.find(spec("eth0", "10.0.0.2", "225.1.2.3"));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->oifs.size(), 2u);
    EXPECT_EQ(f->origin, Origin::config);
    EXPECT_FALSE(router.find(spec("eth1", "10.0.0.2", "225.1.2.3"))) << "another IIF is another key";
    ASSERT_TRUE(router.add(spec("eth0", "", "225.5.5.5", {"eth1"}), Origin::client));
    EXPECT_EQ(router.keys_of(Origin::config).size(), 2u);
    auto client = router.keys_of(Origin::client);
    ASSERT_EQ(client.size(), 1u);
    EXPECT_EQ(client[0].key_str(), "(*, 225.5.5.5)");
    router.remove_origin(Origin::config);
    EXPECT_EQ(router.static_count(), 0u);
    EXPECT_EQ(router.rule_count(), 1u);
    EXPECT_TRUE(k4.mfc.empty());
}

// Listings ------------------------------------------------------------------------------

// Which entry a view is: its part of the listing and its key.
std::string listed_id(const RouteView& v)
{
    if (v.kind == RouteView::Kind::rule)
        return cat("rule ", v.spec->iif.view(), " ", v.spec->key_str());
    const bool is_static = v.owned_spec.has_value();
    return cat(is_static ? "static " : "dynamic ", v.key.source.str(), " ", v.key.group.str());
}

class RouterListingTest : public RouterTest {
protected:
    // n static routes 10.0.x.y -> 225.1.x.y from eth0 to eth1.
    void add_statics(size_t n, size_t first = 0)
    {
        for (size_t i = first; i < first + n; ++i)
            ASSERT_TRUE(router.add(static_route(i), Origin::client)) << i;
    }
    static RouteSpec static_route(size_t i)
    {
        return spec("eth0", cat("10.0.", i / 250, ".", i % 250 + 1), cat("225.1.", i / 250, ".", i % 250 + 1),
                    {"eth1"});
    }
    std::vector<std::string> all_ids() const
    {
        std::vector<std::string> out;
        router.for_each_route([&](const RouteView& v) { out.push_back(listed_id(v)); });
        return out;
    }
    // Steps through a listing, max routes a step, checking that no step
    // gives more and that each part comes in strictly ascending key order.
    struct Walker {
        explicit Walker(Router::Listing l) : listing(std::move(l)) {}
        bool step(size_t max)
        {
            size_t got = 0;
            bool more = listing.next(max, [&](const RouteView& v) {
                ++got;
                ids.push_back(listed_id(v));
                check_order(v);
            });
            EXPECT_LE(got, max);
            return more;
        }
        void check_order(const RouteView& v)
        {
            if (v.kind == RouteView::Kind::rule) {
                auto k = std::make_tuple(v.spec->iif, v.spec->source, v.spec->group);
                EXPECT_TRUE(!last_rule || *last_rule < k) << "rules out of order at " << listed_id(v);
                last_rule = k;
                return;
            }
            int part = v.owned_spec ? 1 : 2;
            EXPECT_GE(part, last_part) << "parts out of order at " << listed_id(v);
            auto k = std::make_tuple(v.key.group, v.key.source);
            if (part == last_part) {
                EXPECT_LT(last_key, k) << "keys out of order at " << listed_id(v);
            }
            last_part = part;
            last_key = k;
        }
        void rewind()
        {
            listing.rewind();
            last_rule.reset();
            last_part = 0;
        }
        Router::Listing listing;
        std::vector<std::string> ids;
        std::optional<std::tuple<IfName, Prefix, Prefix>> last_rule;
        int last_part = 0;
        std::tuple<IpAddr, IpAddr> last_key;
    };
};

TEST_F(RouterListingTest, StepsListWhatForEachRouteDoesInItsOrder)
{
    add_statics(300);
    ASSERT_TRUE(router.add(spec("eth0", "", "225.4.4.0/24", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth1", "", "225.3.3.3", {"eth2"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.9", "225.9.9.9"), Origin::config)); // a static stop filter
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.7", "225.4.4.7"));  // learned
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.7", "225.77.0.1")); // stop filter
    ASSERT_EQ(router.dynamic_count(), 2u);
    const auto whole = all_ids();
    ASSERT_EQ(whole.size(), 2u + 301u + 2u);
    EXPECT_EQ(whole.front(), "rule eth0 (*, 225.4.4.0/24)");
    EXPECT_EQ(whole.back(), "dynamic 10.0.0.7 225.77.0.1");
    for (size_t max : {1u, 2u, 7u, 64u, 1000u}) {
        Walker w(router.list());
        size_t steps = 0;
        while (w.step(max))
            ASSERT_LT(++steps, 1000u) << "a listing always ends";
        EXPECT_EQ(w.ids, whole) << "steps of " << max;
        EXPECT_FALSE(w.step(max)) << "and stays ended";
        EXPECT_EQ(w.ids.size(), whole.size());
    }
    // rewind() starts again.
    Walker w(router.list());
    while (w.step(50)) {
    }
    w.rewind();
    while (w.step(50)) {
    }
    ASSERT_EQ(w.ids.size(), 2 * whole.size());
    EXPECT_TRUE(std::equal(whole.begin(), whole.end(), w.ids.begin() + static_cast<long>(whole.size())));
}

TEST_F(RouterListingTest, RoutesRemovedBeforeTheirTurnAreLeftOutOthersListedOnce)
{
    add_statics(500);
    const auto whole = all_ids();
    Walker w(router.list());
    ASSERT_TRUE(w.step(100));
    // Routes behind the cursor and ahead of it go; others are added ahead
    // and behind; another listing starts (the index is rebuilt).
    for (size_t i : {10u, 20u, 300u, 301u, 499u})
        ASSERT_TRUE(router.remove(static_route(i), false));
    add_statics(5, 600);
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.0.0.1", {"eth1"}), Origin::client)); // before all
    EXPECT_EQ(all_ids().size(), whole.size() + 1);
    while (w.step(100)) {
    }
    std::map<std::string, int> seen;
    for (const auto& id : w.ids)
        EXPECT_EQ(++seen[id], 1) << id << " listed twice";
    for (size_t i = 0; i < 500; ++i) {
        const std::string id = cat("static ", static_route(i).source.str(), " ", static_route(i).group.str());
        if (i == 300 || i == 301 || i == 499) {
            EXPECT_FALSE(seen.count(id)) << id << " was removed before its turn";
        } else if (i != 10 && i != 20) {
            EXPECT_TRUE(seen.count(id)) << id << " was there all along";
        }
    }
    EXPECT_TRUE(seen.count("static 10.0.0.1 225.0.0.1") == 0) << "added behind the cursor";
    for (size_t i = 600; i < 605; ++i)
        EXPECT_TRUE(seen.count(cat("static ", static_route(i).source.str(), " ", static_route(i).group.str())))
            << "added ahead of the cursor, and another listing rebuilt the index";
}

TEST_F(RouterListingTest, ListingOutlivesEveryRouteSafely)
{
    add_statics(400);
    ASSERT_TRUE(router.add(spec("eth0", "", "225.4.4.0/24", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.7", "225.4.4.7"));
    for (int how = 0; how < 3; ++how) {
        Walker w(router.list());
        ASSERT_TRUE(w.step(3));
        const size_t before = w.ids.size();
        if (how == 0)
            router.clear();
        else if (how == 1)
            router.remove_origin(Origin::client);
        else
            router.flush_dynamic();
        size_t steps = 0;
        while (w.step(10))
            ASSERT_LT(++steps, 1000u);
        if (how == 0) {
            EXPECT_EQ(w.ids.size(), before) << "nothing listed once everything is gone";
        }
        if (how == 1) {
            for (size_t i = before; i < w.ids.size(); ++i)
                EXPECT_EQ(w.ids[i].rfind("static ", 0), std::string::npos) << w.ids[i];
        }
        if (how == 2) {
            for (size_t i = before; i < w.ids.size(); ++i)
                EXPECT_EQ(w.ids[i].rfind("dynamic ", 0), std::string::npos) << w.ids[i];
        }
        // Put everything back for the next round.
        add_statics(400);
        if (router.rule_count() == 0) {
            ASSERT_TRUE(router.add(spec("eth0", "", "225.4.4.0/24", {"eth1"}), Origin::config));
        }
        router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.7", "225.4.4.7"));
    }
}

// Random churn between the steps of several listings at once: each listing
// lists every route present all through it exactly once, never one twice,
// always in order, and always ends.
TEST_F(RouterListingTest, RandomChurnKeepsTheListingPromises)
{
    std::mt19937 rng(1234);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    ASSERT_TRUE(router.add(spec("eth0", "", "225.4.0.0/16", {"eth1"}), Origin::config)); // learns 225.4.x.x
    add_statics(200);
    for (int round = 0; round < 30; ++round) {
        std::set<std::string> at_start;
        for (const auto& id : all_ids())
            at_start.insert(id);
        Walker w(router.list());
        std::set<std::string> removed; // removed at some point during the listing
        bool flushed = false;
        std::optional<Walker> other;
        size_t steps = 0;
        while (w.step(1 + pick(20))) {
            ASSERT_LT(++steps, 10000u);
            switch (pick(8)) {
            case 0: // add a static route (maybe back)
                (void)router.add(static_route(pick(400)), Origin::client);
                break;
            case 1: { // remove one
                size_t i = pick(400);
                if (router.remove(static_route(i), false))
                    removed.insert(cat("static ", static_route(i).source.str(), " ", static_route(i).group.str()));
                break;
            }
            case 2: // learned entries and stop filters
                router.handle_upcall(Family::inet, nocache(must_vif("eth0"), cat("10.1.0.", 1 + pick(200)),
                                                           cat(pick(2) ? "225.4.0." : "226.0.0.", 1 + pick(200))));
                break;
            case 3:
                if (pick(4) == 0) {
                    router.flush_dynamic();
                    flushed = true;
                }
                break;
            case 4: { // a rule comes or goes
                auto r = spec("eth1", "", cat("225.8.", pick(5), ".0/24"), {"eth2"});
                if (router.remove(r, false))
                    removed.insert(cat("rule eth1 ", r.key_str()));
                else
                    (void)router.add(r, Origin::client);
                break;
            }
            case 5: // another listing starts (rebuilding the index) or goes on
                if (!other || !other->step(1 + pick(50)))
                    other.emplace(router.list());
                break;
            case 6: // a whole other listing, start to end
                (void)all_ids();
                break;
            default: break;
            }
        }
        std::map<std::string, int> seen;
        for (const auto& id : w.ids)
            EXPECT_EQ(++seen[id], 1) << "round " << round << ": " << id << " listed twice";
        std::set<std::string> at_end;
        for (const auto& id : all_ids())
            at_end.insert(id);
        for (const auto& id : at_start) {
            const bool steady = at_end.count(id) && !removed.count(id) && !(flushed && id.rfind("dynamic ", 0) == 0);
            if (steady) {
                EXPECT_EQ(seen[id], 1) << "round " << round << ": " << id << " was there all along";
            }
        }
    }
}

// Missing family ------------------------------------------------------------------------

TEST(RouterNoV6Test, Ipv6UnavailableIsAClearError)
{
    Logger log;
    log.set_level(LogLevel::none);
    FakeKernel k4{Family::inet};
    Router router{log, &k4, nullptr};
    router.set_interfaces({make_iface("eth0", 1), make_iface("eth1", 2)});
    EXPECT_TRUE(router.has_family(Family::inet));
    EXPECT_FALSE(router.has_family(Family::inet6));
    auto st = router.add(spec("eth0", "2001:db8::1", "ff0e::1", {"eth1"}), Origin::client);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("IPv6"), std::string::npos) << st.error().message;
    EXPECT_EQ(router.static_count(), 0u);
    EXPECT_FALSE(router.vif_of(Family::inet6, 1));
    // An IPv6 upcall is ignored; IPv4 still works.
    router.handle_upcall(Family::inet6, nocache(0, "2001:db8::1", "ff0e::1"));
    EXPECT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::client));
    EXPECT_EQ(k4.mfc.size(), 1u);
    router.clear();
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
}

} // namespace
TEST(RouterNoV6Test, FamilyIsCheckedInOnePlaceForAddAndRemove)
{
    Logger log;
    log.set_level(LogLevel::none);
    FakeKernel k4{Family::inet};
    Router router{log, &k4, nullptr};
    router.set_interfaces({make_iface("eth0", 1), make_iface("eth1", 2)});
    auto fam = router.family_status(Family::inet6);
    ASSERT_FALSE(fam);
    EXPECT_EQ(fam.error().code, EAFNOSUPPORT);
    EXPECT_EQ(fam.error().message, "IPv6 multicast routing is not available");
    EXPECT_TRUE(router.family_status(Family::inet));
    auto added = router.add(spec("eth0", "2001:db8::1", "ff0e::1", {"eth1"}), Origin::config);
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error().code, EAFNOSUPPORT);
    EXPECT_EQ(added.error().message, fam.error().message);
    auto removed = router.remove(spec("eth0", "2001:db8::1", "ff0e::1", {}), false);
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error().code, EAFNOSUPPORT);
    EXPECT_EQ(removed.error().message, fam.error().message);
}

} // namespace smcroute

// Events (router_events) ---------------------------------------------------------

namespace smcroute {
namespace {

class RouterEventsTest : public RouterTest {
protected:
    RouterEventsTest()
    {
        router.set_events(&bus);
        bus.subscribe([this](const EventLines& l) {
            std::string line = l.text();
            lines.push_back(line.substr(line.find(' ') + 1)); // without the time
            return true;
        });
    }
    EventBus bus;
    std::vector<std::string> lines;
};

TEST_F(RouterEventsTest, LearnedStopFilterAndExpiry)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.0/24", {"eth1", "eth2"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.9.9.9"));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3")); // again: nothing
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "learned source=10.0.0.9 group=225.1.2.3 iif=eth0 oifs=eth1,eth2 rule=\"eth0 (*, 225.1.2.0/24)\"",
                         "stop_filter source=10.0.0.9 group=225.9.9.9 iif=eth0",
                     }));
    lines.clear();
    router.expire_idle(); // records
    router.expire_idle(); // no packets since: both go
    std::sort(lines.begin(), lines.end());
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "expired source=10.0.0.9 group=225.1.2.3 iif=eth0 entry=learned",
                         "expired source=10.0.0.9 group=225.9.9.9 iif=eth0 entry=stop_filter",
                     }));
}

TEST_F(RouterEventsTest, InterfaceAppearingActivatesPendingRoutesAndVanishing)
{
    ASSERT_TRUE(router.add(spec("veth9", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("veth9", "", "225.5.0.0/16", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("veth8", "10.0.0.1", "225.1.2.4", {"eth1"}), Origin::config));
    lines.clear();
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("veth9", 19)});
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("veth7", 17)}); // activates nothing
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("veth9", 19)});
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "interface_added interface=veth9 ifindex=19",
                         "pending_activated interface=veth9 count=2",
                         "interface_added interface=veth7 ifindex=17",
                         "interface_removed interface=veth9 ifindex=19",
                     }));
}

TEST_F(RouterEventsTest, WrongvifMoveAndRefusals)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth1", "", "225.1.2.3", {"eth0"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    Upcall w = nocache(must_vif("eth1"), "10.0.0.9", "225.1.2.3");
    w.kind = Upcall::Kind::wrongvif;
    lines.clear();
    router.handle_upcall(Family::inet, w);
    EXPECT_EQ(lines, (std::vector<std::string>{"wrongvif_move source=10.0.0.9 group=225.1.2.3 from=eth0 to=eth1"}));
    lines.clear();
    router.set_max_learned(1);
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.8", "225.1.2.3"));
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "upcall_losses kernel_dropped=0 refused=1 total_kernel_dropped=0 total_refused=1"}));
}

TEST_F(RouterEventsTest, NoSubscriberNoEvent)
{
    EventBus quiet;
    router.set_events(&quiet);
    ASSERT_TRUE(router.add(spec("eth0", "", "225.1.2.3", {"eth1"}), Origin::config));
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "225.1.2.3"));
    EXPECT_TRUE(lines.empty());
    EXPECT_EQ(router.dynamic_count(), 1u);
}

} // namespace
} // namespace smcroute

// The proxy's rules (router_proxy) -----------------------------------------------

namespace smcroute {
namespace {

// The proxy as the router sees it: which interfaces want which group, and
// sources a downstream excluded (as an INCLUDE-mode record would). Answers
// naively with the upstream and every wanted downstream, the inbound
// interface included: leaving it out is the router's job. Counts its calls.
class FakeProxy final : public ProxyForwarding {
public:
    std::vector<IfName> proxy_oifs(std::string_view iif, const SgKey& key) const override
    {
        ++calls;
        ++calls_by_group[key.group.str()];
        std::vector<IfName> out;
        if (iif != upstream)
            out.push_back(IfName::parse(upstream).value());
        if (blocked.count(key.source.str()))
            return out;
        if (auto it = wanted.find(key.group.str()); it != wanted.end())
            for (const auto& n : it->second)
                out.push_back(IfName::parse(n).value());
        return out;
    }
    std::string upstream = "eth0";
    std::map<std::string, std::vector<std::string>> wanted; // group -> downstreams
    std::set<std::string> blocked;                          // sources no downstream wants
    mutable unsigned calls = 0;
    mutable std::map<std::string, unsigned> calls_by_group;
};

std::vector<IfName> if_names(std::initializer_list<std::string_view> names)
{
    std::vector<IfName> out;
    for (auto n : names)
        out.push_back(IfName::parse(n).value());
    return out;
}

class RouterProxyTest : public RouterTest {
protected:
    void proxy(std::initializer_list<std::string_view> downstreams, std::string_view upstream = "eth0")
    {
        router.set_proxy(Family::inet, IfName::parse(upstream).value(), if_names(downstreams), &fwd);
    }
    void upcall(std::string_view iif, std::string_view s, std::string_view g)
    {
        router.handle_upcall(Family::inet, nocache(must_vif(iif), s, g));
    }
    FakeProxy fwd;
};

TEST_F(RouterProxyTest, UpcallOnTheUpstreamWithNoListenerInstallsAnEntryWithoutOifs)
{
    proxy({"eth1", "eth2"});
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1", "eth2"})) << "proxy rules hold their inbound VIFs";
    EXPECT_TRUE(k4.mfc.empty());
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    const FakeMfc* e = mfc("10.0.0.1", "239.1.1.1");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth0");
    EXPECT_EQ(oif_names(*e), Names{});
    EXPECT_EQ(fwd.calls, 1u);
    RouterCounts c = router.counts();
    EXPECT_EQ(c.proxy, 1u);
    EXPECT_EQ(c.learned, 0u);
    EXPECT_EQ(c.stop_filters, 0u);
    EXPECT_EQ(c.rules, 0u) << "proxy rules are not rules";
    EXPECT_EQ(router.upcall_stats().installed, 0u) << "installed from rules counts rules only";
}

TEST_F(RouterProxyTest, ProxyChangedWidensOnlyThatGroupsEntriesInPlace)
{
    proxy({"eth1", "eth2"});
    fwd.blocked = {"10.0.0.3"};
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    upcall("eth0", "10.0.0.2", "239.1.1.1");
    upcall("eth0", "10.0.0.3", "239.1.1.1"); // nobody wants this source
    upcall("eth0", "10.0.0.1", "239.2.2.2"); // another group
    const unsigned adds = k4.add_mfc_calls, dels = k4.del_mfc_calls;
    fwd.calls_by_group.clear();
    fwd.wanted["239.1.1.1"] = {"eth1"};
    fwd.wanted["239.2.2.2"] = {"eth2"}; // changed, but not announced
    router.proxy_changed(Family::inet, ip("239.1.1.1"));
    EXPECT_EQ(k4.add_mfc_calls, adds + 2) << "one MRT_ADD_MFC over each entry whose VIFs changed";
    EXPECT_EQ(k4.del_mfc_calls, dels) << "never deleted: the flow does not stop";
    EXPECT_EQ(fwd.calls_by_group, (std::map<std::string, unsigned>{{"239.1.1.1", 3}}));
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"eth1"});
    EXPECT_EQ(oif_names(*mfc("10.0.0.2", "239.1.1.1")), Names{"eth1"});
    EXPECT_EQ(oif_names(*mfc("10.0.0.3", "239.1.1.1")), Names{});
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.2.2.2")), Names{}) << "another group's entry untouched";
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1", "eth2"}));

    // Unchanged: nothing re-programmed.
    router.proxy_changed(Family::inet, ip("239.1.1.1"));
    EXPECT_EQ(k4.add_mfc_calls, adds + 2);
    // Narrowing works in place too; a group without entries costs nothing.
    fwd.wanted.erase("239.1.1.1");
    router.proxy_changed(Family::inet, ip("239.1.1.1"));
    router.proxy_changed(Family::inet, ip("239.9.9.9"));
    EXPECT_EQ(k4.add_mfc_calls, adds + 4);
    EXPECT_EQ(k4.del_mfc_calls, dels);
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{});
    EXPECT_EQ(k4.mfc.size(), 4u);
}

TEST_F(RouterProxyTest, DownstreamSourceGoesUpstreamAndToOtherWantingDownstreamsNeverItsOwn)
{
    proxy({"eth1", "eth2", "eth3"});
    fwd.wanted["239.1.1.1"] = {"eth1", "eth2"}; // eth1 wants it too: it is the source's own link
    upcall("eth1", "10.1.0.5", "239.1.1.1");
    const FakeMfc* e = mfc("10.1.0.5", "239.1.1.1");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth1");
    EXPECT_EQ(oif_names(*e), (Names{"eth0", "eth2"}));
    auto v = view_of("10.1.0.5", "239.1.1.1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->kind, RouteView::Kind::proxy);
}

TEST_F(RouterProxyTest, ARuleBeatsTheProxy)
{
    ASSERT_TRUE(router.add(spec("eth0", "", "239.1.1.0/24", {"eth3"}), Origin::config));
    proxy({"eth1", "eth2"});
    fwd.wanted["239.1.1.1"] = {"eth1"};
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    upcall("eth0", "10.0.0.1", "239.7.7.7"); // no rule: the proxy's
    const FakeMfc* e = mfc("10.0.0.1", "239.1.1.1");
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e), Names{"eth3"});
    EXPECT_EQ(view_of("10.0.0.1", "239.1.1.1")->kind, RouteView::Kind::learned);
    EXPECT_EQ(view_of("10.0.0.1", "239.7.7.7")->kind, RouteView::Kind::proxy);
    EXPECT_EQ(fwd.calls_by_group, (std::map<std::string, unsigned>{{"239.7.7.7", 1}}));
}

TEST_F(RouterProxyTest, ARuleAddedLaterTakesOverAndItsRemovalHandsUpcallsBack)
{
    proxy({"eth1", "eth2"});
    fwd.wanted["239.1.1.1"] = {"eth1"};
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    upcall("eth0", "10.0.0.1", "239.7.7.7");
    const unsigned dels = k4.del_mfc_calls;
    ASSERT_TRUE(router.add(spec("eth0", "", "239.1.1.0/24", {"eth3"}), Origin::client));
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"eth3"});
    EXPECT_EQ(view_of("10.0.0.1", "239.1.1.1")->kind, RouteView::Kind::learned);
    EXPECT_EQ(view_of("10.0.0.1", "239.7.7.7")->kind, RouteView::Kind::proxy) << "the rule does not match it";
    EXPECT_EQ(k4.del_mfc_calls, dels) << "taken over in place";
    EXPECT_EQ(router.counts().proxy, 1u);
    // proxy_changed leaves the rule's entry alone.
    fwd.wanted["239.1.1.1"] = {"eth1", "eth2"};
    router.proxy_changed(Family::inet, ip("239.1.1.1"));
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"eth3"});

    ASSERT_TRUE(router.remove(spec("eth0", "", "239.1.1.0/24", {}), false));
    EXPECT_FALSE(mfc("10.0.0.1", "239.1.1.1"));
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), (Names{"eth1", "eth2"}));
    EXPECT_EQ(view_of("10.0.0.1", "239.1.1.1")->kind, RouteView::Kind::proxy);
}

TEST_F(RouterProxyTest, AStaticRouteBeatsTheProxy)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "239.1.1.1", {"eth3"}), Origin::config));
    proxy({"eth1", "eth2"});
    fwd.wanted["239.1.1.1"] = {"eth1"};
    const unsigned adds = k4.add_mfc_calls;
    upcall("eth0", "10.0.0.1", "239.1.1.1"); // the kernel would not ask: nothing happens
    EXPECT_EQ(k4.add_mfc_calls, adds);
    EXPECT_EQ(fwd.calls, 0u);
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"eth3"});
    EXPECT_EQ(view_of("10.0.0.1", "239.1.1.1")->kind, RouteView::Kind::route);
    EXPECT_EQ(router.counts().proxy, 0u);
}

TEST_F(RouterProxyTest, ChangedDownstreamsDropAndKeepExactlyTheRightEntries)
{
    proxy({"eth1", "eth2"});
    fwd.wanted["239.1.1.1"] = {"eth2"};
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    upcall("eth1", "10.1.0.1", "239.1.1.1");
    upcall("eth2", "10.2.0.1", "239.1.1.1");
    ASSERT_EQ(router.counts().proxy, 3u);
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"eth2"});
    const unsigned dels = k4.del_mfc_calls;

    fwd.wanted["239.1.1.1"] = {"eth3"};
    proxy({"eth1", "eth3"}); // eth2 is no longer a downstream, eth3 is
    EXPECT_EQ(k4.del_mfc_calls, dels + 1) << "only the entry arriving on eth2 is deleted";
    EXPECT_FALSE(mfc("10.2.0.1", "239.1.1.1"));
    ASSERT_TRUE(mfc("10.0.0.1", "239.1.1.1"));
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"eth3"}) << "re-evaluated in place";
    ASSERT_TRUE(mfc("10.1.0.1", "239.1.1.1"));
    EXPECT_EQ(oif_names(*mfc("10.1.0.1", "239.1.1.1")), (Names{"eth0", "eth3"}));
    EXPECT_EQ(router.counts().proxy, 2u);
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1", "eth3"}));

    // An entry whose downstream is now covered by a wildcard instead stays.
    proxy({"eth+"});
    EXPECT_EQ(k4.del_mfc_calls, dels + 1);
    EXPECT_EQ(router.counts().proxy, 2u);
    upcall("eth2", "10.2.0.1", "239.1.1.1");
    EXPECT_EQ(router.counts().proxy, 3u);

    // No proxy: every entry goes, and the VIFs with them.
    router.set_proxy(Family::inet, std::nullopt, {}, nullptr);
    EXPECT_EQ(router.counts().proxy, 0u);
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
}

TEST_F(RouterProxyTest, WildcardDownstreamFollowsLinksAppearingAndVanishing)
{
    proxy({"veth+"});
    EXPECT_EQ(vif_names(), Names{"eth0"});
    fwd.wanted["239.1.1.1"] = {"veth0", "veth1"};
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{}) << "neither downstream exists yet";

    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("veth0", 10)});
    EXPECT_EQ(vif_names(), (Names{"eth0", "veth0"}));
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"veth0"});
    upcall("veth0", "10.9.0.1", "239.1.1.1");
    EXPECT_EQ(oif_names(*mfc("10.9.0.1", "239.1.1.1")), Names{"eth0"});

    const unsigned dels = k4.del_mfc_calls;
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("veth1", 11)});
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), (Names{"veth0", "veth1"}));
    EXPECT_EQ(oif_names(*mfc("10.9.0.1", "239.1.1.1")), (Names{"eth0", "veth1"}));
    EXPECT_EQ(k4.del_mfc_calls, dels);

    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("veth0", 10)});
    EXPECT_FALSE(mfc("10.9.0.1", "239.1.1.1")) << "arrived on the vanished downstream";
    ASSERT_TRUE(mfc("10.0.0.1", "239.1.1.1"));
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"veth1"});
    EXPECT_EQ(vif_names(), (Names{"eth0", "veth1"}));

    // A link event of an interface no proxy rule covers re-evaluates nothing.
    const unsigned calls = fwd.calls;
    router.link_event(LinkEvent{LinkEvent::Kind::added_or_changed, make_iface("dummy0", 50)});
    router.link_event(LinkEvent{LinkEvent::Kind::removed, make_iface("dummy0", 50)});
    EXPECT_EQ(fwd.calls, calls);
}

TEST_F(RouterProxyTest, ProxyEntriesCountAgainstTheLearnedLimit)
{
    router.set_max_learned(2);
    proxy({"eth1"});
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    upcall("eth0", "10.0.0.2", "239.1.1.1");
    upcall("eth0", "10.0.0.3", "239.1.1.1");
    EXPECT_EQ(router.counts().proxy, 2u);
    EXPECT_EQ(router.upcall_stats().refused, 1u);
    EXPECT_FALSE(mfc("10.0.0.3", "239.1.1.1"));
    EXPECT_EQ(router.flush_dynamic(), 2u);
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1"})) << "the proxy rules keep listening";
    upcall("eth0", "10.0.0.3", "239.1.1.1");
    EXPECT_TRUE(mfc("10.0.0.3", "239.1.1.1"));
}

TEST_F(RouterProxyTest, IdleProxyEntriesExpire)
{
    proxy({"eth1"});
    upcall("eth0", "10.0.0.1", "239.1.1.1"); // busy
    upcall("eth0", "10.0.0.2", "239.1.1.1"); // idle
    k4.canned_counters[{ip("10.0.0.1"), ip("239.1.1.1")}] = MfcCounters{10, 1000, 0};
    EXPECT_EQ(router.expire_idle(), 0u);
    k4.canned_counters[{ip("10.0.0.1"), ip("239.1.1.1")}] = MfcCounters{20, 2000, 0};
    EXPECT_EQ(router.expire_idle(), 1u);
    EXPECT_TRUE(mfc("10.0.0.1", "239.1.1.1"));
    EXPECT_FALSE(mfc("10.0.0.2", "239.1.1.1"));
    // An expired entry is gone from proxy_changed's index too.
    fwd.wanted["239.1.1.1"] = {"eth1"};
    fwd.calls = 0;
    router.proxy_changed(Family::inet, ip("239.1.1.1"));
    EXPECT_EQ(fwd.calls, 1u);
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.1.1")), Names{"eth1"});
}

TEST_F(RouterProxyTest, WrongvifMovesAProxyEntryToAnotherProxyInterface)
{
    proxy({"eth1", "eth2"});
    fwd.wanted["239.1.1.1"] = {"eth1", "eth2"};
    upcall("eth0", "10.0.0.9", "239.1.1.1");
    EXPECT_EQ(oif_names(*mfc("10.0.0.9", "239.1.1.1")), (Names{"eth1", "eth2"}));
    Upcall w = nocache(must_vif("eth1"), "10.0.0.9", "239.1.1.1");
    w.kind = Upcall::Kind::wrongvif;
    router.handle_upcall(Family::inet, w);
    const FakeMfc* e = mfc("10.0.0.9", "239.1.1.1");
    ASSERT_TRUE(e);
    EXPECT_EQ(iif_name(*e), "eth1");
    EXPECT_EQ(oif_names(*e), (Names{"eth0", "eth2"}));
    EXPECT_EQ(view_of("10.0.0.9", "239.1.1.1")->kind, RouteView::Kind::proxy);
    // The moved entry is still in proxy_changed's index.
    fwd.wanted["239.1.1.1"] = {"eth2"};
    router.proxy_changed(Family::inet, ip("239.1.1.1"));
    EXPECT_EQ(oif_names(*mfc("10.0.0.9", "239.1.1.1")), (Names{"eth0", "eth2"}));
    fwd.wanted.erase("239.1.1.1");
    router.proxy_changed(Family::inet, ip("239.1.1.1"));
    EXPECT_EQ(oif_names(*mfc("10.0.0.9", "239.1.1.1")), Names{"eth0"});
}

TEST_F(RouterProxyTest, ViewsListProxyEntriesWithTheDynamicOnesByGroupThenSource)
{
    ASSERT_TRUE(router.add(spec("eth3", "", "239.5.0.0/16", {"eth2"}), Origin::config));
    proxy({"eth1"});
    fwd.wanted["239.9.9.9"] = {"eth1"};
    upcall("eth0", "10.0.0.2", "239.9.9.9");
    upcall("eth3", "10.3.0.1", "239.5.5.5"); // learned from the rule
    upcall("eth0", "10.0.0.1", "239.9.9.9");
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    std::vector<std::string> rows;
    for (const auto& v : views())
        if (v.kind != RouteView::Kind::rule)
            rows.push_back(cat(route_kind_name(v.kind), " ", v.key.source.str(), " ", v.key.group.str(), " ", v.iif,
                               v.active ? " active" : " inactive", " ", v.oifs.empty() ? "-" : v.oifs.front()));
    EXPECT_EQ(rows, (std::vector<std::string>{
                        "proxy 10.0.0.1 239.1.1.1 eth0 active -",
                        "learned 10.3.0.1 239.5.5.5 eth3 active eth2",
                        "proxy 10.0.0.1 239.9.9.9 eth0 active eth1",
                        "proxy 10.0.0.2 239.9.9.9 eth0 active eth1",
                    }));
    auto v = view_of("10.0.0.1", "239.9.9.9");
    ASSERT_TRUE(v);
    EXPECT_NE(v->since, Clock::time_point{});
    EXPECT_LE(v->since, router.now());
    EXPECT_EQ(route_kind_name(RouteView::Kind::proxy), "proxy");
    EXPECT_EQ(views().size(), 5u) << "the rule and four entries; proxy rules themselves are not listed";
}

TEST_F(RouterProxyTest, ProxyChangedCostsOnlyItsGroupsEntries)
{
    proxy({"eth1"});
    for (unsigned i = 0; i < 1000; ++i)
        upcall("eth0", "10.0.0.1", cat("239.1.", i / 256, ".", i % 256));
    ASSERT_EQ(router.counts().proxy, 1000u);
    const unsigned adds = k4.add_mfc_calls, dels = k4.del_mfc_calls;
    fwd.calls = 0;
    fwd.wanted["239.1.2.7"] = {"eth1"};
    router.proxy_changed(Family::inet, ip("239.1.2.7"));
    EXPECT_EQ(fwd.calls, 1u);
    EXPECT_EQ(k4.add_mfc_calls, adds + 1);
    EXPECT_EQ(k4.del_mfc_calls, dels);
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.2.7")), Names{"eth1"});
    EXPECT_EQ(oif_names(*mfc("10.0.0.1", "239.1.2.8")), Names{});
}

TEST_F(RouterProxyTest, Ipv6ProxyUsesTheV6KernelAndLeavesV4Alone)
{
    proxy({"eth1"});
    router.set_proxy(Family::inet6, IfName::parse("eth2").value(), if_names({"eth3"}), &fwd);
    fwd.upstream = "eth2";
    fwd.wanted["ff0e::1"] = {"eth3"};
    auto v6 = k6.vif_of_ifindex(index_of("eth2"));
    ASSERT_TRUE(v6);
    router.handle_upcall(Family::inet6, nocache(*v6, "2001:db8::1", "ff0e::1"));
    const FakeMfc* e = k6.find(ip("2001:db8::1"), ip("ff0e::1"));
    ASSERT_TRUE(e);
    EXPECT_EQ(oif_names(*e, k6), Names{"eth3"});
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1"}));
    router.set_proxy(Family::inet6, std::nullopt, {}, nullptr);
    EXPECT_TRUE(k6.mfc.empty());
    EXPECT_EQ(vif_names(), (Names{"eth0", "eth1"})) << "the IPv4 proxy keeps its rules";
}

class RouterProxyEventsTest : public RouterEventsTest {
protected:
    FakeProxy fwd;
};

TEST_F(RouterProxyEventsTest, ProxyEntriesPublishLikeLearnedOnes)
{
    router.set_proxy(Family::inet, IfName::parse("eth0").value(), if_names({"eth1"}), &fwd);
    fwd.wanted["239.1.1.1"] = {"eth1"};
    router.handle_upcall(Family::inet, nocache(must_vif("eth0"), "10.0.0.9", "239.1.1.1"));
    router.expire_idle();
    router.expire_idle();
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "learned source=10.0.0.9 group=239.1.1.1 iif=eth0 oifs=eth1 rule=proxy",
                         "expired source=10.0.0.9 group=239.1.1.1 iif=eth0 entry=proxy",
                     }));
}

TEST_F(RouterProxyTest, ClearDropsTheProxyRules)
{
    proxy({"eth1"});
    upcall("eth0", "10.0.0.1", "239.1.1.1");
    router.clear();
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
}

} // namespace
} // namespace smcroute

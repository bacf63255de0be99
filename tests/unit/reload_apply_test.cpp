// runtime/reload: a reload's plan (model/plan) applied to a Router over the
// fake MFC kernel and a GroupManager over a fake membership kernel, as the
// daemon applies it. Each test starts a config the daemon's way, reloads
// another, and asserts exactly the kernel calls the reload made.
#include "fake_kernel.hpp"
#include "fake_membership.hpp"

#include "smcroute/runtime/reload.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <algorithm>
#include <map>
#include <string>

namespace smcroute {
namespace {

using test::FakeKernel;
using test::FakeMembership;

Interface make_iface(std::string_view name, unsigned index)
{
    Interface i;
    i.name = IfName::parse(name).value();
    i.index = index;
    i.flags = IFF_UP | IFF_MULTICAST;
    return i;
}

IpAddr ip(std::string_view text)
{
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a) << text;
    return a ? *a : IpAddr{};
}

Config parse(std::string_view text)
{
    MemoryFiles files;
    auto r = parse_config_text(text, "new.conf", files);
    EXPECT_EQ(r.error_count(), 0u) << (r.diagnostics.empty() ? "" : r.diagnostics[0].format());
    return std::move(r.config);
}

// Kernel calls, both kernels together.
struct Calls {
    size_t add_vif = 0, del_vif = 0, add_mfc = 0, del_mfc = 0, joins = 0, leaves = 0;
    friend bool operator==(const Calls&, const Calls&) = default;
    friend std::ostream& operator<<(std::ostream& os, const Calls& c)
    {
        return os << "{add_vif " << c.add_vif << ", del_vif " << c.del_vif << ", add_mfc " << c.add_mfc
                  << ", del_mfc " << c.del_mfc << ", joins " << c.joins << ", leaves " << c.leaves << "}";
    }
};

const char* const base = "mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1\n"
                         "mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1 b2\n"
                         "mroute from a1 group 225.3.0.0/16 to b1\n"
                         "mgroup from b1 group 225.9.9.9\n"
                         "phyint b2 ttl-threshold 4\n";

class ReloadApply : public ::testing::Test {
protected:
    ReloadApply()
    {
        log.set_level(LogLevel::none);
        router.set_interfaces({make_iface("a1", 1), make_iface("a2", 2), make_iface("b1", 3), make_iface("b2", 4),
                               make_iface("b3", 5)});
        groups.set_interfaces(router.interfaces());
    }
    void TearDown() override { EXPECT_TRUE(k4.misuse.empty()) << k4.misuse.front(); }

    // Start with a config as the daemon does: phyints, then every line.
    void start(std::string_view text)
    {
        Config cfg = parse(text);
        std::vector<PhyintSpec> phyints;
        for (const auto& p : cfg.phyints)
            phyints.push_back(p.spec);
        router.set_phyints(phyints);
        ASSERT_TRUE(add_routes_and_joins(cfg.routes, cfg.joins, router, groups, log, GiveUp()));
        running_joins = cfg.joins;
    }
    // Reload to a config; returns the calls the reload made.
    Calls reload(std::string_view text, const std::function<bool()>& give_up = {}, bool* done = nullptr)
    {
        Config next = parse(text);
        GiveUp never;
        auto running = running_state(router, running_joins, never);
        EXPECT_TRUE(running);
        auto plan = plan_reload(running.value_or(RunningState{}), next);
        EXPECT_TRUE(plan.ok());
        Calls before = calls();
        bool ok = apply_plan(*plan, router, groups, log, give_up);
        if (done)
            *done = ok;
        else
            EXPECT_TRUE(ok);
        running_joins = next.joins;
        Calls after = calls();
        return Calls{after.add_vif - before.add_vif, after.del_vif - before.del_vif,
                     after.add_mfc - before.add_mfc, after.del_mfc - before.del_mfc,
                     after.joins - before.joins,     after.leaves - before.leaves};
    }
    Calls calls() const
    {
        return Calls{k4.add_vif_calls, k4.del_vif_calls, k4.add_mfc_calls, k4.del_mfc_calls, mk.joins, mk.leaves};
    }
    unsigned vif(std::string_view name) const
    {
        auto v = k4.vif_of_ifindex(router.find_interface(name)->index);
        EXPECT_TRUE(v) << "no VIF for " << name;
        return v.value_or(999);
    }
    const test::FakeMfc* mfc(std::string_view s, std::string_view g) const { return k4.find(ip(s), ip(g)); }
    std::vector<unsigned> vifs(std::initializer_list<std::string_view> names) const
    {
        std::vector<unsigned> out;
        for (auto n : names)
            out.push_back(vif(n));
        std::sort(out.begin(), out.end());
        return out;
    }
    // A packet of (S,G) arrives on a1 with no kernel entry: a rule learns it.
    void upcall(std::string_view s, std::string_view g)
    {
        Upcall u;
        u.kind = Upcall::Kind::nocache;
        u.vif = vif("a1");
        u.source = ip(s);
        u.group = ip(g);
        router.handle_upcall(Family::inet, u);
    }

    Logger log;
    FakeKernel k4{Family::inet};
    FakeMembership mk;
    Router router{log, &k4, nullptr};
    GroupManager groups{log, mk};
    std::vector<Located<JoinSpec>> running_joins;
};

TEST_F(ReloadApply, TheSameConfigMakesNoKernelCall)
{
    start(base);
    upcall("10.0.1.7", "225.3.1.1"); // an entry learned from the rule
    ASSERT_TRUE(mfc("10.0.1.7", "225.3.1.1"));
    auto mfc_before = k4.mfc;
    auto vifs_before = k4.vifs.size();
    auto held_before = mk.held;
    EXPECT_EQ(reload(base), Calls{});
    EXPECT_EQ(k4.mfc.size(), mfc_before.size());
    EXPECT_EQ(k4.vifs.size(), vifs_before);
    EXPECT_EQ(mk.held, held_before);
    EXPECT_TRUE(mfc("10.0.1.7", "225.3.1.1")) << "the learned entry stays";
}

// Each route and rule remembers its config line; a reload that only moves
// lines (comments added above them) moves what they remember, with no
// kernel call; a route whose OIFs change remembers its new line too.
TEST_F(ReloadApply, RoutesRememberTheirConfigLineAcrossReloads)
{
    start(base);
    auto lines = [&] {
        std::map<std::string, std::string> out;
        router.for_each_route([&](const RouteView& v) {
            std::string key = v.kind == RouteView::Kind::rule ? v.spec->key_str()
                                                               : cat("(", v.key.source.str(), ", ", v.key.group.str(), ")");
            out[key] = cat(v.file, ":", v.line);
        });
        return out;
    };
    auto before = lines();
    EXPECT_EQ(before["(10.0.1.2, 225.1.1.1)"], "new.conf:1");
    EXPECT_EQ(before["(10.0.1.2, 225.1.1.2)"], "new.conf:2");
    EXPECT_EQ(before["(*, 225.3.0.0/16)"], "new.conf:3");
    EXPECT_EQ(reload(std::string("# one\n# two\n") + base), Calls{});
    auto moved = lines();
    EXPECT_EQ(moved["(10.0.1.2, 225.1.1.1)"], "new.conf:3");
    EXPECT_EQ(moved["(*, 225.3.0.0/16)"], "new.conf:5");
    (void)reload("mroute from a1 source 10.0.1.2 group 225.1.1.2 to b2\n"
                 "mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1\n");
    auto changed = lines();
    EXPECT_EQ(changed["(10.0.1.2, 225.1.1.2)"], "new.conf:1");
    EXPECT_EQ(changed["(10.0.1.2, 225.1.1.1)"], "new.conf:2");
    EXPECT_EQ(changed.count("(*, 225.3.0.0/16)"), 0u);
}

TEST_F(ReloadApply, AnAddedRouteIsOneMfcAdd)
{
    start(base);
    EXPECT_EQ(reload(std::string(base) + "mroute from a1 source 10.0.1.2 group 225.1.1.3 to b2\n"),
              (Calls{.add_mfc = 1}));
    ASSERT_TRUE(mfc("10.0.1.2", "225.1.1.3"));
    EXPECT_EQ(mfc("10.0.1.2", "225.1.1.3")->oif_vifs(), vifs({"b2"}));
}

TEST_F(ReloadApply, ARemovedRouteIsOneMfcDelete)
{
    start(base);
    EXPECT_EQ(reload("mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1 b2\n"
                     "mroute from a1 group 225.3.0.0/16 to b1\n"
                     "mgroup from b1 group 225.9.9.9\nphyint b2 ttl-threshold 4\n"),
              (Calls{.del_mfc = 1}));
    EXPECT_FALSE(mfc("10.0.1.2", "225.1.1.1"));
    EXPECT_TRUE(mfc("10.0.1.2", "225.1.1.2"));
}

TEST_F(ReloadApply, OtherOifsAreReprogrammedInPlaceNeverDeleted)
{
    start(base);
    EXPECT_EQ(reload("mroute from a1 source 10.0.1.2 group 225.1.1.1 to b2\n"
                     "mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1 b2\n"
                     "mroute from a1 group 225.3.0.0/16 to b1\n"
                     "mgroup from b1 group 225.9.9.9\nphyint b2 ttl-threshold 4\n"),
              (Calls{.add_mfc = 1}));
    ASSERT_TRUE(mfc("10.0.1.2", "225.1.1.1"));
    EXPECT_EQ(mfc("10.0.1.2", "225.1.1.1")->oif_vifs(), vifs({"b2"}));
}

TEST_F(ReloadApply, AnotherIifIsADeleteThenAnAdd)
{
    start(base);
    unsigned add_vif_before = k4.add_vif_calls;
    auto c = reload("mroute from a2 source 10.0.1.2 group 225.1.1.1 to b1\n"
                    "mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1 b2\n"
                    "mroute from a1 group 225.3.0.0/16 to b1\n"
                    "mgroup from b1 group 225.9.9.9\nphyint b2 ttl-threshold 4\n");
    EXPECT_EQ(c, (Calls{.add_vif = 1, .add_mfc = 1, .del_mfc = 1})) << "a2's VIF is new";
    EXPECT_EQ(k4.add_vif_calls, add_vif_before + 1);
    ASSERT_TRUE(mfc("10.0.1.2", "225.1.1.1"));
    EXPECT_EQ(mfc("10.0.1.2", "225.1.1.1")->iif_vif, vif("a2"));
}

TEST_F(ReloadApply, PhyintsAreSetBeforeTheNewRoutes)
{
    start(base);
    EXPECT_EQ(k4.vifs.at(vif("b2")).ttl_threshold, 4);
    EXPECT_EQ(reload(base), Calls{}); // the same phyints: nothing re-evaluated
    // A threshold for b3, and a route that gives b3 its first VIF: the VIF
    // is made with it (phyints come before additions). b2's VIF is kept.
    auto c = reload(std::string(base) + "phyint b3 ttl-threshold 9\n"
                                        "mroute from a1 source 10.0.1.2 group 225.1.1.3 to b3\n");
    EXPECT_EQ(c, (Calls{.add_vif = 1, .add_mfc = 1}));
    EXPECT_EQ(k4.vifs.at(vif("b3")).ttl_threshold, 9);
    EXPECT_EQ(k4.vifs.at(vif("b2")).ttl_threshold, 4);
    ASSERT_EQ(router.phyints().size(), 2u);
    EXPECT_EQ(router.phyints()[1].ttl_threshold, 9);
}

TEST_F(ReloadApply, JoinsAddedLeftAndUnchangedKept)
{
    start(base + std::string("mgroup from b2 source 10.0.1.2 group 232.1.1.1\n"));
    ASSERT_EQ(mk.held.size(), 2u);
    // 225.9.9.9 on b1 stays, the SSM join on b2 goes, one on b3 comes.
    auto c = reload(std::string(base) + "mgroup from b3 group 225.8.8.8\n");
    EXPECT_EQ(c, (Calls{.joins = 1, .leaves = 1}));
    EXPECT_TRUE(mk.held.count({3, std::nullopt, ip("225.9.9.9")}));
    EXPECT_TRUE(mk.held.count({5, std::nullopt, ip("225.8.8.8")}));
    EXPECT_FALSE(mk.held.count({4, ip("10.0.1.2"), ip("232.1.1.1")}));
    EXPECT_EQ(mk.held.size(), 2u);
}

TEST_F(ReloadApply, RulesFollowTheirOifsAndTheirLearnedEntriesWithThem)
{
    start(base);
    upcall("10.0.1.7", "225.3.1.1");
    ASSERT_TRUE(mfc("10.0.1.7", "225.3.1.1"));
    // The rule's OIFs change: its learned entry is re-programmed, not deleted.
    auto c = reload("mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1\n"
                    "mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1 b2\n"
                    "mroute from a1 group 225.3.0.0/16 to b2\n"
                    "mgroup from b1 group 225.9.9.9\nphyint b2 ttl-threshold 4\n");
    EXPECT_EQ(c, (Calls{.add_mfc = 1}));
    ASSERT_TRUE(mfc("10.0.1.7", "225.3.1.1"));
    EXPECT_EQ(mfc("10.0.1.7", "225.3.1.1")->oif_vifs(), vifs({"b2"}));
    // Gone from the config: the entry it learned goes with it.
    c = reload("mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1\n"
               "mroute from a1 source 10.0.1.2 group 225.1.1.2 to b1 b2\n"
               "mgroup from b1 group 225.9.9.9\nphyint b2 ttl-threshold 4\n");
    EXPECT_EQ(c, (Calls{.del_mfc = 1}));
    EXPECT_FALSE(mfc("10.0.1.7", "225.3.1.1"));
}

TEST_F(ReloadApply, WildcardRulesAreKeysLikeAnyOther)
{
    const char* rules = "mroute from a+ group 225.4.4.4 to b1\n"
                        "mroute from a1 source 10.0.0.0/8 group 225.5.5.5 to b+\n";
    start(rules);
    upcall("10.0.1.7", "225.4.4.4");
    upcall("10.0.1.7", "225.5.5.5");
    ASSERT_TRUE(mfc("10.0.1.7", "225.4.4.4"));
    ASSERT_TRUE(mfc("10.0.1.7", "225.5.5.5"));
    EXPECT_EQ(reload(rules), Calls{});
    // The first one gains an OIF (in place), the second one stays.
    EXPECT_EQ(reload("mroute from a+ group 225.4.4.4 to b1 b3\n"
                     "mroute from a1 source 10.0.0.0/8 group 225.5.5.5 to b+\n"),
              (Calls{.add_mfc = 1}));
    EXPECT_EQ(mfc("10.0.1.7", "225.4.4.4")->oif_vifs(), vifs({"b1", "b3"}));
}

TEST_F(ReloadApply, RepeatedKeysMergeTheirOifs)
{
    start("mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1\n"
          "mroute from a1 source 10.0.1.2 group 225.1.1.1 to b2\n");
    ASSERT_TRUE(mfc("10.0.1.2", "225.1.1.1"));
    EXPECT_EQ(mfc("10.0.1.2", "225.1.1.1")->oif_vifs(), vifs({"b1", "b2"}));
    // The same OIFs on one line, or split otherwise: nothing to do.
    EXPECT_EQ(reload("mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1 b2\n"), Calls{});
    EXPECT_EQ(reload("mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1\n"
                     "mroute from a1 source 10.0.1.2 group 225.1.1.1 to b2 b1\n"),
              Calls{});
    // One more on a line of its own: the merged route, in place (b3's VIF
    // is new).
    EXPECT_EQ(reload("mroute from a1 source 10.0.1.2 group 225.1.1.1 to b1 b2\n"
                     "mroute from a1 source 10.0.1.2 group 225.1.1.1 to b3\n"),
              (Calls{.add_vif = 1, .add_mfc = 1}));
    EXPECT_EQ(mfc("10.0.1.2", "225.1.1.1")->oif_vifs(), vifs({"b1", "b2", "b3"}));
}

TEST_F(ReloadApply, WhatClientsAddedIsDroppedTheRestKept)
{
    start(base);
    ASSERT_TRUE(router.add(parse("mroute from a1 source 10.0.1.2 group 225.6.6.6 to b1\n").routes[0].spec,
                           Origin::client));
    ASSERT_TRUE(groups.add(parse("mgroup from b2 group 225.7.7.7\n").joins[0].spec, Origin::client));
    // running_state sees only the config's routes, with their OIFs.
    GiveUp never;
    auto running = running_state(router, running_joins, never);
    ASSERT_TRUE(running);
    EXPECT_EQ(running->routes.size(), 3u);
    for (const auto& r : running->routes)
        EXPECT_FALSE(r.oifs.empty()) << r.key_str();
    EXPECT_EQ(reload(base), (Calls{.del_mfc = 1, .leaves = 1}));
    EXPECT_FALSE(mfc("10.0.1.2", "225.6.6.6"));
    EXPECT_FALSE(mk.held.count({4, std::nullopt, ip("225.7.7.7")}));
    EXPECT_EQ(router.static_count(), 2u);
    EXPECT_EQ(groups.size(), 1u);
}

TEST_F(ReloadApply, RefusalsAreLoggedWithTheirLineAndTheRestApplied)
{
    start(base);
    log.set_level(LogLevel::err);
    k4.fail_add_mfc = true;
    testing::internal::CaptureStderr();
    auto c = reload(std::string(base) + "mroute from a1 source 10.0.1.2 group 225.1.1.3 to b2\n"
                                        "mroute from a1 source 2001:db8::2 group ff05::1 to b2\n"
                                        "mgroup from b3 group 225.8.8.8\n");
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(c, (Calls{.add_mfc = 1, .joins = 1}));
    EXPECT_NE(err.find("new.conf:6: "), std::string::npos) << err;
    EXPECT_NE(err.find("MRT_ADD_MFC"), std::string::npos) << err;
    EXPECT_NE(err.find("new.conf:7: IPv6 multicast routing is not available, route (2001:db8::2, ff05::1) ignored"),
              std::string::npos)
        << err;
    EXPECT_TRUE(mk.held.count({5, std::nullopt, ip("225.8.8.8")}));
}

TEST_F(ReloadApply, GivingUpStopsPartWay)
{
    start("");
    std::string big;
    for (int i = 0; i < 2000; ++i)
        big += "mroute from a1 source 10.0.1.2 group 226.0." + std::to_string(i / 256) + "." +
               std::to_string(i % 256) + " to b1\n";
    int asked = 0;
    bool done = true;
    auto c = reload(big, [&] { return ++asked == 1; }, &done);
    EXPECT_FALSE(done);
    EXPECT_EQ(asked, 1); // asked every plan_check_every routes, not on each
    EXPECT_EQ(c.add_mfc, plan_check_every - 1);
    EXPECT_EQ(router.static_count(), plan_check_every - 1);
}

} // namespace
} // namespace smcroute

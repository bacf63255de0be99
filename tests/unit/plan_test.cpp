// model/plan: the changes a reload makes, as data. Configs are parsed from
// text, so the specs are those the daemon would see.
#include "smcroute/model/plan.hpp"

#include "plan_text.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

using namespace smcroute;

namespace {

Config parse(std::string_view text) { return test::parse_valid(text); }
RunningState running(std::string_view text) { return test::running_of(text, "new.conf"); }

ReloadPlan plan(std::string_view old_text, std::string_view new_text)
{
    Config next = parse(new_text);
    auto p = plan_reload(running(old_text), next);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? std::move(*p) : ReloadPlan{};
}

std::vector<std::string> keys(const std::vector<RouteSpec>& routes)
{
    std::vector<std::string> out;
    for (const auto& r : routes)
        out.push_back(std::string(r.iif.view()) + " " + r.key_str());
    return out;
}
std::vector<std::string> keys(const std::vector<Located<RouteSpec>>& routes)
{
    std::vector<std::string> out;
    for (const auto& r : routes) {
        std::string oifs;
        for (const auto& o : r.spec.oifs)
            oifs += " " + std::string(o.view());
        out.push_back(std::string(r.spec.iif.view()) + " " + r.spec.key_str() + " ->" + oifs);
    }
    return out;
}
using Strings = std::vector<std::string>;

const char* const base = "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2\n"
                         "mroute from a1 group 225.3.3.3 to b1\n"
                         "mgroup from b1 group 225.9.9.9\n"
                         "phyint b2 ttl-threshold 4\n";

} // namespace

TEST(Plan, TheSameConfigChangesNothing)
{
    auto p = plan(base, base);
    EXPECT_TRUE(p.changes_nothing());
    EXPECT_EQ(p.config_routes, 2u);
}

TEST(Plan, FromNothingEverythingIsAdded)
{
    auto p = plan("", base);
    EXPECT_EQ(keys(p.add_routes), (Strings{"a1 (10.0.1.2, 225.1.2.3) -> b1 b2", "a1 (*, 225.3.3.3) -> b1"}));
    EXPECT_EQ(p.add_routes[0].loc.file, "new.conf");
    EXPECT_EQ(p.add_routes[0].loc.line, 1u);
    ASSERT_EQ(p.join.size(), 1u);
    EXPECT_EQ(p.join[0].spec.key_str(), "(*, 225.9.9.9)");
    ASSERT_TRUE(p.phyints);
    ASSERT_EQ(p.phyints->size(), 1u);
    EXPECT_EQ((*p.phyints)[0].ttl_threshold, 4);
    EXPECT_TRUE(p.remove_routes.empty());
    EXPECT_TRUE(p.replace_oifs.empty());
    EXPECT_TRUE(p.leave.empty());
}

TEST(Plan, ARouteAddedIsTheOnlyChange)
{
    auto p = plan(base, std::string(base) + "mroute from a1 source 10.0.1.2 group 225.5.5.5 to b2\n");
    EXPECT_EQ(keys(p.add_routes), (Strings{"a1 (10.0.1.2, 225.5.5.5) -> b2"}));
    EXPECT_EQ(p.add_routes[0].loc.line, 5u);
    EXPECT_TRUE(p.remove_routes.empty());
    EXPECT_TRUE(p.replace_oifs.empty());
    EXPECT_FALSE(p.phyints);
    EXPECT_TRUE(p.join.empty());
    EXPECT_TRUE(p.leave.empty());
    EXPECT_EQ(p.config_routes, 3u);
}

TEST(Plan, ARouteRemovedIsRemovedByKey)
{
    auto p = plan(base, "mroute from a1 group 225.3.3.3 to b1\nmgroup from b1 group 225.9.9.9\nphyint b2 ttl-threshold 4\n");
    EXPECT_EQ(keys(p.remove_routes), (Strings{"a1 (10.0.1.2, 225.1.2.3)"}));
    EXPECT_TRUE(p.remove_routes[0].oifs.empty());
    EXPECT_TRUE(p.add_routes.empty());
    EXPECT_TRUE(p.replace_oifs.empty());
    EXPECT_EQ(p.config_routes, 1u);
}

TEST(Plan, OtherOifsAreReplacedInPlaceNotRemovedAndAdded)
{
    auto p = plan(base, "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b2\n"
                        "mroute from a1 group 225.3.3.3 to b1 b2\n"
                        "mgroup from b1 group 225.9.9.9\nphyint b2 ttl-threshold 4\n");
    EXPECT_EQ(keys(p.replace_oifs), (Strings{"a1 (10.0.1.2, 225.1.2.3) -> b2", "a1 (*, 225.3.3.3) -> b1 b2"}));
    EXPECT_TRUE(p.remove_routes.empty());
    EXPECT_TRUE(p.add_routes.empty());
}

TEST(Plan, AnotherIifIsAnotherRoute)
{
    auto p = plan(base, "mroute from a2 source 10.0.1.2 group 225.1.2.3 to b1 b2\n"
                        "mroute from a1 group 225.3.3.3 to b1\n"
                        "mgroup from b1 group 225.9.9.9\nphyint b2 ttl-threshold 4\n");
    EXPECT_EQ(keys(p.remove_routes), (Strings{"a1 (10.0.1.2, 225.1.2.3)"}));
    EXPECT_EQ(keys(p.add_routes), (Strings{"a2 (10.0.1.2, 225.1.2.3) -> b1 b2"}));
    EXPECT_TRUE(p.replace_oifs.empty());
}

TEST(Plan, RepeatedKeysMergeTheirOifsInOrder)
{
    auto p = plan("", "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"
                      "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b2 b1\n"
                      "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b3\n");
    EXPECT_EQ(keys(p.add_routes), (Strings{"a1 (10.0.1.2, 225.1.2.3) -> b1 b2 b3"}));
    EXPECT_EQ(p.add_routes[0].loc.line, 1u); // the first line names the route
    EXPECT_EQ(p.config_routes, 1u);
    // Merged the same way, they are unchanged against a route holding them.
    auto same = plan("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2 b3\n",
                     "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2\n"
                     "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b3\n");
    EXPECT_TRUE(same.changes_nothing());
}

TEST(Plan, RulesWithPrefixesAndWildcardsAreKeysLikeAnyOther)
{
    const char* rules = "mroute from a1 group 225.1.0.0/16 to b1\n"
                        "mroute from a+ source 10.0.0.0/8 group 225.2.2.2 to b1\n";
    EXPECT_TRUE(plan(rules, rules).changes_nothing());
    auto p = plan(rules, "mroute from a1 group 225.1.0.0/24 to b1\n"
                         "mroute from a+ source 10.0.0.0/8 group 225.2.2.2 to b1 b2\n");
    EXPECT_EQ(keys(p.remove_routes), (Strings{"a1 (*, 225.1.0.0/16)"}));
    EXPECT_EQ(keys(p.add_routes), (Strings{"a1 (*, 225.1.0.0/24) -> b1"}));
    EXPECT_EQ(keys(p.replace_oifs), (Strings{"a+ (10.0.0.0/8, 225.2.2.2) -> b1 b2"}));
}

TEST(Plan, PhyintsAreSetOnlyWhenTheyDiffer)
{
    EXPECT_FALSE(plan(base, base).phyints);
    auto p = plan(base, "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2\n"
                        "mroute from a1 group 225.3.3.3 to b1\nmgroup from b1 group 225.9.9.9\n"
                        "phyint b2 ttl-threshold 8\n");
    ASSERT_TRUE(p.phyints);
    EXPECT_EQ((*p.phyints)[0].ttl_threshold, 8);
    EXPECT_TRUE(p.add_routes.empty());
    EXPECT_TRUE(p.replace_oifs.empty());
    // None at all any more: set, to none.
    auto none = plan(base, "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2\n"
                           "mroute from a1 group 225.3.3.3 to b1\nmgroup from b1 group 225.9.9.9\n");
    ASSERT_TRUE(none.phyints);
    EXPECT_TRUE(none.phyints->empty());
}

TEST(Plan, JoinsLeftAndJoinedUnchangedOnesKept)
{
    auto p = plan("mgroup from b1 group 225.9.9.9\nmgroup from b1 source 10.0.1.2 group 232.1.1.1\n",
                  "mgroup from b1 source 10.0.1.2 group 232.1.1.1\nmgroup from b2 group 225.9.9.9\n");
    ASSERT_EQ(p.leave.size(), 1u);
    EXPECT_EQ(std::string(p.leave[0].iif.view()) + " " + p.leave[0].key_str(), "b1 (*, 225.9.9.9)");
    ASSERT_EQ(p.join.size(), 1u);
    EXPECT_EQ(std::string(p.join[0].spec.iif.view()) + " " + p.join[0].spec.key_str(), "b2 (*, 225.9.9.9)");
    EXPECT_EQ(p.join[0].loc.line, 2u);
    EXPECT_TRUE(p.remove_routes.empty());
    EXPECT_TRUE(p.add_routes.empty());
}

TEST(Plan, GivingUpDecidesNothing)
{
    std::string big;
    for (int i = 0; i < 3000; ++i)
        big += "mroute from a1 source 10.0.1.2 group 226.0." + std::to_string(i / 256) + "." +
               std::to_string(i % 256) + " to b1\n";
    Config next = parse(big);
    int asked = 0;
    auto p = plan_reload(RunningState{}, next, [&] { return ++asked == 2; });
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, EINTR);
    EXPECT_EQ(asked, 2); // asked every plan_check_every entries, not on each
    // Never asked: the whole plan.
    Config again = parse(big);
    auto whole = plan_reload(RunningState{}, again, [] { return false; });
    ASSERT_TRUE(whole.ok());
    EXPECT_EQ(whole->add_routes.size(), 3000u);
}

// model/plan_render and model/config_text: a reload's plan as the dry run
// prints it, and specs written back as config lines that parse into the
// same specs. Configs are parsed from text, as the daemon would see them.
#include "smcroute/model/config_text.hpp"
#include "smcroute/model/plan_render.hpp"

#include "plan_text.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace smcroute;

namespace {

Config parse(std::string_view text) { return test::parse_valid(text); }
RunningState running(std::string_view text) { return test::running_of(text, "old.conf"); }

struct Preview {
    RunningState before;
    ReloadPlan plan;
    std::vector<RouteSpec> client_routes;
    std::vector<JoinSpec> client_joins;
    PlanPreview view() const { return PlanPreview{before, plan, client_routes, client_joins}; }
};

Preview preview(std::string_view old_text, std::string_view new_text)
{
    Preview p;
    p.before = running(old_text);
    Config next = parse(new_text);
    auto planned = plan_reload(p.before, next);
    EXPECT_TRUE(planned.ok());
    p.plan = std::move(*planned);
    return p;
}

std::string lines(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& l : v)
        out += l + "\n";
    return out;
}

RouteSpec route(std::string_view line)
{
    Config c = parse(line);
    EXPECT_EQ(c.routes.size(), 1u);
    return c.routes.empty() ? RouteSpec{} : c.routes[0].spec;
}

} // namespace

TEST(ConfigText, LinesParseBackIntoTheSameSpecs)
{
    const std::string text = "phyint eth0 enable\n"
                             "phyint eth1 disable\n"
                             "phyint eth+ enable mrdisc ttl-threshold 9\n"
                             "mroute from eth0 group 225.1.1.1 to eth1 eth2\n"
                             "mroute from eth0 source 10.0.0.0/8 group 225.2.0.0/16 to eth1\n"
                             "mroute from eth0 source 10.0.0.1 group 225.3.3.3\n"
                             "mroute from eth+ source fc00::1 group ff05::1 to eth1\n"
                             "mgroup from eth0 group 225.4.4.4\n"
                             "mgroup from eth0 source 10.0.0.0/30 group 232.1.1.0/31\n";
    Config c = parse(text);
    std::string written;
    for (const auto& p : c.phyints)
        written += phyint_line(p.spec) + "\n";
    for (const auto& r : c.routes)
        written += route_line(r.spec) + "\n";
    for (const auto& j : c.joins)
        written += join_line(j.spec) + "\n";
    EXPECT_EQ(written, text);
    Config back = parse(written);
    ASSERT_EQ(back.routes.size(), c.routes.size());
    for (size_t i = 0; i < c.routes.size(); ++i)
        EXPECT_EQ(back.routes[i].spec, c.routes[i].spec) << i;
    ASSERT_EQ(back.joins.size(), c.joins.size());
    for (size_t i = 0; i < c.joins.size(); ++i)
        EXPECT_EQ(back.joins[i].spec, c.joins[i].spec) << i;
    ASSERT_EQ(back.phyints.size(), c.phyints.size());
    for (size_t i = 0; i < c.phyints.size(); ++i)
        EXPECT_EQ(back.phyints[i].spec, c.phyints[i].spec) << i;
    // An ssmgroup line is the same join as an mgroup one, written as such.
    MemoryFiles files;
    auto ssm = parse_config_text("ssmgroup from eth0 group 232.1.1.1 source 10.0.0.1\n", "s.conf", files);
    ASSERT_EQ(ssm.config.joins.size(), 1u);
    EXPECT_EQ(join_line(ssm.config.joins[0].spec), "mgroup from eth0 source 10.0.0.1 group 232.1.1.1");
    EXPECT_EQ(loc_text(SourceLoc{"/etc/a.conf", 12}), "/etc/a.conf:12");
    EXPECT_EQ(loc_text(SourceLoc{}), "");
}

TEST(PlanRender, NoChanges)
{
    const char* cfg = "mroute from eth0 group 225.1.1.1 to eth1\nmgroup from eth0 group 225.1.1.1\n";
    auto p = preview(cfg, cfg);
    EXPECT_EQ(preview_changes(p.view()), 0u);
    EXPECT_EQ(lines(render_preview_text(p.view())), "no changes (dry run: none made)\n");
    EXPECT_EQ(lines(render_preview_json(p.view())), "{\"dry_run\": [\n]}\n");
}

TEST(PlanRender, EveryKindOfChangeAsText)
{
    auto p = preview("phyint eth1 ttl-threshold 3\n"
                     "mroute from eth0 group 225.1.1.1 to eth1\n"
                     "mroute from eth0 group 225.2.2.2 to eth1 eth2\n"
                     "mroute from eth0 source 10.0.0.1 group 225.3.3.3 to eth1\n"
                     "mgroup from eth0 group 225.5.5.5\n"
                     "mgroup from eth0 group 225.6.6.6\n",
                     "phyint eth1 ttl-threshold 5\n"
                     "mroute from eth0 group 225.2.2.2 to eth1 eth3\n"
                     "mroute from eth0 source 10.0.0.1 group 225.3.3.3 to eth1\n"
                     "mroute from eth0 group 225.4.4.4 to eth2\n"
                     "mgroup from eth0 group 225.6.6.6\n"
                     "mgroup from eth0 source 10.0.0.1 group 232.7.7.7\n");
    p.client_routes.push_back(route("mroute from eth2 source 10.9.9.9 group 225.9.9.9 to eth0"));
    p.client_joins.push_back(parse("mgroup from eth2 group 225.8.8.8").joins.at(0).spec);
    EXPECT_EQ(preview_changes(p.view()), 9u);
    EXPECT_EQ(lines(render_preview_text(p.view())),
              "- mroute from eth2 source 10.9.9.9 group 225.9.9.9 to eth0    # added by a client\n"
              "- mroute from eth0 group 225.1.1.1 to eth1\n"
              "- phyint eth1 enable ttl-threshold 3\n"
              "+ phyint eth1 enable ttl-threshold 5\n"
              "~ mroute from eth0 group 225.2.2.2 to eth1 eth3    # new.conf:2: to +eth3 -eth2\n"
              "- mgroup from eth2 group 225.8.8.8    # added by a client\n"
              "- mgroup from eth0 group 225.5.5.5\n"
              "+ mroute from eth0 group 225.4.4.4 to eth2    # new.conf:4\n"
              "+ mgroup from eth0 source 10.0.0.1 group 232.7.7.7    # new.conf:6\n"
              "reload would make 9 changes (dry run: none made)\n");
}

TEST(PlanRender, ChangedProxyWordsShowAsTheirPhyintLine)
{
    auto p = preview("phyint eth0 upstream\nphyint eth1 downstream\nphyint eth2 downstream igmp\n",
                     "phyint eth0 upstream\nphyint eth1 downstream robustness 3 allow 239.0.0.0/8\n"
                     "phyint eth2 downstream igmp\n");
    EXPECT_EQ(preview_changes(p.view()), 2u);
    EXPECT_EQ(lines(render_preview_text(p.view())),
              "- phyint eth1 enable downstream\n"
              "+ phyint eth1 enable downstream allow 239.0.0.0/8 robustness 3\n"
              "reload would make 2 changes (dry run: none made)\n");
    EXPECT_EQ(lines(render_preview_json(p.view())),
              "{\"dry_run\": [\n"
              "{\"change\": \"remove\", \"kind\": \"phyint\", \"origin\": \"config\", \"text\": \"phyint eth1 "
              "enable downstream\", \"interface\": \"eth1\", \"enable\": true, \"mrdisc\": false, \"ttl_threshold\": 1, "
              "\"proxy\": \"downstream\"}\n"
              ",{\"change\": \"add\", \"kind\": \"phyint\", \"origin\": \"config\", \"text\": \"phyint eth1 "
              "enable downstream allow 239.0.0.0/8 robustness 3\", \"interface\": \"eth1\", \"enable\": true, "
              "\"mrdisc\": false, \"ttl_threshold\": 1, \"proxy\": \"downstream\"}\n"
              "]}\n");
}

TEST(PlanRender, JsonOneObjectPerChange)
{
    auto p = preview("mroute from eth0 group 225.2.2.2 to eth1 eth2\nmgroup from eth0 group 225.5.5.5\n"
                     "phyint eth1 disable\n",
                     "mroute from eth0 group 225.2.2.2 to eth1 eth3\nmroute from eth0 source 10.0.0.1 group "
                     "225.3.3.3\nmgroup from eth0 source 10.0.0.1 group 232.7.7.7\n");
    EXPECT_EQ(lines(render_preview_json(p.view())),
              "{\"dry_run\": [\n"
              "{\"change\": \"remove\", \"kind\": \"phyint\", \"origin\": \"config\", \"text\": \"phyint eth1 "
              "disable\", \"interface\": \"eth1\", \"enable\": false, \"mrdisc\": false, \"ttl_threshold\": 1, "
              "\"proxy\": null}\n"
              ",{\"change\": \"change\", \"kind\": \"mroute\", \"origin\": \"config\", \"text\": \"mroute from eth0 "
              "group 225.2.2.2 to eth1 eth3\", \"file\": \"new.conf\", \"line\": 1, \"iif\": \"eth0\", \"source\": "
              "\"*\", \"group\": \"225.2.2.2\", \"oifs\": [\"eth1\", \"eth3\"], \"add_oifs\": [\"eth3\"], "
              "\"remove_oifs\": [\"eth2\"]}\n"
              ",{\"change\": \"remove\", \"kind\": \"mgroup\", \"origin\": \"config\", \"text\": \"mgroup from eth0 "
              "group 225.5.5.5\", \"iif\": \"eth0\", \"source\": null, \"group\": \"225.5.5.5\"}\n"
              ",{\"change\": \"add\", \"kind\": \"mroute\", \"origin\": \"config\", \"text\": \"mroute from eth0 source "
              "10.0.0.1 group 225.3.3.3\", \"file\": \"new.conf\", \"line\": 2, \"iif\": \"eth0\", \"source\": "
              "\"10.0.0.1\", \"group\": \"225.3.3.3\", \"oifs\": []}\n"
              ",{\"change\": \"add\", \"kind\": \"mgroup\", \"origin\": \"config\", \"text\": \"mgroup from eth0 source "
              "10.0.0.1 group 232.7.7.7\", \"file\": \"new.conf\", \"line\": 3, \"iif\": \"eth0\", \"source\": "
              "\"10.0.0.1\", \"group\": \"232.7.7.7\"}\n"
              "]}\n");
}

TEST(PlanRender, OnlyClientEntriesStillCount)
{
    const char* cfg = "mroute from eth0 group 225.1.1.1 to eth1\n";
    auto p = preview(cfg, cfg);
    p.client_routes.push_back(route("mroute from eth0 group 225.9.9.9 to eth2"));
    EXPECT_EQ(preview_changes(p.view()), 1u);
    EXPECT_EQ(lines(render_preview_text(p.view())),
              "- mroute from eth0 group 225.9.9.9 to eth2    # added by a client\n"
              "reload would make 1 change (dry run: none made)\n");
}

// model/config_judge: the shared table of verdicts (tests/judge_cases), the
// whole-file rules one by one, and the bounded rendering of diagnostics.
#include "smcroute/model/config_judge.hpp"

#include "smcroute/base/log.hpp"
#include "smcroute/base/text.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace smcroute;

namespace {

ParseResult judge_text(std::string_view text)
{
    MemoryFiles files;
    files.files["test.conf"] = std::string(text);
    return judge_config_file("test.conf", files);
}

std::string dump(const ParseResult& r)
{
    std::string out;
    for (const auto& d : r.diagnostics)
        out += d.format() + "\n";
    return out;
}

size_t count(const ParseResult& r, Severity sev)
{
    return static_cast<size_t>(std::count_if(r.diagnostics.begin(), r.diagnostics.end(),
                                             [&](const Diagnostic& d) { return d.severity == sev; }));
}

// "ok", "warning" or "error", as the table's first lines say.
std::string verdict(const ParseResult& r)
{
    if (count(r, Severity::error))
        return "error";
    return count(r, Severity::warning) ? "warning" : "ok";
}

} // namespace

// Every case of the shared table gets its verdict from judge_config_file(),
// which the daemon (start, reload), -F and check all read configs with
// (tests/judge_verdicts.sh runs the real -F and check over the same files).
TEST(ConfigJudge, SharedTableOfVerdicts)
{
    namespace fs = std::filesystem;
    size_t cases = 0;
    for (const auto& entry : fs::directory_iterator(JUDGE_CASES_DIR)) {
        if (entry.path().extension() != ".conf")
            continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        std::string first;
        std::getline(text, first);
        const std::string tag = "# verdict: ";
        ASSERT_EQ(first.rfind(tag, 0), 0u) << entry.path() << " lacks '" << tag << "...' on its first line";
        const std::string want = first.substr(tag.size());
        ASSERT_TRUE(want == "ok" || want == "warning" || want == "error") << entry.path() << ": " << want;
        ParseResult r = judge_text(text.str());
        EXPECT_EQ(verdict(r), want) << entry.path() << "\n" << dump(r);
        ++cases;
    }
    EXPECT_GE(cases, 10u);
}

TEST(ConfigJudge, ConflictingIifsForOneSGIsAnError)
{
    ParseResult r = judge_text("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"
                               "mroute from b2 source 10.0.1.2 group 225.1.2.3 to b1\n"
                               "mroute from a1 source 10.0.1.2 group 225.1.2.3 to b2\n");
    ASSERT_EQ(r.diagnostics.size(), 1u) << dump(r);
    const Diagnostic& d = r.diagnostics[0];
    EXPECT_EQ(d.severity, Severity::error);
    EXPECT_EQ(d.line, 2u);
    EXPECT_EQ(d.format(), "test.conf:2:1: error: route (10.0.1.2, 225.1.2.3) from b2 conflicts with the route from a1 "
                          "at test.conf:1: the kernel keys routes by (S,G) only; remove one, or give them the same "
                          "inbound interface");
    EXPECT_EQ(r.error_count(), 1u);
}

TEST(ConfigJudge, WildcardIifsAndRangesDoNotConflict)
{
    ParseResult r = judge_text("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"
                               "mroute from b+ source 10.0.1.2 group 225.1.2.3 to c1\n"
                               "mroute from b2 source 10.0.1.0/24 group 225.1.2.3 to c1\n"
                               "mroute from b2 group 225.1.2.3 to c1\n");
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

TEST(ConfigJudge, DisabledByPhyintWildcardOrNot)
{
    ParseResult r = judge_text("phyint eth+ disable\n"
                               "phyint b1 disable\n"
                               "phyint eth7 enable\n"
                               "mroute from eth7 source 10.0.1.2 group 225.1.2.3 to b1 c1\n"
                               "mroute from eth+ group 225.1.2.4 to c1\n"
                               "mroute from c1 group 225.1.2.5 to ethx+\n");
    ASSERT_EQ(r.diagnostics.size(), 3u) << dump(r);
    EXPECT_EQ(count(r, Severity::warning), 3u);
    EXPECT_EQ(r.diagnostics[0].line, 4u);
    EXPECT_EQ(r.diagnostics[0].message, "inbound interface eth7 is disabled by 'phyint eth+ disable' at test.conf:1: "
                                        "the route forwards nothing while that line stays");
    EXPECT_EQ(r.diagnostics[1].message, "outbound interface b1 is disabled by 'phyint b1 disable' at test.conf:2: "
                                        "nothing leaves through it while that line stays");
    EXPECT_EQ(r.diagnostics[2].line, 5u);
    EXPECT_NE(r.diagnostics[2].message.find("inbound interface eth+ is disabled"), std::string::npos);
}

TEST(ConfigJudge, WildcardOifMatchingTheIifIsALoop)
{
    ParseResult r = judge_text("mroute from b1 source 10.0.1.2 group 225.1.2.4 to b+\n"
                               "mroute from b1 source 10.0.1.2 group 225.1.2.5 to a+\n"
                               "mroute from c+ group 225.1.2.6 to c+\n"
                               "mroute from c+ group 225.1.2.7 to c1\n");
    ASSERT_EQ(r.diagnostics.size(), 2u) << dump(r);
    EXPECT_EQ(r.diagnostics[0].severity, Severity::warning);
    EXPECT_EQ(r.diagnostics[0].message, "outbound interface b+ matches the inbound interface b1: traffic may loop");
    EXPECT_EQ(r.diagnostics[1].line, 3u);
}

TEST(ConfigJudge, StopFilterThatAnotherLineGivesOifs)
{
    ParseResult r = judge_text("mroute from b1 source 10.0.1.2 group 225.1.2.4\n"
                               "mroute from b1 group 225.1.2.5\n"
                               "mroute from b2 source 10.0.1.2 group 225.1.2.6\n"
                               "mroute from b1 source 10.0.1.2 group 225.1.2.4 to c1\n"
                               "mroute from b1 group 225.1.2.5 to c1\n"
                               "mroute from b1 source 10.0.1.2 group 225.1.2.4 to c2\n");
    ASSERT_EQ(r.diagnostics.size(), 2u) << dump(r);
    EXPECT_EQ(r.diagnostics[0].format(),
              "test.conf:1:1: warning: route (10.0.1.2, 225.1.2.4) from b1 has no outbound interface (a stop "
              "filter), but the line at test.conf:4 gives it some: the lines merge and it forwards");
    EXPECT_EQ(r.diagnostics[1].line, 2u);
    EXPECT_NE(r.diagnostics[1].message.find("route (*, 225.1.2.5) from b1"), std::string::npos);
    // Stop filters alone are no finding.
    EXPECT_TRUE(judge_text("mroute from b1 source 10.0.1.2 group 225.1.2.4\nmroute from b1 group 225.1.2.5\n")
                    .diagnostics.empty());
}

TEST(ConfigJudge, ParserDiagnosticsComeFirst)
{
    ParseResult r = judge_text("mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1\n"
                               "mroute from a1 sorce 10.0.1.2 group 225.1.2.4 to b1\n"
                               "mroute from b2 source 10.0.1.2 group 225.1.2.3 to b1\n");
    ASSERT_EQ(r.diagnostics.size(), 2u) << dump(r);
    EXPECT_EQ(r.diagnostics[0].line, 2u);
    EXPECT_EQ(r.diagnostics[1].line, 3u);
    EXPECT_EQ(r.error_count(), 2u);
}

// A 1 MB bad word: every rendered text stays short (the terminal, syslog
// and check all print through render_diagnostics or shown_message).
TEST(ConfigJudge, RenderingOfAHugeBadLineIsBounded)
{
    const std::string huge(1 << 20, 'x');
    for (const std::string& text : {cat("mroute from a1 source 10.0.1.2 group ", huge, " to b1\n"),
                                    cat(huge, "\n"), cat("mroute from ", huge, " group 225.1.2.3 to b1\n"),
                                    cat("include ", huge, "\n")}) {
        ParseResult r = judge_text(text);
        // An error each, except the include of a file that does not exist:
        // a warning, as in SMCRoute 2.x.
        ASSERT_GE(r.diagnostics.size(), 1u);
        size_t total = 0;
        for (const auto& line : render_diagnostics(r.diagnostics)) {
            EXPECT_LE(line.text.size(), 2000u) << line.text.substr(0, 200);
            total += line.text.size();
        }
        EXPECT_LE(total, 20000u);
        for (const auto& d : r.diagnostics)
            EXPECT_LE(shown_message(d.message).size(), max_message_length);
    }
}

TEST(ConfigJudge, ShownMessageIsCutInTheMiddle)
{
    EXPECT_EQ(shown_message("short\x01"), "short?");
    std::string long_message = "head " + std::string(1000, 'y') + " tail";
    std::string shown = shown_message(long_message);
    EXPECT_EQ(shown.size(), max_message_length);
    EXPECT_EQ(shown.rfind("head ", 0), 0u);
    EXPECT_EQ(shown.substr(shown.size() - 5), " tail");
    EXPECT_NE(shown.find(" ... "), std::string::npos);
}

TEST(ConfigJudge, AtMostMaxDiagnosticsErrorsFirstThenACount)
{
    std::string text;
    for (int i = 0; i < 5; ++i)
        text += "mroute from a1 source 10.0.1.2 group 224.0.0.5 to b1\n"; // warnings
    for (int i = 0; i < 30; ++i)
        text += "mroute from a1 sorce 10.0.1.2 group 225.1.2.4 to b1\n"; // errors
    ParseResult r = judge_text(text);
    ASSERT_EQ(r.diagnostics.size(), 35u);
    auto shown = render_diagnostics(r.diagnostics);
    ASSERT_EQ(shown.size(), max_rendered_diagnostics + 1);
    for (size_t i = 0; i < max_rendered_diagnostics; ++i) {
        EXPECT_EQ(shown[i].severity, Severity::error) << shown[i].text;
        ASSERT_NE(shown[i].source, nullptr);
    }
    EXPECT_EQ(shown.back().source, nullptr);
    EXPECT_EQ(shown.back().severity, Severity::error);
    EXPECT_EQ(shown.back().text, "and 15 more (10 error(s), 5 warning(s)) not shown");

    // Room left after the errors goes to warnings, in file order.
    shown = render_diagnostics(r.diagnostics, 40);
    EXPECT_EQ(shown.size(), 35u);
    shown = render_diagnostics(r.diagnostics, 32);
    ASSERT_EQ(shown.size(), 33u);
    EXPECT_EQ(shown[0].severity, Severity::warning);
    EXPECT_EQ(shown[2].severity, Severity::error);
    EXPECT_EQ(shown.back().text, "and 3 more (0 error(s), 3 warning(s)) not shown");
    EXPECT_EQ(shown.back().severity, Severity::warning);
}

TEST(ConfigJudge, OneProxyUpstreamPerFamily)
{
    auto r = judge_text("phyint eth0 upstream\nphyint eth9 upstream igmp\nphyint eth8 upstream mld\n");
    EXPECT_EQ(dump(r), "test.conf:2:1: error: a second IPv4 upstream: eth9 (eth0 at test.conf:1)\n"
                       "test.conf:3:1: error: a second IPv6 upstream: eth8 (eth0 at test.conf:1)\n");
    // One per family is fine.
    EXPECT_EQ(dump(judge_text("phyint eth0 upstream igmp\nphyint eth9 upstream mld\n")), "");
}

TEST(ConfigJudge, OneProxyRolePerInterfaceAndFamily)
{
    EXPECT_EQ(dump(judge_text("phyint eth0 upstream\nphyint eth0 downstream mld\n")),
              "test.conf:2:1: error: phyint eth0: an interface cannot be both upstream and downstream (IPv6, upstream "
              "at test.conf:1)\n");
    EXPECT_EQ(dump(judge_text("phyint eth1 downstream igmp\nphyint eth1 downstream robustness 3\n")),
              "test.conf:2:1: error: phyint eth1: a second downstream line for IPv4 (the first at test.conf:1): write an "
              "interface's proxy words on one line, or one line per family with igmp and mld\n");
    // A wildcard twice is the same name twice.
    EXPECT_EQ(count(judge_text("phyint eth+ downstream\nphyint eth+ downstream fast-leave\n"), Severity::error), 1u);
    // One line per family; another role for the other family; a wildcard
    // downstream beside an exact upstream; lines without proxy words.
    EXPECT_EQ(dump(judge_text("phyint eth1 downstream igmp\nphyint eth1 downstream mld robustness 3\n"
                              "phyint eth0 upstream igmp\nphyint eth0 downstream mld\nphyint eth+ downstream\n"
                              "phyint eth1 ttl-threshold 3\nphyint eth0 mrdisc\n")),
              "");
}

TEST(ConfigJudge, RoutesFromProxyInterfacesAndJoinsOnItsUpstreamWarn)
{
    auto r = judge_text("phyint eth0 upstream igmp\n"
                        "phyint vlan+ downstream\n"
                        "mroute from eth0 group 239.1.1.1 to eth1\n"     // the upstream
                        "mroute from eth0 group ff0e::1 to eth1\n"       // not its family: no warning
                        "mroute from vlan7 group 239.1.1.2 to eth1\n"    // a wildcard downstream
                        "mroute from eth+ source 10.0.0.1 group 239.1.1.3 to eth1\n" // a wildcard meeting eth0
                        "mroute from eth1 group 239.1.1.4 to eth0\n"     // only the inbound interface counts
                        "mgroup from eth0 group 239.2.2.2\n"
                        "ssmgroup from eth0 group 232.1.1.1 source 10.0.0.1\n"
                        "mgroup from vlan7 group 239.2.2.2\n");          // a downstream: the proxy joins nothing there
    EXPECT_EQ(count(r, Severity::error), 0u) << dump(r);
    std::string warnings;
    for (const auto& d : r.diagnostics)
        if (d.message.find("deprecated") == std::string::npos) // the ssmgroup line's own warning
            warnings += cat(d.line, ": ", d.message, "\n");
    EXPECT_EQ(warnings,
              "3: route (*, 239.1.1.1) from eth0: inbound interface eth0 is the proxy's upstream; this route takes "
              "precedence over the proxy for its groups\n"
              "5: route (*, 239.1.1.2) from vlan7: inbound interface vlan7 is the proxy's downstream (phyint vlan+ at "
              "test.conf:2); this route takes precedence over the proxy for its groups\n"
              "6: route (10.0.0.1, 239.1.1.3) from eth+: inbound interface eth+ is the proxy's upstream (phyint eth0 "
              "at test.conf:1); this route takes precedence over the proxy for its groups\n"
              "8: join (*, 239.2.2.2) on eth0: eth0 is the proxy's upstream, whose joins the proxy manages; this join "
              "stays beside them\n"
              "9: join (10.0.0.1, 232.1.1.1) on eth0: eth0 is the proxy's upstream, whose joins the proxy manages; "
              "this join stays beside them\n");
}

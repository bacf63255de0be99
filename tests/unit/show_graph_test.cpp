// Unit tests for base/dot (quoting for DOT) and runtime/show_graph (`show
// graph`): the graph of a Router on a fake kernel, line by line; -j refused;
// a 100 000-route table drawn aggregated in bounded output.
#include "fake_kernel.hpp"

#include "smcroute/base/dot.hpp"
#include "smcroute/model/commands.hpp"
#include "smcroute/runtime/show.hpp"
#include "smcroute/runtime/show_graph.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace smcroute {
namespace {

using test::FakeKernel;

TEST(DotQuote, PlainTextIsQuotedAsIs)
{
    EXPECT_EQ(dot_quote("eth0"), "\"eth0\"");
    EXPECT_EQ(dot_quote(""), "\"\"");
    EXPECT_EQ(dot_quote("eth+ (1.2.3.4, 225.1.2.3)"), "\"eth+ (1.2.3.4, 225.1.2.3)\"");
}

TEST(DotQuote, QuotesAndBackslashesAreEscaped)
{
    EXPECT_EQ(dot_quote("a\"b"), "\"a\\\"b\"");
    EXPECT_EQ(dot_quote("a\\b"), "\"a\\\\b\"");
    // A trailing backslash must not escape the closing quote.
    EXPECT_EQ(dot_quote("eth\\"), "\"eth\\\\\"");
    EXPECT_EQ(dot_quote("\\\""), "\"\\\\\\\"\"");
}

TEST(DotQuote, ControlsNonAsciiBytesAndPercentArePercentEncoded)
{
    EXPECT_EQ(dot_quote("a\nb"), "\"a%0ab\"");
    EXPECT_EQ(dot_quote(std::string_view("\0", 1)), "\"%00\"");
    EXPECT_EQ(dot_quote("\x7f\x80\xff"), "\"%7f%80%ff\"");
    EXPECT_EQ(dot_quote("\t"), "\"%09\"");
    EXPECT_EQ(dot_quote("50%"), "\"50%25\"");
}

TEST(DotQuote, EscapedTextNeverEndsTheStringEarlyAndStaysDistinct)
{
    // Every escaped text, put in quotes, is one DOT string: no unescaped
    // quote inside, no backslash left to escape the closing one, only
    // printable ASCII; and distinct inputs stay distinct (names as IDs).
    std::vector<std::string> inputs = {"a",  "a\\", "a\\\\", "a\"", "a\\\"", "\\x0a", "\n",
                                       "%0a", "%", "%25", "\\\\x0a", "x"};
    std::vector<std::string> outputs;
    for (const auto& in : inputs) {
        std::string body;
        append_dot_escaped(body, in);
        for (size_t i = 0; i < body.size(); ++i) {
            auto c = static_cast<unsigned char>(body[i]);
            ASSERT_TRUE(c >= 0x20 && c < 0x7f) << in;
            if (body[i] == '\\') {
                ASSERT_LT(i + 1, body.size()) << "dangling backslash for " << in;
                ASSERT_TRUE(body[i + 1] == '\\' || body[i + 1] == '"') << in;
                ++i;
            } else {
                ASSERT_NE(body[i], '"') << in;
            }
        }
        outputs.push_back(body);
    }
    std::sort(outputs.begin(), outputs.end());
    EXPECT_EQ(std::adjacent_find(outputs.begin(), outputs.end()), outputs.end());
}

TEST(DotQuote, InjectiveOverEveryShortText)
{
    // Every text of up to three of the bytes that matter: no two alike escaped.
    const std::string alphabet = std::string("a\\\"%25x\n\xff", 9) + std::string(1, '\0');
    std::set<std::string> texts, escaped;
    std::vector<std::string> level{""};
    for (int len = 0; len <= 3; ++len) {
        std::vector<std::string> next;
        for (const auto& t : level) {
            texts.insert(t);
            escaped.insert(dot_quote(t));
            for (char c : alphabet)
                next.push_back(t + c);
        }
        level = std::move(next);
    }
    EXPECT_EQ(texts.size(), 1u + 10u + 100u + 1000u);
    EXPECT_EQ(escaped.size(), texts.size());
}

class CollectingReply final : public Reply {
public:
    void row(std::string_view text) override
    {
        EXPECT_EQ(ends, 0) << "row after end";
        rows.emplace_back(text);
    }
    void end(uint32_t s, std::string_view m) override
    {
        ++ends;
        status = s;
        message = m;
    }
    void stream(Producer producer) override
    {
        while (producer(*this))
            ++pulls;
    }
    bool has(std::string_view line) const { return std::find(rows.begin(), rows.end(), line) != rows.end(); }
    std::string all() const
    {
        std::string out;
        for (const auto& r : rows)
            out += r + "\n";
        return out;
    }
    std::vector<std::string> rows;
    int ends = 0;
    size_t pulls = 0;
    uint32_t status = 9999;
    std::string message;
};

Interface make_iface(std::string_view name, unsigned index, unsigned flags = IFF_UP | IFF_MULTICAST)
{
    Interface i;
    i.name = IfName::parse(name).value();
    i.index = index;
    i.flags = flags;
    return i;
}

RouteSpec spec(std::string_view iif, std::string_view source, std::string_view group,
               std::vector<std::string_view> oifs = {})
{
    auto c = check_route(RouteText{iif, source, group, std::move(oifs)});
    if (!c.value) {
        ADD_FAILURE() << "bad test route: " << (c.issues.empty() ? "" : c.issues.front().message);
        return RouteSpec{};
    }
    return *c.value;
}

Upcall nocache(unsigned vif, std::string_view source, std::string_view group)
{
    Upcall u;
    u.kind = Upcall::Kind::nocache;
    u.vif = vif;
    u.source = IpAddr::parse(source).value();
    u.group = IpAddr::parse(group).value();
    return u;
}

class ShowGraphTest : public ::testing::Test {
protected:
    ShowGraphTest()
    {
        log.set_level(LogLevel::none);
        router.set_interfaces({make_iface("eth0", 1), make_iface("eth1", 2), make_iface("we\"ird\\", 3),
                               make_iface("down0", 4, IFF_MULTICAST), make_iface("lo", 5, IFF_UP | IFF_LOOPBACK)});
    }

    CollectingReply graph(uint32_t flags = 0)
    {
        CollectingReply r;
        ShowSources from{router, nullptr, widths};
        show(from, Request{flags, {"show", "graph"}}, r);
        EXPECT_EQ(r.ends, 1);
        return r;
    }

    unsigned vif(std::string_view name) const
    {
        return router.vif_of(Family::inet, router.find_interface(name)->index).value();
    }

    Logger log;
    FakeKernel kernel{Family::inet};
    Router router{log, &kernel, nullptr};
    std::array<ShowWidths, 2> widths;
};

TEST_F(ShowGraphTest, EmptyTableIsAnEmptyGraph)
{
    auto r = graph();
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(r.all(), "digraph smcroute {\n"
                       "  // smcroute show graph: smcroute show graph | dot -Tsvg > routes.svg\n"
                       "  rankdir=LR;\n"
                       "  node [shape=box];\n"
                       "}\n");
}

TEST_F(ShowGraphTest, EveryKindOfRouteIsAnEdge)
{
    // A static route to two OIFs, one of them with a quote and a backslash
    // in its name, with packets counted by the kernel.
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1", "we\"ird\\"}), Origin::config));
    kernel.canned_counters[{IpAddr::parse("10.0.0.1").value(), IpAddr::parse("225.1.2.3").value()}] =
        MfcCounters{42, 4200, 1};
    // A rule, an entry learned from it, a stop filter (traffic no rule
    // covers), a pending route (its IIF is missing) and a route to a
    // missing OIF and a wildcard.
    ASSERT_TRUE(router.add(spec("eth0", "", "225.2.0.0/16", {"eth1"}), Origin::client));
    router.handle_upcall(Family::inet, nocache(vif("eth0"), "10.0.0.9", "225.2.3.4"));
    router.handle_upcall(Family::inet, nocache(vif("eth0"), "10.0.0.9", "225.9.9.9"));
    ASSERT_TRUE(router.add(spec("ghost0", "10.0.0.2", "225.3.3.3", {"eth1"}), Origin::config));
    ASSERT_TRUE(router.add(spec("eth1", "10.0.0.3", "225.4.4.4", {"gone1", "eth+"}), Origin::config));
    kernel.canned_counters[{IpAddr::parse("10.0.0.9").value(), IpAddr::parse("225.2.3.4").value()}] =
        MfcCounters{7, 700, 0};
    kernel.canned_counters[{IpAddr::parse("10.0.0.9").value(), IpAddr::parse("225.9.9.9").value()}] =
        MfcCounters{1, 100, 0};

    auto r = graph();
    ASSERT_EQ(r.status, 0u) << r.message;
    const std::string all = r.all();
    EXPECT_EQ(r.rows.front(), "digraph smcroute {");
    EXPECT_EQ(r.rows.back(), "}");
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:eth1\" [label=\"(10.0.0.1, 225.1.2.3)\\n42 packets\"];")) << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:we\\\"ird\\\\\" [label=\"(10.0.0.1, 225.1.2.3)\\n42 packets\"];"))
        << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:eth1\" [label=\"(*, 225.2.0.0/16) rule\\n1 learned\", color=blue, "
                      "fontcolor=blue];"))
        << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:eth1\" [label=\"(10.0.0.9, 225.2.3.4) learned\\n7 packets\"];")) << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"drop\" [label=\"(10.0.0.9, 225.9.9.9) stop filter\\n1 packet\", "
                      "color=red, fontcolor=red];"))
        << all;
    EXPECT_TRUE(r.has("  \"if:ghost0\" -> \"if:eth1\" [label=\"(10.0.0.2, 225.3.3.3)\\npending\", style=dashed, "
                      "color=grey, fontcolor=grey];"))
        << all;
    // Active, but nothing reaches the missing OIF; the wildcard is drawn as named.
    EXPECT_TRUE(r.has("  \"if:eth1\" -> \"if:gone1\" [label=\"(10.0.0.3, 225.4.4.4)\\n0 packets\", style=dashed, "
                      "color=grey, fontcolor=grey];"))
        << all;
    EXPECT_TRUE(r.has("  \"if:eth1\" -> \"if:eth+\" [label=\"(10.0.0.3, 225.4.4.4)\\n0 packets\"];")) << all;
    // Nodes: interfaces with their VIF numbers and state; the missing and
    // the wildcard names; the drop node. lo and down0 hold no VIF and no
    // edge names them: not drawn.
    EXPECT_TRUE(r.has(cat("  \"if:eth0\" [label=\"eth0\\nVIF ", vif("eth0"), "\\nup\"];"))) << all;
    EXPECT_TRUE(r.has(cat("  \"if:we\\\"ird\\\\\" [label=\"we\\\"ird\\\\\\nVIF ", vif("we\"ird\\"), "\\nup\"];")))
        << all;
    EXPECT_TRUE(r.has("  \"if:ghost0\" [label=\"ghost0\\nmissing\", style=dashed, color=grey, fontcolor=grey];"))
        << all;
    EXPECT_TRUE(r.has("  \"if:gone1\" [label=\"gone1\\nmissing\", style=dashed, color=grey, fontcolor=grey];"))
        << all;
    EXPECT_TRUE(r.has("  \"if:eth+\" [label=\"eth+\\nwildcard\", style=dotted];")) << all;
    EXPECT_TRUE(r.has("  \"drop\" [label=\"drop\", shape=octagon, color=red, fontcolor=red];")) << all;
    EXPECT_EQ(all.find("\"if:lo\""), std::string::npos) << all;
    EXPECT_EQ(all.find("\"if:down0\""), std::string::npos) << all;
    // Edges: 2 + 1 + 1 + 1 + 1 + 2.
    EXPECT_EQ(std::count_if(r.rows.begin(), r.rows.end(),
                            [](const std::string& l) { return l.find(" -> ") != std::string::npos; }),
              8)
        << all;
    EXPECT_EQ(all.find("aggregated"), std::string::npos) << all;
}

TEST_F(ShowGraphTest, DownInterfaceNamedByARouteIsGrey)
{
    ASSERT_TRUE(router.add(spec("down0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    auto r = graph();
    EXPECT_NE(r.all().find("\"if:down0\" [label=\"down0\\n"), std::string::npos) << r.all();
    EXPECT_NE(r.all().find("\\ndown\", color=grey, fontcolor=grey];"), std::string::npos) << r.all();
}

TEST_F(ShowGraphTest, JsonIsRefused)
{
    ASSERT_TRUE(router.add(spec("eth0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    auto r = graph(req_json);
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::usage));
    EXPECT_NE(r.message.find("show graph has no JSON form"), std::string::npos) << r.message;
    EXPECT_TRUE(r.rows.empty());
}

TEST_F(ShowGraphTest, MoreArgumentsAreRefused)
{
    CollectingReply r;
    ShowSources from{router, nullptr, widths};
    show(from, Request{0, {"show", "graph", "x"}}, r);
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::usage));
    EXPECT_EQ(r.message, "show graph takes no further arguments");
}

TEST_F(ShowGraphTest, AtTheLimitEachRouteIsDrawn)
{
    for (size_t i = 0; i < graph_route_limit; ++i)
        ASSERT_TRUE(router.add(spec("eth0", cat("10.1.", i / 256, ".", i % 256), "225.1.2.3", {"eth1"}),
                               Origin::config));
    auto r = graph();
    ASSERT_EQ(r.status, 0u);
    EXPECT_EQ(std::count_if(r.rows.begin(), r.rows.end(),
                            [](const std::string& l) { return l.find(" -> ") != std::string::npos; }),
              static_cast<long>(graph_route_limit));
    EXPECT_EQ(r.all().find("aggregated"), std::string::npos);
}

TEST_F(ShowGraphTest, AHundredThousandRoutesAreAggregated)
{
    constexpr size_t n = 100000;
    router.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        // Half to eth1, half to eth1 and we"ird\; every fifth pending.
        std::vector<std::string_view> oifs{"eth1"};
        if (i % 2)
            oifs.push_back("we\"ird\\");
        std::string_view iif = i % 5 == 4 ? "ghost0" : "eth0";
        ASSERT_TRUE(router.add(spec(iif, cat("10.", i / 65536, ".", i / 256 % 256, ".", i % 256), "225.1.2.3", oifs),
                               Origin::config));
    }
    kernel.canned_counters[{IpAddr::parse("10.0.0.0").value(), IpAddr::parse("225.1.2.3").value()}] =
        MfcCounters{5, 500, 0};
    kernel.canned_counters[{IpAddr::parse("10.0.0.1").value(), IpAddr::parse("225.1.2.3").value()}] =
        MfcCounters{3, 300, 0};
    auto r = graph();
    ASSERT_EQ(r.status, 0u) << r.message;
    const std::string all = r.all();
    EXPECT_LT(r.rows.size(), 30u) << all;
    EXPECT_GT(r.pulls, 100u) << "streamed from the listing, a few routes a pull";
    EXPECT_TRUE(r.has("  // aggregated: 100000 rules, routes, learned entries and stop filters, more than 1000: one "
                      "edge per inbound and outbound interface, kind and state"))
        << all;
    // 80 000 active routes reach eth1, 40 000 of them also we"ird\; 20 000
    // pending, 10 000 of them to both.
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:eth1\" [label=\"80000 routes\\n8 packets\"];")) << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:we\\\"ird\\\\\" [label=\"40000 routes\\n3 packets\"];")) << all;
    EXPECT_TRUE(r.has("  \"if:ghost0\" -> \"if:eth1\" [label=\"20000 routes\\npending\", style=dashed, color=grey, "
                      "fontcolor=grey];"))
        << all;
    EXPECT_TRUE(r.has("  \"if:ghost0\" -> \"if:we\\\"ird\\\\\" [label=\"10000 routes\\npending\", style=dashed, "
                      "color=grey, fontcolor=grey];"))
        << all;
}

size_t edges_in(const CollectingReply& r)
{
    return static_cast<size_t>(std::count_if(r.rows.begin(), r.rows.end(), [](const std::string& l) {
        return l.find(" -> ") != std::string::npos;
    }));
}

TEST_F(ShowGraphTest, PastTheEdgeLimitTheRestIsAggregated)
{
    // 1000 routes, each to three OIFs (one missing): 3000 edges one by one
    // would pass the limit; the first 666 routes (1998 edges) are drawn so,
    // the other 334 as three aggregated edges.
    for (size_t i = 0; i < graph_route_limit; ++i)
        ASSERT_TRUE(router.add(spec("eth0", cat("10.1.", i / 256, ".", i % 256), "225.1.2.3",
                                    {"eth1", "we\"ird\\", "gone1"}),
                               Origin::config));
    auto r = graph();
    ASSERT_EQ(r.status, 0u);
    const std::string all = r.all();
    EXPECT_EQ(edges_in(r), 1998u + 3u);
    EXPECT_TRUE(r.has("  // aggregated: the last 334 of 1000 rules, routes, learned entries and stop filters, past "
                      "1998 edges drawn one by one: one edge per inbound and outbound interface, kind and state"))
        << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:eth1\" [label=\"334 routes\\n0 packets\"];")) << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:we\\\"ird\\\\\" [label=\"334 routes\\n0 packets\"];")) << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:gone1\" [label=\"334 routes\\n0 packets\", style=dashed, color=grey, "
                      "fontcolor=grey];"))
        << all;
    EXPECT_EQ(all.find("left out"), std::string::npos) << all;
}

TEST_F(ShowGraphTest, PastTheAggregatedEdgeLimitRoutesAreCounted)
{
    // 2500 routes from 2500 missing interfaces: 2500 distinct aggregated
    // edges; 2000 are drawn, 500 routes counted as left out.
    for (size_t i = 0; i < 2500; ++i)
        ASSERT_TRUE(router.add(spec(cat("m", i), cat("10.1.", i / 256, ".", i % 256), "225.1.2.3", {"eth1"}),
                               Origin::config));
    auto r = graph();
    ASSERT_EQ(r.status, 0u);
    EXPECT_EQ(edges_in(r), graph_edge_limit);
    EXPECT_TRUE(r.has("  // 500 rules, routes, learned entries and stop filters left out: more than 2000 aggregated "
                      "edges"))
        << r.rows.size();
    EXPECT_EQ(r.rows.back(), "}");
    EXPECT_LT(r.rows.size(), 2u * graph_edge_limit + 20u);
}

TEST(ShowSubjects, GraphAndTheOldAbbreviationsOfGroups)
{
    EXPECT_EQ(match_show("graph").value(), ShowWhat::graph);
    EXPECT_EQ(match_show("gra").value(), ShowWhat::graph);
    EXPECT_EQ(match_show("g").value(), ShowWhat::groups);
    EXPECT_EQ(match_show("gr").value(), ShowWhat::groups);
    EXPECT_EQ(match_show("gro").value(), ShowWhat::groups);
}

} // namespace
} // namespace smcroute

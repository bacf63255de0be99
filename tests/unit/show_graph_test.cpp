// Unit tests for base/dot (quoting for DOT) and runtime/show_graph (`show
// graph`): the graph of a Router on a fake kernel, line by line; a
// 100 000-route table drawn aggregated in bounded output; and for each of
// them the -j form: well-formed JSON, element for element the DOT's.
#include "fake_kernel.hpp"
#include "route_words.hpp"
#include "json_value.hpp"
#include "recording_reply.hpp"

#include "smcroute/base/dot.hpp"
#include "smcroute/model/commands.hpp"
#include "smcroute/runtime/show.hpp"
#include "smcroute/runtime/show_graph.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace smcroute {
namespace {

using test::FakeKernel;
using test::JsonReader;
using test::JsonValue;
using test::spec;

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

using CollectingReply = test::RecordingReply;

// A DOT string starting at line[pos] (the opening quote), unescaped: \" and
// \\ as base/dot writes them, %HH as the byte. pos moves past the closing
// quote; none when the string is malformed.
std::optional<std::string> dot_string(const std::string& line, size_t& pos)
{
    if (pos >= line.size() || line[pos] != '"')
        return std::nullopt;
    std::string out;
    for (++pos; pos < line.size(); ++pos) {
        char c = line[pos];
        if (c == '"') {
            ++pos;
            return out;
        }
        if (c == '\\') {
            if (++pos >= line.size())
                return std::nullopt;
            if (line[pos] == 'n') // a line break in a label
                out += '\n';
            else
                out += line[pos];
        } else if (c == '%') {
            if (pos + 2 >= line.size())
                return std::nullopt;
            out += static_cast<char>(std::stoi(line.substr(pos + 1, 2), nullptr, 16));
            pos += 2;
        } else {
            out += c;
        }
    }
    return std::nullopt;
}

// One DOT edge row: its ends ("drop" as none), its label's two lines and
// whether it is dashed.
struct DotEdge {
    std::string tail;
    std::optional<std::string> head;
    std::string first, second;
    bool dashed = false;
};

std::optional<DotEdge> dot_edge(const std::string& line)
{
    DotEdge e;
    size_t pos = 2;
    auto tail = dot_string(line, pos);
    if (!tail || tail->rfind("if:", 0) != 0 || line.compare(pos, 4, " -> ") != 0)
        return std::nullopt;
    e.tail = tail->substr(3);
    pos += 4;
    auto head = dot_string(line, pos);
    if (!head || line.compare(pos, 8, " [label=") != 0)
        return std::nullopt;
    if (*head != "drop") {
        if (head->rfind("if:", 0) != 0)
            return std::nullopt;
        e.head = head->substr(3);
    }
    pos += 8;
    auto label = dot_string(line, pos);
    if (!label)
        return std::nullopt;
    auto nl = label->find('\n');
    e.first = label->substr(0, nl);
    if (nl != std::string::npos)
        e.second = label->substr(nl + 1);
    e.dashed = line.find("style=dashed", pos) != std::string::npos;
    return e;
}

std::string_view kind_suffix(std::string_view kind)
{
    if (kind == "rule")
        return " rule";
    if (kind == "learned")
        return " learned";
    if (kind == "stop")
        return " stop filter";
    if (kind == "proxy")
        return " proxy";
    return "";
}

// A JSON list's element on its row (after the "," of all but the first).
bool has_element(const CollectingReply& r, const std::string& element)
{
    return r.has(element) || r.has("," + element);
}

// The -j form of a graph is one JSON value {"graph": [...]}, one element a
// row, and element for element the DOT's rows: each edge with the same ends,
// kind, state, label and counts, each node the same interface and state,
// each note the same comment.
void expect_json_matches_dot(const CollectingReply& dot, const CollectingReply& json)
{
    ASSERT_EQ(json.status, 0u) << json.message;
    ASSERT_EQ(json.ends, 1);
    ASSERT_GE(json.rows.size(), 2u);
    EXPECT_EQ(json.rows.front(), "{\"graph\": [");
    EXPECT_EQ(json.rows.back(), "]}");
    std::string why;
    auto doc = JsonReader::parse(json.all(), why);
    ASSERT_TRUE(doc) << why << "\n" << json.all().substr(0, 2000);
    ASSERT_EQ(doc->type, JsonValue::Type::object);
    ASSERT_EQ(doc->members.size(), 1u);
    const JsonValue* list = doc->get("graph");
    ASSERT_TRUE(list && list->type == JsonValue::Type::array);
    ASSERT_EQ(list->items.size(), json.rows.size() - 2) << "one element a row";

    // The DOT rows between the header (4 rows) and the closing brace.
    ASSERT_GE(dot.rows.size(), 5u);
    ASSERT_EQ(list->items.size(), dot.rows.size() - 5) << json.all().substr(0, 2000);
    for (size_t i = 0; i < list->items.size(); ++i) {
        const std::string& row = dot.rows[i + 4];
        const JsonValue& el = list->items[i];
        ASSERT_EQ(el.type, JsonValue::Type::object) << i;
        const JsonValue* type = el.get("type");
        ASSERT_TRUE(type && type->type == JsonValue::Type::string) << i;
        SCOPED_TRACE(row);
        if (row.rfind("  // ", 0) == 0) {
            ASSERT_EQ(type->text, "note");
            ASSERT_TRUE(el.get("text"));
            EXPECT_EQ(el.get("text")->text, row.substr(5));
            EXPECT_EQ(el.members.size(), 2u);
        } else if (row.find(" -> ") != std::string::npos) {
            ASSERT_EQ(type->text, "edge");
            auto e = dot_edge(row);
            ASSERT_TRUE(e);
            const JsonValue *from = el.get("from"), *to = el.get("to"), *kind = el.get("kind"),
                            *active = el.get("active");
            ASSERT_TRUE(from && to && kind && active);
            EXPECT_EQ(from->text, e->tail);
            if (e->head) {
                EXPECT_EQ(to->type, JsonValue::Type::string);
                EXPECT_EQ(to->text, *e->head);
            } else {
                EXPECT_EQ(to->type, JsonValue::Type::null);
            }
            ASSERT_EQ(active->type, JsonValue::Type::boolean);
            EXPECT_EQ(active->boolean, !e->dashed);
            if (const JsonValue* routes = el.get("routes")) {
                ASSERT_TRUE(routes->uint());
                EXPECT_EQ(e->first.rfind(cat(*routes->uint(), " "), 0), 0u);
                EXPECT_FALSE(el.get("label"));
            } else {
                const JsonValue* label = el.get("label");
                ASSERT_TRUE(label);
                EXPECT_EQ(e->first, cat(label->text, kind_suffix(kind->text)));
            }
            const JsonValue *packets = el.get("packets"), *learned = el.get("learned");
            EXPECT_FALSE(packets && learned);
            if (packets) {
                ASSERT_TRUE(packets->uint());
                EXPECT_EQ(e->second, cat(*packets->uint(), *packets->uint() == 1 ? " packet" : " packets"));
            } else if (learned) {
                ASSERT_TRUE(learned->uint());
                EXPECT_EQ(kind->text, "rule");
                EXPECT_EQ(e->second, cat(*learned->uint(), " learned"));
            } else {
                EXPECT_TRUE(e->second == "pending" || e->second.empty()) << e->second;
            }
        } else if (row.rfind("  \"drop\" [", 0) == 0) {
            EXPECT_EQ(type->text, "drop");
            EXPECT_EQ(el.members.size(), 1u);
        } else {
            ASSERT_EQ(type->text, "node");
            size_t pos = 2;
            auto id = dot_string(row, pos);
            ASSERT_TRUE(id);
            const JsonValue *name = el.get("name"), *vif = el.get("vif"), *mif = el.get("mif"), *up = el.get("up"),
                            *state = el.get("state");
            ASSERT_TRUE(name && vif && mif && up && state);
            EXPECT_EQ("if:" + name->text, *id);
            std::string label_of = row.substr(pos);
            if (label_of.find("\\nwildcard\"") != std::string::npos)
                EXPECT_EQ(state->text, "wildcard");
            else if (label_of.find("\\nmissing\"") != std::string::npos)
                EXPECT_EQ(state->text, "missing");
            else
                EXPECT_EQ(state->text, "present");
            EXPECT_EQ(up->boolean, label_of.find("\\nup\"") != std::string::npos);
            if (vif->type == JsonValue::Type::null)
                EXPECT_EQ(label_of.find("\\nVIF "), std::string::npos);
            else
                EXPECT_NE(label_of.find(cat("VIF ", *vif->uint())), std::string::npos);
            if (mif->type == JsonValue::Type::null)
                EXPECT_EQ(label_of.find("MIF "), std::string::npos);
            else
                EXPECT_NE(label_of.find(cat("MIF ", *mif->uint())), std::string::npos);
        }
    }
}

Interface make_iface(std::string_view name, unsigned index, unsigned flags = IFF_UP | IFF_MULTICAST)
{
    Interface i;
    i.name = IfName::parse(name).value();
    i.index = index;
    i.flags = flags;
    return i;
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

    // The graph as DOT and as JSON, the JSON checked against the DOT.
    CollectingReply graph_json()
    {
        auto dot = graph();
        auto json = graph(req_json);
        expect_json_matches_dot(dot, json);
        return json;
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
    auto j = graph_json();
    EXPECT_EQ(j.all(), "{\"graph\": [\n]}\n");
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

    // -j: the same elements; names raw (JSON-escaped, not DOT-escaped).
    auto j = graph_json();
    const std::string jall = j.all();
    EXPECT_TRUE(has_element(j, "{\"type\": \"edge\", \"from\": \"eth0\", \"to\": \"we\\\"ird\\\\\", \"kind\": \"route\", "
                      "\"active\": true, \"label\": \"(10.0.0.1, 225.1.2.3)\", \"packets\": 42}"))
        << jall;
    EXPECT_TRUE(has_element(j, "{\"type\": \"edge\", \"from\": \"eth0\", \"to\": \"eth1\", \"kind\": \"rule\", "
                      "\"active\": true, \"label\": \"(*, 225.2.0.0/16)\", \"learned\": 1}"))
        << jall;
    EXPECT_TRUE(has_element(j, "{\"type\": \"edge\", \"from\": \"eth0\", \"to\": null, \"kind\": \"stop\", "
                      "\"active\": true, \"label\": \"(10.0.0.9, 225.9.9.9)\", \"packets\": 1}"))
        << jall;
    EXPECT_TRUE(has_element(j, "{\"type\": \"edge\", \"from\": \"ghost0\", \"to\": \"eth1\", \"kind\": \"route\", "
                      "\"active\": false, \"label\": \"(10.0.0.2, 225.3.3.3)\"}"))
        << jall;
    EXPECT_TRUE(has_element(j, "{\"type\": \"edge\", \"from\": \"eth1\", \"to\": \"gone1\", \"kind\": \"route\", "
                      "\"active\": false, \"label\": \"(10.0.0.3, 225.4.4.4)\", \"packets\": 0}"))
        << jall;
    EXPECT_TRUE(has_element(j, cat("{\"type\": \"node\", \"name\": \"we\\\"ird\\\\\", \"vif\": ", vif("we\"ird\\"),
                          ", \"mif\": null, \"up\": true, \"state\": \"present\"}")))
        << jall;
    EXPECT_TRUE(has_element(j, "{\"type\": \"node\", \"name\": \"ghost0\", \"vif\": null, \"mif\": null, \"up\": false, "
                      "\"state\": \"missing\"}"))
        << jall;
    EXPECT_TRUE(has_element(j, "{\"type\": \"node\", \"name\": \"eth+\", \"vif\": null, \"mif\": null, \"up\": false, "
                      "\"state\": \"wildcard\"}"))
        << jall;
    EXPECT_EQ(j.rows[j.rows.size() - 2], ",{\"type\": \"drop\"}") << jall;
}

// Entries the proxy installed are edges of kind proxy, green; one nobody
// wants yet (no OIFs) goes to the drop node.
TEST_F(ShowGraphTest, ProxyEntriesAreEdgesOfTheirOwnKind)
{
    struct Fwd final : ProxyForwarding {
        std::vector<IfName> proxy_oifs(std::string_view, const SgKey& key) const override
        {
            if (key.group.str() == "239.1.1.1")
                return {IfName::parse("eth1").value()};
            return {};
        }
    } fwd;
    router.set_proxy(Family::inet, IfName::parse("eth0").value(), {IfName::parse("eth1").value()}, &fwd);
    router.handle_upcall(Family::inet, nocache(vif("eth0"), "10.0.0.9", "239.1.1.1"));
    router.handle_upcall(Family::inet, nocache(vif("eth0"), "10.0.0.9", "239.2.2.2"));
    kernel.canned_counters[{IpAddr::parse("10.0.0.9").value(), IpAddr::parse("239.1.1.1").value()}] =
        MfcCounters{3, 300, 0};
    auto r = graph();
    const std::string all = r.all();
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"if:eth1\" [label=\"(10.0.0.9, 239.1.1.1) proxy\\n3 packets\", "
                      "color=darkgreen, fontcolor=darkgreen];"))
        << all;
    EXPECT_TRUE(r.has("  \"if:eth0\" -> \"drop\" [label=\"(10.0.0.9, 239.2.2.2) proxy\\n0 packets\", "
                      "color=darkgreen, fontcolor=darkgreen];"))
        << all;
    auto j = graph_json();
    EXPECT_TRUE(has_element(j, "{\"type\": \"edge\", \"from\": \"eth0\", \"to\": \"eth1\", \"kind\": \"proxy\", "
                      "\"active\": true, \"label\": \"(10.0.0.9, 239.1.1.1)\", \"packets\": 3}"))
        << j.all();
    router.set_proxy(Family::inet, std::nullopt, {}, nullptr); // before fwd goes
}

TEST_F(ShowGraphTest, DownInterfaceNamedByARouteIsGrey)
{
    ASSERT_TRUE(router.add(spec("down0", "10.0.0.1", "225.1.2.3", {"eth1"}), Origin::config));
    auto r = graph();
    EXPECT_NE(r.all().find("\"if:down0\" [label=\"down0\\n"), std::string::npos) << r.all();
    EXPECT_NE(r.all().find("\\ndown\", color=grey, fontcolor=grey];"), std::string::npos) << r.all();
    auto j = graph_json();
    EXPECT_TRUE(has_element(j, cat("{\"type\": \"node\", \"name\": \"down0\", \"vif\": ", vif("down0"),
                                   ", \"mif\": null, \"up\": false, \"state\": \"present\"}")))
        << j.all();
}

TEST_F(ShowGraphTest, JsonOfMoreArgumentsIsRefused)
{
    CollectingReply r;
    ShowSources from{router, nullptr, widths};
    show(from, Request{req_json, {"show", "graph", "x"}}, r);
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::usage));
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
    graph_json();
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

    auto j = graph_json();
    EXPECT_LT(j.rows.size(), 30u);
    EXPECT_GT(j.pulls, 100u) << "streamed from the listing, a few routes a pull";
    EXPECT_TRUE(has_element(j, "{\"type\": \"edge\", \"from\": \"eth0\", \"to\": \"we\\\"ird\\\\\", \"kind\": \"route\", "
                      "\"active\": true, \"routes\": 40000, \"packets\": 3}"))
        << j.all();
    EXPECT_TRUE(has_element(j, "{\"type\": \"edge\", \"from\": \"ghost0\", \"to\": \"eth1\", \"kind\": \"route\", "
                      "\"active\": false, \"routes\": 20000}"))
        << j.all();
    EXPECT_EQ(j.rows[1], "{\"type\": \"note\", \"text\": \"aggregated: 100000 rules, routes, learned entries and "
                         "stop filters, more than 1000: one edge per inbound and outbound interface, kind and state\"}");
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
    graph_json();
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
    auto j = graph_json();
    EXPECT_TRUE(has_element(j, "{\"type\": \"note\", \"text\": \"500 rules, routes, learned entries and stop filters left out: "
                      "more than 2000 aggregated edges\"}"));
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

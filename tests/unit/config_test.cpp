#include "smcroute/model/config.hpp"
#include "smcroute/model/config_text.hpp"
#include "smcroute/base/text.hpp"

#include <gtest/gtest.h>

#include "parse_text.hpp"

#include <cerrno>
#include <new>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace smcroute;

namespace {

ParseResult parse(std::string_view text, MemoryFiles& files, const ParseOptions& opts = {})
{
    return parse_config_text(text, "test.conf", files, opts);
}

ParseResult parse(std::string_view text)
{
    MemoryFiles files;
    return parse(text, files);
}

using test::all;

// The one diagnostic's first line; fails the test when there is not exactly one.
std::string first_line(const ParseResult& r)
{
    EXPECT_EQ(r.diagnostics.size(), 1u) << all(r);
    if (r.diagnostics.empty())
        return "";
    std::string f = r.diagnostics[0].format();
    return f.substr(0, f.find('\n'));
}

std::string first_line_of(const Diagnostic& d)
{
    std::string f = d.format();
    return f.substr(0, f.find('\n'));
}

size_t entries(const ParseResult& r)
{
    return r.config.phyints.size() + r.config.routes.size() + r.config.joins.size();
}

} // namespace

// ---------------------------------------------------------------- valid input

TEST(ConfigTest, ValidLines)
{
    auto r = parse("# comment\n"
                   "phyint eth0 enable ttl-threshold 5 mrdisc\n"
                   "phyint eth1 disable\n"
                   "\n"
                   "mgroup from eth0 group 225.1.2.3\n"
                   "mgroup from eth0 source 10.0.0.1 group 232.1.2.3\n"
                   "mroute from eth0 source 10.0.0.1 group 225.1.2.3 to eth1 eth2\n"
                   "mroute from eth0 group 225.1.2.0/24 to eth1\n");
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    ASSERT_EQ(r.config.phyints.size(), 2u);
    EXPECT_EQ(r.config.phyints[0].spec.name.view(), "eth0");
    EXPECT_TRUE(r.config.phyints[0].spec.enable);
    EXPECT_TRUE(r.config.phyints[0].spec.mrdisc);
    EXPECT_EQ(r.config.phyints[0].spec.ttl_threshold, 5);
    EXPECT_EQ(r.config.phyints[0].loc.line, 2u);
    EXPECT_EQ(r.config.phyints[0].loc.file, "test.conf");
    EXPECT_FALSE(r.config.phyints[1].spec.enable);
    EXPECT_EQ(r.config.phyints[1].spec.ttl_threshold, 1);

    ASSERT_EQ(r.config.joins.size(), 2u);
    EXPECT_EQ(r.config.joins[0].spec.key_str(), "(*, 225.1.2.3)");
    EXPECT_EQ(r.config.joins[1].spec.key_str(), "(10.0.0.1, 232.1.2.3)");
    EXPECT_EQ(r.config.joins[1].loc.line, 6u);

    ASSERT_EQ(r.config.routes.size(), 2u);
    const auto& route = r.config.routes[0].spec;
    EXPECT_EQ(route.key_str(), "(10.0.0.1, 225.1.2.3)");
    EXPECT_EQ(route.iif.view(), "eth0");
    ASSERT_EQ(route.oifs.size(), 2u);
    EXPECT_EQ(route.oifs[1].view(), "eth2");
    EXPECT_EQ(r.config.routes[0].loc.line, 7u);
    EXPECT_EQ(r.config.routes[1].spec.key_str(), "(*, 225.1.2.0/24)");
}

TEST(ConfigTest, KeywordOrderIsFree)
{
    auto r = parse("mroute group 225.1.2.3 source 10.0.0.1 from eth0 to eth1\n"
                   "mroute to eth1 eth2 group 225.1.2.3 from eth0 source 10.0.0.2\n"
                   "mroute from eth0 to eth1 source 10.0.0.3 group 225.1.2.3\n"
                   "mgroup group 225.1.2.3 from eth0\n"
                   "mgroup source 10.0.0.1 group 232.1.1.1 from eth0\n"
                   "phyint eth0 ttl-threshold 3 disable\n");
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    ASSERT_EQ(r.config.routes.size(), 3u);
    EXPECT_EQ(r.config.routes[0].spec.key_str(), "(10.0.0.1, 225.1.2.3)");
    EXPECT_EQ(r.config.routes[1].spec.key_str(), "(10.0.0.2, 225.1.2.3)");
    EXPECT_EQ(r.config.routes[1].spec.oifs.size(), 2u);
    EXPECT_EQ(r.config.routes[2].spec.key_str(), "(10.0.0.3, 225.1.2.3)");
    EXPECT_EQ(r.config.routes[2].spec.oifs.size(), 1u);
    EXPECT_EQ(r.config.joins.size(), 2u);
    ASSERT_EQ(r.config.phyints.size(), 1u);
    EXPECT_EQ(r.config.phyints[0].spec.ttl_threshold, 3);
    EXPECT_FALSE(r.config.phyints[0].spec.enable);
}

TEST(ConfigTest, CommentMidLine)
{
    auto r = parse("mroute from eth0 group 225.1.2.3 to eth1 # eth2 eth3\n"
                   "mroute from eth0 group 225.1.2.4 to eth1#eth2\n"
                   "   # indented comment\n"
                   "phyint eth0#disable\n");
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    ASSERT_EQ(r.config.routes.size(), 2u);
    EXPECT_EQ(r.config.routes[0].spec.oifs.size(), 1u);
    ASSERT_EQ(r.config.routes[1].spec.oifs.size(), 1u);
    EXPECT_EQ(r.config.routes[1].spec.oifs[0].view(), "eth1");
    ASSERT_EQ(r.config.phyints.size(), 1u);
    EXPECT_TRUE(r.config.phyints[0].spec.enable);
}

TEST(ConfigTest, CrlfTabsAndMissingFinalNewline)
{
    auto r = parse("phyint eth0\r\n\tmroute\tfrom eth0  group 225.1.2.3\tto eth1\r\nmgroup from eth0 group 225.1.2.3");
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    EXPECT_EQ(r.config.phyints.size(), 1u);
    EXPECT_EQ(r.config.routes.size(), 1u);
    ASSERT_EQ(r.config.joins.size(), 1u);
    EXPECT_EQ(r.config.joins[0].loc.line, 3u);
    EXPECT_TRUE(parse("").diagnostics.empty());
    EXPECT_TRUE(parse("\n\n\r\n").diagnostics.empty());
}

TEST(ConfigTest, CrlfErrorsDoNotShowCarriageReturn)
{
    auto r = parse("mrote from eth0\r\n");
    EXPECT_EQ(all(r), "test.conf:1:1: error: unknown directive 'mrote' (expected phyint, mgroup, mroute, ssmgroup or include)\n"
                      "  mrote from eth0\n"
                      "  ^");
}

TEST(ConfigTest, WildcardInterfaces)
{
    auto r = parse("mroute from eth+ group 225.1.2.3 to veth+ br0\n");
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    ASSERT_EQ(r.config.routes.size(), 1u);
    EXPECT_TRUE(r.config.routes[0].spec.iif.is_wildcard());
    EXPECT_TRUE(r.config.routes[0].spec.oifs[0].is_wildcard());
}

TEST(ConfigTest, NoLineLengthLimit)
{
    std::string line = "mroute from br0 group 225.1.2.3 to";
    for (int i = 0; i < 20; ++i)
        line += " eth" + std::to_string(i);
    line += std::string(100000, ' ') + "# " + std::string(100000, 'x') + "\n";
    auto r = parse(line);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    ASSERT_EQ(r.config.routes.size(), 1u);
    EXPECT_EQ(r.config.routes[0].spec.oifs.size(), 20u);
}

// ---------------------------------------------------------------- errors, exact text

TEST(ConfigTest, UnknownDirective)
{
    auto r = parse("phyint eth0\n  mrote from eth0 group 225.1.2.3 to eth1\n");
    EXPECT_EQ(all(r), "test.conf:2:3: error: unknown directive 'mrote' (expected phyint, mgroup, mroute, ssmgroup or include)\n"
                      "    mrote from eth0 group 225.1.2.3 to eth1\n"
                      "    ^");
    EXPECT_EQ(r.error_count(), 1u);
    EXPECT_EQ(r.config.phyints.size(), 1u); // the valid line is kept
    EXPECT_TRUE(r.config.routes.empty());
}

TEST(ConfigTest, UnknownKeywordNeverMakesStarGRule)
{
    auto r = parse("mroute from eth0 sorce 10.0.0.1 group 225.1.2.3 to eth1\n");
    EXPECT_EQ(all(r), "test.conf:1:18: error: unknown keyword 'sorce' in mroute (expected from, source, group or to)\n"
                      "  mroute from eth0 sorce 10.0.0.1 group 225.1.2.3 to eth1\n"
                      "                   ^");
    EXPECT_TRUE(r.config.routes.empty());

    auto g = parse("mgroup from eth0 sorce 10.0.0.1 group 232.1.2.3\n");
    EXPECT_EQ(first_line(g), "test.conf:1:18: error: unknown keyword 'sorce' in mgroup (expected from, source or group)");
    EXPECT_TRUE(g.config.joins.empty());

    auto p = parse("phyint eth0 enabel\n");
    EXPECT_EQ(first_line(p),
              "test.conf:1:13: error: unknown keyword 'enabel' in phyint (expected enable, disable, mrdisc, ttl-threshold, upstream or downstream; see smcroute.conf(5))");
    EXPECT_TRUE(p.config.phyints.empty());
}

TEST(ConfigTest, TabsKeptInCaretLine)
{
    auto r = parse("mroute\tfrom eth0\tsorce 10.0.0.1 group 225.1.2.3 to eth1\n");
    EXPECT_EQ(all(r), "test.conf:1:18: error: unknown keyword 'sorce' in mroute (expected from, source, group or to)\n"
                      "  mroute\tfrom eth0\tsorce 10.0.0.1 group 225.1.2.3 to eth1\n"
                      "        \t         \t^");
}

TEST(ConfigTest, RepeatedKeyword)
{
    auto r = parse("mroute from eth0 group 225.1.2.3 group 225.1.2.4 to eth1\n");
    EXPECT_EQ(first_line(r), "test.conf:1:34: error: keyword 'group' repeated in mroute");
    EXPECT_TRUE(r.config.routes.empty());
    EXPECT_EQ(first_line(parse("mroute from eth0 group 225.1.2.3 to eth1 source 10.0.0.1 to eth2\n")),
              "test.conf:1:58: error: keyword 'to' repeated in mroute");
    EXPECT_EQ(first_line(parse("phyint eth0 mrdisc mrdisc\n")), "test.conf:1:20: error: keyword 'mrdisc' repeated in phyint");
    EXPECT_EQ(first_line(parse("phyint eth0 enable disable\n")),
              "test.conf:1:20: error: keyword 'disable' conflicts with 'enable'");
}

TEST(ConfigTest, MissingValues)
{
    EXPECT_EQ(first_line(parse("mroute from eth0 to eth1 group\n")),
              "test.conf:1:26: error: missing group address after 'group'");
    EXPECT_EQ(first_line(parse("mroute from group 225.1.2.3 to eth1\n")),
              "test.conf:1:8: error: missing inbound interface after 'from'");
    EXPECT_EQ(first_line(parse("mroute from eth0 source group 225.1.2.3 to eth1\n")),
              "test.conf:1:18: error: missing address after 'source'");
    EXPECT_EQ(first_line(parse("mroute from eth0 group 225.1.2.3 to\n")),
              "test.conf:1:34: error: missing outbound interface after 'to'");
    EXPECT_EQ(first_line(parse("mroute from eth0 to source 10.0.0.1 group 225.1.2.3\n")),
              "test.conf:1:18: error: missing outbound interface after 'to'");
    EXPECT_EQ(first_line(parse("phyint\n")), "test.conf:1:1: error: missing interface name after 'phyint'");
    EXPECT_EQ(first_line(parse("phyint eth0 ttl-threshold\n")),
              "test.conf:1:13: error: missing value after 'ttl-threshold' (expected 1-255)");
}

TEST(ConfigTest, MissingKeywords)
{
    EXPECT_EQ(first_line(parse("mroute group 225.1.2.3 to eth1\n")), "test.conf:1:1: error: missing 'from' in mroute");
    EXPECT_EQ(first_line(parse("mroute from eth0 to eth1\n")), "test.conf:1:1: error: missing 'group' in mroute");
    // No 'to': a stop filter, as in SMCRoute 2.x; 'to' with nothing after it is an error.
    auto r = parse("mroute from eth0 group 225.1.2.3\nmroute from eth0 source 10.0.0.1 group 225.1.2.4\n");
    EXPECT_EQ(all(r), "");
    ASSERT_EQ(r.config.routes.size(), 2u);
    EXPECT_TRUE(r.config.routes[0].spec.oifs.empty());
    EXPECT_TRUE(r.config.routes[1].spec.oifs.empty());
    EXPECT_EQ(first_line(parse("mroute from eth0 group 225.1.2.3 to\n")),
              "test.conf:1:34: error: missing outbound interface after 'to'");
    EXPECT_EQ(first_line(parse("mgroup from eth0\n")), "test.conf:1:1: error: missing 'group' in mgroup");
    EXPECT_EQ(first_line(parse("mgroup from eth0 group 225.1.2.3 to eth1\n")),
              "test.conf:1:34: error: unknown keyword 'to' in mgroup (expected from, source or group)");
    auto all_missing = parse("mroute\n");
    EXPECT_EQ(all(all_missing), "test.conf:1:1: error: missing 'from' in mroute\n  mroute\n  ^\n\n"
                                "test.conf:1:1: error: missing 'group' in mroute\n  mroute\n  ^");
}

TEST(ConfigTest, TtlThreshold)
{
    EXPECT_EQ(first_line(parse("phyint eth0 ttl-threshold 0\n")), "test.conf:1:27: error: ttl-threshold 0 out of range 1-255");
    EXPECT_EQ(first_line(parse("phyint eth0 ttl-threshold 256\n")),
              "test.conf:1:27: error: ttl-threshold 256 out of range 1-255");
    EXPECT_EQ(first_line(parse("phyint eth0 ttl-threshold x1\n")),
              "test.conf:1:27: error: invalid ttl-threshold 'x1' (expected 1-255)");
    auto ok = parse("phyint eth0 ttl-threshold 255\n");
    ASSERT_EQ(ok.config.phyints.size(), 1u);
    EXPECT_EQ(ok.config.phyints[0].spec.ttl_threshold, 255);
}

TEST(ConfigTest, ValidationRulesAtTheOffendingWord)
{
    EXPECT_EQ(all(parse("mroute from eth0 source 10.0.0.1 group ff0e::1 to eth1\n")),
              "test.conf:1:25: error: source 10.0.0.1 is IPv4 but group ff0e::1 is IPv6\n"
              "  mroute from eth0 source 10.0.0.1 group ff0e::1 to eth1\n"
              "                          ^");
    EXPECT_EQ(first_line(parse("mroute from eth0 group 10.0.0.1 to eth1\n")),
              "test.conf:1:24: error: group 10.0.0.1 is not a multicast address");
    EXPECT_EQ(first_line(parse("mroute from eth0 source 225.1.1.1 group 225.1.2.3 to eth1\n")),
              "test.conf:1:25: error: source 225.1.1.1 is a multicast address; a source must be the unicast "
              "address of a sender");
    EXPECT_EQ(first_line(parse("mroute from eth0 group 225.1.2.3/33 to eth1\n")),
              "test.conf:1:24: error: prefix length 33 out of range 0-32 for IPv4 in '225.1.2.3/33'");
    EXPECT_EQ(first_line(parse("mgroup from eth0 group ff0e::1/129\n")),
              "test.conf:1:24: error: prefix length 129 out of range 0-128 for IPv6 in 'ff0e::1/129'");
    EXPECT_EQ(first_line(parse("mroute from abcdefghijklmnop group 225.1.2.3 to eth1\n")),
              "test.conf:1:13: error: interface name 'abcdefghijklmnop' is longer than 15 characters");
    EXPECT_EQ(first_line(parse("mroute from eth0 group 225.1.2.3 to eth1 abcdefghijklmnop\n")),
              "test.conf:1:42: error: interface name 'abcdefghijklmnop' is longer than 15 characters");
    EXPECT_EQ(first_line(parse("phyint abcdefghijklmnop\n")),
              "test.conf:1:8: error: interface name 'abcdefghijklmnop' is longer than 15 characters");
}

TEST(ConfigTest, TooManyOifs)
{
    std::string line = "mroute from eth0 group 225.1.2.3 to";
    unsigned col33 = 0;
    for (int i = 0; i < 33; ++i) {
        line += ' ';
        if (i == 32)
            col33 = static_cast<unsigned>(line.size() + 1);
        line += "v" + std::to_string(i);
    }
    auto r = parse(line + "\n");
    ASSERT_EQ(r.diagnostics.size(), 1u) << all(r);
    EXPECT_EQ(r.diagnostics[0].col, col33);
    EXPECT_EQ(r.diagnostics[0].message, "too many outbound interfaces: 33 given, at most 32");
    EXPECT_TRUE(r.config.routes.empty());
}

TEST(ConfigTest, Warnings)
{
    auto r = parse("mroute from eth0 group 224.0.0.251 to eth1\n"
                   "mroute from eth0 group 225.1.2.3 to eth1 eth0\n");
    EXPECT_EQ(all(r), "test.conf:1:24: warning: group 224.0.0.251 is link-local (224.0.0.0/24): the kernel never "
                      "forwards it\n"
                      "  mroute from eth0 group 224.0.0.251 to eth1\n"
                      "                         ^\n\n"
                      "test.conf:2:42: warning: outbound interface eth0 is also the inbound interface: traffic may loop\n"
                      "  mroute from eth0 group 225.1.2.3 to eth1 eth0\n"
                      "                                           ^");
    EXPECT_EQ(r.error_count(), 0u);
    EXPECT_EQ(r.config.routes.size(), 2u); // warnings keep the line
    auto v6 = parse("mroute from eth0 group ff02::1:3 to eth1\n");
    EXPECT_EQ(first_line(v6),
              "test.conf:1:24: warning: group ff02::1:3 is link-local (ff02::/16): the kernel never forwards it");
}

TEST(ConfigTest, JoinRangeLimit)
{
    auto r = parse("mgroup from eth0 group 225.0.0.0/16\n");
    EXPECT_EQ(first_line(r),
              "test.conf:1:24: error: group range 225.0.0.0/16 expands to 65536 joins, more than the limit of 1024");
    EXPECT_TRUE(r.config.joins.empty());
    MemoryFiles files;
    ParseOptions opts;
    opts.max_join_expansion = 65536;
    auto raised = parse("mgroup from eth0 group 225.0.0.0/16\n", files, opts);
    EXPECT_TRUE(raised.diagnostics.empty());
    EXPECT_EQ(raised.config.joins.size(), 1u);
    // Route prefixes are templates and never expand.
    EXPECT_TRUE(parse("mroute from eth0 group 225.0.0.0/8 to eth1\n").diagnostics.empty());
}

TEST(ConfigTest, EveryErrorInOnePass)
{
    auto r = parse("mrote x\n"
                   "mroute from eth0 group 10.0.0.1 source 225.1.1.1 to eth1\n"
                   "phyint eth0\n"
                   "mgroup from eth0 group 225.1.2.3 junk\n");
    ASSERT_EQ(r.diagnostics.size(), 4u) << all(r);
    EXPECT_EQ(r.diagnostics[0].line, 1u);
    // Two issues on line 2, in column order.
    EXPECT_EQ(r.diagnostics[1].line, 2u);
    EXPECT_EQ(r.diagnostics[1].col, 24u);
    EXPECT_EQ(r.diagnostics[2].line, 2u);
    EXPECT_EQ(r.diagnostics[2].col, 40u);
    EXPECT_EQ(r.diagnostics[3].line, 4u);
    EXPECT_EQ(r.diagnostics[3].message, "unknown keyword 'junk' in mgroup (expected from, source or group)");
    EXPECT_EQ(r.error_count(), 4u);
    EXPECT_EQ(entries(r), 1u);
}

TEST(ConfigTest, NulByte)
{
    static constexpr char raw[] = "phyint eth0\nmroute from eth0\0 group 225.1.2.3 to eth1\nphyint eth1\n";
    std::string text(raw, sizeof(raw) - 1);
    auto r = parse(text);
    EXPECT_EQ(first_line(r), "test.conf:2:17: error: NUL byte in line");
    EXPECT_EQ(r.config.phyints.size(), 2u);
    EXPECT_TRUE(r.config.routes.empty());
    // Shown as '?' so the terminal is not garbled.
    EXPECT_EQ(r.diagnostics[0].format(), "test.conf:2:17: error: NUL byte in line\n"
                                         "  mroute from eth0? group 225.1.2.3 to eth1\n"
                                         "                  ^");
}

TEST(ConfigTest, BinaryGarbage)
{
    std::string garbage;
    uint32_t x = 12345;
    for (int i = 0; i < 20000; ++i) {
        x = x * 1103515245 + 12345;
        garbage += static_cast<char>(x >> 16);
    }
    auto r = parse(garbage);
    EXPECT_GT(r.error_count(), 0u);
    for (const auto& d : r.diagnostics) {
        std::string f = d.format();
        for (char c : f)
            EXPECT_TRUE(c == '\n' || c == '\t' || static_cast<unsigned char>(c) >= 0x20) << int(c);
    }
    auto q = parse("\x01\x02zz\xff from\n");
    EXPECT_EQ(first_line(q),
              "test.conf:1:1: error: unknown directive '\\x01\\x02zz\xff' (expected phyint, mgroup, mroute, ssmgroup or include)");
}

TEST(ConfigTest, LongLineWindow)
{
    std::string pad(300, 'x');
    auto r = parse("mroute from eth0 group 225.1.2.3 to eth1 # " + pad + "\nmrote " + pad + " y\n");
    ASSERT_EQ(r.diagnostics.size(), 1u);
    std::string f = r.diagnostics[0].format();
    EXPECT_EQ(f, "test.conf:2:1: error: unknown directive 'mrote' (expected phyint, mgroup, mroute, ssmgroup or include)\n"
                 "  mrote " + std::string(154, 'x') + "...\n"
                 "  ^");

    // Error far into a long line: a window around the column.
    auto e = parse(std::string(200, ' ') + "mroute from eth0 group 225.1.2.3 to " + pad + "\n");
    ASSERT_EQ(e.diagnostics.size(), 1u);
    const auto& d = e.diagnostics[0];
    EXPECT_EQ(d.col, 237u);
    std::string line(d.source_line);
    std::string got = d.format();
    std::string shown = got.substr(got.find('\n') + 3);
    shown = shown.substr(0, shown.find('\n'));
    EXPECT_EQ(shown.size(), 160u + 6); // "..." at both ends
    EXPECT_EQ(shown.substr(0, 3), "...");
    EXPECT_EQ(shown.substr(shown.size() - 3), "...");
    std::string caret = got.substr(got.rfind('\n') + 3);
    // The caret sits under the start of the long name.
    EXPECT_EQ(shown[caret.size() - 1], 'x');
    EXPECT_EQ(shown[caret.size() - 2], ' ');
    EXPECT_EQ(caret.back(), '^');
}

TEST(ConfigTest, ManyErrorsOnALongLineCostLittle)
{
    // 100 KB: one line with 25 000 unknown keywords. Each error keeps only
    // the part of the line it shows, the first 1000 are kept, then one
    // error says so and the parse stops.
    std::string line = "mroute";
    for (int i = 0; i < 25000; ++i)
        line += " a b";
    auto r = parse(line + "\nmrote\n");
    ASSERT_EQ(r.diagnostics.size(), 1001u);
    EXPECT_EQ(r.error_count(), 1001u);
    size_t kept = 0;
    for (const auto& d : r.diagnostics)
        kept += d.source_line.size();
    EXPECT_LE(kept, 1001u * 1024);
    EXPECT_EQ(r.diagnostics[1000].message, "more than 1000 errors: not checking further");
    EXPECT_EQ(r.diagnostics[1000].line, 1u);
    // The excerpt shows just what the whole line would.
    for (size_t i : {size_t{0}, size_t{1}, size_t{40}, size_t{500}, size_t{999}}) {
        Diagnostic whole = r.diagnostics[i];
        whole.source_line = line;
        whole.source_offset = 0;
        whole.line_length = 0;
        EXPECT_EQ(r.diagnostics[i].format(), whole.format()) << i;
        EXPECT_EQ(r.diagnostics[i].line_length, line.size());
    }
    // At the end of a long line too.
    const std::string tail = std::string(5000, ' ') + "mroute from eth0 group 225.1.2.3 to eth1 name-of-16-bytes ";
    auto end = parse(tail + "\n");
    ASSERT_EQ(end.diagnostics.size(), 1u) << all(end);
    EXPECT_EQ(end.diagnostics[0].col, 5042u);
    Diagnostic whole = end.diagnostics[0];
    whole.source_line = tail;
    whole.source_offset = 0;
    whole.line_length = 0;
    EXPECT_EQ(end.diagnostics[0].format(), whole.format());
}

TEST(ConfigTest, ErrorsAndWarningsAreCapped)
{
    std::string errors, warnings;
    for (int i = 0; i < 1500; ++i) {
        errors += "mrote\n";
        warnings += "mroute from eth0 group 224.0.0.7 to eth1\n"; // link-local: a warning
    }
    auto r = parse(errors);
    ASSERT_EQ(r.diagnostics.size(), 1001u);
    EXPECT_EQ(first_line_of(r.diagnostics[1000]), "test.conf:1001:1: error: more than 1000 errors: not checking further");
    auto w = parse(warnings);
    EXPECT_EQ(w.diagnostics.size(), 1000u);
    EXPECT_EQ(w.error_count(), 0u);
    EXPECT_EQ(w.config.routes.size(), 1500u); // the lines themselves are fine
    ParseOptions opts;
    opts.max_errors = 3;
    MemoryFiles files;
    EXPECT_EQ(parse("mrote\nmrote\nmrote\nmrote\nmrote\n", files, opts).diagnostics.size(), 4u);
}

TEST(ConfigTest, DiagnosticFormatVariants)
{
    Diagnostic d;
    d.file = "a.conf";
    d.line = 3;
    d.col = 5;
    d.severity = Severity::warning;
    d.message = "something";
    d.source_line = "abc\tdefg";
    d.include_chain = {SourceLoc{"b.conf", 7}, SourceLoc{"main.conf", 2}};
    EXPECT_EQ(d.format(), "a.conf:3:5: warning: something\n"
                          "  abc\tdefg\n"
                          "     \t^\n"
                          "  included from b.conf:7\n"
                          "  included from main.conf:2");
    Diagnostic unreadable;
    unreadable.file = "x.conf";
    unreadable.message = "cannot read 'x.conf': No such file or directory";
    EXPECT_EQ(unreadable.format(), "x.conf: error: cannot read 'x.conf': No such file or directory");
}

// ---------------------------------------------------------------- include

TEST(ConfigTest, IncludeRelativeAndNested)
{
    MemoryFiles files;
    files.files["etc/main.conf"] = "include sub/a.conf\nphyint eth9\n";
    files.files["etc/sub/a.conf"] = "mroute from eth0 group 225.1.2.3 to eth1\ninclude b.conf\n";
    files.files["etc/sub/b.conf"] = "mgroup from eth0 group 225.1.2.3\nmrote\n";
    auto r = parse_config_file("etc/main.conf", files);
    EXPECT_EQ(all(r), "etc/sub/b.conf:2:1: error: unknown directive 'mrote' (expected phyint, mgroup, mroute, "
                      "ssmgroup or include)\n"
                      "  mrote\n"
                      "  ^\n"
                      "  included from etc/sub/a.conf:2\n"
                      "  included from etc/main.conf:1");
    ASSERT_EQ(r.config.routes.size(), 1u);
    EXPECT_EQ(r.config.routes[0].loc.file, "etc/sub/a.conf");
    EXPECT_EQ(r.config.routes[0].loc.line, 1u);
    ASSERT_EQ(r.config.joins.size(), 1u);
    EXPECT_EQ(r.config.joins[0].loc.file, "etc/sub/b.conf");
    ASSERT_EQ(r.config.phyints.size(), 1u);
    EXPECT_EQ(r.config.phyints[0].loc.file, "etc/main.conf");
    EXPECT_EQ(r.config.phyints[0].loc.line, 2u);
}

TEST(ConfigTest, IncludeAbsolute)
{
    MemoryFiles files;
    files.files["/etc/smcroute.d/x.conf"] = "phyint eth1\n";
    auto r = parse("include /etc/smcroute.d/x.conf\n", files);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    ASSERT_EQ(r.config.phyints.size(), 1u);
    EXPECT_EQ(r.config.phyints[0].loc.file, "/etc/smcroute.d/x.conf");
}

TEST(ConfigTest, IncludeMissing)
{
    // As in SMCRoute 2.x: a missing file is skipped, with a warning.
    MemoryFiles files;
    auto r = parse("phyint eth0\ninclude x.conf\nphyint eth1\n", files);
    EXPECT_EQ(all(r), "test.conf:2:9: warning: include 'x.conf' skipped: No such file or directory\n"
                      "  include x.conf\n"
                      "          ^");
    EXPECT_EQ(r.error_count(), 0u);
    EXPECT_EQ(r.config.phyints.size(), 2u);
}

TEST(ConfigTest, IncludeUnreadableIsStillAnError)
{
    // Only a missing file is skipped: one that cannot be read is an error.
    struct Refusing final : FileSource {
        Result<std::string> read(const std::string& path) override
        {
            if (path == "test.conf")
                return std::string("include x.conf\n");
            return Error{EACCES, "Permission denied"};
        }
        std::vector<std::string> glob(const std::string&) override { return {}; }
    } files;
    auto r = parse_config_file("test.conf", files);
    EXPECT_EQ(first_line(r), "test.conf:1:9: error: cannot read include 'x.conf': Permission denied");
}

TEST(ConfigTest, IncludeGlobMatchingNothing)
{
    MemoryFiles files;
    auto r = parse("include d/*.conf\nphyint eth1\n", files);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    EXPECT_EQ(r.config.phyints.size(), 1u);
}

TEST(ConfigTest, IncludeDirectory)
{
    // 'include DIR' reads DIR/*.conf in sorted order, nothing else of it.
    MemoryFiles files;
    files.files["d/b.conf"] = "phyint eth2\n";
    files.files["d/a.conf"] = "phyint eth1\n";
    files.files["d/c.txt"] = "phyint eth9\n";
    files.files["d/.hidden.conf"] = "phyint eth8\n";
    files.files["d/sub/e.conf"] = "phyint eth7\n";
    for (const char* line : {"include d\n", "include d/\n", "include ./d\n"}) {
        auto r = parse(line, files);
        EXPECT_TRUE(r.diagnostics.empty()) << line << all(r);
        ASSERT_EQ(r.config.phyints.size(), 2u) << line;
        EXPECT_EQ(r.config.phyints[0].spec.name.view(), "eth1") << line;
        EXPECT_EQ(r.config.phyints[0].loc.file, "d/a.conf") << line;
        EXPECT_EQ(r.config.phyints[1].spec.name.view(), "eth2") << line;
    }
    // An empty directory: nothing to read, nothing to say.
    files.files.clear();
    files.files["e/x.txt"] = "";
    EXPECT_TRUE(parse("include e\n", files).diagnostics.empty());
}

TEST(ConfigTest, IncludeDirectoryLoopIsAnError)
{
    MemoryFiles files;
    files.files["test.conf"] = "include d\n";
    files.files["d/a.conf"] = "include ../test.conf\n";
    auto r = parse_config_file("test.conf", files);
    EXPECT_EQ(r.error_count(), 1u) << all(r);
    EXPECT_NE(all(r).find("include loop: test.conf -> d/a.conf -> test.conf"), std::string::npos) << all(r);
}

TEST(ConfigTest, SsmgroupIsAnSsmMgroup)
{
    auto r = parse("ssmgroup from eth0 group 232.1.2.3 source 10.0.0.1\n");
    EXPECT_EQ(all(r), "test.conf:1:1: warning: 'ssmgroup' is deprecated (SMCRoute 2.x): "
                      "write 'mgroup from IIF source SOURCE group GROUP'\n"
                      "  ssmgroup from eth0 group 232.1.2.3 source 10.0.0.1\n"
                      "  ^");
    auto m = parse("mgroup from eth0 source 10.0.0.1 group 232.1.2.3\n");
    ASSERT_TRUE(m.diagnostics.empty()) << all(m);
    ASSERT_EQ(r.config.joins.size(), 1u);
    ASSERT_EQ(m.config.joins.size(), 1u);
    EXPECT_EQ(r.config.joins[0].spec, m.config.joins[0].spec);
    EXPECT_EQ(r.config.joins[0].loc.line, 1u);
}

TEST(ConfigTest, SsmgroupNeedsItsSource)
{
    auto r = parse("ssmgroup from eth0 group 232.1.2.3\n");
    EXPECT_EQ(r.error_count(), 1u) << all(r);
    EXPECT_NE(all(r).find("test.conf:1:1: error: missing 'source' in ssmgroup"), std::string::npos) << all(r);
    EXPECT_TRUE(r.config.joins.empty());
    auto bad = parse("ssmgroup from eth0 group 232.1.2.3 sorce 10.0.0.1\n");
    EXPECT_NE(all(bad).find("unknown keyword 'sorce' in ssmgroup"), std::string::npos) << all(bad);
    EXPECT_TRUE(bad.config.joins.empty());
}

TEST(ConfigTest, BadLinesLeaveTheValidOnes)
{
    // What a lenient start uses: every valid line, every error reported.
    auto r = parse("mroute from eth0 source 10.0.0.1 group 225.1.2.3 to eth1\n"
                   "mroute from eth0 sorce 10.0.0.1 group 225.1.2.4 to eth1\n"
                   "frobnicate\n"
                   "ssmgroup from eth0 group 232.1.2.3 source 10.0.0.1\n"
                   "include missing.conf\n"
                   "mgroup from eth0 group 225.1.2.9\n");
    EXPECT_EQ(r.error_count(), 2u) << all(r);
    EXPECT_EQ(r.diagnostics.size(), 4u) << all(r); // and two warnings
    ASSERT_EQ(r.config.routes.size(), 1u);
    EXPECT_EQ(r.config.routes[0].loc.line, 1u);
    ASSERT_EQ(r.config.joins.size(), 2u);
    EXPECT_EQ(r.config.joins[0].loc.line, 4u);
    EXPECT_EQ(r.config.joins[1].loc.line, 6u);
}

TEST(ConfigTest, IncludeWithoutPathOrWithJunk)
{
    EXPECT_EQ(first_line(parse("include\n")), "test.conf:1:1: error: missing path after 'include'");
    EXPECT_EQ(first_line(parse("include # a comment\n")), "test.conf:1:1: error: missing path after 'include'");
    EXPECT_EQ(first_line(parse("include a.conf b.conf\n")),
              "test.conf:1:16: error: unexpected 'b.conf' after the include path");
}

TEST(ConfigTest, IncludeGlobSorted)
{
    MemoryFiles files;
    files.files["conf.d/20-b.conf"] = "phyint eth2\n";
    files.files["conf.d/10-a.conf"] = "phyint eth1\n";
    files.files["conf.d/30-c.txt"] = "phyint eth3\n";
    files.files["conf.d/.hidden.conf"] = "phyint eth4\n";
    files.files["conf.d/sub/40.conf"] = "phyint eth5\n";
    auto r = parse("include conf.d/*.conf\ninclude none.d/*.conf\n", files);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r); // a glob with no match is fine
    ASSERT_EQ(r.config.phyints.size(), 2u);
    EXPECT_EQ(r.config.phyints[0].spec.name.view(), "eth1");
    EXPECT_EQ(r.config.phyints[1].spec.name.view(), "eth2");
    EXPECT_EQ(r.config.phyints[1].loc.file, "conf.d/20-b.conf");
}

TEST(ConfigTest, IncludeSelf)
{
    MemoryFiles files;
    files.files["main.conf"] = "phyint eth0\ninclude ./main.conf\n";
    auto r = parse_config_file("main.conf", files);
    EXPECT_EQ(all(r), "main.conf:2:9: error: 'main.conf' includes itself\n"
                      "  include ./main.conf\n"
                      "          ^");
    EXPECT_EQ(r.config.phyints.size(), 1u);
}

TEST(ConfigTest, IncludeLoop)
{
    MemoryFiles files;
    files.files["a.conf"] = "include b.conf\n";
    files.files["b.conf"] = "include c.conf\n";
    files.files["c.conf"] = "include a.conf\n";
    auto r = parse_config_file("a.conf", files);
    EXPECT_EQ(all(r), "c.conf:1:9: error: include loop: a.conf -> b.conf -> c.conf -> a.conf\n"
                      "  include a.conf\n"
                      "          ^\n"
                      "  included from b.conf:1\n"
                      "  included from a.conf:1");

    // Including the same file twice side by side is not a loop.
    MemoryFiles twice;
    twice.files["m.conf"] = "include x.conf\ninclude x.conf\n";
    twice.files["x.conf"] = "phyint eth0\n";
    auto t = parse_config_file("m.conf", twice);
    EXPECT_TRUE(t.diagnostics.empty()) << all(t);
    EXPECT_EQ(t.config.phyints.size(), 2u);
}

TEST(ConfigTest, IncludeDepthLimit)
{
    MemoryFiles files;
    for (int i = 0; i < 30; ++i)
        files.files["f" + std::to_string(i) + ".conf"] = "include f" + std::to_string(i + 1) + ".conf\n";
    files.files["f30.conf"] = "phyint eth0\n";
    ParseOptions opts;
    opts.max_include_depth = 4;
    auto r = parse_config_file("f0.conf", files, opts);
    ASSERT_EQ(r.diagnostics.size(), 1u) << all(r);
    EXPECT_EQ(r.diagnostics[0].file, "f4.conf");
    EXPECT_EQ(r.diagnostics[0].message, "cannot include 'f5.conf': includes nested more than 4 levels deep");
    EXPECT_EQ(r.diagnostics[0].include_chain.size(), 4u);
    EXPECT_EQ(r.diagnostics[0].include_chain.front().file, "f3.conf");
    EXPECT_EQ(r.diagnostics[0].include_chain.back().file, "f0.conf");

    opts.max_include_depth = 30;
    auto ok = parse_config_file("f0.conf", files, opts);
    EXPECT_TRUE(ok.diagnostics.empty()) << all(ok);
    EXPECT_EQ(ok.config.phyints.size(), 1u);
}

// ---------------------------------------------------------------- expansion limits

namespace {

// levels files l0.conf .. l<levels>.conf: each includes the next `fanout`
// times, the last holds `leaf` route lines. l0.conf expands to
// fanout^levels * leaf routes from a few hundred bytes.
MemoryFiles fan_out(int levels, int fanout, int leaf,
                    const std::string& leaf_line = "mroute from eth0 source 10.0.0.1 group 225.1.2.3 to eth1")
{
    MemoryFiles files;
    for (int l = 0; l < levels; ++l) {
        std::string text;
        for (int i = 0; i < fanout; ++i)
            text += "include l" + std::to_string(l + 1) + ".conf\n";
        files.files["l" + std::to_string(l) + ".conf"] = text;
    }
    std::string text;
    for (int i = 0; i < leaf; ++i)
        text += leaf_line + "\n";
    files.files["l" + std::to_string(levels) + ".conf"] = text;
    return files;
}

// Reads through to files, counting them.
class CountingFiles final : public FileSource {
public:
    explicit CountingFiles(FileSource& files) : files_(files) {}
    Result<std::string> read(const std::string& path) override
    {
        ++reads;
        return files_.read(path);
    }
    std::vector<std::string> glob(const std::string& pattern) override { return files_.glob(pattern); }
    size_t reads = 0;

private:
    FileSource& files_;
};

} // namespace

TEST(ConfigTest, LinesLimitLocatedAtTheIncludeThatWentOver)
{
    MemoryFiles files = fan_out(3, 10, 10); // 10 000 routes in 1 111 files, 11 110 lines
    ParseOptions opts;
    opts.max_lines = 5005;
    auto r = parse_config_file("l0.conf", files, opts);
    // Line 5006 is a route of an l3.conf: the error is at the line of
    // l2.conf that includes it, the innermost include being read.
    ASSERT_EQ(r.diagnostics.size(), 1u) << all(r);
    const Diagnostic& d = r.diagnostics[0];
    EXPECT_EQ(d.file, "l2.conf");
    EXPECT_EQ(d.col, 9u);
    EXPECT_EQ(d.message.substr(0, d.message.find(", reached at ")),
              "cannot include 'l3.conf': over the limit of 5005 lines per config (includes and repeats counted)");
    EXPECT_NE(d.message.find(", reached at l3.conf:"), std::string::npos) << d.message;
    EXPECT_EQ(d.source_line, "include l3.conf");
    ASSERT_EQ(d.include_chain.size(), 2u);
    EXPECT_EQ(d.include_chain[0].file, "l1.conf");
    EXPECT_EQ(d.include_chain[1].file, "l0.conf");
    EXPECT_EQ(r.error_count(), 1u);
    EXPECT_FALSE(r.interrupted);
    EXPECT_LT(r.config.routes.size(), 5005u); // nothing read past the limit

    // The same limit, hit by the top file's own lines: at that line.
    MemoryFiles none;
    opts.max_lines = 3;
    EXPECT_EQ(all(parse("phyint eth0\n\n# c\nphyint eth1\nphyint eth2\n", none, opts)),
              "test.conf:4:1: error: over the limit of 3 lines per config (includes and repeats counted)\n"
              "  phyint eth1\n"
              "  ^");
    opts.max_lines = 5;
    EXPECT_TRUE(parse("phyint eth0\n\n# c\nphyint eth1\nphyint eth2\n", none, opts).diagnostics.empty());
}

TEST(ConfigTest, FilesPerIncludeLimit)
{
    MemoryFiles files;
    for (int i = 0; i < 5; ++i)
        files.files["conf.d/" + std::to_string(i) + ".conf"] = "phyint eth" + std::to_string(i) + "\n";
    ParseOptions opts;
    opts.max_include_matches = 4;
    auto r = parse("phyint eth9\ninclude conf.d/*.conf\nphyint eth8\n", files, opts);
    EXPECT_EQ(all(r), "test.conf:2:9: error: cannot include 'conf.d/*.conf': 5 files match, over the limit of 4 "
                      "files per include\n"
                      "  include conf.d/*.conf\n"
                      "          ^");
    EXPECT_EQ(r.config.phyints.size(), 2u); // none of the five; the lines around it still parsed
    opts.max_include_matches = 5;
    r = parse("include conf.d/*.conf\n", files, opts);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    EXPECT_EQ(r.config.phyints.size(), 5u);
}

TEST(ConfigTest, FilesInAllLimitCountsRepeats)
{
    MemoryFiles files;
    files.files["x.conf"] = "phyint eth0\n";
    ParseOptions opts;
    opts.max_files = 5; // the top file and four includes
    std::string text;
    for (int i = 0; i < 10; ++i)
        text += "include x.conf\n";
    auto r = parse(text, files, opts);
    EXPECT_EQ(all(r), "test.conf:5:9: error: cannot include 'x.conf': over the limit of 5 files per config "
                      "(includes and repeats counted)\n"
                      "  include x.conf\n"
                      "          ^");
    EXPECT_EQ(r.config.phyints.size(), 4u);

    // Nested: the include that went over is named, with its chain.
    MemoryFiles deep = fan_out(3, 10, 1);
    opts.max_files = 20;
    r = parse_config_file("l0.conf", deep, opts);
    ASSERT_EQ(r.diagnostics.size(), 1u) << all(r);
    // l0, l1, l2, then ten l3 (13), l2 (14), seven l3 (21 > 20).
    EXPECT_EQ(r.diagnostics[0].file, "l2.conf");
    EXPECT_EQ(r.diagnostics[0].line, 7u);
    EXPECT_EQ(r.diagnostics[0].message,
              "cannot include 'l3.conf': over the limit of 20 files per config (includes and repeats counted)");
    ASSERT_EQ(r.diagnostics[0].include_chain.size(), 2u);
    EXPECT_EQ(r.diagnostics[0].include_chain[0].file, "l1.conf");
    EXPECT_EQ(r.diagnostics[0].include_chain[0].line, 2u);
    EXPECT_EQ(r.config.routes.size(), 16u);
}

TEST(ConfigTest, BytesInAllLimit)
{
    MemoryFiles files;
    files.files["big.conf"] = std::string(1000, '#') + "\n";
    ParseOptions opts;
    opts.max_bytes = 2500;
    auto r = parse("include big.conf\ninclude big.conf\ninclude big.conf\n", files, opts);
    EXPECT_EQ(first_line(r), "test.conf:3:9: error: cannot include 'big.conf': over the limit of 2500 bytes per "
                             "config (includes and repeats counted)");
    opts.max_bytes = 10;
    r = parse("phyint eth0 # more than ten bytes\n", files, opts);
    EXPECT_EQ(first_line(r), "test.conf: error: 'test.conf' is larger than the limit of 10 bytes per config "
                             "(includes and repeats counted)");
    EXPECT_EQ(entries(r), 0u);
    // The default: 256 MiB, as much as one file may hold.
    EXPECT_EQ(ParseOptions{}.max_bytes, size_t{256} << 20);
}

TEST(ConfigTest, EntriesLimit)
{
    MemoryFiles files;
    files.files["r.conf"] = "# two routes\nmroute from eth0 group 225.1.1.1 to eth1\n\n"
                            "mroute from eth0 group 225.1.1.2 to eth1\n";
    ParseOptions opts;
    opts.max_entries = 3;
    // At the top: the line that went over.
    auto r = parse("phyint eth0\nmroute from eth0 group 225.1.1.1 to eth1\n\n mgroup from eth0 group 225.1.1.1\n"
                   "   mroute from eth0 group 225.1.1.2 to eth1\n",
                   files, opts);
    EXPECT_EQ(first_line(r), "test.conf:5:4: error: over the limit of 3 mroute, mgroup and phyint lines per config "
                             "(includes and repeats counted)");
    EXPECT_EQ(entries(r), 3u);
    // In an include: the include that went over, and where.
    r = parse("include r.conf\ninclude r.conf\nphyint eth0\n", files, opts);
    EXPECT_EQ(all(r), "test.conf:2:9: error: cannot include 'r.conf': over the limit of 3 mroute, mgroup and phyint "
                      "lines per config (includes and repeats counted), reached at r.conf:4\n"
                      "  include r.conf\n"
                      "          ^");
    EXPECT_EQ(entries(r), 3u);
    // Comments and blank lines are not entries.
    opts.max_entries = 2;
    EXPECT_TRUE(parse("include r.conf\n# c\n\n", files, opts).diagnostics.empty());
    EXPECT_EQ(ParseOptions{}.max_entries, 250000u);
}

TEST(ConfigTest, JoinsInAllLimit)
{
    MemoryFiles files;
    ParseOptions opts;
    opts.max_joins = 600;
    auto r = parse("mgroup from eth0 group 225.1.1.0/24\n"
                   "mgroup from eth0 group 225.1.2.0/24\n"
                   "  mgroup from eth0 group 225.1.3.0/24\n"
                   "mgroup from eth0 group 225.1.4.1\n",
                   files, opts);
    EXPECT_EQ(all(r), "test.conf:3:3: error: over the limit of 600 joins per config, ranges expanded (includes and "
                      "repeats counted)\n"
                      "    mgroup from eth0 group 225.1.3.0/24\n"
                      "    ^");
    EXPECT_EQ(r.config.joins.size(), 2u);
    opts.max_joins = 769;
    EXPECT_TRUE(parse("mgroup from eth0 group 225.1.1.0/24\nmgroup from eth0 group 225.1.2.0/24\n"
                      "mgroup from eth0 group 225.1.3.0/24\nmgroup from eth0 group 225.1.4.1\n",
                      files, opts)
                    .diagnostics.empty());
}

TEST(ConfigTest, ExpansionAttackStopsAtTheLimitsWithDefaults)
{
    // 1.3 KB that would expand to 10^7 route lines (10 includes a file,
    // 7 levels): the files limit stops it after 4096 files.
    MemoryFiles files = fan_out(7, 10, 1);
    size_t bytes = 0;
    for (const auto& [path, text] : files.files)
        bytes += text.size();
    EXPECT_LT(bytes, 1400u);
    // The work done, counted: files read, and lines and includes visited
    // (polled before each include and, here, every line).
    CountingFiles counted(files);
    ParseOptions opts;
    size_t visits = 0;
    opts.interrupt_every = 1;
    opts.interrupted = [&] { return ++visits, false; };
    auto r = parse_config_file("l0.conf", counted, opts);
    ASSERT_EQ(r.diagnostics.size(), 1u) << all(r);
    EXPECT_NE(r.diagnostics[0].message.find("over the limit of 4096 files per config"), std::string::npos)
        << all(r);
    EXPECT_EQ(r.diagnostics[0].include_chain.size(), 6u);
    EXPECT_LT(r.config.routes.size(), 4096u);
    EXPECT_EQ(counted.reads, 4096u) << "the top file and 4095 includes, not 10^7";
    EXPECT_LT(visits, 4096u * 11 * 2) << "at most 11 lines per file and an include poll each";
    // The same stop with the default options.
    r = parse_config_file("l0.conf", files);
    ASSERT_EQ(r.diagnostics.size(), 1u) << all(r);
    EXPECT_NE(r.diagnostics[0].message.find("over the limit of 4096 files per config"), std::string::npos)
        << all(r);

    // Big leaves: the lines limit stops it at a million lines.
    MemoryFiles leaves = fan_out(3, 10, 2000, "# a comment"); // 2 001 110 lines
    r = parse_config_file("l0.conf", leaves);
    ASSERT_EQ(r.diagnostics.size(), 1u) << all(r);
    EXPECT_NE(r.diagnostics[0].message.find("over the limit of 1000000 lines per config"), std::string::npos)
        << all(r);
}

TEST(ConfigTest, HundredThousandRoutesThroughIncludesFitTheDefaults)
{
    // 100 000 distinct routes in 100 included files, each route line
    // preceded by a comment: 200 000 lines, well inside every default.
    MemoryFiles files;
    std::string main;
    for (int f = 0; f < 100; ++f) {
        std::string text;
        for (int i = 0; i < 1000; ++i) {
            int n = f * 1000 + i;
            text += "# route " + std::to_string(n) + "\nmroute from eth0 source 10." + std::to_string(n >> 16) + "." +
                    std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255) +
                    " group 225.1.2.3 to eth1 eth2\n";
        }
        std::string name = "conf.d/" + std::to_string(1000 + f) + ".conf";
        files.files[name] = text;
    }
    auto r = parse("include conf.d/*.conf\nmgroup from eth0 group 225.2.0.0/22\n", files);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    EXPECT_EQ(r.config.routes.size(), 100000u);
}

TEST(ConfigTest, InterruptedParseStopsAndSaysSo)
{
    MemoryFiles files = fan_out(2, 10, 1000); // 100 000 routes
    int polls = 0;
    ParseOptions opts;
    opts.interrupt_every = 1000;
    opts.interrupted = [&] { return ++polls == 5; };
    auto r = parse_config_file("l0.conf", files, opts);
    EXPECT_TRUE(r.interrupted);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    EXPECT_EQ(polls, 5);
    EXPECT_LT(r.config.routes.size(), 6000u);

    // Polled before each include as well, so a config of many tiny
    // includes is interrupted too.
    MemoryFiles tiny = fan_out(4, 10, 0);
    polls = 0;
    opts.interrupted = [&] { return ++polls == 3; };
    r = parse_config_file("l0.conf", tiny, opts);
    EXPECT_TRUE(r.interrupted);
    EXPECT_EQ(polls, 3);

    // Never interrupted: the whole config.
    opts.interrupted = [] { return false; };
    r = parse_config_file("l0.conf", files, opts);
    EXPECT_FALSE(r.interrupted);
    EXPECT_EQ(r.config.routes.size(), 100000u);
}

TEST(ConfigTest, TopLevelUnreadable)
{
    MemoryFiles files;
    auto r = parse_config_file("nope.conf", files);
    EXPECT_EQ(all(r), "nope.conf: error: cannot read 'nope.conf': No such file or directory");
    EXPECT_EQ(r.error_count(), 1u);
}

TEST(ConfigTest, MemoryFilesGlobAndRead)
{
    MemoryFiles files;
    files.files["a/x1.conf"] = "1";
    files.files["a/x2.conf"] = "2";
    files.files["a/y.conf"] = "3";
    files.files["a/b/x3.conf"] = "4";
    EXPECT_EQ(files.glob("a/x?.conf"), (std::vector<std::string>{"a/x1.conf", "a/x2.conf"}));
    EXPECT_EQ(files.glob("a/*.conf"), (std::vector<std::string>{"a/x1.conf", "a/x2.conf", "a/y.conf"}));
    EXPECT_TRUE(files.glob("b/*").empty());
    EXPECT_EQ(*files.read("a/y.conf"), "3");
    EXPECT_EQ(files.read("a/z.conf").error().message, "No such file or directory");
    EXPECT_EQ(files.read("a/b").error().message, "Is a directory");
}

// ---------------------------------------------------------------- speed

namespace {

using test::many_errors;
using test::many_routes;

// Allocations made by this thread while counting is on: a measure of the
// parser's work that does not depend on the machine's speed or load (a
// parse that copies what it has kept so far, or sorts every diagnostic
// after each line, allocates quadratically). Replacing the global
// operator new is the test binary's own business; it forwards to malloc.
struct AllocCount {
    size_t calls = 0;
    size_t bytes = 0;
};
thread_local AllocCount* alloc_count = nullptr;

// The allocations of parsing text (every error kept); checks the expected
// number of routes and errors.
AllocCount parse_allocs(const std::string& text, size_t routes, size_t errors)
{
    MemoryFiles files;
    ParseOptions opts;
    opts.max_errors = errors;
    AllocCount count;
    alloc_count = &count;
    auto r = parse_config_text(text, "big.conf", files, opts);
    alloc_count = nullptr;
    EXPECT_EQ(r.config.routes.size(), routes);
    EXPECT_EQ(r.error_count(), errors);
    return count;
}

} // namespace

// g++ sees new's malloc and delete's free meet once inlined: they match here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t size)
{
    if (alloc_count) {
        ++alloc_count->calls;
        alloc_count->bytes += size;
    }
    if (void* p = std::malloc(size ? size : 1))
        return p;
    throw std::bad_alloc();
}
void* operator new[](size_t size)
{
    return ::operator new(size);
}
// Every form that pairs with free(), so no allocation here meets the
// sanitizer's own operator delete (std::stable_sort's buffer is nothrow).
void* operator new(size_t size, const std::nothrow_t&) noexcept
{
    try {
        return ::operator new(size);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept
{
    return ::operator new(size, std::nothrow);
}
void operator delete(void* p, const std::nothrow_t&) noexcept
{
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept
{
    std::free(p);
}
void operator delete(void* p) noexcept
{
    std::free(p);
}
void operator delete[](void* p) noexcept
{
    std::free(p);
}
// The sized forms too: the C++ runtime (built with sized deallocation) calls
// them, and must reach the free() that matches this malloc(). Declared
// first: without -fsized-deallocation <new> does not declare them.
void operator delete(void* p, size_t) noexcept;
void operator delete[](void* p, size_t) noexcept;
void operator delete(void* p, size_t) noexcept
{
    std::free(p);
}
void operator delete[](void* p, size_t) noexcept
{
    std::free(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

TEST(ConfigTest, LinearWork)
{
    // Four times the input takes about four times the allocations (calls
    // and bytes), never sixteen. (Its speed: tests/bench/config_parse.)
    auto linear = [](const AllocCount& small, const AllocCount& large) {
        EXPECT_GT(small.calls, 0u);
        EXPECT_LT(large.calls, 6 * small.calls) << small.calls << " allocations vs " << large.calls;
        EXPECT_LT(large.bytes, 6 * small.bytes) << small.bytes << " bytes vs " << large.bytes;
    };
    linear(parse_allocs(many_routes(10000), 10000, 0), parse_allocs(many_routes(40000), 40000, 0));
    linear(parse_allocs(many_errors(5000), 0, 5000), parse_allocs(many_errors(20000), 0, 20000));
}

// Its speed is a benchmark figure (tests/bench/config_parse, "parse" in
// tests/bench/run.sh), not a test: here, what 100 000 lines parse to.
TEST(ConfigTest, HundredThousandLinesParseToHundredThousandRoutes)
{
    MemoryFiles files;
    auto r = parse_config_text(many_routes(100000), "big.conf", files);
    EXPECT_TRUE(r.diagnostics.empty()) << all(r);
    EXPECT_FALSE(r.interrupted);
    ASSERT_EQ(r.config.routes.size(), 100000u);
    EXPECT_TRUE(r.config.joins.empty());
    EXPECT_TRUE(r.config.phyints.empty());
    EXPECT_EQ(r.config.routes.front().spec.key_str(), "(10.0.0.0, 225.1.2.3)");
    EXPECT_EQ(r.config.routes.back().spec.key_str(), "(10.1.134.159, 225.1.2.3)"); // 99 999
    EXPECT_EQ(r.config.routes.back().loc.file, "big.conf");
    EXPECT_EQ(r.config.routes.back().loc.line, 100000u);
    std::set<std::string> keys;
    size_t other = 0;
    for (size_t i = 0; i < r.config.routes.size(); ++i) {
        const auto& route = r.config.routes[i];
        keys.insert(route.spec.key_str());
        if (route.loc.line != i + 1 || route.spec.iif.str() != "eth0" || route.spec.oifs.size() != 2 ||
            route.spec.oifs[0].str() != "eth1" || route.spec.oifs[1].str() != "eth2")
            ++other;
    }
    EXPECT_EQ(keys.size(), 100000u) << "every line its own (source, group)";
    EXPECT_EQ(other, 0u) << "routes not as written, or out of order";
}

// ---------------------------------------------------------------- proxy words

namespace {

// The one phyint of a line that must parse without any diagnostic.
PhyintSpec proxy_line(std::string_view line)
{
    auto r = parse(line);
    EXPECT_EQ(all(r), "") << line;
    EXPECT_EQ(r.config.phyints.size(), 1u) << line;
    return r.config.phyints.empty() ? PhyintSpec{} : r.config.phyints[0].spec;
}

// The line's one diagnostic's first line; the line must not be kept when it
// is an error.
std::string proxy_error(std::string_view line)
{
    auto r = parse(line);
    std::string first = first_line(r);
    if (!r.diagnostics.empty() && r.diagnostics[0].severity == Severity::error)
        EXPECT_TRUE(r.config.phyints.empty()) << line;
    return first;
}

using std::chrono::milliseconds;

} // namespace

TEST(ConfigProxy, RolesAndFamilies)
{
    PhyintSpec up = proxy_line("phyint eth0 upstream");
    EXPECT_EQ(up.proxy.role, ProxyRole::upstream);
    EXPECT_TRUE(up.proxy.igmp);
    EXPECT_TRUE(up.proxy.mld);
    EXPECT_TRUE(up.enable);
    PhyintSpec down = proxy_line("phyint eth1 downstream");
    EXPECT_EQ(down.proxy.role, ProxyRole::downstream);
    EXPECT_EQ(down.proxy.querier, QuerierSettings{});
    EXPECT_TRUE(down.proxy.filter.empty());
    PhyintSpec v4 = proxy_line("phyint eth0 igmp upstream");
    EXPECT_TRUE(v4.proxy.covers(Family::inet));
    EXPECT_FALSE(v4.proxy.covers(Family::inet6));
    PhyintSpec v6 = proxy_line("phyint eth+ downstream mld");
    EXPECT_FALSE(v6.proxy.covers(Family::inet));
    EXPECT_TRUE(v6.proxy.covers(Family::inet6));
    // Beside the other phyint words, in any order.
    PhyintSpec mixed = proxy_line("phyint eth1 ttl-threshold 4 downstream enable mrdisc fast-leave");
    EXPECT_EQ(mixed.ttl_threshold, 4);
    EXPECT_TRUE(mixed.mrdisc);
    EXPECT_TRUE(mixed.proxy.querier.fast_leave);
    // No proxy words: no role.
    EXPECT_EQ(proxy_line("phyint eth1 enable").proxy, ProxySpec{});
}

TEST(ConfigProxy, EveryQuerierWordAndItsRangeEdges)
{
    struct Case {
        const char* word;
        const char* low_ok;
        const char* high_ok;
        const char* below;
        const char* above;
        const char* range;
    };
    // query-response-interval and last-member-query-interval with a long
    // query-interval, so their top is within it.
    const Case cases[] = {
        {"robustness", "1", "7", "0", "8", "1-7"},
        {"query-interval", "1", "31744", "0.999", "31744.001", "1-31744"},
        {"query-response-interval", "0.1", "3174.4", "0.099", "3174.401", "0.1-3174.4"},
        {"last-member-query-interval", "0.1", "3174.4", "0.099", "3174.401", "0.1-3174.4"},
        {"last-member-query-count", "1", "255", "0", "256", "1-255"},
        {"startup-query-interval", "1", "31744", "0.999", "31744.001", "1-31744"},
        {"startup-query-count", "1", "255", "0", "256", "1-255"},
    };
    for (const auto& c : cases) {
        const std::string base = "phyint eth1 downstream query-interval 31744 ";
        const std::string qi_free = std::string(c.word) == "query-interval" ? "phyint eth1 downstream query-response-interval 0.1 " : base;
        for (const char* v : {c.low_ok, c.high_ok})
            proxy_line(qi_free + c.word + " " + v);
        for (const char* v : {c.below, c.above})
            EXPECT_EQ(proxy_error(qi_free + c.word + " " + v),
                      cat("test.conf:1:", qi_free.size() + std::string(c.word).size() + 2, ": error: ", c.word, ' ', v,
                          " out of range ", c.range))
                << c.word << ' ' << v;
    }
}

TEST(ConfigProxy, ValuesLandInTheQuerierSettings)
{
    PhyintSpec p = proxy_line("phyint eth1 downstream robustness 3 query-interval 60.5 query-response-interval 0.25 "
                              "last-member-query-interval 1.5 last-member-query-count 4 startup-query-interval 7.125 "
                              "startup-query-count 5 igmp-version 2 mld-version 1 fast-leave");
    const QuerierSettings& q = p.proxy.querier;
    EXPECT_EQ(q.robustness, 3u);
    EXPECT_EQ(q.query_interval, milliseconds(60500));
    EXPECT_EQ(q.query_response_interval, milliseconds(250));
    EXPECT_EQ(q.last_member_query_interval, milliseconds(1500));
    EXPECT_EQ(q.last_member_query_count, 4u);
    EXPECT_EQ(q.startup_query_interval, milliseconds(7125));
    EXPECT_EQ(q.startup_query_count, 5u);
    EXPECT_EQ(q.igmp_version, GroupVersion::v2);
    EXPECT_EQ(q.mld_version, GroupVersion::v2);
    EXPECT_TRUE(q.fast_leave);
    // The defaults (RFC): derived counts and intervals left to the accessors.
    PhyintSpec d = proxy_line("phyint eth1 downstream robustness 4 query-interval 100");
    EXPECT_EQ(d.proxy.querier.lmq_count(), 4u);
    EXPECT_EQ(d.proxy.querier.sq_count(), 4u);
    EXPECT_EQ(d.proxy.querier.sq_interval(), milliseconds(25000));
    EXPECT_EQ(d.proxy.querier.igmp_version, GroupVersion::v3);
    EXPECT_EQ(d.proxy.querier.mld_version, GroupVersion::v3);
    EXPECT_EQ(d.proxy.querier.query_response_interval, milliseconds(10000));
    EXPECT_EQ(d.proxy.querier.last_member_query_interval, milliseconds(1000));
    EXPECT_EQ(proxy_line("phyint eth1 downstream igmp-version 3 mld-version 2").proxy.querier, QuerierSettings{});
}

TEST(ConfigProxy, ValueErrors)
{
    EXPECT_EQ(proxy_error("phyint eth1 downstream robustness"),
              "test.conf:1:24: error: missing value after 'robustness' (expected 1-7)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream query-interval"),
              "test.conf:1:24: error: missing value after 'query-interval' (expected 1-31744)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream allow"), "test.conf:1:24: error: missing prefix after 'allow'");
    EXPECT_EQ(proxy_error("phyint eth1 downstream robustness two"),
              "test.conf:1:35: error: invalid robustness 'two' (expected 1-7)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream robustness -1"),
              "test.conf:1:35: error: invalid robustness '-1' (expected 1-7)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream query-interval 1.2345"),
              "test.conf:1:39: error: invalid query-interval '1.2345' (expected seconds 1-31744, at most 3 decimals)");
    for (const char* bad : {"1.", ".5", "1e3", "+1", "1,5", "0x10", "99999999999999"})
        EXPECT_NE(proxy_error(cat("phyint eth1 downstream query-interval ", bad)).find("invalid query-interval"),
                  std::string::npos)
            << bad;
    EXPECT_EQ(proxy_error("phyint eth1 downstream igmp-version 1"),
              "test.conf:1:37: error: unknown igmp-version 1 (expected 2 or 3)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream igmp-version 4"),
              "test.conf:1:37: error: unknown igmp-version 4 (expected 2 or 3)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream mld-version 0"),
              "test.conf:1:36: error: unknown mld-version 0 (expected 1 or 2)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream mld-version 3"),
              "test.conf:1:36: error: unknown mld-version 3 (expected 1 or 2)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream robustness 2 robustness 3"),
              "test.conf:1:37: error: keyword 'robustness' repeated in phyint");
    EXPECT_EQ(proxy_error("phyint eth1 downstream fast-leave fast-leave"),
              "test.conf:1:35: error: keyword 'fast-leave' repeated in phyint");
    EXPECT_EQ(proxy_error("phyint eth1 downstream downstream"),
              "test.conf:1:24: error: keyword 'downstream' repeated in phyint");
    EXPECT_EQ(proxy_error("phyint eth1 downstream upstream"),
              "test.conf:1:24: error: keyword 'upstream' conflicts with 'downstream'");
    EXPECT_EQ(proxy_error("phyint eth1 downstream igmp mld"),
              "test.conf:1:29: error: keyword 'mld' conflicts with 'igmp' (leave both out for both)");
}

TEST(ConfigProxy, RoleErrors)
{
    EXPECT_EQ(proxy_error("phyint eth+ upstream"), "test.conf:1:13: error: phyint eth+: an upstream cannot be a wildcard");
    EXPECT_EQ(proxy_error("phyint eth1 fast-leave"), "test.conf:1:13: error: fast-leave needs downstream");
    EXPECT_EQ(proxy_error("phyint eth1 robustness 3"), "test.conf:1:13: error: robustness needs downstream");
    EXPECT_EQ(proxy_error("phyint eth1 allow 239.0.0.0/8"), "test.conf:1:13: error: allow needs downstream");
    EXPECT_EQ(proxy_error("phyint eth1 mld"), "test.conf:1:13: error: mld needs upstream or downstream");
    EXPECT_EQ(proxy_error("phyint eth0 upstream query-interval 10"),
              "test.conf:1:22: error: query-interval needs downstream (this line is an upstream)");
    EXPECT_EQ(proxy_error("phyint eth0 upstream deny-source 10.0.0.0/8"),
              "test.conf:1:22: error: deny-source needs downstream (this line is an upstream)");
    EXPECT_EQ(proxy_error("phyint eth0 disable upstream"),
              "test.conf:1:21: error: keyword 'upstream' conflicts with 'disable'");
    EXPECT_EQ(proxy_error("phyint eth1 downstream mld igmp-version 2"),
              "test.conf:1:28: error: igmp-version on a line that says mld (IPv6 only)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream igmp mld-version 1"),
              "test.conf:1:29: error: mld-version on a line that says igmp (IPv4 only)");
}

TEST(ConfigProxy, IntervalsWithOneAnother)
{
    EXPECT_EQ(proxy_error("phyint eth1 downstream query-interval 125 query-response-interval 200"),
              "test.conf:1:67: error: query-response-interval 200 must be less than query-interval 125");
    EXPECT_EQ(proxy_error("phyint eth1 downstream query-interval 10"),
              "test.conf:1:39: error: query-response-interval 10 must be less than query-interval 10");
    proxy_line("phyint eth1 downstream query-interval 10 query-response-interval 9.999");
    // IGMPv2's Max Resp Time is at most 25.5 s.
    proxy_line("phyint eth1 downstream igmp-version 2 query-response-interval 25.5 last-member-query-interval 25.5");
    EXPECT_EQ(proxy_error("phyint eth1 downstream igmp-version 2 query-response-interval 25.6"),
              "test.conf:1:63: error: query-response-interval 25.6 is over 25.5 with igmp-version 2 (IGMPv2 Max Resp "
              "Time)");
    EXPECT_EQ(proxy_error("phyint eth1 downstream igmp-version 2 last-member-query-interval 25.501"),
              "test.conf:1:66: error: last-member-query-interval 25.501 is over 25.5 with igmp-version 2 (IGMPv2 Max "
              "Resp Time)");
    // Only for IPv4: an mld line has no igmp-version, a v3 querier goes higher.
    proxy_line("phyint eth1 downstream mld query-response-interval 60 last-member-query-interval 60");
    proxy_line("phyint eth1 downstream query-response-interval 60 last-member-query-interval 60");
}

TEST(ConfigProxy, FilterWords)
{
    PhyintSpec p = proxy_line("phyint eth1 downstream allow 239.0.0.0/8 deny 239.255.0.0/16 allow-source 10.0.0.0/8 "
                              "deny-source 10.9.0.0/16 allow ff0e::/16 deny-source 0.0.0.0/0");
    const auto& rules = p.proxy.filter.rules;
    ASSERT_EQ(rules.size(), 6u);
    EXPECT_EQ(rules[0], (ProxyFilterRule{true, false, *Prefix::parse("239.0.0.0/8")}));
    EXPECT_EQ(rules[1], (ProxyFilterRule{false, false, *Prefix::parse("239.255.0.0/16")}));
    EXPECT_EQ(rules[2], (ProxyFilterRule{true, true, *Prefix::parse("10.0.0.0/8")}));
    EXPECT_EQ(rules[3], (ProxyFilterRule{false, true, *Prefix::parse("10.9.0.0/16")}));
    EXPECT_EQ(rules[4], (ProxyFilterRule{true, false, *Prefix::parse("ff0e::/16")}));
    EXPECT_EQ(rules[5], (ProxyFilterRule{false, true, *Prefix::parse("0.0.0.0/0")}));
    EXPECT_TRUE(p.proxy.filter.allows_group(*IpAddr::parse("239.1.2.3")));
    EXPECT_FALSE(p.proxy.filter.allows_group(*IpAddr::parse("239.255.1.1")));
    EXPECT_FALSE(p.proxy.filter.allows_group(*IpAddr::parse("225.1.2.3")));
    EXPECT_TRUE(p.proxy.filter.allows_source(*IpAddr::parse("10.1.1.1")));
    EXPECT_FALSE(p.proxy.filter.allows_source(*IpAddr::parse("10.9.1.1")));

    EXPECT_EQ(proxy_error("phyint eth1 downstream allow 10.0.0.0/8"),
              "test.conf:1:30: error: phyint eth1: allow 10.0.0.0/8 is not a multicast prefix");
    EXPECT_EQ(proxy_error("phyint eth1 downstream deny 224.0.0.0/3"),
              "test.conf:1:29: error: phyint eth1: deny 224.0.0.0/3 is not a multicast prefix");
    EXPECT_EQ(proxy_error("phyint eth1 downstream allow fe80::/10"),
              "test.conf:1:30: error: phyint eth1: allow fe80::/10 is not a multicast prefix");
    proxy_line("phyint eth1 downstream allow 224.0.0.0/4 deny ff00::/8");
    EXPECT_EQ(proxy_error("phyint eth1 downstream allow-source 239.1.1.1"),
              "test.conf:1:37: error: phyint eth1: allow-source 239.1.1.1 is not a unicast prefix");
    EXPECT_EQ(proxy_error("phyint eth1 downstream deny-source ff0e::/16"),
              "test.conf:1:36: error: phyint eth1: deny-source ff0e::/16 is not a unicast prefix");
    EXPECT_EQ(proxy_error("phyint eth1 downstream allow 239.x"),
              "test.conf:1:30: error: allow: invalid address '239.x'");
    EXPECT_EQ(proxy_error("phyint eth1 downstream allow 239.0.0.0/33"),
              "test.conf:1:30: error: allow: prefix length 33 out of range 0-32 for IPv4 in '239.0.0.0/33'");
    EXPECT_EQ(proxy_error("phyint eth1 downstream allow 239.1.0.0/16 deny 239.1.0.0/16"),
              "test.conf:1:48: error: deny 239.1.0.0/16 conflicts with allow 239.1.0.0/16 on this line");
    EXPECT_EQ(proxy_error("phyint eth1 downstream deny-source 10.0.0.0/8 allow-source 10.0.0.0/8"),
              "test.conf:1:60: error: allow-source 10.0.0.0/8 conflicts with deny-source 10.0.0.0/8 on this line");
    // A group and a source prefix are different rules.
    proxy_line("phyint eth1 downstream allow 239.0.0.0/8 deny-source 10.0.0.0/8 deny-source 10.0.0.0/9");
    // The same verdict twice: a warning, one rule kept.
    auto twice = parse("phyint eth1 downstream allow 239.0.0.0/8 allow 239.0.0.0/8");
    EXPECT_EQ(first_line(twice), "test.conf:1:48: warning: allow 239.0.0.0/8 repeated on this line");
    ASSERT_EQ(twice.config.phyints.size(), 1u);
    EXPECT_EQ(twice.config.phyints[0].spec.proxy.filter.rules.size(), 1u);
    // A prefix of the family the line leaves out.
    EXPECT_EQ(proxy_error("phyint eth1 downstream mld allow 239.0.0.0/8"),
              "test.conf:1:28: error: phyint eth1: allow 239.0.0.0/8 is IPv4, but the line says mld");
    EXPECT_EQ(proxy_error("phyint eth1 downstream igmp deny-source fc00::/7"),
              "test.conf:1:29: error: phyint eth1: deny-source fc00::/7 is IPv6, but the line says igmp");
}

TEST(ConfigProxy, SeveralLinesForOneInterfaceStaySeparate)
{
    // The parser keeps each line; the judge (model/config_judge) refuses two
    // roles of one name and family. One line per family is how an interface
    // gets different settings for IGMP and MLD.
    auto r = parse("phyint eth1 downstream igmp robustness 3\n"
                   "phyint eth1 downstream mld robustness 4\n"
                   "phyint eth1 ttl-threshold 5\n");
    EXPECT_EQ(all(r), "");
    ASSERT_EQ(r.config.phyints.size(), 3u);
    std::vector<PhyintSpec> specs;
    for (const auto& p : r.config.phyints)
        specs.push_back(p.spec);
    const PhyintSpec* v4 = proxy_phyint(specs, "eth1", Family::inet);
    const PhyintSpec* v6 = proxy_phyint(specs, "eth1", Family::inet6);
    ASSERT_TRUE(v4 && v6);
    EXPECT_EQ(v4->proxy.querier.robustness, 3u);
    EXPECT_EQ(v6->proxy.querier.robustness, 4u);
    EXPECT_EQ(proxy_phyint(specs, "eth2", Family::inet), nullptr);
}

TEST(ConfigProxy, ExactNameBeatsWildcardLongestWildcardBeatsShorter)
{
    auto r = parse("phyint eth+ downstream robustness 3\n"
                   "phyint eth1+ downstream robustness 4\n"
                   "phyint eth10 downstream robustness 5\n"
                   "phyint eth0 upstream\n");
    ASSERT_EQ(all(r), "");
    std::vector<PhyintSpec> specs;
    for (const auto& p : r.config.phyints)
        specs.push_back(p.spec);
    EXPECT_EQ(proxy_phyint(specs, "eth10", Family::inet)->proxy.querier.robustness, 5u);
    EXPECT_EQ(proxy_phyint(specs, "eth11", Family::inet)->proxy.querier.robustness, 4u);
    EXPECT_EQ(proxy_phyint(specs, "eth2", Family::inet6)->proxy.querier.robustness, 3u);
    EXPECT_EQ(proxy_phyint(specs, "eth0", Family::inet)->proxy.role, ProxyRole::upstream);
    EXPECT_EQ(proxy_phyint(specs, "wlan0", Family::inet), nullptr);
}

TEST(ConfigProxy, ShowConfigTextParsesBackToTheSameSpecs)
{
    const std::string text
        = "phyint eth0 enable upstream igmp\n"
          "phyint eth9 enable upstream mld\n"
          "phyint eth1 enable downstream\n"
          "phyint eth+ enable mrdisc ttl-threshold 3 downstream mld fast-leave allow ff0e::/16 deny ff0e::1:0/112 "
          "allow-source fc00::/7 deny-source fc00::1 mld-version 1 robustness 3 query-interval 60.5 "
          "query-response-interval 0.25 last-member-query-interval 1.5 last-member-query-count 2 "
          "startup-query-interval 7.125 startup-query-count 1\n"
          "phyint eth2 enable downstream igmp igmp-version 2 query-response-interval 25.5 "
          "last-member-query-interval 0.1\n";
    auto r = parse(text);
    ASSERT_EQ(all(r), "");
    std::string written;
    for (const auto& p : r.config.phyints)
        written += phyint_line(p.spec) + "\n";
    EXPECT_EQ(written, text); // only non-default values are written, in one order
    auto back = parse(written);
    ASSERT_EQ(all(back), "");
    ASSERT_EQ(back.config.phyints.size(), r.config.phyints.size());
    for (size_t i = 0; i < r.config.phyints.size(); ++i)
        EXPECT_EQ(back.config.phyints[i].spec, r.config.phyints[i].spec) << i;
    // Defaults written out parse to the same spec as none written.
    auto explicit_defaults = parse("phyint eth1 downstream igmp-version 3 mld-version 2 robustness 2 query-interval 125 "
                                   "query-response-interval 10 last-member-query-interval 1\n");
    ASSERT_EQ(explicit_defaults.config.phyints.size(), 1u);
    EXPECT_EQ(phyint_line(explicit_defaults.config.phyints[0].spec), "phyint eth1 enable downstream");
}

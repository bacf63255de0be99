// Unit tests for base/table: column alignment and escaping for a terminal
// (JSON escaping: json_test).
#include "smcroute/base/table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace smcroute {
namespace {

std::vector<std::string> render(const Table& t, bool headings)
{
    std::vector<std::string> lines;
    t.render(headings, [&](std::string_view l) { lines.emplace_back(l); });
    return lines;
}

TEST(TableTest, AlignsColumnsToLongestValue)
{
    Table t({"ROUTE", "IIF", "OIFS"});
    t.add({"(10.0.0.1, 225.1.2.3)", "eth0", "eth1 eth2"});
    t.add({"(*, 225.1.2.0/24)", "veth100", "eth1"});
    auto lines = render(t, true);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "ROUTE                  IIF      OIFS");
    EXPECT_EQ(lines[1], "(10.0.0.1, 225.1.2.3)  eth0     eth1 eth2");
    EXPECT_EQ(lines[2], "(*, 225.1.2.0/24)      veth100  eth1");
}

TEST(TableTest, HeadingWiderThanValues)
{
    Table t({"INDEX", "PHYINT", "VIF"});
    t.add({"1", "lo", "-"});
    t.add({"12", "eth0", "0"});
    auto with = render(t, true);
    ASSERT_EQ(with.size(), 3u);
    EXPECT_EQ(with[0], "INDEX  PHYINT  VIF");
    EXPECT_EQ(with[1], "1      lo      -");
    EXPECT_EQ(with[2], "12     eth0    0");
    // Without headings the widths come from the rows alone.
    auto without = render(t, false);
    ASSERT_EQ(without.size(), 2u);
    EXPECT_EQ(without[0], "1   lo    -");
    EXPECT_EQ(without[1], "12  eth0  0");
}

TEST(TableTest, NoTrailingSpaces)
{
    Table t({"A", "B", "C"});
    t.add({"x", "", ""});          // empty trailing cells
    t.add({"longer", "yy", ""});   // empty last cell
    t.add({"z", "", "last"});      // empty middle cell
    t.add({"w"});                  // short row
    t.add({"trail ", "b ", "c  "}); // cells that end in spaces themselves
    for (bool headings : {true, false}) {
        auto lines = render(t, headings);
        ASSERT_EQ(lines.size(), headings ? 6u : 5u);
        for (const auto& l : lines) {
            EXPECT_FALSE(l.empty()) << "a row with a first cell is not blank";
            EXPECT_NE(l.back(), ' ') << "'" << l << "'";
        }
    }
    auto lines = render(t, true);
    EXPECT_EQ(lines[1], "x");
    EXPECT_EQ(lines[2], "longer  yy");
    EXPECT_EQ(lines[3], "z           last");
    EXPECT_EQ(lines[4], "w");
}

TEST(TableTest, EmptyTable)
{
    Table t({"A", "B"});
    EXPECT_TRUE(t.empty());
    EXPECT_TRUE(render(t, false).empty());
    auto lines = render(t, true);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "A  B");
    t.add({"1", "2"});
    EXPECT_FALSE(t.empty());
}

TEST(TableTest, SlicesRenderAsTheWhole)
{
    Table t({"ROUTE", "IIF", "OIFS"});
    for (int i = 0; i < 50; ++i)
        t.add({std::string(static_cast<size_t>(i % 13), 'k'), i % 5 ? "eth0" : "veth-long", i % 3 ? "a b" : ""});
    EXPECT_EQ(t.size(), 50u);
    for (bool headings : {true, false}) {
        auto whole = render(t, headings);
        std::vector<std::string> pieces;
        auto emit = [&](std::string_view l) { pieces.emplace_back(l); };
        if (headings)
            t.render_heading(emit);
        for (size_t first = 0; first < t.size(); first += 7)
            t.render_rows(first, 7, headings, emit);
        EXPECT_EQ(pieces, whole);
    }
    // Out of range slices are empty or clipped.
    std::vector<std::string> tail;
    t.render_rows(48, 100, false, [&](std::string_view l) { tail.emplace_back(l); });
    EXPECT_EQ(tail.size(), 2u);
    t.render_rows(50, 1, false, [&](std::string_view l) { tail.emplace_back(l); });
    t.render_rows(1000, 1, false, [&](std::string_view l) { tail.emplace_back(l); });
    EXPECT_EQ(tail.size(), 2u);
}

// Two passes without keeping rows: measure every row, then render each
// alone; the lines are those of the table that keeps its rows, and nothing
// is kept.
TEST(TableTest, MeasuredRowsRenderAsTheWhole)
{
    Table kept({"ROUTE", "IIF", "OIFS"});
    Table streamed({"ROUTE", "IIF", "OIFS"});
    auto cells = [](int i) {
        return std::array<std::string, 3>{std::string(static_cast<size_t>(i % 13), 'k'),
                                          i % 5 ? "eth0" : "veth-long", i % 3 ? "a b" : ""};
    };
    for (int i = 0; i < 50; ++i) {
        auto c = cells(i);
        kept.add({c[0], c[1], c[2]});
        streamed.measure({c[0], c[1], c[2]});
    }
    EXPECT_TRUE(streamed.empty());
    for (bool headings : {true, false}) {
        std::vector<std::string> lines;
        auto emit = [&](std::string_view l) { lines.emplace_back(l); };
        if (headings)
            streamed.render_heading(emit);
        for (int i = 0; i < 50; ++i) {
            auto c = cells(i);
            streamed.render_row({c[0], c[1], c[2]}, headings, emit);
        }
        EXPECT_EQ(lines, render(kept, headings));
    }
}

// A row wider than what was measured (it changed between the passes) is
// rendered whole: its wide cell pushes the rest of the line to the right.
TEST(TableTest, RowWiderThanMeasuredIsNotCut)
{
    Table t({"ROUTE", "IIF", "OIFS"});
    t.measure({"(1, 2)", "eth0", "x"});
    std::vector<std::string> lines;
    auto emit = [&](std::string_view l) { lines.emplace_back(l); };
    t.render_row({"(1, 2)", "eth0", "x"}, true, emit);
    t.render_row({"(10.0.0.1, 225.1.2.3)", "veth-longer", "y z"}, true, emit);
    t.render_row({"(1, 2)", "eth0", ""}, false, emit);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "(1, 2)  eth0  x");
    EXPECT_EQ(lines[1], "(10.0.0.1, 225.1.2.3)  veth-longer  y z");
    EXPECT_EQ(lines[2], "(1, 2)  eth0");
}

TEST(TableTest, VectorAndListRowsAreTheSame)
{
    Table a({"A", "B"}), b({"A", "B"});
    std::vector<std::string> row{"one", "two"};
    a.add(row);
    b.add({"one", "two"});
    std::string s1 = "x", s2 = "longer";
    a.add(std::vector<std::string>{s1, s2});
    b.add({s1, s2});
    EXPECT_EQ(render(a, true), render(b, true));
    EXPECT_EQ(render(a, true)[2], "x    longer");
}

TEST(TableTest, RowsAreStoredCompactly)
{
    Table t({"ROUTE (S,G)", "IIF", "STATE", "OIFS"});
    for (int i = 0; i < 10000; ++i)
        t.add({"(10.1.2.3, 225.1.2.3)", "eth0", "active", "eth1 eth2"});
    // 39 bytes of text and 4 bounds per row (up to twice that in spare
    // capacity): far less than a std::string per cell, which alone is 4 x 32
    // bytes before the heap copy of the key.
    EXPECT_LT(t.memory(), 10000u * 120);
}

TEST(Table, TerminalEscape)
{
    EXPECT_FALSE(needs_terminal_escape("eth0 225.1.2.3\tcaf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80"));
    EXPECT_EQ(terminal_escape("eth0\tcaf\xc3\xa9"), "eth0\tcaf\xc3\xa9");
    const std::pair<std::string, std::string> cases[] = {
        {"\x1b[2J", "\\x1b[2J"},
        {"a\nb\rc", "a\\x0ab\\x0dc"},
        {std::string("n\0ul", 4), "n\\x00ul"},
        {"del\x7f", "del\\x7f"},
        {"csi\xc2\x9b" "1m", "csi\\xc2\\x9b1m"},       // U+009B
        {"lone\x9b" "1m", "lone\\x9b1m"},               // 8-bit CSI
        {"bad\xc3", "bad\\xc3"},                       // truncated sequence
        {"over\xc0\xaf", "over\\xc0\\xaf"},          // overlong '/'
        {"sur\xed\xa0\x80", "sur\\xed\\xa0\\x80"}, // UTF-16 surrogate
        {"hi\xf5\x80\x80\x80", "hi\\xf5\\x80\\x80\\x80"},
    };
    for (const auto& [in, want] : cases) {
        EXPECT_TRUE(needs_terminal_escape(in)) << want;
        EXPECT_EQ(terminal_escape(in), want);
    }
}

} // namespace
} // namespace smcroute

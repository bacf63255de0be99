// model/config_diagnostics: located diagnostics built from a line, their
// text, and words quoted in messages.
#include "smcroute/model/config_diagnostics.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace smcroute;

TEST(ConfigDiagnostics, AShortLineIsKeptWhole)
{
    Diagnostic d = diagnostic_at("a.conf", 4, 8, Severity::error, "bad word", "mroute bad");
    EXPECT_EQ(d.file, "a.conf");
    EXPECT_EQ(d.line, 4u);
    EXPECT_EQ(d.col, 8u);
    EXPECT_EQ(d.severity, Severity::error);
    EXPECT_EQ(d.source_line, "mroute bad");
    EXPECT_EQ(d.source_offset, 0u);
    EXPECT_EQ(d.line_length, 0u);
    EXPECT_TRUE(d.include_chain.empty());
    EXPECT_EQ(d.format(), "a.conf:4:8: error: bad word\n"
                          "  mroute bad\n"
                          "         ^");
}

TEST(ConfigDiagnostics, ALongLineKeepsAnExcerptThatShowsTheSame)
{
    std::string line(3000, 'x');
    line[1999] = 'Y';
    for (unsigned col : {1u, 600u, 2000u, 3000u, 3001u}) {
        Diagnostic d = diagnostic_at("a.conf", 1, col, Severity::warning, "here", line);
        EXPECT_LE(d.source_line.size(), 1024u) << col;
        EXPECT_EQ(d.line_length, line.size()) << col;
        Diagnostic whole = d;
        whole.source_line = line;
        whole.source_offset = 0;
        whole.line_length = 0;
        EXPECT_EQ(d.format(), whole.format()) << col;
    }
    Diagnostic at_y = diagnostic_at("a.conf", 1, 2000, Severity::warning, "here", line);
    std::string text = at_y.format();
    std::string shown = text.substr(text.find('\n') + 3);
    shown = shown.substr(0, shown.find('\n'));
    std::string caret = text.substr(text.rfind('\n') + 3);
    EXPECT_EQ(shown[caret.size() - 1], 'Y');
}

TEST(ConfigDiagnostics, ControlBytesAreHarmless)
{
    Diagnostic d = diagnostic_at("a.conf", 2, 1, Severity::error, "bad \x1b[2J", "\x1b[2J\tz");
    EXPECT_EQ(d.format(), "a.conf:2:1: error: bad ?[2J\n"
                          "  ?[2J\tz\n"
                          "  ^");
}

TEST(ConfigDiagnostics, QuoteWord)
{
    EXPECT_EQ(quote_word("sorce"), "'sorce'");
    EXPECT_EQ(quote_word("a\x01z\x7f"), "'a\\x01z\\x7f'");
    EXPECT_EQ(quote_word(std::string(70, 'w')), "'" + std::string(64, 'w') + "...'");
    EXPECT_EQ(quote_word(""), "''");
}

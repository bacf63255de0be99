// Unit tests for base/words: splitting on white space, comments.
#include "smcroute/base/words.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace smcroute {
namespace {

using Words = std::vector<std::string_view>;

TEST(WordsTest, SplitsOnEveryKindOfSpace)
{
    EXPECT_EQ(split_words(""), Words{});
    EXPECT_EQ(split_words(" \t\r\n\v\f "), Words{});
    EXPECT_EQ(split_words("add eth0 225.1.2.3 eth1"), (Words{"add", "eth0", "225.1.2.3", "eth1"}));
    EXPECT_EQ(split_words("  a\t\tb\r\nc\vd\fe  "), (Words{"a", "b", "c", "d", "e"}));
}

TEST(WordsTest, WordsAreViewsIntoTheLine)
{
    std::string line = " x yz";
    auto w = split_words(line);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[0].data(), line.data() + 1);
    EXPECT_EQ(w[1].data(), line.data() + 3);
}

TEST(WordsTest, KernelTableLine)
{
    // /proc/net/igmp: a device line and a group line.
    EXPECT_EQ(split_words("2\teth0      :     3      V3"), (Words{"2", "eth0", ":", "3", "V3"}));
    EXPECT_EQ(split_words("\t\t\t\t010000E0     1 0:00000000\t\t0"),
              (Words{"010000E0", "1", "0:00000000", "0"}));
}

TEST(WordsTest, StripComment)
{
    EXPECT_EQ(strip_comment("show routes # all of them"), "show routes ");
    EXPECT_EQ(strip_comment("# only a comment"), "");
    EXPECT_EQ(strip_comment("no comment"), "no comment");
    EXPECT_EQ(strip_comment("a;b", ';'), "a");
    EXPECT_EQ(split_words(strip_comment("kill#now")), Words{"kill"});
}

} // namespace
} // namespace smcroute

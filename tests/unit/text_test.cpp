// Unit tests of base/text: cat() formats like a stream, hex() in lower case.
#include "smcroute/base/text.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace smcroute {
namespace {

template <class... Args>
std::string streamed(const Args&... args)
{
    std::ostringstream out;
    (out << ... << args);
    return out.str();
}

TEST(Cat, FormatsEveryKindOfPieceAsAStreamWould)
{
    std::string s = "str";
    std::string_view sv = "view";
    const char* cp = "ptr";
    char buf[] = "buf";
    uint8_t ttl = 'A'; // a stream prints 8-bit integers as characters
    EXPECT_EQ(cat("a", s, sv, cp, buf, 'c', ttl), streamed("a", s, sv, cp, buf, 'c', ttl));
    EXPECT_EQ(cat(0, -1, INT_MIN, INT_MAX, 42u, uint64_t{UINT64_MAX}, int64_t{INT64_MIN}, short{-7}),
              streamed(0, -1, INT_MIN, INT_MAX, 42u, uint64_t{UINT64_MAX}, int64_t{INT64_MIN}, short{-7}));
    EXPECT_EQ(cat(true, false), "10");
    EXPECT_EQ(cat(true, false), streamed(true, false));
    EXPECT_EQ(cat(1.5, " ", 0.1, " ", 1e20), streamed(1.5, " ", 0.1, " ", 1e20));
    EXPECT_EQ(cat(), "");
    EXPECT_EQ(cat("vif ", 3, " on ", std::string("eth0")), "vif 3 on eth0");
}

TEST(Cat, HexWritesLowerCaseDigits)
{
    EXPECT_EQ(hex(0), "0");
    EXPECT_EQ(hex(0x80), "80");
    EXPECT_EQ(hex(0xdeadBEEFu), "deadbeef");
    EXPECT_EQ(hex(UINT64_MAX), "ffffffffffffffff");
    EXPECT_EQ(cat("flags 0x", hex(0x1c0)), "flags 0x1c0");
}

TEST(Cat, NullCharPointerPrintsNothing)
{
    const char* none = nullptr;
    EXPECT_EQ(cat("a", none, "b"), "ab");
}

TEST(Cat, EmbeddedNulInAStringIsKept)
{
    std::string with_nul("a\0b", 3);
    EXPECT_EQ(cat(with_nul), with_nul);
    EXPECT_EQ(cat(with_nul).size(), 3u);
}

TEST(SpanText, TwoLargestUnits)
{
    EXPECT_EQ(span_text(0), "0s");
    EXPECT_EQ(span_text(59), "59s");
    EXPECT_EQ(span_text(60), "1m00s");
    EXPECT_EQ(span_text(247), "4m07s");
    EXPECT_EQ(span_text(3599), "59m59s");
    EXPECT_EQ(span_text(3600), "1h00m");
    EXPECT_EQ(span_text(7530), "2h05m");
    EXPECT_EQ(span_text(86399), "23h59m");
    EXPECT_EQ(span_text(86400), "1d00h");
    EXPECT_EQ(span_text(90061), "1d01h");
    EXPECT_EQ(span_text(400 * 86400 + 5 * 3600), "400d05h");
}

} // namespace
} // namespace smcroute

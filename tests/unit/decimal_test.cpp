// base/decimal: seconds with up to three decimals <-> milliseconds.
#include "smcroute/base/decimal.hpp"

#include <gtest/gtest.h>

using namespace smcroute;

TEST(Decimal, ParsesWholeAndUpToThreeDecimals)
{
    EXPECT_EQ(parse_thousandths("0"), 0u);
    EXPECT_EQ(parse_thousandths("10"), 10000u);
    EXPECT_EQ(parse_thousandths("0.5"), 500u);
    EXPECT_EQ(parse_thousandths("1.25"), 1250u);
    EXPECT_EQ(parse_thousandths("3174.4"), 3174400u);
    EXPECT_EQ(parse_thousandths("0.001"), 1u);
    EXPECT_EQ(parse_thousandths("007.010"), 7010u);
    EXPECT_EQ(parse_thousandths("999999999999.999"), 999999999999999u);
}

TEST(Decimal, RefusesAnythingElse)
{
    for (const char* bad : {"", ".", "1.", ".5", "1.2345", "-1", "+1", "1e3", " 1", "1 ", "1,5", "0x1", "1.2.3",
                            "1000000000000", "inf", "1.-2"})
        EXPECT_FALSE(parse_thousandths(bad).has_value()) << '"' << bad << '"';
}

TEST(Decimal, WritesTheShortestTextThatReadsBack)
{
    EXPECT_EQ(thousandths_text(0), "0");
    EXPECT_EQ(thousandths_text(500), "0.5");
    EXPECT_EQ(thousandths_text(1250), "1.25");
    EXPECT_EQ(thousandths_text(1), "0.001");
    EXPECT_EQ(thousandths_text(10000), "10");
    EXPECT_EQ(thousandths_text(3174400), "3174.4");
    for (uint64_t v : {0ull, 1ull, 10ull, 99ull, 100ull, 1001ull, 125000ull, 31744000ull, 999999999999999ull})
        EXPECT_EQ(parse_thousandths(thousandths_text(v)), v) << v;
}

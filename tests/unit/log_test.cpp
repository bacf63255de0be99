// Unit tests of base/log: log levels parse (cat() and hex(): text_test.cpp).
#include "smcroute/base/log.hpp"

#include <gtest/gtest.h>

namespace smcroute {
namespace {

TEST(LogLevel, NamesRoundTrip)
{
    for (LogLevel l : {LogLevel::none, LogLevel::err, LogLevel::warning, LogLevel::notice, LogLevel::info,
                       LogLevel::debug}) {
        auto parsed = parse_log_level(log_level_name(l));
        ASSERT_TRUE(parsed.has_value()) << log_level_name(l);
        EXPECT_EQ(*parsed, l);
    }
    EXPECT_FALSE(parse_log_level("loud").has_value());
}

} // namespace
} // namespace smcroute

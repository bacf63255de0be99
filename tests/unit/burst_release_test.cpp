// runtime/burst_release: the heap goes back once after a burst, on the
// first quiet tick, never during the burst and never for a trickle.
#include "smcroute/runtime/burst_release.hpp"

#include <gtest/gtest.h>

namespace smcroute {
namespace {

TEST(BurstRelease, OnceOnTheFirstQuietTickAfterABurst)
{
    BurstRelease b;
    EXPECT_FALSE(b.tick(0)) << "an idle daemon releases nothing";
    EXPECT_FALSE(b.tick(1000)) << "still changing: the burst goes on";
    EXPECT_FALSE(b.tick(2000));
    EXPECT_TRUE(b.tick(2000)) << "quiet after 2000 changes";
    EXPECT_FALSE(b.tick(2000)) << "released already";
    EXPECT_FALSE(b.tick(2000));
}

TEST(BurstRelease, ATrickleIsNoBurstUntilItAddsUpTo256)
{
    BurstRelease b;
    uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
        v += 10;
        EXPECT_FALSE(b.tick(v));
        EXPECT_FALSE(b.tick(v)) << "quiet, but only " << v << " changes since the start";
    }
    v += BurstRelease::burst - 100;
    EXPECT_FALSE(b.tick(v));
    EXPECT_TRUE(b.tick(v)) << v << " changes in all, then quiet";
    v += BurstRelease::burst - 1;
    EXPECT_FALSE(b.tick(v));
    EXPECT_FALSE(b.tick(v)) << "counted from the last release: one short";
    ++v;
    EXPECT_FALSE(b.tick(v));
    EXPECT_TRUE(b.tick(v));
}

} // namespace
} // namespace smcroute

// Unit tests for runtime/vif_table against the fake kernel.
#include "fake_kernel.hpp"

#include "smcroute/runtime/vif_table.hpp"

#include <gtest/gtest.h>

namespace smcroute {
namespace {

using test::FakeKernel;

struct VifTableTest : ::testing::Test {
    VifTableTest() { log.set_level(LogLevel::none); }
    Logger log;
    FakeKernel k4{Family::inet};
    VifTable vifs{k4, log};
};

TEST_F(VifTableTest, AcquireCreatesSlotOnceAndCountsReferences)
{
    auto a = vifs.acquire(7, "eth0", 3);
    ASSERT_TRUE(a) << a.error().message;
    auto b = vifs.acquire(7, "eth0", 3);
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(k4.add_vif_calls, 1u);
    ASSERT_EQ(k4.vifs.size(), 1u);
    EXPECT_EQ(k4.vifs.at(*a).ifindex, 7u);
    EXPECT_EQ(k4.vifs.at(*a).ttl_threshold, 3);
    EXPECT_EQ(vifs.refs(*a), 2u);
    EXPECT_EQ(vifs.ifindex_of(*a), 7u);
    EXPECT_EQ(vifs.vif_of(7), *a);
    EXPECT_EQ(vifs.used(), 1u);

    vifs.release(*a);
    EXPECT_EQ(vifs.refs(*a), 1u);
    EXPECT_EQ(k4.vifs.size(), 1u);
    EXPECT_EQ(k4.del_vif_calls, 0u);

    vifs.release(*a);
    EXPECT_TRUE(k4.vifs.empty());
    EXPECT_EQ(k4.del_vif_calls, 1u);
    EXPECT_EQ(vifs.used(), 0u);
    EXPECT_FALSE(vifs.vif_of(7));
    EXPECT_EQ(vifs.ifindex_of(*a), 0u);
    EXPECT_TRUE(k4.misuse.empty());
}

TEST_F(VifTableTest, FreedSlotIsReused)
{
    auto a = vifs.acquire(1, "a", 1);
    auto b = vifs.acquire(2, "b", 1);
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);
    vifs.release(*a);
    auto c = vifs.acquire(3, "c", 1);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, *a); // lowest free slot
    EXPECT_EQ(k4.vifs.at(*c).ifindex, 3u);
    EXPECT_TRUE(k4.misuse.empty());
}

TEST_F(VifTableTest, ThirtyThirdInterfaceIsAClearError)
{
    for (unsigned i = 1; i <= max_vifs; ++i)
        ASSERT_TRUE(vifs.acquire(i, cat("if", i), 1)) << i;
    EXPECT_EQ(vifs.used(), max_vifs);
    auto r = vifs.acquire(100, "eth33", 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "no free VIF for eth33 (all 32 in use)");
    EXPECT_EQ(vifs.used(), max_vifs);
    EXPECT_EQ(k4.vifs.size(), max_vifs);
    // An interface that already has a slot still gets it.
    EXPECT_TRUE(vifs.acquire(5, "if5", 1));
}

TEST(VifTableV6Test, SaysMifForIpv6)
{
    Logger log;
    log.set_level(LogLevel::none);
    FakeKernel k6{Family::inet6};
    VifTable vifs{k6, log};
    for (unsigned i = 1; i <= max_vifs; ++i)
        ASSERT_TRUE(vifs.acquire(i, cat("if", i), 1));
    auto r = vifs.acquire(100, "eth33", 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "no free MIF for eth33 (all 32 in use)");
}

TEST_F(VifTableTest, KernelRefusalLeavesNoSlot)
{
    k4.fail_add_vif = true;
    auto r = vifs.acquire(4, "eth0", 1);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("cannot add VIF for eth0"), std::string::npos) << r.error().message;
    EXPECT_EQ(vifs.used(), 0u);
    EXPECT_FALSE(vifs.vif_of(4));
    k4.fail_add_vif = false;
    auto ok = vifs.acquire(4, "eth0", 1);
    ASSERT_TRUE(ok);
    EXPECT_EQ(vifs.refs(*ok), 1u);
}

TEST_F(VifTableTest, ForgetAndReleaseAll)
{
    auto a = vifs.acquire(1, "a", 1);
    auto b = vifs.acquire(2, "b", 1);
    ASSERT_TRUE(a && b);
    vifs.forget_ifindex(1);
    EXPECT_FALSE(vifs.vif_of(1));
    EXPECT_EQ(vifs.refs(*a), 0u);
    EXPECT_EQ(vifs.used(), 1u);
    vifs.release(*a); // stale reference: harmless
    EXPECT_EQ(vifs.refs(*b), 1u);
    vifs.forget_ifindex(99); // unknown: harmless
    vifs.release_all();
    EXPECT_EQ(vifs.used(), 0u);
    EXPECT_TRUE(k4.vifs.empty());
    vifs.release(max_vifs + 3); // out of range: harmless
    EXPECT_TRUE(k4.misuse.empty());
}

} // namespace
} // namespace smcroute

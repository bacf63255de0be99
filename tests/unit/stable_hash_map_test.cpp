// Unit tests of base/stable_hash_map: agrees with std::unordered_map under
// random inserts and erases (with good and with colliding hashes), entries
// keep their address, iteration and erase-while-iterating work.
#include "smcroute/base/stable_hash_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>

namespace smcroute {
namespace {

struct GoodHash {
    size_t operator()(uint32_t k) const noexcept { return static_cast<size_t>(k) * 0x9e3779b97f4a7c15ULL; }
};
// Few distinct hashes: long clusters, so deletion has to shift entries back.
struct PoorHash {
    size_t operator()(uint32_t k) const noexcept { return (k % 7) * 0x9e3779b97f4a7c15ULL; }
};

template <class Hash>
void random_ops_agree_with_std(uint32_t key_space, int steps)
{
    StableHashMap<uint32_t, std::string, Hash> m;
    std::unordered_map<uint32_t, std::string> ref;
    std::map<uint32_t, const void*> where; // address given out at insert
    std::mt19937 rng(12345);
    for (int step = 0; step < steps; ++step) {
        uint32_t k = rng() % key_space;
        if (rng() % 3 != 0) {
            auto [it, inserted] = m.try_emplace(k);
            ASSERT_EQ(inserted, ref.count(k) == 0) << "step " << step;
            if (inserted) {
                it->second = std::to_string(k);
                ref[k] = it->second;
                where[k] = &*it;
            }
            ASSERT_EQ(static_cast<const void*>(&*it), where[k]) << "entry moved, step " << step;
        } else {
            auto it = m.find(k);
            ASSERT_EQ(it != m.end(), ref.count(k) == 1) << "step " << step;
            if (it != m.end()) {
                m.erase(it);
                ref.erase(k);
                where.erase(k);
            }
        }
        ASSERT_EQ(m.size(), ref.size());
        if (step % 97 == 0)
            for (const auto& [rk, rv] : ref) {
                auto it = m.find(rk);
                ASSERT_NE(it, m.end()) << rk;
                ASSERT_EQ(it->second, rv);
                ASSERT_EQ(static_cast<const void*>(&*it), where[rk]) << "entry moved";
            }
    }
    size_t seen = 0;
    for (const auto& [k, v] : m) {
        ASSERT_EQ(ref.at(k), v);
        ++seen;
    }
    EXPECT_EQ(seen, ref.size());
}

TEST(StableHashMap, AgreesWithStdUnderRandomOperations)
{
    random_ops_agree_with_std<GoodHash>(5000, 40000);
}

TEST(StableHashMap, AgreesWithStdWhenHashesCollide)
{
    random_ops_agree_with_std<PoorHash>(300, 20000);
}

TEST(StableHashMap, ReserveThenFillKeepsEveryEntryFindable)
{
    StableHashMap<uint32_t, int, GoodHash> m;
    m.reserve(100000);
    for (uint32_t k = 0; k < 100000; ++k)
        m.try_emplace(k).first->second = static_cast<int>(k) * 2;
    ASSERT_EQ(m.size(), 100000u);
    for (uint32_t k = 0; k < 100000; ++k) {
        auto it = m.find(k);
        ASSERT_NE(it, m.end());
        ASSERT_EQ(it->second, static_cast<int>(k) * 2);
    }
    EXPECT_EQ(m.find(100000), m.end());
}

TEST(StableHashMap, EraseWhileIteratingVisitsEveryEntryOnce)
{
    StableHashMap<uint32_t, int, PoorHash> m;
    for (uint32_t k = 0; k < 1000; ++k)
        m.try_emplace(k);
    std::set<uint32_t> erased;
    for (auto it = m.begin(); it != m.end();) {
        EXPECT_TRUE(erased.insert(it->first).second) << it->first;
        it = m.erase(it);
    }
    EXPECT_EQ(erased.size(), 1000u);
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.begin(), m.end());
    // Usable again after it emptied.
    m.try_emplace(7).first->second = 70;
    EXPECT_EQ(m.find(7)->second, 70);
    EXPECT_EQ(m.size(), 1u);
}

TEST(StableHashMap, ErasedCellsAreReusedAndDestroyValues)
{
    auto counter = std::make_shared<int>(0);
    {
        StableHashMap<uint32_t, std::shared_ptr<int>, GoodHash> m;
        for (uint32_t k = 0; k < 10; ++k)
            m.try_emplace(k).first->second = counter;
        EXPECT_EQ(counter.use_count(), 11);
        m.erase(m.find(3));
        EXPECT_EQ(counter.use_count(), 10);
        const void* before = nullptr;
        for (const auto& e : m)
            if (e.first == 9)
                before = &e;
        m.try_emplace(42).first->second = counter; // takes cell of 3
        EXPECT_EQ(m.size(), 10u);
        EXPECT_EQ(static_cast<const void*>(&*m.find(9)), before);
        m.clear();
        EXPECT_EQ(counter.use_count(), 1);
        EXPECT_TRUE(m.empty());
        for (uint32_t k = 0; k < 5; ++k)
            m.try_emplace(k).first->second = counter;
    } // the destructor destroys what is left
    EXPECT_EQ(counter.use_count(), 1);
}

TEST(StableHashMap, ConstLookupAndIteration)
{
    StableHashMap<uint32_t, int, GoodHash> m;
    m.try_emplace(1).first->second = 10;
    m.try_emplace(2).first->second = 20;
    const auto& c = m;
    EXPECT_EQ(c.find(2)->second, 20);
    EXPECT_EQ(c.find(3), c.end());
    int sum = 0;
    for (const auto& [k, v] : c)
        sum += v;
    EXPECT_EQ(sum, 30);
}

} // namespace
} // namespace smcroute

// tests/unit/loop_time: lets time pass for an EventLoop on a ManualClock,
// 1 ms at a time, the loop running without waiting at each step, so that
// every timer fires at the step it is due (never early, at most 1 ms late).
// No real time passes: what a test waits for in real time (a socket, a
// child) it waits for with a real-time bound of its own.
#pragma once

#include "smcroute/base/clock.hpp"
#include "smcroute/runtime/event_loop.hpp"

#include <algorithm>
#include <chrono>
#include <gtest/gtest.h>

namespace smcroute::test {

// Let d pass.
inline void let_pass(EventLoop& loop, ManualClock& clock, Clock::duration d)
{
    using std::chrono::milliseconds;
    for (auto left = d; left > Clock::duration::zero(); left -= milliseconds(1)) {
        EXPECT_TRUE(loop.run_once(milliseconds(0)).ok());
        clock.advance(std::min<Clock::duration>(left, milliseconds(1)));
    }
    EXPECT_TRUE(loop.run_once(milliseconds(0)).ok());
}

// Let time pass until pred(), at most limit; pred() at the end.
template <class Pred>
bool let_pass_until(EventLoop& loop, ManualClock& clock, Clock::duration limit, Pred pred)
{
    using std::chrono::milliseconds;
    auto end = clock.now() + limit;
    EXPECT_TRUE(loop.run_once(milliseconds(0)).ok());
    while (!pred() && clock.now() < end) {
        clock.advance(milliseconds(1));
        EXPECT_TRUE(loop.run_once(milliseconds(0)).ok());
    }
    return pred();
}

} // namespace smcroute::test

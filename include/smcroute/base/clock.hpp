// base/clock: where "now" comes from. Clock is read for every deadline, timer
// and rate limit on the monotonic time line; SteadyClock is the real one,
// ManualClock a clock that moves only when told (tests). Knows nothing of
// what is timed, and never sleeps.
#pragma once

#include <atomic>
#include <chrono>

namespace smcroute {

class Clock {
public:
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    virtual ~Clock() = default;
    virtual time_point now() const = 0;
};

// std::chrono::steady_clock.
class SteadyClock final : public Clock {
public:
    time_point now() const override { return std::chrono::steady_clock::now(); }
};

// Stands still until advance(). Starts well away from the epoch, so a
// default time_point{} ("never") is always in its past. Safe to read and
// advance from different threads.
class ManualClock final : public Clock {
public:
    explicit ManualClock(time_point start = time_point(std::chrono::hours(24))) : ticks_(start.time_since_epoch().count())
    {
    }
    time_point now() const override { return time_point(duration(ticks_.load())); }
    void advance(duration by) { ticks_ += by.count(); }

private:
    std::atomic<duration::rep> ticks_;
};

} // namespace smcroute

#include "smcroute/runtime/event_loop.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace smcroute;
using namespace std::chrono_literals;

namespace {

struct Pipe {
    UniqueFd r, w;
    Pipe()
    {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
        r.reset(fds[0]);
        w.reset(fds[1]);
    }
    void put() { EXPECT_EQ(::write(w.get(), "x", 1), 1); }
};

// Run iterations until pred() or, waiting for a real event, a generous
// real-time bound.
template <class Pred>
bool run_until(EventLoop& loop, Pred pred, std::chrono::steady_clock::duration limit = 2s)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        Status s = loop.run_once(10ms);
        EXPECT_TRUE(s.ok());
    }
    return pred();
}

} // namespace

TEST(EventLoop, ReadableFdDispatches)
{
    EventLoop loop;
    Pipe p;
    int calls = 0;
    short seen = 0;
    loop.watch(p.r.get(), POLLIN, [&](short revents) {
        ++calls;
        seen = revents;
        char c;
        EXPECT_EQ(::read(p.r.get(), &c, 1), 1);
    });
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(calls, 0);
    p.put();
    ASSERT_TRUE(loop.run_once(1s).ok());
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(seen & POLLIN);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(calls, 1);
}

TEST(EventLoop, HighDescriptorNumbersWork)
{
    // select() could not watch this; poll() can.
    EventLoop loop;
    Pipe p;
    int high = ::fcntl(p.r.get(), F_DUPFD_CLOEXEC, 2000);
    if (high < 0)
        GTEST_SKIP() << "cannot dup to a descriptor above 2000";
    UniqueFd hfd(high);
    bool called = false;
    loop.watch(hfd.get(), POLLIN, [&](short) { called = true; });
    p.put();
    ASSERT_TRUE(loop.run_once(1s).ok());
    EXPECT_TRUE(called);
}

TEST(EventLoop, UnwatchSelfDuringDispatch)
{
    EventLoop loop;
    Pipe p;
    int calls = 0;
    std::string captured = "keeps the closure alive";
    loop.watch(p.r.get(), POLLIN, [&, captured](short) {
        ++calls;
        loop.unwatch(p.r.get());
        // The closure must still be intact after unwatching itself.
        EXPECT_EQ(captured, "keeps the closure alive");
    });
    p.put();
    ASSERT_TRUE(loop.run_once(1s).ok());
    ASSERT_TRUE(loop.run_once(20ms).ok());
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(loop.watching(p.r.get()));
}

TEST(EventLoop, HandlerRemovedByEarlierHandlerIsNotCalled)
{
    EventLoop loop;
    Pipe a, b;
    int a_calls = 0, b_calls = 0;
    // Whichever runs first removes the other; exactly one must run.
    loop.watch(a.r.get(), POLLIN, [&](short) {
        ++a_calls;
        loop.unwatch(b.r.get());
    });
    loop.watch(b.r.get(), POLLIN, [&](short) {
        ++b_calls;
        loop.unwatch(a.r.get());
    });
    a.put();
    b.put();
    ASSERT_TRUE(loop.run_once(1s).ok());
    EXPECT_EQ(a_calls + b_calls, 1);
}

TEST(EventLoop, HandlerReplacedDuringDispatchGetsNoStaleEvents)
{
    EventLoop loop;
    Pipe a, b;
    int old_calls = 0, new_calls = 0, a_calls = 0;
    loop.watch(a.r.get(), POLLIN, [&](short) {
        ++a_calls;
        // Replace b's handler (as when a descriptor number is reused).
        loop.watch(b.r.get(), POLLIN, [&](short) { ++new_calls; });
        loop.unwatch(a.r.get());
    });
    loop.watch(b.r.get(), POLLIN, [&](short) {
        ++old_calls;
        loop.unwatch(a.r.get());
    });
    a.put();
    b.put();
    ASSERT_TRUE(loop.run_once(1s).ok());
    if (a_calls == 1) {
        // a ran first: the old b handler must not run, nor the new one with
        // revents from the poll that preceded it.
        EXPECT_EQ(old_calls, 0);
        EXPECT_EQ(new_calls, 0);
        ASSERT_TRUE(loop.run_once(1s).ok());
        EXPECT_EQ(new_calls, 1);
    } else {
        EXPECT_EQ(old_calls, 1);
    }
}

TEST(EventLoop, WatchNewFdDuringDispatch)
{
    EventLoop loop;
    Pipe a, b;
    bool b_called = false;
    loop.watch(a.r.get(), POLLIN, [&](short) {
        char c;
        (void)::read(a.r.get(), &c, 1);
        loop.watch(b.r.get(), POLLIN, [&](short) { b_called = true; });
    });
    a.put();
    b.put();
    ASSERT_TRUE(loop.run_once(1s).ok());
    ASSERT_TRUE(run_until(loop, [&] { return b_called; }));
}

TEST(EventLoop, SetEventsSwitchesToWritable)
{
    EventLoop loop;
    Pipe p;
    int writable = 0;
    loop.watch(p.w.get(), 0, [&](short revents) {
        if (revents & POLLOUT)
            ++writable;
    });
    ASSERT_TRUE(loop.run_once(20ms).ok());
    EXPECT_EQ(writable, 0);
    loop.set_events(p.w.get(), POLLOUT);
    ASSERT_TRUE(loop.run_once(1s).ok());
    EXPECT_EQ(writable, 1);
}

TEST(EventLoop, OneShotTimerFiresOnceInOrder)
{
    ManualClock clock;
    EventLoop loop(clock);
    std::vector<int> order;
    loop.after(30ms, [&] { order.push_back(2); });
    loop.after(10ms, [&] { order.push_back(1); });
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_TRUE(order.empty());
    clock.advance(9ms);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_TRUE(order.empty());
    clock.advance(1ms);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(order, (std::vector<int>{1}));
    clock.advance(19ms);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(order, (std::vector<int>{1}));
    clock.advance(1ms);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_EQ(loop.timer_count(), 0u);
    clock.advance(50ms);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(order.size(), 2u);
}

TEST(EventLoop, OneShotTimersDueTogetherFireInOneIteration)
{
    ManualClock clock;
    EventLoop loop(clock);
    std::vector<int> order;
    loop.after(30ms, [&] { order.push_back(2); });
    loop.after(10ms, [&] { order.push_back(1); });
    clock.advance(1s);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(order.size(), 2u);
    EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(EventLoop, RepeatingTimerRearmsAndCancels)
{
    ManualClock clock;
    EventLoop loop(clock);
    int ticks = 0;
    EventLoop::TimerId id = 0;
    id = loop.every(5ms, [&] {
        if (++ticks == 3)
            loop.cancel(id); // cancel itself from inside
    });
    for (int i = 1; i <= 3; ++i) {
        clock.advance(4ms);
        ASSERT_TRUE(loop.run_once(0ms).ok());
        EXPECT_EQ(ticks, i - 1);
        clock.advance(1ms);
        ASSERT_TRUE(loop.run_once(0ms).ok());
        EXPECT_EQ(ticks, i);
    }
    clock.advance(30ms);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(ticks, 3);
    EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(EventLoop, RepeatingTimerThatFellBehindFiresOnceThenAPeriodLater)
{
    ManualClock clock;
    EventLoop loop(clock);
    int ticks = 0;
    loop.every(5ms, [&] { ++ticks; });
    clock.advance(52ms); // ten periods late: one call, no burst
    ASSERT_TRUE(loop.run_once(0ms).ok());
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(ticks, 1);
    clock.advance(4ms);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(ticks, 1);
    clock.advance(1ms);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(ticks, 2);
}

TEST(EventLoop, TimerCancelledByEarlierTimerDoesNotFire)
{
    ManualClock clock;
    EventLoop loop(clock);
    bool second = false;
    EventLoop::TimerId b = 0;
    loop.after(1ms, [&] { loop.cancel(b); });
    b = loop.after(2ms, [&] { second = true; });
    clock.advance(10ms); // both due in the same iteration
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_FALSE(second);
    EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(EventLoop, DueTimerOnAStillClockDoesNotBlock)
{
    // The clock stands still: a due timer must make the wait zero, or
    // run_once would sit in poll() for all of max_wait.
    ManualClock clock;
    EventLoop loop(clock);
    Pipe p; // never readable
    loop.watch(p.r.get(), POLLIN, [](short) {});
    bool fired = false;
    loop.after(1h, [&] { fired = true; });
    clock.advance(1h);
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(loop.run_once(20s).ok());
    EXPECT_TRUE(fired);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(EventLoop, PollWaitsOnlyUntilTheClocksNextDeadline)
{
    // The wait is the gap to the next timer on the loop's clock, not
    // max_wait: run_once returns although this clock never reaches it.
    ManualClock clock;
    EventLoop loop(clock);
    bool fired = false;
    loop.after(20ms, [&] { fired = true; });
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(loop.run_once(20s).ok());
    EXPECT_FALSE(fired);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_EQ(loop.now(), clock.now());
}

TEST(EventLoop, TimerAddedFromTimerRunsLater)
{
    ManualClock clock;
    EventLoop loop(clock);
    int fired = 0;
    loop.after(0ms, [&] {
        ++fired;
        loop.after(0ms, [&] { ++fired; });
    });
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(fired, 1);
    ASSERT_TRUE(loop.run_once(0ms).ok());
    EXPECT_EQ(fired, 2);
}

TEST(EventLoop, RunStopsFromHandler)
{
    ManualClock clock;
    EventLoop loop(clock);
    int ticks = 0;
    loop.every(1ms, [&] {
        clock.advance(1ms); // each tick makes the next one due
        if (++ticks == 5)
            loop.stop();
    });
    clock.advance(1ms);
    ASSERT_TRUE(loop.run().ok());
    EXPECT_EQ(ticks, 5);
}

TEST(EventLoop, RunOnceWaitsForNextTimerOnly)
{
    // The steady clock by default: a real 20 ms timer ends the wait, not
    // max_wait (the bound is half of it: a hang guard, not a speed limit).
    EventLoop loop;
    bool fired = false;
    loop.after(20ms, [&] { fired = true; });
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(loop.run_once(60s).ok());
    EXPECT_TRUE(fired);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

TEST(EventLoop, SignalsArriveThroughSignalfd)
{
    sigset_t old;
    sigprocmask(SIG_SETMASK, nullptr, &old);
    {
        EventLoop loop;
        ASSERT_TRUE(loop.init_signals({SIGUSR1, SIGUSR2}).ok());
        int usr1 = 0, usr2 = 0;
        loop.on_signal(SIGUSR1, [&] { ++usr1; });
        loop.on_signal(SIGUSR2, [&] { ++usr2; });
        // Blocked, so raise() queues it instead of killing the process.
        ASSERT_EQ(::raise(SIGUSR1), 0);
        ASSERT_TRUE(run_until(loop, [&] { return usr1 == 1; }));
        EXPECT_EQ(usr2, 0);
        ASSERT_EQ(::raise(SIGUSR2), 0);
        ASSERT_TRUE(run_until(loop, [&] { return usr2 == 1; }));
        EXPECT_EQ(usr1, 1);

        // A handler may stop the loop.
        loop.on_signal(SIGUSR1, [&] { loop.stop(); });
        ASSERT_EQ(::raise(SIGUSR1), 0);
        ASSERT_TRUE(loop.run().ok());
    }
    sigprocmask(SIG_SETMASK, &old, nullptr);
}

TEST(EventLoop, InterruptedPollIsNotAnError)
{
    // A signal with a real handler interrupts poll() with EINTR.
    struct sigaction sa{}, old_sa{};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(sigaction(SIGALRM, &sa, &old_sa), 0);
    EventLoop loop;
    Pipe p;
    loop.watch(p.r.get(), POLLIN, [](short) {});
    ::ualarm(20000, 0);
    Status s = loop.run_once(500ms);
    EXPECT_TRUE(s.ok());
    sigaction(SIGALRM, &old_sa, nullptr);
}

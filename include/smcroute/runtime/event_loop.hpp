// runtime/event_loop: the daemon's single thread. poll() over registered
// descriptors (any descriptor number), signals via signalfd, and one-shot or
// repeating timers on a Clock (base/clock: the steady clock unless one is
// given, e.g. a ManualClock in tests). Dispatches; owns no policy.
#pragma once

#include "smcroute/base/clock.hpp"
#include "smcroute/base/result.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <sys/types.h>
#include <vector>

namespace smcroute {

// A signal read from the signalfd, with its sender.
struct SignalInfo {
    int signo = 0;
    pid_t pid = 0; // sender (0: the kernel)
    uid_t uid = 0; // sender's real uid
};

class EventLoop {
public:
    using Clock = smcroute::Clock;
    using FdHandler = std::function<void(short revents)>;
    using TimerId = uint64_t;

    // Timers, poll timeouts and now() read the steady clock, or clock (which
    // must outlive the loop). With a clock that stands still, run_once()
    // does not block while a timer is due.
    EventLoop() : clock_(steady_) {}
    explicit EventLoop(const Clock& clock) : clock_(clock) {}
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Block these signals and deliver them through a signalfd to on_signal().
    // One without a handler is read and dropped.
    Status init_signals(const std::vector<int>& signals);
    void on_signal(int signo, std::function<void()> handler);
    void on_signal(int signo, std::function<void(const SignalInfo&)> handler);
    // One of these (blocked) signals waits to be read: lets a long piece of
    // work inside a handler give up early, e.g. when asked to exit.
    static bool signal_pending(const std::vector<int>& signals);

    // Watch fd for events (POLLIN/POLLOUT). Re-watching replaces the handler.
    // Safe to call from inside any handler.
    void watch(int fd, short events, FdHandler handler);
    void set_events(int fd, short events);
    void unwatch(int fd);

    // The loop's time: what modules driven by it read for their own
    // deadlines and rate limits, so that a test clock moves them all.
    Clock::time_point now() const { return clock_.now(); }
    const Clock& clock() const { return clock_; }

    TimerId after(Clock::duration delay, std::function<void()> fn);
    TimerId every(Clock::duration period, std::function<void()> fn);
    void cancel(TimerId id);

    // Dispatch until stop(). Errors only for a failing poll(); EINTR is not one.
    Status run();
    void stop() { running_ = false; }
    // One iteration with a bounded wait; for tests.
    Status run_once(Clock::duration max_wait);

    bool watching(int fd) const { return watches_.count(fd) != 0; }
    size_t timer_count() const { return timers_.size(); }

private:
    // Handlers are shared so that one stays alive while it runs even if it
    // unwatches or cancels itself.
    struct Watch {
        short events;
        std::shared_ptr<FdHandler> handler;
        uint64_t generation;
    };
    struct Timer {
        Clock::time_point due;
        Clock::duration period; // zero: one-shot
        std::shared_ptr<std::function<void()>> fn;
    };
    // wait < 0: until an event or the next timer.
    Status iterate(int wait_ms);
    void handle_signalfd();
    void fire_timers();

    SteadyClock steady_;
    const Clock& clock_;
    std::map<int, Watch> watches_;
    std::map<TimerId, Timer> timers_;
    std::map<int, std::function<void(const SignalInfo&)>> signal_handlers_;
    std::vector<int> signals_;
    UniqueFd signal_fd_;
    TimerId next_timer_ = 1;
    uint64_t generation_ = 0;
    bool running_ = false;
};

} // namespace smcroute

#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/base/log.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <csignal>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace smcroute {

Status EventLoop::init_signals(const std::vector<int>& signals)
{
    for (int signo : signals)
        if (std::find(signals_.begin(), signals_.end(), signo) == signals_.end())
            signals_.push_back(signo);

    sigset_t mask;
    sigemptyset(&mask);
    for (int signo : signals_)
        if (sigaddset(&mask, signo) < 0)
            return os_error(errno, cat("signal ", signo));
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0)
        return os_error(errno, "sigprocmask");

    int fd = signalfd(signal_fd_.valid() ? signal_fd_.get() : -1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return os_error(errno, "signalfd");
    if (!signal_fd_.valid()) {
        signal_fd_.reset(fd);
        watch(fd, POLLIN, [this](short) { handle_signalfd(); });
    }
    return {};
}

void EventLoop::on_signal(int signo, std::function<void()> handler)
{
    if (!handler) {
        signal_handlers_.erase(signo);
        return;
    }
    signal_handlers_[signo] = [fn = std::move(handler)](const SignalInfo&) { fn(); };
}

void EventLoop::on_signal(int signo, std::function<void(const SignalInfo&)> handler)
{
    if (!handler) {
        signal_handlers_.erase(signo);
        return;
    }
    signal_handlers_[signo] = std::move(handler);
}

bool EventLoop::signal_pending(const std::vector<int>& signals)
{
    sigset_t pending;
    if (sigpending(&pending) < 0)
        return false;
    return std::any_of(signals.begin(), signals.end(), [&](int s) { return sigismember(&pending, s) == 1; });
}

void EventLoop::handle_signalfd()
{
    for (;;) {
        signalfd_siginfo info;
        ssize_t n = ::read(signal_fd_.get(), &info, sizeof info);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != static_cast<ssize_t>(sizeof info))
            return; // EAGAIN: drained
        auto it = signal_handlers_.find(static_cast<int>(info.ssi_signo));
        if (it == signal_handlers_.end())
            continue;
        auto fn = it->second; // the handler may replace itself
        fn(SignalInfo{static_cast<int>(info.ssi_signo), static_cast<pid_t>(info.ssi_pid),
                      static_cast<uid_t>(info.ssi_uid)});
    }
}

void EventLoop::watch(int fd, short events, FdHandler handler)
{
    assert(fd >= 0);
    watches_[fd] = Watch{events, std::make_shared<FdHandler>(std::move(handler)), ++generation_};
}

void EventLoop::set_events(int fd, short events)
{
    auto it = watches_.find(fd);
    if (it != watches_.end())
        it->second.events = events;
}

void EventLoop::unwatch(int fd)
{
    watches_.erase(fd);
}

EventLoop::TimerId EventLoop::after(Clock::duration delay, std::function<void()> fn)
{
    TimerId id = next_timer_++;
    timers_.emplace(id, Timer{clock_.now() + delay, Clock::duration::zero(),
                              std::make_shared<std::function<void()>>(std::move(fn))});
    return id;
}

EventLoop::TimerId EventLoop::every(Clock::duration period, std::function<void()> fn)
{
    if (period <= Clock::duration::zero())
        period = std::chrono::milliseconds(1); // a zero period would spin
    TimerId id = next_timer_++;
    timers_.emplace(id, Timer{clock_.now() + period, period,
                              std::make_shared<std::function<void()>>(std::move(fn))});
    return id;
}

void EventLoop::cancel(TimerId id)
{
    timers_.erase(id);
}

void EventLoop::fire_timers()
{
    if (timers_.empty())
        return;
    auto now = clock_.now();
    std::vector<TimerId> due;
    for (const auto& [id, timer] : timers_)
        if (timer.due <= now)
            due.push_back(id);
    // Timers added while these run wait for the next iteration.
    for (TimerId id : due) {
        auto it = timers_.find(id);
        if (it == timers_.end())
            continue; // cancelled by an earlier one
        auto fn = it->second.fn;
        if (it->second.period == Clock::duration::zero()) {
            timers_.erase(it);
        } else {
            it->second.due += it->second.period;
            if (it->second.due <= now) // fell behind: no burst of catch-up calls
                it->second.due = now + it->second.period;
        }
        (*fn)();
    }
}

Status EventLoop::iterate(int wait_ms)
{
    if (!timers_.empty()) {
        auto next = std::min_element(timers_.begin(), timers_.end(), [](const auto& a, const auto& b) {
                        return a.second.due < b.second.due;
                    })->second.due;
        auto now = clock_.now();
        long long ms = 0;
        if (next > now) // round up, so we do not spin until it is due
            ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
        ms = std::min<long long>(ms, INT_MAX);
        if (wait_ms < 0 || ms < wait_ms)
            wait_ms = static_cast<int>(ms);
    }

    std::vector<pollfd> fds;
    std::vector<uint64_t> generations;
    fds.reserve(watches_.size());
    generations.reserve(watches_.size());
    for (const auto& [fd, w] : watches_) {
        fds.push_back(pollfd{fd, w.events, 0});
        generations.push_back(w.generation);
    }

    int n = ::poll(fds.data(), fds.size(), wait_ms);
    if (n < 0) {
        if (errno == EINTR)
            return {};
        return os_error(errno, "poll");
    }

    for (size_t i = 0; n > 0 && i < fds.size(); ++i) {
        if (fds[i].revents == 0)
            continue;
        --n;
        auto it = watches_.find(fds[i].fd);
        // Removed or replaced by an earlier handler of this iteration.
        if (it == watches_.end() || it->second.generation != generations[i])
            continue;
        short revents = fds[i].revents & (it->second.events | POLLERR | POLLHUP | POLLNVAL);
        if (revents == 0)
            continue; // no longer interested (set_events during dispatch)
        auto handler = it->second.handler;
        (*handler)(revents);
    }

    fire_timers();
    return {};
}

Status EventLoop::run()
{
    running_ = true;
    while (running_) {
        if (Status s = iterate(-1); !s)
            return s;
    }
    return {};
}

Status EventLoop::run_once(Clock::duration max_wait)
{
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(std::max(max_wait, Clock::duration::zero())).count();
    return iterate(static_cast<int>(std::min<long long>(ms, INT_MAX)));
}

} // namespace smcroute

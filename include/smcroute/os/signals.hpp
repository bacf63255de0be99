// os/signals: the daemon's signal policy. Names the signals that stop
// it (TERM, INT, QUIT) and the stray ones: those whose default action would
// end or stop it but that mean nothing to it, which are read, logged
// (rate-limited) and otherwise ignored. Fault signals (SEGV, BUS, ILL, FPE,
// ABRT, TRAP, SYS) are never named here: a real crash still crashes.
#pragma once

#include "smcroute/base/clock.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/base/result.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <sys/types.h>
#include <vector>

namespace smcroute {

// SIGTERM, SIGINT, SIGQUIT: remove every route and exit.
std::vector<int> stop_signals();

// Signals whose default terminates (ALRM USR1 USR2 IO PROF VTALRM STKFLT PWR
// XCPU XFSZ, SIGRTMIN..SIGRTMAX) or stops (TSTP TTIN TTOU) the process and
// that the daemon has no use for. SIGPIPE is not among them: the daemon
// ignores it outright, so a write to a closed socket reports EPIPE.
std::vector<int> stray_signals();

// glibc keeps the first two real-time signals (32 and 33) for itself: its
// sigaction() and sigprocmask() refuse them, yet their default (terminate)
// stays until glibc needs them, which a single-threaded program never does,
// so `kill -32` would end the daemon without clean-up. Ignore them through
// the system call itself. Children started with posix_spawn get glibc's own
// setting for them back.
Status ignore_reserved_signals();

// "SIGUSR1", "SIGRTMIN+3", or "signal N".
std::string signal_name(int signo);

// The log of stray signals: "ignored SIGUSR1 from pid 123 (uid 1000)", the
// first at once, then at most one line per period; a logged line counts the
// signals left unlogged before it. Time is read from the steady clock, or
// from clock (e.g. the event loop's), which must outlive the log.
class StraySignalLog {
public:
    using Clock = smcroute::Clock;

    explicit StraySignalLog(Logger& log, Clock::duration period = std::chrono::seconds(10))
        : log_(log), clock_(steady_), period_(period)
    {
    }
    StraySignalLog(Logger& log, const Clock& clock, Clock::duration period = std::chrono::seconds(10))
        : log_(log), clock_(clock), period_(period)
    {
    }
    StraySignalLog(const StraySignalLog&) = delete;
    StraySignalLog& operator=(const StraySignalLog&) = delete;

    void note(int signo, pid_t pid, uid_t uid) { note(signo, pid, uid, clock_.now()); }
    void note(int signo, pid_t pid, uid_t uid, Clock::time_point now);
    size_t unlogged() const { return unlogged_; }

private:
    Logger& log_;
    SteadyClock steady_;
    const Clock& clock_;
    Clock::duration period_;
    Clock::time_point last_{};
    bool logged_ = false;
    size_t unlogged_ = 0;
};

} // namespace smcroute

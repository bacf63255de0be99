// Unit tests for runtime/signals: which signals are stray, that glibc's
// reserved ones can be ignored, and the rate-limited log of stray signals.
#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/os/signals.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace smcroute;
using namespace std::chrono_literals;

namespace {

bool has(const std::vector<int>& v, int s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The mask /proc/self/status shows for `field` ("SigIgn", "SigBlk", ...).
unsigned long long status_mask(const std::string& field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.compare(0, field.size() + 1, field + ":") == 0)
            return std::strtoull(line.c_str() + field.size() + 1, nullptr, 16);
    return 0;
}

} // namespace

TEST(Signals, StraySignalsAreEveryKillingOrStoppingDefaultButFaults)
{
    auto stray = stray_signals();
    for (int s : {SIGALRM, SIGUSR1, SIGUSR2, SIGPOLL, SIGIO, SIGPROF, SIGVTALRM, SIGSTKFLT, SIGPWR, SIGXCPU, SIGXFSZ,
                  SIGTSTP, SIGTTIN, SIGTTOU})
        EXPECT_TRUE(has(stray, s)) << signal_name(s);
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s)
        EXPECT_TRUE(has(stray, s)) << signal_name(s);
    // Faults keep their default, so a real crash still crashes and dumps;
    // the signals the daemon acts on, and those whose default is harmless,
    // are not stray.
    for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE,
                  SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGKILL, SIGSTOP})
        EXPECT_FALSE(has(stray, s)) << signal_name(s);
    EXPECT_EQ(stop_signals(), (std::vector<int>{SIGTERM, SIGINT, SIGQUIT}));

    // Together with the stop signals, SIGHUP, SIGPIPE (ignored) and glibc's
    // two reserved ones, every signal 1..SIGRTMAX whose default ends or
    // stops a process is covered, but the faults and the uncatchable two.
    const std::vector<int> harmless{SIGCHLD, SIGCONT, SIGURG, SIGWINCH};
    const std::vector<int> faults{SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGKILL, SIGSTOP};
    for (int s = 1; s <= SIGRTMAX; ++s) {
        if (has(harmless, s) || has(faults, s) || s == SIGHUP || s == SIGPIPE || has(stop_signals(), s))
            continue;
        if (s >= 32 && s < SIGRTMIN)
            continue; // ignore_reserved_signals()
        EXPECT_TRUE(has(stray, s)) << "signal " << s << " (" << signal_name(s) << ") is not handled";
    }
}

TEST(Signals, Names)
{
    EXPECT_EQ(signal_name(SIGUSR1), "SIGUSR1");
    EXPECT_EQ(signal_name(SIGTSTP), "SIGTSTP");
    EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
    EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
    EXPECT_EQ(signal_name(0), "signal 0");
}

TEST(Signals, ReservedSignalsIgnoredAndSurvived)
{
    // In a child, so this process keeps its dispositions.
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (!ignore_reserved_signals())
            ::_exit(2);
        unsigned long long ign = status_mask("SigIgn");
        if ((ign & (1ULL << 31)) == 0 || (ign & (1ULL << 32)) == 0)
            ::_exit(3);
        ::kill(::getpid(), 32);
        ::kill(::getpid(), 33);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0);

    // Without it, signal 32 ends a glibc program: what the call prevents.
    if (status_mask("SigIgn") & (1ULL << 31))
        GTEST_SKIP() << "signal 32 is already ignored in this process";
    pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::kill(::getpid(), 32);
        ::_exit(0);
    }
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == 32) << status;
}

TEST(Signals, StrayLogIsRateLimited)
{
    Logger log;
    ManualClock clock;
    StraySignalLog stray(log, clock, 10s);
    testing::internal::CaptureStderr();
    stray.note(SIGUSR1, 123, 1000);
    for (int i = 0; i < 500; ++i) {
        clock.advance(std::chrono::milliseconds(1));
        stray.note(SIGRTMIN + 1, 124, 65534);
    }
    EXPECT_EQ(stray.unlogged(), 500u);
    clock.advance(9499ms); // 9.999 s after the first: still inside the period
    stray.note(SIGRTMIN + 1, 124, 65534);
    EXPECT_EQ(stray.unlogged(), 501u);
    clock.advance(1ms);
    stray.note(SIGTSTP, 125, 0);
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "warning: ignored SIGUSR1 from pid 123 (uid 1000)\n"
                   "warning: ignored SIGTSTP from pid 125 (uid 0); 501 more stray signal(s) ignored before it, not "
                   "logged\n");
    EXPECT_EQ(stray.unlogged(), 0u);
}

TEST(Signals, LoopPassesTheSenderAndSeesPendingSignals)
{
    sigset_t old;
    sigprocmask(SIG_SETMASK, nullptr, &old);
    {
        EventLoop loop;
        ASSERT_TRUE(loop.init_signals({SIGUSR1, SIGTERM}).ok());
        SignalInfo got;
        loop.on_signal(SIGUSR1, [&](const SignalInfo& s) { got = s; });
        EXPECT_FALSE(EventLoop::signal_pending({SIGTERM, SIGUSR1}));
        ASSERT_EQ(::raise(SIGUSR1), 0);
        EXPECT_TRUE(EventLoop::signal_pending({SIGTERM, SIGUSR1}));
        EXPECT_FALSE(EventLoop::signal_pending({SIGTERM}));
        for (int i = 0; i < 20 && got.signo == 0; ++i)
            ASSERT_TRUE(loop.run_once(100ms).ok());
        EXPECT_EQ(got.signo, SIGUSR1);
        EXPECT_EQ(got.pid, ::getpid());
        EXPECT_EQ(got.uid, ::getuid());
        EXPECT_FALSE(EventLoop::signal_pending({SIGTERM, SIGUSR1}));

        // A signal with no handler is read and dropped.
        ASSERT_EQ(::raise(SIGTERM), 0);
        EXPECT_TRUE(EventLoop::signal_pending({SIGTERM}));
        ASSERT_TRUE(loop.run_once(100ms).ok());
        EXPECT_FALSE(EventLoop::signal_pending({SIGTERM}));
    }
    sigprocmask(SIG_SETMASK, &old, nullptr);
}

#include "smcroute/os/signals.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/syscall.h>
#include <unistd.h>

namespace smcroute {

std::vector<int> stop_signals()
{
    return {SIGTERM, SIGINT, SIGQUIT};
}

std::vector<int> stray_signals()
{
    std::vector<int> out{SIGALRM, SIGUSR1, SIGUSR2, SIGIO,   SIGPROF, SIGVTALRM, SIGPWR,
                         SIGXCPU, SIGXFSZ, SIGTSTP, SIGTTIN, SIGTTOU};
#ifdef SIGSTKFLT
    out.push_back(SIGSTKFLT);
#endif
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s)
        out.push_back(s);
    return out;
}

namespace {

// The kernel's struct sigaction for rt_sigaction(2). Only SIG_IGN is ever
// set, with no flags, restorer or mask, so the zeroed tail also fits the
// architectures whose struct has no sa_restorer. MIPS puts the flags first.
struct KernelSigaction {
#if defined(__mips__)
    unsigned int flags;
    void (*handler)(int);
#else
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
#endif
    unsigned char mask[_NSIG / 8];
};

} // namespace

Status ignore_reserved_signals()
{
    for (int signo = 32; signo < SIGRTMIN; ++signo) {
        KernelSigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.handler = SIG_IGN;
        if (::syscall(SYS_rt_sigaction, signo, &sa, nullptr, sizeof sa.mask) != 0)
            return os_error(errno, cat("cannot ignore signal ", signo));
    }
    return {};
}

std::string signal_name(int signo)
{
    if (signo >= SIGRTMIN && signo <= SIGRTMAX)
        return signo == SIGRTMIN ? std::string("SIGRTMIN") : cat("SIGRTMIN+", signo - SIGRTMIN);
    const char* abbrev = ::sigabbrev_np(signo);
    return abbrev ? cat("SIG", abbrev) : cat("signal ", signo);
}

void StraySignalLog::note(int signo, pid_t pid, uid_t uid, Clock::time_point now)
{
    if (logged_ && now - last_ < period_) {
        ++unlogged_;
        return;
    }
    std::string line = cat("ignored ", signal_name(signo), " from pid ", pid, " (uid ", uid, ")");
    if (unlogged_ > 0)
        line += cat("; ", unlogged_, " more stray signal(s) ignored before it, not logged");
    log_.warning(line);
    logged_ = true;
    last_ = now;
    unlogged_ = 0;
}

} // namespace smcroute

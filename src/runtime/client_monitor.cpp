// runtime/client, `monitor`: the client follows the answer the daemon holds
// open, printing each event line as it arrives, until a stop signal or the
// daemon's end (runtime/client_session.hpp).
#include "smcroute/runtime/client_session.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/signalfd.h>
#include <unistd.h>

namespace smcroute {

namespace {

// SIGINT, SIGTERM and SIGHUP arrive on a descriptor while it lives, so the
// wait for events ends cleanly on them; the mask is restored after.
class StopSignals {
public:
    StopSignals()
    {
        sigset_t set;
        sigemptyset(&set);
        for (int s : {SIGINT, SIGTERM, SIGHUP})
            sigaddset(&set, s);
        if (::sigprocmask(SIG_BLOCK, &set, &old_) < 0)
            return;
        blocked_ = true;
        fd_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    }
    ~StopSignals()
    {
        fd_.reset();
        if (blocked_) {
            // One that came meanwhile is read by the signalfd, never acted on.
            (void)::sigprocmask(SIG_SETMASK, &old_, nullptr);
        }
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    int fd() const { return fd_.get(); }

private:
    sigset_t old_{};
    bool blocked_ = false;
    UniqueFd fd_;
};

} // namespace

int Session::monitor(const ClientCommand& cmd, std::string_view prefix)
{
    if (!connect())
        return connect_status_;
    StopSignals stop;
    if (stop.fd() < 0) {
        put_line(err_, cat(prefix, "monitor: cannot catch signals: ", std::strerror(errno)));
        return exit_code::os_error;
    }
    auto on_row = [this](std::string_view row) {
        put_line(out_, row);
        std::fflush(out_.file()); // a line as soon as it happens, also into a pipe
    };
    auto end = conn_->follow(make_request(cmd), on_row, stop.fd());
    std::fflush(out_.file());
    if (!end) {
        broken_ = true;
        put_line(err_, cat(prefix, "monitor: the daemon went away (", end.error().message, ")"));
        return exit_code::unavailable;
    }
    if (!*end) // stopped by a signal
        return exit_code::ok;
    broken_ = true;
    const EndFrame& e = **end;
    if (e.status == 0) { // an END while held: the daemon ended it
        put_line(err_, cat(prefix, "monitor: the daemon went away", e.message.empty() ? "" : ": ", e.message));
        return exit_code::unavailable;
    }
    if (e.status == exit_code::unavailable && e.message == "the daemon is exiting") {
        put_line(err_, cat(prefix, "monitor: the daemon went away: it is exiting"));
        return exit_code::unavailable;
    }
    return report(e, Verb::monitor, prefix);
}

} // namespace smcroute

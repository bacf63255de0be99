// runtime/script: runs the operator's -e script ("reload" after each (re)load,
// "install" when a (*,G) rule installs a route) without a shell, with a fixed
// environment, and reaps it through a pidfd watched by the event loop, so the
// loop never waits for a script. Decides nothing about when a script runs.
#pragma once

#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/base/log.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace smcroute {

class ActionScript {
public:
    // At most this many scripts run at once; beyond, a run is dropped (logged).
    static constexpr size_t max_children = 16;
    using Env = std::vector<std::pair<std::string, std::string>>;

    // path empty: disabled, run() does nothing.
    ActionScript(EventLoop& loop, Logger& log, std::string path);
    // Stops watching; children still running are left to finish on their own.
    ~ActionScript();
    ActionScript(const ActionScript&) = delete;
    ActionScript& operator=(const ActionScript&) = delete;

    bool enabled() const { return !path_.empty(); }
    const std::string& path() const { return path_; }

    // Start `path action` with the environment PATH=/usr/sbin:/usr/bin:/sbin:/bin
    // plus env (names with '=' or NUL are skipped). In the child: no signal
    // blocked, every disposition default, stdin /dev/null, stdout/stderr
    // inherited, every other descriptor closed, a new session. Returns at once;
    // a failure to start (missing file, not executable) is logged as an error.
    void run(std::string_view action, Env env = {});

    // Reap every child that has exited (waitpid WNOHANG) and log its status.
    // Called by the loop through each child's pidfd; safe to call any time
    // (e.g. on SIGCHLD) but never needed.
    void reap();

    // Children started and not reaped yet.
    size_t running() const { return children_.size(); }

private:
    struct Child {
        pid_t pid;
        std::string action;
        UniqueFd pidfd; // invalid: kernel without pidfd_open, polled by timer
    };
    void reaped(const Child& c, int wstatus);
    void arm_poll_timer();

    EventLoop& loop_;
    Logger& log_;
    std::string path_;
    std::vector<Child> children_;
    EventLoop::TimerId poll_timer_ = 0;
};

} // namespace smcroute

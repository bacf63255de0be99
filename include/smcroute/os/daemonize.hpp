// os/daemonize: going to the background with a report back. The process
// forks; the parent waits on a pipe until the child says it is ready or why
// it failed (or dies), prints the reason and exits with the child's status;
// the child starts a new session with stdin, stdout and stderr on /dev/null.
// Every descriptor is owned (base/unique_fd). Knows nothing of what the
// child goes on to do.
#pragma once

#include "smcroute/base/result.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <string_view>
#include <sys/types.h>

namespace smcroute {

// The child's end of the start-up pipe: the background child reports
// "ready" or why it failed through it, once, so the parent can exit with
// the right status. Inactive (reports go nowhere) in the foreground.
class ReadyPipe {
public:
    ReadyPipe() = default;
    explicit ReadyPipe(UniqueFd fd) : fd_(std::move(fd)) {}
    bool active() const { return fd_.valid(); }
    // Sends "STATUS\nMESSAGE" and closes the pipe; later reports go nowhere.
    void report(int status, std::string_view message);

private:
    UniqueFd fd_;
};

// Where daemonize() returned.
struct Daemonized {
    bool parent = false;
    int parent_status = 0; // the parent: exit with this (the child's report)
    ReadyPipe ready;       // the child: report through this
};

// Fork. The parent returns once the child has reported (its status; its
// message is printed to stderr as "smcroute: MESSAGE"; a failed start other
// than exit_code::failed is reaped) or has exited without a report ("daemon
// failed to start", its exit status, or exit_code::os_error). The child
// returns in a new session with its standard streams on /dev/null. Errors
// (pipe, fork: "pipe: REASON") leave no child.
Result<Daemonized> daemonize();

// The parent's side, on its own: read the report from read_end until the
// child closes it, as above.
int wait_for_child(UniqueFd read_end, pid_t child);

} // namespace smcroute

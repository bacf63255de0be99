// os/daemonize: the parent hears the child's report through the ready pipe
// (or of its death without one) and takes its exit status from it; the
// child runs in a new session with its standard streams on /dev/null.
#include "smcroute/os/daemonize.hpp"

#include "smcroute/model/commands.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace smcroute;

namespace {

// Fork a child that runs fn with the pipe's write end and exits with code;
// the parent waits through wait_for_child, with stderr captured.
template <class Fn>
int child_reports(Fn fn, int code, std::string& err)
{
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = ::fork();
    if (pid == 0) {
        read_end.reset();
        ReadyPipe ready(std::move(write_end));
        fn(ready);
        ::_exit(code);
    }
    write_end.reset();
    testing::internal::CaptureStderr();
    int status = wait_for_child(std::move(read_end), pid);
    err = testing::internal::GetCapturedStderr();
    ::waitpid(pid, nullptr, WNOHANG);
    return status;
}

} // namespace

TEST(Daemonize, ReadyIsStatusZeroAndSaysNothing)
{
    std::string err;
    EXPECT_EQ(child_reports([](ReadyPipe& r) { r.report(0, ""); }, 0, err), 0);
    EXPECT_EQ(err, "");
}

TEST(Daemonize, AFailedStartPassesItsStatusAndReason)
{
    std::string err;
    EXPECT_EQ(child_reports([](ReadyPipe& r) { r.report(exit_code::config, "bad.conf: 1 error(s)"); },
                            exit_code::config, err),
              exit_code::config);
    EXPECT_EQ(err, "smcroute: bad.conf: 1 error(s)\n");
}

TEST(Daemonize, OnlyTheFirstReportCounts)
{
    std::string err;
    EXPECT_EQ(child_reports(
                  [](ReadyPipe& r) {
                      r.report(exit_code::failed, "add: no such route\n");
                      r.report(0, "later");
                  },
                  0, err),
              exit_code::failed);
    EXPECT_EQ(err, "smcroute: add: no such route\n");
}

TEST(Daemonize, DyingWithoutAReportIsAFailedStart)
{
    std::string err;
    EXPECT_EQ(child_reports([](ReadyPipe&) {}, 3, err), 3);
    EXPECT_EQ(err, "smcroute: daemon failed to start\n");
    EXPECT_EQ(child_reports([](ReadyPipe&) {}, 0, err), exit_code::os_error);
}

TEST(Daemonize, TheChildRunsInItsOwnSessionWithoutATerminal)
{
    pid_t parent_session = ::getsid(0);
    testing::internal::CaptureStderr();
    auto d = daemonize();
    if (d && !d->parent) {
        // The child: a session leader, stderr on /dev/null.
        struct stat err_st{}, null_st{};
        bool on_null = ::fstat(STDERR_FILENO, &err_st) == 0 && ::stat("/dev/null", &null_st) == 0 &&
                       err_st.st_rdev == null_st.st_rdev && S_ISCHR(err_st.st_mode);
        bool leader = ::getsid(0) == ::getpid() && ::getsid(0) != parent_session;
        d->ready.report(on_null && leader ? 0 : 99, on_null && leader ? "" : "not detached");
        ::_exit(0);
    }
    std::string err = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->parent_status, 0) << err;
    EXPECT_FALSE(d->ready.active());
    ::wait(nullptr);
}

#include "smcroute/os/daemonize.hpp"

#include "smcroute/base/log.hpp"
#include "smcroute/model/commands.hpp" // exit_code

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace smcroute {

namespace {

// The child's standard streams on /dev/null: the terminal it started from
// hears from it only through the ready pipe.
void detach_standard_streams()
{
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null)
        return;
    ::dup2(null.get(), STDIN_FILENO);
    ::dup2(null.get(), STDOUT_FILENO);
    ::dup2(null.get(), STDERR_FILENO);
}

std::string read_all(const UniqueFd& fd)
{
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

} // namespace

void ReadyPipe::report(int status, std::string_view message)
{
    if (!fd_)
        return;
    std::string text = cat(status, "\n", message);
    ssize_t rc = ::write(fd_.get(), text.data(), text.size());
    (void)rc;
    fd_.reset();
}

int wait_for_child(UniqueFd read_end, pid_t child)
{
    std::string text = read_all(read_end);
    read_end.reset();
    if (text.empty()) {
        int wstatus = 0;
        ::waitpid(child, &wstatus, 0);
        std::fprintf(stderr, "smcroute: daemon failed to start\n");
        return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) ? WEXITSTATUS(wstatus) : exit_code::os_error;
    }
    auto nl = text.find('\n');
    int status = std::atoi(text.substr(0, nl).c_str());
    std::string message = nl == std::string::npos ? "" : text.substr(nl + 1);
    if (!message.empty()) {
        if (message.back() != '\n')
            message += '\n';
        std::fprintf(stderr, "smcroute: %s", message.c_str());
    }
    if (status != 0 && status != exit_code::failed) // a failed start: reap the child
        ::waitpid(child, nullptr, 0);
    return status;
}

Result<Daemonized> daemonize()
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return os_error(errno, "pipe");
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0)
        return os_error(errno, "fork");
    Daemonized d;
    if (pid > 0) {
        write_end.reset(); // the report's end-of-file is the child's close
        d.parent = true;
        d.parent_status = wait_for_child(std::move(read_end), pid);
        return d;
    }
    read_end.reset();
    ::setsid();
    d.ready = ReadyPipe(std::move(write_end));
    detach_standard_streams();
    return d;
}

} // namespace smcroute

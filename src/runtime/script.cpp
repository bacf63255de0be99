#include "smcroute/runtime/script.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace smcroute {

namespace {

constexpr const char* fixed_path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

int pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

bool valid_env_name(const std::string& name)
{
    return !name.empty() && name.find('=') == std::string::npos && name.find('\0') == std::string::npos;
}

// posix_spawn attributes and file actions, destroyed on every path.
struct Spawn {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    Spawn()
    {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    ~Spawn()
    {
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
    }
    Spawn(const Spawn&) = delete;
    Spawn& operator=(const Spawn&) = delete;
};

} // namespace

ActionScript::ActionScript(EventLoop& loop, Logger& log, std::string path)
    : loop_(loop), log_(log), path_(std::move(path))
{
}

ActionScript::~ActionScript()
{
    for (const auto& c : children_)
        if (c.pidfd)
            loop_.unwatch(c.pidfd.get());
    if (poll_timer_)
        loop_.cancel(poll_timer_);
}

void ActionScript::run(std::string_view action, Env env)
{
    if (!enabled())
        return;
    if (children_.size() >= max_children) {
        log_.warning(cat("script ", path_, " ", action, " not run: ", max_children, " instances still running"));
        return;
    }

    std::string act(action);
    std::vector<std::string> env_strings{fixed_path};
    for (auto& [name, value] : env) {
        if (!valid_env_name(name) || value.find('\0') != std::string::npos) {
            log_.warning(cat("script ", path_, ": environment variable '", name, "' skipped"));
            continue;
        }
        env_strings.push_back(cat(name, "=", value));
    }
    std::vector<char*> envp;
    for (auto& s : env_strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<char*> argv{path_.data(), act.data(), nullptr};

    // posix_spawn is fork + execve done right (vfork-style, reports an exec
    // failure as its return value); the child gets a clean signal state and
    // only stdin/stdout/stderr.
    Spawn sp;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&sp.attr, &none);
    posix_spawnattr_setsigdefault(&sp.attr, &all);
    posix_spawnattr_setflags(&sp.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    posix_spawn_file_actions_addopen(&sp.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&sp.actions, STDERR_FILENO + 1);

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, path_.c_str(), &sp.actions, &sp.attr, argv.data(), envp.data());
    if (rc != 0) {
        // glibc has reaped the failed child itself.
        log_.error(os_error(rc, cat("script ", path_, " ", action, ": cannot run")).message);
        return;
    }
    log_.debug(cat("script ", path_, " ", action, " started, pid ", pid));

    UniqueFd pidfd(pidfd_open(pid)); // the child is ours and unreaped: no pid reuse race
    int fd = pidfd.get();
    children_.push_back(Child{pid, std::move(act), std::move(pidfd)});
    if (fd >= 0)
        loop_.watch(fd, POLLIN, [this](short) { reap(); });
    else
        arm_poll_timer();
}

void ActionScript::arm_poll_timer()
{
    if (poll_timer_)
        return;
    poll_timer_ = loop_.every(std::chrono::milliseconds(200), [this] { reap(); });
}

void ActionScript::reaped(const Child& c, int wstatus)
{
    if (WIFEXITED(wstatus)) {
        int status = WEXITSTATUS(wstatus);
        std::string msg = cat("script ", path_, " ", c.action, " exited with status ", status);
        if (status == 0)
            log_.debug(msg);
        else
            log_.warning(msg);
    } else if (WIFSIGNALED(wstatus)) {
        int sig = WTERMSIG(wstatus);
        const char* name = ::sigabbrev_np(sig);
        log_.warning(cat("script ", path_, " ", c.action, " killed by signal ", sig,
                         name ? cat(" (SIG", name, ")") : std::string()));
    }
}

void ActionScript::reap()
{
    // Erase while iterating by index: a child's pidfd handler may be running.
    for (size_t i = 0; i < children_.size();) {
        Child& c = children_[i];
        int wstatus = 0;
        pid_t r = ::waitpid(c.pid, &wstatus, WNOHANG);
        if (r == 0 || (r < 0 && errno == EINTR)) {
            ++i;
            continue;
        }
        if (r == c.pid)
            reaped(c, wstatus);
        // r < 0 (ECHILD): someone else reaped it; forget it.
        if (c.pidfd)
            loop_.unwatch(c.pidfd.get());
        children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    bool polled = std::any_of(children_.begin(), children_.end(), [](const Child& c) { return !c.pidfd; });
    if (!polled && poll_timer_) {
        loop_.cancel(poll_timer_);
        poll_timer_ = 0;
    }
}

} // namespace smcroute

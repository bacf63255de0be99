// tests/tools/swap_racer: the attacker of system.runtime_socket_race. Run as
// an unprivileged user, it watches a directory (inotify) and, the moment a
// socket named NAME appears there, replaces it with a symbolic link to
// TARGET (a link made beside it, renamed over NAME): the swap that turns a
// chmod()/chown() by path into one of TARGET. It also watches DIR's parent:
// when DIR is replaced by a new directory of that name, it watches the new
// one. Plain system calls only, on purpose independent of the code under
// test.
//
//   swap_racer -d DIR -n NAME -t TARGET -R READYFILE [-w SECONDS]
//
// Prints one line per event to stdout, flushed at once: "try" when it sees
// the socket, then "swapped" or "failed: REASON"; "watching DIR (new)" when
// it follows a replaced DIR, or "cannot watch DIR (new): REASON". READYFILE
// is created once
// the watch is in place. Runs until SIGTERM/SIGINT, or SECONDS (default
// 600); exit 0, 1 when it cannot watch, 64 on bad usage.
#include <cerrno>
#include <cstdint>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

volatile sig_atomic_t stop = 0;

void on_signal(int)
{
    stop = 1;
}

int usage(const char* why)
{
    std::fprintf(stderr, "swap_racer: %s\nusage: swap_racer -d DIR -n NAME -t TARGET -R READYFILE [-w SECONDS]\n", why);
    return 64;
}

// NAME in DIR is a socket (not a link): swap it for a link to TARGET.
void race(const std::string& dir, const std::string& name, const std::string& target)
{
    const std::string path = dir + "/" + name;
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
        return;
    std::printf("try\n");
    const std::string tmp = dir + "/.swap_racer";
    ::unlink(tmp.c_str());
    if (::symlink(target.c_str(), tmp.c_str()) != 0) {
        std::printf("failed: symlink %s: %s\n", tmp.c_str(), std::strerror(errno));
    } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::printf("failed: rename over %s: %s\n", path.c_str(), std::strerror(errno));
        ::unlink(tmp.c_str());
    } else {
        std::printf("swapped\n");
    }
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv)
{
    std::string dir, name, target, ready;
    int seconds = 600;
    int c;
    while ((c = getopt(argc, argv, "d:n:t:R:w:")) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'n': name = optarg; break;
        case 't': target = optarg; break;
        case 'R': ready = optarg; break;
        case 'w': seconds = std::atoi(optarg); break;
        default: return usage("unknown option");
        }
    }
    if (dir.empty() || name.empty() || target.empty() || ready.empty() || seconds <= 0)
        return usage("-d, -n, -t and -R are required");
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);

    constexpr uint32_t events = IN_CREATE | IN_MOVED_TO | IN_ATTRIB;
    const auto slash = dir.find_last_of('/');
    const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
    int in = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    int dir_wd = in < 0 ? -1 : ::inotify_add_watch(in, dir.c_str(), events);
    if (dir_wd < 0 || ::inotify_add_watch(in, parent.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
        std::fprintf(stderr, "swap_racer: cannot watch %s and %s: %s\n", dir.c_str(), parent.c_str(),
                     std::strerror(errno));
        return 1;
    }
    int fd = ::open(ready.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        ::close(fd);
    race(dir, name, target); // there already
    const long deadline_ms = seconds * 1000L;
    long waited_ms = 0;
    alignas(inotify_event) char buf[4096];
    int last_errno = 0;
    while (!stop && waited_ms < deadline_ms) {
        pollfd p{in, POLLIN, 0};
        int n = ::poll(&p, 1, 100);
        if (n < 0)
            continue; // EINTR: the loop checks stop
        if (n == 0)
            waited_ms += 100;
        // Drain the events; any of them may be NAME appearing, or DIR
        // replaced (the parent's). Every 100 ms without events too: watch
        // the DIR there now (a new one may not be readable at first).
        while (::read(in, buf, sizeof buf) > 0) {
        }
        int wd = ::inotify_add_watch(in, dir.c_str(), events);
        if (wd < 0 && errno != ENOENT && errno != last_errno) {
            last_errno = errno;
            std::printf("cannot watch %s (new): %s\n", dir.c_str(), std::strerror(errno));
            std::fflush(stdout);
        } else if (wd >= 0 && wd != dir_wd) {
            dir_wd = wd;
            std::printf("watching %s (new)\n", dir.c_str());
            std::fflush(stdout);
        }
        race(dir, name, target);
    }
    ::close(in);
    return 0;
}

// tests/unit/netns_child: runs a piece of a root-only unit test in a forked
// child inside a new network namespace, so real kernel state (VIFs, MFC,
// memberships, links) never leaks into the machine or other tests.
#pragma once

#include <sched.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

// Runs fn in the child; returns its report: "" on success, "skip: ..." to
// skip, anything else is a failure. A crash of the child is reported too.
template <class Fn>
std::string in_netns(Fn fn)
{
    int p[2];
    if (pipe(p) != 0)
        return "pipe failed";
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        std::string report = unshare(CLONE_NEWNET) != 0 ? std::string("skip: unshare(CLONE_NEWNET) failed") : fn();
        ssize_t w = write(p[1], report.data(), report.size());
        (void)w;
        _exit(0);
    }
    close(p[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        out += " (child crashed)";
    return out;
}

// Inside fn: return the failure text when cond does not hold.
#define CHECK_OR_REPORT(cond, what)                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return std::string(what);                                                              \
    } while (0)

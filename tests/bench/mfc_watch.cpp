// tests/bench/mfc_watch: count the kernel's multicast-route notifications
// (rtnetlink RTM_NEWROUTE / RTM_DELROUTE on RTNLGRP_IPV4_MROUTE and
// RTNLGRP_IPV6_MROUTE), or poll group memberships, optionally around a
// command it starts itself. Plain sockets only, independent of the code
// under test.
//
//   mfc_watch [-4|-6] [-n N] [-q MS] [-T SEC] [-w] [-v] [-R FILE] [-J IFNAME]
//             [-O FILE] [-- COMMAND [ARG...]]
//
// Subscribes (receive buffer forced to 1 GiB so no event is lost; ENOBUFS is
// reported and fails), then sets t0 and starts COMMAND (its exit is not
// waited for unless -w). Stops when N RTM_NEWROUTE were seen (-n), else once
// no event came for MS milliseconds (-q, default 300) after COMMAND exited
// (-w) or after t0; -T SEC (default 600) is a hard limit (exit 3).
// -J IFNAME counts groups joined on IFNAME in /proc/net/igmp (igmp6 with -6),
// polled every millisecond, instead of events; -n N is then the target.
// -v prints every event: "ev new|del|unres MONO_SECONDS SOURCE GROUP"
// ("unres": the kernel queued a packet of an unknown (S,G) and asked the
// daemon; such events are not counted as new). -O FILE: COMMAND's stdout
// and stderr go to FILE.
// -R FILE is created once subscribed. Last line of output:
//   new=N del=N unres=N nth=S last=S cmd=S elapsed=S pid=PID status=ST start=MONO
// times in seconds after t0 (-1 = did not happen); elapsed = the later of
// nth (with -n, else last) and cmd (with -w). Exit: 0 ok, 1 error,
// 2 ENOBUFS (events lost), 3 timeout, 64 usage.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#ifndef RTNL_FAMILY_IPMR
#define RTNL_FAMILY_IPMR 128
#endif
#ifndef RTNL_FAMILY_IP6MR
#define RTNL_FAMILY_IP6MR 129
#endif

namespace {

double mono()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int usage(const char* why)
{
    std::fprintf(stderr,
                 "mfc_watch: %s\n"
                 "usage: mfc_watch [-4|-6] [-n N] [-q MS] [-T SEC] [-w] [-v] [-R FILE] [-J IFNAME]\n"
                 "                 [-O FILE] [-- COMMAND [ARG...]]\n",
                 why);
    return 64;
}

struct Options {
    bool v4 = true;
    bool v6 = true;
    long n = -1;
    long quiet_ms = 300;
    double timeout = 600;
    bool wait_cmd = false;
    bool verbose = false;
    std::string ready;
    std::string join_if;
    std::string cmd_out;
    char** cmd = nullptr;
};

struct State {
    long added = 0;
    long deleted = 0;
    long unresolved = 0;
    double nth = -1;
    double last = -1;
    double cmd_done = -1;
    int status = -1;
    bool lost = false;
};

std::string addr_text(int family, const rtattr* rta)
{
    char buf[INET6_ADDRSTRLEN] = "?";
    size_t len = RTA_PAYLOAD(rta);
    if ((family == AF_INET && len == 4) || (family == AF_INET6 && len == 16))
        inet_ntop(family, RTA_DATA(rta), buf, sizeof(buf));
    return buf;
}

// Reads every queued notification; returns false on a hard error.
bool drain(int fd, const Options& o, double t0, State& st)
{
    static std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t len = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (len < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                st.lost = true;
                return true;
            }
            std::perror("mfc_watch: recv");
            return false;
        }
        double now = mono();
        auto* nh = reinterpret_cast<nlmsghdr*>(buf.data());
        auto left = static_cast<unsigned>(len);
        for (; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
            if (nh->nlmsg_type != RTM_NEWROUTE && nh->nlmsg_type != RTM_DELROUTE)
                continue;
            auto* rtm = static_cast<rtmsg*>(NLMSG_DATA(nh));
            if (!((o.v4 && rtm->rtm_family == RTNL_FAMILY_IPMR) || (o.v6 && rtm->rtm_family == RTNL_FAMILY_IP6MR)))
                continue;
            bool add = nh->nlmsg_type == RTM_NEWROUTE;
            bool unres = add && (rtm->rtm_flags & RTNH_F_UNRESOLVED) != 0;
            if (unres) {
                ++st.unresolved;
            } else if (add) {
                ++st.added;
                if (o.n >= 0 && st.added == o.n)
                    st.nth = now - t0;
            } else {
                ++st.deleted;
            }
            if (!unres)
                st.last = now - t0;
            if (o.verbose) {
                int family = rtm->rtm_family == RTNL_FAMILY_IPMR ? AF_INET : AF_INET6;
                std::string src = "*";
                std::string grp = "*";
                int alen = static_cast<int>(RTM_PAYLOAD(nh));
                for (auto* rta = RTM_RTA(rtm); RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
                    if (rta->rta_type == RTA_SRC)
                        src = addr_text(family, rta);
                    else if (rta->rta_type == RTA_DST)
                        grp = addr_text(family, rta);
                }
                std::printf("ev %s %.6f %s %s\n", unres ? "unres" : add ? "new" : "del", now, src.c_str(), grp.c_str());
            }
        }
    }
}

// Groups joined on ifname according to /proc/net/igmp or /proc/net/igmp6.
long count_joins(const std::string& ifname, bool v6)
{
    std::ifstream in(v6 ? "/proc/net/igmp6" : "/proc/net/igmp");
    std::string line;
    long count = 0;
    bool on = false;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string idx;
        std::string dev;
        f >> idx >> dev;
        if (v6) {
            if (dev == ifname)
                ++count;
        } else if (!line.empty() && line[0] != '\t' && line[0] != ' ') {
            on = dev == ifname; // "Idx Device : Count ..." heads a block
        } else if (on && !line.empty()) {
            ++count;
        }
    }
    return count;
}

} // namespace

int main(int argc, char** argv)
{
    Options o;
    int opt;
    while ((opt = getopt(argc, argv, "+46n:q:T:wvR:J:O:")) != -1) {
        switch (opt) {
        case '4': o.v6 = false; break;
        case '6': o.v4 = false; break;
        case 'n': o.n = std::strtol(optarg, nullptr, 10); break;
        case 'q': o.quiet_ms = std::strtol(optarg, nullptr, 10); break;
        case 'T': o.timeout = std::strtod(optarg, nullptr); break;
        case 'w': o.wait_cmd = true; break;
        case 'v': o.verbose = true; break;
        case 'R': o.ready = optarg; break;
        case 'J': o.join_if = optarg; break;
        case 'O': o.cmd_out = optarg; break;
        default: return usage("unknown option");
        }
    }
    if (!o.v4 && !o.v6)
        return usage("-4 and -6 exclude each other");
    if (!o.join_if.empty() && o.n < 0)
        return usage("-J needs -n");
    if (optind < argc)
        o.cmd = argv + optind;
    if (o.wait_cmd && !o.cmd)
        return usage("-w needs a command");
    bool joins = !o.join_if.empty();
    bool join_v6 = joins && !o.v4;

    int fd = -1;
    if (!joins) {
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) {
            std::perror("mfc_watch: socket");
            return 1;
        }
        int size = 1 << 30;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        sockaddr_nl sa{};
        sa.nl_family = AF_NETLINK;
        if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
            std::perror("mfc_watch: bind");
            return 1;
        }
        int groups[2] = {o.v4 ? RTNLGRP_IPV4_MROUTE : 0, o.v6 ? RTNLGRP_IPV6_MROUTE : 0};
        for (int g : groups) {
            if (g != 0 && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0) {
                std::perror("mfc_watch: NETLINK_ADD_MEMBERSHIP");
                return 1;
            }
        }
    }
    if (!o.ready.empty()) {
        int r = open(o.ready.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (r >= 0)
            close(r);
    }
    std::fflush(stdout);

    double t0 = mono();
    pid_t pid = -1;
    int pidfd = -1;
    if (o.cmd) {
        pid = fork();
        if (pid < 0) {
            std::perror("mfc_watch: fork");
            return 1;
        }
        if (pid == 0) {
            if (!o.cmd_out.empty()) {
                int out = open(o.cmd_out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (out >= 0) {
                    dup2(out, 1);
                    dup2(out, 2);
                    close(out);
                }
            }
            execvp(o.cmd[0], o.cmd);
            std::fprintf(stderr, "mfc_watch: exec %s: %s\n", o.cmd[0], std::strerror(errno));
            _exit(127);
        }
        pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    }

    State st;
    long joined = 0;
    for (;;) {
        double now = mono() - t0;
        bool cmd_ok = !o.wait_cmd || st.cmd_done >= 0;
        if (st.lost)
            break;
        if (o.n >= 0) {
            long have = joins ? joined : st.added;
            if (have >= o.n && cmd_ok)
                break;
        } else if (cmd_ok) {
            double since = std::max(st.last, o.wait_cmd ? st.cmd_done : 0.0);
            if (now - since >= static_cast<double>(o.quiet_ms) / 1000)
                break;
        }
        if (now >= o.timeout) {
            std::fprintf(stderr, "mfc_watch: timeout after %.0f s: new=%ld del=%ld joins=%ld\n", o.timeout, st.added,
                         st.deleted, joined);
            std::printf("new=%ld del=%ld nth=-1 last=%.6f cmd=%.6f elapsed=-1 pid=%d status=%d start=%.6f\n",
                        joins ? joined : st.added, st.deleted, st.last, st.cmd_done, static_cast<int>(pid), st.status,
                        t0);
            return 3;
        }
        pollfd pf[2]{};
        int nfds = 0;
        if (fd >= 0)
            pf[nfds++] = pollfd{fd, POLLIN, 0};
        if (pidfd >= 0 && st.cmd_done < 0)
            pf[nfds++] = pollfd{pidfd, POLLIN, 0};
        int wait_ms = joins ? 1 : 10;
        if (poll(pf, static_cast<nfds_t>(nfds), wait_ms) < 0 && errno != EINTR) {
            std::perror("mfc_watch: poll");
            return 1;
        }
        if (fd >= 0 && !drain(fd, o, t0, st))
            return 1;
        if (joins) {
            joined = count_joins(o.join_if, join_v6);
            if (joined >= o.n && st.nth < 0)
                st.nth = mono() - t0;
        }
        if (pid > 0 && st.cmd_done < 0) {
            int status = 0;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                st.cmd_done = mono() - t0;
                st.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
        }
    }
    if (st.lost) {
        std::fprintf(stderr, "mfc_watch: ENOBUFS: netlink events were lost\n");
        std::printf("error=ENOBUFS new=%ld del=%ld\n", st.added, st.deleted);
        return 2;
    }
    double base = o.n >= 0 ? st.nth : st.last;
    double elapsed = std::max(base, o.wait_cmd ? st.cmd_done : -1.0);
    std::printf("new=%ld del=%ld unres=%ld nth=%.6f last=%.6f cmd=%.6f elapsed=%.6f pid=%d status=%d start=%.6f\n",
                joins ? joined : st.added, st.deleted, st.unresolved, st.nth, st.last, st.cmd_done, elapsed, static_cast<int>(pid),
                st.status, t0);
    return 0;
}

// tests/tools/ipc_attack: what a local user can do to the daemon's IPC
// socket, done for real for the system tests (issue 13, DESIGN §5). Plain
// sockets; frames are encoded with the project's ipc_protocol.
//
//   ipc_attack exec SOCK PROGRAM ARG VERB [WORD...]
//     Connects to SOCK, then forks. This process (the one that connected,
//     whose pid the daemon saw) execs PROGRAM ARG, e.g. a setuid-root copy
//     of sleep; the child waits until that exec has happened (the process's
//     effective uid or its effective capabilities differ from the child's),
//     sends the request VERB WORD... on the inherited connection and prints
//     the answer: "ROW text" lines, then "END STATUS MESSAGE", "EOF" or
//     "RESET". It then ends the exec'd program (SIGTERM) and exits 0 once it
//     printed an END, 1 otherwise.
//
//   ipc_attack hold [-n N] [-i MS] [-r] [-t SECS] [-R REPORT] SOCK
//     Keeps N connections (default 1) for SECS seconds (default 30) or until
//     SIGTERM/SIGINT. Works in ticks, every MS ms (-i; 200 without it): with
//     -i each open connection sends the next byte of a 4 KiB request frame
//     every tick, so its frame never completes; without -i they stay silent.
//     A slot whose connect failed (backlog full) connects again at the next
//     tick; with -r so does one the daemon closed. REPORT is rewritten
//     (atomically) every 0.5 s and at the end:
//       open O connects C refused R dropped D failed F longest_ms L oldest_ms A sent B answers E
//       refusal: MESSAGE-OF-THE-LAST-REFUSAL
//     open: connections now open; connects: connect() calls that succeeded;
//     refused: connections the daemon closed after an END frame with an
//     error (a refusal); dropped: connections it closed without one;
//     failed: connects that failed; longest_ms: the longest life of a
//     connection the daemon closed; oldest_ms: the age of the oldest open
//     one; sent: bytes trickled; answers: END frames with status 0.
//     The same line goes to stdout at the end. Exit 0, or 64 on bad usage.
#include "smcroute/model/ipc_protocol.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace smcroute;
using Clock = std::chrono::steady_clock;

namespace {

int usage(const char* why)
{
    std::fprintf(stderr,
                 "ipc_attack: %s\n"
                 "usage: ipc_attack exec SOCK PROGRAM ARG VERB [WORD...]\n"
                 "       ipc_attack hold [-n N] [-i MS] [-r] [-t SECS] [-R REPORT] SOCK\n",
                 why);
    return 64;
}

bool make_address(const std::string& path, sockaddr_un& addr)
{
    addr = {};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return false;
    std::memcpy(addr.sun_path, path.data(), path.size());
    return true;
}

long long ms_between(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

// ------------------------------------------------------------------ exec

// "Uid:" effective field and "CapEff:" of /proc/PID/status; false when the
// process is gone.
bool euid_and_caps(pid_t pid, std::string& euid, std::string& caps)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in)
        return false;
    std::string line;
    euid.clear();
    caps.clear();
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, a, b;
        words >> key >> a >> b;
        if (key == "Uid:")
            euid = b;
        else if (key == "CapEff:")
            caps = a;
    }
    return !euid.empty();
}

int run_exec(const std::string& sock, const char* program, const char* arg, const std::vector<std::string>& words)
{
    sockaddr_un addr;
    if (!make_address(sock, addr))
        return usage("bad socket path");
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0)); // inherited by the child
    if (!fd || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
        std::fprintf(stderr, "ipc_attack: connect %s: %s\n", sock.c_str(), std::strerror(errno));
        return 1;
    }
    auto frame = encode_request(Request{0, words});
    if (!frame)
        return usage(frame.error().message.c_str());
    std::fflush(stdout);
    const pid_t connected = ::getpid();
    pid_t child = ::fork();
    if (child < 0) {
        std::perror("ipc_attack: fork");
        return 1;
    }
    if (child > 0) {
        // The process that connected becomes PROGRAM. The socket stays open
        // in it too: it is not close-on-exec.
        ::execl(program, program, arg, static_cast<char*>(nullptr));
        std::fprintf(stderr, "ipc_attack: exec %s: %s\n", program, std::strerror(errno));
        ::_exit(1);
    }

    // The child: wait for the exec to have changed the connected process.
    const std::string my_euid = std::to_string(::geteuid());
    std::string euid, caps, my_caps;
    {
        std::string ignored;
        euid_and_caps(::getpid(), ignored, my_caps);
    }
    bool changed = false;
    for (int i = 0; i < 300 && !changed; ++i) {
        if (!euid_and_caps(connected, euid, caps))
            break;
        changed = euid != my_euid || caps != my_caps;
        if (!changed)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!changed) {
        std::printf("NOEXEC process %d did not change (euid %s, CapEff %s)\n", static_cast<int>(connected),
                    euid.c_str(), caps.c_str());
        ::kill(connected, SIGTERM);
        return 1;
    }
    std::printf("EXECED pid %d now has euid %s CapEff %s (this child: euid %s CapEff %s)\n",
                static_cast<int>(connected), euid.c_str(), caps.c_str(), my_euid.c_str(), my_caps.c_str());
    std::fflush(stdout);

    int rc = 1;
    if (::send(fd.get(), frame->data(), frame->size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame->size())) {
        std::printf("SENDFAIL %s\n", std::strerror(errno));
    } else {
        timeval tv{10, 0};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        FrameReader reader;
        char buf[4096];
        bool done = false;
        while (!done) {
            ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
            if (n == 0) {
                std::printf("EOF\n");
                break;
            }
            if (n < 0) {
                std::printf("%s\n", errno == ECONNRESET ? "RESET" : errno == EAGAIN ? "TIMEOUT" : std::strerror(errno));
                break;
            }
            reader.feed(buf, static_cast<size_t>(n));
            for (auto f = reader.next(); f && *f && !done; f = reader.next()) {
                if ((*f)->type == FrameType::row) {
                    std::printf("ROW %s\n", (*f)->body.c_str());
                } else if ((*f)->type == FrameType::end) {
                    auto end = decode_end((*f)->body);
                    if (end)
                        std::printf("END %u %s\n", end->status, end->message.c_str());
                    else
                        std::printf("BADEND\n");
                    rc = end ? 0 : 1;
                    done = true;
                }
            }
        }
    }
    std::fflush(stdout);
    ::kill(connected, SIGTERM);
    return rc;
}

// ------------------------------------------------------------------ hold

struct Slot {
    UniqueFd fd;
    Clock::time_point opened;
    bool retry = true; // closed: connect again at the next tick
    size_t pos = 0;    // bytes of the frame sent
    bool got_refusal = false;
    FrameReader reader;
};

volatile std::sig_atomic_t stop_requested = 0;
void on_stop_signal(int)
{
    stop_requested = 1;
}

struct Stats {
    long long open = 0, connects = 0, refused = 0, dropped = 0, failed = 0, longest_ms = 0, oldest_ms = 0,
              sent = 0, answers = 0;
    std::string refusal;

    std::string line() const
    {
        std::ostringstream o;
        o << "open " << open << " connects " << connects << " refused " << refused << " dropped " << dropped
          << " failed " << failed << " longest_ms " << longest_ms << " oldest_ms " << oldest_ms << " sent "
          << sent << " answers " << answers;
        return o.str();
    }
};

void write_report(const std::string& path, const Stats& st)
{
    if (path.empty())
        return;
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << st.line() << "\nrefusal: " << st.refusal << "\n";
    }
    std::rename(tmp.c_str(), path.c_str());
}

int run_hold(int argc, char** argv)
{
    long n = 1, interval_ms = 0, secs = 30;
    bool reconnect = false;
    std::string report;
    int c;
    while ((c = getopt(argc, argv, "n:i:rt:R:")) != -1) {
        switch (c) {
        case 'n': n = std::strtol(optarg, nullptr, 10); break;
        case 'i': interval_ms = std::strtol(optarg, nullptr, 10); break;
        case 'r': reconnect = true; break;
        case 't': secs = std::strtol(optarg, nullptr, 10); break;
        case 'R': report = optarg; break;
        default: return usage("unknown option");
        }
    }
    if (optind + 1 != argc || n < 1 || n > 100000 || interval_ms < 0 || secs < 1)
        return usage("bad arguments");
    sockaddr_un addr;
    if (!make_address(argv[optind], addr))
        return usage("bad socket path");
    std::signal(SIGPIPE, SIG_IGN);

    // Room for N descriptors.
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < static_cast<rlim_t>(n) + 16) {
        std::fprintf(stderr, "ipc_attack: open-file limit %llu is too low for %ld connections\n",
                     static_cast<unsigned long long>(lim.rlim_cur), n);
        return 1;
    }

    struct sigaction sa{};
    sa.sa_handler = on_stop_signal; // no SA_RESTART: poll() returns
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);

    // A request whose frame takes 4 KiB: trickled a byte at a time it never
    // completes while the test runs.
    const std::string frame = *encode_request(Request{0, {"show", std::string(4080, 'x')}});
    const auto tick = std::chrono::milliseconds(interval_ms > 0 ? interval_ms : 200);
    const auto start = Clock::now();
    const auto stop = start + std::chrono::seconds(secs);
    std::vector<Slot> slots(static_cast<size_t>(n));
    Stats st;

    auto closed_by_daemon = [&](Slot& s, Clock::time_point now) {
        (s.got_refusal ? st.refused : st.dropped)++;
        st.longest_ms = std::max(st.longest_ms, ms_between(s.opened, now));
        s.fd.reset();
        s.reader = FrameReader();
        s.retry = reconnect;
    };
    auto update = [&](Clock::time_point now) {
        st.open = 0;
        st.oldest_ms = 0;
        for (const Slot& s : slots) {
            if (s.fd) {
                ++st.open;
                st.oldest_ms = std::max(st.oldest_ms, ms_between(s.opened, now));
            }
        }
    };

    auto next_tick = start, next_report = start;
    std::vector<pollfd> pfds;
    std::vector<size_t> index;
    while (!stop_requested) {
        auto now = Clock::now();
        if (now >= stop)
            break;
        if (now >= next_tick) {
            // Connects, and a byte on every open connection.
            for (Slot& s : slots) {
                if (!s.fd) {
                    if (!s.retry)
                        continue;
                    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
                    if (fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
                        ++st.connects;
                        s.fd = std::move(fd);
                        s.opened = now;
                        s.pos = 0;
                        s.got_refusal = false;
                    } else {
                        ++st.failed;
                    }
                } else if (interval_ms > 0 && s.pos < frame.size() &&
                           ::send(s.fd.get(), frame.data() + s.pos, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
                    ++s.pos;
                    ++st.sent;
                }
            }
            next_tick = now + tick;
        }
        // What the daemon says, or whether it closed.
        pfds.clear();
        index.clear();
        for (size_t i = 0; i < slots.size(); ++i) {
            if (slots[i].fd) {
                pfds.push_back(pollfd{slots[i].fd.get(), POLLIN, 0});
                index.push_back(i);
            }
        }
        auto wake = std::min({stop, next_report, next_tick});
        int timeout = static_cast<int>(std::clamp<long long>(ms_between(Clock::now(), wake), 0, 500));
        int ready = ::poll(pfds.data(), pfds.size(), timeout);
        now = Clock::now();
        for (size_t k = 0; ready > 0 && k < pfds.size(); ++k) {
            if (!pfds[k].revents)
                continue;
            Slot& s = slots[index[k]];
            char buf[4096];
            ssize_t got = ::recv(s.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (got > 0) {
                s.reader.feed(buf, static_cast<size_t>(got));
                for (auto f = s.reader.next(); f && *f; f = s.reader.next()) {
                    if ((*f)->type != FrameType::end)
                        continue;
                    auto end = decode_end((*f)->body);
                    if (end && end->status == 0) {
                        ++st.answers;
                    } else if (end) {
                        s.got_refusal = true;
                        st.refusal = cat(end->status, " ", end->message);
                    }
                }
                continue;
            }
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            closed_by_daemon(s, now);
        }
        if (now >= next_report) {
            update(now);
            write_report(report, st);
            next_report = now + std::chrono::milliseconds(500);
        }
    }
    update(Clock::now());
    write_report(report, st);
    std::printf("%s\nrefusal: %s\n", st.line().c_str(), st.refusal.c_str());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
        return usage("no subcommand");
    std::string cmd = argv[1];
    if (cmd == "exec") {
        if (argc < 6)
            return usage("exec needs SOCK PROGRAM ARG VERB");
        std::vector<std::string> words(argv + 5, argv + argc);
        return run_exec(argv[2], argv[3], argv[4], words);
    }
    if (cmd == "hold")
        return run_hold(argc - 1, argv + 1);
    return usage("unknown subcommand");
}

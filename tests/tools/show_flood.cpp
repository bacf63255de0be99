// tests/tools/show_flood: many clients of the daemon's IPC socket at once,
// each sending one `show` request and then reading the answer slowly, or
// never: the memory attack a user allowed only to `show` can make (issue 13,
// finding 3). Plain sockets; the frames are encoded and cut here, not by the
// code under test.
//
//   show_flood -u SOCKET -n CLIENTS [-j JSON_CLIENTS] [-d] [-b BYTES] [-i MS]
//              [-t SECONDS] [-R READY_FILE]
//
// Connects CLIENTS times (the first JSON_CLIENTS ask `show -j`, the others
// plain `show`; -d asks for counters too) and sends each request. Then,
// every MS milliseconds (default 500), each client reads at most BYTES
// (default 4096; 0: never reads). READY_FILE is created once every client
// has sent its request and, when reading, received its first bytes. Runs
// for SECONDS (default 60) or until SIGTERM/SIGINT, then prints one line:
//
//   clients=N connected=C first_bytes=F bytes=B rows=R ends=E closed=X
//
// closed: connections the daemon closed (EOF or error) before an END.
// Exit: 0 (whatever the daemon did), 1 when a connect or send failed,
// 64 usage.
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int)
{
    stop_requested = 1;
}

double mono()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void put32(std::string& out, uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out += static_cast<char>((v >> shift) & 0xff);
}

void put16(std::string& out, uint16_t v)
{
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v & 0xff);
}

// A request frame: header (magic "SMCR", body length, type 1, version 1),
// body (flags, argc, then each argument as length and bytes).
std::string request(uint32_t flags, const std::vector<std::string>& args)
{
    std::string body;
    put32(body, flags);
    put16(body, static_cast<uint16_t>(args.size()));
    for (const auto& a : args) {
        put16(body, static_cast<uint16_t>(a.size()));
        body += a;
    }
    std::string frame;
    put32(frame, 0x534d4352);
    put32(frame, static_cast<uint32_t>(body.size()));
    put16(frame, 1);
    put16(frame, 1);
    return frame + body;
}

struct Client {
    int fd = -1;
    bool first_bytes = false;
    bool ended = false;  // END received
    bool closed = false; // the daemon closed it before END
    // Frame cutting: the header being collected, then the body to skip.
    unsigned char header[12] = {};
    size_t have = 0;
    size_t body_left = 0;
};

int usage(const char* why)
{
    std::fprintf(stderr,
                 "show_flood: %s\n"
                 "usage: show_flood -u SOCKET -n CLIENTS [-j JSON_CLIENTS] [-d] [-b BYTES] [-i MS] [-t SECONDS]"
                 " [-R READY_FILE]\n",
                 why);
    return 64;
}

} // namespace

int main(int argc, char** argv)
{
    std::string path, ready;
    long clients = 0, json_clients = 0, bytes = 4096, interval_ms = 500;
    double seconds = 60;
    uint32_t extra_flags = 0;
    int opt;
    while ((opt = getopt(argc, argv, "u:n:j:db:i:t:R:")) != -1) {
        switch (opt) {
        case 'u': path = optarg; break;
        case 'n': clients = std::atol(optarg); break;
        case 'j': json_clients = std::atol(optarg); break;
        case 'd': extra_flags |= 1u; break; // req_detail
        case 'b': bytes = std::atol(optarg); break;
        case 'i': interval_ms = std::atol(optarg); break;
        case 't': seconds = std::atof(optarg); break;
        case 'R': ready = optarg; break;
        default: return usage("unknown option");
        }
    }
    if (path.empty() || clients <= 0 || json_clients < 0 || bytes < 0 || interval_ms <= 0 || seconds <= 0)
        return usage("missing or bad arguments");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return usage("socket path too long");
    std::memcpy(addr.sun_path, path.data(), path.size());

    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    const std::string plain = request(extra_flags, {"show"});
    const std::string json = request(extra_flags | 2u, {"show"}); // req_json
    std::vector<Client> all(static_cast<size_t>(clients));
    long connected = 0;
    for (long i = 0; i < clients; ++i) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
            std::fprintf(stderr, "show_flood: connect %ld: %s\n", i, std::strerror(errno));
            return 1;
        }
        const std::string& req = i < json_clients ? json : plain;
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
            std::fprintf(stderr, "show_flood: send %ld: %s\n", i, std::strerror(errno));
            return 1;
        }
        all[static_cast<size_t>(i)].fd = fd;
        ++connected;
    }

    long first = 0, ends = 0, closed = 0;
    unsigned long long total = 0, rows = 0;
    bool announced = false;
    std::vector<char> buf(static_cast<size_t>(bytes > 0 ? bytes : 1));
    const double deadline = mono() + seconds;
    while (!stop_requested && mono() < deadline) {
        for (auto& c : all) {
            if (bytes == 0 || c.ended || c.closed)
                continue;
            ssize_t n = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                c.closed = true;
                ++closed;
                continue;
            }
            if (n < 0)
                continue;
            total += static_cast<unsigned long long>(n);
            if (!c.first_bytes) {
                c.first_bytes = true;
                ++first;
            }
            for (ssize_t k = 0; k < n;) {
                if (c.body_left) {
                    size_t skip = std::min(c.body_left, static_cast<size_t>(n - k));
                    c.body_left -= skip;
                    k += static_cast<ssize_t>(skip);
                    continue;
                }
                c.header[c.have++] = static_cast<unsigned char>(buf[static_cast<size_t>(k++)]);
                if (c.have < sizeof c.header)
                    continue;
                c.have = 0;
                c.body_left = static_cast<size_t>(c.header[4]) << 24 | static_cast<size_t>(c.header[5]) << 16 |
                              static_cast<size_t>(c.header[6]) << 8 | c.header[7];
                unsigned type = static_cast<unsigned>(c.header[8]) << 8 | c.header[9];
                if (type == 2)
                    ++rows;
                else if (type == 3) {
                    c.ended = true;
                    ++ends;
                    break;
                }
            }
        }
        if (!announced && !ready.empty() && (bytes == 0 || first + closed >= connected)) {
            announced = true;
            int fd = ::open(ready.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0)
                ::close(fd);
        }
        timespec pause{interval_ms / 1000, (interval_ms % 1000) * 1000000L};
        nanosleep(&pause, nullptr);
    }
    std::printf("clients=%ld connected=%ld first_bytes=%ld bytes=%llu rows=%llu ends=%ld closed=%ld\n", clients,
                connected, first, total, rows, ends, closed);
    for (auto& c : all)
        ::close(c.fd);
    return 0;
}

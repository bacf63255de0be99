// The client against a scripted fake daemon on a UNIX socket: what it sends,
// what it prints, and its exit status.
#include "smcroute/runtime/client.hpp"
#include "smcroute/model/ipc_protocol.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <fcntl.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace smcroute;

namespace {

struct Reply {
    std::vector<std::string> rows;
    EndFrame end;
};

using Script = std::function<Reply(const Request&)>;

class FakeDaemon {
public:
    struct Options {
        // Read this many requests before answering any (or give up waiting
        // after a second without input): only a client that sends ahead of
        // its answers gets them at once.
        size_t hold = 0;
        // Close the connection after answering this many requests (0: never).
        size_t close_after = 0;
    };

    explicit FakeDaemon(Script script) : FakeDaemon(std::move(script), Options{}) {}
    FakeDaemon(Script script, Options options) : script_(std::move(script)), options_(options)
    {
        static std::atomic<int> counter{0};
        path_ = "/tmp/smcroute-client-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock";
        ::unlink(path_.c_str());
        listen_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        EXPECT_TRUE(listen_.valid());
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(listen_.get(), 4), 0);
        thread_ = std::thread([this] { serve(); });
    }

    ~FakeDaemon()
    {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        ::unlink(path_.c_str());
    }

    const std::string& path() const { return path_; }

    // Valid once the client has finished (its connection is closed).
    std::vector<Request> requests()
    {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        return requests_;
    }
    int connections() const { return connections_; }
    // Requests read before the first answer was written.
    size_t held() const { return held_; }
    // Requests read so far (safe while the client runs).
    size_t seen() const { return seen_; }
    // Wait until n requests have been read; false only when none came for
    // the hang guard (a client that never sends fails instead of hanging).
    bool wait_seen(size_t n)
    {
        std::unique_lock<std::mutex> lock(seen_mutex_);
        return seen_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return seen_ >= n; });
    }

private:
    void serve()
    {
        while (!stop_) {
            pollfd p{listen_.get(), POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0)
                continue;
            UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!conn)
                continue;
            ++connections_;
            talk(conn.get());
        }
    }

    void talk(int fd)
    {
        FrameReader reader;
        char buf[4096];
        const size_t first = requests_.size(); // earlier connections' requests
        size_t answered = 0;                    // on this connection
        for (;;) {
            if (answered == 0 && requests_.size() - first < options_.hold) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 1000) <= 0) {
                    options_.hold = 0; // the client waits for an answer: give it
                    continue;
                }
            }
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0)
                return;
            reader.feed(buf, static_cast<size_t>(n));
            for (;;) {
                auto frame = reader.next();
                if (!frame.ok() || !frame->has_value())
                    break;
                auto req = decode_request((*frame)->body);
                EXPECT_TRUE(req.ok());
                if (!req.ok())
                    return;
                requests_.push_back(*req);
                {
                    std::lock_guard<std::mutex> lock(seen_mutex_);
                    ++seen_;
                }
                seen_cv_.notify_all();
            }
            if (answered == 0 && requests_.size() - first < options_.hold)
                continue;
            if (answered == 0)
                held_ = requests_.size() - first;
            for (; first + answered < requests_.size(); ++answered) {
                if (options_.close_after && answered == options_.close_after)
                    return;
                Reply reply = script_(requests_[first + answered]);
                std::string out;
                for (const auto& row : reply.rows)
                    out += encode_row(row);
                out += encode_end(reply.end);
                if (!send_all(fd, out))
                    return;
            }
        }
    }

    // Blocking, without SIGPIPE when the client has gone.
    static bool send_all(int fd, const std::string& out)
    {
        for (size_t at = 0; at < out.size();) {
            ssize_t n = ::send(fd, out.data() + at, out.size() - at, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            at += static_cast<size_t>(n);
        }
        return true;
    }

    Script script_;
    Options options_;
    std::atomic<size_t> held_{0}, seen_{0};
    std::mutex seen_mutex_;
    std::condition_variable seen_cv_;
    std::string path_;
    UniqueFd listen_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::vector<Request> requests_;
};

// A FILE* whose contents can be read back.
class Capture {
public:
    Capture() : f_(std::tmpfile()) {}
    ~Capture() { std::fclose(f_); }
    std::FILE* get() { return f_; }
    std::string text()
    {
        std::fflush(f_);
        std::rewind(f_);
        std::string s;
        char buf[1024];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f_)) > 0)
            s.append(buf, n);
        return s;
    }

private:
    std::FILE* f_;
};

// A FILE* on the slave side of a pseudo-terminal (so isatty() holds), raw
// (no newline translation); what was written is read back from the master.
class Terminal {
public:
    Terminal()
    {
        master_ = UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (!master_ || ::grantpt(master_.get()) != 0 || ::unlockpt(master_.get()) != 0)
            return;
        int slave = ::open(::ptsname(master_.get()), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
            return;
        termios t{};
        ::tcgetattr(slave, &t);
        ::cfmakeraw(&t);
        ::tcsetattr(slave, TCSANOW, &t);
        f_ = ::fdopen(slave, "w");
    }
    ~Terminal()
    {
        if (f_)
            std::fclose(f_);
    }
    std::FILE* get() { return f_; }
    std::string text()
    {
        std::fflush(f_);
        std::string s;
        char buf[1024];
        pollfd p{master_.get(), POLLIN, 0};
        while (::poll(&p, 1, 200) > 0) {
            ssize_t n = ::read(master_.get(), buf, sizeof buf);
            if (n <= 0)
                break;
            s.append(buf, static_cast<size_t>(n));
        }
        return s;
    }

private:
    UniqueFd master_;
    std::FILE* f_ = nullptr;
};

class Input {
public:
    explicit Input(const std::string& text) : f_(std::tmpfile())
    {
        std::fwrite(text.data(), 1, text.size(), f_);
        std::rewind(f_);
    }
    ~Input() { std::fclose(f_); }
    std::FILE* get() { return f_; }

private:
    std::FILE* f_;
};

Invocation parsed(Personality who, std::vector<std::string> words, const std::string& socket)
{
    std::vector<std::string_view> args;
    args.push_back("-u");
    args.push_back(socket);
    for (const auto& w : words)
        args.push_back(w);
    auto r = parse_command_line(who, args);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(*r) : Invocation{};
}

using Args = std::vector<std::string>;

Reply ok_reply(std::vector<std::string> rows = {})
{
    return Reply{std::move(rows), EndFrame{0, ""}};
}

} // namespace

TEST(Client, DefaultSocketPath)
{
    EXPECT_EQ(default_socket_path("smcroute"), "/run/smcroute.sock");
    EXPECT_EQ(default_socket_path("foo"), "/run/foo.sock");
}

TEST(Client, ShowSendsFlagsAndPrintsRows)
{
    FakeDaemon daemon([](const Request&) { return ok_reply({"row one", "row two"}); });
    auto inv = parsed(Personality::ctl, {"-d", "-j", "s", "g"}, daemon.path());
    Capture out, err;
    Input in("");
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
    EXPECT_EQ(out.text(), "row one\nrow two\n");
    EXPECT_EQ(err.text(), "");
    auto reqs = daemon.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].args, (Args{"show", "groups"}));
    // Not a terminal and no -p: no headings.
    EXPECT_EQ(reqs[0].flags, req_detail | req_json);
}

TEST(Client, HeadingFlags)
{
    FakeDaemon daemon([](const Request&) { return ok_reply(); });
    Input in("");
    {
        auto inv = parsed(Personality::ctl, {"-p", "show"}, daemon.path());
        Capture out, err;
        EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
    }
    {
        auto inv = parsed(Personality::ctl, {"-p", "-t", "show"}, daemon.path());
        Capture out, err;
        EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
    }
    auto reqs = daemon.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].flags, req_headings);
    EXPECT_EQ(reqs[0].args, (Args{"show", "routes"}));
    EXPECT_EQ(reqs[1].flags, 0u);
}

TEST(Client, FailureGoesToStderrWithStatus)
{
    FakeDaemon daemon([](const Request&) { return Reply{{}, EndFrame{77, "permission denied"}}; });
    auto inv = parsed(Personality::ctl, {"add", "eth0", "225.1.2.3", "eth1"}, daemon.path());
    Capture out, err;
    Input in("");
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 77);
    EXPECT_EQ(out.text(), "");
    EXPECT_EQ(err.text(), "smcroutectl: permission denied\n");
    auto reqs = daemon.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].args, (Args{"add", "eth0", "225.1.2.3", "eth1"}));
}

TEST(Client, SuccessMessageGoesToStdout)
{
    FakeDaemon daemon([](const Request&) { return Reply{{}, EndFrame{0, "flushed 3 routes"}}; });
    auto inv = parsed(Personality::ctl, {"flush"}, daemon.path());
    Capture out, err;
    Input in("");
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
    EXPECT_EQ(out.text(), "flushed 3 routes\n");
    EXPECT_EQ(err.text(), "");
}

TEST(Client, LegacyLineNamesTheFailingCommand)
{
    FakeDaemon daemon([](const Request& r) {
        if (r.args.size() > 1 && r.args[1] == "bad0")
            return Reply{{}, EndFrame{1, "unknown interface bad0"}};
        return ok_reply();
    });
    auto inv = parsed(Personality::legacy,
                      {"-a", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "-a", "bad0", "10.0.0.1", "225.1.2.4", "eth1",
                       "-j", "eth0", "225.1.2.3", "10.0.0.1"},
                      daemon.path());
    Capture out, err;
    Input in("");
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 1);
    EXPECT_EQ(err.text(), "smcroute: -a bad0 10.0.0.1 225.1.2.4 eth1: unknown interface bad0\n");
    auto reqs = daemon.requests();
    ASSERT_EQ(reqs.size(), 3u); // the commands after the failure still run
    EXPECT_EQ(reqs[0].args, (Args{"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1"}));
    EXPECT_EQ(reqs[2].args, (Args{"join", "eth0", "10.0.0.1", "225.1.2.3"}));
    EXPECT_EQ(daemon.connections(), 1);
}

TEST(Client, Batch)
{
    FakeDaemon daemon([](const Request& r) {
        if (r.args.size() > 1 && r.args[1] == "eth9")
            return Reply{{}, EndFrame{1, "boom"}};
        return ok_reply();
    });
    auto inv = parsed(Personality::ctl, {"-b"}, daemon.path());
    Input in("# comment line\n"
             "join eth0 225.1.2.3\n"
             "bogus eth0\n"
             "\n"
             "   add eth0 192.168.1.42 225.1.2.3 eth1 eth2   # trailing comment\n"
             "rem eth9 225.3.4.5 eth3\n"
             "leave\teth1 225.3.4.5"); // no final newline
    Capture out, err;
    int rc = run_client(inv, in.get(), out.get(), err.get());
    EXPECT_NE(rc, 0);
    EXPECT_EQ(err.text(), "line 3: unknown command 'bogus'\nline 6: boom\n");
    auto reqs = daemon.requests();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_EQ(reqs[0].args, (Args{"join", "eth0", "225.1.2.3"}));
    EXPECT_EQ(reqs[1].args, (Args{"add", "eth0", "192.168.1.42", "225.1.2.3", "eth1", "eth2"}));
    EXPECT_EQ(reqs[2].args, (Args{"remove", "eth9", "225.3.4.5", "eth3"}));
    EXPECT_EQ(reqs[3].args, (Args{"leave", "eth1", "225.3.4.5"}));
    EXPECT_EQ(daemon.connections(), 1);
}

TEST(Client, BatchAllGood)
{
    FakeDaemon daemon([](const Request&) { return ok_reply({"x"}); });
    auto inv = parsed(Personality::ctl, {"-b"}, daemon.path());
    std::string many;
    for (int i = 0; i < 200; ++i)
        many += "show\n";
    Input in(many);
    Capture out, err;
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
    EXPECT_EQ(err.text(), "");
    EXPECT_EQ(daemon.requests().size(), 200u);
}

TEST(Client, NoDaemon)
{
    std::string path = "/tmp/smcroute-client-test-none-" + std::to_string(::getpid()) + ".sock";
    auto inv = parsed(Personality::ctl, {"kill"}, path);
    Capture out, err;
    Input in("");
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 1);
    std::string e = err.text();
    EXPECT_EQ(e.rfind("smcroutectl: ", 0), 0u) << e;
    EXPECT_NE(e.find(path), std::string::npos) << e;
    EXPECT_EQ(out.text(), "");
}

TEST(Client, HelpAndVersionAreLocal)
{
    std::string path = "/tmp/smcroute-client-test-none-" + std::to_string(::getpid()) + ".sock";
    Input in("");
    {
        auto inv = parsed(Personality::ctl, {"version"}, path);
        Capture out, err;
        EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
        EXPECT_EQ(out.text(), version_text() + "\n");
    }
    {
        auto inv = parsed(Personality::ctl, {"help"}, path);
        Capture out, err;
        EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
        EXPECT_EQ(out.text(), help_text(Personality::ctl));
    }
    {
        auto inv = parsed(Personality::ctl, {"help", "a"}, path);
        Capture out, err;
        EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
        EXPECT_EQ(out.text(), "Usage: smcroutectl add " + std::string(verb_info(Verb::add).synopsis) + "\n  "
                                  + std::string(verb_info(Verb::add).help) + "\n");
        EXPECT_EQ(err.text(), "");
    }
}

// ---- -b pipelines its requests ----

namespace {

// "add eth0 10.0.0.1 225.1.X.Y eth1" for line k (1-based).
std::string batch_line(size_t k)
{
    return cat("add eth0 10.0.0.1 225.1.", k / 256, ".", k % 256, " eth1");
}

// The line number a fake daemon sees in a request made by batch_line().
size_t line_of(const Request& r)
{
    std::string g = r.args.at(3); // 225.1.A.B
    size_t a = std::stoul(g.substr(6)), b = std::stoul(g.substr(g.rfind('.') + 1));
    return a * 256 + b;
}

} // namespace

TEST(Client, BatchSendsAheadOfTheAnswers)
{
    // The daemon answers only once it holds 100 requests: a client that waits
    // for each answer before the next request makes it give up holding (after
    // a second without input) with fewer held.
    FakeDaemon daemon([](const Request&) { return ok_reply(); }, FakeDaemon::Options{100, 0});
    auto inv = parsed(Personality::ctl, {"-b"}, daemon.path());
    std::string text;
    for (size_t k = 1; k <= 1000; ++k)
        text += batch_line(k) + "\n";
    Input in(text);
    Capture out, err;
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
    EXPECT_EQ(err.text(), "");
    EXPECT_GE(daemon.held(), 100u) << "the client waited for an answer before sending 100 requests";
    auto reqs = daemon.requests();
    ASSERT_EQ(reqs.size(), 1000u);
    for (size_t k = 0; k < reqs.size(); ++k)
        ASSERT_EQ(line_of(reqs[k]), k + 1) << "requests go out in line order";
}

TEST(Client, BatchReportsEachFailingLineInOrder)
{
    // Every 7th line fails, every 5th answers with a row: errors carry their
    // own line numbers, in order, rows come out in order, and the exit status
    // is the first failure's.
    FakeDaemon daemon([](const Request& r) {
        size_t k = line_of(r);
        if (k % 7 == 0)
            return Reply{{}, EndFrame{k == 7 ? 65u : 1u, cat("fail ", k)}};
        if (k % 5 == 0)
            return Reply{{cat("row ", k)}, EndFrame{0, ""}};
        return ok_reply();
    });
    auto inv = parsed(Personality::ctl, {"-b"}, daemon.path());
    std::string text, want_err, want_out;
    const size_t lines = 5000;
    size_t lineno = 0;
    for (size_t k = 1; k <= lines; ++k) {
        text += batch_line(k) + "\n";
        ++lineno;
        if (k % 7 == 0)
            want_err += cat("line ", lineno, ": fail ", k, "\n");
        else if (k % 5 == 0)
            want_out += cat("row ", k, "\n");
        if (k == 2000) { // a line that does not parse, in the middle of the stream
            text += "bogus words\n";
            ++lineno;
            want_err += cat("line ", lineno, ": unknown command 'bogus'\n");
        }
    }
    Input in(text);
    Capture out, err;
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 65);
    EXPECT_EQ(err.text(), want_err);
    EXPECT_EQ(out.text(), want_out);
    EXPECT_EQ(daemon.requests().size(), lines);
    EXPECT_EQ(daemon.connections(), 1);
}

TEST(Client, BatchWhenTheDaemonClosesMidway)
{
    // The daemon answers 300 requests (the 3rd fails), then closes the
    // connection: line 301 names the loss, and nothing after it is reported.
    FakeDaemon daemon(
        [](const Request& r) {
            return line_of(r) == 3 ? Reply{{}, EndFrame{1, "boom"}} : ok_reply({cat("r", line_of(r))});
        },
        FakeDaemon::Options{0, 300});
    auto inv = parsed(Personality::ctl, {"-b"}, daemon.path());
    std::string text, want_out;
    for (size_t k = 1; k <= 3000; ++k)
        text += batch_line(k) + "\n";
    for (size_t k = 1; k <= 300; ++k)
        if (k != 3)
            want_out += cat("r", k, "\n");
    Input in(text);
    Capture out, err;
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 1);
    EXPECT_EQ(err.text(), "line 3: boom\nline 301: connection closed by the daemon\n");
    EXPECT_EQ(out.text(), want_out);
    EXPECT_EQ(daemon.connections(), 1);
}

TEST(Client, BatchLargerThanTheSocketBuffers)
{
    // 20 000 lines, each answered with a 500-byte row: about 10 MB of
    // answers against 1 MB of requests. The fake daemon writes blocking, so a
    // client that sends without reading would deadlock with it.
    FakeDaemon daemon([](const Request& r) {
        std::string row = cat("row ", line_of(r), " ");
        row.resize(500, 'x');
        return ok_reply({row});
    });
    auto inv = parsed(Personality::ctl, {"-b"}, daemon.path());
    const size_t lines = 20000;
    std::string text;
    for (size_t k = 1; k <= lines; ++k)
        text += batch_line(k) + " # " + std::string(20, 'c') + "\n";
    Input in(text);
    Capture out, err;
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
    EXPECT_EQ(err.text(), "");
    std::string got = out.text();
    size_t at = 0, k = 1;
    for (; k <= lines && at < got.size(); ++k) {
        std::string head = cat("row ", k, " ");
        ASSERT_EQ(got.compare(at, head.size(), head), 0) << "row " << k;
        at = got.find('\n', at);
        ASSERT_NE(at, std::string::npos);
        ++at;
    }
    EXPECT_EQ(k, lines + 1);
    EXPECT_EQ(at, got.size());
    EXPECT_EQ(daemon.requests().size(), lines);
}

TEST(Client, BatchAnswersWhatItHasBeforeWaitingForInput)
{
    // Lines from a pipe that is still open: the first line's request goes out
    // (and is answered) before more input arrives.
    FakeDaemon daemon([](const Request&) { return ok_reply(); });
    auto inv = parsed(Personality::ctl, {"-b"}, daemon.path());
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::FILE* in = ::fdopen(fds[0], "r");
    ASSERT_NE(in, nullptr);
    std::string first = batch_line(1) + "\n";
    ASSERT_EQ(::write(fds[1], first.data(), first.size()), static_cast<ssize_t>(first.size()));
    Capture out, err;
    int rc = -1;
    std::thread client([&] { rc = run_client(inv, in, out.get(), err.get()); });
    EXPECT_TRUE(daemon.wait_seen(1)) << "the first line waited for more input";
    EXPECT_EQ(daemon.seen(), 1u);
    std::string rest = batch_line(2) + "\nversion\n" + batch_line(3) + "\n";
    ASSERT_EQ(::write(fds[1], rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
    ::close(fds[1]);
    client.join();
    std::fclose(in);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(out.text(), version_text() + "\n");
    EXPECT_EQ(daemon.requests().size(), 3u);
}

TEST(Client, BatchLineTooLargeFailsAlone)
{
    FakeDaemon daemon([](const Request&) { return ok_reply(); });
    auto inv = parsed(Personality::ctl, {"-b"}, daemon.path());
    Input in(batch_line(1) + "\nadd eth0 " + std::string(70000, 'x') + " 225.1.0.2 eth1\n" + batch_line(3) + "\n");
    Capture out, err;
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 1);
    EXPECT_EQ(err.text().rfind("line 2: request too large", 0), 0u) << err.text();
    auto reqs = daemon.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(line_of(reqs[1]), 3u);
}

// SMCROUTE_CLIENT_TIMEOUT: a valid value is used, a bad one is a usage error
// before anything is sent.
TEST(Client, TimeoutFromEnvironment)
{
    FakeDaemon daemon([](const Request&) { return ok_reply({"row"}); });
    auto inv = parsed(Personality::ctl, {"show"}, daemon.path());
    for (const char* bad : {"", "0", "3601", "5s", "-1", "x"}) {
        ::setenv("SMCROUTE_CLIENT_TIMEOUT", bad, 1);
        Capture out, err;
        Input in("");
        EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), exit_code::usage) << bad;
        EXPECT_EQ(err.text(), std::string("smcroutectl: SMCROUTE_CLIENT_TIMEOUT must be whole seconds from 1 to 3600, not '") +
                                  bad + "'\n");
    }
    EXPECT_EQ(daemon.connections(), 0);
    ::setenv("SMCROUTE_CLIENT_TIMEOUT", "60", 1);
    Capture out, err;
    Input in("");
    EXPECT_EQ(run_client(inv, in.get(), out.get(), err.get()), 0);
    EXPECT_EQ(out.text(), "row\n");
    ::unsetenv("SMCROUTE_CLIENT_TIMEOUT");
    EXPECT_EQ(daemon.requests().size(), 1u);
}

// Whatever answers on the socket (an impostor, or interface names holding
// control bytes) cannot drive the operator's terminal: rows and messages
// written to a terminal have their control bytes escaped; a pipe or file
// gets the bytes as they are.
TEST(Client, ControlBytesAreEscapedOnATerminal)
{
    const std::string evil_row = "eth\x1b[31mRED\x1b[0m \xc2\x9b" "2J tab\there caf\xc3\xa9";
    const std::string evil_end = "no such interface '\x1b]0;pwned\x07\x7f'";
    FakeDaemon daemon([&](const Request& r) {
        if (r.args[0] == "show")
            return Reply{{evil_row}, EndFrame{0, ""}};
        return Reply{{}, EndFrame{1, evil_end}};
    });
    Input in("");
    {
        Terminal out, err;
        ASSERT_NE(out.get(), nullptr);
        ASSERT_NE(err.get(), nullptr);
        auto show = parsed(Personality::ctl, {"show"}, daemon.path());
        EXPECT_EQ(run_client(show, in.get(), out.get(), err.get()), 0);
        EXPECT_EQ(out.text(), "eth\\x1b[31mRED\\x1b[0m \\xc2\\x9b2J tab\there caf\xc3\xa9\n");
        auto add = parsed(Personality::ctl, {"add", "eth0", "225.1.2.3", "eth1"}, daemon.path());
        EXPECT_EQ(run_client(add, in.get(), out.get(), err.get()), 1);
        EXPECT_EQ(err.text(), "smcroutectl: no such interface '\\x1b]0;pwned\\x07\\x7f'\n");
    }
    Capture out, err;
    auto show = parsed(Personality::ctl, {"show"}, daemon.path());
    EXPECT_EQ(run_client(show, in.get(), out.get(), err.get()), 0);
    EXPECT_EQ(out.text(), evil_row + "\n");
}

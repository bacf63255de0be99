// The client against a scripted fake daemon on a UNIX socket: what it sends,
// what it prints, and its exit status.
#include "smcroute/client.hpp"
#include "smcroute/ipc_protocol.hpp"
#include "smcroute/unique_fd.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
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
    explicit FakeDaemon(Script script) : script_(std::move(script))
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
        for (;;) {
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
                Reply reply = script_(*req);
                std::string out;
                for (const auto& row : reply.rows)
                    out += encode_row(row);
                out += encode_end(reply.end);
                if (::write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size()))
                    return;
            }
        }
    }

    Script script_;
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

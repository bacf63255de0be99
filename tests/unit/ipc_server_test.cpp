// IpcServer and IpcClient over a real UNIX socket in a temporary directory.
// The event loop runs on the test thread; blocking IpcClient calls run on a
// helper thread while the test thread pumps the loop. The loop runs on a
// ManualClock: the server's deadlines and timers see time pass only when a
// test advances it; waits for socket events have real-time upper bounds.
#include "smcroute/runtime/ipc_client.hpp"
#include "smcroute/runtime/ipc_server.hpp"

#include <gtest/gtest.h>

#include "loop_time.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <grp.h>
#include <memory>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace smcroute;
using namespace std::chrono_literals;

namespace {

UniqueFd raw_socket()
{
    return UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

sockaddr_un address(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    return addr;
}

UniqueFd connect_raw(const std::string& path)
{
    UniqueFd fd = raw_socket();
    auto addr = address(path);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    return fd;
}

void send_all(int fd, const std::string& bytes)
{
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

// Everything readable right now; sets eof when the peer closed.
std::string read_available(int fd, bool& eof)
{
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
            continue;
        }
        eof = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        return out;
    }
}

std::vector<Frame> frames_of(const std::string& bytes)
{
    FrameReader r;
    r.feed(bytes.data(), bytes.size());
    std::vector<Frame> out;
    for (;;) {
        auto f = r.next();
        EXPECT_TRUE(f.ok());
        if (!f || !*f)
            return out;
        out.push_back(std::move(**f));
    }
}

class IpcServerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/smcroute-ipc-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/smcroute.sock";
        log_.set_level(LogLevel::none);
    }
    void TearDown() override
    {
        server_.reset();
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }

    // Default handler: "echo A B" -> rows A, B then END 0 "ok";
    // "rows N SIZE" -> N rows of SIZE bytes; "sleep MS" -> END 0 "slept"
    // after holding up the loop for MS ms of the test clock (running
    // while_held_ meanwhile); "fail" -> END 1.
    void start(const IpcLimits& limits = {})
    {
        auto s = IpcServer::listen(
            loop_, log_, path_,
            [this](const Request& req, const Peer& peer, Reply& reply) {
                ++requests_;
                last_peer_ = peer;
                last_flags_ = req.flags;
                if (req.args[0] == "echo") {
                    for (size_t i = 1; i < req.args.size(); ++i)
                        reply.row(req.args[i]);
                    reply.end(0, "ok");
                } else if (req.args[0] == "rows") {
                    size_t n = std::stoul(req.args.at(1)), size = std::stoul(req.args.at(2));
                    for (size_t i = 0; i < n; ++i)
                        reply.row(std::string(size, 'r'));
                    reply.end(0, "");
                } else if (req.args[0] == "sleep") { // "sleep MS": holds up the loop
                    if (while_held_)
                        while_held_();
                    clock_.advance(std::chrono::milliseconds(std::stoul(req.args.at(1))));
                    reply.end(0, "slept");
                } else if (req.args[0] == "noend") {
                    reply.row("forgot the end");
                } else if (req.args[0] == "stream" || req.args[0] == "streamnoend") {
                    // "stream N SIZE": N numbered rows of SIZE bytes, 10 per pull.
                    size_t n = std::stoul(req.args.at(1)), size = std::stoul(req.args.at(2));
                    bool with_end = req.args[0] == "stream";
                    auto token = std::make_shared<int>(0);
                    stream_alive_ = token;
                    size_t next = 0;
                    reply.stream([this, n, size, next, with_end, token](Reply& out) mutable {
                        ++pulls_;
                        for (size_t k = 0; k < 10 && next < n; ++k, ++next) {
                            std::string row = cat(next, ":");
                            row.resize(std::max(size, row.size()), 's');
                            out.row(row);
                            produced_ += row.size();
                        }
                        if (next < n)
                            return true;
                        if (with_end)
                            out.end(0, "streamed");
                        return false;
                    });
                } else if (req.args[0] == "monitor") { // held open; the test pushes into held_
                    auto h = reply.hold([](uint64_t n) { return cat("dropped ", n); });
                    if (!h) {
                        reply.end(1, "not held");
                        return;
                    }
                    held_.push_back(h);
                } else if (req.args[0] == "slowstart") {
                    // "slowstart MS N": nothing for MS ms (a first pass
                    // that only measures), then N rows.
                    auto from = loop_.now() + std::chrono::milliseconds(std::stoul(req.args.at(1)));
                    size_t n = std::stoul(req.args.at(2));
                    reply.stream([this, from, n](Reply& out) {
                        ++pulls_;
                        if (loop_.now() < from)
                            return true;
                        for (size_t i = 0; i < n; ++i)
                            out.row(cat("row ", i));
                        out.end(0, "late");
                        return false;
                    });
                } else {
                    reply.end(1, cat("unknown command ", req.args[0]));
                }
            },
            limits);
        ASSERT_TRUE(s.ok()) << s.error().message;
        server_ = std::move(*s);
    }

    // Run the loop until pred() or `limit` of real time; each iteration
    // moves the test clock by `tick` (none: it stands still).
    template <class Pred>
    bool pump_until(Pred pred, std::chrono::milliseconds limit = 3000ms, std::chrono::milliseconds tick = 0ms)
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!pred() && std::chrono::steady_clock::now() < deadline) {
            EXPECT_TRUE(loop_.run_once(5ms).ok());
            clock_.advance(tick);
        }
        return pred();
    }
    void pump_for(std::chrono::milliseconds d)
    {
        pump_until([] { return false; }, d);
    }

    // Let test-clock time pass (tests/unit/loop_time).
    void advance(std::chrono::milliseconds d) { test::let_pass(loop_, clock_, d); }
    template <class Pred>
    bool advance_until(Pred pred, std::chrono::milliseconds limit)
    {
        return test::let_pass_until(loop_, clock_, limit, pred);
    }

    // Send one request over a raw connection and pump until its END frame
    // (or the connection closes): the END, if any.
    std::optional<EndFrame> ask(int fd, const Request& req)
    {
        auto frame = encode_request(req);
        EXPECT_TRUE(frame.ok());
        if (!frame || ::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame->size()))
            return std::nullopt;
        std::string got;
        bool eof = false;
        std::optional<EndFrame> end;
        pump_until([&] {
            got += read_available(fd, eof);
            for (const Frame& f : frames_of(got))
                if (f.type == FrameType::end)
                    if (auto e = decode_end(f.body))
                        end = *e;
            return end.has_value() || eof;
        });
        return end;
    }

    // Pump until no stream is pulled any more: each client that does not
    // read has its unsent output at the low-water mark.
    void stall_streams()
    {
        size_t seen = 0;
        for (int i = 0; i < 100 && (pulls_ == 0 || pulls_ != seen); ++i) {
            seen = pulls_;
            pump_for(100ms);
        }
        EXPECT_EQ(pulls_, seen) << "the streams never stalled";
    }

    // Run fn on a helper thread while pumping the loop here.
    template <class Fn>
    void with_client(Fn fn)
    {
        std::atomic<bool> done{false};
        std::thread t([&] {
            fn();
            done = true;
        });
        bool finished = pump_until([&] { return done.load(); }, 10000ms, tick_);
        t.join();
        EXPECT_TRUE(finished);
    }

    std::string dir_, path_;
    Logger log_;
    ManualClock clock_;
    EventLoop loop_{clock_};
    std::chrono::milliseconds tick_ = 0ms; // test-clock time per iteration of with_client
    std::function<void()> while_held_;     // run by "sleep" while it holds up the loop
    std::unique_ptr<IpcServer> server_;
    int requests_ = 0;
    size_t pulls_ = 0, produced_ = 0;
    std::weak_ptr<int> stream_alive_; // expires when the server drops the producer
    Peer last_peer_;
    uint32_t last_flags_ = 0;
    std::vector<std::shared_ptr<HeldReply>> held_; // "monitor" answers
};

} // namespace

TEST_F(IpcServerTest, SocketModeAndPath)
{
    start();
    EXPECT_EQ(server_->path(), path_);
    struct stat st{};
    ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(IpcServerTest, RequestGetsRowsAndEnd)
{
    start();
    std::vector<std::string> rows;
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok()) << c.error().message;
        end = c->call(Request{req_detail, {"echo", "row one", "row two"}},
                      [&](std::string_view r) { rows.emplace_back(r); });
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_EQ(*end, (EndFrame{0, "ok"}));
    EXPECT_EQ(rows, (std::vector<std::string>{"row one", "row two"}));
    EXPECT_EQ(requests_, 1);
    EXPECT_EQ(last_flags_, req_detail);
    EXPECT_EQ(last_peer_.pid, ::getpid());
    EXPECT_EQ(last_peer_.uid, ::getuid());
    EXPECT_EQ(last_peer_.gid, ::getgid());
    if (::getuid() == 0) {
        EXPECT_TRUE(last_peer_.may_change_state);
    }
}

TEST_F(IpcServerTest, SeveralRequestsOverOneConnection)
{
    start();
    std::vector<std::string> rows;
    std::vector<EndFrame> ends;
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok()) << c.error().message;
        for (const char* word : {"a", "b", "c"}) {
            auto e = c->call(Request{0, {"echo", word}}, [&](std::string_view r) { rows.emplace_back(r); });
            ASSERT_TRUE(e.ok()) << e.error().message;
            ends.push_back(*e);
        }
        auto e = c->call(Request{0, {"bogus"}}, [&](std::string_view r) { rows.emplace_back(r); });
        ASSERT_TRUE(e.ok()) << e.error().message;
        ends.push_back(*e);
    });
    EXPECT_EQ(rows, (std::vector<std::string>{"a", "b", "c"}));
    ASSERT_EQ(ends.size(), 4u);
    EXPECT_EQ(ends[3], (EndFrame{1, "unknown command bogus"}));
    EXPECT_EQ(requests_, 4);
}

TEST_F(IpcServerTest, PipelinedRequestsAnsweredInOrder)
{
    start();
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"echo", "1"}}) + *encode_request(Request{0, {"echo", "2"}}));
    std::string got;
    bool eof = false;
    ASSERT_TRUE(pump_until([&] {
        got += read_available(fd.get(), eof);
        return frames_of(got).size() == 4;
    }));
    auto frames = frames_of(got);
    EXPECT_EQ(frames[0].body, "1");
    EXPECT_EQ(frames[1].type, FrameType::end);
    EXPECT_EQ(frames[2].body, "2");
    EXPECT_EQ(frames[3].type, FrameType::end);
    EXPECT_FALSE(eof);
    EXPECT_EQ(server_->client_count(), 1u);
}

TEST_F(IpcServerTest, LargeReplyIsStreamed)
{
    start();
    size_t rows = 0, bytes = 0;
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 5000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"rows", "20000", "500"}}, [&](std::string_view r) {
            ++rows;
            bytes += r.size();
        });
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_EQ(rows, 20000u);
    EXPECT_EQ(bytes, 20000u * 500);
}

TEST_F(IpcServerTest, GarbageGetsErrorThenClose)
{
    start();
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), "GET / HTTP/1.0\r\n\r\n");
    std::string got;
    bool eof = false;
    ASSERT_TRUE(pump_until([&] {
        got += read_available(fd.get(), eof);
        return eof;
    }));
    auto frames = frames_of(got);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].type, FrameType::end);
    auto end = decode_end(frames[0].body);
    ASSERT_TRUE(end.ok());
    EXPECT_EQ(*end, (EndFrame{64, "bad frame magic"}));
    EXPECT_EQ(requests_, 0);
    EXPECT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
}

TEST_F(IpcServerTest, FrameErrorsGetTheirMessage)
{
    start();
    struct Case {
        std::string bytes;
        std::string message;
    };
    std::string hdr_bad_version = encode_row("x");
    hdr_bad_version[11] = 7;
    std::string oversize = encode_row("x");
    oversize[4] = 1; // length 0x01000001
    std::string row = encode_row("a client may not send rows");
    std::vector<Case> cases = {
        {hdr_bad_version, "unsupported protocol version 7 (expected 1)"},
        {oversize, "frame too large: 16777217 bytes, at most 65536"},
        {row, "unexpected frame type 2 from a client"},
        {encode_frame(FrameType::request, ""), "malformed request: body of 0 bytes is shorter than its 6-byte header"},
        {encode_frame(FrameType::request, std::string("\0\0\0\0\0\0", 6)), "malformed request: no arguments"},
    };
    for (const auto& c : cases) {
        UniqueFd fd = connect_raw(path_);
        send_all(fd.get(), c.bytes);
        std::string got;
        bool eof = false;
        ASSERT_TRUE(pump_until([&] {
            got += read_available(fd.get(), eof);
            return eof;
        })) << c.message;
        auto frames = frames_of(got);
        ASSERT_EQ(frames.size(), 1u) << c.message;
        auto end = decode_end(frames[0].body);
        ASSERT_TRUE(end.ok());
        EXPECT_EQ(end->status, 64u);
        EXPECT_EQ(end->message, c.message);
    }
    EXPECT_EQ(requests_, 0);
}

TEST_F(IpcServerTest, GoodRequestBeforeGarbageIsAnswered)
{
    start();
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"echo", "first"}}) + "garbage.....");
    std::string got;
    bool eof = false;
    ASSERT_TRUE(pump_until([&] {
        got += read_available(fd.get(), eof);
        return eof;
    }));
    auto frames = frames_of(got);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].body, "first");
    EXPECT_EQ(*decode_end(frames[1].body), (EndFrame{0, "ok"}));
    EXPECT_EQ(*decode_end(frames[2].body), (EndFrame{64, "bad frame magic"}));
}

TEST_F(IpcServerTest, HandlerWithoutEndStillEnds)
{
    start();
    Result<EndFrame> end = fail("not run");
    std::vector<std::string> rows;
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"noend"}}, [&](std::string_view r) { rows.emplace_back(r); });
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_NE(end->status, 0u);
    EXPECT_EQ(rows.size(), 1u);
}

TEST_F(IpcServerTest, StaleSocketFileIsReplaced)
{
    {
        // A socket file nobody listens on, as a crashed daemon leaves it.
        UniqueFd fd = raw_socket();
        auto addr = address(path_);
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    }
    ASSERT_EQ(::chmod(path_.c_str(), 0777), 0);
    start();
    struct stat after{};
    ASSERT_EQ(::lstat(path_.c_str(), &after), 0);
    EXPECT_EQ(after.st_mode & 0777, 0660u); // a new socket, not the old file
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"echo"}}, nullptr);
    });
    EXPECT_TRUE(end.ok());
}

TEST_F(IpcServerTest, SecondDaemonOnLivePathFails)
{
    start();
    EventLoop other_loop;
    auto second = IpcServer::listen(other_loop, log_, path_, [](const Request&, const Peer&, Reply&) {});
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().message, "another daemon is already running on " + path_);
    // The first one still works and still owns the path.
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"echo"}}, nullptr);
    });
    EXPECT_TRUE(end.ok());
}

TEST_F(IpcServerTest, RegularFileIsNotRemoved)
{
    { UniqueFd f(::open(path_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)); }
    auto s = IpcServer::listen(loop_, log_, path_, [](const Request&, const Peer&, Reply&) {});
    ASSERT_FALSE(s.ok());
    struct stat st{};
    ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(IpcServerTest, DestructorUnlinksAndClosesClients)
{
    start();
    UniqueFd fd = connect_raw(path_);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
    server_.reset();
    struct stat st{};
    EXPECT_NE(::lstat(path_.c_str(), &st), 0);
    bool eof = false;
    (void)read_available(fd.get(), eof);
    EXPECT_TRUE(eof);
    // Nothing of the server remains in the loop.
    EXPECT_TRUE(loop_.run_once(10ms).ok());
    EXPECT_EQ(loop_.timer_count(), 0u);
}

TEST_F(IpcServerTest, HalfFrameDoesNotBlockOthers)
{
    start();
    UniqueFd slow = connect_raw(path_);
    std::string frame = *encode_request(Request{0, {"echo", "slow"}});
    send_all(slow.get(), frame.substr(0, 7));
    pump_for(20ms);
    Result<EndFrame> end = fail("not run");
    std::vector<std::string> rows;
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"echo", "fast"}}, [&](std::string_view r) { rows.emplace_back(r); });
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_EQ(rows, (std::vector<std::string>{"fast"}));
    // The slow one completes its frame later and is answered.
    send_all(slow.get(), frame.substr(7));
    std::string got;
    bool eof = false;
    ASSERT_TRUE(pump_until([&] {
        got += read_available(slow.get(), eof);
        return frames_of(got).size() == 2;
    }));
    EXPECT_EQ(frames_of(got)[0].body, "slow");
}

TEST_F(IpcServerTest, IdleClientIsDropped)
{
    IpcLimits limits;
    limits.idle_timeout = 100ms;
    start(limits);
    UniqueFd idle = connect_raw(path_);
    send_all(idle.get(), encode_row("x").substr(0, 5)); // half a frame, then nothing
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
    auto start_time = loop_.now();
    ASSERT_TRUE(advance_until([&] { return server_->client_count() == 0; }, 2000ms));
    EXPECT_GE(loop_.now() - start_time, 100ms);
    bool eof = false;
    (void)read_available(idle.get(), eof);
    EXPECT_TRUE(eof);
    EXPECT_EQ(loop_.timer_count(), 0u); // sweep timer stops with no clients
}

TEST_F(IpcServerTest, ActiveClientIsNotDroppedAsIdle)
{
    IpcLimits limits;
    limits.idle_timeout = 100ms;
    start(limits);
    // A request every 50 ms of the test clock: 300 ms in all, each gap
    // half the idle timeout.
    int ok = 0;
    UniqueFd fd = connect_raw(path_);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
    for (int i = 0; i < 6; ++i) {
        advance(50ms);
        auto e = ask(fd.get(), Request{0, {"echo", "x"}});
        if (e && *e == (EndFrame{0, "ok"}))
            ++ok;
    }
    EXPECT_EQ(ok, 6);
    EXPECT_EQ(server_->client_count(), 1u);
}

TEST_F(IpcServerTest, TooManyClientsAreRefused)
{
    IpcLimits limits;
    limits.max_clients = 2;
    limits.reserved_clients = 0; // whoever runs the test
    start(limits);
    UniqueFd a = connect_raw(path_), b = connect_raw(path_);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 2; }));
    UniqueFd c = connect_raw(path_);
    pump_for(30ms);
    EXPECT_EQ(server_->client_count(), 2u);
    // Told why, then closed.
    bool eof = false;
    auto frames = frames_of(read_available(c.get(), eof));
    EXPECT_TRUE(eof);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(*decode_end(frames[0].body), (EndFrame{69, "too many connections: all 2 are in use, try again later"}));
    // Once one leaves, a new one is served.
    a.reset();
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto cl = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(cl.ok());
        end = cl->call(Request{0, {"echo"}}, nullptr);
    });
    EXPECT_TRUE(end.ok());
}

TEST_F(IpcServerTest, ClientThatDoesNotReadIsDroppedOnOverflow)
{
    IpcLimits limits;
    limits.max_output = 1024 * 1024;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    // 20 MB of rows; the client reads nothing.
    send_all(fd.get(), *encode_request(Request{0, {"rows", "20000", "1000"}}));
    ASSERT_TRUE(pump_until([&] { return requests_ == 1 && server_->client_count() == 0; }));
}

TEST_F(IpcServerTest, HangupMidReplyIsHarmless)
{
    start();
    {
        UniqueFd fd = connect_raw(path_);
        send_all(fd.get(), *encode_request(Request{0, {"rows", "5000", "1000"}}));
    } // closed before any reply is read: the server must get EPIPE, not SIGPIPE
    ASSERT_TRUE(pump_until([&] { return requests_ == 1 && server_->client_count() == 0; }));
    // And it keeps serving.
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"echo"}}, nullptr);
    });
    EXPECT_TRUE(end.ok());
}

TEST_F(IpcServerTest, HalfClosedClientStillGetsItsAnswer)
{
    start();
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"echo", "bye"}}));
    ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
    std::string got;
    bool eof = false;
    ASSERT_TRUE(pump_until([&] {
        got += read_available(fd.get(), eof);
        return eof;
    }));
    auto frames = frames_of(got);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].body, "bye");
}

// ---- client errors, against hand-made servers ----

TEST_F(IpcServerTest, ClientConnectErrorNamesThePath)
{
    auto c = IpcClient::connect(path_, 500ms);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().message,
              "cannot connect to " + path_ + ": No such file or directory (is the daemon running?)");
}

TEST_F(IpcServerTest, ClientTimesOutOnSilentDaemon)
{
    UniqueFd listener = raw_socket();
    auto addr = address(path_);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    auto c = IpcClient::connect(path_, 100ms); // the backlog accepts it
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto start_time = std::chrono::steady_clock::now(); // the client's own clock
    auto end = c->call(Request{0, {"show"}}, nullptr);
    ASSERT_FALSE(end.ok());
    EXPECT_EQ(end.error().message, "no answer from the daemon within 100 ms");
    EXPECT_GE(std::chrono::steady_clock::now() - start_time, 90ms);
    EXPECT_FALSE(c->connected());
}

TEST_F(IpcServerTest, ClientSeesEarlyClose)
{
    UniqueFd listener = raw_socket();
    auto addr = address(path_);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    std::thread daemon([&] {
        UniqueFd conn(::accept(listener.get(), nullptr, nullptr));
        char buf[256];
        (void)::recv(conn.get(), buf, sizeof buf, 0);
        std::string row = encode_row("partial");
        (void)::send(conn.get(), row.data(), row.size(), MSG_NOSIGNAL);
    });
    auto c = IpcClient::connect(path_, 2000ms);
    ASSERT_TRUE(c.ok());
    std::vector<std::string> rows;
    auto end = c->call(Request{0, {"show"}}, [&](std::string_view r) { rows.emplace_back(r); });
    daemon.join();
    ASSERT_FALSE(end.ok());
    EXPECT_EQ(end.error().message, "connection closed by the daemon");
    EXPECT_EQ(rows, (std::vector<std::string>{"partial"}));
}

TEST_F(IpcServerTest, ClientRefusesOversizeRequestButStaysConnected)
{
    start();
    Result<EndFrame> big = fail("not run"), small = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        big = c->call(Request{0, {"echo", std::string(70000, 'x')}}, nullptr);
        small = c->call(Request{0, {"echo"}}, nullptr);
    });
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().message, "request too large: 70014 bytes, at most 65536");
    EXPECT_TRUE(small.ok());
}

// ---- streamed answers (Reply::stream) ----

TEST_F(IpcServerTest, StreamedAnswerArrivesWholeAndInOrder)
{
    start();
    std::vector<std::string> rows;
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 5000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"stream", "30000", "100"}}, [&](std::string_view r) { rows.emplace_back(r); });
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_EQ(*end, (EndFrame{0, "streamed"}));
    ASSERT_EQ(rows.size(), 30000u);
    for (size_t i = 0; i < rows.size(); ++i) {
        ASSERT_EQ(rows[i].rfind(cat(i, ":"), 0), 0u) << i;
        ASSERT_EQ(rows[i].size(), 100u);
    }
    EXPECT_EQ(pulls_, 3000u);
    EXPECT_TRUE(stream_alive_.expired()) << "the producer is released at its end";
}

TEST_F(IpcServerTest, StreamIsPulledOnlyAsTheClientReads)
{
    IpcLimits limits;
    limits.stream_low_water = 8 * 1024;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    // 10 MB on offer; the client reads nothing for a while.
    send_all(fd.get(), *encode_request(Request{0, {"stream", "100000", "100"}}));
    ASSERT_TRUE(pump_until([&] { return pulls_ > 0; }));
    pump_for(200ms);
    const size_t stalled = produced_;
    // What was produced fits the socket buffers and one low-water mark: the
    // server holds no more than that for a client that does not read.
    int sndbuf = 0, rcvbuf = 0;
    socklen_t len = sizeof sndbuf;
    ASSERT_EQ(::getsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len), 0);
    ASSERT_EQ(::getsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len), 0);
    EXPECT_LT(stalled, 4 * static_cast<size_t>(sndbuf + rcvbuf) + 64 * 1024) << "produced " << stalled;
    pump_for(100ms);
    EXPECT_EQ(produced_, stalled) << "nothing more is pulled while the client does not read";
    EXPECT_FALSE(stream_alive_.expired());

    // Reading resumes the stream; everything arrives, in order.
    std::string got;
    size_t rows = 0, next_row = 0;
    bool eof = false, ended = false;
    FrameReader reader;
    ASSERT_TRUE(pump_until(
        [&] {
            got = read_available(fd.get(), eof);
            reader.feed(got.data(), got.size());
            for (;;) {
                auto f = reader.next();
                if (!f || !*f)
                    break;
                if ((*f)->type == FrameType::end) {
                    ended = true;
                    break;
                }
                EXPECT_EQ((*f)->body.rfind(cat(next_row, ":"), 0), 0u);
                ++next_row;
                ++rows;
            }
            return ended || eof;
        },
        20000ms));
    EXPECT_TRUE(ended);
    EXPECT_EQ(rows, 100000u);
    EXPECT_EQ(server_->client_count(), 1u);
}

TEST_F(IpcServerTest, ClientThatStopsReadingAStreamIsDroppedWhenIdle)
{
    IpcLimits limits;
    limits.idle_timeout = 150ms;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"stream", "1000000", "100"}}));
    ASSERT_TRUE(pump_until([&] { return pulls_ > 0; }));
    stall_streams(); // its buffers full: no more progress
    auto stalled = loop_.now();
    ASSERT_TRUE(advance_until([&] { return server_->client_count() == 0; }, 3000ms));
    EXPECT_GE(loop_.now() - stalled, 150ms);
    EXPECT_TRUE(stream_alive_.expired()) << "dropping the client frees its producer";
    EXPECT_LT(produced_, 10u * 1024 * 1024) << "only what the client could have read was produced";
}

// Time the daemon spends on an answer before its first row (the first,
// measuring pass of a long text listing) is not the client's idleness.
TEST_F(IpcServerTest, StreamSlowToStartIsNotIdle)
{
    IpcLimits limits;
    limits.idle_timeout = 150ms;
    start(limits);
    std::vector<std::string> rows;
    Result<EndFrame> end = fail("not run");
    tick_ = 5ms; // the test clock moves while the answer is silent
    with_client([&] {
        auto c = IpcClient::connect(path_, 5000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"slowstart", "600", "3"}}, [&](std::string_view r) { rows.emplace_back(r); });
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_EQ(*end, (EndFrame{0, "late"}));
    EXPECT_EQ(rows, (std::vector<std::string>{"row 0", "row 1", "row 2"}));
    EXPECT_GT(pulls_, 1u);
}

// A client gone while its answer is still silent (slow to start) is
// dropped at once, not when the answer would first be written.
TEST_F(IpcServerTest, HangupBeforeAStreamsFirstRowFreesTheProducer)
{
    start();
    {
        UniqueFd fd = connect_raw(path_);
        send_all(fd.get(), *encode_request(Request{0, {"slowstart", "60000", "3"}}));
        ASSERT_TRUE(pump_until([&] { return pulls_ > 0; }));
    }
    EXPECT_TRUE(pump_until([&] { return server_->client_count() == 0; }, 2000ms));
}

TEST_F(IpcServerTest, HangupMidStreamFreesTheProducer)
{
    start();
    {
        UniqueFd fd = connect_raw(path_);
        send_all(fd.get(), *encode_request(Request{0, {"stream", "1000000", "100"}}));
        ASSERT_TRUE(pump_until([&] { return pulls_ > 0; }));
    }
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
    EXPECT_TRUE(stream_alive_.expired());
    EXPECT_LT(produced_, 10u * 1024 * 1024);
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"echo"}}, nullptr);
    });
    EXPECT_TRUE(end.ok());
}

// ---- memory given back after a crowd with large answers leaves ----

TEST_F(IpcServerTest, MemoryIsGivenBackOnceAfterClientsWithLargeAnswersLeave)
{
    IpcLimits limits;
    limits.release_delay = 100ms;
    int releases = 0;
    limits.release_memory = [&] { ++releases; };
    start(limits);
    // Small answers come and go: nothing to give back.
    for (int i = 0; i < 3; ++i) {
        UniqueFd fd = connect_raw(path_);
        send_all(fd.get(), *encode_request(Request{0, {"echo", "a", "b"}}));
        ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1 && requests_ == i + 1; }));
        fd.reset();
        ASSERT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
    }
    advance(300ms);
    EXPECT_EQ(releases, 0);
    // Five clients each get a large streamed answer they do not read, then
    // leave together: one release, release_delay after the first left.
    {
        std::vector<UniqueFd> crowd;
        for (int i = 0; i < 5; ++i) {
            crowd.push_back(connect_raw(path_));
            send_all(crowd.back().get(), *encode_request(Request{0, {"stream", "1000000", "100"}}));
        }
        ASSERT_TRUE(pump_until([&] { return server_->client_count() == 5; }));
        stall_streams(); // every queue at the low-water mark
        EXPECT_EQ(releases, 0);
    }
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
    auto left = loop_.now();
    EXPECT_TRUE(advance_until([&] { return releases > 0; }, 2000ms));
    EXPECT_GE(loop_.now() - left, 100ms);
    advance(300ms);
    EXPECT_EQ(releases, 1);
    // The server gone before a release is due: the timer goes with it.
    {
        UniqueFd fd = connect_raw(path_);
        send_all(fd.get(), *encode_request(Request{0, {"stream", "1000000", "100"}}));
        ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
        stall_streams();
    }
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
    server_.reset();
    EXPECT_EQ(loop_.timer_count(), 0u);
    EXPECT_EQ(releases, 1);
}

TEST_F(IpcServerTest, RequestsAfterAStreamWaitForIt)
{
    start();
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"stream", "20000", "50"}}) +
                           *encode_request(Request{0, {"echo", "after"}}));
    std::vector<Frame> frames;
    FrameReader reader;
    bool eof = false;
    ASSERT_TRUE(pump_until(
        [&] {
            std::string got = read_available(fd.get(), eof);
            reader.feed(got.data(), got.size());
            for (auto f = reader.next(); f && *f; f = reader.next())
                frames.push_back(std::move(**f));
            return frames.size() >= 20003 || eof;
        },
        10000ms));
    ASSERT_EQ(frames.size(), 20003u);
    EXPECT_EQ(frames[0].body.rfind("0:", 0), 0u);
    EXPECT_EQ(frames[19999].body.rfind("19999:", 0), 0u);
    EXPECT_EQ(*decode_end(frames[20000].body), (EndFrame{0, "streamed"}));
    EXPECT_EQ(frames[20001].body, "after");
    EXPECT_EQ(*decode_end(frames[20002].body), (EndFrame{0, "ok"}));
    EXPECT_EQ(requests_, 2);
}

TEST_F(IpcServerTest, HalfClosedClientGetsAWholeStream)
{
    start();
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"stream", "5000", "300"}}) +
                           *encode_request(Request{0, {"echo", "last"}}));
    ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
    std::string got;
    bool eof = false;
    ASSERT_TRUE(pump_until([&] {
        got += read_available(fd.get(), eof);
        return eof;
    }, 10000ms));
    auto frames = frames_of(got);
    ASSERT_EQ(frames.size(), 5003u);
    EXPECT_EQ(frames[5001].body, "last");
    EXPECT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
}

TEST_F(IpcServerTest, StreamWithoutEndStillEnds)
{
    start();
    Result<EndFrame> end = fail("not run");
    size_t rows = 0;
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        end = c->call(Request{0, {"streamnoend", "25", "10"}}, [&](std::string_view) { ++rows; });
        // The connection stays in step for the next request.
        auto again = c->call(Request{0, {"echo", "x"}}, nullptr);
        EXPECT_TRUE(again.ok());
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_EQ(end->status, 70u);
    EXPECT_EQ(rows, 25u);
}

// ---- pipelined requests (IpcClient::queue / drain) ----

TEST_F(IpcServerTest, PipelinedClientGetsEveryAnswerInOrder)
{
    // 3000 requests in flight at up to 200 at a time, with streamed answers
    // among them (which make the server stop reading this client until each
    // is sent): every row and END comes back in request order.
    start();
    std::vector<std::string> rows;
    std::vector<EndFrame> ends;
    Status st = fail("not run");
    size_t left = 1;
    with_client([&] {
        auto c = IpcClient::connect(path_, 5000ms);
        ASSERT_TRUE(c.ok());
        auto on_row = [&](std::string_view r) { rows.emplace_back(r); };
        auto on_end = [&](const EndFrame& e) { ends.push_back(e); };
        for (size_t i = 0; i < 3000; ++i) {
            Request req = i % 500 == 250 ? Request{0, {"stream", "2000", "100"}}
                          : i % 3 == 0   ? Request{0, {"bogus"}}
                                         : Request{0, {"echo", cat(i)}};
            ASSERT_TRUE(c->queue(req).ok());
            if (c->outstanding() >= 200) {
                st = c->drain(100, on_row, on_end);
                ASSERT_TRUE(st.ok()) << st.error().message;
                ASSERT_LE(c->outstanding(), 100u);
            }
        }
        st = c->drain(0, on_row, on_end);
        left = c->outstanding();
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_EQ(left, 0u);
    ASSERT_EQ(ends.size(), 3000u);
    size_t r = 0;
    for (size_t i = 0; i < 3000; ++i) {
        if (i % 500 == 250) {
            EXPECT_EQ(ends[i], (EndFrame{0, "streamed"})) << i;
            for (size_t k = 0; k < 2000; ++k, ++r)
                ASSERT_EQ(rows.at(r).rfind(cat(k, ":"), 0), 0u) << i << " " << k;
        } else if (i % 3 == 0) {
            EXPECT_EQ(ends[i], (EndFrame{1, "unknown command bogus"})) << i;
        } else {
            EXPECT_EQ(ends[i], (EndFrame{0, "ok"})) << i;
            ASSERT_EQ(rows.at(r++), cat(i)) << i;
        }
    }
    EXPECT_EQ(r, rows.size());
    EXPECT_EQ(requests_, 3000);
}

TEST_F(IpcServerTest, PipelinedAnswersLargerThanTheBacklogLimit)
{
    // 400 requests sent at once, each answered with 40 KB: 16 MB of answers,
    // far past the server's back-pressure limit and the socket buffers. The
    // client reads while it sends, so neither side blocks; the server keeps
    // the client (its queue stays bounded).
    start();
    size_t rows = 0, ends = 0;
    Status st = fail("not run");
    with_client([&] {
        auto c = IpcClient::connect(path_, 5000ms);
        ASSERT_TRUE(c.ok());
        for (int i = 0; i < 400; ++i)
            ASSERT_TRUE(c->queue(Request{0, {"rows", "40", "1000"}}).ok());
        EXPECT_EQ(c->outstanding(), 400u);
        st = c->drain(
            0,
            [&](std::string_view r) {
                EXPECT_EQ(r.size(), 1000u);
                ++rows;
            },
            [&](const EndFrame& e) {
                EXPECT_EQ(e.status, 0u);
                ++ends;
            });
        // Still connected: the server did not give up on this client.
        auto again = c->call(Request{0, {"echo", "again"}}, nullptr);
        EXPECT_TRUE(again.ok());
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_EQ(rows, 400u * 40);
    EXPECT_EQ(ends, 400u);
    EXPECT_EQ(requests_, 401);
}

TEST_F(IpcServerTest, PipelinedClientSeesCloseAfterSomeAnswers)
{
    // A daemon that answers two of five pipelined requests and closes: the
    // two arrive, then the error, with three left unanswered.
    UniqueFd listener = raw_socket();
    auto addr = address(path_);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    std::thread daemon([&] {
        UniqueFd conn(::accept(listener.get(), nullptr, nullptr));
        FrameReader reader;
        size_t seen = 0;
        char buf[256];
        while (seen < 5) {
            ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
            if (n <= 0)
                return;
            reader.feed(buf, static_cast<size_t>(n));
            for (auto f = reader.next(); f && *f; f = reader.next())
                ++seen;
        }
        std::string answer = encode_row("one") + encode_end(EndFrame{0, ""}) + encode_end(EndFrame{1, "two"});
        (void)::send(conn.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
    });
    auto c = IpcClient::connect(path_, 2000ms);
    ASSERT_TRUE(c.ok());
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(c->queue(Request{0, {"echo", cat(i)}}).ok());
    std::vector<std::string> rows;
    std::vector<EndFrame> ends;
    Status st = c->drain(
        0, [&](std::string_view r) { rows.emplace_back(r); }, [&](const EndFrame& e) { ends.push_back(e); });
    daemon.join();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, "connection closed by the daemon");
    EXPECT_EQ(rows, (std::vector<std::string>{"one"}));
    EXPECT_EQ(ends, (std::vector<EndFrame>{{0, ""}, {1, "two"}}));
    EXPECT_EQ(c->outstanding(), 3u);
    EXPECT_FALSE(c->connected());
}

TEST_F(IpcServerTest, PipelinedQueueRefusesOversizeRequestAlone)
{
    start();
    Status big = fail("not run"), st = fail("not run");
    std::vector<EndFrame> ends;
    with_client([&] {
        auto c = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(c.ok());
        ASSERT_TRUE(c->queue(Request{0, {"echo"}}).ok());
        big = c->queue(Request{0, {"echo", std::string(70000, 'x')}});
        EXPECT_EQ(c->outstanding(), 1u);
        ASSERT_TRUE(c->queue(Request{0, {"bogus"}}).ok());
        st = c->drain(0, nullptr, [&](const EndFrame& e) { ends.push_back(e); });
    });
    ASSERT_FALSE(big.ok());
    EXPECT_TRUE(st.ok());
    EXPECT_EQ(ends, (std::vector<EndFrame>{{0, "ok"}, {1, "unknown command bogus"}}));
}

// ---- who may change state, and slots per peer (forked children take other
// uids and groups, so these need root) ----

namespace {

struct Ids {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
};

// Forks a child that takes ids (with keep_saved_root, a saved uid of 0 it
// may switch back to) and exits with body()'s value (100 when it could not
// take them). Only plain system calls in the child.
template <class Fn>
pid_t fork_as(const Ids& ids, Fn body, bool keep_saved_root = false)
{
    pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    int rc = 100;
    if (::setgroups(ids.groups.size(), ids.groups.data()) == 0 && ::setresgid(ids.gid, ids.gid, ids.gid) == 0 &&
        ::setresuid(ids.uid, ids.uid, keep_saved_root ? 0 : ids.uid) == 0)
        rc = body();
    ::_exit(rc);
}

// True once the child has exited (its exit status, or 1000 + the signal
// that killed it, in status); again true, status untouched, when called
// after that.
bool reaped(pid_t pid, int& status)
{
    int st = 0;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == 0)
        return false;
    if (r == pid)
        status = WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
    return true;
}

// A blocking connection (invalid on failure), for children.
UniqueFd dial(const std::string& path)
{
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto addr = address(path);
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return {};
    return fd;
}

// Sends an "echo" request and reads until its END: true when one came.
bool echo_exchange(int fd)
{
    auto frame = encode_request(Request{0, {"echo", "x"}});
    if (!frame || ::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame->size()))
        return false;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    FrameReader reader;
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return false;
        reader.feed(buf, static_cast<size_t>(n));
        for (auto f = reader.next(); f && *f; f = reader.next())
            if ((*f)->type == FrameType::end)
                return true;
    }
}

bool send_fds(int sock, const std::vector<int>& fds)
{
    char byte = 'x';
    iovec iov{&byte, 1};
    std::vector<char> ctrl(CMSG_SPACE(sizeof(int) * fds.size()));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctrl.data();
    msg.msg_controllen = ctrl.size();
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
    return ::sendmsg(sock, &msg, 0) == 1;
}

std::vector<UniqueFd> recv_fds(int sock, size_t n)
{
    char byte = 0;
    iovec iov{&byte, 1};
    std::vector<char> ctrl(CMSG_SPACE(sizeof(int) * n));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctrl.data();
    msg.msg_controllen = ctrl.size();
    std::vector<UniqueFd> out;
    if (::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
        return out;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
            out.emplace_back(fd);
        }
    }
    return out;
}

// n connections made by a child with ids, in connect order, handed over.
std::vector<UniqueFd> connections_as(const Ids& ids, const std::string& path, size_t n)
{
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        return {};
    UniqueFd mine(pair[0]), theirs(pair[1]);
    pid_t pid = fork_as(ids, [&] {
        std::vector<UniqueFd> held;
        std::vector<int> fds;
        for (size_t i = 0; i < n; ++i) {
            held.push_back(dial(path));
            if (!held.back())
                return 2;
            fds.push_back(held.back().get());
        }
        return send_fds(theirs.get(), fds) ? 0 : 3;
    });
    int st = 0;
    if (pid < 0 || ::waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return {};
    return recv_fds(mine.get(), n);
}

// The END a refused connection got, and that it was closed.
std::optional<EndFrame> refusal_of(int fd)
{
    bool eof = false;
    std::string got = read_available(fd, eof);
    auto frames = frames_of(got);
    if (!eof || frames.size() != 1 || frames[0].type != FrameType::end)
        return std::nullopt;
    auto end = decode_end(frames[0].body);
    return end ? std::optional<EndFrame>(*end) : std::nullopt;
}

#define NEEDS_ROOT()                                                                                                   \
    if (::geteuid() != 0)                                                                                              \
    GTEST_SKIP() << "needs root: connects as other users"

} // namespace

TEST_F(IpcServerTest, RightsAreThoseTheClientHadWhenItConnected)
{
    // The connecting process gets root back after connecting (as one that
    // execs a setuid-root program does): its requests still carry the
    // rights it connected with.
    NEEDS_ROOT();
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    IpcLimits limits;
    limits.mode = 0666;
    start(limits);
    const std::string path = path_;
    pid_t pid = fork_as(
        {65534, 65534, {}},
        [&] {
            UniqueFd fd = dial(path);
            if (!fd)
                return 2;
            if (::seteuid(0) != 0) // effective uid 0 and every capability again
                return 3;
            return echo_exchange(fd.get()) ? 0 : 4;
        },
        true);
    ASSERT_GT(pid, 0);
    int status = -1;
    ASSERT_TRUE(pump_until([&] { return reaped(pid, status); }, 10000ms));
    EXPECT_EQ(status, 0);
    EXPECT_EQ(requests_, 1);
    EXPECT_EQ(last_peer_.uid, 65534u);
    EXPECT_EQ(last_peer_.gid, 65534u);
    EXPECT_FALSE(last_peer_.may_change_state);
}

TEST_F(IpcServerTest, SocketGroupAsPrimaryOrSupplementaryGroupMayChangeState)
{
    NEEDS_ROOT();
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    IpcLimits limits;
    limits.mode = 0666;
    limits.group = 4242;
    start(limits);
    std::vector<gid_t> many; // more than fit the server's first SO_PEERGROUPS buffer
    for (gid_t g = 5000; g < 5100; ++g)
        many.push_back(g);
    many.push_back(4242);
    struct Case {
        const char* what;
        Ids ids;
        bool may;
    };
    const std::vector<Case> cases = {
        {"primary group", {65534, 4242, {}}, true},
        {"supplementary group", {65534, 65534, {4242}}, true},
        {"101st supplementary group", {65534, 65534, many}, true},
        {"other groups", {65534, 65534, {4243, 5000}}, false},
        {"no groups", {65533, 65533, {}}, false},
    };
    const std::string path = path_;
    for (const Case& c : cases) {
        const int before = requests_;
        pid_t pid = fork_as(c.ids, [&] {
            UniqueFd fd = dial(path);
            return fd && echo_exchange(fd.get()) ? 0 : 2;
        });
        ASSERT_GT(pid, 0);
        int status = -1;
        ASSERT_TRUE(pump_until([&] { return reaped(pid, status); }, 10000ms)) << c.what;
        EXPECT_EQ(status, 0) << c.what;
        EXPECT_EQ(requests_, before + 1) << c.what;
        EXPECT_EQ(last_peer_.uid, c.ids.uid) << c.what;
        EXPECT_EQ(last_peer_.gid, c.ids.gid) << c.what;
        EXPECT_EQ(last_peer_.may_change_state, c.may) << c.what;
    }
}

TEST_F(IpcServerTest, ConnectionsPerUidAreLimited)
{
    NEEDS_ROOT();
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    IpcLimits limits;
    limits.mode = 0666;
    limits.max_clients = 10;
    limits.reserved_clients = 2;
    limits.max_clients_per_uid = 3;
    start(limits);
    auto a = connections_as({65534, 65534, {}}, path_, 5);
    ASSERT_EQ(a.size(), 5u);
    std::optional<EndFrame> r3, r4;
    ASSERT_TRUE(pump_until([&] {
        if (!r3)
            r3 = refusal_of(a[3].get());
        if (!r4)
            r4 = refusal_of(a[4].get());
        return r3 && r4;
    }));
    EXPECT_EQ(*r3, (EndFrame{69, "too many connections from uid 65534 (at most 3)"}));
    EXPECT_EQ(*r4, *r3);
    EXPECT_EQ(server_->client_count(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        bool eof = false;
        EXPECT_EQ(read_available(a[i].get(), eof), "");
        EXPECT_FALSE(eof) << i;
    }
    // Another uid has its own 3; root is not limited per uid.
    auto b = connections_as({65533, 65533, {}}, path_, 3);
    ASSERT_EQ(b.size(), 3u);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 6; }));
    std::vector<UniqueFd> root;
    for (int i = 0; i < 4; ++i)
        root.push_back(connect_raw(path_));
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 10; }));
    // One of the first uid leaves: it may connect once more.
    a[0].reset();
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 9; }));
    auto again = connections_as({65534, 65534, {}}, path_, 1);
    ASSERT_EQ(again.size(), 1u);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 10; }));
}

TEST_F(IpcServerTest, SlotsAreKeptForPeersThatMayChangeState)
{
    NEEDS_ROOT();
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    IpcLimits limits;
    limits.mode = 0666;
    limits.group = 4242;
    limits.max_clients = 6;
    limits.reserved_clients = 2;
    limits.max_clients_per_uid = 2;
    start(limits);
    // Two users fill the 4 slots open to all.
    auto a = connections_as({60001, 60001, {}}, path_, 2);
    auto b = connections_as({60002, 60002, {}}, path_, 2);
    ASSERT_EQ(a.size() + b.size(), 4u);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 4; }));
    // A third is refused though under its own limit.
    auto c = connections_as({60003, 60003, {}}, path_, 1);
    ASSERT_EQ(c.size(), 1u);
    std::optional<EndFrame> refused;
    ASSERT_TRUE(pump_until([&] {
        if (!refused)
            refused = refusal_of(c[0].get());
        return refused.has_value();
    }));
    EXPECT_EQ(*refused,
              (EndFrame{69, "too many connections: the 4 not kept for root and the socket group are in use, try again later"}));
    // A member of the socket group and root still get in.
    auto member = connections_as({60004, 60004, {4242}}, path_, 1);
    ASSERT_EQ(member.size(), 1u);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 5; }));
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto cl = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(cl.ok());
        end = cl->call(Request{0, {"echo", "root"}}, nullptr);
        // Held while the next one tries: all 6 are taken now.
        UniqueFd extra = connect_raw(path_);
        bool eof = false;
        std::string got;
        for (int i = 0; i < 100 && !eof; ++i) { // up to 10 s for the answer and close
            pollfd p{extra.get(), POLLIN, 0};
            (void)::poll(&p, 1, 100);
            got += read_available(extra.get(), eof);
        }
        auto frames = frames_of(got);
        ASSERT_EQ(frames.size(), 1u);
        EXPECT_EQ(*decode_end(frames[0].body), (EndFrame{69, "too many connections: all 6 are in use, try again later"}));
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_TRUE(last_peer_.may_change_state);
    // A user leaves: the waiting one gets in.
    a[0].reset();
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 4; })); // a[0] and root's client gone
    auto c2 = connections_as({60003, 60003, {}}, path_, 1);
    ASSERT_EQ(c2.size(), 1u);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 5; }));
}

// ---- the frame deadline ----

TEST_F(IpcServerTest, TricklingClientIsDroppedAtTheFrameDeadline)
{
    // A byte every 30 ms is progress, but the frame is not whole 200 ms
    // after its first byte: the client is dropped, long before its idle
    // timeout.
    IpcLimits limits;
    limits.frame_timeout = 200ms;
    limits.idle_timeout = 10000ms;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    const std::string frame = *encode_request(Request{0, {"echo", std::string(100, 'x')}});
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
    auto t0 = loop_.now();
    size_t sent = 0;
    bool eof = false;
    while (!eof && sent < frame.size() && loop_.now() - t0 < 3000ms) {
        if (::send(fd.get(), frame.data() + sent, 1, MSG_NOSIGNAL) == 1)
            ++sent;
        advance(30ms);
        (void)read_available(fd.get(), eof);
    }
    auto lived = loop_.now() - t0;
    EXPECT_TRUE(eof) << "still connected after " << sent << " bytes";
    EXPECT_LT(sent, frame.size());
    EXPECT_GE(lived, 200ms);
    EXPECT_LT(lived, 1500ms);
    EXPECT_EQ(requests_, 0);
    EXPECT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
}

TEST_F(IpcServerTest, SilentNewConnectionIsDroppedAtTheFrameDeadline)
{
    IpcLimits limits;
    limits.frame_timeout = 150ms;
    limits.idle_timeout = 10000ms;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
    auto t0 = loop_.now();
    ASSERT_TRUE(advance_until([&] { return server_->client_count() == 0; }, 2000ms));
    EXPECT_GE(loop_.now() - t0, 150ms);
    bool eof = false;
    (void)read_available(fd.get(), eof);
    EXPECT_TRUE(eof);
}

TEST_F(IpcServerTest, PausesBetweenRequestsAreNotFrameTime)
{
    // Whole requests with pauses longer than the frame deadline (but shorter
    // than the idle timeout) between them: the client stays.
    IpcLimits limits;
    limits.frame_timeout = 100ms;
    limits.idle_timeout = 3000ms;
    start(limits);
    int ok = 0;
    UniqueFd fd = connect_raw(path_);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
    for (int i = 0; i < 4; ++i) {
        if (i)
            advance(250ms);
        auto e = ask(fd.get(), Request{0, {"echo", "x"}});
        if (e && *e == (EndFrame{0, "ok"}))
            ++ok;
    }
    EXPECT_EQ(ok, 4);
    EXPECT_EQ(server_->client_count(), 1u);
}

TEST_F(IpcServerTest, AnswerReadSlowlyIsNotFrameTime)
{
    // A streamed answer the client reads over far longer than the frame
    // deadline, with a request pipelined behind it: the server does not
    // read that request while the answer waits, and that time is not
    // counted: both are answered, the client kept.
    IpcLimits limits;
    limits.frame_timeout = 100ms;
    limits.idle_timeout = 5000ms;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"stream", "20000", "100"}}) +
                           *encode_request(Request{0, {"echo", "after"}}));
    std::vector<Frame> frames;
    FrameReader reader;
    bool eof = false;
    auto t0 = loop_.now();
    ASSERT_TRUE(pump_until(
        [&] {
            char buf[32 * 1024];
            ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                reader.feed(buf, static_cast<size_t>(n));
                clock_.advance(10ms); // a slow reader: 10 ms per read
            } else if (n == 0) {
                eof = true;
            }
            for (auto f = reader.next(); f && *f; f = reader.next())
                frames.push_back(std::move(**f));
            return frames.size() >= 20003 || eof;
        },
        20000ms));
    EXPECT_GT(loop_.now() - t0, 300ms) << "read too fast to prove anything";
    EXPECT_FALSE(eof);
    ASSERT_EQ(frames.size(), 20003u);
    EXPECT_EQ(frames[20001].body, "after");
    EXPECT_EQ(server_->client_count(), 1u);
}

TEST_F(IpcServerTest, RequestSentWhileTheLoopWasHeldUpIsAnswered)
{
    // A connection that sent nothing yet; then the loop is held up (here by
    // another client's request) past the frame deadline, and meanwhile the
    // connection sends its whole request. The server reads it before it
    // judges the connection late.
    IpcLimits limits;
    limits.frame_timeout = 100ms;
    limits.idle_timeout = 5000ms;
    start(limits);
    UniqueFd b = connect_raw(path_);
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 1; }));
    UniqueFd a = connect_raw(path_);
    // b's request arrives while a's holds up the loop for 300 ms.
    while_held_ = [&] { send_all(b.get(), *encode_request(Request{0, {"echo", "meanwhile"}})); };
    send_all(a.get(), *encode_request(Request{0, {"sleep", "300"}}));
    std::string got;
    bool eof = false;
    bool answered = pump_until([&] {
        got += read_available(b.get(), eof);
        return frames_of(got).size() == 2 || eof;
    });
    ASSERT_TRUE(answered);
    auto frames = frames_of(got);
    ASSERT_EQ(frames.size(), 2u) << "eof: " << eof;
    EXPECT_EQ(frames[0].body, "meanwhile");
    EXPECT_EQ(requests_, 2);
}

// ---- held-open answers (monitor) ----

namespace {

// The ROW bodies in bytes, and whether an END came.
std::vector<std::string> rows_of(const std::string& bytes, std::optional<EndFrame>* end = nullptr)
{
    std::vector<std::string> out;
    for (const Frame& f : frames_of(bytes)) {
        if (f.type == FrameType::row)
            out.push_back(f.body);
        else if (f.type == FrameType::end && end)
            *end = *decode_end(f.body);
    }
    return out;
}

// Whole frames only: the bytes of complete frames are moved from buf.
std::string take_whole_frames(std::string& buf)
{
    size_t at = 0;
    while (buf.size() - at >= ipc_header_size) {
        uint32_t len = (uint32_t(uint8_t(buf[at + 4])) << 24) | (uint32_t(uint8_t(buf[at + 5])) << 16) |
                       (uint32_t(uint8_t(buf[at + 6])) << 8) | uint32_t(uint8_t(buf[at + 7]));
        if (buf.size() - at < ipc_header_size + len)
            break;
        at += ipc_header_size + len;
    }
    std::string whole = buf.substr(0, at);
    buf.erase(0, at);
    return whole;
}

} // namespace

TEST_F(IpcServerTest, HeldAnswerSendsPushedRowsAndAQuietOneIsNotIdle)
{
    IpcLimits limits;
    limits.idle_timeout = 100ms;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"monitor"}}));
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 1; }));
    ASSERT_EQ(held_.size(), 1u);
    EXPECT_TRUE(held_[0]->push("one"));
    EXPECT_TRUE(held_[0]->push("two"));
    std::string got;
    bool eof = false;
    ASSERT_TRUE(pump_until([&] {
        got += read_available(fd.get(), eof);
        return rows_of(got).size() == 2;
    }));
    EXPECT_EQ(rows_of(got), (std::vector<std::string>{"one", "two"}));
    // Quiet for ten idle timeouts: a healthy monitor, kept.
    advance(1000ms);
    EXPECT_EQ(server_->client_count(), 1u);
    EXPECT_TRUE(held_[0]->open());
    EXPECT_TRUE(held_[0]->push("three"));
    ASSERT_TRUE(pump_until([&] {
        got += read_available(fd.get(), eof);
        return rows_of(got).size() == 3;
    }));
    EXPECT_FALSE(eof);
    // Requests sent meanwhile are not read: the answer is still open.
    send_all(fd.get(), *encode_request(Request{0, {"echo", "x"}}));
    pump_for(50ms);
    EXPECT_EQ(requests_, 1);
}

TEST_F(IpcServerTest, NeverReadingMonitorIsBoundedCountsDropsAndIsToldWhenItReads)
{
    IpcLimits limits;
    limits.held_max_rows = 64;
    limits.held_max_bytes = 1u << 20;
    limits.stream_low_water = 4096;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    int small = 4096; // a small receive buffer fills soon
    ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    send_all(fd.get(), *encode_request(Request{0, {"monitor"}}));
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 1; }));
    // Far more than the socket, the output buffer and the queue hold
    // together; the loop runs between pushes, as between events.
    const size_t total = 20000;
    size_t refused = 0;
    for (size_t i = 0; i < total; ++i) {
        if (!held_[0]->push(cat("event ", i, " ", std::string(100, 'e'))))
            ++refused;
        if (i % 100 == 0)
            ASSERT_TRUE(loop_.run_once(0ms).ok());
    }
    EXPECT_GT(refused, total / 2);
    EXPECT_TRUE(held_[0]->open());
    // Another client is answered meanwhile.
    UniqueFd other = connect_raw(path_);
    auto e = ask(other.get(), Request{0, {"echo", "hi"}});
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(*e, (EndFrame{0, "ok"}));
    // Now it reads: every row pushed and taken arrives, in order, then the
    // count of those dropped; together they are every push.
    std::string got, buf;
    bool eof = false;
    std::vector<std::string> rows;
    uint64_t dropped = 0;
    ASSERT_TRUE(pump_until([&] {
        buf += read_available(fd.get(), eof);
        for (auto& r : rows_of(take_whole_frames(buf))) {
            if (r.starts_with("dropped "))
                dropped += std::stoull(r.substr(8));
            else
                rows.push_back(r);
        }
        return rows.size() + dropped == total;
    }, 5000ms)) << rows.size() << " + " << dropped;
    EXPECT_EQ(dropped, refused);
    for (size_t i = 1; i < rows.size(); ++i) // in push order
        ASSERT_LT(std::stoul(rows[i - 1].substr(6)), std::stoul(rows[i].substr(6)));
    EXPECT_EQ(rows.front().substr(0, 8), "event 0 ");
    // After the notice, pushes are taken again.
    EXPECT_TRUE(held_[0]->push("after"));
    std::vector<std::string> later;
    ASSERT_TRUE(pump_until([&] {
        buf += read_available(fd.get(), eof);
        for (auto& r : rows_of(take_whole_frames(buf)))
            later.push_back(r);
        return !later.empty();
    }));
    EXPECT_EQ(later, (std::vector<std::string>{"after"}));
}

TEST_F(IpcServerTest, FullHeldQueueRefusesWhileTheClientDoesNotRead)
{
    IpcLimits limits;
    limits.held_max_rows = 10;
    limits.stream_low_water = 1; // one row at a time into the output buffer
    start(limits);
    UniqueFd fd = connect_raw(path_);
    int small = 1;
    ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    send_all(fd.get(), *encode_request(Request{0, {"monitor"}}));
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 1; }));
    // Fill the socket (tiny) and the queue: then pushes are refused.
    size_t i = 0;
    while (held_[0]->push(cat("e", i++, std::string(2000, 'x'))))
        ASSERT_TRUE(loop_.run_once(0ms).ok());
    EXPECT_FALSE(held_[0]->push("refused too"));
    pump_for(50ms);
    // Still full: it keeps refusing (no notice queued while full).
    EXPECT_FALSE(held_[0]->push("and this"));
}

TEST_F(IpcServerTest, StalledMonitorIsDroppedAfterTheStallTimeoutOnly)
{
    IpcLimits limits;
    limits.idle_timeout = 100ms;
    limits.held_stall_timeout = 2000ms;
    limits.held_max_rows = 16;
    start(limits);
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"monitor"}}));
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 1; }));
    for (int i = 0; i < 50000 && held_[0]->push(std::string(1000, 'f')); ++i)
        ASSERT_TRUE(loop_.run_once(0ms).ok());
    advance(1000ms); // ten idle timeouts, half the stall timeout
    EXPECT_EQ(server_->held_count(), 1u);
    ASSERT_TRUE(advance_until([&] { return server_->client_count() == 0; }, 3000ms));
    EXPECT_FALSE(held_[0]->open());
    EXPECT_FALSE(held_[0]->push("gone"));
    EXPECT_EQ(server_->held_count(), 0u);
}

TEST_F(IpcServerTest, MonitorThatHangsUpClosesItsHandle)
{
    start();
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"monitor"}}));
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 1; }));
    fd.reset();
    ASSERT_TRUE(pump_until([&] { return server_->client_count() == 0; }));
    EXPECT_FALSE(held_[0]->open());
    EXPECT_FALSE(held_[0]->push("nobody"));
    EXPECT_EQ(server_->held_count(), 0u);
}

TEST_F(IpcServerTest, MonitorIsToldWhenTheServerCloses)
{
    start();
    UniqueFd fd = connect_raw(path_);
    send_all(fd.get(), *encode_request(Request{0, {"monitor"}}));
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 1; }));
    server_.reset();
    EXPECT_FALSE(held_[0]->open());
    EXPECT_FALSE(held_[0]->push("late")); // the handle outlives the server
    bool eof = false;
    std::optional<EndFrame> end;
    std::string got = read_available(fd.get(), eof);
    rows_of(got, &end);
    EXPECT_TRUE(eof);
    ASSERT_TRUE(end.has_value());
    EXPECT_EQ(*end, (EndFrame{69, "the daemon is exiting"}));
}

TEST_F(IpcServerTest, MonitorsCountAgainstTheLimitsAndSlotsStayKept)
{
    NEEDS_ROOT();
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    IpcLimits limits;
    limits.mode = 0666;
    limits.max_clients = 6;
    limits.reserved_clients = 2;
    limits.max_clients_per_uid = 2;
    start(limits);
    // Two users hold every slot open to all with monitors.
    auto a = connections_as({60001, 60001, {}}, path_, 2);
    auto b = connections_as({60002, 60002, {}}, path_, 2);
    ASSERT_EQ(a.size() + b.size(), 4u);
    for (auto* v : {&a, &b})
        for (auto& fd : *v)
            send_all(fd.get(), *encode_request(Request{0, {"monitor"}}));
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 4; }));
    // A third user's monitor, or a third of the first user's, gets no slot.
    auto a3 = connections_as({60001, 60001, {}}, path_, 1);
    auto c = connections_as({60003, 60003, {}}, path_, 1);
    ASSERT_EQ(a3.size() + c.size(), 2u);
    std::optional<EndFrame> ra, rc;
    ASSERT_TRUE(pump_until([&] {
        if (!ra)
            ra = refusal_of(a3[0].get());
        if (!rc)
            rc = refusal_of(c[0].get());
        return ra && rc;
    }));
    EXPECT_EQ(ra->status, 69u);
    EXPECT_EQ(rc->status, 69u);
    EXPECT_EQ(server_->client_count(), 4u);
    // Root is still served, with the monitors open.
    Result<EndFrame> end = fail("not run");
    with_client([&] {
        auto cl = IpcClient::connect(path_, 2000ms);
        ASSERT_TRUE(cl.ok());
        end = cl->call(Request{0, {"echo", "root"}}, nullptr);
    });
    ASSERT_TRUE(end.ok()) << end.error().message;
    EXPECT_EQ(*end, (EndFrame{0, "ok"}));
    // A monitor that leaves frees its slot.
    a[0].reset();
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 3; }));
    auto c2 = connections_as({60003, 60003, {}}, path_, 1);
    ASSERT_EQ(c2.size(), 1u);
    send_all(c2[0].get(), *encode_request(Request{0, {"monitor"}}));
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 4; }));
}

TEST_F(IpcServerTest, ClientFollowsAHeldAnswerUntilStopped)
{
    start();
    int stop[2];
    ASSERT_EQ(::pipe(stop), 0);
    UniqueFd stop_r(stop[0]), stop_w(stop[1]);
    std::vector<std::string> seen;
    Result<std::optional<EndFrame>> got = fail("not run");
    std::atomic<bool> done{false};
    std::thread t([&] {
        auto cl = IpcClient::connect(path_, 2000ms);
        if (!cl.ok())
            return;
        got = cl->follow(Request{0, {"monitor"}}, [&](std::string_view r) {
            seen.emplace_back(r);
            if (seen.size() == 2)
                (void)!::write(stop_w.get(), "x", 1);
        }, stop_r.get());
        done = true;
    });
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 1; }));
    held_[0]->push("a");
    held_[0]->push("b");
    ASSERT_TRUE(pump_until([&] { return done.load(); }));
    t.join();
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_FALSE(got->has_value()); // stopped, not ended
    EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST_F(IpcServerTest, ClientFollowingSeesTheServerClose)
{
    start();
    Result<std::optional<EndFrame>> got = fail("not run");
    std::atomic<bool> done{false};
    std::thread t([&] {
        auto cl = IpcClient::connect(path_, 2000ms);
        if (!cl.ok())
            return;
        got = cl->follow(Request{0, {"monitor"}}, [](std::string_view) {}, -1);
        done = true;
    });
    ASSERT_TRUE(pump_until([&] { return server_->held_count() == 1; }));
    server_.reset();
    for (int i = 0; i < 300 && !done; ++i)
        std::this_thread::sleep_for(10ms);
    t.join();
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(**got, (EndFrame{69, "the daemon is exiting"}));
}

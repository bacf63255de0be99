#include "smcroute/runtime/ipc_client.hpp"

#include "smcroute/base/log.hpp"

#include <cassert>
#include <cerrno>
#include <cstring>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

namespace smcroute {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t read_chunk = 64 * 1024;

// Keeps errno in Error::code so the client can tell "permission denied"
// from "not running".
Error connect_error(const std::string& path, int code, const std::string& why)
{
    return Error{code, cat("cannot connect to ", path, ": ", why, " (is the daemon running?)")};
}

// Wait for events on fd for at most timeout (negative: forever).
// Returns revents, 0 on timeout, or -1 with errno.
int wait_for(int fd, short events, std::chrono::milliseconds timeout)
{
    auto deadline = Clock::now() + timeout;
    for (;;) {
        int ms = -1;
        if (timeout.count() >= 0) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
            ms = left > 0 ? static_cast<int>(std::min<long long>(left, 1 << 30)) : 0;
        }
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n;
        return p.revents;
    }
}

} // namespace

Result<IpcClient> IpcClient::connect(const std::string& path, std::chrono::milliseconds timeout)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return connect_error(path, ENAMETOOLONG, "socket path too long");
    std::memcpy(addr.sun_path, path.data(), path.size());

    // The socket stays blocking (for connect); every send and recv after it
    // passes MSG_DONTWAIT and waits in poll(), with the timeout.
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        return connect_error(path, errno, std::strerror(errno));
    if (timeout.count() > 0) {
        // A blocking connect on a UNIX socket waits while the backlog is full.
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
        if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
            return connect_error(path, errno, std::strerror(errno));
    }
    int rc;
    do
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return connect_error(path, errno, std::strerror(errno));

    IpcClient client;
    client.fd_ = std::move(fd);
    client.timeout_ = timeout.count() > 0 ? timeout : std::chrono::milliseconds(-1);
    return client;
}

Result<EndFrame> IpcClient::call(const Request& req, const RowFn& on_row)
{
    if (!fd_)
        return fail("not connected to the daemon");
    assert(outstanding_ == 0 && "call() with pipelined requests outstanding");
    if (Status st = queue(req); !st)
        return st.take_error();
    std::optional<EndFrame> end;
    if (Status st = drain(0, on_row, [&end](const EndFrame& e) { end = e; }); !st)
        return st.take_error();
    assert(end);
    return std::move(*end);
}

Status IpcClient::queue(const Request& req)
{
    if (!fd_)
        return fail("not connected to the daemon");
    assert(!last_queued_ && "queue() after end_requests()");
    auto frame = encode_request(req);
    if (!frame)
        return frame.take_error();
    if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    }
    out_ += *frame;
    ++outstanding_;
    return {};
}

Status IpcClient::send_some()
{
    while (unsent()) {
        ssize_t n = ::send(fd_.get(), out_.data() + out_pos_, unsent(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            out_pos_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            // The daemon closed its end: what it answered may still be unread.
            peer_gone_ = true;
            out_.clear();
            out_pos_ = 0;
            return {};
        }
        return os_error(errno, "sending to the daemon");
    }
    if (last_queued_ && !unsent() && !write_shut_) {
        write_shut_ = true;
        (void)::shutdown(fd_.get(), SHUT_WR); // an error shows when reading
    }
    // Keep the queue compact without moving bytes more than once each.
    if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    } else if (out_pos_ >= out_.size() - out_pos_) {
        out_.erase(0, out_pos_);
        out_pos_ = 0;
    }
    return {};
}

Result<std::optional<EndFrame>> IpcClient::next_end(const RowFn& on_row)
{
    for (;;) {
        auto next = reader_.next_view();
        if (!next)
            return fail(cat("bad reply from the daemon: ", next.error().message));
        if (!*next)
            return std::optional<EndFrame>();
        const FrameView f = **next;
        if (f.type == FrameType::row) {
            if (on_row)
                on_row(f.body);
        } else if (f.type == FrameType::end) {
            auto end = decode_end(f.body);
            if (!end)
                return fail(cat("bad reply from the daemon: ", end.error().message));
            return std::optional<EndFrame>(std::move(*end));
        } else {
            return fail("bad reply from the daemon: unexpected request frame");
        }
    }
}

Status IpcClient::drain(size_t max_outstanding, const RowFn& on_row, const EndFn& on_end)
{
    if (!fd_)
        return fail("not connected to the daemon");
    // After a failure the stream is out of step: close it, so later calls
    // fail cleanly instead of reading a stale reply.
    auto broken = [this](Error e) -> Status {
        fd_.reset();
        out_.clear();
        out_pos_ = 0;
        return e;
    };

    char buf[read_chunk];
    for (;;) {
        // Answers already read.
        while (outstanding_ > max_outstanding) {
            auto end = next_end(on_row);
            if (!end)
                return broken(end.take_error());
            if (!*end)
                break;
            --outstanding_;
            if (on_end)
                on_end(**end);
        }

        bool sent = false;
        if (!peer_gone_ && (unsent() || (last_queued_ && !write_shut_))) {
            size_t before = unsent();
            if (Status st = send_some(); !st)
                return broken(st.take_error());
            sent = unsent() != before;
        }
        if (outstanding_ <= max_outstanding)
            return {};

        // Just sent: the answer is hardly there yet, so wait before reading.
        if (!sent) {
            ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                reader_.feed(buf, static_cast<size_t>(n));
                continue;
            }
            if (n == 0)
                return broken(fail("connection closed by the daemon"));
            if (errno == EINTR)
                continue;
            if (errno == ECONNRESET || errno == EPIPE)
                return broken(fail("connection closed by the daemon"));
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return broken(os_error(errno, "reading from the daemon"));
        }
        short events = static_cast<short>(POLLIN | (!peer_gone_ && unsent() ? POLLOUT : 0));
        int r = wait_for(fd_.get(), events, timeout_);
        if (r < 0)
            return broken(os_error(errno, "poll"));
        if (r == 0)
            return broken(fail(cat("no answer from the daemon within ", timeout_.count(), " ms")));
    }
}

Result<std::optional<EndFrame>> IpcClient::follow(const Request& req, const RowFn& on_row, int stop_fd)
{
    if (!fd_)
        return fail("not connected to the daemon");
    assert(outstanding_ == 0 && "follow() with requests outstanding");
    if (Status st = queue(req); !st)
        return st.take_error();
    auto broken = [this](Error e) -> Result<std::optional<EndFrame>> {
        fd_.reset();
        return e;
    };
    char buf[read_chunk];
    for (;;) {
        auto end = next_end(on_row); // rows already read
        if (!end)
            return broken(end.take_error());
        if (*end) {
            outstanding_ = 0;
            return end;
        }
        if (!peer_gone_ && unsent())
            if (Status st = send_some(); !st)
                return broken(st.take_error());
        pollfd p[2] = {{fd_.get(), static_cast<short>(POLLIN | (!peer_gone_ && unsent() ? POLLOUT : 0)), 0},
                       {stop_fd, POLLIN, 0}};
        int n = ::poll(p, stop_fd >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return broken(os_error(errno, "poll"));
        }
        if (stop_fd >= 0 && (p[1].revents & POLLIN))
            return std::optional<EndFrame>();
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t r = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) {
            reader_.feed(buf, static_cast<size_t>(r));
            continue;
        }
        if (r == 0 || errno == ECONNRESET || errno == EPIPE)
            return broken(fail("connection closed by the daemon"));
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return broken(os_error(errno, "reading from the daemon"));
    }
}

} // namespace smcroute

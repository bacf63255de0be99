#include "smcroute/ipc_client.hpp"

#include "smcroute/log.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

namespace smcroute {

namespace {

using Clock = std::chrono::steady_clock;

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

    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0)
        return os_error(errno, cat("IPC socket ", path));

    IpcClient client;
    client.fd_ = std::move(fd);
    client.timeout_ = timeout.count() > 0 ? timeout : std::chrono::milliseconds(-1);
    return client;
}

Result<EndFrame> IpcClient::call(const Request& req, const std::function<void(std::string_view)>& on_row)
{
    if (!fd_)
        return fail("not connected to the daemon");
    auto frame = encode_request(req);
    if (!frame)
        return frame.take_error();
    // After a failed exchange the stream is out of step: close it, so later
    // calls fail cleanly instead of reading a stale reply.
    auto result = exchange(*frame, on_row);
    if (!result)
        fd_.reset();
    return result;
}

Result<EndFrame> IpcClient::exchange(const std::string& out, const std::function<void(std::string_view)>& on_row)
{
    auto no_answer = [this] { return fail(cat("no answer from the daemon within ", timeout_.count(), " ms")); };
    auto closed = [] { return fail("connection closed by the daemon"); };

    size_t sent = 0;
    while (sent < out.size()) {
        ssize_t n = ::send(fd_.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_for(fd_.get(), POLLOUT, timeout_);
            if (r < 0)
                return os_error(errno, "poll");
            if (r == 0)
                return no_answer();
            continue; // POLLERR/POLLHUP show up in the next send
        }
        if (errno == EPIPE || errno == ECONNRESET)
            return closed();
        return os_error(errno, "sending to the daemon");
    }

    char buf[64 * 1024];
    for (;;) {
        auto next = reader_.next_view();
        if (!next)
            return fail(cat("bad reply from the daemon: ", next.error().message));
        if (*next) {
            const FrameView f = **next;
            switch (f.type) {
            case FrameType::row:
                if (on_row)
                    on_row(f.body);
                continue;
            case FrameType::end: {
                auto end = decode_end(f.body);
                if (!end)
                    return fail(cat("bad reply from the daemon: ", end.error().message));
                return end;
            }
            case FrameType::request:
                return fail("bad reply from the daemon: unexpected request frame");
            }
        }
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n > 0) {
            reader_.feed(buf, static_cast<size_t>(n));
            continue;
        }
        if (n == 0)
            return closed();
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int r = wait_for(fd_.get(), POLLIN, timeout_);
            if (r < 0)
                return os_error(errno, "poll");
            if (r == 0)
                return no_answer();
            continue;
        }
        if (errno == ECONNRESET || errno == EPIPE)
            return closed();
        return os_error(errno, "reading from the daemon");
    }
}

} // namespace smcroute

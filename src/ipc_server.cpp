#include "smcroute/ipc_server.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace smcroute {

namespace {

using Clock = EventLoop::Clock;

constexpr uint32_t status_usage = 64;    // EX_USAGE: bad request
constexpr uint32_t status_software = 70; // EX_SOFTWARE: handler sent no END
constexpr size_t flush_threshold = 256 * 1024;
// Back-pressure: with this much output unread by a client, its further
// requests wait (and its socket is not read) until it reads; one that never
// does is dropped by the idle timeout, and the loop is never held up.
constexpr size_t backlog_limit = 256 * 1024;
constexpr size_t read_chunk = 64 * 1024;
constexpr int reads_per_event = 16; // fairness between clients
constexpr int cap_net_admin = 12;

// The value after "KEY:" on its line of a /proc/PID/status text ("" when
// there is no such line).
std::string_view status_field(std::string_view status, std::string_view key)
{
    size_t at = 0;
    while (at < status.size()) {
        size_t eol = status.find('\n', at);
        if (eol == std::string_view::npos)
            eol = status.size();
        std::string_view line = status.substr(at, eol - at);
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':')
            return line.substr(key.size() + 1);
        at = eol + 1;
    }
    return {};
}

// /proc/PID/status ("" when unreadable), read with one open and read.
std::string proc_status(pid_t pid)
{
    if (pid <= 0)
        return {};
    UniqueFd fd(::open(cat("/proc/", pid, "/status").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return {};
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n > 0) {
            text.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return text;
    }
}

// Whether a non-root peer may change state: CAP_NET_ADMIN in its CapEff, or
// membership of group (primary, or supplementary in /proc/PID/status). Reads
// /proc once, and only when the primary group does not already decide.
bool may_change_state(const ucred& cred, gid_t group)
{
    const bool use_group = group != static_cast<gid_t>(-1);
    if (use_group && cred.gid == group)
        return true;
    std::string status = proc_status(cred.pid);
    std::istringstream caps_in{std::string(status_field(status, "CapEff"))};
    unsigned long long caps = 0;
    if ((caps_in >> std::hex >> caps) && ((caps >> cap_net_admin) & 1))
        return true;
    if (!use_group)
        return false;
    std::istringstream groups_in{std::string(status_field(status, "Groups"))};
    unsigned long g = 0;
    while (groups_in >> g)
        if (static_cast<gid_t>(g) == group)
            return true;
    return false;
}

Result<sockaddr_un> make_address(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return fail(cat("IPC socket path too long: ", path));
    std::memcpy(addr.sun_path, path.data(), path.size());
    return addr;
}

class ServerImpl;

struct Client {
    uint64_t id = 0;
    UniqueFd fd;
    FrameReader reader;
    std::string out;
    size_t out_pos = 0;
    Clock::time_point last_progress;
    std::optional<Peer> peer;
    bool closing = false; // read no more; close once the output is written
    bool eof = false;     // the peer sent all it will; answer what is buffered
    bool doomed = false;  // drop as soon as the current dispatch returns
    bool replied = true;  // the current request has its END
    Reply::Producer producer; // the rest of a streamed answer
    ucred cred{};             // read once, at accept
    bool have_cred = false;

    // For log lines only (built when one is written).
    std::string label() const
    {
        return have_cred ? cat("IPC client ", id, " (pid ", cred.pid, ", uid ", cred.uid, ")")
                         : cat("IPC client ", id);
    }

    size_t pending() const { return out.size() - out_pos; }
    // Sending a streamed answer, or too much unsent: further requests wait.
    bool busy() const { return producer || pending() >= backlog_limit; }
};

class ServerImpl final : public IpcServer {
public:
    ServerImpl(EventLoop& loop, Logger& log, std::string path, Handler handler, const IpcLimits& limits)
        : loop_(loop), log_(log), path_(std::move(path)), handler_(std::move(handler)), limits_(limits),
          read_buf_(read_chunk)
    {
    }
    ~ServerImpl() override;

    Status start();
    const std::string& path() const override { return path_; }
    size_t client_count() const override { return clients_.size(); }

    // Queue a frame; flushes when much is queued. Marks the client doomed on
    // overflow or a write error.
    void append(Client& c, const std::string& frame);
    void append_row(Client& c, std::string_view text); // a ROW frame, encoded in place
    // Pull a streamed answer while the client's unsent output is below the
    // low-water mark.
    void pump(Client& c);

private:
    void on_listener(short revents);
    void on_client(uint64_t id, short revents);
    void read_input(Client& c);
    void process_frames(Client& c);
    void handle_request(Client& c, const Request& req);
    void reply_error(Client& c, const std::string& message);
    bool admit(Client& c, size_t size); // false, and doomed, when over max_output
    void appended(Client& c);
    bool flush(Client& c);
    void drop(uint64_t id, LogLevel level, std::string_view why);
    // After work on a client: drops it when it is doomed or its queued
    // output cannot be sent. False when it was dropped.
    bool still_connected(uint64_t id, Client& c);
    void sweep_idle();
    const Peer& peer_of(Client& c);

    EventLoop& loop_;
    Logger& log_;
    std::string path_;
    Handler handler_;
    IpcLimits limits_;
    UniqueFd listen_fd_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    std::map<uint64_t, std::unique_ptr<Client>> clients_;
    uint64_t next_id_ = 1;
    EventLoop::TimerId sweep_timer_ = 0;
    EventLoop::TimerId pause_timer_ = 0;
    std::vector<char> read_buf_;
};

// Writes into the client's queue; the state of the answer lives in the
// Client, so a streamed answer can be continued by a later ClientReply.
class ClientReply final : public Reply {
public:
    ClientReply(ServerImpl& server, Client& client) : server_(server), client_(client) {}

    void row(std::string_view text) override
    {
        if (client_.replied || client_.doomed)
            return;
        server_.append_row(client_, text);
    }
    void end(uint32_t status, std::string_view message) override
    {
        if (client_.replied)
            return;
        client_.replied = true;
        if (!client_.doomed)
            server_.append(client_, encode_end(EndFrame{status, std::string(message)}));
    }
    void stream(Producer producer) override
    {
        if (client_.replied || client_.producer)
            return; // after end(), or a second stream(): a handler bug, ignored
        client_.producer = std::move(producer);
    }

private:
    ServerImpl& server_;
    Client& client_;
};

Status ServerImpl::start()
{
    auto addr = make_address(path_);
    if (!addr)
        return addr.take_error();

    struct stat st{};
    if (::lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return fail(cat("cannot use ", path_, " as IPC socket: it exists and is not a socket"));
        UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!probe)
            return os_error(errno, "IPC socket");
        int rc = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
        if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS)
            return fail(cat("another daemon is already running on ", path_));
        if (errno != ECONNREFUSED && errno != ENOENT)
            return os_error(errno, cat("cannot check existing socket ", path_));
        if (::unlink(path_.c_str()) < 0 && errno != ENOENT)
            return os_error(errno, cat("cannot remove stale socket ", path_));
        log_.debug(cat("removed stale IPC socket ", path_));
    } else if (errno != ENOENT) {
        return os_error(errno, path_);
    }

    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        return os_error(errno, "IPC socket");
    mode_t old_mask = ::umask(077);
    int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
    int bind_errno = errno;
    ::umask(old_mask);
    if (rc < 0)
        return os_error(bind_errno, cat("cannot bind IPC socket ", path_));
    if ((limits_.group != static_cast<gid_t>(-1) && ::chown(path_.c_str(), static_cast<uid_t>(-1), limits_.group) < 0) ||
        ::chmod(path_.c_str(), limits_.mode) < 0 || ::stat(path_.c_str(), &st) < 0) {
        int e = errno;
        ::unlink(path_.c_str());
        return os_error(e, cat("cannot set mode of IPC socket ", path_));
    }
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    if (::listen(fd.get(), 64) < 0) {
        int e = errno;
        ::unlink(path_.c_str());
        return os_error(e, cat("cannot listen on IPC socket ", path_));
    }
    listen_fd_ = std::move(fd);
    loop_.watch(listen_fd_.get(), POLLIN, [this](short revents) { on_listener(revents); });
    log_.debug(cat("listening on IPC socket ", path_));
    return {};
}

ServerImpl::~ServerImpl()
{
    if (sweep_timer_)
        loop_.cancel(sweep_timer_);
    if (pause_timer_)
        loop_.cancel(pause_timer_);
    for (auto& [id, c] : clients_)
        loop_.unwatch(c->fd.get());
    clients_.clear();
    if (listen_fd_) {
        loop_.unwatch(listen_fd_.get());
        listen_fd_.reset();
        // Remove the socket only if it is still ours.
        struct stat st{};
        if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
            ::unlink(path_.c_str());
    }
}

void ServerImpl::on_listener(short)
{
    for (;;) {
        int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            // Out of descriptors or memory: the listener would stay readable,
            // so stop watching it for a moment instead of spinning.
            log_.warning(cat("IPC accept: ", std::strerror(errno)));
            loop_.set_events(listen_fd_.get(), 0);
            pause_timer_ = loop_.after(std::chrono::milliseconds(100), [this] {
                pause_timer_ = 0;
                loop_.set_events(listen_fd_.get(), POLLIN);
            });
            return;
        }
        UniqueFd cfd(fd);
        if (clients_.size() >= limits_.max_clients) {
            log_.info(cat("IPC: too many clients (", clients_.size(), "), refusing a connection"));
            continue; // cfd closes it
        }
        auto c = std::make_unique<Client>();
        c->id = next_id_++;
        c->fd = std::move(cfd);
        c->last_progress = Clock::now();
        socklen_t len = sizeof c->cred;
        if (::getsockopt(c->fd.get(), SOL_SOCKET, SO_PEERCRED, &c->cred, &len) == 0)
            c->have_cred = true;
        else
            log_.warning(cat(c->label(), ": cannot read peer credentials: ", std::strerror(errno)));
        if (log_.enabled(LogLevel::debug))
            log_.debug(cat(c->label(), " connected"));
        uint64_t id = c->id;
        loop_.watch(c->fd.get(), POLLIN, [this, id](short revents) { on_client(id, revents); });
        clients_.emplace(id, std::move(c));
        if (!sweep_timer_) {
            auto period = std::clamp<Clock::duration>(limits_.idle_timeout / 4, std::chrono::milliseconds(5),
                                                      std::chrono::seconds(1));
            sweep_timer_ = loop_.every(period, [this] { sweep_idle(); });
        }
        // A client usually sends its request right after connecting: answer
        // it now rather than after another turn of the loop.
        on_client(id, POLLIN);
    }
}

void ServerImpl::on_client(uint64_t id, short revents)
{
    auto it = clients_.find(id);
    if (it == clients_.end())
        return;
    Client& c = *it->second;

    if (revents & (POLLERR | POLLNVAL)) {
        drop(id, LogLevel::debug, "socket error");
        return;
    }
    if ((revents & POLLOUT) && !flush(c)) {
        drop(id, LogLevel::debug, "hung up");
        return;
    }
    // Gone while its streamed answer is still being produced (a first pass
    // that sends nothing yet would not notice): stop working for it.
    if ((revents & POLLHUP) && c.producer) {
        drop(id, LogLevel::debug, "hung up");
        return;
    }
    if (!c.closing && !c.eof && (revents & (POLLIN | POLLHUP)))
        read_input(c);
    else if ((revents & POLLHUP) && !c.eof) {
        drop(id, LogLevel::debug, "hung up");
        return;
    }

    if (!still_connected(id, c))
        return;
    // A streamed answer continues as the client drains it: a few rounds of
    // pull and send per event, so other clients and routing take turns.
    for (int round = 0; round < 4 && c.producer && c.pending() < limits_.stream_low_water; ++round) {
        pump(c);
        if (!still_connected(id, c))
            return;
    }
    // Output drained below the back-pressure limit: answer what waits.
    if (!c.closing && !c.busy() && c.reader.buffered()) {
        process_frames(c);
        if (!still_connected(id, c))
            return;
    }
    // At end of input, once under the limit every buffered frame is answered.
    if (c.eof && !c.busy())
        c.closing = true;
    if (c.closing && c.pending() == 0 && !c.producer) {
        drop(id, LogLevel::debug, "done");
        return;
    }
    const bool want_input = !c.closing && !c.eof && !c.busy();
    // POLLOUT also while a streamed answer waits with nothing queued: the
    // next round of pulling happens when the socket can take it.
    short events = static_cast<short>((want_input ? POLLIN : 0) | (c.pending() || c.producer ? POLLOUT : 0));
    loop_.set_events(c.fd.get(), events);
}

bool ServerImpl::still_connected(uint64_t id, Client& c)
{
    if (c.doomed) {
        drop(id, LogLevel::debug, "connection lost or over its limits");
        return false;
    }
    if (!flush(c)) { // with nothing queued it only compacts the queue
        drop(id, LogLevel::debug, "hung up");
        return false;
    }
    return true;
}

void ServerImpl::read_input(Client& c)
{
    for (int i = 0; i < reads_per_event && !c.doomed && !c.closing && !c.busy(); ++i) {
        ssize_t n = ::recv(c.fd.get(), read_buf_.data(), read_buf_.size(), MSG_DONTWAIT);
        if (n > 0) {
            c.last_progress = Clock::now();
            c.reader.feed(read_buf_.data(), static_cast<size_t>(n));
            process_frames(c);
            // Read again even after a short read: a one-shot client has
            // usually shut down its side by now, and seeing that end of
            // input here closes the connection in this turn of the loop
            // rather than after another wake-up (EAGAIN costs less).
            continue;
        }
        if (n == 0) {
            if (c.reader.buffered() && log_.enabled(LogLevel::debug))
                log_.debug(cat(c.label(), " closed the connection in the middle of a frame"));
            c.eof = true; // answer what was asked, then close
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            c.doomed = true;
        return;
    }
}

void ServerImpl::process_frames(Client& c)
{
    while (!c.doomed && !c.closing && !c.busy()) {
        // The body stays in the reader's buffer: nothing feeds it while
        // the request is handled.
        auto next = c.reader.next_view();
        if (!next) {
            reply_error(c, next.error().message);
            return;
        }
        if (!*next)
            return;
        const FrameView frame = **next;
        if (frame.type != FrameType::request) {
            reply_error(c, cat("unexpected frame type ", static_cast<unsigned>(frame.type), " from a client"));
            return;
        }
        auto req = decode_request(frame.body);
        if (!req) {
            reply_error(c, req.error().message);
            return;
        }
        handle_request(c, *req);
    }
}

const Peer& ServerImpl::peer_of(Client& c)
{
    if (!c.peer) {
        // Once per connection: the credentials read at accept, /proc only
        // for a peer that is not root.
        Peer peer;
        if (c.have_cred) {
            peer.pid = c.cred.pid;
            peer.uid = c.cred.uid;
            peer.gid = c.cred.gid;
            peer.may_change_state = c.cred.uid == 0 || may_change_state(c.cred, limits_.group);
        } else {
            peer.uid = static_cast<uid_t>(-1);
            peer.gid = static_cast<gid_t>(-1);
        }
        c.peer = peer;
    }
    return *c.peer;
}

void ServerImpl::handle_request(Client& c, const Request& req)
{
    const Peer& peer = peer_of(c);
    ClientReply reply(*this, c);
    c.replied = false;
    handler_(req, peer, reply);
    if (c.producer) {
        pump(c); // the first rows at once; the rest as the client reads
        return;
    }
    if (!c.replied) {
        log_.error(cat("IPC: no reply to request '", req.args.front(), "'"));
        reply.end(status_software, "internal error: the daemon sent no reply");
    }
}

void ServerImpl::pump(Client& c)
{
    ClientReply reply(*this, c);
    // The answer moves on: time spent producing it (a first pass that sends
    // nothing yet) is not the client's lack of progress.
    if (c.producer && c.pending() < limits_.stream_low_water)
        c.last_progress = Clock::now();
    // Bounded pulls per call: a producer that returns true without writing
    // cannot hold up the loop (POLLOUT brings the next round).
    for (int pulls = 0; pulls < 64 && c.producer && !c.doomed && c.pending() < limits_.stream_low_water;
         ++pulls) {
        bool more = c.producer(reply);
        if (more && !c.replied)
            continue;
        c.producer = nullptr;
        if (!c.replied) {
            log_.error(cat(c.label(), ": a streamed answer ended without its END"));
            reply.end(status_software, "internal error: the daemon's answer ended early");
        }
    }
    if (c.doomed)
        c.producer = nullptr;
}

void ServerImpl::reply_error(Client& c, const std::string& message)
{
    log_.info(cat(c.label(), ": ", message));
    append(c, encode_end(EndFrame{status_usage, message}));
    c.closing = true;
}

bool ServerImpl::admit(Client& c, size_t size)
{
    if (c.doomed)
        return false;
    if (c.pending() + size > limits_.max_output) {
        log_.info(cat(c.label(), ": output queue over ", limits_.max_output, " bytes, dropping the client"));
        c.doomed = true;
        c.out.clear();
        c.out.shrink_to_fit();
        c.out_pos = 0;
        return false;
    }
    return true;
}

void ServerImpl::appended(Client& c)
{
    if (c.pending() >= std::min(flush_threshold, limits_.max_output / 4) && !flush(c))
        c.doomed = true;
}

void ServerImpl::append(Client& c, const std::string& frame)
{
    if (!admit(c, frame.size()))
        return;
    c.out.append(frame);
    appended(c);
}

void ServerImpl::append_row(Client& c, std::string_view text)
{
    if (!admit(c, row_frame_size(text)))
        return;
    smcroute::append_row(c.out, text);
    appended(c);
}

bool ServerImpl::flush(Client& c)
{
    while (c.pending()) {
        ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out_pos += static_cast<size_t>(n);
            c.last_progress = Clock::now();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return false; // EPIPE, ECONNRESET, ...
    }
    // Keep the queue compact without moving bytes more than once each.
    if (c.out_pos == c.out.size()) {
        c.out.clear();
        c.out_pos = 0;
    } else if (c.out_pos >= c.out.size() - c.out_pos) {
        c.out.erase(0, c.out_pos);
        c.out_pos = 0;
    }
    return true;
}

void ServerImpl::drop(uint64_t id, LogLevel level, std::string_view why)
{
    auto it = clients_.find(id);
    if (it == clients_.end())
        return;
    if (log_.enabled(level))
        log_.log(level, cat(it->second->label(), ": ", why, ", closing"));
    loop_.unwatch(it->second->fd.get());
    clients_.erase(it);
    if (clients_.empty() && sweep_timer_) {
        loop_.cancel(sweep_timer_);
        sweep_timer_ = 0;
    }
}

void ServerImpl::sweep_idle()
{
    auto now = Clock::now();
    std::vector<uint64_t> idle;
    for (const auto& [id, c] : clients_)
        if (now - c->last_progress >= limits_.idle_timeout)
            idle.push_back(id);
    for (uint64_t id : idle)
        drop(id, LogLevel::info, cat("no progress for ", limits_.idle_timeout.count(), " ms"));
}

} // namespace

Result<std::unique_ptr<IpcServer>> IpcServer::listen(EventLoop& loop, Logger& log, const std::string& path,
                                                     Handler handler, const IpcLimits& limits)
{
    auto server = std::make_unique<ServerImpl>(loop, log, path, std::move(handler), limits);
    if (Status s = server->start(); !s)
        return s.take_error();
    return std::unique_ptr<IpcServer>(std::move(server));
}

} // namespace smcroute

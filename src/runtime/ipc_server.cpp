#include "smcroute/runtime/ipc_server.hpp"

#include "smcroute/os/memory.hpp"
#include "smcroute/os/runtime_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
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
constexpr uint32_t status_unavailable = 69; // EX_UNAVAILABLE: no slot now
// At most one log line about refused connections in this period.
constexpr auto refusal_log_period = std::chrono::seconds(10);

// The supplementary groups of the peer of fd as they were when it
// connected (SO_PEERGROUPS).
Result<std::vector<gid_t>> peer_groups(int fd)
{
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 3; ++attempt) {
        socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
            groups.resize(len / sizeof(gid_t));
            return groups;
        }
        if (errno != ERANGE)
            return os_error(errno, "SO_PEERGROUPS");
        groups.resize(len / sizeof(gid_t) + 1); // len: the size needed
    }
    return fail("SO_PEERGROUPS: the peer's groups keep changing size");
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
struct Client;

// The queue of a held-open answer, shared with whoever pushes rows into it;
// client is null once the client has gone or the server has closed.
struct HeldQueue final : HeldReply {
    ServerImpl* server = nullptr;
    Client* client = nullptr;
    Reply::DroppedRow dropped_row;
    std::deque<std::string> rows; // not yet in the client's output buffer
    size_t bytes = 0;             // of rows
    uint64_t dropped = 0;         // rows dropped since the last notice
    bool dropping = false;        // full; until drained to half

    bool push(std::string_view row) override;
    bool open() const override { return client != nullptr; }
    // The client has gone: what waited for it is freed now, not when the
    // last holder of the handle lets go.
    void close()
    {
        client = nullptr;
        std::deque<std::string>().swap(rows);
        bytes = 0;
        dropped_row = nullptr;
    }
};

// Who a connection is from, read once at accept.
struct PeerInfo {
    Peer peer;
    bool known = false; // false: SO_PEERCRED failed; no rights, uid -1
};

std::string peer_label(uint64_t id, const PeerInfo& who)
{
    return who.known ? cat("IPC client ", id, " (pid ", who.peer.pid, ", uid ", who.peer.uid, ")")
                     : cat("IPC client ", id);
}

struct Client {
    uint64_t id = 0;
    UniqueFd fd;
    FrameReader reader;
    std::string out;
    size_t out_pos = 0;
    Clock::time_point last_progress;
    PeerInfo who;
    bool closing = false; // read no more; close once the output is written
    bool eof = false;     // the peer sent all it will; answer what is buffered
    bool doomed = false;  // drop as soon as the current dispatch returns
    bool replied = true;  // the current request has its END
    Reply::Producer producer; // the rest of a streamed answer
    std::shared_ptr<HeldQueue> held; // a held-open answer (monitor)
    // The frame deadline: while awaiting_frame (a new connection, or a frame
    // begun and not yet whole), the frame must be whole by frame_started +
    // IpcLimits::frame_timeout.
    bool awaiting_frame = true;
    Clock::time_point frame_started;
    uint64_t frames_taken = 0;

    // For log lines only (built when one is written).
    std::string label() const { return peer_label(id, who); }

    size_t pending() const { return out.size() - out_pos; }
    // Sending a streamed answer, holding one open, or too much unsent:
    // further requests wait.
    bool busy() const { return producer || held || pending() >= backlog_limit; }
    // Rows of a held answer wait for the socket.
    bool held_waiting() const { return held && !held->rows.empty(); }
    // The server waits for this client to send: the frame deadline runs.
    bool waiting_for_input() const { return !busy() && !closing && !eof && !doomed; }
};

class ServerImpl final : public IpcServer {
public:
    ServerImpl(EventLoop& loop, Logger& log, std::string path, Handler handler, const IpcLimits& limits)
        : loop_(loop), log_(log), path_(std::move(path)), handler_(std::move(handler)), limits_(limits),
          // Not zero-filled: only the bytes a read writes are ever touched,
          // so an idle daemon keeps no page of it resident.
          read_buf_(std::make_unique_for_overwrite<char[]>(read_chunk))
    {
    }
    ~ServerImpl() override;

    Status start();
    const std::string& path() const override { return path_; }
    size_t client_count() const override { return clients_.size(); }
    size_t held_count() const override { return held_; }
    IpcStats stats() const override { return stats_; }

    // Queue a frame; flushes when much is queued. Marks the client doomed on
    // overflow or a write error.
    void append(Client& c, const std::string& frame);
    void append_row(Client& c, std::string_view text); // a ROW frame, encoded in place
    // Pull a streamed answer while the client's unsent output is below the
    // low-water mark.
    void pump(Client& c);
    // A row pushed into a held answer (HeldQueue::push).
    bool held_push(Client& c, std::string_view row);
    std::shared_ptr<HeldReply> hold(Client& c, Reply::DroppedRow dropped_row);

private:
    // Rows of a held answer into the output buffer while it is below the
    // low-water mark; the dropped-rows notice once the queue has room.
    void move_held(Client& c);
    void on_listener(short revents);
    void on_client(uint64_t id, short revents);
    void read_input(Client& c);
    // Takes the whole frames buffered while the client is not busy, and
    // keeps its frame deadline.
    void process_frames(Client& c);
    void take_frames(Client& c);
    void handle_request(Client& c, const Request& req);
    void reply_error(Client& c, const std::string& message);
    bool admit(Client& c, size_t size); // false, and doomed, when over max_output
    void appended(Client& c);
    bool flush(Client& c);
    void drop(uint64_t id, LogLevel level, std::string_view why);
    // After work on a client: drops it when it is doomed or its queued
    // output cannot be sent. False when it was dropped.
    bool still_connected(uint64_t id, Client& c);
    // Drops the clients past their frame deadline or idle timeout.
    void sweep();
    enum class Late { no, frame, idle, stalled };
    Late lateness(const Client& c, Clock::time_point now) const;
    // The peer of a connection just accepted.
    PeerInfo identify(int fd) const;
    // Why a connection from this peer gets no slot now ("" when it does).
    std::string no_slot_for(const PeerInfo& who) const;
    // Tell a refused connection why (END 69), close it, log now and then.
    void refuse(UniqueFd fd, const PeerInfo& who, const std::string& why);
    // Give free memory back release_delay from now, unless already due.
    void schedule_release();
    // Slot accounting of peers that may not change state.
    void take_slot(const Client& c);
    void release_slot(const Client& c);

    EventLoop& loop_;
    Logger& log_;
    std::string path_;
    Handler handler_;
    IpcLimits limits_;
    UniqueFd listen_fd_;
    std::optional<SocketNode> node_; // the socket's file, while it is ours
    std::map<uint64_t, std::unique_ptr<Client>> clients_;
    uint64_t next_id_ = 1;
    EventLoop::TimerId sweep_timer_ = 0;
    EventLoop::TimerId pause_timer_ = 0;
    EventLoop::TimerId release_timer_ = 0;
    std::unique_ptr<char[]> read_buf_; // read_chunk bytes
    // Connections of peers that may not change state: in all, and per uid.
    size_t unprivileged_ = 0;
    size_t held_ = 0; // clients with a held answer
    std::map<uid_t, size_t> per_uid_;
    // Refusals not yet logged, and when the last line about them was.
    size_t refused_unlogged_ = 0;
    std::optional<Clock::time_point> refusal_logged_;
    IpcStats stats_;
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
    std::shared_ptr<HeldReply> hold(DroppedRow dropped_row) override
    {
        if (client_.replied || client_.producer || client_.held || client_.doomed)
            return nullptr; // a handler bug, or a client already lost
        return server_.hold(client_, std::move(dropped_row));
    }

private:
    ServerImpl& server_;
    Client& client_;
};

Status ServerImpl::start()
{
    if (auto addr = make_address(path_); !addr) // clients must be able to reach it
        return addr.take_error();
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        return os_error(errno, "IPC socket");
    // The file: in a checked directory, exact mode and group, no symlink
    // followed, a stale one replaced (os/runtime_files).
    auto node = SocketNode::bind(fd.get(), path_, limits_.mode, limits_.group, log_);
    if (!node)
        return node.take_error();
    node_ = std::move(*node);
    if (::listen(fd.get(), 64) < 0) {
        int e = errno;
        (void)node_->remove();
        node_.reset();
        return os_error(e, cat("cannot listen on IPC socket ", path_));
    }
    listen_fd_ = std::move(fd);
    loop_.watch(listen_fd_.get(), POLLIN, [this](short revents) { on_listener(revents); });
    log_.debug(cat("listening on IPC socket ", path_));
    return {};
}

bool HeldQueue::push(std::string_view row)
{
    return client && server->held_push(*client, row);
}

std::shared_ptr<HeldReply> ServerImpl::hold(Client& c, Reply::DroppedRow dropped_row)
{
    auto q = std::make_shared<HeldQueue>();
    q->server = this;
    q->client = &c;
    q->dropped_row = std::move(dropped_row);
    c.held = q;
    c.replied = true; // the answer has no END while it is held
    ++held_;
    return q;
}

bool ServerImpl::held_push(Client& c, std::string_view row)
{
    HeldQueue& q = *c.held;
    if (c.doomed)
        return false;
    const size_t size = row_frame_size(row);
    if (q.dropping || q.rows.size() >= limits_.held_max_rows || q.bytes + size > limits_.held_max_bytes) {
        q.dropping = true;
        ++q.dropped;
        return false;
    }
    // The stall clock starts when there is something to send.
    if (q.rows.empty() && c.pending() == 0)
        c.last_progress = loop_.now();
    q.rows.emplace_back(row);
    q.bytes += size;
    // Sent from the loop (POLLOUT): events published together go out in
    // one write, and publishing never waits for a socket.
    loop_.set_events(c.fd.get(), POLLOUT);
    return true;
}

void ServerImpl::move_held(Client& c)
{
    HeldQueue& q = *c.held;
    for (int pass = 0; pass < 2; ++pass) {
        while (!q.rows.empty() && !c.doomed && c.pending() < limits_.stream_low_water) {
            q.bytes -= row_frame_size(q.rows.front());
            append_row(c, q.rows.front());
            q.rows.pop_front();
        }
        if (!q.dropping || q.rows.size() > limits_.held_max_rows / 2 || q.bytes > limits_.held_max_bytes / 2)
            return;
        q.dropping = false;
        if (q.dropped_row) {
            std::string notice = q.dropped_row(q.dropped);
            q.bytes += row_frame_size(notice);
            q.rows.push_back(std::move(notice));
        }
        q.dropped = 0;
    }
}

ServerImpl::~ServerImpl()
{
    if (sweep_timer_)
        loop_.cancel(sweep_timer_);
    if (pause_timer_)
        loop_.cancel(pause_timer_);
    if (release_timer_)
        loop_.cancel(release_timer_);
    for (auto& [id, c] : clients_) {
        loop_.unwatch(c->fd.get());
        if (c->held) {
            // Best effort, never blocking: a monitor hears why it ends.
            c->held->close();
            std::string end = encode_end(EndFrame{status_unavailable, "the daemon is exiting"});
            if (flush(*c) && c->pending() == 0)
                (void)::send(c->fd.get(), end.data(), end.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
    }
    clients_.clear();
    // The file first, while the open socket keeps its inode number from
    // being reused; only if it is still ours, and only where this process
    // may: after -p the socket is root's, in root's directory, and stays
    // (dead) for the next start to replace.
    if (node_)
        if (auto st = node_->remove(); !st)
            log_.info(cat(st.error().message, "; left behind, the next start replaces it"));
    if (listen_fd_) {
        loop_.unwatch(listen_fd_.get());
        listen_fd_.reset();
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
        PeerInfo who = identify(cfd.get());
        if (std::string why = no_slot_for(who); !why.empty()) {
            refuse(std::move(cfd), who, why);
            continue;
        }
        ++stats_.accepted;
        auto c = std::make_unique<Client>();
        c->id = next_id_++;
        c->fd = std::move(cfd);
        c->last_progress = loop_.now();
        c->frame_started = c->last_progress; // the first request's deadline
        c->who = who;
        take_slot(*c);
        if (log_.enabled(LogLevel::debug))
            log_.debug(cat(c->label(), " connected"));
        uint64_t id = c->id;
        loop_.watch(c->fd.get(), POLLIN, [this, id](short revents) { on_client(id, revents); });
        clients_.emplace(id, std::move(c));
        if (!sweep_timer_) {
            auto period = std::clamp<Clock::duration>(std::min(limits_.idle_timeout, limits_.frame_timeout) / 4,
                                                      std::chrono::milliseconds(5), std::chrono::seconds(1));
            sweep_timer_ = loop_.every(period, [this] { sweep(); });
        }
        // A client usually sends its request right after connecting: answer
        // it now rather than after another turn of the loop.
        on_client(id, POLLIN);
    }
}

PeerInfo ServerImpl::identify(int fd) const
{
    PeerInfo who;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        log_.warning(cat("IPC: cannot read peer credentials: ", std::strerror(errno)));
        who.peer.uid = static_cast<uid_t>(-1);
        who.peer.gid = static_cast<gid_t>(-1);
        return who;
    }
    who.known = true;
    who.peer.pid = cred.pid;
    who.peer.uid = cred.uid;
    who.peer.gid = cred.gid;
    const gid_t group = limits_.group;
    if (cred.uid == 0 || (group != static_cast<gid_t>(-1) && cred.gid == group)) {
        who.peer.may_change_state = true;
    } else if (group != static_cast<gid_t>(-1)) {
        auto groups = peer_groups(fd);
        if (groups)
            who.peer.may_change_state = std::find(groups->begin(), groups->end(), group) != groups->end();
        else
            log_.warning(cat("IPC: uid ", cred.uid, ": cannot read its groups: ", groups.error().message));
    }
    return who;
}

std::string ServerImpl::no_slot_for(const PeerInfo& who) const
{
    if (clients_.size() >= limits_.max_clients)
        return cat("too many connections: all ", limits_.max_clients, " are in use, try again later");
    if (who.peer.may_change_state)
        return {};
    const size_t open_to_all = limits_.max_clients - std::min(limits_.reserved_clients, limits_.max_clients);
    if (unprivileged_ >= open_to_all)
        return cat("too many connections: the ", open_to_all,
                   " not kept for root and the socket group are in use, try again later");
    auto it = per_uid_.find(who.peer.uid);
    if (it != per_uid_.end() && it->second >= limits_.max_clients_per_uid)
        return cat("too many connections from uid ", who.peer.uid, " (at most ", limits_.max_clients_per_uid, ")");
    return {};
}

void ServerImpl::refuse(UniqueFd fd, const PeerInfo& who, const std::string& why)
{
    // Best effort and never blocking: a new socket's buffer takes it.
    std::string end = encode_end(EndFrame{status_unavailable, why});
    (void)::send(fd.get(), end.data(), end.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    fd.reset();
    ++stats_.refused;
    ++refused_unlogged_;
    auto now = loop_.now();
    if (refusal_logged_ && now - *refusal_logged_ < refusal_log_period)
        return;
    std::string whom = who.known ? cat("pid ", who.peer.pid, ", uid ", who.peer.uid) : std::string("unknown peer");
    if (refused_unlogged_ == 1)
        log_.notice(cat("IPC: refused a connection (", whom, "): ", why));
    else
        log_.notice(cat("IPC: refused ", refused_unlogged_, " connections since the last such line; the last (",
                        whom, "): ", why));
    refused_unlogged_ = 0;
    refusal_logged_ = now;
}

void ServerImpl::take_slot(const Client& c)
{
    if (c.who.peer.may_change_state)
        return;
    ++unprivileged_;
    ++per_uid_[c.who.peer.uid];
}

void ServerImpl::release_slot(const Client& c)
{
    if (c.who.peer.may_change_state)
        return;
    --unprivileged_;
    auto it = per_uid_.find(c.who.peer.uid);
    if (it != per_uid_.end() && --it->second == 0)
        per_uid_.erase(it);
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
    if ((revents & POLLHUP) && (c.producer || c.held)) {
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
    // A held answer's rows go out as the socket takes them.
    if (c.held_waiting()) {
        move_held(c);
        if (!still_connected(id, c))
            return;
    }
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
    short events = static_cast<short>((want_input ? POLLIN : 0) |
                                      (c.pending() || c.producer || c.held_waiting() ? POLLOUT : 0));
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
        ssize_t n = ::recv(c.fd.get(), read_buf_.get(), read_chunk, MSG_DONTWAIT);
        if (n > 0) {
            c.last_progress = loop_.now();
            if (!c.awaiting_frame) { // these bytes begin a frame
                c.awaiting_frame = true;
                c.frame_started = c.last_progress;
            }
            c.reader.feed(read_buf_.get(), static_cast<size_t>(n));
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
    const uint64_t before = c.frames_taken;
    take_frames(c);
    if (c.frames_taken == before)
        return; // the frame awaited is still not whole: its deadline stands
    // Bytes left over begin the next frame, now; none: no frame is awaited
    // (the idle timeout applies).
    c.awaiting_frame = c.reader.buffered() > 0;
    c.frame_started = loop_.now();
}

void ServerImpl::take_frames(Client& c)
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
        ++c.frames_taken;
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

void ServerImpl::handle_request(Client& c, const Request& req)
{
    ClientReply reply(*this, c);
    c.replied = false;
    ++stats_.requests;
    handler_(req, c.who.peer, reply);
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
        c.last_progress = loop_.now();
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
            c.last_progress = loop_.now();
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
    release_slot(*it->second);
    if (it->second->held) {
        it->second->held->close();
        --held_;
    }
    // A queue's capacity is its peak (clear() keeps it): this client held a
    // large answer, and a crowd of them leaves the heap full of free pages.
    const bool held_much = it->second->out.capacity() >= limits_.stream_low_water;
    clients_.erase(it);
    if (clients_.empty() && sweep_timer_) {
        loop_.cancel(sweep_timer_);
        sweep_timer_ = 0;
    }
    if (held_much)
        schedule_release();
}

void ServerImpl::schedule_release()
{
    if (release_timer_)
        return;
    release_timer_ = loop_.after(limits_.release_delay, [this] {
        release_timer_ = 0;
        if (limits_.release_memory)
            limits_.release_memory();
        else
            release_free_memory();
    });
}

ServerImpl::Late ServerImpl::lateness(const Client& c, Clock::time_point now) const
{
    if (c.held) { // quiet is healthy; stuck with rows to send is not
        if (c.pending() == 0 && !c.held_waiting())
            return Late::no;
        return now - c.last_progress >= limits_.held_stall_timeout ? Late::stalled : Late::no;
    }
    if (c.waiting_for_input() && c.awaiting_frame && now - c.frame_started >= limits_.frame_timeout)
        return Late::frame;
    if (now - c.last_progress >= limits_.idle_timeout)
        return Late::idle;
    return Late::no;
}

void ServerImpl::sweep()
{
    auto now = loop_.now();
    std::vector<uint64_t> late;
    for (const auto& [id, c] : clients_) {
        if (!c->waiting_for_input())
            c->frame_started = now; // not being read: its frame clock restarts when it is
        if (lateness(*c, now) != Late::no)
            late.push_back(id);
    }
    for (uint64_t id : late) {
        // What it sent while the loop was busy elsewhere counts: read that
        // first (this may answer it, or drop it). A held answer reads
        // nothing, and its poke would only squeeze a few more bytes into
        // a socket the client does not drain.
        if (!clients_.at(id)->held)
            on_client(id, POLLIN);
        auto it = clients_.find(id);
        if (it == clients_.end())
            continue;
        switch (lateness(*it->second, loop_.now())) {
        case Late::frame:
            drop(id, LogLevel::info, cat("no complete request within ", limits_.frame_timeout.count(), " ms"));
            break;
        case Late::idle:
            drop(id, LogLevel::info, cat("no progress for ", limits_.idle_timeout.count(), " ms"));
            break;
        case Late::stalled:
            drop(id, LogLevel::info,
                 cat("monitor read nothing for ", limits_.held_stall_timeout.count(), " ms while events waited"));
            break;
        case Late::no:
            break;
        }
    }
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

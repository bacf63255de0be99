// runtime/ipc_server: the daemon's UNIX stream socket. Accepts clients
// without ever blocking, cuts their frames, identifies the peer once, at
// accept, from facts fixed at connect (SO_PEERCRED, SO_PEERGROUPS) and hands
// each request to one handler; queues the reply rows and END frame and
// writes them as the client reads, pulling streamed answers only as the
// client drains them. Bounded in clients (in all, per uid, with slots kept
// for peers that may change state), frame size and time, output queue and
// idle time; gives memory back after clients with large answers leave.
// Holds answers open for monitors (Reply::hold): rows pushed as events
// happen, through a bounded queue per client that drops and counts what
// does not fit. Knows nothing about routes or events.
#pragma once

#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/model/ipc_protocol.hpp"
#include "smcroute/base/log.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>

namespace smcroute {

// Clients connected at once, in all.
inline constexpr size_t ipc_max_clients = 256;
// Of those, this many are kept for peers that may change state: the others
// together hold at most ipc_max_clients - ipc_reserved_clients.
inline constexpr size_t ipc_reserved_clients = 16;
// Connections one uid that may not change state holds at once.
inline constexpr size_t ipc_max_clients_per_uid = 32;
// Output queued for one client: an answer built whole (show groups,
// interfaces, memberships) must fit; streamed ones stay near the low-water
// mark below. A hard bound on what one client can make the daemon hold.
inline constexpr size_t ipc_max_output = 4u * 1024 * 1024;
// A streamed answer (Reply::stream) is pulled while less than this is unsent.
inline constexpr size_t ipc_stream_low_water = 64u * 1024;
// A client that makes no progress (reads or writes nothing) this long is
// dropped.
inline constexpr auto ipc_idle_timeout = std::chrono::seconds(10);
// A request frame must arrive whole within this long of its first byte, and
// a new connection's first request within this long of its accept; time
// the server spends not reading the client (its answers wait to be read)
// does not count. Checked once a second.
inline constexpr auto ipc_frame_timeout = std::chrono::seconds(5);

// A held-open answer (Reply::hold, `monitor`) queues at most this many rows
// and this many bytes of them beyond what its socket took; rows pushed while
// the queue is full are dropped and counted, and once it has drained to half
// the client is told how many. Its output buffer holds at most
// ipc_stream_low_water more.
inline constexpr size_t ipc_held_max_rows = 1024;
inline constexpr size_t ipc_held_max_bytes = 256u * 1024;
// A held-open answer is never dropped for being quiet; one whose client reads
// nothing while rows wait for this long is dropped.
inline constexpr auto ipc_held_stall_timeout = std::chrono::seconds(60);

// After a client whose output queue grew to the stream low-water mark (it
// was sent a large answer) leaves, free heap memory is given back to the
// kernel this long after: once for a crowd of such clients leaving together.
inline constexpr auto ipc_release_delay = std::chrono::seconds(1);

// The bounds above, injectable so tests can use small ones.
struct IpcLimits {
    size_t max_clients = ipc_max_clients;
    size_t reserved_clients = ipc_reserved_clients; // at most max_clients
    size_t max_clients_per_uid = ipc_max_clients_per_uid;
    size_t max_output = ipc_max_output;
    std::chrono::milliseconds idle_timeout = ipc_idle_timeout;
    std::chrono::milliseconds frame_timeout = ipc_frame_timeout;
    size_t stream_low_water = ipc_stream_low_water;
    std::chrono::milliseconds release_delay = ipc_release_delay;
    size_t held_max_rows = ipc_held_max_rows;
    size_t held_max_bytes = ipc_held_max_bytes;
    std::chrono::milliseconds held_stall_timeout = ipc_held_stall_timeout;
    // How memory is given back (empty: os/memory's release_free_memory());
    // tests count the calls.
    std::function<void()> release_memory;
    // Who may use the socket: its mode, and a group that owns it. Members of
    // that group (primary or supplementary) may also change state.
    mode_t mode = 0660;
    gid_t group = static_cast<gid_t>(-1); // -1: root's group, no extra rights
};

// The peer as it connected: its credentials are the kernel's record of the
// connecting process at connect() (SO_PEERCRED, SO_PEERGROUPS), which no
// later exec, setuid or namespace of the client can change.
struct Peer {
    pid_t pid = 0; // for log lines only: the pid may exec or be reused
    uid_t uid = 0;
    gid_t gid = 0;
    // uid 0, or the socket group (IpcLimits::group) is its gid or one of its
    // supplementary groups. Capabilities are not looked at.
    bool may_change_state = false;
};

// The open end of a held answer (Reply::hold): rows pushed as things happen.
// May outlive its client and the server: it is then closed.
class HeldReply {
public:
    virtual ~HeldReply() = default;
    // Queue one row for the client. False when it was not queued: the client
    // has gone (open() is false), or its queue is full and the row is
    // dropped and counted. Never blocks and never writes to the socket: the
    // server sends from its event loop.
    virtual bool push(std::string_view row) = 0;
    virtual bool open() const = 0;
};

class Reply {
public:
    // Writes the next few rows into the Reply it is given and returns true
    // while more remain; the call that returns false has called end() (the
    // server sends END 70 if it did not). It runs later, from the event
    // loop, after the handler has returned: it must own what it reads, or
    // read only what outlives the IPC server (the daemon's Router).
    using Producer = std::function<bool(Reply&)>;

    virtual ~Reply() = default;
    virtual void row(std::string_view text) = 0;
    virtual void end(uint32_t status, std::string_view message) = 0;
    // Hand the rest of the answer to producer, as the handler's last call.
    // The IPC server pulls it only while the client's unsent output is below
    // a low-water mark, so an answer of any length costs bounded memory and a
    // client that stops reading costs no more. This default, for replies
    // that collect in memory, pulls it to the end at once.
    virtual void stream(Producer producer)
    {
        while (producer(*this)) {
        }
    }
    // Keep the answer open (a monitor), as the handler's last call instead of
    // end(): rows pushed into the handle go to the client as its socket takes
    // them, through a queue bounded by IpcLimits::held_max_rows and
    // held_max_bytes. Rows pushed while it is full are dropped and counted;
    // once the queue has drained to half, dropped_row(count) is queued and
    // counting starts again. The client sends nothing more (further requests
    // are not read); the answer ends when it goes, or, with END 69, when the
    // server closes. Null where an answer cannot be held (this default, for
    // replies that collect in memory): the handler must then end() it.
    using DroppedRow = std::function<std::string(uint64_t dropped)>;
    virtual std::shared_ptr<HeldReply> hold(DroppedRow dropped_row)
    {
        (void)dropped_row;
        return nullptr;
    }
};

// What the server has done since it started, for show status and metrics.
struct IpcStats {
    uint64_t accepted = 0; // connections given a slot (clients served)
    uint64_t refused = 0;  // connections refused: no slot (limits above)
    uint64_t requests = 0; // requests handed to the handler
};

class IpcServer {
public:
    // Called synchronously for each valid request, in order per client. It
    // must call Reply::end() once (the server sends END 70 if it does not).
    using Handler = std::function<void(const Request&, const Peer&, Reply&)>;

    // Bind and listen on path, its file made by os/runtime_files
    // (SocketNode): in a directory only root (or this user) may write, or a
    // sticky one; with exactly limits.mode and limits.group, never following
    // a symbolic link. A stale socket file is removed; a live daemon
    // answering on it is an error: "another daemon is already running on
    // PATH".
    static Result<std::unique_ptr<IpcServer>> listen(EventLoop& loop, Logger& log, const std::string& path,
                                                     Handler handler, const IpcLimits& limits = {});
    // Closes every client and unlinks the socket if it is still ours and this
    // process may (after -p it may not: the socket stays, dead, and the next
    // start replaces it). Must be destroyed before the EventLoop, and not
    // from inside its own handler.
    virtual ~IpcServer() = default;
    virtual const std::string& path() const = 0;
    virtual size_t client_count() const = 0;
    // Clients whose answer is held open (monitors).
    virtual size_t held_count() const = 0;
    virtual IpcStats stats() const = 0;
};

} // namespace smcroute

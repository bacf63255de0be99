// runtime/ipc_client: the client's side of the IPC socket. Connects, sends
// requests and reads rows until the END frame, with a timeout so a wedged
// daemon can never hang a script. Requests may be pipelined (queued ahead of
// their answers, which come back in order). Used only by the client process.
#pragma once

#include "smcroute/model/ipc_protocol.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace smcroute {

class IpcClient {
public:
    using RowFn = std::function<void(std::string_view)>;
    using EndFn = std::function<void(const EndFrame&)>;

    // Errors name the socket: "cannot connect to PATH: ... (is the daemon running?)".
    // A timeout of zero or less waits forever.
    static Result<IpcClient> connect(const std::string& path, std::chrono::milliseconds timeout);

    // Send one request; on_row gets each row as it arrives. Returns the END.
    // An encoding error (request too large, ...) leaves the connection usable;
    // any I/O or protocol error closes it. Only with nothing outstanding.
    Result<EndFrame> call(const Request& req, const RowFn& on_row);
    bool connected() const { return fd_.valid(); }
    // Follow an answer the daemon holds open (monitor): send req, then pass
    // each row to on_row as it comes, with no timeout, until the END
    // (returned), until stop_fd (e.g. a signalfd) becomes readable (nullopt;
    // the connection stays open), or until the connection fails (an error:
    // "connection closed by the daemon").
    Result<std::optional<EndFrame>> follow(const Request& req, const RowFn& on_row, int stop_fd);

    // Pipelining. queue() encodes a request and queues it for sending; an
    // encoding error queues nothing and leaves the connection usable.
    Status queue(const Request& req);
    // Sends queued requests while reading answers, until at most
    // max_outstanding requests await their END: rows go to on_row and each
    // END to on_end, in request order (an END answers the oldest outstanding
    // request). Never blocks on a full socket in either direction, so the
    // daemon can always write its answers. The timeout applies to each wait
    // without progress. An I/O or protocol error closes the connection and is
    // returned; outstanding() then counts the requests left unanswered.
    Status drain(size_t max_outstanding, const RowFn& on_row, const EndFn& on_end);
    // No more requests will be queued: once the queued ones are written, the
    // write side is shut down, so the daemon sees the end of input with the
    // last request and closes after answering, without another wake-up.
    void end_requests() { last_queued_ = true; }
    // Requests queued or sent whose END has not been read.
    size_t outstanding() const { return outstanding_; }
    // Bytes queued and not yet written to the socket.
    size_t unsent() const { return out_.size() - out_pos_; }

private:
    // Frames already read, up to and including the next END: rows go to
    // on_row (when set); the END, decoded, is returned; none when no END
    // has been read yet. An error for a malformed or unexpected frame.
    Result<std::optional<EndFrame>> next_end(const RowFn& on_row);
    // Sends what the socket takes now; false (and peer_gone_) when the daemon
    // has closed its end.
    Status send_some();

    UniqueFd fd_;
    FrameReader reader_;
    std::chrono::milliseconds timeout_{};
    std::string out_;
    size_t out_pos_ = 0;
    size_t outstanding_ = 0;
    bool peer_gone_ = false; // writing failed: read what is left, then report
    bool last_queued_ = false;
    bool write_shut_ = false;
};

} // namespace smcroute

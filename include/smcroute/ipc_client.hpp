// runtime/ipc_client: the client's side of the IPC socket. Connects, sends
// requests and reads rows until the END frame, with a timeout so a wedged
// daemon can never hang a script. Blocking; used only by the client process.
#pragma once

#include "smcroute/ipc_protocol.hpp"
#include "smcroute/unique_fd.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace smcroute {

class IpcClient {
public:
    // Errors name the socket: "cannot connect to PATH: ... (is the daemon running?)".
    // A timeout of zero or less waits forever.
    static Result<IpcClient> connect(const std::string& path, std::chrono::milliseconds timeout);

    // Send one request; on_row gets each row as it arrives. Returns the END.
    // An encoding error (request too large, ...) leaves the connection usable;
    // any I/O or protocol error closes it.
    Result<EndFrame> call(const Request& req, const std::function<void(std::string_view)>& on_row);
    bool connected() const { return fd_.valid(); }

private:
    Result<EndFrame> exchange(const std::string& frame, const std::function<void(std::string_view)>& on_row);

    UniqueFd fd_;
    FrameReader reader_;
    std::chrono::milliseconds timeout_{};
};

} // namespace smcroute

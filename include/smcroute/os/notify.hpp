// os/notify: the systemd readiness protocol (sd_notify) written directly,
// without libsystemd: one datagram per call on the AF_UNIX socket named by
// $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Knows nothing
// of the daemon's state; without $NOTIFY_SOCKET every call is a no-op.
#pragma once

#include "smcroute/base/unique_fd.hpp"

#include <string>
#include <string_view>

namespace smcroute {

class SystemdNotifier {
public:
    // Disabled: every call does nothing.
    SystemdNotifier() = default;
    // Send to this socket address ("@name": abstract). Empty: disabled.
    explicit SystemdNotifier(std::string socket_path);
    // From $NOTIFY_SOCKET; unset or empty: disabled.
    static SystemdNotifier from_env();

    bool enabled() const { return !path_.empty(); }

    // "READY=1" (+ "\nSTATUS=..." when status is not empty).
    void ready(std::string_view status = {});
    // "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC in µs>" (+ "\nSTATUS=...").
    // Type=notify-reload expects it after SIGHUP, then ready() once done.
    void reloading(std::string_view status = {});
    // "STOPPING=1" (+ "\nSTATUS=...").
    void stopping(std::string_view status = {});
    // "STATUS=..." alone.
    void status(std::string_view text);

    // Send one raw message ("KEY=VALUE\n..."). False if it could not be sent
    // (errors are otherwise ignored: the service manager is best effort).
    bool send(std::string_view message);

private:
    std::string path_;
    UniqueFd fd_;
};

} // namespace smcroute

#include "smcroute/os/notify.hpp"

#include "smcroute/base/text.hpp"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/socket.h>
#include <sys/un.h>

namespace smcroute {

namespace {

// STATUS= is one line: a newline in it would start a new assignment.
std::string one_line(std::string_view text)
{
    std::string out(text);
    for (char& c : out)
        if (c == '\n' || c == '\r')
            c = ' ';
    return out;
}

std::string with_status(std::string message, std::string_view status)
{
    if (!status.empty()) {
        message += "\nSTATUS=";
        message += one_line(status);
    }
    return message;
}

} // namespace

SystemdNotifier::SystemdNotifier(std::string socket_path) : path_(std::move(socket_path))
{
    sockaddr_un sun{};
    if (path_.size() < 2 || path_.size() >= sizeof(sun.sun_path) || (path_[0] != '/' && path_[0] != '@'))
        path_.clear(); // not an address systemd would give: disabled
}

SystemdNotifier SystemdNotifier::from_env()
{
    const char* path = std::getenv("NOTIFY_SOCKET");
    return SystemdNotifier(path ? std::string(path) : std::string());
}

bool SystemdNotifier::send(std::string_view message)
{
    if (!enabled())
        return false;
    if (!fd_) {
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!fd_)
            return false;
    }
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path_.data(), path_.size());
    if (sun.sun_path[0] == '@')
        sun.sun_path[0] = '\0';
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
    ssize_t rc = ::sendto(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&sun), len);
    return rc == static_cast<ssize_t>(message.size());
}

void SystemdNotifier::ready(std::string_view status)
{
    send(with_status("READY=1", status));
}

void SystemdNotifier::reloading(std::string_view status)
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
    send(with_status(cat("RELOADING=1\nMONOTONIC_USEC=", usec), status));
}

void SystemdNotifier::stopping(std::string_view status)
{
    send(with_status("STOPPING=1", status));
}

void SystemdNotifier::status(std::string_view text)
{
    send(cat("STATUS=", one_line(text)));
}

} // namespace smcroute

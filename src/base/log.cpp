#include "smcroute/base/log.hpp"

#include <array>
#include <cstdio>
#include <syslog.h>
#include <unistd.h>

namespace smcroute {

namespace {
constexpr std::array<std::string_view, 6> level_names{"none", "err", "warning", "notice", "info", "debug"};
}

std::optional<LogLevel> parse_log_level(std::string_view word)
{
    for (size_t i = 0; i < level_names.size(); ++i)
        if (word == level_names[i])
            return static_cast<LogLevel>(i);
    if (word == "error")
        return LogLevel::err;
    if (word == "warn")
        return LogLevel::warning;
    return std::nullopt;
}

std::string_view log_level_name(LogLevel level)
{
    return level_names[static_cast<size_t>(level)];
}

Logger::~Logger()
{
    if (sink_ == Sink::syslog)
        closelog();
}

void Logger::use_syslog(std::string ident)
{
    if (sink_ == Sink::syslog)
        closelog();
    ident_ = std::move(ident);
    openlog(ident_.c_str(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
    sink_ = Sink::syslog;
}

void Logger::use_stderr()
{
    if (sink_ == Sink::syslog)
        closelog();
    sink_ = Sink::stderr_;
}

void Logger::log(LogLevel level, std::string_view message)
{
    write(level, message, true);
}

void Logger::log_plain(LogLevel level, std::string_view message)
{
    write(level, message, false);
}

void Logger::write(LogLevel level, std::string_view message, bool prefix)
{
    if (!enabled(level))
        return;
    if (sink_ == Sink::syslog) {
        static constexpr std::array<int, 6> prio{LOG_ERR, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
        syslog(prio[static_cast<size_t>(level)], "%.*s", static_cast<int>(message.size()), message.data());
        return;
    }
    std::string line;
    line.reserve(message.size() + 16);
    if (prefix && level == LogLevel::err)
        line += "error: ";
    else if (prefix && level == LogLevel::warning)
        line += "warning: ";
    line += message;
    line += '\n';
    // One write per line so concurrent writers do not interleave mid-line.
    ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
    (void)rc;
}

} // namespace smcroute

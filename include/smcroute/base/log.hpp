// base/log: the daemon's one Logger, passed by reference (there are no global
// loggers). Writes operator-readable lines to stderr or syslog, filtered by
// level. It never exits or throws.
#pragma once

#include "smcroute/base/text.hpp" // cat() and hex(): most callers of the Logger build their lines with them

#include <optional>
#include <string>
#include <string_view>

namespace smcroute {

enum class LogLevel { none, err, warning, notice, info, debug };

std::optional<LogLevel> parse_log_level(std::string_view word);
std::string_view log_level_name(LogLevel level);

class Logger {
public:
    enum class Sink { stderr_, syslog };

    Logger() = default;
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    void set_level(LogLevel level) { level_ = level; }
    LogLevel level() const { return level_; }
    // Switch to syslog under the given ident (kept alive by the Logger).
    void use_syslog(std::string ident);
    void use_stderr();
    bool enabled(LogLevel level) const { return level != LogLevel::none && level <= level_; }

    void log(LogLevel level, std::string_view message);
    // As log(), without the "error: "/"warning: " prefix on stderr: for
    // messages that carry their own, like config diagnostics.
    void log_plain(LogLevel level, std::string_view message);
    void error(std::string_view m) { log(LogLevel::err, m); }
    void warning(std::string_view m) { log(LogLevel::warning, m); }
    void notice(std::string_view m) { log(LogLevel::notice, m); }
    void info(std::string_view m) { log(LogLevel::info, m); }
    void debug(std::string_view m) { log(LogLevel::debug, m); }

private:
    void write(LogLevel level, std::string_view message, bool prefix);

    LogLevel level_ = LogLevel::notice;
    Sink sink_ = Sink::stderr_;
    std::string ident_;
};

} // namespace smcroute

// runtime/client_output: the streams the client writes to. A line of text
// bound for a terminal is escaped (terminal_escape()), since rows and
// messages come from the daemon (interface names may hold control bytes) or
// from whatever answers on its socket, and diagnostics quote config files.
// Knows nothing of what the lines say.
#pragma once

#include "smcroute/base/table.hpp"

#include <cstdio>
#include <string_view>
#include <unistd.h>

namespace smcroute {

// A stream the client writes to, and whether it is a terminal.
class Output {
public:
    explicit Output(std::FILE* f) : f_(f), tty_(::isatty(::fileno(f)) == 1) {}
    std::FILE* file() const { return f_; }
    bool tty() const { return tty_; }

private:
    std::FILE* f_;
    bool tty_;
};

// Text as it is: JSON structure and the built-in help.
inline void put(const Output& o, std::string_view text)
{
    std::fwrite(text.data(), 1, text.size(), o.file());
}

// One line; escaped for a terminal (JSON has its own escapes, which stay).
inline void put_line(const Output& o, std::string_view text)
{
    if (o.tty() && needs_terminal_escape(text))
        put(o, terminal_escape(text));
    else
        put(o, text);
    std::fputc('\n', o.file());
}

} // namespace smcroute

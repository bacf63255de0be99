#include "smcroute/model/config_diagnostics.hpp"

#include "smcroute/base/log.hpp"

#include <algorithm>
#include <utility>

namespace smcroute {

namespace {

constexpr size_t max_shown_line = 160; // longer lines are shown as a window
constexpr size_t window_before = 80;   // bytes shown before the column
constexpr size_t max_kept_line = 1024; // longer lines are kept as an excerpt

bool is_control(char c)
{
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

// Control bytes would garble a terminal; show them as '?' (tabs kept, so
// the caret line still lines up).
std::string printable(std::string_view s, bool keep_tabs)
{
    std::string out(s);
    for (char& c : out)
        if (is_control(c) && !(keep_tabs && c == '\t'))
            c = '?';
    return out;
}

} // namespace

std::string Diagnostic::format() const
{
    std::string out = file;
    if (line > 0)
        out += cat(':', line, ':', col);
    out += severity == Severity::error ? ": error: " : ": warning: ";
    out += shown_message(message);

    if (line > 0 && !source_line.empty()) {
        const size_t length = line_length ? line_length : source_line.size();
        size_t c = col > 0 ? col - 1 : 0;
        c = std::min(c, length);
        std::string shown;
        size_t caret = c;
        if (length <= max_shown_line) {
            shown = source_line;
        } else {
            size_t start = c > window_before ? c - window_before : 0;
            size_t end = std::min(length, start + max_shown_line);
            if (end - start < max_shown_line)
                start = end - max_shown_line;
            if (start > 0)
                shown = "...";
            // The window lies within the excerpt kept (see diagnostic_at).
            size_t from = std::max(start, source_offset) - source_offset;
            shown.append(source_line, std::min(from, source_line.size()), end - start);
            caret = c - start + (start > 0 ? 3 : 0);
            if (end < length)
                shown += "...";
        }
        shown = printable(shown, true);
        out += "\n  ";
        out += shown;
        out += "\n  ";
        for (size_t i = 0; i < caret; ++i)
            out += (i < shown.size() && shown[i] == '\t') ? '\t' : ' ';
        out += '^';
    }
    for (const auto& loc : include_chain)
        out += cat("\n  included from ", loc.file, ':', loc.line);
    return out;
}

std::string shown_message(std::string_view message)
{
    if (message.size() <= max_message_length)
        return printable(message, false);
    constexpr std::string_view cut = " ... ";
    const size_t head = (max_message_length - cut.size()) * 2 / 3;
    const size_t tail = max_message_length - cut.size() - head;
    return printable(cat(message.substr(0, head), cut, message.substr(message.size() - tail)), false);
}

std::vector<RenderedDiagnostic> render_diagnostics(const std::vector<Diagnostic>& diagnostics, size_t max)
{
    size_t errors = 0;
    for (const auto& d : diagnostics)
        errors += d.severity == Severity::error;
    const size_t warning_room = max - std::min(errors, max);
    size_t shown_errors = 0, shown_warnings = 0, hidden_errors = 0, hidden_warnings = 0;
    std::vector<RenderedDiagnostic> out;
    for (const auto& d : diagnostics) {
        const bool error = d.severity == Severity::error;
        size_t& shown = error ? shown_errors : shown_warnings;
        if (shown < (error ? max : warning_room)) {
            ++shown;
            out.push_back({d.severity, d.format(), &d});
        } else {
            ++(error ? hidden_errors : hidden_warnings);
        }
    }
    if (hidden_errors + hidden_warnings > 0)
        out.push_back({hidden_errors ? Severity::error : Severity::warning,
                       cat("and ", hidden_errors + hidden_warnings, " more (", hidden_errors, " error(s), ",
                           hidden_warnings, " warning(s)) not shown"),
                       nullptr});
    return out;
}

Diagnostic diagnostic_at(const std::string& file, unsigned number, unsigned col, Severity severity,
                         std::string message, std::string_view text)
{
    Diagnostic d;
    d.file = file;
    d.line = number;
    d.col = col;
    d.severity = severity;
    d.message = std::move(message);
    if (text.size() <= max_kept_line) {
        d.source_line = std::string(text);
    } else {
        // Enough around the column for format()'s window, not the whole
        // line: many errors on one long line must not copy it each time.
        size_t c = std::min<size_t>(col > 0 ? col - 1 : 0, text.size());
        size_t from = c > max_kept_line / 2 ? c - max_kept_line / 2 : 0;
        d.source_line = std::string(text.substr(from, max_kept_line));
        d.source_offset = from;
        d.line_length = text.size();
    }
    return d;
}

// A word as it appears in a message: control bytes escaped, long words cut.
std::string quote_word(std::string_view w)
{
    constexpr size_t max_len = 64;
    std::string out = "'";
    size_t n = std::min(w.size(), max_len);
    for (size_t i = 0; i < n; ++i) {
        char c = w[i];
        if (is_control(c)) {
            static constexpr char hex[] = "0123456789abcdef";
            auto u = static_cast<unsigned char>(c);
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    if (w.size() > max_len)
        out += "...";
    out += '\'';
    return out;
}

} // namespace smcroute

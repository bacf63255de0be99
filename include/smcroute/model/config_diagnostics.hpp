// model/config_diagnostics: what the config parser says about a file, as
// located values and their text: where (file, line, column, the includes
// that led there), how bad (error or warning), what, and the offending line
// shown with a caret under the column (a window of a long line), control
// bytes made harmless; and the one renderer of a list of them, bounded in
// count and in the length of each message. Knows nothing of the config's syntax or of how files
// are read.
#pragma once

#include "smcroute/model/route_spec.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

struct SourceLoc {
    std::string file;
    unsigned line = 0;
};

// "file:line:col: error: message", then the offending line and a caret
// under column col; for included files, "  included from file:line" lines.
struct Diagnostic {
    std::string file;
    unsigned line = 0;
    unsigned col = 1; // 1-based, in bytes
    Severity severity = Severity::error;
    std::string message;
    // The line, without its newline ('' if none); of a long line, only the
    // part around col that format() shows, starting at byte source_offset
    // of a line line_length bytes long.
    std::string source_line;
    size_t source_offset = 0;
    size_t line_length = 0; // 0: source_line is the whole line
    std::vector<SourceLoc> include_chain; // innermost first
    std::string format() const;
};

// A diagnostic at column col of line `number` of file, whose text (without
// its newline) is `text`: it keeps the line, or of a long line an excerpt
// around col wide enough for format()'s window, so many diagnostics on one
// long line do not each copy it. The include chain is left empty.
Diagnostic diagnostic_at(const std::string& file, unsigned number, unsigned col, Severity severity,
                         std::string message, std::string_view text);

// At most this many diagnostics are rendered, errors first in the budget;
// one last line counts the rest. A message longer than max_message_length
// bytes is shown cut in the middle: a 1 MB bad word makes a short line.
inline constexpr size_t max_rendered_diagnostics = 20;
inline constexpr size_t max_message_length = 300;

// A message as shown: control bytes as '?', cut to max_message_length.
std::string shown_message(std::string_view message);

struct RenderedDiagnostic {
    Severity severity = Severity::error;
    std::string text; // format(), or "and M more ..."
    const Diagnostic* source = nullptr; // the one rendered; none for "and M more"
};

// The diagnostics as text, in their order: every error while fewer than max
// are shown, warnings in what max leaves, then "and M more (E errors, W
// warnings) not shown" (an error when one of them is). The daemon's log,
// -F and check all render through this.
std::vector<RenderedDiagnostic> render_diagnostics(const std::vector<Diagnostic>& diagnostics,
                                                   size_t max = max_rendered_diagnostics);

// A word of a config line as a message quotes it: 'word', control bytes as
// \xNN, cut after 64 bytes with "...".
std::string quote_word(std::string_view w);

} // namespace smcroute

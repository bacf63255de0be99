// base/dot: quoting for Graphviz's DOT language — the one place that turns
// arbitrary bytes (interface names, addresses) into DOT IDs and label text.
// Formatting only: it knows nothing of routes or graphs.
#pragma once

#include <string>
#include <string_view>

namespace smcroute {

// Appends text escaped for the inside of a double-quoted DOT string: '"' as
// \", '\\' as \\ (so a label shows one backslash and a trailing backslash
// never escapes the closing quote), and '%' and every byte outside
// printable ASCII (controls, DEL, bytes >= 0x80, which dot may reject as
// invalid UTF-8) percent-encoded as %HH. Injective: distinct texts give
// distinct escaped texts, so names stay distinct as node IDs.
void append_dot_escaped(std::string& out, std::string_view text);
// The same inside double quotes: a DOT ID or attribute value.
std::string dot_quote(std::string_view text);

} // namespace smcroute

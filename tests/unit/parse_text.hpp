// tests/unit/parse_text: a ParseResult's diagnostics as one text, for the
// config tests' assertions and failure messages.
#pragma once

#include "smcroute/model/config.hpp"

#include <string>

namespace smcroute::test {

// Every diagnostic, formatted, joined by blank lines.
inline std::string all(const ParseResult& r)
{
    std::string out;
    for (const auto& d : r.diagnostics) {
        if (!out.empty())
            out += "\n\n";
        out += d.format();
    }
    return out;
}

} // namespace smcroute::test

// tests/unit/parse_text: config texts and results for the config tests and
// the parse benchmark: a ParseResult's diagnostics as one text, and large
// generated configs (N distinct routes, N lines with an error each).
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

// n distinct route lines: "mroute from eth0 source 10.a.b.c group 225.1.2.3
// to eth1 eth2", one per source.
inline std::string many_routes(long n)
{
    std::string text;
    for (long i = 0; i < n; ++i) {
        text += "mroute from eth0 source 10.";
        text += std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
                std::to_string(i & 255);
        text += " group 225.1.2.3 to eth1 eth2\n";
    }
    return text;
}

// n lines with the same error each ("sorce").
inline std::string many_errors(long n)
{
    std::string text;
    for (long i = 0; i < n; ++i)
        text += "mroute from eth0 sorce 10.0.0.1 group 225.1.2.3 to eth1\n";
    return text;
}

} // namespace smcroute::test

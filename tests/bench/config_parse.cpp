// tests/bench/config_parse: the config parser's speed, in-process (no
// daemon, no kernel, no root). Unlike the other tools here it links the code
// under test (smcroute_core).
//
//   config_parse [-n LINES] [-r RUNS] [-e]
//
// Parses a config of LINES distinct route lines (default 100 000,
// "mroute from eth0 source 10.a.b.c group 225.1.2.3 to eth1 eth2") RUNS
// times (default 3) and prints the fastest parse in milliseconds
// ("elapsed_ms=MS"). Fails (exit 1) unless every parse gives LINES routes
// and no diagnostic: a fast wrong parse is no figure. With -e every line
// has an error instead ("mroute from eth0 sorce ...") and all of them are
// kept (max_errors = LINES): the parse must give LINES errors and no route.
// Exit 64: usage.
#include "smcroute/model/config.hpp"

#include "../unit/parse_text.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {

using smcroute::test::many_errors;
using smcroute::test::many_routes;

} // namespace

int main(int argc, char** argv)
{
    long lines = 100000, runs = 3;
    bool errors = false;
    for (int opt; (opt = ::getopt(argc, argv, "n:r:e")) != -1;) {
        switch (opt) {
        case 'n': lines = std::strtol(optarg, nullptr, 10); break;
        case 'r': runs = std::strtol(optarg, nullptr, 10); break;
        case 'e': errors = true; break;
        default:
            std::fprintf(stderr, "usage: config_parse [-n LINES] [-r RUNS] [-e]\n");
            return 64;
        }
    }
    if (lines < 1 || lines > 16 * 1000 * 1000 || runs < 1) {
        std::fprintf(stderr, "config_parse: LINES 1..16000000, RUNS >= 1\n");
        return 64;
    }
    const std::string text = errors ? many_errors(lines) : many_routes(lines);
    const size_t want_routes = errors ? 0 : static_cast<size_t>(lines);
    const size_t want_errors = errors ? static_cast<size_t>(lines) : 0;
    smcroute::ParseOptions opts;
    opts.max_errors = std::max(opts.max_errors, want_errors);
    double best = 0;
    for (long r = 0; r < runs; ++r) {
        smcroute::MemoryFiles files;
        auto start = std::chrono::steady_clock::now();
        auto result = smcroute::parse_config_text(text, "bench.conf", files, opts);
        std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
        if (result.diagnostics.size() != want_errors || result.error_count() != want_errors ||
            result.config.routes.size() != want_routes) {
            std::fprintf(stderr, "config_parse: %zu routes and %zu diagnostics, want %zu and %zu\n",
                         result.config.routes.size(), result.diagnostics.size(), want_routes, want_errors);
            return 1;
        }
        best = r == 0 ? took.count() : std::min(best, took.count());
    }
    std::printf("elapsed_ms=%.3f\n", best);
    return 0;
}

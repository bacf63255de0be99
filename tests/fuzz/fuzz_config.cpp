// tests/fuzz/fuzz_config: the configuration parser on arbitrary text. The
// input is a small file set: sections separated by a line "%%%%" become the
// main file /etc/smcroute.conf and the include files listed in kIncludes, so
// includes, globs, loops and depth limits are reached. Every diagnostic is
// formatted; structural invariants of the result are checked (abort on breach).
// The first parse goes through model/config_judge, as the program's do, and
// its rendering is checked bounded. Every phyint line kept keeps the
// proxy's rules, and `show config`'s text of it parses back to the same spec.
#include "smcroute/model/config.hpp"
#include "smcroute/model/config_judge.hpp"
#include "smcroute/model/config_text.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>

using namespace smcroute;

namespace {

constexpr std::string_view kMain = "/etc/smcroute.conf";
constexpr std::string_view kIncludes[] = {
    "/etc/smcroute.d/a.conf", "/etc/smcroute.d/b.conf", "/etc/inc.conf", "/etc/sub/c.conf", "/etc/sub/d/e.conf",
};
constexpr std::string_view kSeparator = "\n%%%%\n";

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_config invariant broken: %s\n", what);
        std::abort();
    }
}

void examine_proxy(const PhyintSpec& spec)
{
    const ProxySpec& p = spec.proxy;
    if (p.role == ProxyRole::none) {
        check(p == ProxySpec{}, "proxy settings without a role");
    } else {
        check(p.igmp || p.mld, "proxy role for no family");
        check(p.role != ProxyRole::upstream || !spec.name.is_wildcard(), "wildcard upstream");
        check(p.role == ProxyRole::downstream || (p.querier == QuerierSettings{} && p.filter.empty()),
              "querier or filter words on an upstream");
        const QuerierSettings& q = p.querier;
        check(q.robustness >= 1 && q.robustness <= 7, "robustness out of range");
        check(q.query_response_interval < q.query_interval, "query response interval not below the query interval");
        check(q.query_response_interval.count() >= 100 && q.last_member_query_interval.count() >= 100,
              "an interval below 0.1 s");
        for (const auto& rule : p.filter.rules) {
            check(rule.source != rule.prefix.addr.is_multicast(), "filter prefix of the wrong kind");
            check((rule.prefix.family() == Family::inet ? p.igmp : p.mld), "filter prefix of a family left out");
        }
    }
    MemoryFiles none;
    const std::string line = phyint_line(spec);
    ParseResult back = parse_config_text(line, "back.conf", none);
    check(back.error_count() == 0 && back.config.phyints.size() == 1, "show config's phyint line does not parse");
    check(back.config.phyints[0].spec == spec, "show config's phyint line parses to another spec");
}

void examine(const ParseResult& r, const ParseOptions& opts)
{
    size_t errors = 0;
    for (const auto& d : r.diagnostics) {
        std::string text = d.format();
        check(!text.empty(), "empty diagnostic");
        check(!d.message.empty(), "diagnostic without a message");
        check(d.col >= 1, "column 0");
        check(d.source_line.find('\n') == std::string::npos, "source line with a newline");
        if (d.severity == Severity::error)
            ++errors;
    }
    check(errors == r.error_count(), "error_count() disagrees with the diagnostics");
    auto shown = render_diagnostics(r.diagnostics);
    check(shown.size() <= max_rendered_diagnostics + 1, "more diagnostics rendered than the bound");
    for (const auto& line : shown)
        check(line.text.size() <= 8192, "a rendered diagnostic longer than 8 KiB");
    check(r.config.phyints.size() + r.config.routes.size() + r.config.joins.size() <= opts.max_lines,
          "more entries than lines allowed");
    uint64_t joined = 0;
    for (const auto& join : r.config.joins)
        joined += join.spec.expansion();
    check(joined <= opts.max_joins, "joins past the limit");
    for (const auto& route : r.config.routes) {
        check(route.spec.oifs.size() <= max_oifs, "route with too many OIFs");
        check(route.spec.source.len == 0 || route.spec.source.family() == route.spec.family(),
              "route mixing families");
        check(route.spec.group.addr.is_multicast(), "route to a non-multicast group");
        check(route.spec.group.len >= (route.spec.family() == Family::inet ? 4 : 8),
              "route group range not entirely multicast");
        check(route.loc.line >= 1, "route without a line");
    }
    for (const auto& phyint : r.config.phyints)
        examine_proxy(phyint.spec);
    for (const auto& join : r.config.joins) {
        check(join.spec.group.addr.is_multicast(), "join of a non-multicast group");
        check(join.spec.group.len >= (join.spec.family() == Family::inet ? 4 : 8),
              "join group range not entirely multicast");
        check(join.spec.expansion() <= opts.max_join_expansion, "join expands past the limit");
        check(join.loc.line >= 1, "join without a line");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    MemoryFiles files;
    std::string_view main_text;
    for (size_t section = 0;; ++section) {
        size_t sep = in.find(kSeparator);
        std::string_view part = in.substr(0, sep);
        if (section == 0)
            main_text = part;
        else if (section - 1 < std::size(kIncludes))
            files.files[std::string(kIncludes[section - 1])] = std::string(part);
        if (sep == std::string_view::npos)
            break;
        in.remove_prefix(sep + kSeparator.size());
    }
    files.files[std::string(kMain)] = std::string(main_text);

    const ParseOptions defaults;
    examine(judge_config_file(std::string(kMain), files), defaults);
    examine(parse_config_text(main_text, std::string(kMain), files), defaults);
    // Tight limits reach the expansion, depth, fan-out and size errors
    // with short inputs, and an interruption part-way.
    ParseOptions tight;
    tight.max_join_expansion = 4;
    tight.max_include_depth = 2;
    tight.max_include_matches = 2;
    tight.max_files = 6;
    tight.max_lines = 64;
    tight.max_bytes = 4096;
    tight.max_joins = 16;
    examine(parse_config_file(std::string(kMain), files, tight), tight);
    int polls = 0;
    tight.interrupt_every = 8;
    tight.interrupted = [&polls] { return ++polls == 3; };
    examine(parse_config_file(std::string(kMain), files, tight), tight);
    return 0;
}

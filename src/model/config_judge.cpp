#include "smcroute/model/config_judge.hpp"

#include "smcroute/base/text.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace smcroute {

namespace {

std::string at(const SourceLoc& loc)
{
    return loc.file.empty() ? std::string() : cat(" at ", loc.file, ':', loc.line);
}

Diagnostic located(const SourceLoc& loc, Severity severity, std::string message)
{
    Diagnostic d;
    d.file = loc.file;
    d.line = loc.line;
    d.severity = severity;
    d.message = std::move(message);
    return d;
}

// The first phyint line that disables name: any disabling line counts, as
// the router applies them (a wildcard one too). A wildcard name is disabled
// only by a line with the same wildcard.
const Located<PhyintSpec>* disabling(const Config& config, const IfName& name)
{
    for (const auto& p : config.phyints) {
        if (p.spec.enable)
            continue;
        if (name.is_wildcard() ? p.spec.name == name : p.spec.name.matches(name.view()))
            return &p;
    }
    return nullptr;
}

std::string phyint_line(const Located<PhyintSpec>& p)
{
    return cat("'phyint ", p.spec.name.view(), " disable'", at(p.loc));
}

// A stop filter (an mroute without 'to') whose key another line gives
// outbound interfaces: the lines merge and the route forwards, so the stop
// filter stops nothing. Stop filters are few; the second pass runs only
// when there is one.
void judge_stop_filters(const Config& config, std::vector<Diagnostic>& out)
{
    auto key = [](const RouteSpec& s) { return cat(s.iif.view(), ' ', s.key_str()); };
    std::map<std::string, const Located<RouteSpec>*> stops;
    for (const auto& r : config.routes)
        if (r.spec.oifs.empty())
            stops.emplace(key(r.spec), &r);
    if (stops.empty())
        return;
    for (const auto& r : config.routes) {
        if (r.spec.oifs.empty())
            continue;
        auto it = stops.find(key(r.spec));
        if (it == stops.end())
            continue;
        const Located<RouteSpec>& stop = *it->second;
        out.push_back(located(stop.loc, Severity::warning,
                              cat("route ", stop.spec.key_str(), " from ", stop.spec.iif.view(),
                                  " has no outbound interface (a stop filter), but the line", at(r.loc),
                                  " gives it some: the lines merge and it forwards")));
        stops.erase(it);
    }
}

} // namespace

std::vector<Diagnostic> judge_config(const Config& config)
{
    std::vector<Diagnostic> out;
    const bool any_disabled
        = std::any_of(config.phyints.begin(), config.phyints.end(), [](const auto& p) { return !p.spec.enable; });
    std::map<std::pair<IpAddr, IpAddr>, const Located<RouteSpec>*> exact;
    for (const auto& r : config.routes) {
        const RouteSpec& spec = r.spec;
        if (!spec.iif.is_wildcard() && spec.source.is_host() && spec.group.is_host()) {
            auto [it, fresh] = exact.emplace(std::make_pair(spec.source.addr, spec.group.addr), &r);
            if (!fresh && !(it->second->spec.iif == spec.iif))
                out.push_back(located(r.loc, Severity::error,
                                      cat("route ", spec.key_str(), " from ", spec.iif.view(),
                                          " conflicts with the route from ", it->second->spec.iif.view(),
                                          at(it->second->loc),
                                          ": the kernel keys routes by (S,G) only; remove one, or give them "
                                          "the same inbound interface")));
        }
        // An exact OIF equal to an exact IIF is the parser's warning already.
        for (const auto& o : spec.oifs)
            if (spec.iif.is_wildcard() ? o == spec.iif : o.is_wildcard() && o.matches(spec.iif.view()))
                    out.push_back(located(r.loc, Severity::warning,
                                          cat("outbound interface ", o.view(), " matches the inbound interface ",
                                              spec.iif.view(), ": traffic may loop")));
        if (!any_disabled)
            continue;
        if (const auto* p = disabling(config, spec.iif))
            out.push_back(located(r.loc, Severity::warning,
                                  cat("inbound interface ", spec.iif.view(), " is disabled by ", phyint_line(*p),
                                      ": the route forwards nothing while that line stays")));
        for (const auto& o : spec.oifs)
            if (const auto* p = disabling(config, o))
                out.push_back(located(r.loc, Severity::warning,
                                      cat("outbound interface ", o.view(), " is disabled by ", phyint_line(*p),
                                          ": nothing leaves through it while that line stays")));
    }
    judge_stop_filters(config, out);
    return out;
}

ParseResult judge_config_file(const std::string& path, FileSource& files, const ParseOptions& opts)
{
    ParseResult parsed = parse_config_file(path, files, opts);
    if (parsed.interrupted)
        return parsed;
    for (auto& d : judge_config(parsed.config))
        parsed.diagnostics.push_back(std::move(d));
    return parsed;
}

} // namespace smcroute

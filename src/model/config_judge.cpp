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

// ------------------------------------------------------------------ proxy

constexpr Family families[] = {Family::inet, Family::inet6};

std::string_view role_name(ProxyRole r)
{
    return r == ProxyRole::upstream ? "upstream" : "downstream";
}

bool names_meet(const IfName& a, const IfName& b)
{
    return a == b || a.matches(b.view()) || b.matches(a.view());
}

// The proxy lines with one another: one upstream per family; one role per
// interface name and family (an interface's proxy words are on one line,
// or on one line per family); errors, at the later line.
void judge_proxy_lines(const std::vector<const Located<PhyintSpec>*>& proxies, std::vector<Diagnostic>& out)
{
    const Located<PhyintSpec>* upstream[2] = {};
    for (size_t k = 0; k < proxies.size(); ++k) {
        const Located<PhyintSpec>& p = *proxies[k];
        const ProxySpec& spec = p.spec.proxy;
        const auto name = p.spec.name.view();
        bool reported = false;
        for (size_t e = 0; e < k && !reported; ++e) {
            const Located<PhyintSpec>& q = *proxies[e];
            if (!(q.spec.name == p.spec.name))
                continue;
            for (Family f : families) {
                if (!spec.covers(f) || !q.spec.proxy.covers(f))
                    continue;
                std::string fam(family_name(f));
                out.push_back(located(
                    p.loc, Severity::error,
                    q.spec.proxy.role != spec.role
                        ? cat("phyint ", name, ": an interface cannot be both upstream and downstream (", fam, ", ",
                              role_name(q.spec.proxy.role), at(q.loc), ")")
                        : cat("phyint ", name, ": a second ", role_name(spec.role), " line for ", fam, " (the first",
                              at(q.loc), "): write an interface's proxy words on one line, or one line per "
                              "family with igmp and mld")));
                reported = true;
                break;
            }
        }
        if (reported || spec.role != ProxyRole::upstream)
            continue;
        for (Family f : families) {
            if (!spec.covers(f))
                continue;
            const Located<PhyintSpec>*& first = upstream[f == Family::inet ? 0 : 1];
            if (!first) {
                first = &p;
                continue;
            }
            out.push_back(located(p.loc, Severity::error,
                                  cat("a second ", family_name(f), " upstream: ", name, " (",
                                      first->spec.name.view(), at(first->loc), ")")));
        }
    }
}

// The proxy line of family f for name: the one naming it exactly, else the
// first whose name meets it (a wildcard either side); nullptr for none.
const Located<PhyintSpec>* proxy_on(const std::vector<const Located<PhyintSpec>*>& proxies, const IfName& name,
                                    Family f)
{
    const Located<PhyintSpec>* met = nullptr;
    for (const auto* p : proxies) {
        if (!p->spec.proxy.covers(f) || !names_meet(p->spec.name, name))
            continue;
        if (p->spec.name == name)
            return p;
        if (!met)
            met = p;
    }
    return met;
}

std::string proxy_role_text(const Located<PhyintSpec>& p, const IfName& name)
{
    std::string out = cat("the proxy's ", role_name(p.spec.proxy.role));
    if (!(p.spec.name == name))
        out += cat(" (phyint ", p.spec.name.view(), at(p.loc), ")");
    return out;
}

// The proxy comes last (smcroute.conf(5) PROXY): a route or rule from a
// proxy interface takes its groups from the proxy; a join on the upstream
// is one the proxy does not manage. Warnings.
void judge_proxy_precedence(const Config& config, const std::vector<const Located<PhyintSpec>*>& proxies,
                            std::vector<Diagnostic>& out)
{
    for (const auto& r : config.routes)
        if (const auto* p = proxy_on(proxies, r.spec.iif, r.spec.family()))
            out.push_back(located(r.loc, Severity::warning,
                                  cat("route ", r.spec.key_str(), " from ", r.spec.iif.view(), ": inbound interface ",
                                      r.spec.iif.view(), " is ", proxy_role_text(*p, r.spec.iif),
                                      "; this route takes precedence over the proxy for its groups")));
    for (const auto& j : config.joins) {
        const auto* p = proxy_on(proxies, j.spec.iif, j.spec.family());
        if (p && p->spec.proxy.role == ProxyRole::upstream)
            out.push_back(located(j.loc, Severity::warning,
                                  cat("join ", j.spec.key_str(), " on ", j.spec.iif.view(), ": ", j.spec.iif.view(),
                                      " is ", proxy_role_text(*p, j.spec.iif),
                                      ", whose joins the proxy manages; this join stays beside them")));
    }
}

void judge_proxy(const Config& config, std::vector<Diagnostic>& out)
{
    std::vector<const Located<PhyintSpec>*> proxies;
    for (const auto& p : config.phyints)
        if (p.spec.proxy.role != ProxyRole::none)
            proxies.push_back(&p);
    if (proxies.empty())
        return;
    judge_proxy_lines(proxies, out);
    judge_proxy_precedence(config, proxies, out);
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
    judge_proxy(config, out);
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

#include "smcroute/model/config_text.hpp"

#include "smcroute/base/decimal.hpp"
#include "smcroute/base/text.hpp"

namespace smcroute {

namespace {

void append_from_source_group(std::string& out, const IfName& iif, const std::optional<Prefix>& source,
                              const Prefix& group)
{
    out += cat(" from ", iif.view());
    if (source)
        out += cat(" source ", source->str());
    out += cat(" group ", group.str());
}

// The proxy words of a phyint line (model/config reads them back), the
// querier's only where they differ from the defaults.
void append_proxy(std::string& out, const ProxySpec& p)
{
    if (p.role == ProxyRole::none)
        return;
    out += p.role == ProxyRole::upstream ? " upstream" : " downstream";
    if (p.igmp != p.mld)
        out += p.igmp ? " igmp" : " mld";
    const QuerierSettings& q = p.querier;
    const QuerierSettings d;
    if (q.fast_leave)
        out += " fast-leave";
    for (const auto& r : p.filter.rules)
        out += cat(' ', r.allow ? "allow" : "deny", r.source ? "-source " : " ", r.prefix.str());
    if (q.igmp_version != d.igmp_version)
        out += cat(" igmp-version ", unsigned(q.igmp_version));
    if (q.mld_version != d.mld_version)
        out += cat(" mld-version ", unsigned(q.mld_version) - 1);
    if (q.robustness != d.robustness)
        out += cat(" robustness ", q.robustness);
    auto seconds = [&](const char* word, std::chrono::milliseconds v, std::chrono::milliseconds def) {
        if (v != def)
            out += cat(' ', word, ' ', thousandths_text(static_cast<uint64_t>(v.count())));
    };
    seconds("query-interval", q.query_interval, d.query_interval);
    seconds("query-response-interval", q.query_response_interval, d.query_response_interval);
    seconds("last-member-query-interval", q.last_member_query_interval, d.last_member_query_interval);
    if (q.last_member_query_count != d.last_member_query_count)
        out += cat(" last-member-query-count ", q.last_member_query_count);
    seconds("startup-query-interval", q.startup_query_interval, d.startup_query_interval);
    if (q.startup_query_count != d.startup_query_count)
        out += cat(" startup-query-count ", q.startup_query_count);
}

} // namespace

std::string route_line(const RouteSpec& spec)
{
    std::string out = "mroute";
    append_from_source_group(out, spec.iif, spec.any_source() ? std::nullopt : std::optional<Prefix>(spec.source),
                             spec.group);
    if (!spec.oifs.empty()) {
        out += " to";
        for (const auto& o : spec.oifs)
            out += cat(' ', o.view());
    }
    return out;
}

std::string join_line(const JoinSpec& spec)
{
    std::string out = "mgroup";
    append_from_source_group(out, spec.iif, spec.source, spec.group);
    return out;
}

std::string phyint_line(const PhyintSpec& spec)
{
    std::string out = cat("phyint ", spec.name.view(), spec.enable ? " enable" : " disable");
    if (spec.mrdisc)
        out += " mrdisc";
    if (spec.ttl_threshold != 1)
        out += cat(" ttl-threshold ", unsigned(spec.ttl_threshold));
    append_proxy(out, spec.proxy);
    return out;
}

std::string loc_text(const SourceLoc& loc)
{
    if (loc.file.empty())
        return "";
    return cat(loc.file, ':', loc.line);
}

std::string config_line_text(const ConfigLine& line)
{
    if (line.client)
        return cat("# ", line.text, "    # added by a client");
    std::string where = loc_text(line.loc);
    return where.empty() ? line.text : cat(line.text, "    # ", where);
}

void config_line_json(JsonWriter& w, const ConfigLine& line)
{
    w.object().member("kind", line.kind).member("origin", line.client ? "client" : "config");
    w.member("text", line.text);
    if (!line.loc.file.empty())
        w.member("file", line.loc.file).member("line", line.loc.line);
    w.end();
}

} // namespace smcroute

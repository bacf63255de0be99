#include "smcroute/model/config_text.hpp"

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

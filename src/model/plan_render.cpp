#include "smcroute/model/plan_render.hpp"

#include "smcroute/base/json.hpp"
#include "smcroute/base/text.hpp"
#include "smcroute/model/config_text.hpp"

#include <algorithm>
#include <unordered_map>

namespace smcroute {

namespace {

enum class Change { add, remove, change };

std::string_view change_name(Change c)
{
    switch (c) {
    case Change::add: return "add";
    case Change::remove: return "remove";
    case Change::change: return "change";
    }
    return "?";
}

std::string_view change_mark(Change c)
{
    switch (c) {
    case Change::add: return "+";
    case Change::remove: return "-";
    case Change::change: return "~";
    }
    return "?";
}

std::string route_key(const RouteSpec& r)
{
    return cat(r.iif.view(), ' ', r.key_str());
}

std::vector<IfName> minus(const std::vector<IfName>& a, const std::vector<IfName>& b)
{
    std::vector<IfName> out;
    for (const auto& x : a)
        if (std::find(b.begin(), b.end(), x) == b.end())
            out.push_back(x);
    return out;
}

// The phyint lines that go and come (a multiset difference: a line that
// stays the same is not a change).
struct PhyintDiff {
    std::vector<PhyintSpec> removed, added;
};

PhyintDiff phyint_diff(const PlanPreview& p)
{
    PhyintDiff d;
    if (!p.plan.phyints)
        return d;
    std::vector<PhyintSpec> old = p.running.phyints;
    for (const auto& n : *p.plan.phyints) {
        auto same = std::find(old.begin(), old.end(), n);
        if (same != old.end())
            old.erase(same);
        else
            d.added.push_back(n);
    }
    d.removed = std::move(old);
    return d;
}

// Walks the preview's changes in the order a reload makes them, calling
// the visitor's route(), join() and phyint() per change.
template <class Visitor>
void each_change(const PlanPreview& p, Visitor&& v)
{
    for (const auto& r : p.client_routes)
        v.route(Change::remove, r, nullptr, nullptr, true);
    // The running routes by key: what a removed or changed route has now.
    std::unordered_map<std::string, const RouteSpec*> old_by_key;
    if (!p.plan.remove_routes.empty() || !p.plan.replace_oifs.empty()) {
        old_by_key.reserve(p.running.routes.size());
        for (const auto& old : p.running.routes)
            old_by_key.emplace(route_key(old), &old);
    }
    auto now = [&](const RouteSpec& r) -> const RouteSpec* {
        auto found = old_by_key.find(route_key(r));
        return found == old_by_key.end() ? nullptr : found->second;
    };
    for (const auto& r : p.plan.remove_routes) {
        const RouteSpec* was = now(r);
        v.route(Change::remove, was ? *was : r, nullptr, nullptr, false);
    }
    auto diff = phyint_diff(p);
    for (const auto& ph : diff.removed)
        v.phyint(Change::remove, ph);
    for (const auto& ph : diff.added)
        v.phyint(Change::add, ph);
    for (const auto& r : p.plan.replace_oifs)
        v.route(Change::change, r.spec, &r.loc, now(r.spec), false);
    for (const auto& j : p.client_joins)
        v.join(Change::remove, j, nullptr, true);
    for (const auto& j : p.plan.leave)
        v.join(Change::remove, j, nullptr, false);
    for (const auto& r : p.plan.add_routes)
        v.route(Change::add, r.spec, &r.loc, nullptr, false);
    for (const auto& j : p.plan.join)
        v.join(Change::add, j.spec, &j.loc, false);
}

std::string oif_list(std::string_view sign, const std::vector<IfName>& oifs)
{
    std::string out;
    for (const auto& o : oifs)
        out += cat(' ', sign, o.view());
    return out;
}

struct TextLines {
    std::vector<std::string>& out;

    void line(Change c, const std::string& text, const SourceLoc* loc, bool client, const std::string& extra = "")
    {
        std::string l = cat(change_mark(c), ' ', text);
        std::string note = loc ? loc_text(*loc) : std::string();
        if (client)
            note = "added by a client";
        if (!extra.empty())
            note += note.empty() ? extra : cat(": ", extra);
        if (!note.empty())
            l += cat("    # ", note);
        out.push_back(std::move(l));
    }
    void route(Change c, const RouteSpec& r, const SourceLoc* loc, const RouteSpec* was, bool client)
    {
        std::string extra;
        if (c == Change::change) {
            std::vector<IfName> none;
            const auto& before = was ? was->oifs : none;
            extra = cat("to", oif_list("+", minus(r.oifs, before)), oif_list("-", minus(before, r.oifs)));
        }
        line(c, route_line(r), loc, client, extra);
    }
    void join(Change c, const JoinSpec& j, const SourceLoc* loc, bool client) { line(c, join_line(j), loc, client); }
    void phyint(Change c, const PhyintSpec& ph) { line(c, phyint_line(ph), nullptr, false); }
};

struct JsonLines {
    std::vector<std::string>& out;
    JsonList list;

    JsonWriter open(Change c, std::string_view kind, const std::string& text, const SourceLoc* loc, bool client)
    {
        out.emplace_back();
        JsonWriter o = list.next(out.back());
        o.object().member("change", change_name(c)).member("kind", kind).member("origin", client ? "client" : "config");
        o.member("text", text);
        if (loc && !loc->file.empty())
            o.member("file", loc->file).member("line", loc->line);
        return o;
    }
    static std::string name_of(const IfName& n) { return n.str(); }
    void route(Change c, const RouteSpec& r, const SourceLoc* loc, const RouteSpec* was, bool client)
    {
        JsonWriter o = open(c, "mroute", route_line(r), loc, client);
        o.member("iif", r.iif.view()).member("source", r.any_source() ? std::string("*") : r.source.str());
        o.member("group", r.group.str()).string_array("oifs", r.oifs, name_of);
        if (c == Change::change) {
            std::vector<IfName> none;
            const auto& before = was ? was->oifs : none;
            o.string_array("add_oifs", minus(r.oifs, before), name_of);
            o.string_array("remove_oifs", minus(before, r.oifs), name_of);
        }
        o.end();
    }
    void join(Change c, const JoinSpec& j, const SourceLoc* loc, bool client)
    {
        JsonWriter o = open(c, "mgroup", join_line(j), loc, client);
        o.member("iif", j.iif.view()).key("source");
        if (j.source)
            o.string(j.source->str());
        else
            o.null();
        o.member("group", j.group.str()).end();
    }
    void phyint(Change c, const PhyintSpec& ph)
    {
        JsonWriter o = open(c, "phyint", phyint_line(ph), nullptr, false);
        o.member("interface", ph.name.view()).member_bool("enable", ph.enable).member_bool("mrdisc", ph.mrdisc);
        o.member("ttl_threshold", unsigned(ph.ttl_threshold)).key("proxy");
        // The role; its words are in "text".
        if (ph.proxy.role == ProxyRole::none)
            o.null();
        else
            o.string(ph.proxy.role == ProxyRole::upstream ? "upstream" : "downstream");
        o.end();
    }
};

} // namespace

size_t preview_changes(const PlanPreview& p)
{
    auto diff = phyint_diff(p);
    return p.client_routes.size() + p.client_joins.size() + p.plan.remove_routes.size() + diff.removed.size()
           + diff.added.size() + p.plan.replace_oifs.size() + p.plan.leave.size() + p.plan.add_routes.size()
           + p.plan.join.size();
}

std::vector<std::string> render_preview_text(const PlanPreview& p)
{
    std::vector<std::string> out;
    size_t n = preview_changes(p);
    if (n == 0) {
        out.emplace_back("no changes (dry run: none made)");
        return out;
    }
    each_change(p, TextLines{out});
    out.push_back(cat("reload would make ", n, n == 1 ? " change" : " changes", " (dry run: none made)"));
    return out;
}

std::vector<std::string> render_preview_json(const PlanPreview& p)
{
    std::vector<std::string> out;
    out.push_back(JsonList::open("dry_run"));
    each_change(p, JsonLines{out, {}});
    out.emplace_back(JsonList::close());
    return out;
}

} // namespace smcroute

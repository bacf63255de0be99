#include "smcroute/model/plan.hpp"

#include <algorithm>
#include <cerrno>
#include <unordered_map>
#include <unordered_set>

namespace smcroute {

namespace {

// Routes by key (IIF, source, group), whatever their OIFs.
struct RouteKeyHash {
    size_t operator()(const RouteSpec& r) const noexcept
    {
        size_t h = std::hash<IfName>{}(r.iif);
        h = h * 1099511628211ULL ^ (std::hash<IpAddr>{}(r.source.addr) + r.source.len);
        return h * 1099511628211ULL ^ (std::hash<IpAddr>{}(r.group.addr) + r.group.len);
    }
};
struct SameRouteKey {
    bool operator()(const RouteSpec& a, const RouteSpec& b) const
    {
        return a.iif == b.iif && a.source == b.source && a.group == b.group;
    }
};

struct JoinSpecHash {
    size_t operator()(const JoinSpec& j) const noexcept
    {
        size_t h = std::hash<IfName>{}(j.iif);
        auto mix = [&h](size_t v) { h = h * 1099511628211ULL ^ v; };
        if (j.source)
            mix(std::hash<IpAddr>{}(j.source->addr) + j.source->len);
        mix(std::hash<IpAddr>{}(j.group.addr) + j.group.len);
        return h;
    }
};

RouteSpec key_of(const RouteSpec& r)
{
    return RouteSpec{r.iif, r.source, r.group, {}};
}

} // namespace

Result<ReloadPlan> plan_reload(const RunningState& running, Config& next, const std::function<bool()>& give_up)
{
    size_t n = 0;
    auto stop = [&] { return give_up && ++n % plan_check_every == 0 && give_up(); };
    auto abandoned = [] { return Error{EINTR, "reload planning abandoned"}; };
    ReloadPlan plan;

    // The new routes, one per key: a repeated key merges its OIFs in.
    std::unordered_map<RouteSpec, size_t, RouteKeyHash, SameRouteKey> next_by_key;
    std::vector<Located<RouteSpec>> merged;
    merged.reserve(next.routes.size());
    for (auto& r : next.routes) {
        if (stop())
            return abandoned();
        auto [it, inserted] = next_by_key.emplace(key_of(r.spec), merged.size());
        if (inserted) {
            merged.push_back(std::move(r));
            continue;
        }
        auto& oifs = merged[it->second].spec.oifs;
        for (const auto& o : r.spec.oifs)
            if (std::find(oifs.begin(), oifs.end(), o) == oifs.end())
                oifs.push_back(o);
    }
    std::vector<Located<RouteSpec>>().swap(next.routes);
    plan.config_routes = merged.size();

    // Running routes gone from the config; the others by key, for below.
    std::unordered_map<RouteSpec, const RouteSpec*, RouteKeyHash, SameRouteKey> old_by_key;
    old_by_key.reserve(running.routes.size());
    for (const auto& r : running.routes) {
        if (stop())
            return abandoned();
        if (!next_by_key.count(r))
            plan.remove_routes.push_back(key_of(r));
        else
            old_by_key.emplace(key_of(r), &r);
    }
    decltype(next_by_key)().swap(next_by_key);

    std::vector<PhyintSpec> phyints;
    for (const auto& p : next.phyints)
        phyints.push_back(p.spec);
    if (phyints != running.phyints)
        plan.phyints = std::move(phyints);

    for (auto& r : merged) {
        if (stop())
            return abandoned();
        auto found = old_by_key.find(r.spec);
        if (found == old_by_key.end())
            plan.add_routes.push_back(std::move(r));
        else if (!(found->second->oifs == r.spec.oifs))
            plan.replace_oifs.push_back(std::move(r));
    }

    // Joins likewise: unchanged ones stay joined.
    std::unordered_set<JoinSpec, JoinSpecHash> next_joins, old_joins;
    for (const auto& j : next.joins)
        next_joins.insert(j.spec);
    for (const auto& j : running.joins)
        old_joins.insert(j);
    for (const auto& j : running.joins)
        if (!next_joins.count(j))
            plan.leave.push_back(j);
    for (auto& j : next.joins)
        if (!old_joins.count(j.spec))
            plan.join.push_back(std::move(j));
    return plan;
}

} // namespace smcroute

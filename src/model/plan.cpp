#include "smcroute/model/plan.hpp"

#include "smcroute/base/hash.hpp"

#include <algorithm>
#include <cerrno>
#include <unordered_map>
#include <unordered_set>

namespace smcroute {

namespace {

size_t prefix_hash(const Prefix& p)
{
    return hash_combine(std::hash<IpAddr>{}(p.addr), p.len);
}

// Routes by key (IIF, source, group), whatever their OIFs. The tables hold
// pointers to routes that outlive them, so no key is copied.
struct RouteKeyHash {
    size_t operator()(const RouteSpec* r) const noexcept
    {
        return hash_all(std::hash<IfName>{}(r->iif), prefix_hash(r->source), prefix_hash(r->group));
    }
};
struct SameRouteKey {
    bool operator()(const RouteSpec* a, const RouteSpec* b) const
    {
        return a->iif == b->iif && a->source == b->source && a->group == b->group;
    }
};
using RouteKeys = std::unordered_set<const RouteSpec*, RouteKeyHash, SameRouteKey>;

struct JoinSpecHash {
    size_t operator()(const JoinSpec& j) const noexcept
    {
        return hash_all(std::hash<IfName>{}(j.iif), j.source ? prefix_hash(*j.source) : 0, j.source.has_value(),
                        prefix_hash(j.group));
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

    // The new routes, one per key: a repeated key merges its OIFs in. The
    // room is reserved, so the keys' pointers into merged stay valid.
    std::vector<Located<RouteSpec>> merged;
    merged.reserve(next.routes.size());
    std::unordered_map<const RouteSpec*, size_t, RouteKeyHash, SameRouteKey> next_by_key;
    next_by_key.reserve(next.routes.size());
    for (auto& r : next.routes) {
        if (stop())
            return abandoned();
        auto found = next_by_key.find(&r.spec);
        if (found == next_by_key.end()) {
            merged.push_back(std::move(r));
            next_by_key.emplace(&merged.back().spec, merged.size() - 1);
            continue;
        }
        auto& oifs = merged[found->second].spec.oifs;
        for (const auto& o : r.spec.oifs)
            if (std::find(oifs.begin(), oifs.end(), o) == oifs.end())
                oifs.push_back(o);
    }
    std::vector<Located<RouteSpec>>().swap(next.routes);
    plan.config_routes = merged.size();

    // Running routes gone from the config; the others by key, for below.
    RouteKeys kept;
    kept.reserve(running.routes.size());
    for (const auto& r : running.routes) {
        if (stop())
            return abandoned();
        if (!next_by_key.count(&r))
            plan.remove_routes.push_back(key_of(r));
        else
            kept.insert(&r);
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
        auto found = kept.find(&r.spec);
        if (found == kept.end())
            plan.add_routes.push_back(std::move(r));
        else if (!((*found)->oifs == r.spec.oifs))
            plan.replace_oifs.push_back(std::move(r));
        else
            plan.keep.push_back(std::move(r));
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
    for (const auto& j : next.joins)
        if (!old_joins.count(j.spec))
            plan.join.push_back(j);
    return plan;
}

} // namespace smcroute

// model/plan: what a reload changes, and nothing else. A pure function of
// the running desired state and a newly parsed config: the ordered changes
// that turn one into the other, none for an entry that stays the same.
// Lines of the new config with the same route key (IIF, source, group)
// merge their OIFs, as adding them one by one would. No syscalls, no kernel
// state: the daemon applies a plan in its order; a dry run can print it.
#pragma once

#include "smcroute/model/config.hpp"
#include "smcroute/base/result.hpp"
#include "smcroute/model/route_spec.hpp"

#include <functional>
#include <optional>
#include <vector>

namespace smcroute {

// What a reload may change of what the daemon runs: the routes of the
// config (with their OIFs; not those clients added), its joins and phyints.
struct RunningState {
    std::vector<RouteSpec> routes;
    std::vector<JoinSpec> joins;
    std::vector<PhyintSpec> phyints;
};

// The changes. runtime/reload (apply_plan) makes them in this order: the
// routes clients added and the removals first (they free VIF slots and
// kernel entries the additions may need), then the phyints, then the routes
// re-programmed in place (their traffic never stops); then the joins
// clients added and the leaves; then the route additions and the joins.
// Routes and joins that clients added are dropped by every reload.
struct ReloadPlan {
    std::vector<RouteSpec> remove_routes;           // keys no longer configured
    std::optional<std::vector<PhyintSpec>> phyints; // only when they differ
    std::vector<Located<RouteSpec>> replace_oifs;   // same key, other OIFs
    std::vector<Located<RouteSpec>> add_routes;     // keys new to the config
    std::vector<JoinSpec> leave;                    // joins no longer configured
    std::vector<Located<JoinSpec>> join;            // joins new to the config
    // Routes that stay as they are, with the config line that now has them
    // (lines may have moved): only their recorded place is updated.
    std::vector<Located<RouteSpec>> keep;
    size_t config_routes = 0;                       // distinct route keys configured now

    // Nothing to do for what the config says (client entries still go).
    bool changes_nothing() const
    {
        return remove_routes.empty() && !phyints && replace_oifs.empty() && add_routes.empty() && leave.empty() &&
               join.empty();
    }
};

// give_up, when set, is asked every plan_check_every entries; when it says
// yes the result is an EINTR error and nothing is decided. The routes of
// next are moved into the plan (next.routes is left empty); its joins and
// phyints are copied, and stay: they are what runs once the plan is applied.
inline constexpr size_t plan_check_every = 1024;
Result<ReloadPlan> plan_reload(const RunningState& running, Config& next, const std::function<bool()>& give_up = {});

} // namespace smcroute

#include "smcroute/runtime/reload.hpp"

#include <cerrno>

namespace smcroute {

namespace {

std::string at(const SourceLoc& loc)
{
    return cat(loc.file, ":", loc.line, ": ");
}

// The routes and phyints the config no longer has, OIFs changed in place.
bool change_routes(const ReloadPlan& plan, Router& router, Logger& log, GiveUp& give_up)
{
    router.remove_origin(Origin::client);
    for (const auto& old : plan.remove_routes) {
        if (give_up())
            return false;
        (void)router.remove(old, false);
    }
    if (plan.phyints)
        router.set_phyints(*plan.phyints);
    for (const auto& r : plan.replace_oifs) {
        if (give_up())
            return false;
        if (auto st = router.replace_oifs(r.spec); !st)
            log.error(at(r.loc) + st.error().message);
        else
            router.relocate(r.spec, r.loc);
    }
    return true;
}

void leave_joins(const ReloadPlan& plan, GroupManager& groups)
{
    groups.remove_origin(Origin::client);
    for (const auto& old : plan.leave)
        (void)groups.remove(old);
}

} // namespace

std::optional<RunningState> running_state(const Router& router, const std::vector<Located<JoinSpec>>& joins,
                                          GiveUp& give_up)
{
    RunningState st;
    st.routes = router.keys_of(Origin::config);
    for (auto& r : st.routes) {
        if (give_up())
            return std::nullopt;
        if (auto found = router.find(r))
            r.oifs = std::move(found->oifs);
    }
    st.joins.reserve(joins.size());
    for (const auto& j : joins)
        st.joins.push_back(j.spec);
    st.phyints = router.phyints();
    return st;
}

bool add_routes_and_joins(const std::vector<Located<RouteSpec>>& routes, const std::vector<Located<JoinSpec>>& joins,
                          Router& router, GroupManager& groups, Logger& log, GiveUp give_up)
{
    router.reserve(router.static_count() + routes.size());
    for (const auto& r : routes) {
        if (give_up())
            return false;
        if (auto st = router.add(r.spec, Origin::config, &r.loc); !st)
            log.error(st.error().code == EAFNOSUPPORT
                          ? cat(at(r.loc), st.error().message, ", route ", r.spec.key_str(), " ignored")
                          : at(r.loc) + st.error().message);
    }
    for (const auto& j : joins) {
        if (give_up())
            return false;
        if (auto st = groups.add(j.spec, Origin::config); !st)
            log.error(at(j.loc) + st.error().message);
    }
    return true;
}

bool apply_plan(const ReloadPlan& plan, Router& router, GroupManager& groups, Logger& log,
                const std::function<bool()>& give_up)
{
    GiveUp changing(give_up);
    if (!change_routes(plan, router, log, changing))
        return false;
    for (const auto& r : plan.keep) {
        if (changing())
            return false;
        router.relocate(r.spec, r.loc);
    }
    leave_joins(plan, groups);
    return add_routes_and_joins(plan.add_routes, plan.join, router, groups, log, GiveUp(give_up));
}

} // namespace smcroute

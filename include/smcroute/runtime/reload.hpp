// runtime/reload: a config's routes and joins put into the router and the
// group manager, at start-up and as a reload's plan (model/plan). Logs what
// the router or the kernel refuses, with the config line it came from, and
// goes on; gives up part-way when asked to (a stop signal). Knows nothing
// of files, parsing, signals or the daemon: it is handed a Router, a
// GroupManager and a question to ask now and then.
#pragma once

#include "smcroute/base/log.hpp"
#include "smcroute/model/config.hpp"
#include "smcroute/model/plan.hpp"
#include "smcroute/runtime/groups.hpp"
#include "smcroute/runtime/router.hpp"

#include <functional>
#include <optional>
#include <vector>

namespace smcroute {

// Asks `asked` (when set) every plan_check_every calls: whether to give up.
class GiveUp {
public:
    GiveUp() = default;
    explicit GiveUp(std::function<bool()> asked) : asked_(std::move(asked)) {}
    bool operator()() { return asked_ && ++calls_ % plan_check_every == 0 && asked_(); }

private:
    std::function<bool()> asked_;
    size_t calls_ = 0;
};

// What a reload may change, as the plan sees it: the router's config routes
// with their OIFs (the router's table is the one record of them), its
// phyints, and the config joins given (those of the running config, whether
// or not the kernel took them). None when give_up says yes.
std::optional<RunningState> running_state(const Router& router, const std::vector<Located<JoinSpec>>& joins, GiveUp& give_up);

// Add the routes, then the joins, logging each refusal as "FILE:LINE:
// reason" (a route of a family the router lacks: "... multicast routing is
// not available, route KEY ignored"). False when give_up said yes: the
// rest is not added.
bool add_routes_and_joins(const std::vector<Located<RouteSpec>>& routes, const std::vector<Located<JoinSpec>>& joins,
                          Router& router, GroupManager& groups, Logger& log, GiveUp give_up);

// Apply a reload's plan, in this order: the routes clients added go, then
// the routes no longer configured; the phyints (when the plan changes them);
// the routes whose OIFs changed are re-programmed in place (their traffic
// never stops); the joins clients added and those no longer configured are
// left; the new routes are added, then the new joins. What the plan does not
// name is not touched. False when give_up said yes: the reload stopped
// part-way, some changes made.
bool apply_plan(const ReloadPlan& plan, Router& router, GroupManager& groups, Logger& log,
                const std::function<bool()>& give_up = {});

} // namespace smcroute

// model/plan_render: a reload's plan (model/plan) shown to an operator
// without applying it, for `reload --dry-run`: one line per change, in
// config-file syntax (model/config_text), as text or as a streamed JSON
// document {"dry_run": [CHANGE, ...]}. Also lists the routes and joins
// clients added, which every reload drops. Pure: no I/O, no kernel state.
#pragma once

#include "smcroute/model/plan.hpp"

#include <string>
#include <vector>

namespace smcroute {

struct PlanPreview {
    const RunningState& running; // before: the routes with their OIFs now
    const ReloadPlan& plan;      // what the reload would do
    std::vector<RouteSpec> client_routes; // added by clients: a reload drops them
    std::vector<JoinSpec> client_joins;
};

// How many changes the preview lists (0: the reload would change nothing).
size_t preview_changes(const PlanPreview& p);

// Text lines, one per change, then a summary line:
//   + mroute from eth0 group 239.1.1.1 to eth1    # FILE:LINE
//   - mroute from eth0 group 239.2.2.2 to eth1
//   ~ mroute from eth0 group 239.3.3.3 to eth1 eth3    # FILE:LINE: to +eth3 -eth2
//   + phyint eth1 enable ttl-threshold 5
//   + mgroup from eth0 group 225.1.1.1    # FILE:LINE
//   - mgroup from eth0 group 225.2.2.2
//   - mroute from eth0 group 239.9.9.9 to eth2    # added by a client
//   reload would make 7 changes (dry run: none made)
// or the one line "no changes (dry run: none made)".
std::vector<std::string> render_preview_text(const PlanPreview& p);

// JSON lines forming {"dry_run": [...]}: one object per change with
// "change" (add, remove, change), "kind" (mroute, mgroup, phyint),
// "origin" (config, client), "text" (the config line; for a changed route
// its new OIFs), "file" and "line" (new config lines only); routes also
// "iif", "source" ("*": any), "group", "oifs"; a changed route
// "add_oifs" and "remove_oifs"; joins "iif", "source" (null: any),
// "group"; phyints "interface", "enable", "mrdisc", "ttl_threshold".
std::vector<std::string> render_preview_json(const PlanPreview& p);

} // namespace smcroute

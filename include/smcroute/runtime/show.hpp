// runtime/show: answers `show SUBJECT`: one renderer per subject (routes,
// pending, interfaces, groups, memberships, config, status, metrics; graph's
// in runtime/show_graph, proxy's in runtime/show_proxy), found through one table, each writing text tables
// or JSON (base/json), or Prometheus text (metrics). Reads the Router, the
// GroupManager, the running config, the kernel's membership tables and the
// daemon's facts (runtime/status); changes nothing. Knows nothing of verbs,
// permissions or sockets (runtime/control dispatches here).
#pragma once

#include "smcroute/model/config.hpp"
#include "smcroute/runtime/groups.hpp"
#include "smcroute/runtime/ipc_server.hpp"
#include "smcroute/runtime/metrics.hpp"
#include "smcroute/runtime/proxy.hpp"
#include "smcroute/runtime/router.hpp"
#include "smcroute/runtime/status.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

namespace smcroute {

// Text column widths found by the last complete first pass of `show`
// (routes or pending; never -d: counters change while the table does
// not), with the Router::version() the table had throughout: a text
// listing of the same table reuses them and skips its first pass.
struct ShowWidths {
    bool valid = false;
    uint64_t version = 0;
    std::vector<size_t> widths;
};

// What the renderers read, and the widths they keep between listings.
struct ShowSources {
    const Router& router;
    GroupManager* groups; // null: `show groups` is refused
    std::array<ShowWidths, 2>& widths; // [only_pending]
    const Config* config = nullptr; // the running config's phyints and joins (show config); null: none
    // The daemon's own facts (runtime/status), asked once per request;
    // empty: `show status` and `show metrics` are refused.
    std::function<DaemonStatus()> status = {};
    size_t metrics_limit = metrics_series_limit; // show metrics: rules and routes given series
    const Proxy* proxy = nullptr; // show proxy; null: refused
};

// req.args: "show" [SUBJECT [OPTIONS]]; SUBJECT by name or unique prefix,
// routes when absent. Ends the reply (show routes and show pending
// stream: rows are produced as the client reads them).
void show(const ShowSources& from, const Request& req, Reply& reply);

// Renderers that live in files of their own (show_status.cpp; metrics.cpp,
// beside the Prometheus writer it shares with --metrics-file), reached
// through show()'s table.
void show_status(const ShowSources& from, const Request& req, Reply& reply);
void show_metrics(const ShowSources& from, const Request& req, Reply& reply);
void show_proxy(const ShowSources& from, const Request& req, Reply& reply); // show_proxy.cpp

} // namespace smcroute

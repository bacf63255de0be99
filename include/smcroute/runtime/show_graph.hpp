// runtime/show_graph: answers `show graph`: the routing picture as Graphviz
// DOT (base/dot quotes it), or with -j the same elements as JSON
// {"graph": [...]} (base/json). Interfaces are nodes; each rule, static route,
// learned entry and stop filter is an edge (one per outbound interface, or
// one to the "drop" node) from its inbound interface, labelled with its
// (S,G) and packet count. Streams through a Router::Listing like show routes;
// past graph_route_limit routes it aggregates. Reads the Router; changes
// nothing. Reached through the renderer table of runtime/show.
#pragma once

#include "smcroute/runtime/show.hpp"

#include <cstddef>

namespace smcroute {

// A table of at most this many rules, static routes, learned entries and
// stop filters together is drawn one edge per route and outbound interface.
// A larger one is drawn aggregated: one edge per (inbound interface,
// outbound interface or drop, kind, active or pending) labelled with how
// many routes it stands for and their packets.
inline constexpr size_t graph_route_limit = 1000;
// At most this many edges are drawn one by one (routes with many outbound
// interfaces reach it first); the routes after them are aggregated. At
// most this many aggregated edges too; routes past that are counted in a
// comment (only a table over very many interfaces gets there).
inline constexpr size_t graph_edge_limit = 2000;

// req.args: "graph" alone. -j: {"graph": [...]}, one element per edge,
// node and aggregation note, in the DOT's order (schema: smcroute(8), JSON).
void show_graph(const ShowSources& from, const Request& req, Reply& reply);

} // namespace smcroute

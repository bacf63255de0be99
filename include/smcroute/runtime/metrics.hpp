// runtime/metrics: the Prometheus text exposition format (version 0.0.4) of
// the daemon (and its JSON form): the facts of `show status` (runtime/status) as gauges and
// counters, per-rule aggregates and per-route kernel counters, bounded by
// a route limit so a huge table cannot make a huge scrape. One writer,
// used by `show metrics` (its renderer is here too, declared in
// runtime/show) and by the daemon's --metrics-file. Reads the Router;
// changes nothing.
#pragma once

#include "smcroute/runtime/router.hpp"
#include "smcroute/runtime/status.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace smcroute {

// Rules, and routes (static, learned, stop filters), given series of their
// own: the first this many of each in `show routes` order. The others are
// counted in smcroute_metrics_rules_omitted / smcroute_metrics_routes_omitted.
inline constexpr size_t metrics_series_limit = 1000;

// A label value as the format wants it: control bytes and bytes that are
// not UTF-8 written as \xNN first (base/table's terminal_escape), then '\\',
// '"' and newline escaped.
std::string prometheus_label_value(std::string_view text);

// Every line of the exposition, in order, to line (without '\n'). Rules
// sum the kernel counters of their learned entries (one kernel query per
// entry, at most --max-learned in all); routes ask the kernel once each.
// Memory: the rows of at most limit rules and limit routes.
void write_metrics(const StatusSnapshot& status, const Router& router, size_t limit,
                   const std::function<void(std::string_view)>& line);
// The same facts as JSON rows (show metrics -j): {"metrics": [ then one
// row a family, {"name", "type", "help", "samples": [{"labels": {NAME:
// VALUE, ...}, "value": N}, ...]}, then ]}. Label values raw (JSON-escaped).
void write_metrics_json(const StatusSnapshot& status, const Router& router, size_t limit,
                        const std::function<void(std::string_view)>& line);

} // namespace smcroute

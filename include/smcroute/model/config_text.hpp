// model/config_text: routes, joins and phyints written back as config-file
// lines (model/config's syntax), and a config location as "file:line".
// The one writer of config text: `show config` and `reload --dry-run`
// print through it, and model/config parses what it writes into the same
// specs. Pure formatting, no I/O.
#pragma once

#include "smcroute/model/config_diagnostics.hpp"
#include "smcroute/model/route_spec.hpp"

#include <string>

namespace smcroute {

// "mroute from IIF [source ADDR[/LEN]] group GROUP[/LEN] [to OIF ...]"
// (no source for any source; no "to" for a stop filter).
std::string route_line(const RouteSpec& spec);
// "mgroup from IIF [source ADDR[/LEN]] group GROUP[/LEN]"
std::string join_line(const JoinSpec& spec);
// "phyint IF enable|disable [mrdisc] [ttl-threshold N]" (N when not 1).
std::string phyint_line(const PhyintSpec& spec);
// "file:line"; "" when loc names no file.
std::string loc_text(const SourceLoc& loc);

} // namespace smcroute

// model/config_text: routes, joins and phyints written back as config-file
// lines (model/config's syntax), and a config location as "file:line".
// The one writer of config text: `show config` and `reload --dry-run`
// print through it, and model/config parses what it writes into the same
// specs. Pure formatting, no I/O.
#pragma once

#include "smcroute/base/json.hpp"
#include "smcroute/model/config_diagnostics.hpp"
#include "smcroute/model/route_spec.hpp"

#include <string>
#include <string_view>

namespace smcroute {

// "mroute from IIF [source ADDR[/LEN]] group GROUP[/LEN] [to OIF ...]"
// (no source for any source; no "to" for a stop filter).
std::string route_line(const RouteSpec& spec);
// "mgroup from IIF [source ADDR[/LEN]] group GROUP[/LEN]"
std::string join_line(const JoinSpec& spec);
// "phyint IF enable|disable [mrdisc] [ttl-threshold N] [PROXY WORDS]" (N
// when not 1; the proxy's role and family, then its querier and filter
// words where they differ from the defaults).
std::string phyint_line(const PhyintSpec& spec);
// "file:line"; "" when loc names no file.
std::string loc_text(const SourceLoc& loc);

// One line of `show config`: a directive the daemon runs, where it came from.
struct ConfigLine {
    std::string_view kind; // "phyint", "mroute", "mgroup"
    std::string text;      // the directive, as route_line() etc. write it
    SourceLoc loc;         // file empty: not known
    bool client = false;   // added by a client, not by the config
};

// The heading of `show config` text: comment lines saying what it is.
inline constexpr std::string_view config_text_heading[] = {
    "# smcroute: the effective configuration (show config), includes expanded;",
    "# each line's source after '#'; routes and joins added by clients are",
    "# commented out, so this text loads exactly the configured ones.",
};
// "TEXT    # FILE:LINE"; a client's: "# TEXT    # added by a client".
std::string config_line_text(const ConfigLine& line);
// {"kind", "origin" (config, client), "text", "file", "line"} (file and
// line when known), appended as one object.
void config_line_json(JsonWriter& w, const ConfigLine& line);

} // namespace smcroute

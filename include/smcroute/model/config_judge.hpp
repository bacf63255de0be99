// model/config_judge: the one verdict on a configuration. The parser
// (model/config) judges each line alone; this module adds the rules that
// need the whole file (two routes for one (S,G) from different inbound
// interfaces; a route through an interface a phyint line, wildcard or not,
// disables; an outbound wildcard that matches the inbound interface; one
// proxy upstream per family, one proxy role per interface and family; a
// route from a proxy interface, a join on its upstream). The
// daemon at start and reload, `-F` and `check` all read a config through
// judge_config_file(), so an error refuses the file in all three and a
// warning is only reported in all three. Facts of the running system (links,
// sysctls, a daemon) are not the config's: model/diagnose has those.
#pragma once

#include "smcroute/model/config.hpp"

#include <vector>

namespace smcroute {

// The whole-file rules over config, as located diagnostics (no source line
// shown: they concern two lines, or a line and a phyint).
std::vector<Diagnostic> judge_config(const Config& config);

// Parse path and judge the result: the parser's diagnostics, then
// judge_config()'s. error_count() of the result is the verdict.
ParseResult judge_config_file(const std::string& path, FileSource& files, const ParseOptions& opts = {});

} // namespace smcroute

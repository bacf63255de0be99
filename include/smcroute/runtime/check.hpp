// runtime/check: the `check` verb, run in the client. Reads the config (or
// takes one route from the command line), probes the system (os/
// system_probe), asks whether the daemon answers, and prints every finding of
// model/diagnose with its fix, as text or JSON. Changes nothing.
#pragma once

#include "smcroute/model/cli.hpp"
#include "smcroute/runtime/client_output.hpp"

#include <string_view>

namespace smcroute {

// Findings to out; a failure to check at all to err, prefixed with
// `prefix`. Exit status: ok without problems (warnings allowed), failed with
// any, usage for a route that does not parse, os_error when the system
// cannot be probed.
int run_check(const Invocation& inv, const ClientCommand& cmd, std::string_view prefix, const Output& out,
              const Output& err);

} // namespace smcroute

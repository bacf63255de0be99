// runtime/daemon: the one place that wires the layers together. Loads the
// config, opens the routing sockets, the interface monitor and the IPC server,
// runs the event loop, reloads on SIGHUP and cleans the kernel up on exit.
// Returns an exit status; never calls exit().
#pragma once

#include "smcroute/model/cli.hpp"

#include <vector>

namespace smcroute {

// Run the daemon. Without opts.foreground it forks; the parent returns only
// once the child is ready (0) or has failed (its exit status, reason on
// stderr). `startup` commands run once ready, as the legacy `-d -a ...` form.
int run_daemon(const DaemonOptions& opts, const std::vector<ClientCommand>& startup);

// Parse and validate a config file, print every diagnostic to stderr; 0 when
// valid, exit_code::config otherwise (smcrouted -F).
int check_config(const std::string& path);

} // namespace smcroute

// runtime/client: the client personality. Sends each command of an
// Invocation (or, with -b, each line of stdin, pipelined: requests go out
// ahead of the answers; runtime/client_batch) to the daemon over one
// connection (runtime/client_session), prints rows to stdout and failures to
// stderr, and returns the process exit status. `check` runs here
// (runtime/check). Never touches kernel state itself.
#pragma once

#include "smcroute/model/cli.hpp"
#include "smcroute/model/runtime_paths.hpp" // default_socket_path, runtime_dir

#include <cstdio>
#include <string>

namespace smcroute {

// Runs inv.commands (or batch from `in` when inv.client.batch). Output to
// `out`, errors to `err`, each error prefixed "smcroute: " or, in batch
// mode, "line N: ", in line order. Exit status: 0 when every command
// succeeded, else the first failure's status (1 when the daemon cannot be
// reached). A batch reads the descriptor of `in` directly (a FILE without
// one, like a memory stream, through stdio), so `in` must hold no buffered
// input.
int run_client(const Invocation& inv, std::FILE* in, std::FILE* out, std::FILE* err);

} // namespace smcroute

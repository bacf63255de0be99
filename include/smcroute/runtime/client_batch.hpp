// runtime/client_batch: the client's -b mode. Reads commands from stdin, a
// line each, and sends every line's request ahead of the answers to earlier
// lines (pipelined, a bounded window outstanding) over the Session's one
// connection; answers come back in order and each failure is reported with
// its line number, in line order. Knows nothing of what the commands do.
#pragma once

#include "smcroute/runtime/client_output.hpp"
#include "smcroute/runtime/client_session.hpp"

#include <cstdio>

namespace smcroute {

// Runs every line of `in` (its descriptor read directly; a FILE without one,
// like a memory stream, through stdio) on the session; errors to err, each
// prefixed "line N: ". Returns 0 when every line succeeded, else the first
// failure's status.
int run_batch(Session& session, const Output& err, std::FILE* in);

} // namespace smcroute

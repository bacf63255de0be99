// runtime/status: the daemon's own facts for `show status` and `show
// metrics` (what it is, since when, what its last config load did, what it
// counted), as plain values the Daemon fills and hands to runtime/show
// through ShowSources (a provider called per request), and the snapshot
// both renderers read: those facts with the Router's and GroupManager's
// counts of the moment, so status and metrics always show the same facts.
// Owns nothing but these values; knows nothing of sockets, files or the
// daemon's loop, and the Router knows nothing of it.
#pragma once

#include "smcroute/runtime/groups.hpp"
#include "smcroute/runtime/ipc_server.hpp"
#include "smcroute/runtime/router.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

// The first errors of a refused (or partial) config load kept for status,
// each cut to at most this many bytes.
inline constexpr size_t status_max_errors = 5;
inline constexpr size_t status_max_error_bytes = 300;

// What the last load of the config file (at start, or a reload) did.
struct ConfigLoad {
    enum class Outcome {
        none,    // not loaded yet (start-up delay)
        ok,      // applied, no error
        partial, // a start with errors: its valid lines applied (not --strict-config)
        missing, // no file: running with no routes
        refused, // a reload with errors: the running config stays
    };
    Outcome outcome = Outcome::none;
    int64_t at_unix = 0;             // when (wall clock, seconds since 1970)
    size_t errors = 0;               // error diagnostics of that load
    std::vector<std::string> first; // the first of them, bounded (note_error)

    // Keeps the first line of an error diagnostic (FILE:LINE:COL: error:
    // ...) when fewer than status_max_errors are kept, cut to
    // status_max_error_bytes.
    void note_error(std::string_view line);
};
std::string_view outcome_name(ConfigLoad::Outcome o); // "ok", "refused", ...

// The daemon's facts, filled by the Daemon when asked.
struct DaemonStatus {
    std::string version;
    int64_t pid = 0;
    int64_t started_unix = 0;   // wall clock, seconds since 1970
    int64_t uptime_seconds = 0; // steady clock since the start
    std::string ident;          // -i/-I
    uint32_t table = 0;         // -t
    std::string config_file;
    ConfigLoad last_load;
    uint64_t reloads_done = 0;
    uint64_t reloads_refused = 0; // the config had errors (abandoned ones are neither)
    IpcStats ipc;
    size_t ipc_clients = 0; // connected now
    size_t max_learned = 0; // --max-learned, 0: no limit
};

struct JoinCounts {
    size_t active = 0;
    size_t pending = 0;
};

// Everything show status prints and show metrics exports as daemon-wide values.
struct StatusSnapshot {
    DaemonStatus daemon;
    RouterCounts routes;
    UpcallStats upcalls;
    bool joins_known = false;        // a GroupManager was there
    std::array<JoinCounts, 2> joins; // [0] IPv4, [1] IPv6 join lines
};

// groups may be null (joins unknown).
StatusSnapshot take_snapshot(DaemonStatus daemon, const Router& router, const GroupManager* groups);

// "2026-12-07T12:00:00Z" (UTC).
std::string utc_time(int64_t unix_seconds);

} // namespace smcroute

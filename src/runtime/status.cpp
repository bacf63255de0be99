#include "smcroute/runtime/status.hpp"

#include <ctime>

namespace smcroute {

void ConfigLoad::note_error(std::string_view line)
{
    if (first.size() >= status_max_errors)
        return;
    line = line.substr(0, line.find('\n')); // the message, not the source line and caret under it
    if (line.size() > status_max_error_bytes)
        first.push_back(cat(line.substr(0, status_max_error_bytes - 3), "..."));
    else
        first.emplace_back(line);
}

std::string_view outcome_name(ConfigLoad::Outcome o)
{
    switch (o) {
    case ConfigLoad::Outcome::none: return "none";
    case ConfigLoad::Outcome::ok: return "ok";
    case ConfigLoad::Outcome::partial: return "partial";
    case ConfigLoad::Outcome::missing: return "missing";
    case ConfigLoad::Outcome::refused: return "refused";
    }
    return "?";
}

StatusSnapshot take_snapshot(DaemonStatus daemon, const Router& router, const GroupManager* groups)
{
    StatusSnapshot s;
    s.daemon = std::move(daemon);
    s.routes = router.counts();
    s.upcalls = router.upcall_stats();
    if (groups) {
        s.joins_known = true;
        groups->for_each_join([&](const JoinView& v) {
            JoinCounts& c = s.joins[v.spec->family() == Family::inet ? 0 : 1];
            ++(v.active ? c.active : c.pending);
        });
    }
    return s;
}

std::string utc_time(int64_t unix_seconds)
{
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (!::gmtime_r(&t, &tm))
        return cat(unix_seconds);
    char buf[32];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

} // namespace smcroute

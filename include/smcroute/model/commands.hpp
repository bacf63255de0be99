// model/commands: the one table of client verbs and show subjects, used by
// the command-line parser, the help text, the IPC server's dispatcher and the
// man-page drift test. Matching is by unambiguous prefix.
#pragma once

#include "smcroute/base/result.hpp"

#include <span>
#include <string_view>

namespace smcroute {

enum class Verb { add, remove, join, leave, show, flush, reload, kill, version, help, check };

struct VerbInfo {
    Verb verb;
    std::string_view name;     // canonical, sent on the wire
    std::string_view synopsis; // "IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF ...]"
    std::string_view help;     // one line
    bool changes_state;        // only root and the socket group may
};

enum class ShowWhat { routes, groups, interfaces, pending, memberships };

struct ShowInfo {
    ShowWhat what;
    std::string_view name;
    std::string_view help;
};

std::span<const VerbInfo> all_verbs();
std::span<const ShowInfo> all_show_subjects();
const VerbInfo& verb_info(Verb v);

// Exact name, alias ("rem", "del" for remove) or unambiguous prefix.
// Errors: "unknown command 'x'", "ambiguous command 're' (could be: reload, remove)".
Result<Verb> match_verb(std::string_view word);
Result<ShowWhat> match_show(std::string_view word);
std::string_view show_name(ShowWhat w);

// Exit codes (sysexits, DESIGN §8).
namespace exit_code {
inline constexpr int ok = 0, failed = 1, usage = 64, unavailable = 69, os_error = 71, no_kernel_support = 76,
                     permission = 77, config = 78;
}

} // namespace smcroute

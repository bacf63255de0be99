// model/commands: the one table of client verbs (name, synopsis, help, who
// may use it, argument grammar and arity) and of show subjects, used by the
// command-line parser, the help text, the IPC dispatcher (runtime/control)
// and the man-page drift test. Matching is by unambiguous prefix. Knows no
// handler and no renderer: those are runtime's, keyed by Verb and ShowWhat.
#pragma once

#include "smcroute/base/result.hpp"

#include <span>
#include <string_view>

namespace smcroute {

enum class Verb { add, remove, join, leave, show, flush, reload, kill, version, help, check, monitor };

// What a verb's arguments are: how the client parses them and what the
// daemon's handler receives.
enum class VerbArgs {
    none,           // no arguments
    route,          // route words: IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]
    optional_route, // nothing, or route words (check)
    join,           // join words: IIF [SOURCE[/LEN]] GROUP[/LEN]
    show,           // [SUBJECT] [-i IF] [-f inet|inet6]; the client sends the canonical subject first
    topic,          // [COMMAND]; the client sends the canonical verb name
    dry_run,        // [-n|--dry-run] (reload); the client sends dry_run_word
};

// The word a client sends after `reload` for -n or --dry-run.
inline constexpr std::string_view dry_run_word = "--dry-run";

inline constexpr size_t unlimited_args = static_cast<size_t>(-1);

struct VerbInfo {
    Verb verb;
    std::string_view name;     // canonical, sent on the wire
    std::string_view synopsis; // "IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF ...]"
    std::string_view help;     // one line
    bool changes_state;        // only root and the socket group may
    VerbArgs args;
    size_t min_args;           // words after the verb (optional_route: when any are given)
    size_t max_args;           // or unlimited_args
};

enum class ShowWhat { routes, groups, interfaces, pending, memberships, graph, config, status, metrics, proxy };

struct ShowInfo {
    ShowWhat what;
    std::string_view name;
    std::string_view help;
};

std::span<const VerbInfo> all_verbs();
std::span<const ShowInfo> all_show_subjects();
const VerbInfo& verb_info(Verb v);

// Exact name, alias ("rem", "del", "delete" for remove; "restart", and "r"
// and "re" as SMCRoute 2.x resolved them, for reload) or unambiguous prefix
// of a name or of "delete"/"restart". Error: "unknown command 'x'" (and
// "ambiguous command ..." should two names share a prefix).
Result<Verb> match_verb(std::string_view word);
// Whether nargs words after the verb fit its arity (min_args, max_args).
// The one arity check, made by the client's parser and by the daemon's
// dispatcher. Errors: "add needs IIF ...", "flush takes no arguments",
// "too many arguments to leave (usage: leave ...)", "check needs no
// arguments (the whole config) or ...".
Status check_arity(const VerbInfo& info, size_t nargs);
Result<ShowWhat> match_show(std::string_view word);
std::string_view show_name(ShowWhat w);

// Exit codes (sysexits, DESIGN §8).
namespace exit_code {
inline constexpr int ok = 0, failed = 1, usage = 64, unavailable = 69, os_error = 71, no_kernel_support = 76,
                     permission = 77, config = 78;
}

} // namespace smcroute

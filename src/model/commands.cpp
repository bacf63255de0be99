#include "smcroute/model/commands.hpp"

#include "smcroute/base/log.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace smcroute {

namespace {

constexpr size_t any = unlimited_args;

constexpr auto verbs = std::to_array<VerbInfo>({
    {Verb::add, "add", "IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]",
     "Add a route, or add OIFs to an existing one; no OIF: a stop filter", true, VerbArgs::route, 2, any},
    {Verb::remove, "remove", "IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]",
     "Remove a route, or just the given OIFs (aliases: rem, del, delete)", true, VerbArgs::route, 2, any},
    {Verb::join, "join", "IIF [SOURCE[/LEN]] GROUP[/LEN]",
     "Join a group on an interface (with SOURCE: source-specific)", true, VerbArgs::join, 2, 3},
    {Verb::leave, "leave", "IIF [SOURCE[/LEN]] GROUP[/LEN]", "Leave a joined group (must match the join)", true,
     VerbArgs::join, 2, 3},
    {Verb::show, "show", "[SUBJECT] [-i IF] [-f inet|inet6]",
     "Show routes (default) or another SUBJECT, see below", false, VerbArgs::show, 0, any},
    {Verb::check, "check", "[IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]]",
     "Check the config file (-f), or one route, against the system", false, VerbArgs::optional_route, 2, any},
    {Verb::monitor, "monitor", "", "Print events as they happen (routes learned, expired; reloads; ...) until interrupted",
     false, VerbArgs::none, 0, 0},
    {Verb::flush, "flush", "", "Flush the routes learned from (*,G) rules now", true, VerbArgs::none, 0, 0},
    {Verb::reload, "reload", "[-n|--dry-run]",
     "Reload the configuration file, like SIGHUP (alias: restart); -n: only show what it would change", true,
     VerbArgs::dry_run, 0, 1},
    {Verb::kill, "kill", "", "Tell the running daemon to exit, like SIGTERM", true, VerbArgs::none, 0, 0},
    {Verb::version, "version", "", "Show the program version", false, VerbArgs::none, 0, 0},
    {Verb::help, "help", "[COMMAND]", "Show this help text, or the help of one command", false, VerbArgs::topic, 0,
     1},
});

constexpr auto show_subjects = std::to_array<ShowInfo>({
    {ShowWhat::routes, "routes", "(*,G) rules and (S,G) routes with their state (default)"},
    {ShowWhat::groups, "groups", "groups joined by the daemon, with their state"},
    {ShowWhat::interfaces, "interfaces", "interfaces and their VIF/MIF numbers"},
    {ShowWhat::pending, "pending", "routes waiting for a missing interface"},
    {ShowWhat::memberships, "memberships", "every group the kernel holds per interface, by anyone"},
    {ShowWhat::graph, "graph", "the routing picture as Graphviz DOT (show graph | dot -Tsvg)"},
    {ShowWhat::config, "config", "the effective configuration as config-file text, with each line's file:line"},
    {ShowWhat::status, "status", "the daemon: uptime, last config load, counts, counters"},
    {ShowWhat::metrics, "metrics", "status and route counters, Prometheus text format"},
    {ShowWhat::proxy, "proxy", "the IGMP/MLD proxy: per interface its role, querier and listeners"},
});

// Abbreviations that kept their meaning when a later subject shared their
// prefix: "g" and "gr" are groups, as before graph ("s g" as in 2.x);
// "p" is pending, as before proxy.
constexpr auto show_aliases = std::to_array<std::pair<std::string_view, ShowWhat>>({
    {"g", ShowWhat::groups},
    {"gr", ShowWhat::groups},
    {"p", ShowWhat::pending},
});

// Other names of verbs, as SMCRoute 2.x's smcroutectl took them. An exact
// alias wins over prefixes ("r" and "re" are reload, as 2.x resolved them);
// a prefix alias also answers to any abbreviation ("d", "de", "dele" for
// delete; "res" for restart).
struct Alias {
    std::string_view name;
    Verb verb;
    bool prefix;
};
constexpr auto verb_aliases = std::to_array<Alias>({
    {"r", Verb::reload, false},
    {"re", Verb::reload, false},
    {"rem", Verb::remove, false},
    {"del", Verb::remove, true},
    {"delete", Verb::remove, true},
    {"restart", Verb::reload, true},
});

// Exact name first, then unique prefix over the canonical names.
template <class Info, class Key>
Result<Key> match_in(std::span<const Info> table, std::string_view word, std::string_view what,
                     Key (*key)(const Info&))
{
    if (word.empty())
        return fail(cat("unknown ", what, " ''"));
    std::vector<const Info*> hits;
    for (const auto& info : table) {
        if (info.name == word)
            return key(info);
        if (info.name.substr(0, word.size()) == word)
            hits.push_back(&info);
    }
    if (hits.size() == 1)
        return key(*hits.front());
    if (hits.empty())
        return fail(cat("unknown ", what, " '", word, "'"));
    std::vector<std::string_view> names;
    for (const auto* h : hits)
        names.push_back(h->name);
    std::sort(names.begin(), names.end());
    std::string list;
    for (auto n : names)
        list += list.empty() ? std::string(n) : cat(", ", n);
    return fail(cat("ambiguous ", what, " '", word, "' (could be: ", list, ")"));
}

} // namespace

std::span<const VerbInfo> all_verbs()
{
    return verbs;
}

std::span<const ShowInfo> all_show_subjects()
{
    return show_subjects;
}

const VerbInfo& verb_info(Verb v)
{
    for (const auto& info : verbs)
        if (info.verb == v)
            return info;
    assert(false && "verb missing from the table");
    return verbs.front();
}

Result<Verb> match_verb(std::string_view word)
{
    for (const auto& alias : verb_aliases)
        if (alias.name == word)
            return alias.verb;
    auto canonical = match_in<VerbInfo, Verb>(verbs, word, "command", [](const VerbInfo& i) { return i.verb; });
    if (canonical || word.empty() || canonical.error().message.starts_with("ambiguous"))
        return canonical;
    for (const auto& alias : verb_aliases)
        if (alias.prefix && alias.name.starts_with(word))
            return alias.verb; // no verb name starts with the word: the alias decides
    return canonical;
}

Status check_arity(const VerbInfo& info, size_t nargs)
{
    if (info.args == VerbArgs::optional_route && nargs > 0 && nargs < info.min_args)
        return fail(cat(info.name, " needs no arguments (the whole config) or ",
                        info.synopsis.substr(1, info.synopsis.size() - 2)));
    if (info.args != VerbArgs::optional_route && nargs < info.min_args)
        return fail(cat(info.name, " needs ", info.synopsis));
    if (nargs > info.max_args) {
        if (info.max_args == 0)
            return fail(cat(info.name, " takes no arguments"));
        return fail(cat("too many arguments to ", info.name, " (usage: ", info.name, " ", info.synopsis, ")"));
    }
    return {};
}

Result<ShowWhat> match_show(std::string_view word)
{
    for (const auto& [alias, what] : show_aliases)
        if (alias == word)
            return what;
    return match_in<ShowInfo, ShowWhat>(show_subjects, word, "show subject",
                                        [](const ShowInfo& i) { return i.what; });
}

std::string_view show_name(ShowWhat w)
{
    for (const auto& info : show_subjects)
        if (info.what == w)
            return info.name;
    assert(false && "show subject missing from the table");
    return "routes";
}

} // namespace smcroute

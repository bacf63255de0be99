#include "smcroute/model/cli.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>

namespace smcroute {

// Parse state shared by the personalities.
struct ParseState {
    Invocation inv;
    bool help = false;
    bool version = false;
    bool check = false;
    bool start_daemon = false;
};

namespace {

// ---------------------------------------------------------------------------
// Option setters: what each option does to the parse state. The tables
// below name them; nothing else applies an option.

Result<uint64_t> parse_number(std::string_view word, uint64_t max)
{
    uint64_t v = 0;
    const char* end = word.data() + word.size();
    auto [p, ec] = std::from_chars(word.data(), end, v);
    if (word.empty() || ec != std::errc() || p != end || v > max)
        return fail("bad number");
    return v;
}

Status set_unsigned(unsigned& out, std::string_view val, std::string_view what, uint64_t min = 0,
                    uint64_t max = std::numeric_limits<unsigned>::max())
{
    auto n = parse_number(val, max);
    if (!n || *n < min) {
        if (min > 0 || max < std::numeric_limits<unsigned>::max())
            return fail(cat("invalid ", what, " '", val, "' (", min, "-", max, ")"));
        return fail(cat("invalid ", what, " '", val, "'"));
    }
    out = static_cast<unsigned>(*n);
    return {};
}

template <bool ParseState::*Flag>
Status set_state(ParseState& st, std::string_view)
{
    st.*Flag = true;
    return {};
}

template <bool Invocation::*Flag>
Status set_invocation(ParseState& st, std::string_view)
{
    st.inv.*Flag = true;
    return {};
}

template <bool DaemonOptions::*Flag>
Status set_daemon_flag(ParseState& st, std::string_view)
{
    st.inv.daemon.*Flag = true;
    return {};
}

template <std::string DaemonOptions::*Field>
Status set_daemon_text(ParseState& st, std::string_view val)
{
    st.inv.daemon.*Field = std::string(val);
    return {};
}

template <bool ClientOptions::*Flag>
Status set_client_flag(ParseState& st, std::string_view)
{
    st.inv.client.*Flag = true;
    return {};
}

// --ignore-errors: the lenient start, the default since --strict-config came.
Status set_lenient_config(ParseState& st, std::string_view)
{
    st.inv.daemon.strict_config = false;
    return {};
}

// An SMCRoute 2.x option that does nothing now: accepted, with a notice.
template <char Letter>
Status no_effect(ParseState& st, std::string_view)
{
    st.inv.notices.push_back(cat("option -", Letter, " is accepted for compatibility with SMCRoute 2.x and has no effect"));
    return {};
}

Status set_ident(ParseState& st, std::string_view val)
{
    if (auto ok = check_ident(val); !ok)
        return ok;
    st.inv.daemon.ident = st.inv.client.ident = std::string(val);
    return {};
}

Status set_socket(ParseState& st, std::string_view val)
{
    st.inv.daemon.socket_path = st.inv.client.socket_path = std::string(val);
    return {};
}

Status set_cache_timeout(ParseState& st, std::string_view val)
{
    return set_unsigned(st.inv.daemon.cache_timeout, val, "cache timeout");
}

Status set_startup_delay(ParseState& st, std::string_view val)
{
    return set_unsigned(st.inv.daemon.startup_delay, val, "startup delay");
}

Status set_mrdisc_interval(ParseState& st, std::string_view val)
{
    return set_unsigned(st.inv.daemon.mrdisc_interval, val, "mrdisc interval", 4, 180);
}

Status set_max_learned(ParseState& st, std::string_view val)
{
    return set_unsigned(st.inv.daemon.max_learned, val, "learned-route limit");
}

Status set_metrics_interval(ParseState& st, std::string_view val)
{
    return set_unsigned(st.inv.daemon.metrics_interval, val, "metrics interval", 1, 3600);
}

Status set_config(ParseState& st, std::string_view val)
{
    st.inv.daemon.config_file = std::string(val);
    st.inv.daemon.config_given = true;
    return {};
}

Status set_check(ParseState& st, std::string_view val)
{
    st.check = true;
    return set_config(st, val);
}

Status set_log_level(ParseState& st, std::string_view val)
{
    auto lvl = parse_log_level(val);
    if (!lvl)
        return fail(cat("invalid log level '", val, "' (none, err, notice, info, debug)"));
    st.inv.daemon.log_level = *lvl;
    return {};
}

Status set_table(ParseState& st, std::string_view val)
{
    auto n = parse_number(val, std::numeric_limits<uint32_t>::max());
    if (!n)
        return fail(cat("invalid table id '", val, "'"));
    st.inv.daemon.table = static_cast<uint32_t>(*n);
    return {};
}

Status set_socket_mode(ParseState& st, std::string_view val)
{
    unsigned mode = 0;
    auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), mode, 8);
    if (val.empty() || ec != std::errc() || end != val.data() + val.size() || mode > 0777)
        return fail(cat("invalid socket mode '", val, "' (octal, e.g. 0660)"));
    st.inv.daemon.socket_mode = mode;
    return {};
}

Status set_debug(ParseState& st, std::string_view)
{
    st.inv.debug = true;
    st.inv.daemon.log_level = LogLevel::debug;
    return {};
}

constexpr OptionSetter help = set_state<&ParseState::help>;
constexpr OptionSetter version = set_state<&ParseState::version>;

// ---------------------------------------------------------------------------
// Option tables: the parser looks options up here and help_text() prints them.
// An option is identified in the parser by its long name, or by its letter
// when it has no long name.

constexpr std::array<OptionInfo, 26> daemon_options{{
    {'c', "cache-timeout", "SEC", "Expire idle learned routes after SEC (60, 0: never)", set_cache_timeout},
    {'d', "startup-delay", "SEC", "Wait SEC before probing interfaces and config", set_startup_delay},
    {'e', "exec", "CMD", "Run CMD after (re)load and (*,G) route installs", set_daemon_text<&DaemonOptions::script>},
    {'f', "config", "FILE", "Configuration file (default /etc/NAME.conf)", set_config},
    {'F', "check", "FILE", "Check a config file (as start and reload do) and exit", set_check},
    {'h', "help", "", "Show this help text and exit", help},
    {'i', "ident", "NAME", "Identity: .conf, .pid, .sock, syslog (smcroute)", set_ident},
    {'l', "log-level", "LVL", "Log level: none, err, notice*, info, debug", set_log_level},
    {'m', "mrdisc-interval", "SEC", "Router discovery interval, 4-180 (default 20)", set_mrdisc_interval},
    {'n', "foreground", "", "Run in the foreground, do not detach", set_daemon_flag<&DaemonOptions::foreground>},
    {'N', "", "", "Use only interfaces enabled by 'phyint IF enable'",
     set_daemon_flag<&DaemonOptions::only_enabled>},
    {'D', "", "ARG", "Accepted for compatibility (no effect, notice on stderr)", no_effect<'D'>},
    {'I', "", "NAME", "Same as -i NAME (SMCRoute 2.x spelling)", set_ident},
    {'p', "user", "USER[:GROUP]", "Drop root, keep only CAP_NET_ADMIN", set_daemon_text<&DaemonOptions::user>},
    {'P', "pidfile", "FILE", "PID file (default /run/NAME.pid)", set_daemon_text<&DaemonOptions::pid_file>},
    {'s', "syslog", "", "Log to syslog (default in the background)", set_daemon_flag<&DaemonOptions::syslog>},
    {'t', "table", "ID", "Multicast routing table (default 0)", set_table},
    {'u', "socket", "FILE", "IPC socket (default /run/NAME.sock)", set_socket},
    {'v', "version", "", "Show the program version and exit", version},
    {0, "strict-config", "", "Refuse to start with a bad config (exit 78)",
     set_daemon_flag<&DaemonOptions::strict_config>},
    {0, "ignore-errors", "", "Start with the valid lines of a bad config (default)", set_lenient_config},
    {0, "socket-mode", "MODE", "IPC socket mode, octal (default 0660)", set_socket_mode},
    {0, "socket-group", "GROUP", "IPC socket group; its members may change state",
     set_daemon_text<&DaemonOptions::socket_group>},
    {0, "max-learned", "N", "Limit learned routes + stop filters (65536, 0: none)", set_max_learned},
    {0, "metrics-file", "FILE", "Write show metrics to FILE (atomically) every interval",
     set_daemon_text<&DaemonOptions::metrics_file>},
    {0, "metrics-interval", "SEC", "Seconds between metrics file writes, 1-3600 (15)", set_metrics_interval},
}};

constexpr std::array<OptionInfo, 12> ctl_options{{
    {'b', "batch", "", "Batch mode: commands from stdin, one a line", set_client_flag<&ClientOptions::batch>},
    {'d', "detail", "", "Detailed show output (counters)", set_client_flag<&ClientOptions::detail>},
    {'f', "config", "FILE", "Config file for check (default /etc/NAME.conf)", set_config},
    {0, "table", "ID", "Multicast routing table for check (default 0)", set_table},
    {'i', "ident", "NAME", "Identity of the daemon (default smcroute)", set_ident},
    {'I', "", "NAME", "Same as -i NAME (SMCRoute 2.x spelling)", set_ident},
    {'j', "json", "", "JSON show output", set_client_flag<&ClientOptions::json>},
    {'p', "plain", "", "Table headings even when not a terminal", set_client_flag<&ClientOptions::plain>},
    {'t', "no-headings", "", "Print no table headings", set_client_flag<&ClientOptions::no_headings>},
    {'u', "socket", "FILE", "IPC socket (default /run/NAME.sock)", set_socket},
    {'h', "help", "", "Show this help text and exit", help},
    {'v', "version", "", "Show the program version and exit", version},
}};

// Legacy smcroute: its own letters; the daemon options (daemon_options) are
// accepted in long form as well, and by the letters this table does not use
// (-c -e -f -F -m -n -N -P -s), so that `smcroute -d -n -u SOCK -P PID -f
// CONF` (how SMCRoute 2.x wrappers start the daemon) works.
constexpr std::array<OptionInfo, 18> legacy_options{{
    {'d', "daemon", "", "Start the daemon, then run the commands", set_state<&ParseState::start_daemon>},
    {'k', "kill", "", "Tell the running daemon to exit"},
    {'a', "add", "IIF SOURCE GROUP [OIF ...]", "Add a route (SOURCE *, 0.0.0.0 or :: for (*,G); no OIF: a stop filter)"},
    {'r', "remove", "IIF SOURCE GROUP", "Remove a route (OIFs given are ignored)"},
    {'j', "join", "IIF GROUP [SOURCE]", "Join a group (with SOURCE: source-specific)"},
    {'l', "leave", "IIF GROUP [SOURCE]", "Leave a joined group"},
    {'h', "help", "", "Show this help text and exit", help},
    {'v', "verbose", "", "Verbose output", set_invocation<&Invocation::verbose>},
    {'D', "debug", "", "Debug logging", set_debug},
    {0, "version", "", "Show the program version and exit", version},
    {'i', "ident", "NAME", "Identity of the daemon (default smcroute)", set_ident},
    {'I', "", "NAME", "Same as -i NAME (SMCRoute 2.x spelling)", set_ident},
    {'u', "socket", "FILE", "IPC socket (default /run/NAME.sock)", set_socket},
    {'b', "batch", "", "Batch: VERB ARGS lines from stdin", set_client_flag<&ClientOptions::batch>},
    {'p', "plain", "", "Table headings even when not a terminal", set_client_flag<&ClientOptions::plain>},
    {'t', "no-headings", "", "Print no table headings", set_client_flag<&ClientOptions::no_headings>},
    {0, "detail", "", "Detailed show output", set_client_flag<&ClientOptions::detail>},
    {0, "json", "", "JSON show output", set_client_flag<&ClientOptions::json>},
}};


std::string_view key_of(const OptionInfo& o)
{
    if (!o.long_name.empty())
        return o.long_name;
    // The letter itself, as a one-character view into the table entry.
    return std::string_view(&o.letter, 1);
}

std::string option_display(const OptionInfo& o)
{
    return o.letter != 0 ? cat('-', o.letter) : cat("--", o.long_name);
}

// A word that is an option: '-' followed by a letter, or "--...".
bool is_option_word(std::string_view w)
{
    return w.size() >= 2 && w[0] == '-' && (std::isalpha(static_cast<unsigned char>(w[1])) || w[1] == '-');
}

bool is_long_word(std::string_view w)
{
    return w.size() > 2 && w.substr(0, 2) == "--";
}

using Tables = std::initializer_list<std::span<const OptionInfo>>;

// The letter in the first table that has it.
const OptionInfo* find_short(Tables tables, char c)
{
    for (auto table : tables)
        for (const auto& o : table)
            if (o.letter != 0 && o.letter == c)
                return &o;
    return nullptr;
}

// Exact long name in any of the tables (earlier tables win), then a unique
// prefix over all of them.
Result<const OptionInfo*> find_long(Tables tables, std::string_view name)
{
    for (auto table : tables)
        for (const auto& o : table)
            if (!o.long_name.empty() && o.long_name == name)
                return &o;
    std::vector<const OptionInfo*> hits;
    for (auto table : tables)
        for (const auto& o : table) {
            if (o.long_name.empty() || o.long_name.substr(0, name.size()) != name)
                continue;
            bool dup = false;
            for (const auto* h : hits)
                dup = dup || h->long_name == o.long_name;
            if (!dup)
                hits.push_back(&o);
        }
    if (hits.size() == 1)
        return hits.front();
    if (hits.empty())
        return fail(cat("unknown option '--", name, "'"));
    std::string list;
    for (const auto* h : hits)
        list += cat(list.empty() ? "" : ", ", "--", h->long_name);
    return fail(cat("ambiguous option '--", name, "' (could be: ", list, ")"));
}

// Legacy -a -r -j -l -k: commands, not settings; -a -r -j -l collect their
// words up to the next option word (`arg` only documents them).
bool is_command_option(const OptionInfo& o)
{
    return o.set == nullptr;
}

std::string default_path(std::string_view dir, const std::string& ident, std::string_view suffix)
{
    return cat(dir, ident, suffix);
}

// Reads an option's argument (attached or the next word) and checks it.
Result<std::string_view> option_value(const OptionInfo& o, std::string_view shown, std::optional<std::string_view> attached,
                                      const std::vector<std::string_view>& args, size_t& i)
{
    std::string_view val;
    if (attached) {
        val = *attached;
    } else if (i + 1 < args.size()) {
        val = args[++i];
    } else {
        return fail(cat("option '", shown, "' needs an argument ", o.arg));
    }
    if (val.empty())
        return fail(cat("option '", shown, "' needs a non-empty ", o.arg));
    return val;
}

using Handler = Status (*)(ParseState&, const OptionInfo&, std::string_view val, const std::vector<std::string_view>& args,
                           size_t& i);

// getopt-like: clusters of letters ("-ns"), attached values ("-fFILE",
// "--config=FILE"), long names by unique prefix. Stops at the first word that
// is not an option (returned index), after "--", or before the word at
// `limit` (an option's value may lie beyond it).
Result<size_t> parse_options(ParseState& st, Tables long_tables, Tables short_tables,
                             const std::vector<std::string_view>& args, size_t i, Handler handler,
                             size_t limit = std::numeric_limits<size_t>::max())
{
    for (; i < args.size() && i < limit; ++i) {
        std::string_view w = args[i];
        if (w == "--")
            return i + 1;
        if (!is_option_word(w))
            return i;
        if (is_long_word(w)) {
            std::string_view body = w.substr(2);
            std::optional<std::string_view> attached;
            if (auto eq = body.find('='); eq != std::string_view::npos) {
                attached = body.substr(eq + 1);
                body = body.substr(0, eq);
            }
            auto found = find_long(long_tables, body);
            if (!found)
                return found.take_error();
            const OptionInfo& o = **found;
            std::string shown = cat("--", o.long_name);
            std::string_view val;
            if (!o.arg.empty() && !is_command_option(o)) {
                auto v = option_value(o, shown, attached, args, i);
                if (!v)
                    return v.take_error();
                val = *v;
            } else if (attached) {
                return fail(cat("option '", shown, "' takes no argument"));
            }
            if (auto s = handler(st, o, val, args, i); !s)
                return s.take_error();
            continue;
        }
        for (size_t k = 1; k < w.size(); ++k) {
            const OptionInfo* o = find_short(short_tables, w[k]);
            if (!o)
                return fail(cat("unknown option '-", w[k], "'"));
            std::string_view val;
            if (!o->arg.empty() && !is_command_option(*o)) {
                std::optional<std::string_view> attached;
                if (k + 1 < w.size())
                    attached = w.substr(k + 1);
                auto v = option_value(*o, cat('-', o->letter), attached, args, i);
                if (!v)
                    return v.take_error();
                val = *v;
                k = w.size();
            }
            if (auto s = handler(st, *o, val, args, i); !s)
                return s.take_error();
        }
    }
    return i;
}

// smcrouted and smcroutectl: every option is a setting.
Status setting_handler(ParseState& st, const OptionInfo& o, std::string_view val, const std::vector<std::string_view>&,
                       size_t&)
{
    assert(o.set);
    return o.set(st, val);
}

// A command's words are never empty: an empty interface, address or subject
// is a mistake (often an unset shell variable), not a word to send.
Status check_words(std::string_view command, std::span<const std::string_view> words)
{
    for (size_t n = 0; n < words.size(); ++n)
        if (words[n].empty())
            return fail(cat("argument ", n + 1, " of ", command, " is empty"));
    return {};
}

// Legacy options that take their arguments up to the next option word.
Status legacy_command(ParseState& st, const OptionInfo& o, const std::vector<std::string_view>& args, size_t& i)
{
    std::string shown = option_display(o);
    if (key_of(o) == "kill") {
        st.inv.commands.push_back(ClientCommand{Verb::kill, {}, shown});
        return {};
    }
    size_t first = i + 1;
    while (i + 1 < args.size() && !is_option_word(args[i + 1]))
        ++i;
    std::span<const std::string_view> typed(args.begin() + static_cast<std::ptrdiff_t>(first),
                                            args.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    if (auto ok = check_words(shown, typed); !ok)
        return ok;
    std::vector<std::string> words(typed.begin(), typed.end());
    std::string label = shown;
    for (const auto& w : words)
        label += cat(' ', w);
    auto needs = [&] { return fail(cat(shown, " needs ", o.arg)); };
    ClientCommand cmd{Verb::add, {}, label};
    std::string_view key = key_of(o);
    if (key == "add") {
        if (words.size() < 3)
            return needs();
        cmd.args = std::move(words);
    } else if (key == "remove") {
        if (words.size() < 3)
            return needs();
        cmd.verb = Verb::remove;
        cmd.args.assign(words.begin(), words.begin() + 3);
    } else if (key == "join" || key == "leave") {
        if (words.size() < 2 || words.size() > 3)
            return needs();
        cmd.verb = key == "join" ? Verb::join : Verb::leave;
        // -j IIF GROUP [SOURCE] -> join IIF [SOURCE] GROUP
        cmd.args.push_back(words[0]);
        if (words.size() == 3)
            cmd.args.push_back(words[2]);
        cmd.args.push_back(words[1]);
    } else {
        assert(false && "not a legacy command option");
    }
    st.inv.commands.push_back(std::move(cmd));
    return {};
}

// Legacy form (no VERB word): -d, -k, -a, -r, -j, -l, ... in order.
Status legacy_handler(ParseState& st, const OptionInfo& o, std::string_view val, const std::vector<std::string_view>& args,
                      size_t& i)
{
    if (is_command_option(o))
        return legacy_command(st, o, args, i);
    return o.set(st, val);
}

// Legacy options before a VERB word: -d and -j mean detail and JSON, as in
// smcroutectl.
Status legacy_verb_handler(ParseState& st, const OptionInfo& o, std::string_view val, const std::vector<std::string_view>& args,
                           size_t& i)
{
    std::string_view key = key_of(o);
    if (key == "daemon") {
        st.inv.client.detail = true;
        return {};
    }
    if (key == "join") {
        st.inv.client.json = true;
        return {};
    }
    if (key == "add" || key == "remove" || key == "leave" || key == "kill")
        return fail(cat("option '", option_display(o), "' cannot be combined with a command word"));
    return legacy_handler(st, o, val, args, i);
}

bool is_legacy_command_letter(char c)
{
    return c == 'a' || c == 'r' || c == 'l' || c == 'k' || c == 'h';
}

// Where the VERB word of `smcroute [OPTIONS] VERB ...` is, if this is that
// form: the first word that is neither an option nor an option's argument,
// reached before any legacy command option. A word right after -j is a verb
// only when it names one (otherwise it is -j's interface).
std::optional<size_t> find_verb_word(const std::vector<std::string_view>& args)
{
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view w = args[i];
        if (w == "--")
            return i + 1 < args.size() ? std::optional<size_t>(i + 1) : std::nullopt;
        if (!is_option_word(w))
            return i;
        if (is_long_word(w)) {
            std::string_view body = w.substr(2);
            if (body.find('=') != std::string_view::npos)
                continue;
            auto found = find_long({legacy_options, daemon_options}, body);
            if (!found)
                continue; // reported by the real parse
            std::string_view key = (*found)->long_name;
            if (key == "add" || key == "remove" || key == "leave" || key == "kill" || key == "join" || key == "help")
                return std::nullopt;
            if (!(*found)->arg.empty())
                ++i;
            continue;
        }
        for (size_t k = 1; k < w.size(); ++k) {
            char c = w[k];
            if (is_legacy_command_letter(c))
                return std::nullopt;
            if (c == 'j') {
                if (k + 1 == w.size() && i + 1 < args.size() && !is_option_word(args[i + 1])
                    && match_verb(args[i + 1]).ok())
                    return i + 1;
                return std::nullopt;
            }
            const OptionInfo* o = find_short({legacy_options, daemon_options}, c);
            if (o && !o->arg.empty()) {
                if (k + 1 == w.size())
                    ++i; // its value is the next word
                break;
            }
        }
    }
    return std::nullopt;
}

// -b reads the commands from standard input. Words on the command line
// after it are ignored, as SMCRoute 2.x's smcroutectl ignored them
// (`smcroutectl -b show` ran the batch and showed nothing); a notice says so.
std::string batch_ignores(std::string_view words)
{
    return cat("-b reads the commands from standard input; ignored on the command line: ", words);
}

Status finish(ParseState& st)
{
    auto& inv = st.inv;
    inv.daemon.apply_defaults();
    if (inv.client.socket_path.empty())
        inv.client.socket_path = default_path("/run/", inv.client.ident, ".sock");
    if (inv.client.batch && !inv.commands.empty()) { // "show -b": as "-b show"
        std::string words;
        for (const auto& c : inv.commands) {
            std::string typed = c.label.empty() ? std::string(verb_info(c.verb).name) : c.label;
            for (size_t k = 0; c.label.empty() && k < c.args.size(); ++k)
                typed += cat(' ', c.args[k]);
            words += cat(words.empty() ? "" : " ", typed);
        }
        inv.commands.clear();
        inv.notices.push_back(batch_ignores(words));
    }
    if (st.help)
        inv.mode = Invocation::Mode::help;
    else if (st.version)
        inv.mode = Invocation::Mode::version;
    else if (st.check)
        inv.mode = Invocation::Mode::check_config;
    else if (st.start_daemon)
        inv.mode = Invocation::Mode::daemon;
    else
        inv.mode = Invocation::Mode::client;
    return {};
}

Result<Invocation> parse_daemon(const std::vector<std::string_view>& args)
{
    ParseState st;
    st.inv.personality = Personality::daemon;
    st.start_daemon = true;
    auto end = parse_options(st, {daemon_options}, {daemon_options}, args, 0, setting_handler);
    if (!end)
        return end.take_error();
    if (*end < args.size())
        return fail(cat("unexpected argument '", args[*end], "'"));
    if (auto s = finish(st); !s)
        return s.take_error();
    return std::move(st.inv);
}

// The words from `from` on, with options among them: an option word is
// parsed (with its value) as one; every other word is collected into words.
// own(i) first claims words as the caller's although they look like options:
// it collects them itself and returns how many it took from i (0: none).
template <class Own>
Status collect_words(ParseState& st, const std::vector<std::string_view>& args, size_t from, Tables tables,
                     Handler handler, std::vector<std::string_view>& words, Own own)
{
    for (size_t i = from; i < args.size();) {
        if (size_t taken = own(i)) {
            i += taken;
            continue;
        }
        if (!is_option_word(args[i])) {
            words.push_back(args[i]);
            ++i;
            continue;
        }
        auto next = parse_options(st, tables, tables, args, i, handler, i + 1);
        if (!next)
            return next.take_error();
        i = *next;
    }
    return {};
}

// The words after -b: options among them still count; the rest are ignored
// ("--" too, and options after it still count).
Status ignore_batch_words(ParseState& st, const std::vector<std::string_view>& args, size_t from, Tables tables,
                          Handler handler)
{
    std::vector<std::string_view> ignored;
    auto dashes = [&](size_t i) -> size_t {
        if (args[i] != "--")
            return 0;
        ignored.push_back(args[i]);
        return 1;
    };
    if (auto s = collect_words(st, args, from, tables, handler, ignored, dashes); !s)
        return s.take_error();
    std::string words; // empty words add nothing, not even a space
    for (auto w : ignored)
        words += cat(words.empty() ? "" : " ", w);
    if (!words.empty())
        st.inv.notices.push_back(batch_ignores(words));
    return {};
}

// VERB ARGS with options among the ARGS, as SMCRoute 2.x allowed
// (`smcroutectl show -d`, `add ... -I NAME`): an option word after the verb
// is one of the personality's options, except show's own -i IF and -f
// FAMILY. After "--" every word is the command's.
Status parse_verb_and_args(ParseState& st, const std::vector<std::string_view>& args, size_t from, Tables tables,
                           Handler handler)
{
    if (st.inv.client.batch && from < args.size())
        return ignore_batch_words(st, args, from, tables, handler);
    if (from >= args.size()) {
        if (!st.inv.client.batch)
            st.inv.commands.push_back(ClientCommand{Verb::show, {std::string(show_name(ShowWhat::routes))}});
        return {};
    }
    auto verb = match_verb(args[from]);
    bool show = verb && *verb == Verb::show;
    bool dry_run_option = verb && verb_info(*verb).args == VerbArgs::dry_run;
    std::vector<std::string_view> words{args[from]};
    auto commands_own = [&](size_t i) -> size_t {
        std::string_view w = args[i];
        if (w == "--") { // the rest, without it
            words.insert(words.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            return args.size() - i;
        }
        if (dry_run_option && (w == "-n" || w == dry_run_word)) {
            words.push_back(w);
            return 1;
        }
        if (show && (w == "-i" || w == "-f")) {
            words.push_back(w);
            if (i + 1 < args.size())
                words.push_back(args[i + 1]);
            return 2;
        }
        return 0;
    };
    if (auto s = collect_words(st, args, from + 1, tables, handler, words, commands_own); !s)
        return s.take_error();
    if (st.help || st.version)
        return {};
    auto cmd = parse_client_command(words);
    if (!cmd)
        return cmd.take_error();
    st.inv.commands.push_back(std::move(*cmd));
    return {};
}

Result<Invocation> parse_ctl(const std::vector<std::string_view>& args)
{
    ParseState st;
    st.inv.personality = Personality::ctl;
    auto end = parse_options(st, {ctl_options}, {ctl_options}, args, 0, setting_handler);
    if (!end)
        return end.take_error();
    if (!st.help && !st.version)
        if (auto s = parse_verb_and_args(st, args, *end, {ctl_options}, setting_handler); !s)
            return s.take_error();
    if (auto s = finish(st); !s)
        return s.take_error();
    return std::move(st.inv);
}

Result<Invocation> parse_legacy(const std::vector<std::string_view>& args)
{
    ParseState st;
    st.inv.personality = Personality::legacy;
    if (auto verb_at = find_verb_word(args)) {
        // Options before the verb, then VERB ARGS as in smcroutectl.
        std::vector<std::string_view> head(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(*verb_at));
        if (!head.empty() && head.back() == "--")
            head.pop_back();
        auto end = parse_options(st, {legacy_options, daemon_options}, {legacy_options, daemon_options}, head, 0,
                                 legacy_verb_handler);
        if (!end)
            return end.take_error();
        if (*end < head.size())
            return fail(cat("unexpected argument '", head[*end], "'"));
        if (!st.help && !st.version)
            if (auto s = parse_verb_and_args(st, args, *verb_at, {legacy_options, daemon_options}, legacy_verb_handler);
                !s)
                return s.take_error();
    } else {
        auto end = parse_options(st, {legacy_options, daemon_options}, {legacy_options, daemon_options}, args, 0,
                                 legacy_handler);
        if (!end)
            return end.take_error();
        if (*end < args.size())
            return fail(cat("unexpected argument '", args[*end], "'"));
        if (!st.help && !st.version && !st.check && !st.start_daemon && !st.inv.client.batch
            && st.inv.commands.empty())
            return fail("no command given");
    }
    if (auto s = finish(st); !s)
        return s.take_error();
    return std::move(st.inv);
}

Result<std::vector<std::string>> parse_show_args(std::span<const std::string_view> words)
{
    std::optional<ShowWhat> subject;
    std::vector<std::string> rest;
    for (size_t i = 0; i < words.size(); ++i) {
        std::string_view w = words[i];
        if (w == "-i") {
            if (i + 1 >= words.size() || words[i + 1].empty())
                return fail("show -i needs an interface name");
            rest.emplace_back(w);
            rest.emplace_back(words[++i]);
        } else if (w == "-f") {
            if (i + 1 >= words.size() || (words[i + 1] != "inet" && words[i + 1] != "inet6"))
                return fail("show -f needs inet or inet6");
            rest.emplace_back(w);
            rest.emplace_back(words[++i]);
        } else if (!w.empty() && w[0] == '-') {
            return fail(cat("unknown show option '", w, "'"));
        } else if (subject) {
            return fail(cat("unexpected argument '", w, "' to show"));
        } else {
            auto m = match_show(w);
            if (!m)
                return m.take_error();
            subject = *m;
        }
    }
    rest.insert(rest.begin(), std::string(show_name(subject.value_or(ShowWhat::routes))));
    return rest;
}

// long_only: the daemon options as the legacy form takes them, leaving out
// those the legacy table already lists.
void append_option_rows(std::string& out, std::span<const OptionInfo> table, bool long_only)
{
    for (const auto& o : table) {
        if (long_only && (o.long_name.empty() || std::any_of(legacy_options.begin(), legacy_options.end(), [&](const OptionInfo& l) {
                                                         return l.long_name == o.long_name;
                                                     })))
            continue;
        std::string left;
        if (long_only)
            left = cat("--", o.long_name);
        else if (o.letter != 0 && !o.long_name.empty())
            left = cat('-', o.letter, ", --", o.long_name);
        else if (o.letter != 0)
            left = cat('-', o.letter);
        else
            left = cat("    --", o.long_name);
        if (!o.arg.empty())
            left += cat(' ', o.arg);
        constexpr size_t column = 30;
        if (left.size() + 2 < column)
            out += cat("  ", left, std::string(column - 2 - left.size(), ' '), o.help, '\n');
        else
            out += cat("  ", left, '\n', std::string(column, ' '), o.help, '\n');
    }
}

void append_verbs(std::string& out)
{
    for (const auto& v : all_verbs()) {
        std::string name(v.name);
        name.resize(std::max<size_t>(name.size(), 7), ' ');
        if (v.synopsis.empty())
            out += cat("  ", name, ' ', v.help, '\n');
        else
            out += cat("  ", name, ' ', v.synopsis, '\n', std::string(10, ' '), v.help, '\n');
    }
    out += "\nShow SUBJECT (may be abbreviated):\n";
    for (const auto& s : all_show_subjects())
        out += cat("  ", s.name, std::string(14 - s.name.size(), ' '), s.help, '\n');
}

} // namespace

Status check_ident(std::string_view name)
{
    auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
               || c == '-';
    };
    if (!name.empty() && name.size() <= max_ident_length && name.front() != '.'
        && std::all_of(name.begin(), name.end(), allowed))
        return {};
    // The name as typed, but never a control byte on the terminal.
    std::string shown;
    for (char c : name.substr(0, 80)) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '\\')
            shown += cat("\\x", u < 0x10 ? "0" : "", hex(u));
        else
            shown += c;
    }
    if (name.size() > 80)
        shown += "...";
    return fail(cat("invalid identity '", shown, "': an identity names files, use 1 to ", max_ident_length,
                    " letters, digits, '.', '_' or '-', not starting with '.'"));
}

std::string_view program_name(Personality who)
{
    switch (who) {
    case Personality::daemon:
        return "smcrouted";
    case Personality::ctl:
        return "smcroutectl";
    case Personality::legacy:
        break;
    }
    return "smcroute";
}

Personality personality_from_argv0(std::string_view argv0)
{
    auto slash = argv0.rfind('/');
    std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
    if (base == "smcrouted")
        return Personality::daemon;
    if (base == "smcroutectl")
        return Personality::ctl;
    return Personality::legacy;
}

void DaemonOptions::apply_defaults()
{
    if (config_file.empty())
        config_file = default_path("/etc/", ident, ".conf");
    socket_given = !socket_path.empty();
    pid_file_given = !pid_file.empty();
    if (!socket_given)
        socket_path = default_path("/run/", ident, ".sock");
    if (!pid_file_given)
        pid_file = default_path("/run/", ident, ".pid");
}

Result<ClientCommand> parse_client_command(const std::vector<std::string_view>& words)
{
    if (words.empty())
        return fail("no command given");
    auto verb = match_verb(words.front());
    if (!verb)
        return verb.take_error();
    const VerbInfo& info = verb_info(*verb);
    std::span<const std::string_view> rest(words.begin() + 1, words.end());
    if (auto ok = check_words(info.name, rest); !ok)
        return ok.take_error();
    if (auto ok = check_arity(info, rest.size()); !ok)
        return ok.take_error();
    ClientCommand cmd{*verb, {}};
    switch (info.args) {
    case VerbArgs::show: {
        auto a = parse_show_args(rest);
        if (!a)
            return a.take_error();
        cmd.args = std::move(*a);
        return cmd;
    }
    case VerbArgs::topic:
        if (!rest.empty()) {
            auto topic = match_verb(rest.front());
            if (!topic)
                return topic.take_error();
            cmd.args.emplace_back(verb_info(*topic).name);
        }
        return cmd;
    case VerbArgs::dry_run:
        if (!rest.empty()) {
            if (rest.front() != "-n" && rest.front() != dry_run_word)
                return fail(cat(info.name, ": unexpected '", rest.front(), "' (expected -n or --dry-run)"));
            cmd.args.emplace_back(dry_run_word);
        }
        return cmd;
    case VerbArgs::none:
    case VerbArgs::route:
    case VerbArgs::optional_route:
    case VerbArgs::join:
        break;
    }
    for (auto w : rest)
        cmd.args.emplace_back(w);
    return cmd;
}

std::span<const OptionInfo> option_table(Personality who)
{
    switch (who) {
    case Personality::daemon:
        return daemon_options;
    case Personality::ctl:
        return ctl_options;
    case Personality::legacy:
        break;
    }
    return legacy_options;
}

Result<Invocation> parse_command_line(Personality who, const std::vector<std::string_view>& args)
{
    switch (who) {
    case Personality::daemon:
        return parse_daemon(args);
    case Personality::ctl:
        return parse_ctl(args);
    case Personality::legacy:
        break;
    }
    return parse_legacy(args);
}

std::string help_text(Personality who)
{
    std::string_view prog = program_name(who);
    std::string out = "Usage:\n";
    switch (who) {
    case Personality::daemon:
        out += cat("  ", prog, " [OPTIONS]\n\nOptions:\n");
        append_option_rows(out, daemon_options, false);
        break;
    case Personality::ctl:
        out += cat("  ", prog, " [OPTIONS] [COMMAND [ARGS]]     (no COMMAND: show routes)\n");
        out += cat("  ", prog, " [OPTIONS] -b < FILE\n\nOptions:\n");
        append_option_rows(out, ctl_options, false);
        out += "\nOptions may also follow the COMMAND (show keeps its own -i IF, -f FAMILY).\n";
        out += "\nCommands (may be abbreviated to an unambiguous prefix):\n";
        append_verbs(out);
        break;
    case Personality::legacy:
        out += cat("  ", prog, " [-v] [-D] [-d [DAEMON-OPTIONS]] [COMMAND ...]\n");
        out += cat("  ", prog, " [-bdjpt] [-i NAME] [-u FILE] VERB [ARGS]\n\nOptions and commands:\n");
        append_option_rows(out, legacy_options, false);
        out += "  Before a VERB, -d means --detail and -j means --json, as in smcroutectl.\n";
        out += "  Options may also follow a VERB; -I NAME is the old spelling of -i NAME.\n";
        // One line: the heading names the block (tests/docs_drift.sh).
        out += "\nDaemon options (after -d; long form, or smcrouted's letter if not a legacy one:";
        for (const auto& o : daemon_options)
            if (o.letter != 0 && find_short({legacy_options}, o.letter) == nullptr)
                out += cat(" -", o.letter);
        out += "):\n";
        append_option_rows(out, daemon_options, true);
        out += "\nVerbs (as in smcroutectl; may be abbreviated to an unambiguous prefix):\n";
        append_verbs(out);
        break;
    }
    return out;
}

#ifndef SMCROUTE_VERSION
#define SMCROUTE_VERSION "unknown"
#endif

std::string version_text()
{
    return "smcroute " SMCROUTE_VERSION;
}

} // namespace smcroute

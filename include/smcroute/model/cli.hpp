// model/cli: turns argv into an Invocation for one of the three
// personalities (legacy smcroute, smcrouted, smcroutectl), and produces their
// --help text from the same option and verb tables the parser uses. Pure: no
// I/O, no exit().
#pragma once

#include "smcroute/model/commands.hpp"
#include "smcroute/base/log.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

enum class Personality { legacy, daemon, ctl };

// By basename of argv[0]: "smcrouted" -> daemon, "smcroutectl" -> ctl, else legacy.
Personality personality_from_argv0(std::string_view argv0);
// "smcroute", "smcrouted" or "smcroutectl": how messages name the program.
std::string_view program_name(Personality who);

// The identity (-i NAME) names files: /etc/NAME.conf, /run/NAME.sock,
// /run/NAME.pid and, with -p, the runtime directory /run/NAME/. So it is a
// plain name: 1 to max_ident_length of [A-Za-z0-9._-], not starting with
// '.'. Anything else: "invalid identity '...': ...", the name shown with
// control bytes escaped.
inline constexpr size_t max_ident_length = 64;
Status check_ident(std::string_view name);

struct DaemonOptions {
    std::string ident = "smcroute";
    std::string config_file;  // default "/etc/<ident>.conf"
    bool config_given = false;
    std::string socket_path;  // default "/run/<ident>.sock"
    std::string pid_file;     // default "/run/<ident>.pid"
    // -u / -P given: used exactly as given, also with -p (apply_defaults sets them).
    bool socket_given = false;
    bool pid_file_given = false;
    bool foreground = false;
    bool syslog = false;      // -s (default when in the background)
    LogLevel log_level = LogLevel::notice;
    uint32_t table = 0;       // -t
    unsigned cache_timeout = 60;  // -c, 0 = never
    std::string script;       // -e
    std::string user;         // -p USER[:GROUP]
    unsigned mrdisc_interval = 20; // -m
    unsigned startup_delay = 0;    // -d SEC (smcrouted)
    // --strict-config: a config with errors stops the start (exit 78); by
    // default the daemon starts with its valid lines, as SMCRoute 2.x did.
    bool strict_config = false;
    bool only_enabled = false;     // -N: only interfaces a phyint enables are used
    unsigned socket_mode = 0660;  // --socket-mode
    std::string socket_group;     // --socket-group: may use the socket and change state
    unsigned max_learned = 65536; // --max-learned: learned routes + stop filters, 0 = no limit
    std::string metrics_file;     // --metrics-file: show metrics written there (empty: none)
    unsigned metrics_interval = 15; // --metrics-interval SEC

    // Fill the ident-derived defaults that were not given (once: it notes
    // which paths were given).
    void apply_defaults();
};

struct ClientOptions {
    std::string ident = "smcroute";
    std::string socket_path; // default "/run/<ident>.sock"
    bool batch = false;      // -b
    bool detail = false;     // -d
    bool plain = false;      // -p: headings even when not a terminal
    bool no_headings = false;// -t
    bool json = false;       // -j
};

// One client command: verb plus its words (canonical verb name not included).
struct ClientCommand {
    Verb verb;
    std::vector<std::string> args;
    // Legacy form only: the option as typed ("-a eth0 10.0.0.1 225.1.2.3 eth1"),
    // named in the error message when one of several commands fails.
    std::string label = {};
};

struct Invocation {
    enum class Mode { daemon, check_config, client, help, version };
    Personality personality = Personality::legacy;
    Mode mode = Mode::client;
    DaemonOptions daemon;
    ClientOptions client;
    // Commands to send, in order (legacy: after starting the daemon with -d).
    std::vector<ClientCommand> commands;
    bool verbose = false; // -v (legacy)
    bool debug = false;   // -D (legacy)
    // Options accepted for compatibility with SMCRoute 2.x that do nothing
    // now: one line each for stderr ("option -N has no effect ...").
    std::vector<std::string> notices;
};

// argv without argv[0]. Errors are usage errors (exit 64), with the message
// to print before "Try 'smcroute -h' for more information."
Result<Invocation> parse_command_line(Personality who, const std::vector<std::string_view>& args);

// One VERB ARGS command (smcroutectl form, batch lines): verb by prefix,
// argument count checked; show gets its canonical subject as args[0].
Result<ClientCommand> parse_client_command(const std::vector<std::string_view>& words);

// The parser's state while it reads argv (cli.cpp's own).
struct ParseState;
// Applies an option (and its value, when it takes one) to the parse state;
// fails with the usage error for a bad value.
using OptionSetter = Status (*)(ParseState&, std::string_view value);

// The option table of a personality, the one source of its parser and help.
// letter 0: long option only; long_name empty: short option only; arg empty:
// takes no argument. set null: a legacy command option (-a -r -j -l -k),
// which collects its words up to the next option, `arg` documenting them.
struct OptionInfo {
    char letter;
    std::string_view long_name;
    std::string_view arg;
    std::string_view help;
    OptionSetter set = nullptr;
};
std::span<const OptionInfo> option_table(Personality who);

std::string help_text(Personality who);
std::string version_text();

} // namespace smcroute

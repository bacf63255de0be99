// tests/fuzz/fuzz_cli: the command-line parser of all three personalities.
// The input is split into argv words at NUL bytes and newlines (so words may
// hold spaces); parse_command_line, parse_client_command and help_text run on
// them, and the first word is also tried as argv[0].
#include "smcroute/model/cli.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

using namespace smcroute;

namespace {

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_cli invariant broken: %s\n", what);
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> words;
    while (!in.empty()) {
        size_t cut = in.find_first_of(std::string_view("\0\n", 2));
        words.push_back(in.substr(0, cut));
        if (cut == std::string_view::npos)
            break;
        in.remove_prefix(cut + 1);
    }
    if (words.size() > 4096)
        return 0;

    for (Personality who : {Personality::legacy, Personality::daemon, Personality::ctl}) {
        auto inv = parse_command_line(who, words);
        if (inv) {
            check(inv->personality == who, "wrong personality in the invocation");
            for (const auto& c : inv->commands)
                for (const auto& a : c.args)
                    check(!a.empty(), "a command with an empty argument");
            if (inv->mode == Invocation::Mode::daemon || inv->mode == Invocation::Mode::check_config) {
                inv->daemon.apply_defaults();
                check(!inv->daemon.config_file.empty(), "no config file after apply_defaults");
                check(!inv->daemon.socket_path.empty(), "no socket path after apply_defaults");
            }
        } else {
            check(!inv.error().message.empty(), "usage error without a message");
        }
        check(!help_text(who).empty(), "empty help text");
        check(!option_table(who).empty(), "empty option table");
    }
    auto cmd = parse_client_command(words);
    if (!cmd)
        check(!cmd.error().message.empty(), "client command error without a message");
    else
        for (const auto& a : cmd->args)
            check(!a.empty(), "a client command with an empty argument");
    if (!words.empty())
        (void)personality_from_argv0(words[0]);
    (void)version_text();
    return 0;
}

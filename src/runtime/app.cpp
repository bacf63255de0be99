#include "smcroute/runtime/app.hpp"

#include "smcroute/model/cli.hpp"
#include "smcroute/runtime/client.hpp"
#include "smcroute/runtime/daemon.hpp"

#include <cstdio>

namespace smcroute {

int run_app(std::string_view argv0, const std::vector<std::string_view>& args)
{
    Personality who = personality_from_argv0(argv0);
    auto inv = parse_command_line(who, args);
    if (!inv) {
        std::string_view name = program_name(who);
        std::fprintf(stderr, "%.*s: %s\nTry '%.*s -h' for more information.\n", int(name.size()), name.data(),
                     inv.error().message.c_str(), int(name.size()), name.data());
        return exit_code::usage;
    }
    for (const auto& notice : inv->notices) {
        std::string_view name = program_name(who);
        std::fprintf(stderr, "%.*s: %s\n", int(name.size()), name.data(), notice.c_str());
    }
    switch (inv->mode) {
    case Invocation::Mode::help:
        std::fputs(help_text(who).c_str(), stdout);
        return exit_code::ok;
    case Invocation::Mode::version:
        std::printf("%s\n", version_text().c_str());
        return exit_code::ok;
    case Invocation::Mode::check_config:
        return check_config(inv->daemon.config_file);
    case Invocation::Mode::daemon:
        return run_daemon(inv->daemon, inv->commands);
    case Invocation::Mode::client:
        return run_client(*inv, stdin, stdout, stderr);
    }
    return exit_code::usage;
}

} // namespace smcroute

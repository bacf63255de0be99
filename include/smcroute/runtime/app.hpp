// runtime/app: the program's entry after main(): parses the command line for
// the personality named by argv[0] and runs the daemon, the config check or
// the client. The only place that maps failures to the process exit status.
#pragma once

#include <string_view>
#include <vector>

namespace smcroute {

int run_app(std::string_view argv0, const std::vector<std::string_view>& args);

} // namespace smcroute

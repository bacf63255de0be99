#include "smcroute/model/runtime_paths.hpp"

#include "smcroute/base/log.hpp"

namespace smcroute {

std::string default_socket_path(const std::string& ident)
{
    return cat("/run/", ident, ".sock");
}

std::string default_pid_file(const std::string& ident)
{
    return cat("/run/", ident, ".pid");
}

std::string runtime_dir(const std::string& ident)
{
    return cat("/run/", ident);
}

std::string runtime_dir_socket_path(const std::string& ident)
{
    return cat(runtime_dir(ident), "/", ident, ".sock");
}

std::string runtime_dir_pid_file(const std::string& ident)
{
    return cat(runtime_dir(ident), "/", ident, ".pid");
}

} // namespace smcroute

#include "smcroute/base/result.hpp"

#include <cstring>

namespace smcroute {

Error os_error(int code, std::string context)
{
    context += ": ";
    context += std::strerror(code);
    return Error{code, std::move(context)};
}

Error fail(std::string message)
{
    return Error{0, std::move(message)};
}

} // namespace smcroute

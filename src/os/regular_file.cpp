#include "smcroute/os/regular_file.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace smcroute {

namespace {

Error errno_error(int code)
{
    return Error{code, std::strerror(code)};
}

} // namespace

Result<std::string> read_regular_file(const std::string& path, size_t max_bytes, const AcceptFile& accept)
{
    // O_NONBLOCK: opening a FIFO with no writer must not hang the daemon.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd)
        return errno_error(errno);
    struct stat st{};
    if (::fstat(fd.get(), &st) < 0)
        return errno_error(errno);
    if (S_ISDIR(st.st_mode))
        return errno_error(EISDIR);
    if (!S_ISREG(st.st_mode))
        return fail("not a regular file");
    if (accept)
        if (auto ok = accept(st); !ok)
            return ok.take_error();
    std::string data;
    // Capacity only (nothing is filled): the size may be a lie, so no more
    // than the cap allows.
    if (st.st_size > 0)
        data.reserve(std::min(static_cast<size_t>(st.st_size), max_bytes + 1));
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno_error(errno);
        }
        if (n == 0)
            break;
        data.append(buf, static_cast<size_t>(n));
        if (data.size() > max_bytes)
            return Error{EFBIG, cat("larger than ", max_bytes >> 20, " MiB")};
    }
    return data;
}

} // namespace smcroute

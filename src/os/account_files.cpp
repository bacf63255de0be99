#include "smcroute/os/account_files.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace smcroute {

namespace {

constexpr size_t max_account_file_size = 16u << 20;

} // namespace

Result<std::string> read_account_file(const std::string& path)
{
    // O_NONBLOCK: a FIFO put in its place must not hang the daemon.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd)
        return fail(cat("cannot read ", path, ": ", std::strerror(errno)));
    struct stat st{};
    if (::fstat(fd.get(), &st) < 0)
        return fail(cat("cannot read ", path, ": ", std::strerror(errno)));
    if (!S_ISREG(st.st_mode))
        return fail(cat("cannot read ", path, ": not a regular file"));
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return fail(cat(path, " is writable by others than root: not trusted"));
    std::string data;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail(cat("cannot read ", path, ": ", std::strerror(errno)));
        }
        if (n == 0)
            break;
        data.append(buf, static_cast<size_t>(n));
        if (data.size() > max_account_file_size)
            return fail(cat("cannot read ", path, ": larger than ", max_account_file_size >> 20, " MiB"));
    }
    return data;
}

} // namespace smcroute

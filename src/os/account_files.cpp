#include "smcroute/os/account_files.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/os/regular_file.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace smcroute {

namespace {

constexpr size_t max_account_file_size = 16u << 20;

} // namespace

Result<std::string> read_account_file(const std::string& path)
{
    // Whoever owns it, a database others than root can write is refused,
    // before a byte of it is read.
    bool untrusted = false;
    auto trusted = [&](const struct stat& st) -> Status {
        untrusted = st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
        if (untrusted)
            return fail(cat(path, " is writable by others than root: not trusted"));
        return {};
    };
    auto data = read_regular_file(path, max_account_file_size, trusted);
    if (data || untrusted)
        return data;
    // Every other error names the file and carries no errno; a directory is
    // "not a regular file" here, like any other.
    const Error& e = data.error();
    return fail(cat("cannot read ", path, ": ", e.code == EISDIR ? "not a regular file" : e.message));
}

} // namespace smcroute

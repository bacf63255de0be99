#include "smcroute/os/config_files.hpp"

#include "smcroute/base/log.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

namespace smcroute {

namespace {

Error errno_error(int code)
{
    return Error{code, std::strerror(code)};
}

constexpr size_t max_config_file_size = 256u << 20;

class DiskFiles final : public FileSource {
public:
    Result<std::string> read(const std::string& path) override
    {
        // O_NONBLOCK: opening a FIFO with no writer must not hang the
        // daemon; only regular files are read, and only so much of them.
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
        std::string data;
        if (S_ISREG(st.st_mode) && st.st_size > 0)
            data.reserve(static_cast<size_t>(st.st_size));
        char buf[65536];
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
            if (data.size() > max_config_file_size)
                return fail(cat("file larger than ", max_config_file_size >> 20, " MiB"));
        }
        return data;
    }

    std::vector<std::string> glob(const std::string& pattern) override
    {
        std::vector<std::string> out;
        glob_t g{};
        int rc = ::glob(pattern.c_str(), GLOB_MARK, nullptr, &g);
        if (rc == 0) {
            for (size_t i = 0; i < g.gl_pathc; ++i) {
                std::string p = g.gl_pathv[i];
                if (!p.empty() && p.back() == '/')
                    continue; // GLOB_MARK: a directory, not a config file
                out.push_back(std::move(p));
            }
        }
        globfree(&g);
        std::sort(out.begin(), out.end());
        return out;
    }
};

} // namespace

std::unique_ptr<FileSource> make_disk_files()
{
    return std::make_unique<DiskFiles>();
}

} // namespace smcroute

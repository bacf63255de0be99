#include "smcroute/os/config_files.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/os/regular_file.hpp"

#include <algorithm>
#include <cerrno>
#include <glob.h>

namespace smcroute {

namespace {

constexpr size_t max_config_file_size = 256u << 20;

class DiskFiles final : public FileSource {
public:
    Result<std::string> read(const std::string& path) override
    {
        auto data = read_regular_file(path, max_config_file_size);
        if (!data && data.error().code == EFBIG)
            return fail(cat("file ", data.error().message));
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

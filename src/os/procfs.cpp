#include "smcroute/os/procfs.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/base/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>

namespace smcroute {

namespace {

constexpr size_t read_chunk = 16 * 1024;
constexpr size_t sysctl_max_bytes = 4096; // one page: any sysctl's value

} // namespace

Result<std::string> read_text_file(const std::string& path, size_t max_bytes)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        return os_error(errno, cat("read ", path));
    std::string text;
    for (;;) {
        // Ask for one byte past the limit, so a file of exactly max_bytes
        // is whole and a longer one is seen to be longer.
        const size_t room = std::min(read_chunk, max_bytes - text.size() + 1); // text.size() <= max_bytes
        const size_t had = text.size();
        text.resize(had + room);
        ssize_t n = ::read(fd.get(), text.data() + had, room);
        if (n < 0) {
            text.resize(had);
            if (errno == EINTR)
                continue;
            return os_error(errno, cat("read ", path));
        }
        text.resize(had + static_cast<size_t>(n));
        if (text.size() > max_bytes)
            return os_error(EFBIG, cat("read ", path));
        if (n == 0)
            return text;
    }
}

std::optional<int64_t> parse_sysctl_int(std::string_view text)
{
    size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
        ++i;
    if (i < text.size() && text[i] == '+') { // as `istream >>` takes it; from_chars does not
        ++i;
        if (i < text.size() && text[i] == '-')
            return std::nullopt;
    }
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
    if (ec != std::errc())
        return std::nullopt;
    return v;
}

Result<int64_t> read_sysctl_int(const std::string& path)
{
    auto text = read_text_file(path, sysctl_max_bytes);
    if (!text)
        return text.take_error();
    auto v = parse_sysctl_int(*text);
    if (!v)
        return Error{EINVAL, cat(path, ": not a number")};
    return *v;
}

} // namespace smcroute

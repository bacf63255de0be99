// os/procfs: reads the kernel's text files under /proc and /sys (sysctls,
// the /proc/net tables, /proc/PID/comm): whole, bounded, as text. Knows
// nothing of what a file means: parsing a table is its caller's.
#pragma once

#include "smcroute/base/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smcroute {

// The whole file (procfs files have no size up front: read until EOF).
// Errors carry errno: the open's or read's (ENOENT when the file is absent),
// EFBIG when it holds more than max_bytes. Text: "read PATH: strerror".
Result<std::string> read_text_file(const std::string& path, size_t max_bytes);

// The integer a sysctl file starts with, e.g. "2\n": leading white space, an
// optional sign, decimal digits; whatever follows is ignored. nullopt when
// there is no number or it does not fit. Pure.
std::optional<int64_t> parse_sysctl_int(std::string_view text);

// read_text_file + parse_sysctl_int. Errors: the read's, or EINVAL when the
// file holds no number ("PATH: not a number").
Result<int64_t> read_sysctl_int(const std::string& path);

} // namespace smcroute

// os/regular_file: reading a whole regular file, bounded, never blocking on a
// FIFO. Owns the one descriptor it opens (O_NONBLOCK, closed on return), the
// fstat of that descriptor and the read loop; what the bytes mean, and how
// a failure is worded to an operator, is the caller's.
#pragma once

#include "smcroute/base/result.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <sys/stat.h>

namespace smcroute {

// Asked about the fstat of the opened descriptor (never a stat of the path,
// so no other file can be swapped in between) before a byte is read; an
// error refuses the file and is returned as it is.
using AcceptFile = std::function<Status(const struct stat&)>;

// The whole content of path, if it is a regular file of at most max_bytes.
// Errors: a failed call's errno and its text ("No such file or directory");
// a directory, EISDIR "Is a directory"; any other file that is not regular,
// code 0 "not a regular file"; past max_bytes, EFBIG "larger than N MiB"
// (max_bytes in whole MiB); else accept's own error.
Result<std::string> read_regular_file(const std::string& path, size_t max_bytes, const AcceptFile& accept = nullptr);

} // namespace smcroute

// os/config_files: the config files on disk, as the FileSource the parser
// (model/config) reads through: opens and reads regular files (never
// blocking on a FIFO, never more than 256 MiB of one) and globs the paths
// of include lines. Knows nothing of the config's syntax.
#pragma once

#include "smcroute/model/config.hpp"

#include <memory>

namespace smcroute {

// The real filesystem. Errors say why: "No such file or directory", "Is a
// directory", "not a regular file"; a glob lists files only, sorted.
std::unique_ptr<FileSource> make_disk_files();

} // namespace smcroute

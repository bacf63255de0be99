// os/account_files: the local user and group databases, /etc/passwd and
// /etc/group, read for resolving "-p USER[:GROUP]" and the IPC socket's
// group. The program never asks glibc's NSS (it is linked statically, and a
// root daemon loads no modules named by a config file): users and groups
// come from these files, like glibc's "files" service. A database is
// trusted only if root owns it and no one else can write it, and it is read
// only up to 16 MiB. Parsing is model/account_db's.
#pragma once

#include "smcroute/base/result.hpp"
#include "smcroute/model/account_db.hpp"

#include <optional>
#include <string>

namespace smcroute {

struct AccountFiles {
    std::string passwd = "/etc/passwd";
    std::string group = "/etc/group";
};

// The whole text of one database. Errors: "cannot read /etc/passwd: ...",
// "/etc/passwd is writable by others than root: not trusted".
Result<std::string> read_account_file(const std::string& path);

} // namespace smcroute

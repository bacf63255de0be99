// os/privileges: leaves root for USER[:GROUP] while keeping exactly the
// capabilities the daemon needs later (CAP_NET_ADMIN for the routing sockets,
// CAP_NET_RAW for raw IGMP/ICMPv6 sockets opened lazily). The only module that
// changes ids or capabilities; it reads the user databases through
// os/account_files and opens nothing else.
#pragma once

#include "smcroute/base/log.hpp"
#include "smcroute/base/result.hpp"
#include "smcroute/os/account_files.hpp"

#include <cstdint>
#include <string>
#include <sys/types.h>

namespace smcroute {

struct UserGroup {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string user;  // name, or the number as given
    std::string group; // name, or the number
};

// Parse and resolve "USER[:GROUP]" (names or numeric ids; without GROUP the
// user's primary group), from /etc/passwd and /etc/group (os/account_files;
// files: other paths, for tests). Errors: "unknown user 'x'", "unknown
// group 'y'", or why a database could not be used.
Result<UserGroup> resolve_user_group(const std::string& user_group, const AccountFiles& files = AccountFiles{});

// Become USER[:GROUP] for good (real, effective and saved ids; supplementary
// groups = {GROUP}), keeping only CAP_NET_ADMIN and CAP_NET_RAW, permitted and
// effective; the bounding set and ambient set are cleared of everything else
// (when CAP_SETPCAP allows), so children (the -e script) run without
// capabilities. Checks the result and that root cannot be regained. Needs
// root (or CAP_SETUID+CAP_SETGID+CAP_SETPCAP); call from a single-threaded
// process, after everything that needs root is open.
Status drop_privileges(const std::string& user_group, Logger& log);

// The bits drop_privileges() keeps: (1 << CAP_NET_ADMIN) | (1 << CAP_NET_RAW).
uint64_t kept_capabilities();
// This process's effective capability set (capget), 0 on error.
uint64_t effective_capabilities();
// CAP_NET_ADMIN is effective: enough to run the daemon without being root.
bool has_net_admin();

} // namespace smcroute

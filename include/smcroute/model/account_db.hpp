// model/account_db: the local user and group databases as text, the format
// of passwd(5) and group(5) ("name:password:uid:gid:gecos:home:shell" and
// "name:password:gid:members"). Finds one entry by name or by number, the
// first that matches, as glibc's "files" service does. Pure: the caller
// reads the files (os/account_files). Lines that are empty, comments, NIS
// compat markers ("+..."/"-...") or malformed (too few fields, a number out
// of range) are skipped, never an error: one bad line must not hide a user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smcroute {

struct AccountEntry {
    std::string name;
    uint32_t id = 0;  // the uid of a passwd line, the gid of a group line
    uint32_t gid = 0; // the primary group of a passwd line (0 for a group line)
};

// A uid/gid as a decimal number, 0 ... 2^32 - 2 (-1 means "no id" to the
// kernel); nullopt for anything else.
std::optional<uint32_t> parse_account_id(std::string_view s);

std::optional<AccountEntry> passwd_by_name(std::string_view passwd_text, std::string_view name);
std::optional<AccountEntry> passwd_by_uid(std::string_view passwd_text, uint32_t uid);
std::optional<AccountEntry> group_by_name(std::string_view group_text, std::string_view name);
std::optional<AccountEntry> group_by_gid(std::string_view group_text, uint32_t gid);

} // namespace smcroute

#include "smcroute/model/account_db.hpp"

#include <array>
#include <charconv>

namespace smcroute {

namespace {

// Splits the first N ':'-separated fields of line; false when it has fewer.
template <size_t N>
bool split_fields(std::string_view line, std::array<std::string_view, N>& f)
{
    for (size_t i = 0; i < N; ++i) {
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            if (i + 1 != N)
                return false;
            f[i] = line;
            return true;
        }
        f[i] = line.substr(0, colon);
        line.remove_prefix(colon + 1);
    }
    return true;
}

// Calls fn(entry) for each well-formed line until it returns true.
template <class Fn>
std::optional<AccountEntry> find(std::string_view text, bool is_passwd, Fn match)
{
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-')
            continue;
        AccountEntry e;
        if (is_passwd) {
            std::array<std::string_view, 4> f; // name, password, uid, gid (the rest is not needed)
            if (!split_fields(line, f) || f[0].empty())
                continue;
            auto uid = parse_account_id(f[2]);
            auto gid = parse_account_id(f[3]);
            if (!uid || !gid)
                continue;
            e = AccountEntry{std::string(f[0]), *uid, *gid};
        } else {
            std::array<std::string_view, 3> f; // name, password, gid
            if (!split_fields(line, f) || f[0].empty())
                continue;
            auto gid = parse_account_id(f[2]);
            if (!gid)
                continue;
            e = AccountEntry{std::string(f[0]), *gid, 0};
        }
        if (match(e))
            return e;
    }
    return std::nullopt;
}

} // namespace

std::optional<uint32_t> parse_account_id(std::string_view s)
{
    uint32_t v = 0;
    if (s.empty() || s.front() < '0' || s.front() > '9')
        return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v == UINT32_MAX)
        return std::nullopt;
    return v;
}

std::optional<AccountEntry> passwd_by_name(std::string_view passwd_text, std::string_view name)
{
    return find(passwd_text, true, [&](const AccountEntry& e) { return e.name == name; });
}

std::optional<AccountEntry> passwd_by_uid(std::string_view passwd_text, uint32_t uid)
{
    return find(passwd_text, true, [&](const AccountEntry& e) { return e.id == uid; });
}

std::optional<AccountEntry> group_by_name(std::string_view group_text, std::string_view name)
{
    return find(group_text, false, [&](const AccountEntry& e) { return e.name == name; });
}

std::optional<AccountEntry> group_by_gid(std::string_view group_text, uint32_t gid)
{
    return find(group_text, false, [&](const AccountEntry& e) { return e.id == gid; });
}

} // namespace smcroute

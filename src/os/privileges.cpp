#include "smcroute/os/privileges.hpp"

#include "smcroute/os/procfs.hpp"

#include <cerrno>
#include <charconv>
#include <optional>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace smcroute {

namespace {

constexpr uint64_t bit(int cap)
{
    return uint64_t{1} << cap;
}

std::optional<uint32_t> parse_id(const std::string& s)
{
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v == UINT32_MAX)
        return std::nullopt;
    return v;
}

// getpwnam_r/getgrnam_r want a caller buffer that may have to grow; the
// entry's strings point into buf, which must outlive them.
template <class Entry, class Fn>
Result<bool> lookup(Fn fn, Entry& entry, std::vector<char>& buf)
{
    buf.resize(1024);
    for (;;) {
        Entry* found = nullptr;
        int rc = fn(&entry, buf.data(), buf.size(), &found);
        if (rc == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM)
            return os_error(rc, "user database");
        return found != nullptr;
    }
}

struct CapSets {
    uint64_t effective = 0, permitted = 0, inheritable = 0;
};

Result<CapSets> capget_self()
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &hdr, data) != 0)
        return os_error(errno, "capget");
    CapSets s;
    for (int i = 0; i < 2; ++i) {
        s.effective |= uint64_t{data[i].effective} << (32 * i);
        s.permitted |= uint64_t{data[i].permitted} << (32 * i);
        s.inheritable |= uint64_t{data[i].inheritable} << (32 * i);
    }
    return s;
}

Status capset_self(uint64_t effective, uint64_t permitted, uint64_t inheritable)
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    for (int i = 0; i < 2; ++i) {
        data[i].effective = static_cast<uint32_t>(effective >> (32 * i));
        data[i].permitted = static_cast<uint32_t>(permitted >> (32 * i));
        data[i].inheritable = static_cast<uint32_t>(inheritable >> (32 * i));
    }
    if (::syscall(SYS_capset, &hdr, data) != 0)
        return os_error(errno, "capset");
    return {};
}

int last_cap()
{
    auto n = read_sysctl_int("/proc/sys/kernel/cap_last_cap");
    if (n && *n > 0 && *n < 64)
        return static_cast<int>(*n);
    return CAP_LAST_CAP;
}

std::string cap_names(uint64_t caps)
{
    std::string out;
    auto add = [&](int cap, const char* name) {
        if (caps & bit(cap))
            out += out.empty() ? name : cat(", ", name);
    };
    add(CAP_NET_ADMIN, "CAP_NET_ADMIN");
    add(CAP_NET_RAW, "CAP_NET_RAW");
    if (uint64_t others = caps & ~kept_capabilities()) {
        char hex[17];
        auto end = std::to_chars(hex, hex + sizeof(hex), others, 16).ptr;
        out += cat(out.empty() ? "" : ", ", "others (0x", std::string_view(hex, static_cast<size_t>(end - hex)), ")");
    }
    return out.empty() ? "none" : out;
}

} // namespace

uint64_t kept_capabilities()
{
    return bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW);
}

uint64_t effective_capabilities()
{
    auto s = capget_self();
    return s ? s->effective : 0;
}

bool has_net_admin()
{
    return (effective_capabilities() & bit(CAP_NET_ADMIN)) != 0;
}

Result<UserGroup> resolve_user_group(const std::string& user_group)
{
    auto colon = user_group.find(':');
    std::string user = user_group.substr(0, colon);
    std::string group = colon == std::string::npos ? "" : user_group.substr(colon + 1);
    if (user.empty())
        return fail(cat("invalid user '", user_group, "': expected USER[:GROUP]"));
    if (colon != std::string::npos && group.empty())
        return fail(cat("invalid user '", user_group, "': empty group after ':'"));

    UserGroup ug;
    ug.user = user;
    std::vector<char> buf;
    passwd pw{};
    auto by_name = [&](passwd* e, char* b, size_t n, passwd** r) { return ::getpwnam_r(user.c_str(), e, b, n, r); };
    auto found = lookup(by_name, pw, buf);
    if (!found)
        return found.take_error();
    std::optional<gid_t> primary;
    if (*found) {
        ug.uid = pw.pw_uid;
        primary = pw.pw_gid;
    } else if (auto id = parse_id(user)) {
        ug.uid = *id;
        passwd byid{};
        auto f = lookup([&](passwd* e, char* b, size_t n, passwd** r) { return ::getpwuid_r(*id, e, b, n, r); }, byid,
                        buf);
        if (f && *f)
            primary = byid.pw_gid;
    } else {
        return fail(cat("unknown user '", user, "'"));
    }

    if (group.empty()) {
        if (!primary)
            return fail(cat("user ", user, " has no passwd entry: give USER:GROUP"));
        ug.gid = *primary;
        struct group grent{};
        auto by_gid = [&](struct group* e, char* b, size_t n, struct group** r) {
            return ::getgrgid_r(ug.gid, e, b, n, r);
        };
        auto f = lookup(by_gid, grent, buf);
        ug.group = f && *f ? std::string(grent.gr_name) : std::to_string(ug.gid);
        return ug;
    }
    ug.group = group;
    struct group gr{};
    auto by_group = [&](struct group* e, char* b, size_t n, struct group** r) {
        return ::getgrnam_r(group.c_str(), e, b, n, r);
    };
    auto f = lookup(by_group, gr, buf);
    if (!f)
        return f.take_error();
    if (*f)
        ug.gid = gr.gr_gid;
    else if (auto id = parse_id(group))
        ug.gid = *id;
    else
        return fail(cat("unknown group '", group, "'"));
    return ug;
}

Status drop_privileges(const std::string& user_group, Logger& log)
{
    auto ug = resolve_user_group(user_group);
    if (!ug)
        return ug.take_error();
    const uid_t uid = ug->uid;
    const gid_t gid = ug->gid;
    if (uid == 0)
        return fail(cat("refusing to drop privileges to uid 0 ('", user_group, "')"));
    const uint64_t keep = kept_capabilities();

    auto before = capget_self();
    if (!before)
        return before.take_error();
    if ((before->permitted & keep) != keep)
        return fail(cat("cannot keep CAP_NET_ADMIN and CAP_NET_RAW: this process does not hold them"));

    // Children (the -e script) must not inherit anything: no ambient
    // capabilities, and nothing beyond what we keep in the bounding set.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return os_error(errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    int last = last_cap();
    bool bounding_ok = true;
    for (int cap = 0; cap <= last; ++cap) {
        if (keep & bit(cap))
            continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno != EPERM && errno != EINVAL)
                return os_error(errno, cat("prctl(PR_CAPBSET_DROP, ", cap, ")"));
            bounding_ok = false; // no CAP_SETPCAP: the ids below still drop the rest
        }
    }
    if (!bounding_ok)
        log.warning("cannot shrink the capability bounding set (no CAP_SETPCAP); continuing");

    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return os_error(errno, "prctl(PR_SET_KEEPCAPS, 1)");
    if (::setgroups(1, &gid) != 0)
        return os_error(errno, cat("setgroups(", gid, ")"));
    if (::setresgid(gid, gid, gid) != 0)
        return os_error(errno, cat("setresgid(", gid, ")"));
    if (::setresuid(uid, uid, uid) != 0)
        return os_error(errno, cat("setresuid(", uid, ")"));
    // KEEPCAPS kept the permitted set across the uid change; the effective set
    // was cleared. Keep only what we need, in both.
    if (auto st = capset_self(keep, keep, 0); !st)
        return st;
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
        return os_error(errno, "prctl(PR_SET_KEEPCAPS, 0)");

    // Verify: every id changed, exactly the kept capabilities, no way back.
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0)
        return os_error(errno, "getresuid");
    if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
        return fail(cat("dropping privileges to ", uid, ":", gid, " left uids ", ru, "/", eu, "/", su, ", gids ", rg,
                        "/", eg, "/", sg));
    auto after = capget_self();
    if (!after)
        return after.take_error();
    if (after->effective != keep || after->permitted != keep)
        return fail(cat("dropping privileges left capabilities ", cap_names(after->permitted)));
    if (::setuid(0) == 0)
        return fail("dropping privileges failed: root can be regained");

    log.notice(cat("dropped privileges to ", ug->user, ":", ug->group, " (uid ", uid, ", gid ", gid, "), keeping ",
                   cap_names(keep)));
    return {};
}

} // namespace smcroute

#include "smcroute/os/privileges.hpp"

#include "smcroute/os/account_files.hpp"
#include "smcroute/os/procfs.hpp"

#include <cerrno>
#include <charconv>
#include <grp.h> // setgroups
#include <optional>
#include <linux/capability.h>
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

Result<UserGroup> resolve_user_group(const std::string& user_group, const AccountFiles& files)
{
    auto colon = user_group.find(':');
    std::string user = user_group.substr(0, colon);
    std::string group = colon == std::string::npos ? "" : user_group.substr(colon + 1);
    if (user.empty())
        return fail(cat("invalid user '", user_group, "': expected USER[:GROUP]"));
    if (colon != std::string::npos && group.empty())
        return fail(cat("invalid user '", user_group, "': empty group after ':'"));

    // A database that cannot be read (or is not trusted) is an error unless
    // the answer does not need it: a number, or only the name of a group.
    auto database = [](const std::string& path, bool optional) -> Result<std::string> {
        auto text = read_account_file(path);
        if (!text && optional)
            return std::string();
        return text;
    };

    UserGroup ug;
    ug.user = user;
    auto passwd = database(files.passwd, parse_account_id(user).has_value());
    if (!passwd)
        return passwd.take_error();
    std::optional<gid_t> primary;
    if (auto pw = passwd_by_name(*passwd, user)) {
        ug.uid = pw->id;
        primary = pw->gid;
    } else if (auto id = parse_account_id(user)) {
        ug.uid = *id;
        if (auto byid = passwd_by_uid(*passwd, *id))
            primary = byid->gid;
    } else {
        return fail(cat("unknown user '", user, "'"));
    }

    auto groups = database(files.group, group.empty() || parse_account_id(group).has_value());
    if (!groups)
        return groups.take_error();
    if (group.empty()) {
        if (!primary)
            return fail(cat("user ", user, " has no passwd entry: give USER:GROUP"));
        ug.gid = *primary;
        auto gr = group_by_gid(*groups, ug.gid);
        ug.group = gr ? gr->name : std::to_string(ug.gid);
        return ug;
    }
    ug.group = group;
    if (auto gr = group_by_name(*groups, group))
        ug.gid = gr->id;
    else if (auto id = parse_account_id(group))
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

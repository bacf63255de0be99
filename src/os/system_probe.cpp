#include "smcroute/os/system_probe.hpp"

#include "smcroute/os/interfaces.hpp"
#include "smcroute/base/text.hpp"
#include "smcroute/os/mroute.hpp"
#include "smcroute/os/netlink.hpp"
#include "smcroute/os/procfs.hpp"
#include "smcroute/base/unique_fd.hpp"
#include "smcroute/base/words.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <set>
#include <span>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace smcroute {

namespace {

constexpr unsigned iff_lower_up = 1u << 16; // IFF_LOWER_UP of <linux/if.h>, which clashes with <net/if.h>

constexpr size_t proc_net_max_bytes = 64 << 20; // /proc/net/raw{,6}: far more than any system's raw sockets
constexpr size_t comm_max_bytes = 4096;          // /proc/PID/comm: a name of at most 16 bytes

bool exists(const std::string& path)
{
    return ::access(path.c_str(), F_OK) == 0;
}

unsigned prefix_len_of(const sockaddr* mask)
{
    if (!mask || mask->sa_family != AF_INET)
        return 32;
    uint32_t m = ntohl(reinterpret_cast<const sockaddr_in*>(mask)->sin_addr.s_addr);
    unsigned len = 0;
    while (len < 32 && (m & (0x80000000u >> len)))
        ++len;
    return len;
}

void add_addresses(std::vector<IfFacts>& ifs)
{
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0)
        return;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || !a->ifa_name)
            continue;
        IfFacts* f = nullptr;
        for (auto& i : ifs)
            if (i.name == a->ifa_name)
                f = &i;
        if (!f)
            continue;
        if (a->ifa_addr->sa_family == AF_INET) {
            IpAddr ip = IpAddr::from_v4(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr);
            unsigned len = prefix_len_of(a->ifa_netmask);
            f->has_v4_address = true;
            f->v4_subnets.push_back(Prefix{ip.masked(len), static_cast<uint8_t>(len)});
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            f->has_v6_address = true;
        }
    }
    ::freeifaddrs(list);
}

// Who holds the family's routing table: try MRT_INIT (root), else go by
// conf/all/mc_forwarding (which any MRT_INIT, on any table, raises).
void probe_holder(Family f, const ProbeRequest& req, FamilyFacts& ff)
{
    const bool v4 = f == Family::inet;
    ff.kernel_support = exists(cat(req.proc, v4 ? "/net/ip_mr_vif" : "/net/ip6_mr_vif"));
    if (!ff.kernel_support)
        return;
    auto sock = open_mroute(f, req.table);
    if (sock) {
        ff.holder = TableHolder::nobody; // closed again when sock goes
        return;
    }
    int code = sock.error().code;
    if (code == EADDRINUSE) {
        ff.holder = TableHolder::held;
        ff.holder_detail = routing_socket_holders(f, req.proc);
        return;
    }
    if (code == ENOPROTOOPT || code == EOPNOTSUPP || code == EAFNOSUPPORT || code == EPROTONOSUPPORT) {
        ff.kernel_support = false;
        return;
    }
    // Not allowed (no CAP_NET_RAW): mc_forwarding of "all" counts holders of
    // every table, so it answers only for the default table when zero or one.
    auto all = read_sysctl_int(cat(req.proc, "/sys/net/", v4 ? "ipv4" : "ipv6", "/conf/all/mc_forwarding"));
    if (!all)
        return;
    if (*all == 0)
        ff.holder = TableHolder::nobody;
    else if (req.table == 0)
        ff.holder = TableHolder::held;
}

uint64_t hard_nofile(const std::string& proc)
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_max == RLIM_INFINITY) {
        auto nr = read_sysctl_int(proc + "/sys/fs/nr_open");
        return nr && *nr > 0 ? static_cast<uint64_t>(*nr) : UINT64_MAX;
    }
    return static_cast<uint64_t>(rl.rlim_max);
}

// Inodes of the raw sockets of `protocol` in /proc/net/raw or raw6.
std::set<std::string> raw_socket_inodes(const std::string& file, unsigned protocol)
{
    std::set<std::string> inodes;
    auto text = read_text_file(file, proc_net_max_bytes);
    if (!text)
        return inodes;
    std::string_view rest(*text);
    bool heading = true;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (std::exchange(heading, false))
            continue;
        // sl local remote st queues timer retr uid timeout inode ...
        auto f = split_words(line);
        if (f.size() < 10)
            continue;
        auto local = f[1];
        auto colon = local.rfind(':');
        if (colon == std::string_view::npos)
            continue;
        unsigned port = 0;
        auto hex = local.substr(colon + 1);
        auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), port, 16);
        if (ec == std::errc() && p == hex.data() + hex.size() && port == protocol)
            inodes.insert(std::string(f[9]));
    }
    return inodes;
}

// The process's name from /proc/PID/comm (its first line); "" when unreadable.
std::string process_name(const std::string& proc, std::string_view pid)
{
    auto text = read_text_file(cat(proc, "/", pid, "/comm"), comm_max_bytes);
    if (!text)
        return {};
    return text->substr(0, text->find('\n'));
}

} // namespace

std::string routing_socket_holders(Family f, const std::string& proc)
{
    const bool v4 = f == Family::inet;
    auto inodes = raw_socket_inodes(cat(proc, v4 ? "/net/raw" : "/net/raw6"), v4 ? unsigned{IPPROTO_IGMP} : unsigned{IPPROTO_ICMPV6});
    if (inodes.empty())
        return {};
    std::set<std::string> wanted;
    for (const auto& i : inodes)
        wanted.insert(cat("socket:[", i, "]"));
    std::string out;
    const std::string self = std::to_string(::getpid());
    DIR* d = ::opendir(proc.c_str());
    if (!d)
        return {};
    while (dirent* e = ::readdir(d)) {
        std::string_view pid = e->d_name;
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string_view::npos || pid == self)
            continue;
        std::string fd_dir = cat(proc, "/", pid, "/fd");
        DIR* fds = ::opendir(fd_dir.c_str());
        if (!fds)
            continue;
        bool holds = false;
        while (dirent* fe = ::readdir(fds)) {
            if (fe->d_name[0] == '.')
                continue;
            char target[64];
            ssize_t n = ::readlink(cat(fd_dir, "/", fe->d_name).c_str(), target, sizeof target - 1);
            if (n > 0 && wanted.count(std::string(target, static_cast<size_t>(n)))) {
                holds = true;
                break;
            }
        }
        ::closedir(fds);
        if (!holds)
            continue;
        std::string comm = process_name(proc, pid);
        out += cat(out.empty() ? "" : ", ", "pid ", pid, comm.empty() ? "" : cat(" (", comm, ")"));
    }
    ::closedir(d);
    return out;
}

Result<std::string> route_interface(const IpAddr& dst)
{
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd)
        return os_error(errno, "netlink socket");
    struct {
        nlmsghdr nh;
        rtmsg rt;
        char attrs[64];
    } req{};
    const bool v4 = dst.is_v4();
    const size_t alen = v4 ? 4 : 16;
    req.nh.nlmsg_type = RTM_GETROUTE;
    req.nh.nlmsg_flags = NLM_F_REQUEST;
    req.nh.nlmsg_seq = 1;
    req.rt.rtm_family = v4 ? AF_INET : AF_INET6;
    req.rt.rtm_dst_len = static_cast<unsigned char>(alen * 8);
    auto* rta = reinterpret_cast<rtattr*>(req.attrs);
    rta->rta_type = RTA_DST;
    rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(alen));
    std::memcpy(RTA_DATA(rta), dst.bytes().data(), alen);
    req.nh.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(rtmsg)) + RTA_ALIGN(rta->rta_len));
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd.get(), &req, req.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
        return os_error(errno, "netlink RTM_GETROUTE");
    uint8_t buf[8192];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0)
        return os_error(errno, "netlink RTM_GETROUTE");
    NetlinkMessages msgs(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
    while (auto m = msgs.next()) {
        if (m->type == NLMSG_ERROR)
            return std::string(); // ENETUNREACH and friends: no route
        if (m->type != RTM_NEWROUTE || m->payload.size() < sizeof(rtmsg))
            continue;
        rtmsg rt;
        std::memcpy(&rt, m->payload.data(), sizeof rt);
        if (rt.rtm_type == RTN_UNREACHABLE || rt.rtm_type == RTN_BLACKHOLE || rt.rtm_type == RTN_PROHIBIT)
            return std::string();
        NetlinkAttrs attrs(m->payload, sizeof(rtmsg));
        while (auto a = attrs.next()) {
            if (a->type != RTA_OIF || a->payload.size() < sizeof(int))
                continue;
            int index = 0;
            std::memcpy(&index, a->payload.data(), sizeof index);
            char name[IF_NAMESIZE] = {};
            if (::if_indextoname(static_cast<unsigned>(index), name))
                return std::string(name);
            return cat("ifindex ", index);
        }
        return std::string();
    }
    return std::string();
}

Result<SystemFacts> probe_system(const ProbeRequest& req)
{
    SystemFacts facts;
    facts.table = req.table;
    auto ifs = list_interfaces();
    if (!ifs)
        return ifs.take_error();
    for (const auto& i : *ifs) {
        IfFacts f;
        f.name = i.name.str();
        f.index = i.index;
        f.up = i.up();
        f.carrier = (i.flags & iff_lower_up) != 0;
        f.multicast = i.multicast();
        f.loopback = i.loopback();
        std::string v4 = cat(req.proc, "/sys/net/ipv4/conf/", f.name, "/");
        if (auto rp = read_sysctl_int(v4 + "rp_filter"))
            f.rp_filter = static_cast<int>(*rp);
        if (auto mc = read_sysctl_int(v4 + "mc_forwarding"))
            f.v4_vif = *mc != 0;
        if (auto mc = read_sysctl_int(cat(req.proc, "/sys/net/ipv6/conf/", f.name, "/mc_forwarding")))
            f.v6_vif = *mc != 0;
        facts.interfaces.push_back(std::move(f));
    }
    add_addresses(facts.interfaces);
    if (auto all = read_sysctl_int(req.proc + "/sys/net/ipv4/conf/all/rp_filter"))
        facts.all_rp_filter = static_cast<int>(*all);
    if (auto m = read_sysctl_int(req.proc + "/sys/net/ipv4/igmp_max_memberships"); m && *m >= 0)
        facts.igmp_max_memberships = static_cast<uint64_t>(*m);
    facts.nofile_limit = hard_nofile(req.proc);
    if (req.v4)
        probe_holder(Family::inet, req, facts.v4);
    if (req.v6)
        probe_holder(Family::inet6, req, facts.v6);
    for (const auto& s : req.sources)
        if (auto via = route_interface(s))
            facts.route_to_source[s] = *via;
    return facts;
}

} // namespace smcroute

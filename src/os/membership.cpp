#include "smcroute/os/membership.hpp"

#include "smcroute/base/hash.hpp"
#include "smcroute/base/text.hpp"
#include "smcroute/os/procfs.hpp"

#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace smcroute {

namespace {

int level_of(Family f)
{
    return f == Family::inet ? IPPROTO_IP : IPPROTO_IPV6;
}

// MCAST_{JOIN,LEAVE}_GROUP or MCAST_{JOIN,LEAVE}_SOURCE_GROUP; returns 0 or errno.
int mcast_op(int fd, Family f, bool join, unsigned ifindex, const IpAddr& group, const std::optional<IpAddr>& source)
{
    int rc;
    if (source) {
        group_source_req req{};
        req.gsr_interface = ifindex;
        to_sockaddr(group, req.gsr_group);
        to_sockaddr(*source, req.gsr_source);
        rc = ::setsockopt(fd, level_of(f), join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP, &req,
                          sizeof req);
    } else {
        group_req req{};
        req.gr_interface = ifindex;
        to_sockaddr(group, req.gr_group);
        rc = ::setsockopt(fd, level_of(f), join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP, &req, sizeof req);
    }
    return rc == 0 ? 0 : errno;
}

// The per-socket limits (igmp_max_memberships, igmp_max_msf, mld_max_msf,
// optmem_max) show as ENOBUFS, or ENOMEM for IPv6 socket memory.
bool is_full_error(int err)
{
    return err == ENOBUFS || err == ENOMEM;
}

uint64_t nofile_limit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    return rl.rlim_cur;
}

} // namespace

std::string Membership::str() const
{
    std::string what = source ? cat('(', source->str(), ", ", group.str(), ')') : group.str();
    if (ifname.empty())
        return cat(what, " on ifindex ", ifindex);
    return cat(what, " on ", ifname.view(), " (ifindex ", ifindex, ")");
}

size_t MembershipPool::GroupKeyHash::operator()(const GroupKey& k) const noexcept
{
    return hash_all(std::hash<IpAddr>{}(k.group), k.ifindex);
}

size_t MembershipPool::JoinKeyHash::operator()(const JoinKey& k) const noexcept
{
    return hash_all(std::hash<IpAddr>{}(k.group), std::hash<IpAddr>{}(k.source), k.ifindex);
}

// A socket holds an (ifindex, group) either ASM or SSM, and only one holds it ASM.
MembershipPool::Holding* MembershipPool::asm_holding(std::vector<Holding>& hs)
{
    for (Holding& h : hs)
        if (!h.ssm)
            return &h;
    return nullptr;
}

MembershipPool::MembershipPool()
{
    v4_.family = Family::inet;
    v6_.family = Family::inet6;
}

MembershipPool::~MembershipPool() = default;

Result<uint32_t> MembershipPool::open_socket(FamilyPool& fp, const Membership& m)
{
    const int af = fp.family == Family::inet ? AF_INET : AF_INET6;
    UniqueFd fd(::socket(af, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP));
    if (!fd) {
        int err = errno;
        if (err == EMFILE || err == ENFILE)
            return Error{err, cat("cannot join ", m.str(), ": too many open files (RLIMIT_NOFILE ", nofile_limit(),
                                  ")")};
        return os_error(err, cat("cannot join ", m.str(), ": open ", family_name(fp.family), " socket"));
    }
    // Never deliver anything to this socket: it exists only to hold joins.
    sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    sock_fprog prog{1, drop_all};
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
        return os_error(errno, cat("cannot join ", m.str(), ": attach drop filter"));
    int off = 0;
    int rc = fp.family == Family::inet
                 ? ::setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off)
                 : ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof off);
    if (rc != 0)
        return os_error(errno, cat("cannot join ", m.str(), ": disable multicast loop"));

    uint32_t id;
    if (!fp.free_ids.empty()) {
        id = fp.free_ids.back();
        fp.free_ids.pop_back();
        fp.sockets[id] = Socket{std::move(fd), 0};
    } else {
        id = static_cast<uint32_t>(fp.sockets.size());
        fp.sockets.push_back(Socket{std::move(fd), 0});
    }
    fp.with_room.insert(id);
    return id;
}

void MembershipPool::close_if_empty(FamilyPool& fp, uint32_t sock)
{
    Socket& s = fp.sockets[sock];
    if (s.groups != 0)
        return;
    s.fd.reset();
    fp.with_room.erase(sock);
    fp.free_ids.push_back(sock);
}

// One socket no longer holds (ifindex, group): it has room again.
void MembershipPool::release_group(FamilyPool& fp, const GroupKey& gk, uint32_t sock)
{
    auto it = fp.holders.find(gk);
    assert(it != fp.holders.end());
    auto& hs = it->second;
    for (size_t i = 0; i < hs.size(); ++i) {
        if (hs[i].sock == sock) {
            if (!hs[i].ssm)
                --fp.asm_joins;
            hs[i] = hs.back();
            hs.pop_back();
            break;
        }
    }
    if (hs.empty())
        fp.holders.erase(it);
    assert(fp.sockets[sock].groups > 0);
    --fp.sockets[sock].groups;
    fp.with_room.insert(sock);
    close_if_empty(fp, sock);
}

Status MembershipPool::join(const Membership& m)
{
    if (m.source && m.source->family() != m.family())
        return fail(cat("join ", m.str(), ": source and group of different families"));
    FamilyPool& fp = pool(m.family());
    const bool ssm = m.source.has_value();
    const JoinKey key{m.ifindex, m.group, ssm ? *m.source : IpAddr::any(m.family())};
    const GroupKey gk{m.ifindex, m.group};
    auto& hs = fp.holders[gk]; // references into unordered_map values stay valid
    if (ssm ? fp.joins.contains(key) : asm_holding(hs) != nullptr) {
        if (hs.empty())
            fp.holders.erase(gk);
        return Error{EADDRINUSE, cat("already joined: ", m.str())};
    }
    auto drop_empty_holders = [&] {
        if (hs.empty())
            fp.holders.erase(gk);
    };

    // SSM: another source on a socket already holding the group in INCLUDE
    // mode. Newest holdings are at the back and usually have room.
    if (ssm) {
        for (auto rit = hs.rbegin(); rit != hs.rend(); ++rit) {
            Holding& h = *rit;
            if (!h.ssm || h.sources_full)
                continue;
            int err = mcast_op(fp.sockets[h.sock].fd.get(), fp.family, true, m.ifindex, m.group, m.source);
            if (err == 0) {
                ++h.sources;
                fp.joins.emplace(key, h.sock);
                return {};
            }
            if (!is_full_error(err))
                return os_error(err, cat("join ", m.str()));
            h.sources_full = true;
            fp.source_capacity = std::max(fp.source_capacity, h.sources);
        }
    }

    // A socket with room that does not hold (ifindex, group) yet, else a new one.
    auto try_on = [&](uint32_t id) -> int {
        int err = mcast_op(fp.sockets[id].fd.get(), fp.family, true, m.ifindex, m.group, m.source);
        if (err == 0) {
            ++fp.sockets[id].groups;
            hs.push_back(Holding{id, ssm, ssm ? size_t{1} : size_t{0}, false});
            if (ssm)
                fp.joins.emplace(key, id);
            else
                ++fp.asm_joins;
        }
        return err;
    };
    for (auto it = fp.with_room.begin(); it != fp.with_room.end();) {
        uint32_t id = *it;
        if (std::any_of(hs.begin(), hs.end(), [id](const Holding& h) { return h.sock == id; })) {
            ++it;
            continue;
        }
        int err = try_on(id);
        if (err == 0)
            return {};
        if (!is_full_error(err)) {
            drop_empty_holders();
            return os_error(err, cat("join ", m.str()));
        }
        fp.group_capacity = std::max(fp.group_capacity, fp.sockets[id].groups);
        it = fp.with_room.erase(it);
    }
    auto id = open_socket(fp, m);
    if (!id) {
        drop_empty_holders();
        return id.take_error();
    }
    int err = try_on(*id);
    if (err != 0) {
        // A fresh socket refused the first join: no point opening more.
        close_if_empty(fp, *id);
        drop_empty_holders();
        return os_error(err, cat("join ", m.str()));
    }
    return {};
}

Status MembershipPool::leave(const Membership& m)
{
    if (m.source && m.source->family() != m.family())
        return fail(cat("leave ", m.str(), ": source and group of different families"));
    FamilyPool& fp = pool(m.family());
    const bool ssm = m.source.has_value();
    const GroupKey gk{m.ifindex, m.group};
    auto hit = fp.holders.find(gk);
    Holding* h = nullptr;
    auto jit = fp.joins.end();
    if (ssm) {
        jit = fp.joins.find(JoinKey{m.ifindex, m.group, *m.source});
        if (jit != fp.joins.end()) {
            assert(hit != fp.holders.end());
            for (Holding& x : hit->second)
                if (x.sock == jit->second)
                    h = &x;
            assert(h);
        }
    } else if (hit != fp.holders.end()) {
        h = asm_holding(hit->second);
    }
    if (!h)
        return Error{EADDRNOTAVAIL, cat("not joined: ", m.str())};
    const uint32_t sock = h->sock;
    const int fd = fp.sockets[sock].fd.get();

    int err = mcast_op(fd, fp.family, false, m.ifindex, m.group, m.source);
    if (err == ENODEV && ssm) {
        // The interface is gone; the socket still holds the group. Dropping the
        // last source drops the group, which works without the device.
        err = 0;
        if (h->sources == 1)
            (void)mcast_op(fd, fp.family, false, m.ifindex, m.group, std::nullopt);
    }
    if (err != 0 && err != ENODEV)
        return os_error(err, cat("leave ", m.str()));
    if (ssm)
        fp.joins.erase(jit);
    if (ssm && h->sources > 1) {
        --h->sources;
        h->sources_full = false;
        return {};
    }
    release_group(fp, gk, sock);
    return {};
}

void MembershipPool::forget_interface(unsigned ifindex)
{
    for (FamilyPool* fp : {&v4_, &v6_}) {
        std::vector<std::pair<GroupKey, uint32_t>> drop;
        for (const auto& [gk, hs] : fp->holders)
            if (gk.ifindex == ifindex)
                for (const Holding& h : hs)
                    drop.emplace_back(gk, h.sock);
        for (const auto& [gk, sock] : drop) {
            // ASM leave drops the whole (ifindex, group) from the socket, SSM
            // sources included, and works when the device is gone.
            (void)mcast_op(fp->sockets[sock].fd.get(), fp->family, false, ifindex, gk.group, std::nullopt);
            release_group(*fp, gk, sock);
        }
        std::erase_if(fp->joins, [&](const auto& kv) { return kv.first.ifindex == ifindex; });
    }
}

void MembershipPool::clear()
{
    for (FamilyPool* fp : {&v4_, &v6_}) {
        fp->sockets.clear(); // closing leaves every group
        fp->free_ids.clear();
        fp->with_room.clear();
        fp->holders.clear();
        fp->joins.clear();
        fp->asm_joins = 0;
    }
}

MembershipPool::Stats MembershipPool::stats(Family f) const
{
    const FamilyPool& fp = pool(f);
    Stats s;
    s.joins = fp.joins.size() + fp.asm_joins;
    s.sockets = fp.sockets.size() - fp.free_ids.size();
    s.group_capacity = fp.group_capacity;
    s.source_capacity = fp.source_capacity;
    return s;
}

Result<uint64_t> raise_nofile_limit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return os_error(errno, "getrlimit(RLIMIT_NOFILE)");
    if (rl.rlim_cur == rl.rlim_max)
        return static_cast<uint64_t>(rl.rlim_cur);
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0)
        return static_cast<uint64_t>(want.rlim_cur);
    int err = errno;
    if (rl.rlim_max == RLIM_INFINITY) {
        // An unlimited hard limit cannot be the soft one: use fs.nr_open.
        auto nr_open = read_sysctl_int("/proc/sys/fs/nr_open");
        if (nr_open && *nr_open > 0 && static_cast<uint64_t>(*nr_open) > rl.rlim_cur) {
            want.rlim_cur = static_cast<rlim_t>(*nr_open);
            if (::setrlimit(RLIMIT_NOFILE, &want) == 0)
                return static_cast<uint64_t>(*nr_open);
            err = errno;
        }
    }
    return os_error(err, cat("raise RLIMIT_NOFILE from ", rl.rlim_cur, " to ", rl.rlim_max));
}

} // namespace smcroute

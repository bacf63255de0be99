// join_probe: root-only check and timing of os/membership and os/kernel_groups
// against the real kernel. Enters a private network namespace itself, makes a
// veth pair jp0/jp1, then joins N IPv4 groups (ASM), N IPv4 SSM (one group,
// N sources), N IPv6 groups and N IPv6 SSM on jp0 through MembershipPool,
// checks /proc/net/{igmp,mcfilter,igmp6,mcfilter6} and leaves them all,
// printing socket counts and times.
//   join_probe [N]       (default 5000)
// Exit 0 when every check passed, 1 otherwise, 77 when not root or without
// network namespaces.
#include "smcroute/os/kernel_groups.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/os/membership.hpp"

#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace smcroute;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int failures = 0;

void check(bool ok, const std::string& what)
{
    if (!ok) {
        ++failures;
        std::printf("FAIL: %s\n", what.c_str());
    }
}

size_t count_on(Family f, unsigned ifindex, const IpAddr& ssm_group, size_t& ssm_sources)
{
    auto all = read_kernel_memberships();
    check(all.ok(), all.ok() ? "" : all.error().message);
    size_t n = 0;
    ssm_sources = 0;
    if (!all.ok())
        return 0;
    for (const auto& m : *all) {
        if (m.ifindex != ifindex || m.group.family() != f)
            continue;
        if (m.group == ssm_group)
            ssm_sources = m.sources.size();
        else if (!m.group.is_link_local_multicast() && !(f == Family::inet6 && m.group.bytes()[1] == 0x01))
            ++n;
    }
    return n;
}

void run(Family f, unsigned idx, const IfName& name, unsigned n)
{
    const bool v4 = f == Family::inet;
    const IpAddr base = *IpAddr::parse(v4 ? "225.0.0.0" : "ff3e::1:0:0");
    const IpAddr ssm_group = *IpAddr::parse(v4 ? "232.1.1.1" : "ff3e::232");
    const IpAddr src_base = *IpAddr::parse(v4 ? "10.0.0.0" : "2001:db8::");
    const std::string fam(family_name(f));
    MembershipPool pool;

    auto t0 = Clock::now();
    for (unsigned i = 0; i < n; ++i) {
        auto st = pool.join({idx, name, std::nullopt, base.plus(i)});
        if (!st) {
            check(false, st.error().message);
            return;
        }
    }
    double t_join = ms_since(t0);
    auto s = pool.stats(f);
    std::printf("%s ASM: %u joins in %.1f ms (%.2f us/join), %zu sockets, %zu groups/socket\n", fam.c_str(), n,
                t_join, t_join * 1000 / n, s.sockets, s.group_capacity);

    t0 = Clock::now();
    for (unsigned i = 1; i <= n; ++i) {
        auto st = pool.join({idx, name, src_base.plus(i), ssm_group});
        if (!st) {
            check(false, st.error().message);
            return;
        }
    }
    double t_ssm = ms_since(t0);
    auto s2 = pool.stats(f);
    std::printf("%s SSM: %u sources of one group in %.1f ms (%.2f us/join), %zu more sockets, %zu sources/socket\n",
                fam.c_str(), n, t_ssm, t_ssm * 1000 / n, s2.sockets - s.sockets, s2.source_capacity);

    t0 = Clock::now();
    size_t sources = 0;
    size_t groups = count_on(f, idx, ssm_group, sources);
    std::printf("%s /proc read and parse: %.1f ms\n", fam.c_str(), ms_since(t0));
    check(groups == n, cat(fam, ": kernel shows ", groups, " groups, want ", n));
    check(sources == n, cat(fam, ": kernel shows ", sources, " SSM sources, want ", n));

    t0 = Clock::now();
    for (unsigned i = 0; i < n; ++i)
        check(pool.leave({idx, name, std::nullopt, base.plus(i)}).ok(), "leave");
    for (unsigned i = 1; i <= n; ++i)
        check(pool.leave({idx, name, src_base.plus(i), ssm_group}).ok(), "ssm leave");
    double t_leave = ms_since(t0);
    std::printf("%s leave all %u: %.1f ms, %zu sockets left\n", fam.c_str(), 2 * n, t_leave, pool.stats(f).sockets);
    check(pool.stats(f).sockets == 0, "sockets left open");
    groups = count_on(f, idx, ssm_group, sources);
    check(groups == 0 && sources == 0, cat(fam, ": kernel still holds ", groups, " groups, ", sources, " sources"));
}

} // namespace

int main(int argc, char** argv)
{
    unsigned n = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 5000;
    if (n == 0 || n > 60000) {
        std::fprintf(stderr, "usage: join_probe [N]   (1..60000, default 5000)\n");
        return 64;
    }
    if (geteuid() != 0) {
        std::fprintf(stderr, "join_probe: needs root\n");
        return 77;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        std::perror("join_probe: unshare(CLONE_NEWNET)");
        return 77;
    }
    if (std::system("ip link add jp0 type veth peer name jp1 && ip link set jp0 up && ip link set jp1 up") != 0) {
        std::fprintf(stderr, "join_probe: cannot create a veth pair\n");
        return 77;
    }
    auto limit = raise_nofile_limit();
    std::printf("RLIMIT_NOFILE %s\n", limit ? std::to_string(*limit).c_str() : limit.error().message.c_str());
    unsigned idx = if_nametoindex("jp0");
    const IfName name = *IfName::parse("jp0");
    run(Family::inet, idx, name, n);
    run(Family::inet6, idx, name, n);
    std::printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

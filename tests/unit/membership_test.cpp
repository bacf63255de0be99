// Tests for os/membership: the socket pool against the real kernel inside a
// private network namespace (root; skipped otherwise): 1000 joins on one veth
// with igmp_max_memberships = 20 spread over 50 sockets, SSM sources shared up
// to igmp_max_msf per socket, leave, errors, descriptor exhaustion, interfaces
// that vanish. Without root: messages, and joins on lo (they need no privilege).
#include "smcroute/os/kernel_groups.hpp"
#include "smcroute/os/membership.hpp"

#include <gtest/gtest.h>

#include "netns_child.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fcntl.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace smcroute;

namespace {

IpAddr ip(const char* text)
{
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddr{});
}

IfName ifname(const char* text)
{
    return *IfName::parse(text);
}



#define RUN_IN_NETNS(body)                                                                         \
    do {                                                                                           \
        if (geteuid() != 0)                                                                        \
            GTEST_SKIP() << "needs root";                                                          \
        std::string report = in_netns(body);                                                       \
        if (report.rfind("skip:", 0) == 0)                                                         \
            GTEST_SKIP() << report;                                                                \
        EXPECT_EQ(report, "");                                                                     \
    } while (0)

// A veth pair, both ends up; the ifindex of `a`, 0 on failure.
unsigned make_veth(const char* a, const char* b)
{
    std::string cmd = std::string("ip link add ") + a + " type veth peer name " + b + " && ip link set " + a +
                      " up && ip link set " + b + " up";
    if (system(cmd.c_str()) != 0)
        return 0;
    return if_nametoindex(a);
}

bool write_sysctl(const char* path, const char* value)
{
    std::ofstream out(path);
    out << value;
    out.flush();
    return static_cast<bool>(out);
}

size_t groups_on(const std::vector<KernelMembership>& all, std::string_view name, Family f)
{
    size_t n = 0;
    for (const auto& m : all)
        if (m.ifname == name && m.group.family() == f && !m.group.is_link_local_multicast() &&
            !(f == Family::inet6 && m.group.bytes()[1] == 0x01)) // not ff01::/16 either
            ++n;
    return n;
}

IpAddr v4_group(unsigned i) // 225.1.x.y, i < 65536
{
    return ip("225.1.0.0").plus(i);
}

} // namespace

TEST(Membership, Str)
{
    EXPECT_EQ((Membership{3, ifname("eth0"), std::nullopt, ip("225.1.2.3")}.str()), "225.1.2.3 on eth0 (ifindex 3)");
    EXPECT_EQ((Membership{3, ifname("eth0"), ip("10.0.0.1"), ip("232.1.2.3")}.str()),
              "(10.0.0.1, 232.1.2.3) on eth0 (ifindex 3)");
    EXPECT_EQ((Membership{7, IfName{}, std::nullopt, ip("ff3e::1")}.str()), "ff3e::1 on ifindex 7");
}

TEST(Membership, NotJoinedAndMixedFamiliesNeedNoKernel)
{
    MembershipPool pool;
    auto st = pool.leave({3, ifname("eth0"), std::nullopt, ip("225.1.2.3")});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, EADDRNOTAVAIL);
    EXPECT_EQ(st.error().message, "not joined: 225.1.2.3 on eth0 (ifindex 3)");
    st = pool.join({3, ifname("eth0"), ip("2001:db8::1"), ip("232.1.2.3")});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(pool.stats(Family::inet).sockets, 0u);
}

TEST(Membership, RaiseNofileLimit)
{
    auto r = raise_nofile_limit();
    ASSERT_TRUE(r.ok()) << r.error().message;
    rlimit rl{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    EXPECT_EQ(rl.rlim_cur, *r);
    if (rl.rlim_max != RLIM_INFINITY) {
        EXPECT_EQ(rl.rlim_cur, rl.rlim_max);
    }
}

// Joins need no privileges: this runs for anyone, on the loopback interface of
// the current namespace (groups in 239.255.213.0/24, left at the end).
TEST(Membership, UnprivilegedJoinsOnLoopback)
{
    unsigned lo = if_nametoindex("lo");
    if (lo == 0)
        GTEST_SKIP() << "no lo";
    std::ifstream in("/proc/sys/net/ipv4/igmp_max_memberships");
    size_t max = 0;
    if (!(in >> max) || max == 0 || max > 60)
        GTEST_SKIP() << "igmp_max_memberships " << max;
    MembershipPool pool;
    const IfName name = ifname("lo");
    const IpAddr base = ip("239.255.213.0");
    for (unsigned i = 0; i < 60; ++i) {
        auto st = pool.join({lo, name, std::nullopt, base.plus(i)});
        if (!st.ok() && i == 0 && st.error().code == ENODEV)
            GTEST_SKIP() << st.error().message;
        ASSERT_TRUE(st.ok()) << st.error().message;
    }
    auto s = pool.stats(Family::inet);
    EXPECT_EQ(s.joins, 60u);
    EXPECT_EQ(s.sockets, (60 + max - 1) / max);
    auto all = read_kernel_memberships();
    ASSERT_TRUE(all.ok()) << all.error().message;
    size_t seen = 0;
    for (const auto& m : *all)
        if (m.ifindex == lo && Prefix{base, 24}.contains(m.group))
            ++seen;
    EXPECT_EQ(seen, 60u);
    for (unsigned i = 0; i < 60; ++i)
        ASSERT_TRUE(pool.leave({lo, name, std::nullopt, base.plus(i)}).ok());
    EXPECT_EQ(pool.stats(Family::inet).sockets, 0u);
}

TEST(MembershipKernel, ThousandJoinsOnOneVethUseFiftySockets)
{
    RUN_IN_NETNS([]() -> std::string {
        unsigned idx = make_veth("mp0", "mp1");
        if (idx == 0)
            return "skip: cannot create a veth pair";
        CHECK_OR_REPORT(write_sysctl("/proc/sys/net/ipv4/igmp_max_memberships", "20"), "sysctl");
        MembershipPool pool;
        const IfName name = ifname("mp0");
        for (unsigned i = 0; i < 1000; ++i) {
            auto st = pool.join({idx, name, std::nullopt, v4_group(i)});
            CHECK_OR_REPORT(st.ok(), "join " + std::to_string(i) + ": " + st.error().message);
        }
        auto s = pool.stats(Family::inet);
        CHECK_OR_REPORT(s.joins == 1000, "joins " + std::to_string(s.joins));
        CHECK_OR_REPORT(s.sockets == 50, "sockets " + std::to_string(s.sockets));
        CHECK_OR_REPORT(s.group_capacity == 20, "capacity " + std::to_string(s.group_capacity));
        auto all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        CHECK_OR_REPORT(groups_on(*all, "mp0", Family::inet) == 1000,
                        "kernel shows " + std::to_string(groups_on(*all, "mp0", Family::inet)));

        // Joining twice is refused; the pool does not grow.
        auto again = pool.join({idx, name, std::nullopt, v4_group(7)});
        CHECK_OR_REPORT(!again.ok() && again.error().code == EADDRINUSE, "duplicate join accepted");
        CHECK_OR_REPORT(again.error().message == "already joined: 225.1.0.7 on mp0 (ifindex " + std::to_string(idx) +
                                                     ")",
                        again.error().message);

        // Leave half: slots are reused before any new socket is opened.
        for (unsigned i = 0; i < 1000; i += 2) {
            auto st = pool.leave({idx, name, std::nullopt, v4_group(i)});
            CHECK_OR_REPORT(st.ok(), "leave " + std::to_string(i) + ": " + st.error().message);
        }
        CHECK_OR_REPORT(pool.stats(Family::inet).joins == 500, "joins after half leave");
        for (unsigned i = 1000; i < 1500; ++i)
            CHECK_OR_REPORT(pool.join({idx, name, std::nullopt, v4_group(i)}).ok(), "rejoin");
        s = pool.stats(Family::inet);
        CHECK_OR_REPORT(s.sockets == 50, "sockets after refill " + std::to_string(s.sockets));

        // Leave everything: every socket is closed, the kernel holds nothing.
        for (unsigned i = 1; i < 1000; i += 2)
            CHECK_OR_REPORT(pool.leave({idx, name, std::nullopt, v4_group(i)}).ok(), "leave odd");
        for (unsigned i = 1000; i < 1500; ++i)
            CHECK_OR_REPORT(pool.leave({idx, name, std::nullopt, v4_group(i)}).ok(), "leave new");
        s = pool.stats(Family::inet);
        CHECK_OR_REPORT(s.joins == 0 && s.sockets == 0, "not empty after leaving all");
        all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        CHECK_OR_REPORT(groups_on(*all, "mp0", Family::inet) == 0, "kernel still holds groups");
        auto st = pool.leave({idx, name, std::nullopt, v4_group(3)});
        CHECK_OR_REPORT(!st.ok() && st.error().code == EADDRNOTAVAIL, "leave twice accepted");
        return "";
    });
}

TEST(MembershipKernel, SsmSourcesShareSocketsUpToMaxMsf)
{
    RUN_IN_NETNS([]() -> std::string {
        unsigned idx = make_veth("mp0", "mp1");
        if (idx == 0)
            return "skip: cannot create a veth pair";
        CHECK_OR_REPORT(write_sysctl("/proc/sys/net/ipv4/igmp_max_msf", "10"), "sysctl");
        MembershipPool pool;
        const IfName name = ifname("mp0");
        const IpAddr group = ip("232.1.1.1");
        // 25 sources of one group: 10 per socket -> 3 sockets.
        for (unsigned i = 1; i <= 25; ++i) {
            auto st = pool.join({idx, name, ip("10.0.0.0").plus(i), group});
            CHECK_OR_REPORT(st.ok(), "ssm join: " + st.error().message);
        }
        auto s = pool.stats(Family::inet);
        CHECK_OR_REPORT(s.sockets == 3, "sockets " + std::to_string(s.sockets));
        CHECK_OR_REPORT(s.source_capacity == 10, "source capacity " + std::to_string(s.source_capacity));
        // An ASM join of the same group goes on a socket that does not hold it.
        CHECK_OR_REPORT(pool.join({idx, name, std::nullopt, group}).ok(), "asm join of an SSM group");
        auto all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        size_t sources = 0;
        for (const auto& m : *all)
            if (m.ifname == "mp0" && m.group == group)
                sources = m.sources.size();
        CHECK_OR_REPORT(sources == 25, "kernel shows " + std::to_string(sources) + " sources");
        CHECK_OR_REPORT(pool.leave({idx, name, std::nullopt, group}).ok(), "asm leave");
        // Leaving an SSM join needs the same source.
        auto st = pool.leave({idx, name, ip("10.0.0.99"), group});
        CHECK_OR_REPORT(!st.ok() && st.error().message.rfind("not joined: (10.0.0.99, 232.1.1.1) on mp0", 0) == 0,
                        "wrong-source leave: " + (st.ok() ? std::string("accepted") : st.error().message));
        st = pool.leave({idx, name, std::nullopt, ip("232.1.1.1")});
        CHECK_OR_REPORT(!st.ok(), "ASM leave of an SSM-only group accepted");
        for (unsigned i = 1; i <= 25; ++i) {
            auto l = pool.leave({idx, name, ip("10.0.0.0").plus(i), group});
            CHECK_OR_REPORT(l.ok(), "ssm leave: " + l.error().message);
        }
        CHECK_OR_REPORT(pool.stats(Family::inet).sockets == 0, "sockets left open");
        all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        for (const auto& m : *all)
            CHECK_OR_REPORT(!(m.ifname == "mp0" && m.group == group), "kernel still holds the SSM group");
        return "";
    });
}

TEST(MembershipKernel, Ipv6AsmAndSsm)
{
    RUN_IN_NETNS([]() -> std::string {
        unsigned idx = make_veth("mp0", "mp1");
        if (idx == 0)
            return "skip: cannot create a veth pair";
        MembershipPool pool;
        const IfName name = ifname("mp0");
        auto first = pool.join({idx, name, std::nullopt, ip("ff3e::1")});
        if (!first.ok() && first.error().code == EAFNOSUPPORT)
            return "skip: no IPv6";
        CHECK_OR_REPORT(first.ok(), first.error().message);
        for (unsigned i = 2; i <= 1000; ++i)
            CHECK_OR_REPORT(pool.join({idx, name, std::nullopt, ip("ff3e::").plus(i)}).ok(), "v6 join");
        for (unsigned i = 1; i <= 100; ++i)
            CHECK_OR_REPORT(pool.join({idx, name, ip("2001:db8::").plus(i), ip("ff3e::1:0")}).ok(), "v6 ssm join");
        auto s = pool.stats(Family::inet6);
        CHECK_OR_REPORT(s.joins == 1100, "v6 joins");
        // optmem_max and mld_max_msf (64) bound a socket; still far fewer sockets than joins.
        CHECK_OR_REPORT(s.sockets >= 1 && s.sockets <= 10, "v6 sockets " + std::to_string(s.sockets));
        auto all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        CHECK_OR_REPORT(groups_on(*all, "mp0", Family::inet6) == 1001,
                        "kernel shows " + std::to_string(groups_on(*all, "mp0", Family::inet6)));
        for (unsigned i = 1; i <= 100; ++i)
            CHECK_OR_REPORT(pool.leave({idx, name, ip("2001:db8::").plus(i), ip("ff3e::1:0")}).ok(), "v6 ssm leave");
        for (unsigned i = 1; i <= 1000; ++i)
            CHECK_OR_REPORT(pool.leave({idx, name, std::nullopt, ip("ff3e::").plus(i)}).ok(), "v6 leave");
        CHECK_OR_REPORT(pool.stats(Family::inet6).sockets == 0, "v6 sockets left");
        return "";
    });
}

TEST(MembershipKernel, ErrorsAreClearAndLeakNothing)
{
    RUN_IN_NETNS([]() -> std::string {
        unsigned idx = make_veth("mp0", "mp1");
        if (idx == 0)
            return "skip: cannot create a veth pair";
        MembershipPool pool;
        // No such interface.
        auto st = pool.join({999, ifname("ghost0"), std::nullopt, ip("225.1.1.1")});
        CHECK_OR_REPORT(!st.ok() && st.error().code == ENODEV, "join on ifindex 999");
        CHECK_OR_REPORT(st.error().message == "join 225.1.1.1 on ghost0 (ifindex 999): No such device",
                        st.error().message);
        CHECK_OR_REPORT(pool.stats(Family::inet).sockets == 0, "socket kept after a failed first join");

        // A fresh socket refusing the first join is an error, not a socket loop.
        CHECK_OR_REPORT(write_sysctl("/proc/sys/net/ipv4/igmp_max_memberships", "0"), "sysctl");
        st = pool.join({idx, ifname("mp0"), std::nullopt, ip("225.1.1.1")});
        CHECK_OR_REPORT(!st.ok() && st.error().code == ENOBUFS, "join with igmp_max_memberships=0");
        CHECK_OR_REPORT(st.error().message.find("225.1.1.1 on mp0") != std::string::npos, st.error().message);
        CHECK_OR_REPORT(pool.stats(Family::inet).sockets == 0, "sockets after refusal");

        // Out of descriptors: a clear message with the limit.
        CHECK_OR_REPORT(write_sysctl("/proc/sys/net/ipv4/igmp_max_memberships", "2"), "sysctl");
        rlimit rl{};
        getrlimit(RLIMIT_NOFILE, &rl);
        int probe = dup(0);
        CHECK_OR_REPORT(probe >= 0, "dup");
        close(probe);
        rlimit low = rl;
        low.rlim_cur = static_cast<rlim_t>(probe) + 3;
        unsigned free_fds = 0; // descriptors below the limit still free
        for (int fd = 0; fd < probe + 3; ++fd)
            if (fcntl(fd, F_GETFD) < 0)
                ++free_fds;
        CHECK_OR_REPORT(free_fds >= 1, "no free descriptor");
        CHECK_OR_REPORT(setrlimit(RLIMIT_NOFILE, &low) == 0, "setrlimit");
        Status last;
        unsigned joined = 0;
        for (unsigned i = 0; i < 20; ++i) {
            last = pool.join({idx, ifname("mp0"), std::nullopt, v4_group(i)});
            if (!last.ok())
                break;
            ++joined;
        }
        setrlimit(RLIMIT_NOFILE, &rl);
        CHECK_OR_REPORT(joined == 2 * free_fds, "joined " + std::to_string(joined) + " before EMFILE, " +
                                                    std::to_string(free_fds) + " descriptors free");
        CHECK_OR_REPORT(!last.ok() && last.error().code == EMFILE, "no EMFILE");
        const std::string want = "cannot join " + v4_group(joined).str() + " on mp0 (ifindex " + std::to_string(idx) +
                                 "): too many open files (RLIMIT_NOFILE " + std::to_string(low.rlim_cur) + ")";
        CHECK_OR_REPORT(last.error().message == want, last.error().message);
        CHECK_OR_REPORT(pool.stats(Family::inet).sockets == free_fds, "sockets after EMFILE");
        return "";
    });
}

TEST(MembershipKernel, VanishedInterface)
{
    RUN_IN_NETNS([]() -> std::string {
        unsigned idx = make_veth("mp0", "mp1");
        unsigned other = make_veth("mq0", "mq1");
        if (idx == 0 || other == 0)
            return "skip: cannot create a veth pair";
        CHECK_OR_REPORT(write_sysctl("/proc/sys/net/ipv4/igmp_max_memberships", "20"), "sysctl");
        MembershipPool pool;
        const IfName name = ifname("mp0");
        for (unsigned i = 0; i < 40; ++i)
            CHECK_OR_REPORT(pool.join({idx, name, std::nullopt, v4_group(i)}).ok(), "join");
        for (unsigned i = 1; i <= 3; ++i)
            CHECK_OR_REPORT(pool.join({idx, name, ip("10.0.0.0").plus(i), ip("232.1.1.1")}).ok(), "ssm join");
        CHECK_OR_REPORT(pool.join({other, ifname("mq0"), std::nullopt, v4_group(0)}).ok(), "join other");
        CHECK_OR_REPORT(system("ip link del mp0") == 0, "ip link del");
        // A leave on the vanished interface succeeds (SSM ones included).
        CHECK_OR_REPORT(pool.leave({idx, name, std::nullopt, v4_group(0)}).ok(), "asm leave after del");
        CHECK_OR_REPORT(pool.leave({idx, name, ip("10.0.0.1"), ip("232.1.1.1")}).ok(), "ssm leave after del");
        pool.forget_interface(idx);
        auto s = pool.stats(Family::inet);
        CHECK_OR_REPORT(s.joins == 1, "joins after forget " + std::to_string(s.joins));
        CHECK_OR_REPORT(s.sockets == 1, "sockets after forget " + std::to_string(s.sockets));
        // The kernel slots are free again: 19 more fit on that one socket.
        for (unsigned i = 1; i < 20; ++i)
            CHECK_OR_REPORT(pool.join({other, ifname("mq0"), std::nullopt, v4_group(i)}).ok(), "join after forget");
        CHECK_OR_REPORT(pool.stats(Family::inet).sockets == 1, "stale kernel entries still count");
        return "";
    });
}

// An (ifindex, group) held both ASM and SSM: on different sockets, each
// joined and left on its own; joining either twice or leaving what was not
// joined is refused, and the kernel keeps what the other holds.
TEST(MembershipKernel, AsmAndSsmOfOneGroupAreSeparateJoins)
{
    RUN_IN_NETNS([]() -> std::string {
        unsigned idx = make_veth("mp0", "mp1");
        if (idx == 0)
            return "skip: cannot create a veth pair";
        MembershipPool pool;
        const IfName name = ifname("mp0");
        const Membership any((Membership{idx, name, std::nullopt, ip("232.1.1.1")}));
        const Membership from((Membership{idx, name, ip("10.0.0.1"), ip("232.1.1.1")}));
        auto st = pool.leave(any);
        CHECK_OR_REPORT(!st.ok() && st.error().code == EADDRNOTAVAIL, "leave before any join");
        CHECK_OR_REPORT(pool.join(from).ok(), "ssm join");
        st = pool.leave(any);
        CHECK_OR_REPORT(!st.ok() && st.error().code == EADDRNOTAVAIL, "ASM leave of an SSM-only group");
        CHECK_OR_REPORT(pool.join(any).ok(), "asm join beside the ssm one");
        st = pool.join(any);
        CHECK_OR_REPORT(!st.ok() && st.error().code == EADDRINUSE, "second asm join");
        st = pool.join(from);
        CHECK_OR_REPORT(!st.ok() && st.error().code == EADDRINUSE, "second ssm join");
        auto s = pool.stats(Family::inet);
        CHECK_OR_REPORT((s.joins == 2 && s.sockets == 2),
                        "joins " + std::to_string(s.joins) + ", sockets " + std::to_string(s.sockets));
        CHECK_OR_REPORT(pool.leave(any).ok(), "asm leave");
        auto all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        CHECK_OR_REPORT(groups_on(*all, "mp0", Family::inet) == 1, "the ssm join left the kernel with the asm one");
        CHECK_OR_REPORT(pool.stats(Family::inet).joins == 1, "joins after the asm leave");
        st = pool.leave(any);
        CHECK_OR_REPORT(!st.ok() && st.error().code == EADDRNOTAVAIL, "asm leave twice");
        CHECK_OR_REPORT(pool.leave(from).ok(), "ssm leave");
        s = pool.stats(Family::inet);
        CHECK_OR_REPORT((s.joins == 0 && s.sockets == 0), "left over: joins " + std::to_string(s.joins));
        return "";
    });
}

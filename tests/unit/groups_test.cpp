// Tests for runtime/groups: GroupManager over a fake MembershipKernel that
// keeps the set of kernel memberships and can be told to refuse one. Covers
// expansion, sharing between overlapping specs, pending joins and interfaces
// that come, go and come back, transactional rollback, exact-match leave,
// origins, views; then, as root in a private network namespace, the same
// over the real MembershipPool with a veth that appears, vanishes, returns.
#include "smcroute/runtime/groups.hpp"
#include "smcroute/os/kernel_groups.hpp"

#include <gtest/gtest.h>

#include "fake_membership.hpp"
#include "netns_child.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <tuple>

using namespace smcroute;

namespace {

IpAddr ip(const char* text)
{
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddr{});
}

JoinSpec join(const char* iif, const char* source, const char* group)
{
    auto c = check_join(JoinText{iif, source, group});
    EXPECT_TRUE(c.value.has_value()) << iif << " " << source << " " << group;
    return c.value.value_or(JoinSpec{});
}

using FakeKernel = test::FakeMembership;

Interface make_if(const char* name, unsigned index)
{
    Interface i;
    i.name = *IfName::parse(name);
    i.index = index;
    i.flags = IFF_UP | IFF_MULTICAST;
    return i;
}

std::map<unsigned, Interface> ifaces(std::initializer_list<Interface> list)
{
    std::map<unsigned, Interface> m;
    for (const auto& i : list)
        m[i.index] = i;
    return m;
}

struct Fixture : ::testing::Test {
    Logger log;
    FakeKernel kernel;
    GroupManager groups{log, kernel};

    Fixture() { log.set_level(LogLevel::none); }

    std::vector<JoinView> views() const
    {
        std::vector<JoinView> out;
        groups.for_each_join([&](const JoinView& v) { out.push_back(v); });
        return out;
    }
};

using Groups = Fixture;

} // namespace

TEST_F(Groups, AsmRangeExpandsPerAddressAndLeaves)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.2.0/30"), Origin::client).ok());
    EXPECT_EQ(kernel.held.size(), 4u);
    for (const char* g : {"225.1.2.0", "225.1.2.1", "225.1.2.2", "225.1.2.3"})
        EXPECT_TRUE(kernel.has(2, std::nullopt, ip(g))) << g;
    auto v = views();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_TRUE(v[0].active);
    EXPECT_EQ(v[0].ifaces, std::vector<std::string>{"eth0"});
    EXPECT_EQ(v[0].addresses, 4u);
    EXPECT_EQ(v[0].origin, Origin::client);
    EXPECT_EQ(v[0].pending_reason, "");
    std::vector<std::string> detail;
    groups.for_each_membership(join("eth0", "", "225.1.2.0/30"),
                               [&](const Membership& m) { detail.push_back(m.str()); });
    EXPECT_EQ(detail, (std::vector<std::string>{"225.1.2.0 on eth0 (ifindex 2)", "225.1.2.1 on eth0 (ifindex 2)",
                                                "225.1.2.2 on eth0 (ifindex 2)", "225.1.2.3 on eth0 (ifindex 2)"}));
    ASSERT_TRUE(groups.remove(join("eth0", "", "225.1.2.0/30")).ok());
    EXPECT_TRUE(kernel.held.empty());
    EXPECT_EQ(groups.size(), 0u);
}

TEST_F(Groups, SsmSourceAndGroupRanges)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth0", "10.0.0.0/31", "232.1.1.0/31"), Origin::config).ok());
    EXPECT_EQ(kernel.held.size(), 4u);
    EXPECT_TRUE(kernel.has(2, ip("10.0.0.1"), ip("232.1.1.0")));
    EXPECT_TRUE(kernel.has(2, ip("10.0.0.0"), ip("232.1.1.1")));
    EXPECT_FALSE(kernel.has(2, std::nullopt, ip("232.1.1.0")));
    ASSERT_TRUE(groups.add(join("eth0", "2001:db8::1", "ff3e::8"), Origin::config).ok());
    EXPECT_TRUE(kernel.has(2, ip("2001:db8::1"), ip("ff3e::8")));
    ASSERT_TRUE(groups.remove(join("eth0", "2001:db8::1", "ff3e::8")).ok());
    ASSERT_TRUE(groups.remove(join("eth0", "10.0.0.0/31", "232.1.1.0/31")).ok());
    EXPECT_TRUE(kernel.held.empty());
}

TEST_F(Groups, LeaveMustMatchExactly)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.0/30"), Origin::client).ok());
    ASSERT_TRUE(groups.add(join("eth0", "10.0.0.1", "232.1.1.1"), Origin::client).ok());
    auto st = groups.remove(join("eth0", "", "225.1.1.0/29"));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, EADDRNOTAVAIL);
    EXPECT_EQ(st.error().message, "not joined: (*, 225.1.1.0/29) on eth0");
    EXPECT_FALSE(groups.remove(join("eth0", "", "225.1.1.1")).ok());   // inside the range, not the spec
    EXPECT_FALSE(groups.remove(join("eth1", "", "225.1.1.0/30")).ok()); // other interface
    EXPECT_FALSE(groups.remove(join("eth0", "", "232.1.1.1")).ok());   // ASM vs SSM
    EXPECT_FALSE(groups.remove(join("eth0", "10.0.0.2", "232.1.1.1")).ok());
    EXPECT_EQ(kernel.held.size(), 5u);
    EXPECT_TRUE(groups.remove(join("eth0", "10.0.0.1", "232.1.1.1")).ok());
    EXPECT_FALSE(groups.remove(join("eth0", "10.0.0.1", "232.1.1.1")).ok()); // twice
}

TEST_F(Groups, SameSpecTwiceIsRefused)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.1"), Origin::config).ok());
    auto st = groups.add(join("eth0", "", "225.1.1.1"), Origin::client);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, EADDRINUSE);
    EXPECT_EQ(st.error().message, "already joined: (*, 225.1.1.1) on eth0");
    EXPECT_EQ(kernel.joins, 1u);
    ASSERT_EQ(views().size(), 1u);
    EXPECT_EQ(views()[0].origin, Origin::config);
}

TEST_F(Groups, OverlappingSpecsShareKernelJoins)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.0/30"), Origin::config).ok());
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.1"), Origin::client).ok());
    EXPECT_EQ(kernel.joins, 4u); // 225.1.1.1 joined once
    ASSERT_TRUE(groups.remove(join("eth0", "", "225.1.1.0/30")).ok());
    EXPECT_EQ(kernel.held.size(), 1u);
    EXPECT_TRUE(kernel.has(2, std::nullopt, ip("225.1.1.1")));
    ASSERT_TRUE(groups.remove(join("eth0", "", "225.1.1.1")).ok());
    EXPECT_TRUE(kernel.held.empty());
}

TEST_F(Groups, TransactionalRollback)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.3"), Origin::config).ok()); // shared, must survive
    kernel.refuse = FakeKernel::Key{2, std::nullopt, ip("225.1.1.9")};
    auto st = groups.add(join("eth0", "", "225.1.1.0/28"), Origin::client);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, "join 225.1.1.9 on eth0 (ifindex 2): No buffer space available");
    EXPECT_EQ(kernel.held.size(), 1u);
    EXPECT_TRUE(kernel.has(2, std::nullopt, ip("225.1.1.3")));
    EXPECT_FALSE(groups.contains(join("eth0", "", "225.1.1.0/28")));
    EXPECT_FALSE(groups.remove(join("eth0", "", "225.1.1.0/28")).ok());
    // The survivor's reference count is intact: removing it leaves the kernel empty.
    ASSERT_TRUE(groups.remove(join("eth0", "", "225.1.1.3")).ok());
    EXPECT_TRUE(kernel.held.empty());
    // Once the kernel accepts, the same add works.
    kernel.refuse.reset();
    EXPECT_TRUE(groups.add(join("eth0", "", "225.1.1.0/28"), Origin::client).ok());
    EXPECT_EQ(kernel.held.size(), 16u);
}

TEST_F(Groups, WildcardRollbackAcrossInterfaces)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2), make_if("eth1", 3), make_if("lo", 1)}));
    kernel.refuse = FakeKernel::Key{3, std::nullopt, ip("225.1.1.2")};
    auto st = groups.add(join("eth+", "", "225.1.1.0/30"), Origin::client);
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(kernel.held.empty());
    kernel.refuse.reset();
    ASSERT_TRUE(groups.add(join("eth+", "", "225.1.1.0/30"), Origin::client).ok());
    EXPECT_EQ(kernel.on(2), 4u);
    EXPECT_EQ(kernel.on(3), 4u);
    EXPECT_EQ(kernel.on(1), 0u);
    // A new matching interface gets it too.
    groups.set_interfaces(ifaces({make_if("eth0", 2), make_if("eth1", 3), make_if("lo", 1), make_if("eth2", 4)}));
    EXPECT_EQ(kernel.on(4), 4u);
    auto v = views();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].ifaces, (std::vector<std::string>{"eth0", "eth1", "eth2"}));
}

TEST_F(Groups, PendingUntilInterfaceAppears)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    EXPECT_FALSE(groups.has_interface("eth1"));
    ASSERT_TRUE(groups.add(join("eth1", "", "225.1.1.0/31"), Origin::config).ok());
    ASSERT_TRUE(groups.add(join("vlan+", "", "225.9.9.9"), Origin::config).ok());
    EXPECT_TRUE(kernel.held.empty());
    auto v = views();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_FALSE(v[0].active);
    EXPECT_EQ(v[0].pending_reason, "interface eth1 does not exist");
    EXPECT_EQ(v[1].pending_reason, "no interface matches vlan+");
    // Appears through a link event.
    LinkEvent ev;
    ev.iface = make_if("eth1", 7);
    groups.link_event(ev);
    EXPECT_TRUE(groups.has_interface("eth1"));
    EXPECT_TRUE(kernel.has(7, std::nullopt, ip("225.1.1.0")));
    EXPECT_TRUE(kernel.has(7, std::nullopt, ip("225.1.1.1")));
    v = views();
    EXPECT_TRUE(v[0].active);
    EXPECT_EQ(v[0].pending_reason, "");
    EXPECT_FALSE(v[1].active);
    // Leaving a pending join works and touches no kernel state.
    size_t leaves = kernel.leaves;
    EXPECT_TRUE(groups.remove(join("vlan+", "", "225.9.9.9")).ok());
    EXPECT_EQ(kernel.leaves, leaves);
}

TEST_F(Groups, InterfaceGoneThenBackWithNewIndex)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2), make_if("eth1", 3)}));
    ASSERT_TRUE(groups.add(join("eth1", "10.0.0.1", "232.1.1.1"), Origin::config).ok());
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.1"), Origin::config).ok());
    EXPECT_TRUE(kernel.has(3, ip("10.0.0.1"), ip("232.1.1.1")));

    LinkEvent gone;
    gone.kind = LinkEvent::Kind::removed;
    gone.iface = make_if("eth1", 3);
    groups.link_event(gone);
    EXPECT_EQ(kernel.forgotten, std::vector<unsigned>{3});
    EXPECT_EQ(kernel.on(3), 0u);
    EXPECT_TRUE(kernel.has(2, std::nullopt, ip("225.1.1.1"))); // others untouched
    auto v = views();
    ASSERT_EQ(v.size(), 2u);
    // Views are in key order: eth0 first.
    EXPECT_EQ(v[0].spec->iif.view(), "eth0");
    EXPECT_TRUE(v[0].active);
    EXPECT_EQ(v[1].spec->iif.view(), "eth1");
    EXPECT_FALSE(v[1].active);
    EXPECT_EQ(v[1].pending_reason, "interface eth1 does not exist");

    groups.set_interfaces(ifaces({make_if("eth0", 2), make_if("eth1", 9)}));
    EXPECT_TRUE(kernel.has(9, ip("10.0.0.1"), ip("232.1.1.1")));
    EXPECT_EQ(kernel.held.size(), 2u);
    // Leaving now leaves on the new index.
    ASSERT_TRUE(groups.remove(join("eth1", "10.0.0.1", "232.1.1.1")).ok());
    EXPECT_EQ(kernel.on(9), 0u);
}

TEST_F(Groups, RenamedInterfaceMovesJoins)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.1"), Origin::config).ok());
    ASSERT_TRUE(groups.add(join("wan", "", "225.2.2.2"), Origin::config).ok());
    groups.set_interfaces(ifaces({make_if("wan", 2)}));
    EXPECT_FALSE(kernel.has(2, std::nullopt, ip("225.1.1.1")));
    EXPECT_TRUE(kernel.has(2, std::nullopt, ip("225.2.2.2")));
    EXPECT_EQ(kernel.held.size(), 1u);
}

TEST_F(Groups, FailedActivationStaysPendingAndRetriesOnChange)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth1", "", "225.1.1.0/31"), Origin::config).ok());
    kernel.refuse = FakeKernel::Key{5, std::nullopt, ip("225.1.1.1")};
    groups.set_interfaces(ifaces({make_if("eth0", 2), make_if("eth1", 5)}));
    EXPECT_TRUE(kernel.held.empty()); // rolled back
    auto v = views();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_FALSE(v[0].active);
    EXPECT_EQ(v[0].pending_reason, "join 225.1.1.1 on eth1 (ifindex 5): No buffer space available");
    kernel.refuse.reset();
    Interface down = make_if("eth1", 5);
    down.flags = IFF_MULTICAST; // a flags change is a new chance
    groups.set_interfaces(ifaces({make_if("eth0", 2), down}));
    EXPECT_EQ(kernel.on(5), 2u);
    EXPECT_TRUE(views()[0].active);
}

TEST_F(Groups, RemoveOriginAndClear)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.1"), Origin::config).ok());
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.2"), Origin::client).ok());
    ASSERT_TRUE(groups.add(join("eth0", "", "225.1.1.0/30"), Origin::client).ok());
    ASSERT_TRUE(groups.add(join("eth9", "", "225.1.1.7"), Origin::client).ok()); // pending
    groups.remove_origin(Origin::client);
    EXPECT_EQ(groups.size(), 1u);
    EXPECT_EQ(kernel.held.size(), 1u);
    EXPECT_TRUE(kernel.has(2, std::nullopt, ip("225.1.1.1")));
    groups.clear();
    EXPECT_EQ(groups.size(), 0u);
    EXPECT_TRUE(kernel.held.empty());
}

TEST_F(Groups, ThousandJoinsLinear)
{
    groups.set_interfaces(ifaces({make_if("eth0", 2)}));
    for (unsigned i = 0; i < 1000; ++i) {
        JoinSpec s;
        s.iif = *IfName::parse("eth0");
        s.group = Prefix::host(ip("225.1.0.0").plus(i));
        ASSERT_TRUE(groups.add(s, Origin::config).ok());
    }
    ASSERT_TRUE(groups.add(join("eth0", "", "226.0.0.0/22"), Origin::config).ok()); // 1024, the default limit
    EXPECT_EQ(kernel.held.size(), 2024u);
    groups.clear();
    EXPECT_TRUE(kernel.held.empty());
}

// ---- GroupManager over the real MembershipPool: root, private netns --------

namespace {



Result<std::map<unsigned, Interface>> system_interfaces()
{
    auto list = list_interfaces();
    if (!list)
        return list.take_error();
    std::map<unsigned, Interface> m;
    for (const auto& i : *list)
        m[i.index] = i;
    return m;
}

size_t kernel_groups_on(const char* ifname)
{
    auto all = read_kernel_memberships();
    if (!all)
        return 0;
    size_t n = 0;
    for (const auto& m : *all)
        if (m.ifname == ifname && !m.group.is_link_local_multicast() && m.group.bytes()[1] != 0x01)
            n += m.mode == FilterMode::include ? m.sources.size() : 1;
    return n;
}

} // namespace

TEST(GroupsKernel, PendingAppliedRenewedAndRolledBack)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root";
    std::string report = in_netns([]() -> std::string {
        std::ofstream("/proc/sys/net/ipv4/igmp_max_memberships") << "20";
        Logger log;
        log.set_level(LogLevel::none);
        MembershipPool pool;
        GroupManager groups(log, pool);
        auto ifs = system_interfaces();
        CHECK_OR_REPORT(ifs.ok(), ifs.error().message);
        groups.set_interfaces(*ifs);

        // Pending: gk0 does not exist yet.
        CHECK_OR_REPORT(groups.add(join("gk0", "", "225.3.0.0/24"), Origin::config).ok(), "add pending");
        CHECK_OR_REPORT(groups.add(join("gk0", "10.0.0.1", "232.3.3.3"), Origin::config).ok(), "add pending ssm");
        CHECK_OR_REPORT(pool.stats(Family::inet).joins == 0, "joined before the interface exists");
        if (system("ip link add gk0 type veth peer name gk1 && ip link set gk0 up") != 0)
            return "skip: cannot create a veth pair";
        ifs = system_interfaces();
        CHECK_OR_REPORT(ifs.ok(), ifs.error().message);
        groups.set_interfaces(*ifs);
        CHECK_OR_REPORT(pool.stats(Family::inet).joins == 257, "not applied when the interface appeared");
        CHECK_OR_REPORT(kernel_groups_on("gk0") == 257, "kernel: " + std::to_string(kernel_groups_on("gk0")));

        // Gone: pending again, sockets released; back (new ifindex): renewed.
        CHECK_OR_REPORT(system("ip link del gk0") == 0, "ip link del");
        ifs = system_interfaces();
        CHECK_OR_REPORT(ifs.ok(), ifs.error().message);
        groups.set_interfaces(*ifs);
        CHECK_OR_REPORT(pool.stats(Family::inet).joins == 0 && pool.stats(Family::inet).sockets == 0,
                        "pool still holds joins of a vanished interface");
        bool pending = false;
        groups.for_each_join([&](const JoinView& v) { pending = pending || !v.active; });
        CHECK_OR_REPORT(pending, "not pending after the interface vanished");
        CHECK_OR_REPORT(system("ip link add gk0 type veth peer name gk1 && ip link set gk0 up") == 0, "re-add");
        ifs = system_interfaces();
        CHECK_OR_REPORT(ifs.ok(), ifs.error().message);
        groups.set_interfaces(*ifs);
        CHECK_OR_REPORT(pool.stats(Family::inet).joins == 257, "not renewed");
        CHECK_OR_REPORT(kernel_groups_on("gk0") == 257, "kernel after renew");

        // Rollback: with room for only 2 more sockets (40 joins), a /26 (64) fails
        // and leaves nothing behind.
        rlimit rl{};
        getrlimit(RLIMIT_NOFILE, &rl);
        int probe = dup(0);
        close(probe);
        rlimit low = rl;
        low.rlim_cur = static_cast<rlim_t>(probe);
        unsigned free_fds = 0;
        // Keep exactly two descriptors free below the limit.
        for (int fd = 0; fd < probe + 64 && free_fds < 2; ++fd)
            if (fcntl(fd, F_GETFD) < 0) {
                ++free_fds;
                low.rlim_cur = static_cast<rlim_t>(fd) + 1;
            }
        setrlimit(RLIMIT_NOFILE, &low);
        auto st = groups.add(join("gk0", "", "226.0.0.0/26"), Origin::client);
        setrlimit(RLIMIT_NOFILE, &rl);
        CHECK_OR_REPORT(!st.ok() && st.error().code == EMFILE, "range add did not fail with EMFILE");
        CHECK_OR_REPORT(!groups.contains(join("gk0", "", "226.0.0.0/26")), "failed spec kept");
        CHECK_OR_REPORT(pool.stats(Family::inet).joins == 257, "rollback left joins");
        CHECK_OR_REPORT(kernel_groups_on("gk0") == 257, "kernel after rollback");

        groups.clear();
        CHECK_OR_REPORT(pool.stats(Family::inet).joins == 0 && pool.stats(Family::inet).sockets == 0, "clear");
        CHECK_OR_REPORT(kernel_groups_on("gk0") == 0, "kernel after clear");
        return "";
    });
    if (report.rfind("skip:", 0) == 0)
        GTEST_SKIP() << report;
    EXPECT_EQ(report, "");
}

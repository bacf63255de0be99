// Tests for os/kernel_groups: the /proc/net parsers on text captured from a
// real kernel (6.x, x86_64) with ASM, SSM and blocked-source (EXCLUDE) joins
// of both families, damaged input, and - as root in a private network
// namespace - the live files after joins made through MembershipPool.
#include "smcroute/os/kernel_groups.hpp"
#include "smcroute/os/membership.hpp"

#include <gtest/gtest.h>

#include "netns_child.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

using namespace smcroute;

namespace {

IpAddr ip(const char* text)
{
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddr{});
}

// Captured in `unshare -n` after: veth va <-> longinterface15 (15 bytes);
// on va ASM 225.1.2.3, SSM (10.0.0.1|10.0.0.2, 232.1.2.3), ASM ff3e::1:2:3,
// SSM (2001:db8::1, ff3e::4:5:6); on longinterface15 ASM 239.255.0.1 with
// MCAST_BLOCK_SOURCE 192.168.1.9 and ASM ff05::7 blocking 2001:db8::9.
const char* const igmp_sample =
    "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
    "2\tlonginterface15:     2      V3\n"
    "\t\t\t\t0100FFEF     1 0:00000000\t\t0\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
    "3\tva        :     3      V3\n"
    "\t\t\t\t030201E8     1 0:00000000\t\t0\n"
    "\t\t\t\t030201E1     1 0:00000000\t\t0\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n";

const char* const igmp6_sample =
    "1    lo              ff020000000000000000000000000001     1 0000000C 0\n"
    "1    lo              ff010000000000000000000000000001     1 00000008 0\n"
    "2    longinterface15 ff050000000000000000000000000007     1 00000004 0\n"
    "2    longinterface15 ff020000000000000000000000000001     1 0000000C 0\n"
    "2    longinterface15 ff010000000000000000000000000001     1 00000008 0\n"
    "3    va              ff3e0000000000000000000400050006     1 00000004 0\n"
    "3    va              ff3e0000000000000000000100020003     1 00000004 0\n"
    "3    va              ff020000000000000000000000000001     1 0000000C 0\n"
    "3    va              ff010000000000000000000000000001     1 00000008 0\n";

const char* const mcfilter_sample = "Idx Device        MCA        SRC    INC    EXC\n"
                                    "  2 longin 0xefff0001 0xc0a80109      0      1\n"
                                    "  3     va 0xe8010203 0x0a000001      1      0\n"
                                    "  3     va 0xe8010203 0x0a000002      1      0\n";

const char* const mcfilter6_sample =
    "Idx Device                Multicast Address                   Source Address    INC    EXC\n"
    "  2 longin ff050000000000000000000000000007 20010db8000000000000000000000009      0      1\n"
    "  3     va ff3e0000000000000000000400050006 20010db8000000000000000000000001      1      0\n";

bool little_endian()
{
    uint16_t x = 1;
    return *reinterpret_cast<uint8_t*>(&x) == 1;
}

const KernelMembership* find(const std::vector<KernelMembership>& all, std::string_view ifname, const IpAddr& g)
{
    for (const auto& m : all)
        if (m.ifname == ifname && m.group == g)
            return &m;
    return nullptr;
}

} // namespace

TEST(KernelGroups, ParseIgmpHostOrderHex)
{
    if (!little_endian())
        GTEST_SKIP() << "sample captured on a little-endian host";
    auto g = parse_proc_igmp(igmp_sample);
    ASSERT_EQ(g.size(), 5u);
    EXPECT_EQ(g[0].ifindex, 2u);
    EXPECT_EQ(g[0].ifname, "longinterface15");
    EXPECT_EQ(g[0].group, ip("239.255.0.1"));
    EXPECT_EQ(g[0].users, 1u);
    EXPECT_EQ(g[1].group, ip("224.0.0.1"));
    EXPECT_EQ(g[2].ifindex, 3u);
    EXPECT_EQ(g[2].ifname, "va");
    EXPECT_EQ(g[2].group, ip("232.1.2.3"));
    EXPECT_EQ(g[3].group, ip("225.1.2.3"));
    EXPECT_EQ(g[4].group, ip("224.0.0.1"));
}

TEST(KernelGroups, ParseIgmp6)
{
    auto g = parse_proc_igmp6(igmp6_sample);
    ASSERT_EQ(g.size(), 9u);
    EXPECT_EQ(g[0].ifindex, 1u);
    EXPECT_EQ(g[0].ifname, "lo");
    EXPECT_EQ(g[0].group, ip("ff02::1"));
    EXPECT_EQ(g[2].ifname, "longinterface15");
    EXPECT_EQ(g[2].group, ip("ff05::7"));
    EXPECT_EQ(g[5].ifindex, 3u);
    EXPECT_EQ(g[5].group, ip("ff3e::4:5:6"));
    EXPECT_EQ(g[6].group, ip("ff3e::1:2:3"));
    EXPECT_EQ(g[6].users, 1u);
}

TEST(KernelGroups, ParseMcfilterNetworkOrderHex)
{
    auto s = parse_proc_mcfilter(mcfilter_sample);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].ifindex, 2u);
    EXPECT_EQ(s[0].group, ip("239.255.0.1"));
    EXPECT_EQ(s[0].source, ip("192.168.1.9"));
    EXPECT_EQ(s[0].include, 0u);
    EXPECT_EQ(s[0].exclude, 1u);
    EXPECT_EQ(s[1].ifindex, 3u);
    EXPECT_EQ(s[1].group, ip("232.1.2.3"));
    EXPECT_EQ(s[1].source, ip("10.0.0.1"));
    EXPECT_EQ(s[1].include, 1u);
    EXPECT_EQ(s[2].source, ip("10.0.0.2"));
}

TEST(KernelGroups, ParseMcfilter6)
{
    auto s = parse_proc_mcfilter6(mcfilter6_sample);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].group, ip("ff05::7"));
    EXPECT_EQ(s[0].source, ip("2001:db8::9"));
    EXPECT_EQ(s[0].exclude, 1u);
    EXPECT_EQ(s[1].ifindex, 3u);
    EXPECT_EQ(s[1].group, ip("ff3e::4:5:6"));
    EXPECT_EQ(s[1].source, ip("2001:db8::1"));
    EXPECT_EQ(s[1].include, 1u);
}

TEST(KernelGroups, MergeModes)
{
    if (!little_endian())
        GTEST_SKIP() << "sample captured on a little-endian host";
    auto v4 = merge_memberships(parse_proc_igmp(igmp_sample), parse_proc_mcfilter(mcfilter_sample));
    ASSERT_EQ(v4.size(), 5u);
    const auto* asm_ = find(v4, "va", ip("225.1.2.3"));
    ASSERT_TRUE(asm_);
    EXPECT_EQ(asm_->mode, FilterMode::exclude);
    EXPECT_TRUE(asm_->sources.empty());
    const auto* ssm = find(v4, "va", ip("232.1.2.3"));
    ASSERT_TRUE(ssm);
    EXPECT_EQ(ssm->mode, FilterMode::include);
    EXPECT_EQ(ssm->sources, (std::vector<IpAddr>{ip("10.0.0.1"), ip("10.0.0.2")}));
    const auto* blocked = find(v4, "longinterface15", ip("239.255.0.1"));
    ASSERT_TRUE(blocked);
    EXPECT_EQ(blocked->mode, FilterMode::exclude);
    EXPECT_EQ(blocked->sources, std::vector<IpAddr>{ip("192.168.1.9")});

    auto v6 = merge_memberships(parse_proc_igmp6(igmp6_sample), parse_proc_mcfilter6(mcfilter6_sample));
    ASSERT_EQ(v6.size(), 9u);
    const auto* s6 = find(v6, "va", ip("ff3e::4:5:6"));
    ASSERT_TRUE(s6);
    EXPECT_EQ(s6->mode, FilterMode::include);
    EXPECT_EQ(s6->sources, std::vector<IpAddr>{ip("2001:db8::1")});
    const auto* a6 = find(v6, "va", ip("ff3e::1:2:3"));
    ASSERT_TRUE(a6);
    EXPECT_EQ(a6->mode, FilterMode::exclude);
    EXPECT_TRUE(a6->sources.empty());
    const auto* b6 = find(v6, "longinterface15", ip("ff05::7"));
    ASSERT_TRUE(b6);
    EXPECT_EQ(b6->mode, FilterMode::exclude);
    EXPECT_EQ(b6->sources, std::vector<IpAddr>{ip("2001:db8::9")});
    EXPECT_EQ(filter_mode_name(FilterMode::include), "include");
    EXPECT_EQ(filter_mode_name(FilterMode::exclude), "exclude");
}

TEST(KernelGroups, DamagedInputIsSkipped)
{
    EXPECT_TRUE(parse_proc_igmp("").empty());
    EXPECT_TRUE(parse_proc_igmp("\t\t\t\t010000E0     1 0:00000000\t\t0\n").empty()); // group before any device
    EXPECT_TRUE(parse_proc_igmp("3\tva        :     3      V3\n\t\t\t\tZZ0000E0     1 0\n").empty());
    EXPECT_TRUE(parse_proc_igmp("3\tva        :     3      V3\n\t\t\t\t0100E0     1 0\n").empty()); // short hex
    EXPECT_TRUE(parse_proc_igmp6("3 va ff02::1 1 0 0\n").empty());
    EXPECT_TRUE(parse_proc_igmp6("x va ff020000000000000000000000000001 1 0 0\n").empty());
    EXPECT_TRUE(parse_proc_mcfilter("  3 va 0xe8010203 0x0a000001 1\n").empty());
    EXPECT_TRUE(parse_proc_mcfilter6("  3 va ff3e00 20010db8 1 0\n").empty());
    // Truncated last line without newline is still read when complete.
    auto s = parse_proc_mcfilter("  3     va 0xe8010203 0x0a000001      1      0");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].source, ip("10.0.0.1"));
}

TEST(KernelGroups, ReadFromDirectory)
{
    if (!little_endian())
        GTEST_SKIP() << "sample captured on a little-endian host";
    char tmpl[] = "/tmp/kgroupsXXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    std::string dir = tmpl;
    auto write = [&](const char* name, const char* text) {
        FILE* f = fopen((dir + "/" + name).c_str(), "w");
        ASSERT_TRUE(f);
        fputs(text, f);
        fclose(f);
    };
    // No igmp file at all: error naming it.
    auto none = read_kernel_memberships(dir);
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().message.find(dir + "/igmp"), std::string::npos) << none.error().message;
    // IPv4 only (no IPv6 in the kernel).
    write("igmp", igmp_sample);
    write("mcfilter", mcfilter_sample);
    auto v4 = read_kernel_memberships(dir);
    ASSERT_TRUE(v4.ok()) << v4.error().message;
    EXPECT_EQ(v4->size(), 5u);
    write("igmp6", igmp6_sample);
    write("mcfilter6", mcfilter6_sample);
    auto both = read_kernel_memberships(dir);
    ASSERT_TRUE(both.ok());
    EXPECT_EQ(both->size(), 14u);
    EXPECT_EQ(both->front().group.family(), Family::inet);
    EXPECT_EQ(both->back().group.family(), Family::inet6);
    for (const char* n : {"igmp", "mcfilter", "igmp6", "mcfilter6"})
        unlink((dir + "/" + n).c_str());
    rmdir(dir.c_str());
}

// ---- live kernel: root, private network namespace --------------------------

namespace {



} // namespace

TEST(KernelGroupsKernel, LiveFilesShowPoolJoins)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root";
    std::string report = in_netns([]() -> std::string {
        if (system("ip link add kg0 type veth peer name kg1 && ip link set kg0 up && ip link set kg1 up") != 0)
            return "skip: cannot create a veth pair";
        unsigned idx = if_nametoindex("kg0");
        CHECK_OR_REPORT(idx != 0, "no kg0");
        IfName name = *IfName::parse("kg0");
        MembershipPool pool;
        CHECK_OR_REPORT(pool.join({idx, name, std::nullopt, ip("225.9.8.7")}).ok(), "asm join");
        CHECK_OR_REPORT(pool.join({idx, name, ip("10.1.1.1"), ip("232.9.8.7")}).ok(), "ssm join 1");
        CHECK_OR_REPORT(pool.join({idx, name, ip("10.1.1.2"), ip("232.9.8.7")}).ok(), "ssm join 2");
        bool v6 = pool.join({idx, name, std::nullopt, ip("ff3e::9:8:7")}).ok();
        if (v6)
            CHECK_OR_REPORT(pool.join({idx, name, ip("2001:db8::5"), ip("ff3e::9:8:8")}).ok(), "ssm6 join");

        auto all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        const auto* a = find(*all, "kg0", ip("225.9.8.7"));
        CHECK_OR_REPORT(a && a->ifindex == idx && a->mode == FilterMode::exclude && a->sources.empty(), "asm entry");
        const auto* s = find(*all, "kg0", ip("232.9.8.7"));
        CHECK_OR_REPORT(s && s->mode == FilterMode::include &&
                            s->sources == (std::vector<IpAddr>{ip("10.1.1.1"), ip("10.1.1.2")}),
                        "ssm entry");
        if (v6) {
            const auto* a6 = find(*all, "kg0", ip("ff3e::9:8:7"));
            CHECK_OR_REPORT(a6 && a6->mode == FilterMode::exclude && a6->sources.empty(), "asm6 entry");
            const auto* s6 = find(*all, "kg0", ip("ff3e::9:8:8"));
            CHECK_OR_REPORT(s6 && s6->mode == FilterMode::include &&
                                s6->sources == std::vector<IpAddr>{ip("2001:db8::5")},
                            "ssm6 entry");
        }
        CHECK_OR_REPORT(pool.leave({idx, name, ip("10.1.1.1"), ip("232.9.8.7")}).ok(), "ssm leave");
        all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        s = find(*all, "kg0", ip("232.9.8.7"));
        CHECK_OR_REPORT(s && s->sources == std::vector<IpAddr>{ip("10.1.1.2")}, "one source left");
        pool.clear();
        all = read_kernel_memberships();
        CHECK_OR_REPORT(all.ok(), all.error().message);
        CHECK_OR_REPORT(!find(*all, "kg0", ip("225.9.8.7")) && !find(*all, "kg0", ip("232.9.8.7")) &&
                            !find(*all, "kg0", ip("ff3e::9:8:7")),
                        "left after clear");
        return "";
    });
    if (report.rfind("skip:", 0) == 0)
        GTEST_SKIP() << report;
    EXPECT_EQ(report, "");
}

// Tests for os/mroute: the upcall decoder on crafted, truncated and random
// bytes (no privileges), and the real kernel API inside a private network
// namespace when run as root (skipped otherwise).
#include "smcroute/os/mroute.hpp"

#include "smcroute/model/group_packet.hpp"
#include "smcroute/model/mrdisc_packet.hpp"

#include <gtest/gtest.h>

#include "netns_child.hpp"

#include <arpa/inet.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace smcroute;

namespace {

IpAddr ip(const char* text)
{
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddr{});
}

// struct igmpmsg, laid out by hand: 8 bytes unused, msgtype, mbz, vif, vif_hi,
// src (4), dst (4) = 20 bytes, then whatever the kernel appends.
std::vector<uint8_t> v4_upcall(uint8_t msgtype, uint16_t vif, const char* src, const char* dst,
                               size_t extra = 0)
{
    std::vector<uint8_t> b(20 + extra, 0xee);
    std::memset(b.data(), 0x45, 8);
    b[8] = msgtype;
    b[9] = 0; // mbz
    b[10] = static_cast<uint8_t>(vif & 0xff);
    b[11] = static_cast<uint8_t>(vif >> 8);
    in_addr s{}, d{};
    EXPECT_EQ(inet_pton(AF_INET, src, &s), 1);
    EXPECT_EQ(inet_pton(AF_INET, dst, &d), 1);
    std::memcpy(&b[12], &s, 4);
    std::memcpy(&b[16], &d, 4);
    return b;
}

// struct mrt6msg by hand: mbz, msgtype, mif (host order u16), pad (4),
// src (16), dst (16) = 40 bytes.
std::vector<uint8_t> v6_upcall(uint8_t msgtype, uint16_t mif, const char* src, const char* dst,
                               size_t extra = 0)
{
    std::vector<uint8_t> b(40 + extra, 0xee);
    b[0] = 0;
    b[1] = msgtype;
    std::memcpy(&b[2], &mif, 2);
    std::memset(&b[4], 0, 4);
    in6_addr s{}, d{};
    EXPECT_EQ(inet_pton(AF_INET6, src, &s), 1);
    EXPECT_EQ(inet_pton(AF_INET6, dst, &d), 1);
    std::memcpy(&b[8], &s, 16);
    std::memcpy(&b[24], &d, 16);
    return b;
}

std::optional<Upcall> decode(Family f, const std::vector<uint8_t>& b, size_t len)
{
    return decode_upcall(f, std::span<const uint8_t>(b.data(), len));
}
std::optional<Upcall> decode(Family f, const std::vector<uint8_t>& b)
{
    return decode(f, b, b.size());
}

} // namespace

TEST(DecodeUpcall, Ipv4Kinds)
{
    struct Case {
        uint8_t type;
        Upcall::Kind kind;
    } cases[] = {{1, Upcall::Kind::nocache},
                 {2, Upcall::Kind::wrongvif},
                 {3, Upcall::Kind::wholepkt},
                 {4, Upcall::Kind::other},
                 {0, Upcall::Kind::other},
                 {255, Upcall::Kind::other}};
    for (const auto& c : cases) {
        auto up = decode(Family::inet, v4_upcall(c.type, 3, "10.0.0.1", "225.1.2.3"));
        ASSERT_TRUE(up) << int(c.type);
        EXPECT_EQ(up->kind, c.kind) << int(c.type);
        EXPECT_EQ(up->vif, 3u);
        EXPECT_EQ(up->source, ip("10.0.0.1"));
        EXPECT_EQ(up->group, ip("225.1.2.3"));
    }
}

TEST(DecodeUpcall, Ipv4VifHighByte)
{
    auto up = decode(Family::inet, v4_upcall(1, 0x0102, "192.168.1.7", "239.255.0.1"));
    ASSERT_TRUE(up);
    EXPECT_EQ(up->vif, 0x0102u);
    up = decode(Family::inet, v4_upcall(2, 0xff00, "192.168.1.7", "239.255.0.1"));
    ASSERT_TRUE(up);
    EXPECT_EQ(up->vif, 0xff00u);
    EXPECT_EQ(up->kind, Upcall::Kind::wrongvif);
}

TEST(DecodeUpcall, Ipv4WholePacketWithPayload)
{
    auto up = decode(Family::inet, v4_upcall(3, 7, "10.1.2.3", "232.1.1.1", 1400));
    ASSERT_TRUE(up);
    EXPECT_EQ(up->kind, Upcall::Kind::wholepkt);
    EXPECT_EQ(up->vif, 7u);
    EXPECT_EQ(up->source, ip("10.1.2.3"));
    EXPECT_EQ(up->group, ip("232.1.1.1"));
}

TEST(DecodeUpcall, OrdinaryIgmpPacketIsNotAnUpcall)
{
    // IPv4 header (protocol 2 = IGMP, TTL 1) + IGMPv2 membership report.
    const uint8_t pkt[] = {0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x41, 0x9d,
                           0x0a, 0x00, 0x00, 0x02, 0xe1, 0x01, 0x02, 0x03, 0x94, 0x04, 0x00, 0x00,
                           0x16, 0x00, 0xfa, 0xf8, 0xe1, 0x01, 0x02, 0x03};
    EXPECT_FALSE(decode_upcall(Family::inet, pkt));
    // Any non-zero protocol byte (im_mbz) is rejected.
    auto b = v4_upcall(1, 0, "10.0.0.1", "225.1.2.3");
    for (int mbz = 1; mbz < 256; ++mbz) {
        b[9] = static_cast<uint8_t>(mbz);
        EXPECT_FALSE(decode(Family::inet, b)) << mbz;
    }
}

TEST(DecodeUpcall, Ipv4TruncatedAtEveryLength)
{
    const auto b = v4_upcall(1, 5, "10.0.0.1", "225.1.2.3");
    for (size_t len = 0; len < 20; ++len)
        EXPECT_FALSE(decode(Family::inet, b, len)) << len;
    EXPECT_TRUE(decode(Family::inet, b, 20));
    EXPECT_FALSE(decode_upcall(Family::inet, std::span<const uint8_t>()));
}

TEST(DecodeUpcall, Ipv6Kinds)
{
    struct Case {
        uint8_t type;
        Upcall::Kind kind;
    } cases[] = {{1, Upcall::Kind::nocache},
                 {2, Upcall::Kind::wrongvif},
                 {3, Upcall::Kind::wholepkt},
                 {4, Upcall::Kind::other},
                 {0, Upcall::Kind::other},
                 {200, Upcall::Kind::other}};
    for (const auto& c : cases) {
        auto up = decode(Family::inet6, v6_upcall(c.type, 9, "2001:db8::1", "ff3e::8000:1"));
        ASSERT_TRUE(up) << int(c.type);
        EXPECT_EQ(up->kind, c.kind) << int(c.type);
        EXPECT_EQ(up->vif, 9u);
        EXPECT_EQ(up->source, ip("2001:db8::1"));
        EXPECT_EQ(up->group, ip("ff3e::8000:1"));
    }
    auto up = decode(Family::inet6, v6_upcall(1, 0x1234, "fe80::1", "ff05::2", 100));
    ASSERT_TRUE(up);
    EXPECT_EQ(up->vif, 0x1234u);
}

TEST(DecodeUpcall, Ipv6NonZeroMbzAndTruncation)
{
    auto b = v6_upcall(1, 0, "2001:db8::1", "ff05::1");
    for (size_t len = 0; len < 40; ++len)
        EXPECT_FALSE(decode(Family::inet6, b, len)) << len;
    EXPECT_TRUE(decode(Family::inet6, b, 40));
    // An ordinary ICMPv6 message starts with its type (never 0): rejected.
    b[0] = 130; // multicast listener query
    EXPECT_FALSE(decode(Family::inet6, b));
}

TEST(DecodeUpcall, FamiliesAreNotConfused)
{
    // A valid IPv4 upcall is too short to be an IPv6 one.
    EXPECT_FALSE(decode(Family::inet6, v4_upcall(1, 0, "10.0.0.1", "225.1.2.3")));
    auto up = decode(Family::inet, v4_upcall(1, 0, "10.0.0.1", "225.1.2.3"));
    ASSERT_TRUE(up);
    EXPECT_TRUE(up->source.is_v4());
    up = decode(Family::inet6, v6_upcall(1, 0, "::1", "ff05::1"));
    ASSERT_TRUE(up);
    EXPECT_FALSE(up->source.is_v4());
}

TEST(DecodeUpcall, RandomBytesNeverCrashAndObeyTheRules)
{
    std::mt19937 rng(12345);
    std::vector<uint8_t> buf(128);
    size_t accepted4 = 0, accepted6 = 0;
    for (int i = 0; i < 200000; ++i) {
        const size_t len = rng() % buf.size();
        for (size_t j = 0; j < len; ++j)
            buf[j] = static_cast<uint8_t>(rng() % 4 == 0 ? 0 : rng());
        // Both decoders run on a heap copy of exactly len bytes so ASan
        // catches any read past the end.
        std::vector<uint8_t> exact(buf.begin(), buf.begin() + static_cast<long>(len));
        auto u4 = decode(Family::inet, exact);
        auto u6 = decode(Family::inet6, exact);
        if (u4) {
            ++accepted4;
            ASSERT_GE(len, 20u);
            ASSERT_EQ(exact[9], 0);
            ASSERT_EQ(u4->vif, unsigned(exact[10]) | (unsigned(exact[11]) << 8));
        }
        if (u6) {
            ++accepted6;
            ASSERT_GE(len, 40u);
            ASSERT_EQ(exact[0], 0);
        }
    }
    EXPECT_GT(accepted4, 0u);
    EXPECT_GT(accepted6, 0u);
}

// ---- real kernel, root only, in a private network namespace ----------------

namespace {



} // namespace

TEST(MrouteKernel, UnprivilegedOpenFailsClearly)
{
    auto attempt = []() -> std::string {
        auto m = open_mroute(Family::inet, 0);
        CHECK_OR_REPORT(!m.ok(), "an unprivileged process opened the multicast routing socket");
        CHECK_OR_REPORT(m.error().code == EPERM || m.error().code == EACCES,
                        "errno " + std::to_string(m.error().code) + ": " + m.error().message);
        CHECK_OR_REPORT(!m.error().message.empty(), "no message");
        return "";
    };
    // As root, the check runs in a child that gives up root for nobody's
    // ids (and with them every capability) first.
    std::string report = geteuid() != 0 ? attempt() : in_netns([&]() -> std::string {
        CHECK_OR_REPORT(setgroups(0, nullptr) == 0 && setgid(65534) == 0 && setuid(65534) == 0,
                        std::string("cannot drop to uid 65534: ") + std::strerror(errno));
        return attempt();
    });
    EXPECT_EQ(report, "");
}

TEST(MrouteKernel, VifMfcCountersAndTableInUse)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root";
    std::string report = in_netns([]() -> std::string {
        for (Family f : {Family::inet, Family::inet6}) {
            const std::string fam(family_name(f));
            auto m = open_mroute(f, 0);
            if (!m && m.error().code == EAFNOSUPPORT)
                continue;
            CHECK_OR_REPORT(m.ok(), fam + " open: " + m.error().message);
            auto& s = **m;
            CHECK_OR_REPORT(s.family() == f, fam + " family");
            CHECK_OR_REPORT(s.fd() >= 0, fam + " fd");
            // A second socket on the same table is refused with a clear text.
            auto again = open_mroute(f, 0);
            CHECK_OR_REPORT(!again.ok() && again.error().code == EADDRINUSE, fam + " second open not EADDRINUSE");
            CHECK_OR_REPORT(again.error().message == "multicast routing table 0 is in use by another daemon",
                            fam + " message: " + again.error().message);

            const unsigned lo = 1; // loopback is ifindex 1 in every namespace
            auto st = s.add_vif(0, lo, 1);
            CHECK_OR_REPORT(st.ok(), fam + " add_vif: " + st.error().message);
            st = s.add_vif(0, lo, 1);
            CHECK_OR_REPORT(!st.ok() && st.error().message.find("add VIF 0 for ifindex 1: ") == 0,
                            fam + " duplicate add_vif should fail with context");

            const IpAddr src = f == Family::inet ? ip("10.0.0.1") : ip("2001:db8::1");
            const IpAddr grp = f == Family::inet ? ip("225.1.2.3") : ip("ff3e::1:2:3");
            std::array<uint8_t, max_vifs> ttl{};
            st = s.add_mfc(src, grp, 0, ttl);
            CHECK_OR_REPORT(st.ok(), fam + " add_mfc: " + st.error().message);
            auto c = s.counters(src, grp);
            CHECK_OR_REPORT(c.ok(), fam + " counters: " + c.error().message);
            CHECK_OR_REPORT(c->packets == 0 && c->bytes == 0 && c->wrong_if == 0, fam + " counters not zero");
            st = s.del_mfc(src, grp);
            CHECK_OR_REPORT(st.ok(), fam + " del_mfc: " + st.error().message);
            c = s.counters(src, grp);
            CHECK_OR_REPORT(!c.ok(), fam + " counters after delete should fail");
            CHECK_OR_REPORT(c.error().message.find("get counters (" + src.str() + ", " + grp.str() + "): ") == 0,
                            fam + " counters message: " + c.error().message);
            st = s.del_mfc(src, grp);
            CHECK_OR_REPORT(!st.ok(), fam + " second del_mfc should fail");
            // Wrong family addresses are refused before the kernel sees them.
            const IpAddr other = f == Family::inet ? ip("ff05::1") : ip("225.1.1.1");
            CHECK_OR_REPORT(!s.add_mfc(other, other, 0, ttl).ok(), fam + " wrong family accepted");

            st = s.del_vif(0, lo);
            CHECK_OR_REPORT(st.ok(), fam + " del_vif: " + st.error().message);
            st = s.del_vif(0, lo);
            CHECK_OR_REPORT(!st.ok(), fam + " second del_vif should fail");
            CHECK_OR_REPORT(s.read_upcalls().empty(), fam + " unexpected upcalls");
            // The kernel counts upcalls it drops on a full queue, on every message.
            int ovfl = 0;
            socklen_t olen = sizeof ovfl;
            CHECK_OR_REPORT(::getsockopt(s.fd(), SOL_SOCKET, SO_RXQ_OVFL, &ovfl, &olen) == 0 && ovfl == 1,
                            fam + " SO_RXQ_OVFL not enabled");
            CHECK_OR_REPORT(s.upcall_stats().read == 0 && s.upcall_stats().dropped == 0, fam + " upcall stats not zero");

            // Separate tables can be held side by side, if the kernel has them.
            auto t5 = open_mroute(f, 5);
            if (t5.ok()) {
                auto t5b = open_mroute(f, 5);
                CHECK_OR_REPORT(!t5b.ok() && t5b.error().code == EADDRINUSE &&
                                    t5b.error().message == "multicast routing table 5 is in use by another daemon",
                                fam + " table 5 twice");
                CHECK_OR_REPORT(open_mroute(f, 6).ok(), fam + " table 6");
            } else {
                CHECK_OR_REPORT(t5.error().code == ENOPROTOOPT, fam + " table 5: " + t5.error().message);
            }
        }
        return "";
    });
    if (report.rfind("skip:", 0) == 0)
        GTEST_SKIP() << report;
    EXPECT_EQ(report, "");
}

// The IPv4 routing socket is a raw IGMP socket in the Router Alert chain, so
// without its filter every IGMP packet reaching the router queues there too.
// A report (with Router Alert) and a datagram that makes an upcall both
// arrive on a VIF: only the upcall is read from the routing socket, while a
// second Router Alert socket (as the proxy's) proves the report got in.
TEST(MrouteKernel, Ipv4SocketQueuesOnlyUpcalls)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root";
    std::string report = in_netns([]() -> std::string {
        CHECK_OR_REPORT(std::system("ip link set lo up && ip link add mu0 type veth peer name mu1 && "
                                    "ip addr add 10.7.0.1/24 dev mu0 && ip addr add 10.7.0.2/24 dev mu1 && "
                                    "ip link set mu0 up && ip link set mu1 up && "
                                    "sysctl -qw net.ipv4.conf.all.accept_local=1 net.ipv4.conf.mu0.accept_local=1 "
                                    "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.mu0.rp_filter=0") == 0,
                        "cannot set up the veth pair (ip, sysctl)");
        const unsigned mu0 = if_nametoindex("mu0"), mu1 = if_nametoindex("mu1");
        CHECK_OR_REPORT(mu0 != 0 && mu1 != 0, "no mu0/mu1");
        auto m = open_mroute(Family::inet, 0);
        CHECK_OR_REPORT(m.ok(), "open: " + m.error().message);
        auto& s = **m;
        CHECK_OR_REPORT(s.add_vif(0, mu0, 1).ok(), "add_vif mu0");
        // The proxy's kind of socket: raw IGMP in the Router Alert chain.
        int ra = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP);
        int on = 1;
        CHECK_OR_REPORT(ra >= 0 && ::setsockopt(ra, IPPROTO_IP, IP_ROUTER_ALERT, &on, sizeof on) == 0,
                        "router alert socket");
        // From mu1: an IGMPv2 report for 239.7.7.7 with Router Alert, TTL 1.
        int tx = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP);
        CHECK_OR_REPORT(tx >= 0, "sending socket");
        const auto ra_option = ipv4_router_alert_option();
        ip_mreqn via{};
        via.imr_ifindex = static_cast<int>(mu1);
        unsigned char ttl1 = 1;
        CHECK_OR_REPORT(::setsockopt(tx, IPPROTO_IP, IP_OPTIONS, ra_option.data(), ra_option.size()) == 0 &&
                            ::setsockopt(tx, IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof via) == 0 &&
                            ::setsockopt(tx, IPPROTO_IP, IP_MULTICAST_TTL, &ttl1, sizeof ttl1) == 0,
                        "sending socket options");
        GroupMessage report;
        report.kind = GroupMessage::Kind::report;
        report.version = GroupVersion::v2;
        report.group = ip("239.7.7.7");
        const auto v2_report = encode_igmp(report);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr = ip("239.7.7.7").v4();
        CHECK_OR_REPORT(::sendto(tx, v2_report.data(), v2_report.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
                            static_cast<ssize_t>(v2_report.size()),
                        std::string("send report: ") + std::strerror(errno));
        // Then from mu1 a datagram to 239.7.7.8 with TTL 8: a NOCACHE upcall.
        int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        unsigned char ttl8 = 8;
        CHECK_OR_REPORT(udp >= 0 && ::setsockopt(udp, IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof via) == 0 &&
                            ::setsockopt(udp, IPPROTO_IP, IP_MULTICAST_TTL, &ttl8, sizeof ttl8) == 0,
                        "udp socket");
        to.sin_addr = ip("239.7.7.8").v4();
        to.sin_port = htons(4000);
        CHECK_OR_REPORT(::sendto(udp, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 1, "send datagram");
        // The report reached the Router Alert chain...
        pollfd pr{ra, POLLIN, 0};
        CHECK_OR_REPORT(::poll(&pr, 1, 2000) == 1, "the report never reached the Router Alert socket");
        // ...and the routing socket holds the upcall alone.
        pollfd pm{s.fd(), POLLIN, 0};
        CHECK_OR_REPORT(::poll(&pm, 1, 2000) == 1, "no upcall");
        auto ups = s.read_upcalls();
        CHECK_OR_REPORT(ups.size() == 1 && ups[0].kind == Upcall::Kind::nocache && ups[0].group == ip("239.7.7.8"),
                        "upcalls: " + std::to_string(ups.size()));
        CHECK_OR_REPORT(s.upcall_stats().read == 1,
                        "the routing socket read " + std::to_string(s.upcall_stats().read) +
                            " messages: the report queued there too");
        ::close(ra);
        ::close(tx);
        ::close(udp);
        return "";
    });
    if (report.rfind("skip:", 0) == 0)
        GTEST_SKIP() << report;
    EXPECT_EQ(report, "");
}

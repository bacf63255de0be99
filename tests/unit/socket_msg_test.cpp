// Unit tests of os/socket_msg: datagrams over loopback UDP with their
// arrival interface and drop count, truncation, EAGAIN; and the ancillary
// decoder on hand-built control messages, short ones included.
#include "smcroute/os/socket_msg.hpp"

#include "smcroute/base/unique_fd.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace smcroute {
namespace {

// A UDP socket bound to an ephemeral port of 127.0.0.1, and its address.
struct Udp4 {
    UniqueFd fd;
    sockaddr_in addr{};
};

Udp4 bound_udp4()
{
    Udp4 u;
    u.fd = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!u.fd)
        return u;
    u.addr.sin_family = AF_INET;
    u.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof u.addr;
    if (::bind(u.fd.get(), reinterpret_cast<sockaddr*>(&u.addr), sizeof u.addr) != 0 ||
        ::getsockname(u.fd.get(), reinterpret_cast<sockaddr*>(&u.addr), &len) != 0)
        u.fd.reset();
    return u;
}

bool send_to(const Udp4& u, const std::vector<uint8_t>& data)
{
    return ::sendto(u.fd.get(), data.data(), data.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&u.addr),
                    sizeof u.addr) == static_cast<ssize_t>(data.size());
}

TEST(SocketMsg, NothingPendingIsEAGAIN)
{
    auto u = bound_udp4();
    ASSERT_TRUE(u.fd);
    uint8_t buf[16];
    auto r = receive_datagram(u.fd.get(), buf);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().code == EAGAIN || r.error().code == EWOULDBLOCK) << r.error().code;
}

TEST(SocketMsg, ADatagramWithItsArrivalInterfaceAndSender)
{
    auto u = bound_udp4();
    ASSERT_TRUE(u.fd);
    int on = 1;
    ASSERT_EQ(::setsockopt(u.fd.get(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on), 0);
    ASSERT_TRUE(send_to(u, {1, 2, 3, 4, 5}));
    uint8_t buf[64];
    sockaddr_in from{};
    auto r = receive_datagram(u.fd.get(), buf, reinterpret_cast<sockaddr*>(&from), sizeof from);
    ASSERT_TRUE(r) << r.error().code;
    EXPECT_EQ(r->size, 5u);
    EXPECT_FALSE(r->truncated);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + 5), (std::vector<uint8_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(r->ifindex, ::if_nametoindex("lo"));
    EXPECT_FALSE(r->drop_count);
    EXPECT_EQ(from.sin_family, AF_INET);
    EXPECT_EQ(from.sin_port, u.addr.sin_port); // sent from itself
}

TEST(SocketMsg, WithoutPktinfoTheInterfaceIsZero)
{
    auto u = bound_udp4();
    ASSERT_TRUE(u.fd);
    ASSERT_TRUE(send_to(u, {7}));
    uint8_t buf[4];
    auto r = receive_datagram(u.fd.get(), buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size, 1u);
    EXPECT_EQ(r->ifindex, 0u);
}

TEST(SocketMsg, ALongerDatagramIsTruncated)
{
    auto u = bound_udp4();
    ASSERT_TRUE(u.fd);
    ASSERT_TRUE(send_to(u, std::vector<uint8_t>(100, 9)));
    uint8_t buf[10];
    auto r = receive_datagram(u.fd.get(), buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size, sizeof buf);
    EXPECT_TRUE(r->truncated);
}

TEST(SocketMsg, TheDropCountOnceTheSocketHasDropped)
{
    auto u = bound_udp4();
    ASSERT_TRUE(u.fd);
    int on = 1, tiny = 1; // the kernel raises it to its minimum
    ASSERT_EQ(::setsockopt(u.fd.get(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on), 0);
    ASSERT_EQ(::setsockopt(u.fd.get(), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny), 0);
    std::vector<uint8_t> data(1000, 1);
    for (int i = 0; i < 64; ++i)
        ASSERT_TRUE(send_to(u, data));
    uint8_t buf[2000];
    size_t queued = 0;
    for (;;) { // the ones queued before the first drop carry no count
        auto r = receive_datagram(u.fd.get(), buf);
        if (!r)
            break;
        ++queued;
    }
    ASSERT_GT(queued, 0u);
    ASSERT_LT(queued, 64u) << "the receive buffer took every datagram: no drops to count";
    ASSERT_TRUE(send_to(u, data));
    auto r = receive_datagram(u.fd.get(), buf);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->drop_count);
    EXPECT_EQ(*r->drop_count, 64u - queued);
}

TEST(SocketMsg, SizeReceiveQueueGivesRoomAndTheDropCount)
{
    auto u = bound_udp4();
    ASSERT_TRUE(u.fd);
    int before = 0;
    socklen_t len = sizeof before;
    ASSERT_EQ(::getsockopt(u.fd.get(), SOL_SOCKET, SO_RCVBUF, &before, &len), 0);
    const int want = 4 * 1024 * 1024;
    size_receive_queue(u.fd.get(), want, true);
    int after = 0, counting = 0;
    len = sizeof after;
    ASSERT_EQ(::getsockopt(u.fd.get(), SOL_SOCKET, SO_RCVBUF, &after, &len), 0);
    len = sizeof counting;
    ASSERT_EQ(::getsockopt(u.fd.get(), SOL_SOCKET, SO_RXQ_OVFL, &counting, &len), 0);
    EXPECT_EQ(counting, 1);
    if (::geteuid() == 0) // SO_RCVBUFFORCE: past rmem_max (the kernel doubles what is asked)
        EXPECT_GE(after, want);
    else // SO_RCVBUF, capped at rmem_max
        EXPECT_GE(after, before);

    auto quiet = bound_udp4();
    ASSERT_TRUE(quiet.fd);
    size_receive_queue(quiet.fd.get(), want, false);
    len = sizeof counting;
    ASSERT_EQ(::getsockopt(quiet.fd.get(), SOL_SOCKET, SO_RXQ_OVFL, &counting, &len), 0);
    EXPECT_EQ(counting, 0);
}

TEST(DropTally, TotalsARunningCountAcrossItsWrap)
{
    DropTally t;
    t.note(5);
    t.note(5);
    EXPECT_EQ(t.total, 5u);
    t.note(0xfffffff0u);
    EXPECT_EQ(t.total, 0xfffffff0u);
    t.note(4); // wrapped: 0x10 + 4 more
    EXPECT_EQ(t.total, uint64_t{0xfffffff0u} + 20u);
}

// A control buffer holding the given messages (level, type, data bytes).
struct Control {
    alignas(cmsghdr) uint8_t bytes[256] = {};
    size_t used = 0;
    void add(int level, int type, const void* data, size_t len, size_t claimed_len)
    {
        auto* c = reinterpret_cast<cmsghdr*>(bytes + used);
        c->cmsg_level = level;
        c->cmsg_type = type;
        c->cmsg_len = claimed_len;
        std::memcpy(CMSG_DATA(c), data, len);
        used += CMSG_SPACE(len);
    }
    void add(int level, int type, const void* data, size_t len) { add(level, type, data, len, CMSG_LEN(len)); }
    msghdr msg()
    {
        msghdr m{};
        m.msg_control = bytes;
        m.msg_controllen = used;
        return m;
    }
};

TEST(DecodeAncillary, PktinfoOfEitherFamilyAndTheDropCount)
{
    Control c;
    in6_pktinfo pi6{};
    pi6.ipi6_ifindex = 7;
    uint32_t drops = 42;
    c.add(IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
    c.add(SOL_SOCKET, SO_RXQ_OVFL, &drops, sizeof drops);
    ReceivedDatagram d;
    auto m = c.msg();
    decode_ancillary(m, d);
    EXPECT_EQ(d.ifindex, 7u);
    ASSERT_TRUE(d.drop_count);
    EXPECT_EQ(*d.drop_count, 42u);

    Control c4;
    in_pktinfo pi4{};
    pi4.ipi_ifindex = 3;
    c4.add(IPPROTO_IP, IP_PKTINFO, &pi4, sizeof pi4);
    ReceivedDatagram d4;
    auto m4 = c4.msg();
    decode_ancillary(m4, d4);
    EXPECT_EQ(d4.ifindex, 3u);
    EXPECT_FALSE(d4.drop_count);
}

TEST(DecodeAncillary, Ipv6HopLimit)
{
    Control c;
    int hops = 1;
    c.add(IPPROTO_IPV6, IPV6_HOPLIMIT, &hops, sizeof hops);
    ReceivedDatagram d;
    auto m = c.msg();
    decode_ancillary(m, d);
    ASSERT_TRUE(d.hop_limit);
    EXPECT_EQ(*d.hop_limit, 1u);

    Control bad;
    int out_of_range = 300;
    bad.add(IPPROTO_IPV6, IPV6_HOPLIMIT, &out_of_range, sizeof out_of_range);
    ReceivedDatagram d2;
    auto m2 = bad.msg();
    decode_ancillary(m2, d2);
    EXPECT_FALSE(d2.hop_limit);
}

TEST(DecodeAncillary, MessagesTooShortForTheirTypeAreSkipped)
{
    Control c;
    in_pktinfo pi4{};
    pi4.ipi_ifindex = 3;
    uint32_t drops = 42;
    c.add(IPPROTO_IP, IP_PKTINFO, &pi4, sizeof pi4, CMSG_LEN(sizeof pi4 - 1));
    c.add(SOL_SOCKET, SO_RXQ_OVFL, &drops, sizeof drops, CMSG_LEN(2));
    ReceivedDatagram d;
    auto m = c.msg();
    decode_ancillary(m, d);
    EXPECT_EQ(d.ifindex, 0u);
    EXPECT_FALSE(d.drop_count);
}

TEST(DecodeAncillary, OtherMessagesAndNoneAreIgnored)
{
    Control c;
    int ttl = 64;
    c.add(IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
    ReceivedDatagram d;
    auto m = c.msg();
    decode_ancillary(m, d);
    EXPECT_EQ(d.ifindex, 0u);
    EXPECT_FALSE(d.drop_count);
    msghdr empty{};
    decode_ancillary(empty, d);
    EXPECT_EQ(d.ifindex, 0u);
}

} // namespace
} // namespace smcroute

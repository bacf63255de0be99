// os/mroute: one MrouteSocket per address family on the kernel's multicast
// routing API (Mroute4: MRT_* on raw IGMP, Mroute6: MRT6_* on raw ICMPv6),
// plus the pure upcall decoder.
#include "smcroute/os/mroute.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/base/unique_fd.hpp"
#include "smcroute/os/socket_msg.hpp"

// glibc's headers first: the kernel's uapi headers then skip their duplicates.
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/filter.h>
#include <linux/mroute.h>
#include <linux/mroute6.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace smcroute {

namespace {

// Upcalls read per read_upcalls() call, so one call cannot starve the loop.
constexpr size_t max_upcalls_per_read = 4096;
// Receive buffer asked for; the kernel may cap SO_RCVBUF lower. Bounds the
// upcalls queued in the kernel: past it the kernel drops (and counts) them.
constexpr int wanted_rcvbuf = 8 * 1024 * 1024;
// Enough for any upcall header (the rest of a WHOLEPKT is not needed).
constexpr size_t upcall_buffer_size = 2048;

static_assert(max_vifs == MAXVIFS && max_vifs == MAXMIFS);

template <class T>
T load(std::span<const uint8_t> bytes)
{
    T v;
    std::memcpy(&v, bytes.data(), sizeof v);
    return v;
}

std::string sg_str(const IpAddr& source, const IpAddr& group)
{
    return cat("(", source.str(), ", ", group.str(), ")");
}

bool is_missing_support(int e)
{
    return e == ENOPROTOOPT || e == EOPNOTSUPP || e == EAFNOSUPPORT || e == EPROTONOSUPPORT;
}

Error open_error(Family family, uint32_t table, int e, const std::string& what)
{
    if (e == EADDRINUSE)
        return Error{e, cat("multicast routing table ", table, " is in use by another daemon")};
    if (is_missing_support(e))
        return Error{e, cat("no ", family_name(family), " multicast routing support in the kernel")};
    return os_error(e, cat(what, " (", family_name(family), ")"));
}

int set_int(int fd, int level, int opt, int val)
{
    return ::setsockopt(fd, level, opt, &val, sizeof val);
}

// Shared by both families: the descriptor and the upcall reader.
class MrouteBase : public MrouteSocket {
public:
    MrouteBase(Family family, UniqueFd fd) : family_(family), fd_(std::move(fd)) {}
    Family family() const override { return family_; }
    int fd() const override { return fd_.get(); }

    std::vector<Upcall> read_upcalls() override
    {
        std::vector<Upcall> out;
        uint8_t buf[upcall_buffer_size];
        for (size_t n = 0; n < max_upcalls_per_read; ++n) {
            auto d = receive_datagram(fd_.get(), buf);
            if (!d) {
                if (d.error().code == EINTR)
                    continue;
                break; // EAGAIN: drained; anything else: try again next poll
            }
            ++stats_.read;
            if (d->drop_count)
                note_drops(*d->drop_count);
            auto up = decode_upcall(family_, std::span<const uint8_t>(buf, d->size));
            if (up)
                out.push_back(*up);
        }
        return out;
    }

    UpcallSocketStats upcall_stats() const override { return stats_; }

protected:
    Family family_;
    UniqueFd fd_;

private:
    // SO_RXQ_OVFL: the socket's running drop count (32 bits, wrapping) as of
    // the message; attached only once it is non-zero.
    void note_drops(uint32_t count)
    {
        drops_.note(count);
        stats_.dropped = drops_.total;
    }

    UpcallSocketStats stats_;
    DropTally drops_;
};

class Mroute4 final : public MrouteBase {
public:
    explicit Mroute4(UniqueFd fd) : MrouteBase(Family::inet, std::move(fd)) {}

    Status add_vif(unsigned vif, unsigned ifindex, uint8_t ttl_threshold) override
    {
        vifctl vc{};
        vc.vifc_vifi = static_cast<vifi_t>(vif);
        vc.vifc_flags = VIFF_USE_IFINDEX;
        vc.vifc_threshold = ttl_threshold;
        vc.vifc_lcl_ifindex = static_cast<int>(ifindex);
        if (::setsockopt(fd_.get(), IPPROTO_IP, MRT_ADD_VIF, &vc, sizeof vc) < 0)
            return os_error(errno, cat("add VIF ", vif, " for ifindex ", ifindex));
        return {};
    }

    Status del_vif(unsigned vif, unsigned ifindex) override
    {
        vifctl vc{};
        vc.vifc_vifi = static_cast<vifi_t>(vif);
        vc.vifc_flags = VIFF_USE_IFINDEX;
        vc.vifc_lcl_ifindex = static_cast<int>(ifindex);
        if (::setsockopt(fd_.get(), IPPROTO_IP, MRT_DEL_VIF, &vc, sizeof vc) < 0)
            return os_error(errno, cat("delete VIF ", vif, " for ifindex ", ifindex));
        return {};
    }

    Status add_mfc(const IpAddr& source, const IpAddr& group, unsigned iif_vif,
                   const std::array<uint8_t, max_vifs>& oif_ttl) override
    {
        if (!source.is_v4() || !group.is_v4())
            return Error{EAFNOSUPPORT, cat("add MFC ", sg_str(source, group), ": not an IPv4 route")};
        mfcctl mc{};
        mc.mfcc_origin = source.v4();
        mc.mfcc_mcastgrp = group.v4();
        mc.mfcc_parent = static_cast<vifi_t>(iif_vif);
        std::memcpy(mc.mfcc_ttls, oif_ttl.data(), max_vifs);
        if (::setsockopt(fd_.get(), IPPROTO_IP, MRT_ADD_MFC, &mc, sizeof mc) < 0)
            return os_error(errno, cat("add MFC ", sg_str(source, group), " iif vif ", iif_vif));
        return {};
    }

    Status del_mfc(const IpAddr& source, const IpAddr& group) override
    {
        if (!source.is_v4() || !group.is_v4())
            return Error{EAFNOSUPPORT, cat("delete MFC ", sg_str(source, group), ": not an IPv4 route")};
        mfcctl mc{};
        mc.mfcc_origin = source.v4();
        mc.mfcc_mcastgrp = group.v4();
        if (::setsockopt(fd_.get(), IPPROTO_IP, MRT_DEL_MFC, &mc, sizeof mc) < 0)
            return os_error(errno, cat("delete MFC ", sg_str(source, group)));
        return {};
    }

    Result<MfcCounters> counters(const IpAddr& source, const IpAddr& group) override
    {
        if (!source.is_v4() || !group.is_v4())
            return Error{EAFNOSUPPORT, cat("get counters ", sg_str(source, group), ": not an IPv4 route")};
        sioc_sg_req req{};
        req.src = source.v4();
        req.grp = group.v4();
        if (::ioctl(fd_.get(), SIOCGETSGCNT, &req) < 0)
            return os_error(errno, cat("get counters ", sg_str(source, group)));
        return MfcCounters{req.pktcnt, req.bytecnt, req.wrong_if};
    }
};

sockaddr_in6 sin6_of(const IpAddr& a)
{
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = a.v6();
    return sa;
}

class Mroute6 final : public MrouteBase {
public:
    explicit Mroute6(UniqueFd fd) : MrouteBase(Family::inet6, std::move(fd)) {}

    Status add_vif(unsigned vif, unsigned ifindex, uint8_t ttl_threshold) override
    {
        mif6ctl mc{};
        mc.mif6c_mifi = static_cast<mifi_t>(vif);
        mc.mif6c_flags = 0;
        mc.vifc_threshold = ttl_threshold;
        if (ifindex > 0xffff)
            return Error{EINVAL, cat("add VIF ", vif, " for ifindex ", ifindex, ": interface index too large for IPv6 multicast routing")};
        mc.mif6c_pifi = static_cast<__u16>(ifindex);
        if (::setsockopt(fd_.get(), IPPROTO_IPV6, MRT6_ADD_MIF, &mc, sizeof mc) < 0)
            return os_error(errno, cat("add VIF ", vif, " for ifindex ", ifindex));
        return {};
    }

    Status del_vif(unsigned vif, unsigned ifindex) override
    {
        mifi_t mifi = static_cast<mifi_t>(vif);
        if (::setsockopt(fd_.get(), IPPROTO_IPV6, MRT6_DEL_MIF, &mifi, sizeof mifi) < 0)
            return os_error(errno, cat("delete VIF ", vif, " for ifindex ", ifindex));
        return {};
    }

    Status add_mfc(const IpAddr& source, const IpAddr& group, unsigned iif_vif,
                   const std::array<uint8_t, max_vifs>& oif_ttl) override
    {
        if (source.is_v4() || group.is_v4())
            return Error{EAFNOSUPPORT, cat("add MFC ", sg_str(source, group), ": not an IPv6 route")};
        mf6cctl mc{};
        mc.mf6cc_origin = sin6_of(source);
        mc.mf6cc_mcastgrp = sin6_of(group);
        mc.mf6cc_parent = static_cast<mifi_t>(iif_vif);
        for (unsigned v = 0; v < max_vifs; ++v)
            if (oif_ttl[v] != 0)
                mc.mf6cc_ifset.ifs_bits[v / NIFBITS] |= 1u << (v % NIFBITS); // IF_SET(v)
        if (::setsockopt(fd_.get(), IPPROTO_IPV6, MRT6_ADD_MFC, &mc, sizeof mc) < 0)
            return os_error(errno, cat("add MFC ", sg_str(source, group), " iif vif ", iif_vif));
        return {};
    }

    Status del_mfc(const IpAddr& source, const IpAddr& group) override
    {
        if (source.is_v4() || group.is_v4())
            return Error{EAFNOSUPPORT, cat("delete MFC ", sg_str(source, group), ": not an IPv6 route")};
        mf6cctl mc{};
        mc.mf6cc_origin = sin6_of(source);
        mc.mf6cc_mcastgrp = sin6_of(group);
        if (::setsockopt(fd_.get(), IPPROTO_IPV6, MRT6_DEL_MFC, &mc, sizeof mc) < 0)
            return os_error(errno, cat("delete MFC ", sg_str(source, group)));
        return {};
    }

    Result<MfcCounters> counters(const IpAddr& source, const IpAddr& group) override
    {
        if (source.is_v4() || group.is_v4())
            return Error{EAFNOSUPPORT, cat("get counters ", sg_str(source, group), ": not an IPv6 route")};
        sioc_sg_req6 req{};
        req.src = sin6_of(source);
        req.grp = sin6_of(group);
        if (::ioctl(fd_.get(), SIOCGETSGCNT_IN6, &req) < 0)
            return os_error(errno, cat("get counters ", sg_str(source, group)));
        return MfcCounters{req.pktcnt, req.bytecnt, req.wrong_if};
    }
};

Result<std::unique_ptr<MrouteSocket>> open_v4(uint32_t table)
{
    const Family f = Family::inet;
    UniqueFd fd(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IGMP));
    if (!fd)
        return open_error(f, table, errno, "open multicast routing socket");
    if (table != 0 && ::setsockopt(fd.get(), IPPROTO_IP, MRT_TABLE, &table, sizeof table) < 0)
        return open_error(f, table, errno, cat("select multicast routing table ", table));
    if (set_int(fd.get(), IPPROTO_IP, MRT_INIT, 1) < 0)
        return open_error(f, table, errno, "enable multicast routing (MRT_INIT)");
    if (set_int(fd.get(), IPPROTO_IP, MRT_ASSERT, 1) < 0)
        return open_error(f, table, errno, "enable WRONGVIF upcalls (MRT_ASSERT)");
    // The socket is a raw IGMP one in the kernel's Router Alert chain: every
    // IGMP packet reaching the router would queue here too, and wake the
    // upcall reader ahead of the proxy's own socket for nothing. Keep only
    // the kernel's upcalls: struct igmpmsg has im_mbz 0 where an IP header
    // has its protocol (byte 9; IGMP's is 2). The filter sees upcalls too
    // (the kernel queues them with sock_queue_rcv_skb). Without it, upcalls
    // still work and decode_upcall() skips the packets.
    sock_filter only_upcalls[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(only_upcalls)), only_upcalls};
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
    size_receive_queue(fd.get(), wanted_rcvbuf, true);
    return std::unique_ptr<MrouteSocket>(std::make_unique<Mroute4>(std::move(fd)));
}

Result<std::unique_ptr<MrouteSocket>> open_v6(uint32_t table)
{
    const Family f = Family::inet6;
    UniqueFd fd(::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6));
    if (!fd)
        return open_error(f, table, errno, "open multicast routing socket");
    // Ordinary ICMPv6 traffic is of no interest; kernel upcalls bypass the filter.
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    if (::setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0)
        return open_error(f, table, errno, "set ICMPv6 filter");
    if (table != 0 && ::setsockopt(fd.get(), IPPROTO_IPV6, MRT6_TABLE, &table, sizeof table) < 0)
        return open_error(f, table, errno, cat("select multicast routing table ", table));
    if (set_int(fd.get(), IPPROTO_IPV6, MRT6_INIT, 1) < 0)
        return open_error(f, table, errno, "enable multicast routing (MRT6_INIT)");
    if (set_int(fd.get(), IPPROTO_IPV6, MRT6_ASSERT, 1) < 0)
        return open_error(f, table, errno, "enable WRONGMIF upcalls (MRT6_ASSERT)");
    size_receive_queue(fd.get(), wanted_rcvbuf, true);
    return std::unique_ptr<MrouteSocket>(std::make_unique<Mroute6>(std::move(fd)));
}

Upcall::Kind kind_of(unsigned msgtype)
{
    // IGMPMSG_* and MRT6MSG_* share their values.
    static_assert(IGMPMSG_NOCACHE == MRT6MSG_NOCACHE && IGMPMSG_WRONGVIF == MRT6MSG_WRONGMIF &&
                  IGMPMSG_WHOLEPKT == MRT6MSG_WHOLEPKT);
    switch (msgtype) {
    case IGMPMSG_NOCACHE:
        return Upcall::Kind::nocache;
    case IGMPMSG_WRONGVIF:
        return Upcall::Kind::wrongvif;
    case IGMPMSG_WHOLEPKT:
        return Upcall::Kind::wholepkt;
    default:
        return Upcall::Kind::other;
    }
}

} // namespace

std::optional<Upcall> decode_upcall(Family family, std::span<const uint8_t> bytes)
{
    Upcall up;
    if (family == Family::inet) {
        // struct igmpmsg overlays the IP header; im_mbz sits where the
        // protocol number is, so real IGMP packets (protocol 2) are rejected.
        if (bytes.size() < sizeof(igmpmsg))
            return std::nullopt;
        const auto m = load<igmpmsg>(bytes);
        if (m.im_mbz != 0)
            return std::nullopt;
        up.kind = kind_of(m.im_msgtype);
        up.vif = static_cast<unsigned>(m.im_vif) | (static_cast<unsigned>(m.im_vif_hi) << 8);
        up.source = IpAddr::from_v4(m.im_src);
        up.group = IpAddr::from_v4(m.im_dst);
        return up;
    }
    if (bytes.size() < sizeof(mrt6msg))
        return std::nullopt;
    const auto m = load<mrt6msg>(bytes);
    if (m.im6_mbz != 0)
        return std::nullopt;
    up.kind = kind_of(m.im6_msgtype);
    up.vif = m.im6_mif;
    up.source = IpAddr::from_v6(m.im6_src);
    up.group = IpAddr::from_v6(m.im6_dst);
    return up;
}

Result<std::unique_ptr<MrouteSocket>> open_mroute(Family family, uint32_t table)
{
    return family == Family::inet ? open_v4(table) : open_v6(table);
}

} // namespace smcroute

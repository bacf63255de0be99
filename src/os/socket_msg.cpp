#include "smcroute/os/socket_msg.hpp"

// glibc's in_pktinfo and in6_pktinfo.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace smcroute {

namespace {

// Room for every control message decode_ancillary() knows, together.
constexpr size_t control_size =
    CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(int)) + 64;

// The data of control message c as a T, or false when c is too short for one.
template <class T>
bool load(const cmsghdr* c, T& out)
{
    if (c->cmsg_len < CMSG_LEN(sizeof(T)))
        return false;
    std::memcpy(&out, CMSG_DATA(c), sizeof(T));
    return true;
}

} // namespace

void decode_ancillary(const msghdr& msg, ReceivedDatagram& out)
{
    // CMSG_NXTHDR takes non-const pointers but only reads through them.
    auto& m = const_cast<msghdr&>(msg);
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo pi;
            if (load(c, pi))
                out.ifindex = static_cast<unsigned>(pi.ipi_ifindex);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo pi;
            if (load(c, pi))
                out.ifindex = pi.ipi6_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
            int hops = 0;
            if (load(c, hops) && hops >= 0 && hops <= 255)
                out.hop_limit = static_cast<uint8_t>(hops);
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t count = 0;
            if (load(c, count))
                out.drop_count = count;
        }
    }
}

void size_receive_queue(int fd, int bytes, bool count_drops)
{
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    int on = 1;
    if (count_drops)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
}

Result<ReceivedDatagram> receive_datagram(int fd, std::span<uint8_t> buf, sockaddr* from, socklen_t from_len)
{
    alignas(cmsghdr) uint8_t control[control_size];
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_name = from;
    msg.msg_namelen = from ? from_len : 0;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0)
        return Error{errno, {}};
    ReceivedDatagram d;
    d.size = static_cast<size_t>(n);
    d.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    decode_ancillary(msg, d);
    return d;
}

} // namespace smcroute

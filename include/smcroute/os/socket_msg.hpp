// os/socket_msg: one recvmsg() of a datagram, with the ancillary data this
// program asks its sockets for decoded: the arrival interface (IP_PKTINFO,
// IPV6_PKTINFO), the socket's drop count (SO_RXQ_OVFL) and an IPv6 hop limit
// (IPV6_HOPLIMIT); and the size of a socket's receive queue, with the
// kernel's count of what did not fit in it. Knows nothing of what the
// datagram holds.
#pragma once

#include "smcroute/base/result.hpp"

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace smcroute {

struct ReceivedDatagram {
    size_t size = 0;        // bytes placed in the buffer
    bool truncated = false; // MSG_TRUNC: the datagram was longer than the buffer
    unsigned ifindex = 0;   // IP_PKTINFO / IPV6_PKTINFO; 0 when none is attached
    // SO_RXQ_OVFL: the socket's running count of datagrams dropped for want
    // of room (32 bits, wrapping) as of this one; attached once non-zero.
    std::optional<uint32_t> drop_count;
    // IPV6_HOPLIMIT (IPV6_RECVHOPLIMIT): the hop limit it arrived with.
    std::optional<uint8_t> hop_limit;
};

// One datagram into buf, without blocking (MSG_DONTWAIT), with room for the
// ancillary data; the sender's address into *from (from_len bytes) when from
// is given. Errors carry errno only, no text (the caller words it, and need
// not pay for it on the EAGAIN that ends every drain): EAGAIN when nothing is
// pending, EINTR, ENOBUFS (netlink: the kernel dropped messages)...
Result<ReceivedDatagram> receive_datagram(int fd, std::span<uint8_t> buf, sockaddr* from = nullptr,
                                          socklen_t from_len = 0);

// The ancillary data of a received msg into out (ifindex, drop_count);
// control messages too short for their type are skipped. Pure.
void decode_ancillary(const msghdr& msg, ReceivedDatagram& out);

// Room for `bytes` in fd's receive queue: SO_RCVBUFFORCE (CAP_NET_ADMIN,
// past net.core.rmem_max), else SO_RCVBUF (capped at rmem_max). The kernel
// charges only what is queued. With count_drops, SO_RXQ_OVFL: every
// datagram then carries the running count of those dropped for want of
// room (ReceivedDatagram::drop_count). Failure only means a smaller queue
// or no count.
void size_receive_queue(int fd, int bytes, bool count_drops);

// The total of a socket's drops from its running SO_RXQ_OVFL counts (32
// bits, wrapping). Pure.
struct DropTally {
    uint64_t total = 0;
    uint32_t last = 0; // the running count last seen
    void note(uint32_t running)
    {
        total += static_cast<uint32_t>(running - last);
        last = running;
    }
};

} // namespace smcroute

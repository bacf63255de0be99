// os/netlink: the one decoder of netlink bytes: walks the messages of a
// datagram and the attributes (rtattr/nlattr) of a message's payload, bounds-
// checked, never trusting a length and never reading past the bytes given.
// Pure (fuzzed through tests/fuzz/fuzz_netlink). Knows nothing of sockets or
// of what a message type or an attribute means: that is its callers'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace smcroute {

struct NetlinkMessage {
    uint16_t type = 0;  // nlmsg_type: NLMSG_DONE, NLMSG_ERROR, RTM_NEWLINK...
    uint16_t flags = 0; // nlmsg_flags: NLM_F_MULTI, NLM_F_DUMP_INTR...
    uint32_t seq = 0;
    std::span<const uint8_t> payload; // the bytes after the header, up to nlmsg_len
};

// The messages of one datagram, in order:
//     NetlinkMessages msgs(bytes);
//     while (auto m = msgs.next()) ...
// next() gives nullopt at the end, and from the first malformed header on
// (what NLMSG_OK rejects: fewer bytes left than a header, nlmsg_len shorter
// than the header or longer than the bytes left). The last message need not
// be padded to 4 bytes.
class NetlinkMessages {
public:
    explicit NetlinkMessages(std::span<const uint8_t> bytes) : rest_(bytes) {}
    std::optional<NetlinkMessage> next();

private:
    std::span<const uint8_t> rest_;
};

struct NetlinkAttr {
    // rta_type as sent: mask it with NLA_TYPE_MASK to drop NLA_F_NESTED and
    // NLA_F_NET_BYTEORDER.
    uint16_t type = 0;
    std::span<const uint8_t> payload; // the bytes after the attribute header, up to rta_len
};

// The attributes of a message payload that follow its fixed header of
// header_size bytes (sizeof(ifinfomsg), sizeof(rtmsg)...), from the header's
// 4-aligned end. next() gives nullopt at the end and from the first malformed
// attribute on (what RTA_OK rejects); none when the payload is shorter than
// the aligned header.
class NetlinkAttrs {
public:
    NetlinkAttrs(std::span<const uint8_t> payload, size_t header_size);
    std::optional<NetlinkAttr> next();

private:
    std::span<const uint8_t> rest_;
};

// The errno an NLMSG_ERROR payload carries (positive), or 0 for an ack. A
// payload shorter than the error field reads as zero bytes past its end; an
// error field that is no negated errno (positive, or INT_MIN) is EPROTO.
int netlink_error_code(std::span<const uint8_t> payload);

} // namespace smcroute

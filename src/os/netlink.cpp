#include "smcroute/os/netlink.hpp"

#include <linux/netlink.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>

namespace smcroute {

namespace {

static_assert(sizeof(nlattr) == 4 && offsetof(nlattr, nla_type) == 2, "rtattr and nlattr: u16 length, u16 type");
static_assert(offsetof(nlmsgerr, error) == 0);

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

// The bytes after the item that starts `rest` and is `len` bytes long (its
// padding included, when there are that many bytes).
std::span<const uint8_t> after(std::span<const uint8_t> rest, size_t len)
{
    return rest.subspan(std::min(align4(len), rest.size()));
}

} // namespace

std::optional<NetlinkMessage> NetlinkMessages::next()
{
    if (rest_.size() < sizeof(nlmsghdr)) {
        rest_ = {};
        return std::nullopt;
    }
    nlmsghdr h;
    std::memcpy(&h, rest_.data(), sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > rest_.size()) {
        rest_ = {};
        return std::nullopt;
    }
    NetlinkMessage m{h.nlmsg_type, h.nlmsg_flags, h.nlmsg_seq,
                     rest_.subspan(sizeof(nlmsghdr), h.nlmsg_len - sizeof(nlmsghdr))};
    rest_ = after(rest_, h.nlmsg_len);
    return m;
}

NetlinkAttrs::NetlinkAttrs(std::span<const uint8_t> payload, size_t header_size)
{
    const size_t start = align4(header_size);
    if (header_size <= payload.size() && start <= payload.size())
        rest_ = payload.subspan(start);
}

std::optional<NetlinkAttr> NetlinkAttrs::next()
{
    // struct rtattr and struct nlattr: a 16-bit length, then a 16-bit type.
    uint16_t len = 0, type = 0;
    if (rest_.size() < sizeof len + sizeof type) {
        rest_ = {};
        return std::nullopt;
    }
    std::memcpy(&len, rest_.data(), sizeof len);
    std::memcpy(&type, rest_.data() + sizeof len, sizeof type);
    if (len < sizeof len + sizeof type || len > rest_.size()) {
        rest_ = {};
        return std::nullopt;
    }
    NetlinkAttr a{type, rest_.subspan(sizeof len + sizeof type, len - sizeof len - sizeof type)};
    rest_ = after(rest_, len);
    return a;
}

int netlink_error_code(std::span<const uint8_t> payload)
{
    int error = 0; // nlmsgerr::error, the payload's first field
    if (!payload.empty())
        std::memcpy(&error, payload.data(), std::min(payload.size(), sizeof error));
    if (error == 0)
        return 0;
    if (error > 0 || error == INT_MIN)
        return EPROTO;
    return -error;
}

} // namespace smcroute

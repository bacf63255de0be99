// tests/fuzz/fuzz_netlink: the netlink walkers (os/netlink) and the rtnetlink
// link-message decoder built on them, on arbitrary bytes, copied into an
// aligned buffer as recv() would fill it.
#include "smcroute/os/interfaces.hpp"
#include "smcroute/os/netlink.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

using namespace smcroute;

namespace {

void check_within(std::span<const uint8_t> inner, const uint8_t* begin, size_t size)
{
    if (!inner.empty() && (inner.data() < begin || inner.data() + inner.size() > begin + size)) {
        std::fprintf(stderr, "fuzz_netlink: a walker's span leaves the buffer\n");
        std::abort();
    }
}

// Every message, and the attributes of each after headers of 0 to 20 bytes
// (rtmsg is 12, ifinfomsg 16), with their spans inside the buffer.
void walk_everything(const uint8_t* buf, size_t size)
{
    NetlinkMessages msgs(std::span<const uint8_t>(buf, size));
    while (auto m = msgs.next()) {
        check_within(m->payload, buf, size);
        (void)netlink_error_code(m->payload);
        for (size_t header = 0; header <= 20; header += 4) {
            NetlinkAttrs attrs(m->payload, header + (m->seq & 3));
            while (auto a = attrs.next())
                check_within(a->payload, buf, size);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // Exactly size bytes on the heap, so ASan sees any read past the end.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[size ? size : 1]);
    if (size)
        std::memcpy(buf.get(), data, size);
    walk_everything(buf.get(), size);
    auto events = decode_link_messages(buf.get(), size);
    for (const auto& ev : events) {
        if (ev.iface.name.view().size() > IfName::max_len) {
            std::fprintf(stderr, "fuzz_netlink: interface name too long\n");
            std::abort();
        }
        (void)ev.iface.up();
        (void)ev.iface.multicast();
    }
    (void)decode_link_messages(nullptr, size);
    return 0;
}

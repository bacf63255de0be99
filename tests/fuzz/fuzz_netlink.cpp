// tests/fuzz/fuzz_netlink: the rtnetlink link-message decoder on arbitrary
// bytes, copied into an aligned buffer as recv() would fill it.
#include "smcroute/os/interfaces.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

using namespace smcroute;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // Exactly size bytes on the heap, so ASan sees any read past the end.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[size ? size : 1]);
    if (size)
        std::memcpy(buf.get(), data, size);
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

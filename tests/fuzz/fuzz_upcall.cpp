// tests/fuzz/fuzz_upcall: the kernel upcall decoder on arbitrary bytes, for
// both families, and the router's upcall handling: the input is cut into
// messages (2-byte little-endian length prefixes, byte 0 bit 0 picks the
// family), each decoded upcall goes to a Router on fake kernels holding a few
// (*,G), prefix and wildcard rules. Aborts if the router misuses the kernel.
#include "fake_kernel.hpp"

#include "smcroute/runtime/router.hpp"

#include <net/if.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

using namespace smcroute;

namespace {

void check(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_upcall invariant broken: %s\n", what);
        std::abort();
    }
}

Interface make_iface(const char* name, unsigned index, unsigned flags = IFF_UP | IFF_MULTICAST)
{
    Interface i;
    i.name = IfName::parse(name).value();
    i.index = index;
    i.flags = flags;
    return i;
}

RouteSpec rule(const char* iif, const char* source, const char* group, std::initializer_list<const char*> oifs)
{
    RouteSpec r;
    r.iif = IfName::parse(iif).value();
    r.group = Prefix::parse(group).value();
    r.source = source ? Prefix::parse(source).value() : Prefix{IpAddr::any(r.group.family()), 0};
    for (const char* o : oifs)
        r.oifs.push_back(IfName::parse(o).value());
    return r;
}

// Decoding a copy of exactly the message's bytes lets ASan see overreads.
std::optional<Upcall> decode_exact(Family f, const uint8_t* p, size_t n)
{
    std::unique_ptr<uint8_t[]> buf(new uint8_t[n ? n : 1]);
    if (n)
        std::memcpy(buf.get(), p, n);
    return decode_upcall(f, std::span<const uint8_t>(buf.get(), n));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // The whole input as one message, both ways.
    for (Family f : {Family::inet, Family::inet6}) {
        auto up = decode_exact(f, data, size);
        if (up) {
            check(up->source.family() == f && up->group.family() == f, "upcall of the wrong family");
            check(up->vif <= 0xffff, "vif out of range");
        }
    }
    if (size < 1)
        return 0;

    Logger log;
    log.set_level(LogLevel::none);
    test::FakeKernel k4{Family::inet}, k6{Family::inet6};
    Router router{log, &k4, &k6};
    router.set_interfaces({make_iface("lo", 1, IFF_UP | IFF_LOOPBACK), make_iface("eth0", 2), make_iface("eth1", 3),
                           make_iface("eth2", 4), make_iface("vlan10", 5), make_iface("vlan11", 6)});
    check(router.add(rule("eth0", nullptr, "225.1.2.3", {"eth1", "eth2"}), Origin::config).ok(), "rule 1");
    check(router.add(rule("eth0", "10.0.0.0/8", "239.0.0.0/8", {"eth1"}), Origin::config).ok(), "rule 2");
    check(router.add(rule("vlan+", nullptr, "225.0.0.0/8", {"eth2", "vlan+"}), Origin::config).ok(), "rule 3");
    check(router.add(rule("eth1", nullptr, "ff0e::/16", {"eth0", "eth2"}), Origin::config).ok(), "rule 4");
    check(router.add(rule("eth+", "2001:db8::/32", "ff05::1:3", {"vlan10"}), Origin::config).ok(), "rule 5");
    check(router.add(rule("eth0", "10.1.1.1", "225.9.9.9", {"eth1"}), Origin::config).ok(), "route 1");

    size_t pos = 1;
    unsigned n = 0;
    while (pos + 2 <= size && n++ < 256) {
        size_t len = data[pos] | (static_cast<size_t>(data[pos + 1]) << 8);
        pos += 2;
        len = std::min(len, size - pos);
        // Byte 0 bit 0 picks the family of the first message; they alternate.
        Family f = ((n ^ data[0]) & 1) ? Family::inet : Family::inet6;
        if (auto up = decode_exact(f, data + pos, len))
            router.handle_upcall(f, *up);
        pos += len;
        if (n % 16 == 0)
            router.flush_dynamic();
        check(k4.misuse.empty() && k6.misuse.empty(), "router misused the (fake) kernel");
    }
    router.for_each_route([](const RouteView&) {});
    router.clear();
    check(k4.mfc.empty() && k6.mfc.empty(), "clear() left kernel entries");
    check(k4.vifs.empty() && k6.vifs.empty(), "clear() left VIFs");
    return 0;
}

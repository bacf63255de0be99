// kernel_probe: can this kernel, in the caller's network namespace, route
// multicast? Opens the IPv4 (MRT_INIT) and IPv6 (MRT6_INIT) multicast
// routing sockets through os/mroute, as the daemon does, and says what it
// found. Used by tests/vm/routing_kernel.sh to choose between the host
// kernel and the VM runner, and by the VM runner's own test. Run it in a
// private namespace (unshare -n): it takes table 0 for a moment.
// Exit 0 when both families work, 1 otherwise.
#include "smcroute/os/mroute.hpp"

#include <iostream>

using namespace smcroute;

int main()
{
    int failures = 0;
    for (Family f : {Family::inet, Family::inet6}) {
        auto m = open_mroute(f, 0);
        const char* name = f == Family::inet ? "ipv4 multicast routing (MRT_INIT)" : "ipv6 multicast routing (MRT6_INIT)";
        if (m.ok()) {
            std::cout << name << ": ok\n";
        } else {
            std::cout << name << ": " << m.error().message << "\n";
            ++failures;
        }
    }
    return failures == 0 ? 0 : 1;
}

// os/system_probe: gathers the SystemFacts that `smcroute check` judges —
// interfaces with flags and addresses, the sysctls that matter, the route back
// to each source, who holds the multicast routing table, the open-file limit.
// Only reads; the one intrusive step is a brief MRT_INIT try when root. Does
// not talk to the daemon (the caller fills SystemFacts::daemon_answers).
#pragma once

#include "smcroute/model/diagnose.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace smcroute {

struct ProbeRequest {
    uint32_t table = 0;          // the kernel multicast routing table to ask about
    std::vector<IpAddr> sources; // look up the route back to each (IPv4)
    bool v4 = true, v6 = true;   // families whose routing table holder to probe
    std::string proc = "/proc";  // root of procfs (tests may point elsewhere)
};

// Errors only when the interface list itself cannot be read.
Result<SystemFacts> probe_system(const ProbeRequest& req);

// The interface the kernel's routing table uses to reach dst (RTM_GETROUTE);
// "" when there is no route.
Result<std::string> route_interface(const IpAddr& dst);

// Processes holding a raw socket of the multicast-routing protocol (IGMP for
// IPv4, ICMPv6 for IPv6), other than this one: "pid 123 (igmpproxy)", joined
// by ", ". Empty when none is found (or /proc/PID/fd cannot be read).
std::string routing_socket_holders(Family f, const std::string& proc = "/proc");

} // namespace smcroute

// model/diagnose: `smcroute check` as a pure function. Given what the config
// (or one route) asks for and a snapshot of the system (SystemFacts, gathered
// by os/system_probe), lists every reason multicast would not flow, each with
// the command that fixes it. No syscalls, no files: facts in, findings out.
// What the config alone says (errors, loops, disabled interfaces, conflicting
// routes) is model/config_judge's verdict, which check reports beside these.
#pragma once

#include "smcroute/model/config.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace smcroute {

// One interface as the system has it now.
struct IfFacts {
    std::string name;
    unsigned index = 0;
    bool up = false;        // IFF_UP
    bool carrier = true;    // IFF_LOWER_UP
    bool multicast = false; // IFF_MULTICAST
    bool loopback = false;
    std::vector<Prefix> v4_subnets; // connected subnets (address masked to its prefix)
    bool has_v4_address = false;
    bool has_v6_address = false;    // any, link-local included
    std::optional<int> rp_filter;   // net.ipv4.conf.IF.rp_filter
    std::optional<bool> v4_vif;     // net.ipv4.conf.IF.mc_forwarding != 0 (a VIF exists)
    std::optional<bool> v6_vif;     // net.ipv6.conf.IF.mc_forwarding != 0 (a MIF exists)
};

// Who holds the kernel's multicast routing table of a family.
enum class TableHolder {
    unknown, // could not tell (not root and nothing else to go by)
    nobody,  // free: no multicast routing daemon runs, the kernel forwards nothing
    held,    // some process holds it (ours when daemon_answers)
};

struct FamilyFacts {
    bool kernel_support = true; // /proc/net/ip_mr_vif (ip6_mr_vif) exists
    TableHolder holder = TableHolder::unknown;
    std::string holder_detail;  // "pid 123 (igmpproxy)", when known
};

struct SystemFacts {
    std::vector<IfFacts> interfaces;
    bool daemon_answers = false; // our daemon answered on its IPC socket
    uint32_t table = 0;          // the kernel table checked
    FamilyFacts v4, v6;
    std::optional<int> all_rp_filter; // net.ipv4.conf.all.rp_filter
    // The interface the kernel's routing table uses to reach a source
    // ("" = no route at all). Sources not looked up are absent.
    std::map<IpAddr, std::string> route_to_source;
    std::optional<uint64_t> igmp_max_memberships; // net.ipv4.igmp_max_memberships
    std::optional<uint64_t> nofile_limit;         // hard RLIMIT_NOFILE (the daemon raises its soft limit to it)

    const IfFacts* find(std::string_view name) const;
};

struct Finding {
    Severity severity = Severity::error; // error: multicast will not flow; warning: may not, or loops
    std::string subject; // "eth1", "route (10.0.1.2, 225.1.2.3) from a1 (file:3)", "IPv4 routing"
    std::string message; // plain words, no trailing period
    std::string fix;     // a command (or config change) that fixes it; may be empty
};

// What is being checked, and how a fix should start the daemon.
struct CheckRequest {
    Config config;
    // For a config file: "file:line" is appended to route subjects; the
    // per-interface "no VIF yet, reload" findings apply.
    bool whole_config = true;
    std::string daemon_command = "smcroute -d"; // the fix when no daemon runs
};

// File descriptors kept free for the daemon's own use when counting how many
// membership sockets fit under RLIMIT_NOFILE.
inline constexpr uint64_t nofile_margin = 64;

// Every finding, in a stable order: system-wide first, then per interface
// (each interface once, in order of first use), then per route and join.
std::vector<Finding> diagnose(const CheckRequest& req, const SystemFacts& facts);

// The sources worth a route lookup (for SystemFacts::route_to_source): the
// source of every IPv4 route with a source.
std::vector<IpAddr> sources_to_look_up(const Config& config);
// The families the config uses (routes, joins, proxy lines).
bool uses_family(const Config& config, Family f);

} // namespace smcroute

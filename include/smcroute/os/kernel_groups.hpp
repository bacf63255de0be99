// os/kernel_groups: what the kernel holds as group memberships, per interface
// and by anyone (for `show memberships`, in the spirit of ifmcstat(8)), read
// from /proc/net/{igmp,igmp6,mcfilter,mcfilter6}. Parsing is pure (takes the
// file text); only read_kernel_memberships() touches the file system.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/base/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

enum class FilterMode { include, exclude };
std::string_view filter_mode_name(FilterMode m); // "include" / "exclude"

// A group an interface listens to (/proc/net/igmp, /proc/net/igmp6).
struct ProcGroup {
    unsigned ifindex = 0;
    std::string ifname;
    IpAddr group;
    unsigned users = 0; // sockets (and kernel users) holding it
};

// A source in an interface's filter for a group (/proc/net/mcfilter{,6}):
// how many sockets include it and how many exclude it. The device name there
// is cut to 6 characters, so join by ifindex.
struct ProcSource {
    unsigned ifindex = 0;
    IpAddr group;
    IpAddr source;
    unsigned include = 0;
    unsigned exclude = 0;
};

// Each parser skips headers and lines it cannot read.
// /proc/net/igmp prints the group as the raw 32-bit value in host byte order
// (on x86 224.0.0.1 is "010000E0"); /proc/net/mcfilter prints network order
// as a number ("0xe0000001").
std::vector<ProcGroup> parse_proc_igmp(std::string_view text);
std::vector<ProcGroup> parse_proc_igmp6(std::string_view text);
std::vector<ProcSource> parse_proc_mcfilter(std::string_view text);
std::vector<ProcSource> parse_proc_mcfilter6(std::string_view text);

// One group on one interface with its source filter.
// Mode: a group with sources only included is INCLUDE {those sources}; a group
// with excluded sources is EXCLUDE {sources excluded and not included}; a group
// without filter lines is EXCLUDE {} (ASM). The files do not show whether an
// ASM socket shares a group with SSM sockets: that case reads as INCLUDE.
struct KernelMembership {
    unsigned ifindex = 0;
    std::string ifname;
    IpAddr group;
    unsigned users = 0;
    FilterMode mode = FilterMode::exclude;
    std::vector<IpAddr> sources; // sorted
};

// Groups in the order of the group file (by interface); sources attached by
// (ifindex, group).
std::vector<KernelMembership> merge_memberships(const std::vector<ProcGroup>& groups,
                                                const std::vector<ProcSource>& sources);

// Both families, IPv4 first. A missing IPv6 file (no IPv6) yields no IPv6
// entries; a missing IPv4 file is an error.
Result<std::vector<KernelMembership>> read_kernel_memberships(const std::string& proc_net = "/proc/net");

} // namespace smcroute

// os/mroute: the kernel's multicast routing API for one address family
// (MRT_* on a raw IGMP socket, MRT6_* on a raw ICMPv6 socket): VIF/MIF slots,
// MFC entries, counters and upcalls. An abstract class so the router logic can
// be tested against a fake kernel. Holds no routing policy at all.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/base/result.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace smcroute {

inline constexpr unsigned max_vifs = 32; // MAXVIFS and MAXMIFS

struct MfcCounters {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t wrong_if = 0;
};

struct Upcall {
    enum class Kind { nocache, wrongvif, wholepkt, other };
    Kind kind = Kind::other;
    unsigned vif = 0; // the VIF/MIF the packet arrived on
    IpAddr source;
    IpAddr group;
};

// Decode one message read from a multicast routing socket. Returns nullopt for
// anything that is not a well-formed upcall (e.g. ordinary IGMP/ICMPv6 packets).
// Pure: safe on arbitrary bytes (fuzzed).
std::optional<Upcall> decode_upcall(Family family, std::span<const uint8_t> bytes);

// Upcall counts of one routing socket since it was opened.
struct UpcallSocketStats {
    uint64_t read = 0;    // messages read (upcalls or not)
    uint64_t dropped = 0; // the kernel dropped them: receive queue full (SO_RXQ_OVFL)
};

class MrouteSocket {
public:
    virtual ~MrouteSocket() = default;
    virtual Family family() const = 0;
    // Descriptor to poll for upcalls; -1 when there is none (fake kernel).
    virtual int fd() const = 0;

    virtual Status add_vif(unsigned vif, unsigned ifindex, uint8_t ttl_threshold) = 0;
    virtual Status del_vif(unsigned vif, unsigned ifindex) = 0;
    // oif_ttl[v] != 0 forwards to VIF v when the packet's TTL exceeds it.
    // Adding an existing (S,G) replaces it.
    virtual Status add_mfc(const IpAddr& source, const IpAddr& group, unsigned iif_vif,
                           const std::array<uint8_t, max_vifs>& oif_ttl) = 0;
    virtual Status del_mfc(const IpAddr& source, const IpAddr& group) = 0;
    virtual Result<MfcCounters> counters(const IpAddr& source, const IpAddr& group) = 0;
    // Read pending upcalls without blocking (may be empty): at most a few
    // thousand per call, so one call cannot starve the loop; nothing is
    // queued in user space beyond the batch returned.
    virtual std::vector<Upcall> read_upcalls() = 0;
    // What was read and what the kernel dropped before it could be read.
    virtual UpcallSocketStats upcall_stats() const { return {}; }
};

// Open, MRT_TABLE (when table != 0 — for table 0 the default table is used),
// MRT_INIT; enable WRONGVIF/PIM-free upcalls; large receive buffer; the
// kernel's drop counter on every message (SO_RXQ_OVFL).
// Errors carry errno: EADDRINUSE when another daemon holds the table,
// ENOPROTOOPT/EPROTONOSUPPORT/EAFNOSUPPORT when the kernel lacks support.
// Texts: "multicast routing table N is in use by another daemon",
// "no IPv4 multicast routing support in the kernel" (IPv6 likewise).
Result<std::unique_ptr<MrouteSocket>> open_mroute(Family family, uint32_t table);

} // namespace smcroute

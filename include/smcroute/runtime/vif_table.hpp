// runtime/vif_table: the VIF (IPv4) or MIF (IPv6) slots of one family.
// Allocates a slot lazily for an interface on first reference and releases it
// with the last, through the kernel interface. Holds no routes.
#pragma once

#include "smcroute/base/log.hpp"
#include "smcroute/os/mroute.hpp"

#include <array>
#include <optional>
#include <unordered_map>

namespace smcroute {

class VifTable {
public:
    VifTable(MrouteSocket& kernel, Logger& log) : kernel_(kernel), log_(log) {}

    // Take one reference on the slot of ifindex, creating it when needed.
    // Errors: "no free VIF for eth3 (all 32 in use)" or the kernel's refusal.
    Result<unsigned> acquire(unsigned ifindex, std::string_view name, uint8_t ttl_threshold);
    // Drop one reference; the slot is deleted with its last.
    void release(unsigned vif);
    // The interface vanished: the kernel dropped its slot itself; forget it.
    void forget_ifindex(unsigned ifindex);

    std::optional<unsigned> vif_of(unsigned ifindex) const;
    // ifindex of a slot, 0 when free.
    unsigned ifindex_of(unsigned vif) const { return vif < max_vifs ? slots_[vif].ifindex : 0; }
    unsigned refs(unsigned vif) const { return vif < max_vifs ? slots_[vif].refs : 0; }
    size_t used() const { return by_ifindex_.size(); }
    void release_all(); // delete every slot (exit)

private:
    struct Slot {
        unsigned ifindex = 0;
        unsigned refs = 0;
    };
    MrouteSocket& kernel_;
    Logger& log_;
    std::array<Slot, max_vifs> slots_{};
    std::unordered_map<unsigned, unsigned> by_ifindex_;
};

} // namespace smcroute

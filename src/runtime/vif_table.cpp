#include "smcroute/runtime/vif_table.hpp"

namespace smcroute {

Result<unsigned> VifTable::acquire(unsigned ifindex, std::string_view name, uint8_t ttl_threshold)
{
    if (auto it = by_ifindex_.find(ifindex); it != by_ifindex_.end()) {
        ++slots_[it->second].refs;
        return it->second;
    }
    for (unsigned vif = 0; vif < max_vifs; ++vif) {
        if (slots_[vif].ifindex != 0)
            continue;
        if (auto st = kernel_.add_vif(vif, ifindex, ttl_threshold); !st)
            return fail(cat("cannot add ", kernel_.family() == Family::inet ? "VIF" : "MIF", " for ", name, ": ",
                            st.error().message));
        slots_[vif] = Slot{ifindex, 1};
        by_ifindex_.emplace(ifindex, vif);
        log_.debug(cat(family_name(kernel_.family()), " vif ", vif, " added for ", name));
        return vif;
    }
    return fail(cat("no free ", kernel_.family() == Family::inet ? "VIF" : "MIF", " for ", name, " (all ", max_vifs,
                    " in use)"));
}

void VifTable::release(unsigned vif)
{
    if (vif >= max_vifs || slots_[vif].ifindex == 0)
        return;
    Slot& s = slots_[vif];
    if (--s.refs > 0)
        return;
    if (auto st = kernel_.del_vif(vif, s.ifindex); !st)
        log_.debug(st.error().message);
    by_ifindex_.erase(s.ifindex);
    s = Slot{};
}

void VifTable::forget_ifindex(unsigned ifindex)
{
    auto it = by_ifindex_.find(ifindex);
    if (it == by_ifindex_.end())
        return;
    // The kernel removes the slot of a vanished device itself; deleting it
    // again is harmless and covers a device that was only renamed.
    (void)kernel_.del_vif(it->second, ifindex);
    slots_[it->second] = Slot{};
    by_ifindex_.erase(it);
}

std::optional<unsigned> VifTable::vif_of(unsigned ifindex) const
{
    auto it = by_ifindex_.find(ifindex);
    if (it == by_ifindex_.end())
        return std::nullopt;
    return it->second;
}

void VifTable::release_all()
{
    for (unsigned vif = 0; vif < max_vifs; ++vif)
        if (slots_[vif].ifindex != 0)
            (void)kernel_.del_vif(vif, slots_[vif].ifindex);
    slots_ = {};
    by_ifindex_.clear();
}

} // namespace smcroute

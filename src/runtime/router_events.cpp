// runtime/router, events: what the Router tells the event bus (runtime/
// events) — entries learned (from rules or the proxy), installed as stop
// filters, expired or moved;
// interfaces appearing and vanishing and the pending routes they activate;
// upcall losses. Called only while the bus has subscribers.
#include "smcroute/runtime/router.hpp"

namespace smcroute {

namespace {

Event sg_event(EventKind kind, const SgKey& key)
{
    Event ev{kind, {}};
    ev.add("source", key.source.str()).add("group", key.group.str());
    return ev;
}

} // namespace

void Router::publish_installed(const FamilyState& fs, const SgKey& key, std::string_view iif)
{
    auto it = dynamic_.find(key);
    if (it == dynamic_.end())
        return; // refused by the kernel: logged, nothing installed
    const Dynamic& d = it->second;
    Event ev = sg_event(d.rule ? EventKind::learned : EventKind::stop_filter, key);
    ev.add("iif", std::string(iif));
    if (d.rule) {
        ev.add("oifs", mask_names(fs, d.hold.oif_mask));
        ev.add("rule", d.rule->proxy ? std::string("proxy") : cat(d.rule->spec.iif.view(), " ", d.rule->spec.key_str()));
    }
    events_->publish(ev);
}

void Router::publish_expired(const FamilyState& fs, const SgKey& key, const Dynamic& d)
{
    Event ev = sg_event(EventKind::expired, key);
    auto iif = mask_names(fs, 1u << d.hold.iif_vif);
    ev.add("iif", iif.empty() ? std::string("?") : iif.front());
    ev.add("entry", std::string(!d.rule ? "stop_filter" : d.rule->proxy ? "proxy" : "learned"));
    events_->publish(ev);
}

void Router::publish_moved(const SgKey& key, std::string_view from, std::string_view to)
{
    Event ev = sg_event(EventKind::wrongvif_move, key);
    ev.add("from", std::string(from)).add("to", std::string(to));
    events_->publish(ev);
}

void Router::publish_link(bool added, std::string_view name, unsigned ifindex)
{
    Event ev{added ? EventKind::interface_added : EventKind::interface_removed, {}};
    ev.add("interface", std::string(name)).add("ifindex", uint64_t{ifindex});
    events_->publish(ev);
}

void Router::publish_activated(std::string_view ifname, size_t before)
{
    if (activations_ == before)
        return;
    Event ev{EventKind::pending_activated, {}};
    ev.add("interface", std::string(ifname)).add("count", uint64_t{activations_ - before});
    events_->publish(ev);
}

void Router::publish_losses(uint64_t dropped, uint64_t refused, const UpcallStats& totals)
{
    Event ev{EventKind::upcall_losses, {}};
    ev.add("kernel_dropped", dropped).add("refused", refused);
    ev.add("total_kernel_dropped", totals.kernel_dropped).add("total_refused", totals.refused);
    events_->publish(ev);
}

} // namespace smcroute

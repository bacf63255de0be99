// runtime/router, the kernel in line: link events and interface resyncs,
// VIF holds (acquire, release, program), and reconciling static routes,
// rules and their learned entries with the interfaces present.
#include "smcroute/runtime/router.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

namespace smcroute {

// Interfaces ---------------------------------------------------------------------

void Router::set_interfaces(const std::vector<Interface>& list)
{
    ++version_;
    // Interfaces that vanished or changed index lose their entries first.
    std::map<unsigned, Interface> next;
    for (const auto& i : list)
        next.emplace(i.index, i);
    std::vector<Interface> gone;
    for (const auto& [index, iface] : ifaces_) {
        auto it = next.find(index);
        if (it == next.end() || !(it->second.name == iface.name))
            gone.push_back(iface);
    }
    for (const auto& g : gone)
        link_event(LinkEvent{LinkEvent::Kind::removed, g});
    ifaces_ = std::move(next);
    index_by_name_.clear();
    for (const auto& [index, iface] : ifaces_)
        index_by_name_[iface.name] = index;
    reconcile_all();
}

void Router::link_event(const LinkEvent& ev)
{
    ++version_;
    if (ev.kind == LinkEvent::Kind::removed) {
        auto it = ifaces_.find(ev.iface.index);
        if (it == ifaces_.end())
            return;
        IfName name = it->second.name;
        ifaces_.erase(it);
        if (auto jt = index_by_name_.find(name); jt != index_by_name_.end() && jt->second == ev.iface.index)
            index_by_name_.erase(jt);
        log_.info(cat("interface ", name.view(), " (index ", ev.iface.index, ") removed"));
        if (publishing())
            publish_link(false, name.view(), ev.iface.index);
        reconcile_interface(name, ev.iface.index);
        // Anything still holding the vanished slot is stale: forget it.
        for (FamilyState* fs : {v4_.get(), v6_.get()})
            if (fs)
                fs->vifs.forget_ifindex(ev.iface.index);
        return;
    }
    auto it = ifaces_.find(ev.iface.index);
    if (ev.iface.name.empty()) { // a message without a name: flags at most
        if (it != ifaces_.end())
            it->second.flags = ev.iface.flags;
        return;
    }
    bool renamed = it != ifaces_.end() && !(it->second.name == ev.iface.name);
    bool is_new = it == ifaces_.end();
    if (renamed) {
        link_event(LinkEvent{LinkEvent::Kind::removed, it->second});
        is_new = true;
    }
    if (!is_new) {
        it->second.flags = ev.iface.flags;
        return;
    }
    // A name now on another index: the old one is gone.
    if (auto jt = index_by_name_.find(ev.iface.name); jt != index_by_name_.end() && jt->second != ev.iface.index) {
        auto old = ifaces_.find(jt->second);
        if (old != ifaces_.end())
            link_event(LinkEvent{LinkEvent::Kind::removed, old->second});
    }
    ifaces_[ev.iface.index] = ev.iface;
    index_by_name_[ev.iface.name] = ev.iface.index;
    log_.info(cat("interface ", ev.iface.name.view(), " (index ", ev.iface.index, ") appeared"));
    if (publishing())
        publish_link(true, ev.iface.name.view(), ev.iface.index);
    const size_t activations = activations_;
    reconcile_interface(ev.iface.name, 0);
    if (publishing())
        publish_activated(ev.iface.name.view(), activations);
}

// VIF holds ---------------------------------------------------------------------

Result<Router::Hold> Router::acquire(FamilyState& fs, const Interface& iif, const std::vector<IfName>& oifs)
{
    Hold h;
    auto iv = fs.vifs.acquire(iif.index, iif.name.view(), ttl_threshold(iif.name.view()));
    if (!iv)
        return iv.take_error();
    h.iif_vif = *iv;
    auto take = [&](const Interface& o) -> Status {
        if (o.index == iif.index || disabled(o.name.view()))
            return {};
        auto ov = fs.vifs.acquire(o.index, o.name.view(), ttl_threshold(o.name.view()));
        if (!ov)
            return ov.take_error();
        if (h.oif_mask & (1u << *ov))
            fs.vifs.release(*ov); // two names for one interface
        else
            h.oif_mask |= 1u << *ov;
        return {};
    };
    // A missing or disabled OIF is left out: the others forward (as in 2.x).
    for (const IfName& name : oifs) {
        Status st;
        if (name.is_wildcard()) {
            for (const auto& [index, o] : ifaces_)
                if (name.matches(o.name.view()) && !o.loopback() && !(st = take(o)))
                    break;
        } else if (auto it = index_by_name_.find(name); it != index_by_name_.end()) {
            st = take(ifaces_.at(it->second));
        }
        if (!st) {
            release(fs, h);
            return st.take_error();
        }
    }
    return h;
}

void Router::release(FamilyState& fs, const Hold& h)
{
    fs.vifs.release(h.iif_vif);
    for (uint32_t m = h.oif_mask; m; m &= m - 1)
        fs.vifs.release(static_cast<unsigned>(std::countr_zero(m)));
}

Status Router::program(FamilyState& fs, const SgKey& key, const Hold& h)
{
    std::array<uint8_t, max_vifs> ttl{};
    for (uint32_t m = h.oif_mask; m; m &= m - 1) {
        unsigned vif = static_cast<unsigned>(std::countr_zero(m));
        auto it = ifaces_.find(fs.vifs.ifindex_of(vif));
        ttl[vif] = it == ifaces_.end() ? 1 : std::max<uint8_t>(1, ttl_threshold(it->second.name.view()));
    }
    return fs.kernel->add_mfc(key.source, key.group, h.iif_vif, ttl);
}

void Router::unprogram(FamilyState& fs, const SgKey& key)
{
    if (auto st = fs.kernel->del_mfc(key.source, key.group); !st && log_.enabled(LogLevel::debug))
        log_.debug(st.error().message);
}

// Bringing the kernel in line ------------------------------------------------------

Status Router::reconcile_static(StaticEntry& e)
{
    const SgKey& key = e.first;
    StaticRoute& r = e.second;
    const IfacesKey& ifs = *r.ifs->key;
    FamilyState* fs = family_state(key.group.family());
    if (!fs)
        return fail(cat(family_name(key.group.family()), " multicast routing is not available"));
    Why why; // a missing or disabled interface: wait for it
    Result<Hold> next = fail("");
    auto it = index_by_name_.find(ifs.iif);
    if (it == index_by_name_.end())
        why.code = Pending::iif_missing;
    else if (disabled(ifs.iif.view()))
        why.code = Pending::iif_disabled;
    else
        next = acquire(*fs, ifaces_.at(it->second), ifs.oifs);

    auto withdraw = [&] {
        if (r.hold.in_kernel) {
            unprogram(*fs, key);
            release(*fs, r.hold);
        }
        r.hold = Hold{};
    };
    auto set_why = [&](Why w) {
        if (r.why.code == Pending::kernel && w.code != Pending::kernel)
            kernel_errors_.erase(key);
        r.why = w;
    };
    if (why.code != Pending::none) {
        withdraw();
        bool changed = r.why != why;
        set_why(why);
        if (changed && log_.enabled(LogLevel::notice))
            log_.notice(cat("route ", spec_of(e).key_str(), " pending: ", reason_of(e)));
        return {};
    }
    Status st = next ? Status{} : Status{next.take_error()};
    Hold h;
    if (st) {
        h = *next;
        h.in_kernel = true;
        if (r.hold == h) { // unchanged: leave the kernel alone
            release(*fs, h);
            return {};
        }
        drop_dynamic(key, false); // a learned entry or stop filter gives way
        st = program(*fs, key, h);
        if (!st)
            release(*fs, h);
    }
    if (!st) {
        withdraw();
        set_why(Why{Pending::kernel});
        kernel_errors_[key] = st.error().message;
        return fail(cat("add route ", spec_of(e).key_str(), " from ", ifs.iif.view(), ": ", st.error().message));
    }
    if (r.hold.in_kernel)
        release(*fs, r.hold);
    r.hold = h;
    if (r.why.code != Pending::none)
        ++activations_;
    set_why(Why{});
    if (log_.enabled(LogLevel::notice))
        if (std::string gaps = oif_gaps(ifs.oifs); !gaps.empty())
            log_.notice(cat("route ", spec_of(e).key_str(), " forwards without: ", gaps));
    return {};
}

void Router::reconcile_rule(Rule& rule)
{
    FamilyState* fs = family_state(rule.spec.family());
    std::vector<unsigned> vifs;
    std::string reason;
    // A named OIF that is missing or disabled is left out of what the rule
    // installs (the others forward), as for an (S,G) route.
    if (!fs) {
        reason = cat(family_name(rule.spec.family()), " multicast routing is not available");
    } else {
        for (const auto& [index, iface] : ifaces_) {
            if (!rule.spec.iif.matches(iface.name.view()) || disabled(iface.name.view()) || iface.loopback())
                continue;
            auto v = fs->vifs.acquire(index, iface.name.view(), ttl_threshold(iface.name.view()));
            if (!v) {
                log_.error(cat(rule.proxy ? "proxy " : "rule ", rule.spec.key_str(), ": ", v.error().message));
                continue;
            }
            vifs.push_back(*v);
        }
        if (vifs.empty())
            reason = cat("inbound interface ", rule.spec.iif.view(), " does not exist");
    }
    if (!reason.empty() && reason != rule.pending_reason)
        log_.notice(cat(rule.proxy ? cat("proxy rule ", rule.spec.iif.view(), " ") : std::string("rule "),
                        rule.spec.key_str(), " pending: ", reason));
    std::sort(vifs.begin(), vifs.end());
    bool changed = vifs != rule.iif_vifs;
    if (fs) {
        for (unsigned v : rule.iif_vifs)
            fs->vifs.release(v);
    }
    rule.iif_vifs = std::move(vifs);
    if (!rule.pending_reason.empty() && reason.empty())
        ++activations_;
    rule.pending_reason = reason;
    reconcile_learned(rule);
    if (changed)
        reevaluate_stop_filters(rule);
}

void Router::reconcile_learned(Rule& rule)
{
    FamilyState* fs = family_state(rule.spec.family());
    if (!fs)
        return;
    std::vector<SgKey> keys(rule.learned.begin(), rule.learned.end());
    for (const auto& key : keys)
        reconcile_entry(*fs, rule, key);
}

void Router::reconcile_entry(FamilyState& fs, Rule& rule, const SgKey& key)
{
    Dynamic& d = dynamic_.at(key);
    auto it = ifaces_.find(fs.vifs.ifindex_of(d.hold.iif_vif));
    if (it == ifaces_.end() || !rule_matches(rule, it->second, key) || disabled(it->second.name.view()) ||
        !rule.pending_reason.empty()) {
        drop_dynamic(key, true);
        return;
    }
    auto next = acquire_for(fs, rule, it->second, key);
    if (!next) {
        log_.error(cat(rule.proxy ? "proxy " : "rule ", rule.spec.key_str(), ": ", next.error().message));
        drop_dynamic(key, true);
        return;
    }
    Hold h = *next;
    h.in_kernel = true;
    if (h == d.hold) { // unchanged: leave the kernel alone
        release(fs, h);
        return;
    }
    if (auto st = program(fs, key, h); !st) {
        log_.error(st.error().message);
        release(fs, h);
        drop_dynamic(key, true);
        return;
    }
    assert(h.iif_vif == d.hold.iif_vif); // held: the interface keeps its slot
    release(fs, d.hold);
    d.hold = h;
}

void Router::reconcile_all()
{
    for (auto& e : static_)
        if (auto st = reconcile_static(e); !st)
            log_.error(st.error().message);
    for (auto& [key, rule] : rules_)
        reconcile_rule(rule);
    for (auto& [key, rule] : proxy_rules_)
        reconcile_rule(rule);
    // Learned entries and stop filters whose interfaces are gone.
    std::vector<SgKey> stale;
    for (const auto& [key, d] : dynamic_) {
        const FamilyState* fs = family_state(key.group.family());
        auto alive = [&](unsigned vif) { return ifaces_.count(fs->vifs.ifindex_of(vif)) != 0; };
        bool ok = alive(d.hold.iif_vif);
        for (uint32_t m = d.hold.oif_mask; ok && m; m &= m - 1)
            ok = alive(static_cast<unsigned>(std::countr_zero(m)));
        if (!ok)
            stale.push_back(key);
    }
    for (const auto& key : stale)
        drop_dynamic(key, true);
}

void Router::reconcile_interface(const IfName& name, unsigned removed_ifindex)
{
    // Entries arriving on a vanished interface go first.
    if (removed_ifindex != 0)
        for (FamilyState* fs : {v4_.get(), v6_.get()}) {
            if (!fs)
                continue;
            auto vif = fs->vifs.vif_of(removed_ifindex);
            if (!vif)
                continue;
            std::vector<SgKey> gone;
            for (DynamicEntry* d = fs->dynamic_on_vif[*vif]; d; d = d->second.next)
                gone.push_back(d->first);
            for (const auto& key : gone)
                drop_dynamic(key, true);
        }
    std::string_view ifname = name.view();
    auto wildcard_matches = [&](const std::vector<IfName>& oifs) {
        for (const auto& o : oifs)
            if (o.is_wildcard() && o.matches(ifname))
                return true;
        return false;
    };
    // Static routes naming it (IIF or OIF) or with a wildcard OIF matching it.
    std::vector<IfaceSet*> sets;
    const std::unordered_set<IfaceSet*>* named_sets = nullptr;
    if (auto it = sets_by_name_.find(name); it != sets_by_name_.end()) {
        named_sets = &it->second;
        sets.assign(it->second.begin(), it->second.end());
    }
    for (IfaceSet* set : wildcard_sets_)
        if (!(named_sets && named_sets->count(set)) && wildcard_matches(set->key->oifs))
            sets.push_back(set);
    std::vector<StaticEntry*> routes;
    for (IfaceSet* set : sets)
        for (StaticEntry* e = set->members; e; e = e->second.next)
            routes.push_back(e);
    for (StaticEntry* e : routes)
        if (auto st = reconcile_static(*e); !st)
            log_.error(st.error().message);
    // Rules likewise, oldest first.
    std::vector<Rule*> rules;
    const std::unordered_set<Rule*>* named_rules = nullptr;
    if (auto it = rules_by_name_.find(name); it != rules_by_name_.end()) {
        named_rules = &it->second;
        rules.assign(it->second.begin(), it->second.end());
    }
    for (Rule* r : wildcard_rules_)
        if (!(named_rules && named_rules->count(r)) &&
            ((r->spec.iif.is_wildcard() && r->spec.iif.matches(ifname)) || wildcard_matches(r->spec.oifs)))
            rules.push_back(r);
    // A proxy entry's OIFs may be any interface a proxy rule of its family
    // covers: one of them changing re-evaluates every proxy rule of that family.
    for (FamilyState* fs : {v4_.get(), v6_.get()}) {
        if (!fs || fs->proxy_rules.empty())
            continue;
        const Family f = fs->kernel->family();
        if (std::none_of(rules.begin(), rules.end(), [&](const Rule* r) { return r->proxy && r->spec.family() == f; }))
            continue;
        for (Rule* r : fs->proxy_rules)
            if (std::find(rules.begin(), rules.end(), r) == rules.end())
                rules.push_back(r);
    }
    std::sort(rules.begin(), rules.end(), [](const Rule* a, const Rule* b) { return a->seq < b->seq; });
    for (Rule* r : rules)
        reconcile_rule(*r);
}

} // namespace smcroute

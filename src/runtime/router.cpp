#include "smcroute/runtime/router.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <utility>

namespace smcroute {

Router::Router(Logger& log, MrouteSocket* v4, MrouteSocket* v6) : log_(log)
{
    if (v4)
        v4_ = std::make_unique<FamilyState>(FamilyState{v4, VifTable(*v4, log), {}});
    if (v6)
        v6_ = std::make_unique<FamilyState>(FamilyState{v6, VifTable(*v6, log), {}});
}

Router::~Router()
{
    assert(listings_ == 0 && "a Router::Listing outlived its Router");
}

Router::FamilyState* Router::family_state(Family f)
{
    return f == Family::inet ? v4_.get() : v6_.get();
}

const Router::FamilyState* Router::family_state(Family f) const
{
    return f == Family::inet ? v4_.get() : v6_.get();
}

// Interfaces -------------------------------------------------------------------

const Interface* Router::find_interface(std::string_view name) const
{
    auto parsed = IfName::parse(name);
    if (!parsed)
        return nullptr;
    auto it = index_by_name_.find(*parsed);
    if (it == index_by_name_.end())
        return nullptr;
    auto jt = ifaces_.find(it->second);
    return jt == ifaces_.end() ? nullptr : &jt->second;
}

std::optional<unsigned> Router::vif_of(Family f, unsigned ifindex) const
{
    const FamilyState* fs = family_state(f);
    if (!fs)
        return std::nullopt;
    return fs->vifs.vif_of(ifindex);
}

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
    reconcile_interface(ev.iface.name, 0);
}

void Router::set_phyints(const std::vector<PhyintSpec>& phyints)
{
    ++version_;
    phyints_ = phyints;
    reconcile_all();
}

bool Router::disabled(std::string_view ifname) const
{
    for (const auto& p : phyints_)
        if (!p.enable && p.name.matches(ifname))
            return true;
    return false;
}

uint8_t Router::ttl_threshold(std::string_view ifname) const
{
    for (const auto& p : phyints_)
        if (p.name.matches(ifname))
            return p.ttl_threshold;
    return 1;
}

// VIF holds ---------------------------------------------------------------------

Result<Router::Hold> Router::acquire(FamilyState& fs, const Interface& iif, const std::vector<IfName>& oifs,
                                     bool strict, Why* why)
{
    Why pending;
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
    for (size_t i = 0; i < oifs.size(); ++i) {
        const IfName& name = oifs[i];
        Status st;
        if (name.is_wildcard()) {
            for (const auto& [index, o] : ifaces_)
                if (name.matches(o.name.view()) && !o.loopback() && !(st = take(o)))
                    break;
        } else if (auto it = index_by_name_.find(name); it != index_by_name_.end()) {
            const Interface& o = ifaces_.at(it->second);
            if (strict && disabled(o.name.view()))
                pending = Why{Pending::oif_disabled, static_cast<uint8_t>(i)};
            else
                st = take(o);
        } else if (strict) {
            pending = Why{Pending::oif_missing, static_cast<uint8_t>(i)};
        }
        if (!st || pending.code != Pending::none) {
            release(fs, h);
            if (!st)
                return st.take_error();
            if (why)
                *why = pending;
            return fail("pending");
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

// Static routes and rules --------------------------------------------------------

Router::IfaceSet* Router::intern(const IfName& iif, const std::vector<IfName>& oifs)
{
    // Routes loaded in a row mostly share their interfaces: try the last set first.
    if (last_interned_ && last_interned_->key->iif == iif && last_interned_->key->oifs == oifs)
        return last_interned_;
    auto [it, inserted] = iface_sets_.try_emplace(IfacesKey{iif, oifs});
    IfaceSet& set = it->second;
    last_interned_ = &set;
    if (!inserted)
        return &set;
    set.key = &it->first;
    sets_by_name_[iif].insert(&set);
    for (const auto& o : oifs) {
        if (o.is_wildcard())
            set.wildcard_oif = true;
        else
            sets_by_name_[o].insert(&set);
    }
    if (set.wildcard_oif)
        wildcard_sets_.insert(&set);
    return &set;
}

void Router::attach(StaticEntry& e, IfaceSet* set)
{
    StaticRoute& r = e.second;
    r.ifs = set;
    r.prev = nullptr;
    r.next = set->members;
    if (set->members)
        set->members->second.prev = &e;
    set->members = &e;
    ++set->refs;
}

void Router::detach(StaticEntry& e)
{
    StaticRoute& r = e.second;
    IfaceSet* set = r.ifs;
    if (!set)
        return;
    if (r.prev)
        r.prev->second.next = r.next;
    else
        set->members = r.next;
    if (r.next)
        r.next->second.prev = r.prev;
    r.prev = r.next = nullptr;
    r.ifs = nullptr;
    if (--set->refs > 0)
        return;
    auto unname = [&](const IfName& n) {
        auto it = sets_by_name_.find(n);
        if (it == sets_by_name_.end())
            return;
        it->second.erase(set);
        if (it->second.empty())
            sets_by_name_.erase(it);
    };
    const IfacesKey key = *set->key; // copied: erasing the set frees it
    unname(key.iif);
    for (const auto& o : key.oifs)
        if (!o.is_wildcard())
            unname(o);
    wildcard_sets_.erase(set);
    if (last_interned_ == set)
        last_interned_ = nullptr;
    iface_sets_.erase(key);
}

void Router::set_oifs(StaticEntry& e, const std::vector<IfName>& oifs)
{
    IfaceSet* next = intern(e.second.ifs->key->iif, oifs);
    if (next == e.second.ifs)
        return;
    ++next->refs; // keep it while the old set may go
    detach(e);
    attach(e, next);
    --next->refs;
}

RouteSpec Router::spec_of(const StaticEntry& e) const
{
    RouteSpec spec;
    spec.iif = e.second.ifs->key->iif;
    spec.source = Prefix::host(e.first.source);
    spec.group = Prefix::host(e.first.group);
    spec.oifs = e.second.ifs->key->oifs;
    return spec;
}

std::string Router::reason_of(const StaticEntry& e) const
{
    const StaticRoute& r = e.second;
    const IfacesKey& ifs = *r.ifs->key;
    auto oif = [&] { return r.why.oif < ifs.oifs.size() ? ifs.oifs[r.why.oif].view() : std::string_view("?"); };
    switch (r.why.code) {
    case Pending::none: return {};
    case Pending::iif_missing: return cat("inbound interface ", ifs.iif.view(), " does not exist");
    case Pending::iif_disabled: return cat("inbound interface ", ifs.iif.view(), " is disabled by phyint");
    case Pending::oif_missing: return cat("outbound interface ", oif(), " does not exist");
    case Pending::oif_disabled: return cat("outbound interface ", oif(), " is disabled by phyint");
    case Pending::kernel: {
        auto it = kernel_errors_.find(e.first);
        return it == kernel_errors_.end() ? std::string("refused by the kernel") : it->second;
    }
    }
    return {};
}

Router::StaticTable::iterator Router::erase_static(StaticTable::iterator it)
{
    StaticRoute& r = it->second;
    if (FamilyState* fs = family_state(it->first.group.family()); fs && r.hold.in_kernel) {
        unprogram(*fs, it->first);
        release(*fs, r.hold);
    }
    r.hold = Hold{};
    if (r.why.code == Pending::kernel)
        kernel_errors_.erase(it->first);
    detach(*it);
    return static_.erase(it);
}

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
        next = acquire(*fs, ifaces_.at(it->second), ifs.oifs, true, &why);

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
        set_why(Why{Pending::kernel, 0});
        kernel_errors_[key] = st.error().message;
        return fail(cat("add route ", spec_of(e).key_str(), " from ", ifs.iif.view(), ": ", st.error().message));
    }
    if (r.hold.in_kernel)
        release(*fs, r.hold);
    r.hold = h;
    set_why(Why{});
    return {};
}

void Router::reconcile_rule(Rule& rule)
{
    FamilyState* fs = family_state(rule.spec.family());
    std::vector<unsigned> vifs;
    std::string reason;
    // A named OIF that is missing or disabled keeps the whole rule pending,
    // as for an (S,G) route: never forward silently without it.
    for (const auto& o : rule.spec.oifs) {
        if (o.is_wildcard() || !reason.empty())
            continue;
        if (!index_by_name_.count(o))
            reason = cat("outbound interface ", o.view(), " does not exist");
        else if (disabled(o.view()))
            reason = cat("outbound interface ", o.view(), " is disabled by phyint");
    }
    if (!fs) {
        reason = cat(family_name(rule.spec.family()), " multicast routing is not available");
    } else if (reason.empty()) {
        for (const auto& [index, iface] : ifaces_) {
            if (!rule.spec.iif.matches(iface.name.view()) || disabled(iface.name.view()) || iface.loopback())
                continue;
            auto v = fs->vifs.acquire(index, iface.name.view(), ttl_threshold(iface.name.view()));
            if (!v) {
                log_.error(cat("rule ", rule.spec.key_str(), ": ", v.error().message));
                continue;
            }
            vifs.push_back(*v);
        }
        if (vifs.empty())
            reason = cat("inbound interface ", rule.spec.iif.view(), " does not exist");
    }
    if (!reason.empty() && reason != rule.pending_reason)
        log_.notice(cat("rule ", rule.spec.key_str(), " pending: ", reason));
    std::sort(vifs.begin(), vifs.end());
    bool changed = vifs != rule.iif_vifs;
    if (fs) {
        for (unsigned v : rule.iif_vifs)
            fs->vifs.release(v);
    }
    rule.iif_vifs = std::move(vifs);
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
    for (const auto& key : keys) {
        Dynamic& d = dynamic_.at(key);
        auto it = ifaces_.find(fs->vifs.ifindex_of(d.hold.iif_vif));
        if (it == ifaces_.end() || !rule_matches(rule, it->second, key) || disabled(it->second.name.view()) ||
            !rule.pending_reason.empty()) {
            drop_dynamic(key, true);
            continue;
        }
        auto next = acquire(*fs, it->second, rule.spec.oifs, false, nullptr);
        if (!next) {
            log_.error(cat("rule ", rule.spec.key_str(), ": ", next.error().message));
            drop_dynamic(key, true);
            continue;
        }
        Hold h = *next;
        h.in_kernel = true;
        if (h == d.hold) { // unchanged: leave the kernel alone
            release(*fs, h);
            continue;
        }
        if (auto st = program(*fs, key, h); !st) {
            log_.error(st.error().message);
            release(*fs, h);
            drop_dynamic(key, true);
            continue;
        }
        assert(h.iif_vif == d.hold.iif_vif); // held: the interface keeps its slot
        release(*fs, d.hold);
        d.hold = h;
    }
}

void Router::reconcile_all()
{
    for (auto& e : static_)
        if (auto st = reconcile_static(e); !st)
            log_.error(st.error().message);
    for (auto& [key, rule] : rules_)
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
    std::sort(rules.begin(), rules.end(), [](const Rule* a, const Rule* b) { return a->seq < b->seq; });
    for (Rule* r : rules)
        reconcile_rule(*r);
}

void Router::index_rule_names(Rule& rule)
{
    bool wildcard = rule.spec.iif.is_wildcard();
    if (!wildcard)
        rules_by_name_[rule.spec.iif].insert(&rule);
    for (const auto& o : rule.spec.oifs) {
        if (o.is_wildcard())
            wildcard = true;
        else
            rules_by_name_[o].insert(&rule);
    }
    if (wildcard)
        wildcard_rules_.insert(&rule);
}

void Router::unindex_rule_names(Rule& rule)
{
    auto unname = [&](const IfName& n) {
        auto it = rules_by_name_.find(n);
        if (it == rules_by_name_.end())
            return;
        it->second.erase(&rule);
        if (it->second.empty())
            rules_by_name_.erase(it);
    };
    unname(rule.spec.iif);
    for (const auto& o : rule.spec.oifs)
        unname(o);
    wildcard_rules_.erase(&rule);
}

void Router::index_rule(Rule& rule)
{
    FamilyState* fs = family_state(rule.spec.family());
    if (fs)
        fs->rule_index[rule.spec.group.len][rule.spec.group.addr].push_back(&rule);
}

void Router::unindex_rule(Rule& rule)
{
    FamilyState* fs = family_state(rule.spec.family());
    if (!fs)
        return;
    auto lit = fs->rule_index.find(rule.spec.group.len);
    if (lit == fs->rule_index.end())
        return;
    auto git = lit->second.find(rule.spec.group.addr);
    if (git == lit->second.end())
        return;
    auto& vec = git->second;
    vec.erase(std::remove(vec.begin(), vec.end(), &rule), vec.end());
    if (vec.empty())
        lit->second.erase(git);
    if (lit->second.empty())
        fs->rule_index.erase(lit);
}

Status Router::add(const RouteSpec& spec, Origin origin)
{
    ++version_;
    if (!has_family(spec.family()))
        return fail(cat(family_name(spec.family()), " multicast routing is not available"));
    if (!spec.is_template()) {
        SgKey key{spec.source.addr, spec.group.addr};
        auto [nit, inserted] = static_.try_emplace(key);
        static_added_ += inserted;
        if (!inserted) {
            StaticEntry& e = *nit;
            const IfacesKey& ifs = *e.second.ifs->key;
            if (!(ifs.iif == spec.iif))
                return fail(cat("route ", spec.key_str(), " is already routed from ", ifs.iif.view(),
                                "; the kernel keeps one inbound interface per (S,G)"));
            std::vector<IfName> before = ifs.oifs;
            std::vector<IfName> merged = before;
            for (const auto& o : spec.oifs)
                if (std::find(merged.begin(), merged.end(), o) == merged.end())
                    merged.push_back(o);
            set_oifs(e, merged);
            if (auto st = reconcile_static(e); !st) {
                set_oifs(e, before);
                (void)reconcile_static(e);
                return st;
            }
            return {};
        }
        nit->second.origin = origin;
        attach(*nit, intern(spec.iif, spec.oifs));
        if (auto st = reconcile_static(*nit); !st) {
            erase_static(nit); // a route the kernel refuses is not kept
            return st;
        }
        return {};
    }

    RuleKey rk{spec.iif, spec.source, spec.group};
    auto it = rules_.find(rk);
    if (it != rules_.end()) {
        Rule& rule = it->second;
        bool grew = false;
        unindex_rule_names(rule);
        for (const auto& o : spec.oifs)
            if (std::find(rule.spec.oifs.begin(), rule.spec.oifs.end(), o) == rule.spec.oifs.end()) {
                rule.spec.oifs.push_back(o);
                grew = true;
            }
        index_rule_names(rule);
        if (grew)
            reconcile_learned(rule);
        return {};
    }
    auto [nit, inserted] = rules_.emplace(rk, Rule{spec, origin, next_seq_++, {}, {}, {}});
    (void)inserted;
    Rule& rule = nit->second;
    index_rule(rule);
    index_rule_names(rule);
    reconcile_rule(rule);
    reevaluate_stop_filters(rule);
    return {};
}

void Router::erase_rule(std::map<RuleKey, Rule>::iterator it)
{
    Rule& rule = it->second;
    drop_learned(rule);
    if (FamilyState* fs = family_state(rule.spec.family()))
        for (unsigned v : rule.iif_vifs)
            fs->vifs.release(v);
    unindex_rule(rule);
    unindex_rule_names(rule);
    rules_.erase(it);
}

Status Router::remove(const RouteSpec& spec, bool only_oifs)
{
    ++version_;
    auto drop_names = [&](std::vector<IfName>& oifs) -> Status {
        for (const auto& o : spec.oifs)
            if (std::find(oifs.begin(), oifs.end(), o) == oifs.end())
                return fail(cat("route ", spec.key_str(), " from ", spec.iif.view(), " has no outbound interface ",
                                o.view()));
        for (const auto& o : spec.oifs)
            oifs.erase(std::find(oifs.begin(), oifs.end(), o));
        return {};
    };
    if (!spec.is_template()) {
        SgKey key{spec.source.addr, spec.group.addr};
        auto it = static_.find(key);
        if (it == static_.end() || !(it->second.ifs->key->iif == spec.iif))
            return fail(cat("no route ", spec.key_str(), " from ", spec.iif.view()));
        if (only_oifs) {
            std::vector<IfName> oifs = it->second.ifs->key->oifs;
            if (auto st = drop_names(oifs); !st)
                return st;
            set_oifs(*it, oifs);
            return reconcile_static(*it);
        }
        erase_static(it);
        return {};
    }
    auto it = rules_.find(RuleKey{spec.iif, spec.source, spec.group});
    if (it == rules_.end())
        return fail(cat("no rule ", spec.key_str(), " from ", spec.iif.view()));
    Rule& rule = it->second;
    if (only_oifs) {
        std::vector<IfName> oifs = rule.spec.oifs;
        if (auto st = drop_names(oifs); !st)
            return st;
        unindex_rule_names(rule);
        rule.spec.oifs = std::move(oifs);
        index_rule_names(rule);
        reconcile_learned(rule);
        return {};
    }
    erase_rule(it);
    return {};
}

void Router::remove_origin(Origin origin)
{
    ++version_;
    std::vector<SgKey> statics;
    for (const auto& [key, r] : static_)
        if (r.origin == origin)
            statics.push_back(key);
    for (const auto& key : statics)
        erase_static(static_.find(key));
    for (auto it = rules_.begin(); it != rules_.end();) {
        auto next = std::next(it);
        if (it->second.origin == origin)
            erase_rule(it);
        it = next;
    }
}

std::optional<Router::Found> Router::find(const RouteSpec& key) const
{
    if (!key.is_template()) {
        auto it = static_.find(SgKey{key.source.addr, key.group.addr});
        if (it == static_.end() || !(it->second.ifs->key->iif == key.iif))
            return std::nullopt;
        return Found{it->second.ifs->key->oifs, it->second.origin};
    }
    auto it = rules_.find(RuleKey{key.iif, key.source, key.group});
    if (it == rules_.end())
        return std::nullopt;
    return Found{it->second.spec.oifs, it->second.origin};
}

std::vector<RouteSpec> Router::keys_of(Origin origin) const
{
    std::vector<RouteSpec> out;
    for (const auto& [key, r] : static_)
        if (r.origin == origin)
            out.push_back(RouteSpec{r.ifs->key->iif, Prefix::host(key.source), Prefix::host(key.group), {}});
    for (const auto& [key, rule] : rules_)
        if (rule.origin == origin)
            out.push_back(RouteSpec{key.iif, key.source, key.group, {}});
    return out;
}

// Learned entries and stop filters --------------------------------------------------

void Router::drop_dynamic(const SgKey& key, bool delete_from_kernel)
{
    if (dynamic_.empty())
        return;
    auto it = dynamic_.find(key);
    if (it == dynamic_.end())
        return;
    FamilyState* fs = family_state(key.group.family());
    Dynamic& d = it->second;
    if (delete_from_kernel)
        unprogram(*fs, key);
    release(*fs, d.hold);
    if (d.rule)
        d.rule->learned.erase(key);
    if (d.prev)
        d.prev->second.next = d.next;
    else
        fs->dynamic_on_vif[d.hold.iif_vif] = d.next;
    if (d.next)
        d.next->second.prev = d.prev;
    dynamic_.erase(it);
}

void Router::drop_learned(Rule& rule)
{
    std::vector<SgKey> keys(rule.learned.begin(), rule.learned.end());
    for (const auto& k : keys)
        drop_dynamic(k, true);
}

bool Router::rule_matches(const Rule& rule, const Interface& iif, const SgKey& key) const
{
    return rule.pending_reason.empty() && rule.spec.group.contains(key.group) && (rule.spec.any_source() || rule.spec.source.contains(key.source)) &&
           rule.spec.iif.matches(iif.name.view());
}

Router::Rule* Router::match_rule(FamilyState& fs, const Interface& iif, const SgKey& key)
{
    // Most specific group prefix first; within it the longest source prefix,
    // then an exact IIF over a wildcard, then the oldest rule.
    for (auto& [len, by_group] : fs.rule_index) {
        auto it = by_group.find(key.group.masked(len));
        if (it == by_group.end())
            continue;
        Rule* best = nullptr;
        auto better = [](const Rule* a, const Rule* b) {
            if (a->spec.source.len != b->spec.source.len)
                return a->spec.source.len > b->spec.source.len;
            if (a->spec.iif.is_wildcard() != b->spec.iif.is_wildcard())
                return !a->spec.iif.is_wildcard();
            return a->seq < b->seq;
        };
        for (Rule* r : it->second)
            if (rule_matches(*r, iif, key) && (!best || better(r, best)))
                best = r;
        if (best)
            return best;
    }
    return nullptr;
}

void Router::learn(FamilyState& fs, Rule* rule, const Interface& iif, unsigned vif, const SgKey& key)
{
    Hold h;
    if (rule) {
        auto acquired = acquire(fs, iif, rule->spec.oifs, false, nullptr);
        if (!acquired) {
            log_.error(cat("install ", key.source.str(), ",", key.group.str(), ": ", acquired.error().message));
            return;
        }
        h = *acquired;
    } else {
        auto iv = fs.vifs.acquire(iif.index, iif.name.view(), ttl_threshold(iif.name.view()));
        if (!iv) {
            log_.error(cat("stop filter (", key.source.str(), ", ", key.group.str(), "): ", iv.error().message));
            return;
        }
        h.iif_vif = *iv;
    }
    (void)vif;
    h.in_kernel = true;
    if (auto st = program(fs, key, h); !st) {
        release(fs, h);
        log_.error(cat("install (", key.source.str(), ", ", key.group.str(), ") from ", iif.name.view(), ": ",
                       st.error().message));
        return;
    }
    auto [it, inserted] = dynamic_.try_emplace(key);
    assert(inserted);
    ++dynamic_added_;
    Dynamic& d = it->second;
    d.rule = rule;
    d.hold = h;
    d.next = fs.dynamic_on_vif[h.iif_vif];
    if (d.next)
        d.next->second.prev = &*it;
    fs.dynamic_on_vif[h.iif_vif] = &*it;
    if (rule) {
        rule->learned.insert(key);
        if (log_.enabled(LogLevel::info))
            log_.info(cat("learned (", key.source.str(), ", ", key.group.str(), ") from ", iif.name.view(),
                          " via rule ", rule->spec.key_str()));
        if (on_learned_)
            on_learned_(key, iif.name.view());
    } else if (log_.enabled(LogLevel::debug)) {
        log_.debug(cat("stop filter (", key.source.str(), ", ", key.group.str(), ") from ", iif.name.view()));
    }
}

void Router::handle_upcall(Family family, const Upcall& up)
{
    ++version_;
    FamilyState* fs = family_state(family);
    if (!fs)
        return;
    ++upcalls_received_;
    if (up.kind == Upcall::Kind::wrongvif) {
        handle_wrongvif(*fs, up);
        return;
    }
    if (up.kind != Upcall::Kind::nocache)
        return;
    SgKey key{up.source, up.group};
    if (dynamic_.count(key))
        return; // already answered; the kernel queued more than one
    if (auto st = static_.find(key); st != static_.end() && st->second.hold.in_kernel)
        return;
    auto iit = ifaces_.find(fs->vifs.ifindex_of(up.vif));
    if (iit == ifaces_.end())
        return;
    if (max_learned_ != 0 && dynamic_.size() >= max_learned_) {
        // Not answered: the kernel drops the unresolved entry by itself.
        ++upcalls_refused_;
        report_upcall_losses();
        return;
    }
    const Interface& iif = iit->second;
    learn(*fs, match_rule(*fs, iif, key), iif, up.vif, key);
}

UpcallStats Router::upcall_stats() const
{
    UpcallStats s;
    s.received = upcalls_received_;
    s.refused = upcalls_refused_;
    for (const FamilyState* fs : {v4_.get(), v6_.get()})
        if (fs)
            s.kernel_dropped += fs->kernel->upcall_stats().dropped;
    return s;
}

void Router::report_upcall_losses()
{
    auto now = std::chrono::steady_clock::now();
    if (last_report_ != std::chrono::steady_clock::time_point{} && now - last_report_ < std::chrono::seconds(10))
        return;
    UpcallStats s = upcall_stats();
    uint64_t refused = s.refused - reported_.refused;
    uint64_t dropped = s.kernel_dropped - reported_.kernel_dropped;
    if (refused == 0 && dropped == 0)
        return;
    std::string line;
    if (refused)
        line = cat("learned-route limit ", max_learned_, " reached: refused ", refused, " new sources");
    if (dropped)
        line += cat(line.empty() ? "" : "; ", "kernel dropped ", dropped, " upcalls (queue full)");
    log_.warning(cat(line, " (totals: ", s.received, " upcalls, ", s.refused, " refused, ", s.kernel_dropped,
                     " dropped by the kernel)"));
    reported_ = s;
    last_report_ = now;
}

void Router::handle_wrongvif(FamilyState& fs, const Upcall& up)
{
    SgKey key{up.source, up.group};
    auto it = dynamic_.find(key);
    if (it == dynamic_.end() || !it->second.rule || it->second.hold.iif_vif == up.vif)
        return;
    auto now = std::chrono::steady_clock::now();
    if (it->second.last_move != std::chrono::steady_clock::time_point{} &&
        now - it->second.last_move < std::chrono::seconds(1))
        return;
    auto iit = ifaces_.find(fs.vifs.ifindex_of(up.vif));
    if (iit == ifaces_.end())
        return;
    const Interface iif = iit->second;
    Rule* rule = match_rule(fs, iif, key);
    if (!rule)
        return; // no rule allows it there: keep the entry where it is
    log_.notice(cat("(", key.source.str(), ", ", key.group.str(), ") moved to ", iif.name.view()));
    drop_dynamic(key, false); // replaced by the add below
    learn(fs, rule, iif, up.vif, key);
    if (auto moved = dynamic_.find(key); moved != dynamic_.end())
        moved->second.last_move = now;
}

void Router::reevaluate_stop_filters(Rule& rule)
{
    FamilyState* fs = family_state(rule.spec.family());
    if (!fs)
        return;
    // Only stop filters arriving where the rule listens can match it.
    std::vector<std::pair<SgKey, unsigned>> hits;
    for (unsigned vif : rule.iif_vifs) {
        auto it = ifaces_.find(fs->vifs.ifindex_of(vif));
        if (it == ifaces_.end())
            continue;
        for (const DynamicEntry* e = fs->dynamic_on_vif[vif]; e; e = e->second.next)
            if (!e->second.rule && rule_matches(rule, it->second, e->first))
                hits.emplace_back(e->first, vif);
    }
    for (const auto& [key, vif] : hits) {
        auto it = ifaces_.find(fs->vifs.ifindex_of(vif));
        if (it == ifaces_.end())
            continue;
        Interface iif = it->second;
        drop_dynamic(key, false); // replaced by the add below
        learn(*fs, match_rule(*fs, iif, key), iif, vif, key);
    }
}

size_t Router::flush_dynamic()
{
    ++version_;
    std::vector<SgKey> keys;
    keys.reserve(dynamic_.size());
    for (const auto& [key, d] : dynamic_)
        keys.push_back(key);
    for (const auto& k : keys)
        drop_dynamic(k, true);
    return keys.size();
}

size_t Router::expire_idle()
{
    ++version_;
    std::vector<SgKey> idle;
    for (auto& [key, d] : dynamic_) {
        const FamilyState* fs = family_state(key.group.family());
        auto c = fs->kernel->counters(key.source, key.group);
        if (!c) { // gone from the kernel: nothing to keep
            idle.push_back(key);
            continue;
        }
        if (d.checked && c->packets == d.last_packets)
            idle.push_back(key);
        d.last_packets = c->packets;
        d.checked = true;
    }
    for (const auto& key : idle) {
        if (log_.enabled(LogLevel::info))
            log_.info(cat("expiring idle (", key.source.str(), ", ", key.group.str(), ")"));
        drop_dynamic(key, true);
    }
    return idle.size();
}

Status Router::replace_oifs(const RouteSpec& spec)
{
    ++version_;
    if (!spec.is_template()) {
        auto it = static_.find(SgKey{spec.source.addr, spec.group.addr});
        if (it == static_.end() || !(it->second.ifs->key->iif == spec.iif))
            return fail(cat("no route ", spec.key_str(), " from ", spec.iif.view()));
        set_oifs(*it, spec.oifs);
        return reconcile_static(*it);
    }
    auto it = rules_.find(RuleKey{spec.iif, spec.source, spec.group});
    if (it == rules_.end())
        return fail(cat("no rule ", spec.key_str(), " from ", spec.iif.view()));
    unindex_rule_names(it->second);
    it->second.spec.oifs = spec.oifs;
    index_rule_names(it->second);
    reconcile_rule(it->second);
    return {};
}

void Router::clear()
{
    ++version_;
    flush_dynamic();
    for (auto it = static_.begin(); it != static_.end();)
        it = erase_static(it);
    while (!rules_.empty())
        erase_rule(rules_.begin());
    for (FamilyState* fs : {v4_.get(), v6_.get()})
        if (fs) {
            fs->rule_index.clear();
            fs->vifs.release_all();
        }
}

// Views ---------------------------------------------------------------------------------

namespace {

uint64_t load_be64(const uint8_t* p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = v << 8 | p[i];
    return v;
}

void store_be64(uint64_t v, uint8_t* p)
{
    for (int i = 7; i >= 0; --i, v >>= 8)
        p[i] = static_cast<uint8_t>(v);
}

IpAddr addr_of(uint64_t family, uint64_t high, uint64_t low)
{
    uint8_t b[16];
    store_be64(high, b);
    store_be64(low, b + 8);
    if (family == static_cast<uint64_t>(Family::inet)) {
        in_addr a{};
        std::memcpy(&a, b, sizeof a);
        return IpAddr::from_v4(a);
    }
    in6_addr a{};
    std::memcpy(&a, b, sizeof a);
    return IpAddr::from_v6(a);
}

} // namespace

std::vector<std::string> Router::mask_names(const FamilyState& fs, uint32_t mask) const
{
    std::vector<std::string> names;
    for (uint32_t m = mask; m; m &= m - 1) {
        auto it = ifaces_.find(fs.vifs.ifindex_of(static_cast<unsigned>(std::countr_zero(m))));
        if (it != ifaces_.end())
            names.push_back(it->second.name.str());
    }
    return names;
}

Router::ListKey Router::list_key(const SgKey& k)
{
    const uint8_t* g = k.group.bytes().data();
    const uint8_t* s = k.source.bytes().data();
    return ListKey{{static_cast<uint64_t>(k.group.family()), load_be64(g), load_be64(g + 8),
                    static_cast<uint64_t>(k.source.family()), load_be64(s), load_be64(s + 8)}};
}

SgKey Router::sg_key(const ListKey& k)
{
    return SgKey{addr_of(k.words[3], k.words[4], k.words[5]), addr_of(k.words[0], k.words[1], k.words[2])};
}

template <class Map>
void Router::sorted_keys(const Map& map, std::vector<ListKey>& out)
{
    out.clear();
    out.shrink_to_fit(); // not two copies at once
    out.reserve(map.size());
    for (const auto& e : map)
        out.push_back(list_key(e.first));
    std::sort(out.begin(), out.end());
}

RouteView Router::view_of(const Rule& rule) const
{
    RouteView v;
    v.kind = RouteView::Kind::rule;
    v.spec = &rule.spec;
    v.active = rule.pending_reason.empty();
    v.pending_reason = rule.pending_reason;
    v.learned = rule.learned.size();
    v.origin = rule.origin;
    return v;
}

RouteView Router::view_of(const StaticEntry& e) const
{
    const StaticRoute& r = e.second;
    RouteView v;
    const RouteSpec& spec = v.owned_spec.emplace(spec_of(e));
    v.kind = spec.oifs.empty() ? RouteView::Kind::stop : RouteView::Kind::route;
    v.spec = &spec;
    v.key = e.first;
    v.iif = spec.iif.str();
    v.active = r.hold.in_kernel;
    v.pending_reason = reason_of(e);
    v.origin = r.origin;
    return v;
}

RouteView Router::view_of(const DynamicEntry& e) const
{
    const Dynamic& d = e.second;
    const FamilyState* fs = family_state(e.first.group.family());
    RouteView v;
    v.kind = d.rule ? RouteView::Kind::learned : RouteView::Kind::stop;
    v.spec = d.rule ? &d.rule->spec : nullptr;
    v.key = e.first;
    auto it = ifaces_.find(fs->vifs.ifindex_of(d.hold.iif_vif));
    v.iif = it == ifaces_.end() ? "?" : it->second.name.str();
    v.oifs = mask_names(*fs, d.hold.oif_mask);
    v.active = true;
    v.origin = d.rule ? d.rule->origin : Origin::config;
    return v;
}

void Router::for_each_route(const std::function<void(const RouteView&)>& fn) const
{
    Listing all = list();
    while (all.next(SIZE_MAX, fn)) {
    }
}

Router::Listing Router::list() const
{
    return Listing(*this);
}

const std::vector<Router::ListKey>& Router::listed_statics() const
{
    assert(list_index_);
    ListIndex& ix = *list_index_;
    if (!ix.statics_built) {
        sorted_keys(static_, ix.statics);
        ix.statics_added = static_added_;
        ix.statics_built = true;
    }
    return ix.statics;
}

const std::vector<Router::ListKey>& Router::listed_dynamics() const
{
    assert(list_index_);
    ListIndex& ix = *list_index_;
    if (!ix.dynamics_built) {
        sorted_keys(dynamic_, ix.dynamics);
        ix.dynamics_added = dynamic_added_;
        ix.dynamics_built = true;
    }
    return ix.dynamics;
}

// The index is rebuilt only when a Listing starts (here) with keys added
// since its build, never in the middle of a step. So every key present when
// a Listing starts is in every index it uses: with the cursor moving only
// forwards by key, a route present throughout is listed exactly once.
Router::Listing::Listing(const Router& router) : router_(&router)
{
    if (router.listings_++ == 0)
        router.list_index_ = std::make_unique<ListIndex>();
    ListIndex& ix = *router.list_index_;
    if (ix.statics_built && ix.statics_added != router.static_added_)
        ix.statics_built = false;
    if (ix.dynamics_built && ix.dynamics_added != router.dynamic_added_)
        ix.dynamics_built = false;
}

Router::Listing::Listing(Listing&& o) noexcept
    : router_(std::exchange(o.router_, nullptr)), part_(o.part_), started_(o.started_), last_rule_(o.last_rule_),
      last_(o.last_)
{
}

Router::Listing::~Listing()
{
    if (router_ && --router_->listings_ == 0)
        router_->list_index_.reset();
}

void Router::Listing::rewind()
{
    part_ = Part::rules;
    started_ = false;
}

bool Router::Listing::next(size_t max, const std::function<void(const RouteView&)>& fn)
{
    assert(router_);
    const Router& r = *router_;
    size_t n = 0;
    while (part_ != Part::done && n < max) {
        if (part_ == Part::rules) {
            auto it = started_ ? r.rules_.upper_bound(last_rule_) : r.rules_.begin();
            for (; it != r.rules_.end() && n < max; ++it, ++n) {
                last_rule_ = it->first;
                started_ = true;
                fn(r.view_of(it->second));
            }
            if (it == r.rules_.end()) {
                part_ = Part::statics;
                started_ = false;
            }
            continue;
        }
        const bool statics = part_ == Part::statics;
        const std::vector<ListKey>& keys = statics ? r.listed_statics() : r.listed_dynamics();
        auto at = started_ ? std::upper_bound(keys.begin(), keys.end(), last_) : keys.begin();
        for (; at != keys.end() && n < max; ++at) {
            last_ = *at;
            started_ = true;
            const SgKey key = sg_key(last_);
            if (statics) {
                if (auto e = r.static_.find(key); e != r.static_.end()) {
                    ++n;
                    fn(r.view_of(*e));
                }
            } else if (auto e = r.dynamic_.find(key); e != r.dynamic_.end()) {
                ++n;
                fn(r.view_of(*e));
            }
        }
        if (at == keys.end()) {
            part_ = statics ? Part::dynamics : Part::done;
            started_ = false;
        }
    }
    return part_ != Part::done;
}

Result<MfcCounters> Router::counters(const SgKey& key) const
{
    const FamilyState* fs = family_state(key.group.family());
    if (!fs)
        return fail("family not available");
    return fs->kernel->counters(key.source, key.group);
}

} // namespace smcroute

#include "smcroute/router.hpp"

#include <algorithm>
#include <bit>

namespace smcroute {

Router::Router(Logger& log, MrouteSocket* v4, MrouteSocket* v6) : log_(log)
{
    if (v4)
        v4_ = std::make_unique<FamilyState>(FamilyState{v4, VifTable(*v4, log), {}});
    if (v6)
        v6_ = std::make_unique<FamilyState>(FamilyState{v6, VifTable(*v6, log), {}});
}

Router::~Router() = default;

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
    if (ev.kind == LinkEvent::Kind::removed) {
        auto it = ifaces_.find(ev.iface.index);
        if (it == ifaces_.end())
            return;
        IfName name = it->second.name;
        ifaces_.erase(it);
        if (auto jt = index_by_name_.find(name); jt != index_by_name_.end() && jt->second == ev.iface.index)
            index_by_name_.erase(jt);
        log_.info(cat("interface ", name.view(), " (index ", ev.iface.index, ") removed"));
        reconcile_all();
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
    reconcile_all();
}

void Router::set_phyints(const std::vector<PhyintSpec>& phyints)
{
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
                                     bool strict, std::string& pending_reason)
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
    for (const auto& name : oifs) {
        Status st;
        if (name.is_wildcard()) {
            for (const auto& [index, o] : ifaces_)
                if (name.matches(o.name.view()) && !o.loopback() && !(st = take(o)))
                    break;
        } else if (auto it = index_by_name_.find(name); it != index_by_name_.end()) {
            const Interface& o = ifaces_.at(it->second);
            if (strict && disabled(o.name.view())) {
                pending_reason = cat("outbound interface ", name.view(), " is disabled by phyint");
            } else {
                st = take(o);
            }
        } else if (strict) {
            pending_reason = cat("outbound interface ", name.view(), " does not exist");
        }
        if (!st || !pending_reason.empty()) {
            release(fs, h);
            if (!st)
                return st.take_error();
            return fail(pending_reason);
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
    if (auto st = fs.kernel->del_mfc(key.source, key.group); !st)
        log_.debug(st.error().message);
}

// Static routes and rules --------------------------------------------------------

Status Router::reconcile_static(StaticRoute& r)
{
    FamilyState* fs = family_state(r.spec.family());
    if (!fs)
        return fail(cat(family_name(r.spec.family()), " multicast routing is not available"));
    SgKey key{r.spec.source.addr, r.spec.group.addr};
    std::string pending; // a missing or disabled interface: wait for it
    Result<Hold> next = fail("");
    auto it = index_by_name_.find(r.spec.iif);
    if (it == index_by_name_.end())
        pending = cat("inbound interface ", r.spec.iif.view(), " does not exist");
    else if (disabled(r.spec.iif.view()))
        pending = cat("inbound interface ", r.spec.iif.view(), " is disabled by phyint");
    else
        next = acquire(*fs, ifaces_.at(it->second), r.spec.oifs, true, pending);

    auto withdraw = [&] {
        if (r.hold.in_kernel) {
            unprogram(*fs, key);
            release(*fs, r.hold);
        }
        r.hold = Hold{};
    };
    if (!pending.empty()) {
        withdraw();
        if (r.pending_reason != pending)
            log_.notice(cat("route ", r.spec.key_str(), " pending: ", pending));
        r.pending_reason = pending;
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
        r.pending_reason = st.error().message;
        return fail(cat("add route ", r.spec.key_str(), " from ", r.spec.iif.view(), ": ", st.error().message));
    }
    if (r.hold.in_kernel)
        release(*fs, r.hold);
    r.hold = h;
    r.pending_reason.clear();
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
        std::string ignored;
        auto next = acquire(*fs, it->second, rule.spec.oifs, false, ignored);
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
        release(*fs, d.hold);
        d.hold = h;
    }
}

void Router::reconcile_all()
{
    for (auto& [key, r] : static_)
        if (auto st = reconcile_static(r); !st)
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
    if (!has_family(spec.family()))
        return fail(cat(family_name(spec.family()), " multicast routing is not available"));
    if (!spec.is_template()) {
        SgKey key{spec.source.addr, spec.group.addr};
        auto it = static_.find(key);
        if (it != static_.end()) {
            StaticRoute& r = it->second;
            if (!(r.spec.iif == spec.iif))
                return fail(cat("route ", spec.key_str(), " is already routed from ", r.spec.iif.view(),
                                "; the kernel keeps one inbound interface per (S,G)"));
            std::vector<IfName> before = r.spec.oifs;
            for (const auto& o : spec.oifs)
                if (std::find(r.spec.oifs.begin(), r.spec.oifs.end(), o) == r.spec.oifs.end())
                    r.spec.oifs.push_back(o);
            if (auto st = reconcile_static(r); !st) {
                r.spec.oifs = std::move(before);
                (void)reconcile_static(r);
                return st;
            }
            return {};
        }
        auto [nit, inserted] = static_.emplace(key, StaticRoute{spec, origin, {}, {}});
        (void)inserted;
        if (auto st = reconcile_static(nit->second); !st) {
            static_.erase(nit); // a route the kernel refuses is not kept
            return st;
        }
        return {};
    }

    RuleKey rk{spec.iif, spec.source, spec.group};
    auto it = rules_.find(rk);
    if (it != rules_.end()) {
        Rule& rule = it->second;
        bool grew = false;
        for (const auto& o : spec.oifs)
            if (std::find(rule.spec.oifs.begin(), rule.spec.oifs.end(), o) == rule.spec.oifs.end()) {
                rule.spec.oifs.push_back(o);
                grew = true;
            }
        if (grew)
            reconcile_learned(rule);
        return {};
    }
    auto [nit, inserted] = rules_.emplace(rk, Rule{spec, origin, next_seq_++, {}, {}, {}});
    (void)inserted;
    Rule& rule = nit->second;
    index_rule(rule);
    reconcile_rule(rule);
    reevaluate_stop_filters(rule);
    return {};
}

Status Router::remove(const RouteSpec& spec, bool only_oifs)
{
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
        if (it == static_.end() || !(it->second.spec.iif == spec.iif))
            return fail(cat("no route ", spec.key_str(), " from ", spec.iif.view()));
        StaticRoute& r = it->second;
        if (only_oifs) {
            if (auto st = drop_names(r.spec.oifs); !st)
                return st;
            return reconcile_static(r);
        }
        if (FamilyState* fs = family_state(spec.family()); fs && r.hold.in_kernel) {
            unprogram(*fs, key);
            release(*fs, r.hold);
        }
        static_.erase(it);
        return {};
    }
    auto it = rules_.find(RuleKey{spec.iif, spec.source, spec.group});
    if (it == rules_.end())
        return fail(cat("no rule ", spec.key_str(), " from ", spec.iif.view()));
    Rule& rule = it->second;
    if (only_oifs) {
        if (auto st = drop_names(rule.spec.oifs); !st)
            return st;
        reconcile_learned(rule);
        return {};
    }
    drop_learned(rule);
    if (FamilyState* fs = family_state(spec.family()))
        for (unsigned v : rule.iif_vifs)
            fs->vifs.release(v);
    unindex_rule(rule);
    rules_.erase(it);
    return {};
}

void Router::remove_origin(Origin origin)
{
    std::vector<RouteSpec> doomed;
    for (const auto& [key, r] : static_)
        if (r.origin == origin)
            doomed.push_back(r.spec);
    for (const auto& [key, rule] : rules_)
        if (rule.origin == origin)
            doomed.push_back(rule.spec);
    for (const auto& spec : doomed)
        (void)remove(spec, false);
}

// Learned entries and stop filters --------------------------------------------------

void Router::drop_dynamic(const SgKey& key, bool delete_from_kernel)
{
    auto it = dynamic_.find(key);
    if (it == dynamic_.end())
        return;
    FamilyState* fs = family_state(key.group.family());
    if (delete_from_kernel)
        unprogram(*fs, key);
    release(*fs, it->second.hold);
    if (it->second.rule)
        it->second.rule->learned.erase(key);
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
    std::string reason;
    if (rule) {
        auto acquired = acquire(fs, iif, rule->spec.oifs, false, reason);
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
    dynamic_[key] = Dynamic{rule, h};
    if (rule) {
        rule->learned.insert(key);
        log_.info(cat("learned (", key.source.str(), ", ", key.group.str(), ") from ", iif.name.view(), " via rule ",
                      rule->spec.key_str()));
        if (on_learned_)
            on_learned_(key, iif.name.view());
    } else {
        log_.debug(cat("stop filter (", key.source.str(), ", ", key.group.str(), ") from ", iif.name.view()));
    }
}

void Router::handle_upcall(Family family, const Upcall& up)
{
    FamilyState* fs = family_state(family);
    if (!fs)
        return;
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
    const Interface& iif = iit->second;
    learn(*fs, match_rule(*fs, iif, key), iif, up.vif, key);
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
    std::vector<std::pair<SgKey, unsigned>> hits;
    for (const auto& [key, d] : dynamic_) {
        if (d.rule || key.group.family() != rule.spec.family())
            continue;
        auto it = ifaces_.find(fs->vifs.ifindex_of(d.hold.iif_vif));
        if (it != ifaces_.end() && rule_matches(rule, it->second, key))
            hits.emplace_back(key, d.hold.iif_vif);
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
        log_.info(cat("expiring idle (", key.source.str(), ", ", key.group.str(), ")"));
        drop_dynamic(key, true);
    }
    return idle.size();
}

Status Router::replace_oifs(const RouteSpec& spec)
{
    if (!spec.is_template()) {
        auto it = static_.find(SgKey{spec.source.addr, spec.group.addr});
        if (it == static_.end() || !(it->second.spec.iif == spec.iif))
            return fail(cat("no route ", spec.key_str(), " from ", spec.iif.view()));
        it->second.spec.oifs = spec.oifs;
        return reconcile_static(it->second);
    }
    auto it = rules_.find(RuleKey{spec.iif, spec.source, spec.group});
    if (it == rules_.end())
        return fail(cat("no rule ", spec.key_str(), " from ", spec.iif.view()));
    it->second.spec.oifs = spec.oifs;
    reconcile_rule(it->second);
    return {};
}

void Router::clear()
{
    flush_dynamic();
    for (auto& [key, r] : static_) {
        if (FamilyState* fs = family_state(r.spec.family()); fs && r.hold.in_kernel) {
            unprogram(*fs, key);
            release(*fs, r.hold);
        }
        r.hold = Hold{};
    }
    static_.clear();
    for (auto& [key, rule] : rules_)
        if (FamilyState* fs = family_state(rule.spec.family()))
            for (unsigned v : rule.iif_vifs)
                fs->vifs.release(v);
    rules_.clear();
    for (FamilyState* fs : {v4_.get(), v6_.get()})
        if (fs) {
            fs->rule_index.clear();
            fs->vifs.release_all();
        }
}

// Views ---------------------------------------------------------------------------------

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

void Router::for_each_route(const std::function<void(const RouteView&)>& fn) const
{
    for (const auto& [key, rule] : rules_) {
        RouteView v;
        v.kind = RouteView::Kind::rule;
        v.spec = &rule.spec;
        v.active = rule.pending_reason.empty();
        v.pending_reason = rule.pending_reason;
        v.learned = rule.learned.size();
        v.origin = rule.origin;
        fn(v);
    }
    // Static routes in (group, source) order for stable output.
    std::vector<const std::pair<const SgKey, StaticRoute>*> sorted;
    sorted.reserve(static_.size());
    for (const auto& e : static_)
        sorted.push_back(&e);
    auto by_key = [](const SgKey& a, const SgKey& b) {
        return std::tie(a.group, a.source) < std::tie(b.group, b.source);
    };
    std::sort(sorted.begin(), sorted.end(), [&](auto* a, auto* b) { return by_key(a->first, b->first); });
    for (const auto* e : sorted) {
        const StaticRoute& r = e->second;
        RouteView v;
        v.kind = r.spec.oifs.empty() ? RouteView::Kind::stop : RouteView::Kind::route;
        v.spec = &r.spec;
        v.key = e->first;
        v.iif = r.spec.iif.str();
        v.active = r.hold.in_kernel;
        v.pending_reason = r.pending_reason;
        v.origin = r.origin;
        fn(v);
    }
    std::vector<const std::pair<const SgKey, Dynamic>*> dyn;
    dyn.reserve(dynamic_.size());
    for (const auto& e : dynamic_)
        dyn.push_back(&e);
    std::sort(dyn.begin(), dyn.end(), [&](auto* a, auto* b) { return by_key(a->first, b->first); });
    for (const auto* e : dyn) {
        const Dynamic& d = e->second;
        const FamilyState* fs = family_state(e->first.group.family());
        RouteView v;
        v.kind = d.rule ? RouteView::Kind::learned : RouteView::Kind::stop;
        v.spec = d.rule ? &d.rule->spec : nullptr;
        v.key = e->first;
        auto it = ifaces_.find(fs->vifs.ifindex_of(d.hold.iif_vif));
        v.iif = it == ifaces_.end() ? "?" : it->second.name.str();
        v.oifs = mask_names(*fs, d.hold.oif_mask);
        v.active = true;
        v.origin = d.rule ? d.rule->origin : Origin::config;
        fn(v);
    }
}

Result<MfcCounters> Router::counters(const SgKey& key) const
{
    const FamilyState* fs = family_state(key.group.family());
    if (!fs)
        return fail("family not available");
    return fs->kernel->counters(key.source, key.group);
}

} // namespace smcroute

// runtime/router, learned entries and stop filters: answering NOCACHE
// upcalls from the rules (or with a stop filter), WRONGVIF moves, the
// learned-route limit and its reports, expiry and flush.
#include "smcroute/runtime/router.hpp"

#include <cassert>
#include <chrono>

namespace smcroute {

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
    if (d.rule) {
        d.rule->learned.erase(key);
        if (d.rule->proxy)
            proxy_by_group_.erase({key.group, key.source});
    }
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
        auto acquired = acquire_for(fs, *rule, iif, key);
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
    d.since = clock_.now();
    d.next = fs.dynamic_on_vif[h.iif_vif];
    if (d.next)
        d.next->second.prev = &*it;
    fs.dynamic_on_vif[h.iif_vif] = &*it;
    if (rule) {
        rule->learned.insert(key);
        if (rule->proxy)
            proxy_by_group_.insert({key.group, key.source});
        else
            ++installed_from_rules_;
        if (log_.enabled(LogLevel::info))
            log_.info(cat("learned (", key.source.str(), ", ", key.group.str(), ") from ", iif.name.view(),
                          rule->proxy ? " via the proxy" : cat(" via rule ", rule->spec.key_str())));
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
    learn(*fs, match_any(*fs, iif, key), iif, up.vif, key);
    if (publishing())
        publish_installed(*fs, key, iif.name.view());
}

UpcallStats Router::upcall_stats() const
{
    UpcallStats s;
    s.received = upcalls_received_;
    s.refused = upcalls_refused_;
    s.installed = installed_from_rules_;
    for (const FamilyState* fs : {v4_.get(), v6_.get()})
        if (fs)
            s.kernel_dropped += fs->kernel->upcall_stats().dropped;
    return s;
}

void Router::report_upcall_losses()
{
    auto now = clock_.now();
    if (last_report_ != Clock::time_point{} && now - last_report_ < std::chrono::seconds(10))
        return;
    UpcallStats s = upcall_stats();
    uint64_t refused = s.refused - reported_.refused;
    uint64_t dropped = s.kernel_dropped - reported_.kernel_dropped;
    if (refused == 0 && dropped == 0)
        return;
    if (publishing())
        publish_losses(dropped, refused, s);
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
    auto now = clock_.now();
    if (it->second.last_move != Clock::time_point{} &&
        now - it->second.last_move < std::chrono::seconds(1))
        return;
    auto iit = ifaces_.find(fs.vifs.ifindex_of(up.vif));
    if (iit == ifaces_.end())
        return;
    const Interface iif = iit->second;
    Rule* rule = match_any(fs, iif, key);
    if (!rule)
        return; // no rule allows it there: keep the entry where it is
    log_.notice(cat("(", key.source.str(), ", ", key.group.str(), ") moved to ", iif.name.view()));
    std::vector<std::string> from;
    if (publishing())
        from = mask_names(fs, 1u << it->second.hold.iif_vif);
    drop_dynamic(key, false); // replaced by the add below
    learn(fs, rule, iif, up.vif, key);
    if (publishing() && dynamic_.count(key))
        publish_moved(key, from.empty() ? std::string_view("?") : std::string_view(from.front()), iif.name.view());
    if (auto moved = dynamic_.find(key); moved != dynamic_.end())
        moved->second.last_move = now;
}

void Router::reevaluate_stop_filters(Rule& rule)
{
    FamilyState* fs = family_state(rule.spec.family());
    if (!fs)
        return;
    // Only stop filters (and, for a rule, proxy entries: a rule takes
    // over from the proxy) arriving where the rule listens can match it.
    auto yields = [&](const Rule* had) { return !had || (had->proxy && !rule.proxy); };
    std::vector<std::pair<SgKey, unsigned>> hits;
    for (unsigned vif : rule.iif_vifs) {
        auto it = ifaces_.find(fs->vifs.ifindex_of(vif));
        if (it == ifaces_.end())
            continue;
        for (const DynamicEntry* e = fs->dynamic_on_vif[vif]; e; e = e->second.next)
            if (yields(e->second.rule) && rule_matches(rule, it->second, e->first))
                hits.emplace_back(e->first, vif);
    }
    for (const auto& [key, vif] : hits) {
        auto it = ifaces_.find(fs->vifs.ifindex_of(vif));
        if (it == ifaces_.end())
            continue;
        Interface iif = it->second;
        drop_dynamic(key, false); // replaced by the add below
        learn(*fs, match_any(*fs, iif, key), iif, vif, key);
        if (publishing())
            publish_installed(*fs, key, iif.name.view());
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

void Router::set_expiry_interval(std::chrono::seconds interval)
{
    expiry_interval_ = interval;
    last_expiry_ = clock_.now();
}

std::optional<Clock::time_point> Router::expires_at(const SgKey& key, uint64_t packets_now) const
{
    if (expiry_interval_.count() <= 0)
        return std::nullopt;
    auto it = dynamic_.find(key);
    if (it == dynamic_.end())
        return std::nullopt;
    // The next check removes it when it was seen by the last one and has
    // forwarded nothing since; otherwise that check records the count and
    // the one after removes it, if it stays idle.
    const Dynamic& d = it->second;
    Clock::time_point next = last_expiry_ + expiry_interval_;
    if (d.checked && d.last_packets == packets_now)
        return next;
    return next + expiry_interval_;
}

size_t Router::expire_idle()
{
    ++version_;
    last_expiry_ = clock_.now();
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
        if (publishing())
            if (auto it = dynamic_.find(key); it != dynamic_.end())
                publish_expired(*family_state(key.group.family()), key, it->second);
        drop_dynamic(key, true);
    }
    return idle.size();
}

} // namespace smcroute

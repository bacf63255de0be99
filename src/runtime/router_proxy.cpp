// runtime/router, the proxy's rules (RFC 4605): one per proxy interface
// and family, below every rule in precedence, whose learned entries take
// their OIFs from the proxy (ProxyForwarding); replacing them, matching an
// upcall against them, and re-evaluating one group's entries in place when
// the proxy's wanted set changes. The entries themselves are learned,
// reconciled, moved, expired and flushed by the rule machinery.
#include "smcroute/runtime/router.hpp"

#include <algorithm>

namespace smcroute {

Result<Router::Hold> Router::acquire_for(FamilyState& fs, const Rule& rule, const Interface& iif, const SgKey& key)
{
    if (!rule.proxy)
        return acquire(fs, iif, rule.spec.oifs);
    return acquire(fs, iif, rule.proxy->proxy_oifs(iif.name.view(), key));
}

Router::Rule* Router::match_proxy(FamilyState& fs, const Interface& iif, const SgKey& key)
{
    Rule* best = nullptr; // fs.proxy_rules is oldest first
    for (Rule* r : fs.proxy_rules)
        if (rule_matches(*r, iif, key) && (!best || (best->spec.iif.is_wildcard() && !r->spec.iif.is_wildcard())))
            best = r;
    return best;
}

Router::Rule* Router::match_any(FamilyState& fs, const Interface& iif, const SgKey& key)
{
    if (Rule* r = match_rule(fs, iif, key))
        return r;
    return fs.proxy_rules.empty() ? nullptr : match_proxy(fs, iif, key);
}

void Router::set_proxy(Family f, const std::optional<IfName>& upstream, const std::vector<IfName>& downstreams,
                       ProxyForwarding* fwd)
{
    ++version_;
    FamilyState* fs = family_state(f);
    if (!fs)
        return; // no rules of f can exist
    const bool v4 = f == Family::inet;
    const Prefix any_source = Prefix::parse(v4 ? "0.0.0.0/0" : "::/0").value();
    const Prefix all_groups = Prefix::parse(v4 ? "224.0.0.0/4" : "ff00::/8").value();
    std::vector<IfName> names;
    if (fwd) {
        if (upstream)
            names.push_back(*upstream);
        for (const auto& d : downstreams)
            if (std::find(names.begin(), names.end(), d) == names.end())
                names.push_back(d);
    }
    // The new rules first, holding their VIFs before the old ones let go.
    std::vector<Rule*> added;
    std::vector<const RuleKey*> wanted;
    for (const auto& name : names) {
        RuleKey rk{name, any_source, all_groups};
        auto [it, inserted] = proxy_rules_.try_emplace(rk);
        Rule& rule = it->second;
        rule.proxy = fwd;
        wanted.push_back(&it->first);
        if (!inserted)
            continue;
        rule.spec = RouteSpec{name, any_source, all_groups, {}};
        rule.origin = Origin::config;
        rule.since = clock_.now();
        rule.seq = next_seq_++;
        fs->proxy_rules.push_back(&rule);
        index_rule_names(rule);
        added.push_back(&rule);
    }
    for (Rule* r : added)
        reconcile_rule(*r); // also turns the stop filters it matches into proxy entries
    // The old rules of f: their entries that a remaining rule matches move
    // to it, the others go with them.
    std::vector<std::map<RuleKey, Rule>::iterator> old;
    for (auto it = proxy_rules_.begin(); it != proxy_rules_.end(); ++it)
        if (it->second.spec.family() == f && std::find(wanted.begin(), wanted.end(), &it->first) == wanted.end())
            old.push_back(it);
    for (auto it : old) {
        Rule& rule = it->second;
        std::erase(fs->proxy_rules, &rule);
        std::vector<SgKey> keys(rule.learned.begin(), rule.learned.end());
        for (const auto& key : keys) {
            Dynamic& d = dynamic_.at(key);
            auto iit = ifaces_.find(fs->vifs.ifindex_of(d.hold.iif_vif));
            Rule* to = iit == ifaces_.end() ? nullptr : match_proxy(*fs, iit->second, key);
            if (!to)
                continue;
            rule.learned.erase(key);
            to->learned.insert(key);
            d.rule = to;
        }
    }
    for (auto it : old) {
        retire_rule(it->second);
        proxy_rules_.erase(it);
    }
    // Kept and new rules: their entries re-evaluated through fwd.
    for (Rule* r : fs->proxy_rules)
        reconcile_learned(*r);
}

void Router::proxy_changed(Family f, const IpAddr& group)
{
    FamilyState* fs = family_state(f);
    if (!fs)
        return;
    // IpAddr orders by family first: the unspecified IPv4 address is below
    // every source of the group's family.
    auto first = proxy_by_group_.lower_bound({group, IpAddr()});
    std::vector<SgKey> keys; // reconciling may drop some
    for (auto it = first; it != proxy_by_group_.end() && it->first == group; ++it)
        keys.push_back(SgKey{it->second, group});
    if (keys.empty())
        return;
    ++version_;
    for (const auto& key : keys)
        if (auto d = dynamic_.find(key); d != dynamic_.end() && d->second.rule && d->second.rule->proxy)
            reconcile_entry(*fs, *d->second.rule, key);
}

} // namespace smcroute

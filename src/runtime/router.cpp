// runtime/router, the table: interfaces and phyint settings as the router
// knows them, static routes with their interned interfaces, rules and their
// indexes, and the public operations that change them (add, remove, reload's
// find and replace). Kernel work is in router_reconcile.cpp.
#include "smcroute/runtime/router.hpp"

#include <cerrno>
#include <algorithm>
#include <cassert>

namespace smcroute {

namespace {

// An add without OIFs asks for a stop filter; to one that has OIFs it would
// change nothing, so it is refused with what to do instead.
Status keeps_oifs(const RouteSpec& spec, const std::vector<IfName>& existing)
{
    if (!spec.oifs.empty() || existing.empty())
        return {};
    std::string names;
    for (const auto& o : existing)
        names += cat(names.empty() ? "" : " ", o.view());
    return fail(cat(spec.is_template() ? "rule " : "route ", spec.key_str(), " from ", spec.iif.view(),
                    " has outbound interfaces (", names, "); to make it a stop filter, remove them: remove ",
                    spec.iif.view(), " ", spec.any_source() ? std::string("*") : spec.source.str(), " ",
                    spec.group.str(), " ", names));
}

} // namespace

Router::Router(Logger& log, MrouteSocket* v4, MrouteSocket* v6, const Clock* clock)
    : log_(log), clock_(clock ? *clock : steady_)
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

void Router::set_phyints(const std::vector<PhyintSpec>& phyints)
{
    ++version_;
    phyints_ = phyints;
    reconcile_all();
}

void Router::set_only_enabled(bool on)
{
    if (on == only_enabled_)
        return;
    ++version_;
    only_enabled_ = on;
    reconcile_all();
}

bool Router::disabled(std::string_view ifname) const
{
    bool enabled = false;
    for (const auto& p : phyints_) {
        if (!p.name.matches(ifname))
            continue;
        if (!p.enable)
            return true;
        enabled = true;
    }
    return only_enabled_ && !enabled;
}

std::string Router::oif_gaps(const std::vector<IfName>& oifs) const
{
    std::string out;
    for (const auto& o : oifs) {
        if (o.is_wildcard())
            continue;
        std::string_view why;
        if (!index_by_name_.count(o))
            why = " does not exist";
        else if (disabled(o.view()))
            why = only_enabled_ ? " is not enabled by phyint" : " is disabled by phyint";
        else
            continue;
        if (!out.empty())
            out += "; ";
        out.append("outbound interface ").append(o.view()).append(why);
    }
    return out;
}

uint8_t Router::ttl_threshold(std::string_view ifname) const
{
    for (const auto& p : phyints_)
        if (p.name.matches(ifname))
            return p.ttl_threshold;
    return 1;
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
    switch (r.why.code) {
    case Pending::none: return oif_gaps(ifs.oifs);
    case Pending::iif_missing: return cat("inbound interface ", ifs.iif.view(), " does not exist");
    case Pending::iif_disabled:
        return cat("inbound interface ", ifs.iif.view(), only_enabled_ ? " is not enabled by phyint"
                                                                       : " is disabled by phyint");
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

Status Router::family_status(Family f) const
{
    if (!has_family(f))
        return Error{EAFNOSUPPORT, cat(family_name(f), " multicast routing is not available")};
    return {};
}

Router::Where Router::where_of(const SourceLoc* loc)
{
    if (!loc || loc->file.empty())
        return {};
    auto [it, inserted] = file_ids_.try_emplace(loc->file, static_cast<uint32_t>(files_.size() + 1));
    if (inserted)
        files_.push_back(loc->file);
    return Where{it->second, loc->line};
}

std::string_view Router::file_of(const Where& w) const
{
    return w.file ? std::string_view(files_[w.file - 1]) : std::string_view();
}

bool Router::relocate(const RouteSpec& key, const SourceLoc& where)
{
    if (!key.is_template()) {
        auto it = static_.find(SgKey{key.source.addr, key.group.addr});
        if (it == static_.end() || !(it->second.ifs->key->iif == key.iif))
            return false;
        it->second.where = where_of(&where);
        return true;
    }
    auto it = rules_.find(RuleKey{key.iif, key.source, key.group});
    if (it == rules_.end())
        return false;
    it->second.where = where_of(&where);
    return true;
}

Status Router::add(const RouteSpec& spec, Origin origin, const SourceLoc* where)
{
    ++version_;
    if (auto st = family_status(spec.family()); !st)
        return st;
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
            if (auto st = keeps_oifs(spec, ifs.oifs); !st)
                return st;
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
        nit->second.where = where_of(where);
        nit->second.since = clock_.now();
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
        if (auto st = keeps_oifs(spec, rule.spec.oifs); !st)
            return st;
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
    auto [nit, inserted] = rules_.emplace(rk, Rule{spec, origin, where_of(where), clock_.now(), next_seq_++, {}, {}, {}});
    (void)inserted;
    Rule& rule = nit->second;
    index_rule(rule);
    index_rule_names(rule);
    reconcile_rule(rule);
    reevaluate_stop_filters(rule);
    return {};
}

void Router::retire_rule(Rule& rule)
{
    drop_learned(rule);
    FamilyState* fs = family_state(rule.spec.family());
    if (fs)
        for (unsigned v : rule.iif_vifs)
            fs->vifs.release(v);
    rule.iif_vifs.clear();
    if (!rule.proxy)
        unindex_rule(rule);
    else if (fs)
        std::erase(fs->proxy_rules, &rule);
    unindex_rule_names(rule);
}

void Router::erase_rule(std::map<RuleKey, Rule>::iterator it)
{
    retire_rule(it->second);
    rules_.erase(it);
}

Status Router::remove(const RouteSpec& spec, bool only_oifs)
{
    ++version_;
    if (auto st = family_status(spec.family()); !st)
        return st;
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
    for (auto& [key, rule] : proxy_rules_)
        retire_rule(rule);
    proxy_rules_.clear();
    for (FamilyState* fs : {v4_.get(), v6_.get()})
        if (fs) {
            fs->rule_index.clear();
            fs->vifs.release_all();
        }
}

} // namespace smcroute

// runtime/router, the views `show` reads: a RouteView per rule, static
// route, learned entry, stop filter and proxy entry, and Listings over the
// live table.
#include "smcroute/runtime/router.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <utility>

namespace smcroute {

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

std::string_view route_kind_name(RouteView::Kind k)
{
    switch (k) {
    case RouteView::Kind::rule: return "rule";
    case RouteView::Kind::learned: return "learned";
    case RouteView::Kind::stop: return "stop";
    case RouteView::Kind::route: return "route";
    case RouteView::Kind::proxy: return "proxy";
    }
    return "?";
}

RouteView Router::view_of(const Rule& rule) const
{
    RouteView v;
    v.kind = RouteView::Kind::rule;
    v.spec = &rule.spec;
    v.active = rule.pending_reason.empty();
    v.pending_reason = v.active ? oif_gaps(rule.spec.oifs) : rule.pending_reason;
    v.learned = rule.learned.size();
    v.origin = rule.origin;
    v.file = file_of(rule.where);
    v.line = rule.where.line;
    v.since = rule.since;
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
    v.file = file_of(r.where);
    v.line = r.where.line;
    v.since = r.since;
    return v;
}

RouteView Router::view_of(const DynamicEntry& e) const
{
    const Dynamic& d = e.second;
    const FamilyState* fs = family_state(e.first.group.family());
    RouteView v;
    v.kind = !d.rule ? RouteView::Kind::stop : d.rule->proxy ? RouteView::Kind::proxy : RouteView::Kind::learned;
    v.spec = d.rule ? &d.rule->spec : nullptr;
    v.key = e.first;
    auto it = ifaces_.find(fs->vifs.ifindex_of(d.hold.iif_vif));
    v.iif = it == ifaces_.end() ? "?" : it->second.name.str();
    v.oifs = mask_names(*fs, d.hold.oif_mask);
    v.active = true;
    v.origin = d.rule ? d.rule->origin : Origin::config;
    v.since = d.since;
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

RouterCounts Router::counts() const
{
    RouterCounts c;
    c.static_routes = static_.size();
    c.rules = rules_.size();
    for (const auto& [key, d] : dynamic_)
        ++(!d.rule ? c.stop_filters : d.rule->proxy ? c.proxy : c.learned);
    for (const auto& e : static_)
        if (!e.second.hold.in_kernel)
            ++c.pending;
    for (const auto& [key, rule] : rules_)
        if (!rule.pending_reason.empty())
            ++c.pending;
    c.vifs_inet = v4_ ? v4_->vifs.used() : 0;
    c.mifs_inet6 = v6_ ? v6_->vifs.used() : 0;
    return c;
}

MfcCounters Router::learned_totals(const RouteSpec& rule_key) const
{
    MfcCounters sum;
    auto it = rules_.find(RuleKey{rule_key.iif, rule_key.source, rule_key.group});
    if (it == rules_.end())
        return sum;
    for (const SgKey& key : it->second.learned)
        if (auto c = counters(key)) {
            sum.packets += c->packets;
            sum.bytes += c->bytes;
            sum.wrong_if += c->wrong_if;
        }
    return sum;
}

} // namespace smcroute

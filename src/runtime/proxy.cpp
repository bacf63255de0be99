// runtime/proxy: downstream queriers, the upstream union, the router's
// forwarding answers, and configuration by difference.
#include "smcroute/runtime/proxy.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/model/group_packet.hpp"

#include <algorithm>
#include <set>

namespace smcroute {

namespace {

// The prefix every proxy group lies in, per family.
bool is_ipv6_link_local_unicast(const IpAddr& a)
{
    return !a.is_v4() && a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}

// "IGMPv3 report TO_EX(239.1.1.1: -)", "MLDv1 leave ff0e::1", for the debug log.
std::string describe(Family f, const GroupMessage& m)
{
    std::string out(group_version_name(f, m.version));
    switch (m.kind) {
    case GroupMessage::Kind::query:
        return cat(out, " query ", m.group.is_unspecified() ? std::string("(general)") : m.group.str(),
                   m.sources.empty() ? "" : cat(" with ", m.sources.size(), " source(s)"));
    case GroupMessage::Kind::leave: return cat(out, " leave ", m.group.str());
    case GroupMessage::Kind::report: break;
    }
    if (m.version != GroupVersion::v3)
        return cat(out, " report ", m.group.str());
    out += " report";
    for (const auto& r : m.records)
        out += cat(" ", record_type_name(r.type), "(", r.group.str(), ": ", r.sources.size(), " source(s))");
    return out;
}

} // namespace

Proxy::Proxy(EventLoop& loop, Logger& log, Router& router, MembershipKernel& upstream_joins, ProxyIo& io)
    : loop_(loop), log_(log), router_(router), joins_(upstream_joins), io_(io)
{
}

Proxy::~Proxy()
{
    for (Family f : {Family::inet, Family::inet6})
        if (enabled(f))
            apply_config(f, FamilyConfig{f, std::nullopt, {}});
}

bool Proxy::enabled(Family f) const
{
    return !fam(f).config.lines.empty();
}

// Configuration -----------------------------------------------------------------------

Proxy::FamilyConfig Proxy::config_of(Family f, const std::vector<PhyintSpec>& phyints)
{
    FamilyConfig c;
    c.family = f;
    for (const auto& p : phyints) {
        if (!p.enable || !p.proxy.covers(f))
            continue;
        c.lines.push_back(p);
        if (p.proxy.role == ProxyRole::upstream && !c.upstream) // the config refuses a second one
            c.upstream = p.name;
    }
    return c;
}

const ProxySpec* Proxy::downstream_for(const FamilyConfig& c, std::string_view ifname)
{
    const PhyintSpec* p = proxy_phyint(c.lines, ifname, c.family);
    return p && p->proxy.role == ProxyRole::downstream ? &p->proxy : nullptr;
}

void Proxy::configure(const std::vector<PhyintSpec>& phyints)
{
    for (Family f : {Family::inet, Family::inet6}) {
        if (!router_.has_family(f))
            continue;
        FamilyConfig next = config_of(f, phyints);
        if (next == fam(f).config)
            continue; // untouched: every state kept
        apply_config(f, std::move(next));
    }
}

void Proxy::apply_config(Family f, FamilyConfig next)
{
    FamilyState& st = fam(f);
    const bool upstream_changed = next.upstream != st.config.upstream;
    if (upstream_changed) {
        // A new upstream: the family starts afresh.
        for (auto it = links_.lower_bound({f, 0}); it != links_.end() && it->first.first == f;)
            drop_link(it++);
        set_upstream_index(f, 0);
    }
    // Downstreams whose line changed: new settings, or afresh.
    for (auto it = links_.lower_bound({f, 0}); it != links_.end() && it->first.first == f;) {
        Link& link = it->second;
        const ProxySpec* d = downstream_for(next, link.name.view());
        if (!d) {
            drop_link(it++);
            continue;
        }
        if (*d == link.spec) {
            ++it;
            continue;
        }
        ProxySpec settings_only = link.spec;
        settings_only.querier = d->querier;
        if (settings_only == *d) {
            link.spec = *d;
            link.querier->set_settings(d->querier, loop_.now());
            settle(link);
            ++it;
            continue;
        }
        drop_link(it++); // refresh_family() adds it again with its new line
    }
    st.config = std::move(next);
    std::vector<IfName> patterns;
    for (const auto& p : st.config.lines)
        if (p.proxy.role == ProxyRole::downstream)
            patterns.push_back(p.name);
    const bool any = !st.config.lines.empty();
    router_.set_proxy(f, st.config.upstream, patterns, any ? this : nullptr);
    if (any)
        log_.info(cat(family_name(f), " proxy: upstream ", st.config.upstream ? st.config.upstream->view() : "none",
                      ", ", patterns.size(), " downstream line(s)"));
    else
        log_.info(cat(family_name(f), " proxy stopped"));
    refresh_family(f);
}

// Interfaces --------------------------------------------------------------------------

void Proxy::refresh()
{
    for (Family f : {Family::inet, Family::inet6})
        if (enabled(f))
            refresh_family(f);
}

void Proxy::refresh_family(Family f)
{
    FamilyState& st = fam(f);
    const auto& ifaces = router_.interfaces();
    auto usable = [](const Interface& i) { return i.up() && i.multicast() && !i.loopback(); };
    // Links whose interface vanished, went down or was renamed.
    for (auto it = links_.lower_bound({f, 0}); it != links_.end() && it->first.first == f;) {
        auto i = ifaces.find(it->first.second);
        if (i == ifaces.end() || !usable(i->second) || i->second.name != it->second.name ||
            !downstream_for(st.config, i->second.name.view()))
            drop_link(it++);
        else
            ++it;
    }
    unsigned upstream = 0;
    for (const auto& [index, iface] : ifaces) {
        if (!usable(iface))
            continue;
        if (st.config.upstream && iface.name == *st.config.upstream) {
            upstream = index;
            continue;
        }
        const ProxySpec* d = downstream_for(st.config, iface.name.view());
        if (!d)
            continue;
        auto it = links_.find({f, index});
        if (it == links_.end()) {
            add_link(f, iface, *d);
            continue;
        }
        // The address it queries from may have changed.
        auto addr = io_.address(f, iface);
        if (addr && *addr != it->second.address) {
            it->second.address = *addr;
            it->second.querier->set_address(*addr, loop_.now());
            settle(it->second);
        }
    }
    set_upstream_index(f, upstream);
}

void Proxy::add_link(Family f, const Interface& iface, const ProxySpec& spec)
{
    auto addr = io_.address(f, iface).value_or(IpAddr::any(f));
    if (auto st = io_.listen(f, iface.index, true); !st)
        log_.warning(cat("proxy: ", iface.name.view(), ": ", st.error().message));
    auto [it, inserted] = links_.try_emplace({f, iface.index});
    Link& link = it->second;
    link.family = f;
    link.name = iface.name;
    link.ifindex = iface.index;
    link.spec = spec;
    link.address = addr;
    link.querier = std::make_unique<Querier>(f, spec.querier, addr, loop_.now());
    link.querier->advance(loop_.now()); // the first startup query goes now
    link.was_querier = link.querier->is_querier();
    log_.notice(cat(family_name(f), " proxy: querier on ", iface.name.view(), " (",
                    group_version_name(f, spec.querier.version(f)), ", from ", addr.str(), ")"));
    settle(link);
}

void Proxy::drop_link(std::map<LinkKey, Link>::iterator it)
{
    Link& link = it->second;
    const Family f = link.family;
    if (link.timer)
        loop_.cancel(link.timer);
    (void)io_.listen(f, link.ifindex, false);
    const std::vector<IpAddr> groups = link.querier->group_addresses();
    for (const auto& g : groups)
        publish(EventKind::listener_removed, link, g);
    links_.erase(it);
    for (const auto& g : groups)
        group_changed(f, g);
}

void Proxy::set_upstream_index(Family f, unsigned index)
{
    FamilyState& st = fam(f);
    if (index == st.upstream_index)
        return;
    // Leave on the old interface (if it still exists), join on the new.
    std::map<IpAddr, Joined> joined = std::move(st.joined);
    st.joined.clear();
    if (st.upstream_index)
        for (const auto& [g, j] : joined) {
            if (j.exclude)
                (void)joins_.leave(membership(f, g, std::nullopt));
            for (const auto& s : j.sources)
                (void)joins_.leave(membership(f, g, s));
        }
    st.upstream_index = index;
    if (!index)
        return;
    std::set<IpAddr> groups;
    for (auto it = links_.lower_bound({f, 0}); it != links_.end() && it->first.first == f; ++it)
        for (const auto& g : it->second.querier->group_addresses())
            groups.insert(g);
    for (const auto& g : groups)
        apply_upstream(f, g, wanted_upstream(f, g));
}

// Messages and timers -------------------------------------------------------------------

void Proxy::note_queue_drops(Family f, uint32_t running)
{
    FamilyState& st = fam(f);
    st.queue_drops.note(running);
    uint64_t fresh = st.queue_drops.total - st.drops_logged;
    auto now = loop_.now();
    if (fresh == 0 || (st.drops_logged_at != Clock::time_point{} && now - st.drops_logged_at < std::chrono::seconds(10)))
        return;
    log_.warning(cat(family_name(f), " proxy: the kernel dropped ", fresh, f == Family::inet ? " IGMP" : " MLD",
                     " messages, the daemon's receive queue being full (", st.queue_drops.total, " in all)"));
    st.drops_logged = st.queue_drops.total;
    st.drops_logged_at = now;
}

void Proxy::receive(Family f, const GroupDatagram& d)
{
    if (d.drop_count)
        note_queue_drops(f, *d.drop_count);
    auto it = links_.find({f, d.ifindex});
    if (it == links_.end())
        return; // not a downstream (the upstream's queries are the kernel's business)
    Link& link = it->second;
    // RFC 3376 section 4 / RFC 3810 section 5: TTL/hop limit 1; MLD from a
    // link-local source (reports also from :: before an address is ready).
    if (!d.ttl || *d.ttl != 1) {
        ++link.counters.malformed;
        return;
    }
    auto decoded = f == Family::inet ? decode_igmp(d.body) : decode_mld(d.body);
    if (!decoded) {
        if (drop_is_malformed(decoded.drop()))
            ++link.counters.malformed;
        return;
    }
    GroupMessage& m = decoded.message();
    if (f == Family::inet6 && !is_ipv6_link_local_unicast(d.source) &&
        !(m.kind == GroupMessage::Kind::report && d.source.is_unspecified())) {
        ++link.counters.malformed;
        return;
    }
    // Link-scope groups (224.0.0.0/24, ff02::/16: the hosts' own
    // all-routers, report and solicited-node groups) are never routed: no
    // state for them, and never a join upstream.
    if (m.kind != GroupMessage::Kind::query) {
        if (m.version == GroupVersion::v3 && m.kind == GroupMessage::Kind::report) {
            std::erase_if(m.records, [](const GroupRecord& r) { return r.group.is_link_local_multicast(); });
            if (m.records.empty())
                return;
        } else if (m.group.is_link_local_multicast()) {
            return;
        }
    }
    const GroupFilter& filter = link.spec.filter;
    if (m.kind != GroupMessage::Kind::query && !filter.empty()) {
        if (m.version == GroupVersion::v3 && m.kind == GroupMessage::Kind::report) {
            auto denied = std::remove_if(m.records.begin(), m.records.end(),
                                         [&](const GroupRecord& r) { return !filter.allows_group(r.group); });
            link.counters.denied += static_cast<uint64_t>(m.records.end() - denied);
            m.records.erase(denied, m.records.end());
            if (m.records.empty())
                return;
        } else if (!filter.allows_group(m.group)) {
            ++link.counters.denied;
            return;
        }
    }
    if (log_.enabled(LogLevel::debug))
        log_.debug(cat("proxy: ", link.name.view(), ": ", describe(f, m), " from ", d.source.str()));
    link.querier->receive(m, d.source, loop_.now());
    settle(link);
}

void Proxy::settle(Link& link)
{
    const Family f = link.family;
    for (const GroupMessage& q : link.querier->take_queries()) {
        auto bytes = f == Family::inet ? encode_igmp(q) : encode_mld(q);
        if (auto st = io_.send(f, link.ifindex, link.address, group_destination(f, q), bytes); !st)
            log_.debug(cat("proxy: query on ", link.name.view(), ": ", st.error().message));
    }
    if (link.querier->is_querier() != link.was_querier) {
        link.was_querier = link.querier->is_querier();
        log_.notice(cat(family_name(f), " proxy: ", link.name.view(),
                        link.was_querier ? ": querier again" : ": other querier ",
                        link.was_querier ? "" : link.querier->querier_address().str()));
        if (events_ && events_->wanted()) {
            Event ev{EventKind::querier_changed, {}};
            ev.add("interface", link.name.str()).add("family", std::string(family_name(f)));
            ev.add("querier", std::string(link.was_querier ? "yes" : "no"));
            ev.add("address", link.querier->querier_address().str());
            events_->publish(ev);
        }
    }
    const std::vector<Querier::Change> changes = link.querier->take_changes();
    // The kernel first (what a joining host waits for), then the words. The
    // router and the upstream may call back into proxy_oifs(): the querier
    // has settled by now.
    for (const auto& c : changes)
        group_changed(f, c.group);
    for (const auto& [g, had] : changes) {
        bool has = link.querier->has_group(g);
        if (has && !had) {
            log_.info(cat(family_name(f), " proxy: ", link.name.view(), ": listeners for ", g.str()));
            publish(EventKind::listener_added, link, g);
        } else if (!has && had) {
            log_.info(cat(family_name(f), " proxy: ", link.name.view(), ": no more listeners for ", g.str()));
            publish(EventKind::listener_removed, link, g);
        }
    }
    arm(link);
}

void Proxy::arm(Link& link)
{
    Clock::time_point due = link.querier->next_deadline();
    if (link.timer && due == link.armed)
        return;
    if (link.timer)
        loop_.cancel(link.timer);
    link.timer = 0;
    link.armed = due;
    if (due == Clock::time_point::max())
        return;
    auto delay = std::max(Clock::duration::zero(), due - loop_.now());
    LinkKey key{link.family, link.ifindex};
    link.timer = loop_.after(delay, [this, key] { on_timer(key); });
}

void Proxy::on_timer(LinkKey key)
{
    auto it = links_.find(key);
    if (it == links_.end())
        return;
    it->second.timer = 0;
    it->second.querier->advance(loop_.now());
    settle(it->second);
}

// Forwarding and the upstream -------------------------------------------------------------

void Proxy::group_changed(Family f, const IpAddr& group)
{
    router_.proxy_changed(f, group);
    apply_upstream(f, group, wanted_upstream(f, group));
}

std::vector<IfName> Proxy::proxy_oifs(std::string_view iif, const SgKey& key) const
{
    const Family f = key.group.family();
    std::vector<IfName> out;
    const FamilyState& st = fam(f);
    for (auto it = links_.lower_bound({f, 0}); it != links_.end() && it->first.first == f; ++it) {
        const Link& link = it->second;
        if (link.name.view() == iif)
            continue;
        const GroupFilter& filter = link.spec.filter;
        if (filter.allows_group(key.group) && filter.allows_source(key.source) &&
            link.querier->wants(key.source, key.group))
            out.push_back(link.name);
    }
    // RFC 4605 section 4.2: what a downstream sends goes upstream too.
    if (st.config.upstream && st.config.upstream->view() != iif && st.upstream_index)
        out.push_back(*st.config.upstream);
    return out;
}

Proxy::Joined Proxy::wanted_upstream(Family f, const IpAddr& group) const
{
    Joined want;
    for (auto it = links_.lower_bound({f, 0}); it != links_.end() && it->first.first == f; ++it) {
        const Link& link = it->second;
        auto g = link.querier->group(group);
        if (!g || !link.spec.filter.allows_group(group))
            continue;
        if (g->exclude) {
            want.exclude = true;
            continue;
        }
        for (const auto& s : g->sources)
            if (s.forwarding && link.spec.filter.allows_source(s.source))
                want.sources.push_back(s.source);
    }
    if (want.exclude)
        want.sources.clear(); // ASM covers every source
    std::sort(want.sources.begin(), want.sources.end());
    want.sources.erase(std::unique(want.sources.begin(), want.sources.end()), want.sources.end());
    return want;
}

Membership Proxy::membership(Family f, const IpAddr& group, std::optional<IpAddr> source) const
{
    Membership m;
    m.ifindex = fam(f).upstream_index;
    if (fam(f).config.upstream)
        m.ifname = *fam(f).config.upstream;
    m.group = group;
    m.source = source;
    return m;
}

void Proxy::apply_upstream(Family f, const IpAddr& group, const Joined& next)
{
    FamilyState& st = fam(f);
    if (!st.upstream_index)
        return;
    auto it = st.joined.find(group);
    Joined now = it == st.joined.end() ? Joined{} : it->second;
    if (now == next)
        return;
    // Join what is new first, then leave what went: no gap upstream.
    auto report = [&](const Status& s) {
        if (!s)
            log_.warning(cat("proxy upstream: ", s.error().message));
    };
    if (next.exclude && !now.exclude)
        report(joins_.join(membership(f, group, std::nullopt)));
    for (const auto& s : next.sources)
        if (!now.has(s))
            report(joins_.join(membership(f, group, s)));
    for (const auto& s : now.sources)
        if (!next.has(s))
            report(joins_.leave(membership(f, group, s)));
    if (now.exclude && !next.exclude)
        report(joins_.leave(membership(f, group, std::nullopt)));
    const bool was = it != st.joined.end();
    const bool is = next.exclude || !next.sources.empty();
    if (is)
        st.joined[group] = next;
    else
        st.joined.erase(group);
    if (was != is && events_ && events_->wanted()) {
        Event ev{is ? EventKind::upstream_joined : EventKind::upstream_left, {}};
        ev.add("interface", st.config.upstream ? st.config.upstream->str() : std::string("?"));
        ev.add("group", group.str());
        events_->publish(ev);
    }
    if (was != is)
        log_.info(cat(family_name(f), " proxy: ", is ? "joined " : "left ", group.str(), " upstream on ",
                      st.config.upstream ? st.config.upstream->view() : "?"));
}

void Proxy::publish(EventKind kind, const Link& link, const IpAddr& group)
{
    if (!events_ || !events_->wanted())
        return;
    Event ev{kind, {}};
    ev.add("interface", link.name.str()).add("group", group.str());
    events_->publish(ev);
}

// Views -----------------------------------------------------------------------------------

std::vector<Proxy::LinkView> Proxy::views() const
{
    std::vector<LinkView> out;
    for (Family f : {Family::inet, Family::inet6}) {
        const FamilyState& st = fam(f);
        if (!st.config.upstream)
            continue;
        LinkView v;
        v.family = f;
        v.name = *st.config.upstream;
        v.ifindex = st.upstream_index;
        v.role = ProxyRole::upstream;
        v.present = st.upstream_index != 0;
        for (const auto& [g, j] : st.joined)
            v.joined.push_back({g, j.exclude, j.sources});
        v.queue_dropped = st.queue_drops.total;
        out.push_back(std::move(v));
    }
    std::vector<LinkView> downs;
    for (const auto& [key, link] : links_) {
        LinkView v;
        v.family = link.family;
        v.name = link.name;
        v.ifindex = link.ifindex;
        v.role = ProxyRole::downstream;
        v.present = true;
        v.version = link.spec.querier.version(link.family);
        v.querier = link.querier->is_querier();
        v.querier_address = link.querier->querier_address();
        v.other_querier_expires = link.querier->other_querier_expires();
        v.groups = link.querier->groups();
        v.stats = link.querier->stats();
        v.counters = link.counters;
        v.queue_dropped = fam(link.family).queue_drops.total;
        downs.push_back(std::move(v));
    }
    std::stable_sort(downs.begin(), downs.end(), [](const LinkView& a, const LinkView& b) {
        if (a.family != b.family)
            return a.family < b.family;
        return a.name < b.name;
    });
    out.insert(out.end(), std::make_move_iterator(downs.begin()), std::make_move_iterator(downs.end()));
    return out;
}

} // namespace smcroute

#include "smcroute/runtime/groups.hpp"

#include "smcroute/base/hash.hpp"

#include <cerrno>

namespace smcroute {

namespace {

uint64_t count_of(const Prefix& p)
{
    unsigned bits = family_bits(p.family()) - p.len;
    assert(bits < 64);
    return uint64_t{1} << bits;
}

std::string spec_str(const JoinSpec& spec)
{
    return cat(spec.key_str(), " on ", spec.iif.view());
}

} // namespace

size_t GroupManager::AddrKeyHash::operator()(const AddrKey& k) const noexcept
{
    size_t h = hash_all(std::hash<IpAddr>{}(k.group), k.ifindex);
    if (k.source)
        h = hash_combine(h, std::hash<IpAddr>{}(*k.source));
    return h;
}

void GroupManager::expand(const JoinSpec& spec,
                          const std::function<bool(const std::optional<IpAddr>&, const IpAddr&)>& fn)
{
    const uint64_t groups = count_of(spec.group);
    const uint64_t sources = spec.source ? count_of(*spec.source) : 1;
    for (uint64_t s = 0; s < sources; ++s) {
        std::optional<IpAddr> source;
        if (spec.source)
            source = spec.source->addr.plus(s);
        for (uint64_t g = 0; g < groups; ++g)
            if (!fn(source, spec.group.addr.plus(g)))
                return;
    }
}

bool GroupManager::has_interface(std::string_view name) const
{
    for (const auto& [index, iface] : ifaces_)
        if (iface.name.view() == name)
            return true;
    return false;
}

Status GroupManager::join_on(const Entry& e, const Interface& iface)
{
    std::vector<AddrKey> done;
    Status result;
    expand(e.spec, [&](const std::optional<IpAddr>& source, const IpAddr& group) {
        AddrKey k{iface.index, source, group};
        auto it = refs_.find(k);
        if (it != refs_.end()) {
            ++it->second;
            done.push_back(k);
            return true;
        }
        if (auto st = kernel_.join(Membership{iface.index, iface.name, source, group}); !st) {
            result = std::move(st);
            return false;
        }
        refs_.emplace(k, 1);
        done.push_back(k);
        return true;
    });
    if (result)
        return result;
    // Roll back what this call joined.
    for (const AddrKey& k : done) {
        auto it = refs_.find(k);
        assert(it != refs_.end());
        if (--it->second > 0)
            continue;
        refs_.erase(it);
        if (auto st = kernel_.leave(Membership{k.ifindex, iface.name, k.source, k.group}); !st)
            log_.warning(cat("roll back: ", st.error().message));
    }
    return result;
}

void GroupManager::leave_on(const Entry& e, unsigned ifindex, const IfName& name, bool gone)
{
    expand(e.spec, [&](const std::optional<IpAddr>& source, const IpAddr& group) {
        auto it = refs_.find(AddrKey{ifindex, source, group});
        if (it == refs_.end()) {
            assert(gone && "a joined address without a reference");
            return true;
        }
        if (--it->second > 0)
            return true;
        refs_.erase(it);
        if (!gone)
            if (auto st = kernel_.leave(Membership{ifindex, name, source, group}); !st)
                log_.warning(st.error().message);
        return true;
    });
}

std::string GroupManager::missing_reason(const Entry& e) const
{
    if (e.spec.iif.is_wildcard())
        return cat("no interface matches ", e.spec.iif.view());
    return cat("interface ", e.spec.iif.view(), " does not exist");
}

void GroupManager::activate(Entry& e)
{
    std::string reason;
    bool matched = false;
    for (const auto& [index, iface] : ifaces_) {
        if (!e.spec.iif.matches(iface.name.view()))
            continue;
        matched = true;
        if (e.joined_on.contains(index))
            continue;
        if (auto st = join_on(e, iface); !st) {
            log_.error(st.error().message);
            reason = st.error().message;
            continue;
        }
        e.joined_on.emplace(index, iface.name);
        log_.info(cat("joined ", e.spec.key_str(), " on ", iface.name.view()));
    }
    e.pending_reason = matched ? reason : missing_reason(e);
}

Status GroupManager::add(const JoinSpec& spec, Origin origin)
{
    // The validator bounds expansion (default 1024); this only guards expand().
    if (spec.expansion() > (uint64_t{1} << 32))
        return fail(cat("join ", spec_str(spec), ": expands to too many addresses"));
    Key key = key_of(spec);
    if (joins_.contains(key))
        return Error{EADDRINUSE, cat("already joined: ", spec_str(spec))};
    Entry e{spec, origin, {}, {}};
    for (const auto& [index, iface] : ifaces_) {
        if (!spec.iif.matches(iface.name.view()))
            continue;
        if (auto st = join_on(e, iface); !st) {
            for (const auto& [done_index, done_name] : e.joined_on)
                leave_on(e, done_index, done_name, false);
            return st;
        }
        e.joined_on.emplace(index, iface.name);
    }
    if (e.joined_on.empty())
        e.pending_reason = missing_reason(e);
    joins_.emplace(std::move(key), std::move(e));
    return {};
}

Status GroupManager::remove(const JoinSpec& spec)
{
    auto it = joins_.find(key_of(spec));
    if (it == joins_.end())
        return Error{EADDRNOTAVAIL, cat("not joined: ", spec_str(spec))};
    for (const auto& [index, name] : it->second.joined_on)
        leave_on(it->second, index, name, false);
    joins_.erase(it);
    return {};
}

void GroupManager::remove_origin(Origin origin)
{
    for (auto it = joins_.begin(); it != joins_.end();) {
        if (it->second.origin != origin) {
            ++it;
            continue;
        }
        for (const auto& [index, name] : it->second.joined_on)
            leave_on(it->second, index, name, false);
        it = joins_.erase(it);
    }
}

void GroupManager::clear()
{
    for (auto& [key, e] : joins_)
        for (const auto& [index, name] : e.joined_on)
            leave_on(e, index, name, false);
    joins_.clear();
    assert(refs_.empty());
}

void GroupManager::interface_gone(unsigned ifindex)
{
    bool any = false;
    for (auto& [key, e] : joins_) {
        auto it = e.joined_on.find(ifindex);
        if (it == e.joined_on.end())
            continue;
        if (!any)
            kernel_.forget_interface(ifindex);
        any = true;
        leave_on(e, ifindex, it->second, true);
        log_.info(cat("interface ", it->second.view(), " is gone: ", spec_str(e.spec), " pending"));
        e.joined_on.erase(it);
        if (e.joined_on.empty())
            e.pending_reason = missing_reason(e);
    }
}

void GroupManager::set_interfaces(const std::map<unsigned, Interface>& ifaces)
{
    // Gone, or renamed (a new name is a new interface for joins by name).
    std::vector<unsigned> gone;
    for (const auto& [index, old] : ifaces_) {
        auto it = ifaces.find(index);
        if (it == ifaces.end() || it->second.name != old.name)
            gone.push_back(index);
    }
    std::vector<const Interface*> fresh; // new or changed: worth (re)trying
    for (const auto& [index, iface] : ifaces) {
        auto it = ifaces_.find(index);
        if (it == ifaces_.end() || it->second.name != iface.name || it->second.flags != iface.flags)
            fresh.push_back(&iface);
    }
    for (unsigned index : gone)
        interface_gone(index);
    ifaces_ = ifaces;
    if (fresh.empty())
        return;
    for (auto& [key, e] : joins_) {
        bool wanted = false;
        for (const Interface* iface : fresh)
            if (e.spec.iif.matches(iface->name.view()) && !e.joined_on.contains(iface->index))
                wanted = true;
        if (wanted)
            activate(e);
    }
}

void GroupManager::link_event(const LinkEvent& ev)
{
    std::map<unsigned, Interface> next = ifaces_;
    if (ev.kind == LinkEvent::Kind::removed)
        next.erase(ev.iface.index);
    else
        next[ev.iface.index] = ev.iface;
    set_interfaces(next);
}

void GroupManager::for_each_join(const std::function<void(const JoinView&)>& fn) const
{
    for (const auto& [key, e] : joins_) {
        JoinView v;
        v.spec = &e.spec;
        v.origin = e.origin;
        v.active = !e.joined_on.empty();
        for (const auto& [index, name] : e.joined_on)
            v.ifaces.push_back(name.str());
        v.pending_reason = e.pending_reason;
        v.addresses = e.spec.expansion();
        fn(v);
    }
}

void GroupManager::for_each_membership(const JoinSpec& spec, const std::function<void(const Membership&)>& fn) const
{
    auto it = joins_.find(key_of(spec));
    if (it == joins_.end())
        return;
    for (const auto& joined : it->second.joined_on) {
        // Not a structured binding: clang 14 cannot capture those.
        const unsigned index = joined.first;
        const IfName& name = joined.second;
        expand(spec, [&](const std::optional<IpAddr>& source, const IpAddr& group) {
            fn(Membership{index, name, source, group});
            return true;
        });
    }
}

} // namespace smcroute

// runtime/groups: the desired group memberships (from mgroup lines and client
// joins), expanded per address and per matching interface, kept in the kernel
// through a MembershipKernel. Joins on missing interfaces stay pending until
// the interface appears. Knows nothing of routes, VIFs, sockets or syntax.
#pragma once

#include "smcroute/os/interfaces.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/os/membership.hpp"
#include "smcroute/model/route_spec.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace smcroute {

// One line of `show groups`.
struct JoinView {
    const JoinSpec* spec = nullptr;
    Origin origin = Origin::config;
    bool active = false;               // joined on at least one interface
    std::vector<std::string> ifaces;   // interfaces it is joined on (a wildcard may match several)
    std::string pending_reason;        // why not (fully) active; may be set while active (wildcard)
    uint64_t addresses = 0;            // per interface: JoinSpec::expansion()
};

class GroupManager {
public:
    GroupManager(Logger& log, MembershipKernel& kernel) : log_(log), kernel_(kernel) {}
    GroupManager(const GroupManager&) = delete;
    GroupManager& operator=(const GroupManager&) = delete;

    // Interfaces --------------------------------------------------------------
    // Full resync (e.g. pass Router::interfaces() after every link event):
    // interfaces gone or renamed lose their joins (they go pending), new ones
    // get every matching pending join.
    void set_interfaces(const std::map<unsigned, Interface>& ifaces);
    void link_event(const LinkEvent& ev);
    bool has_interface(std::string_view name) const;

    // Joins -------------------------------------------------------------------
    // Join every address of the spec on every interface it names that exists;
    // with none existing it is kept pending (the caller decides whether to allow
    // that). Transactional: if the kernel refuses any address, every address
    // joined by this call is left again and the spec is not kept.
    // The same spec twice is an error ("already joined: ...").
    Status add(const JoinSpec& spec, Origin origin);
    // Leave exactly this spec (same interface, source and group, same lengths):
    // anything else is "not joined: ...". Addresses another spec still wants
    // stay joined.
    Status remove(const JoinSpec& spec);
    void remove_origin(Origin origin);
    // Leave everything (exit).
    void clear();

    // Views ---------------------------------------------------------------------
    // Every spec in (interface, source, group) order.
    void for_each_join(const std::function<void(const JoinView&)>& fn) const;
    // Detail: the kernel memberships a spec holds now, interface by interface,
    // then source, then group.
    void for_each_membership(const JoinSpec& spec, const std::function<void(const Membership&)>& fn) const;
    size_t size() const { return joins_.size(); }
    bool contains(const JoinSpec& spec) const { return joins_.contains(key_of(spec)); }

private:
    struct Key {
        IfName iif;
        std::optional<Prefix> source;
        Prefix group;
        friend auto operator<=>(const Key&, const Key&) = default;
        friend bool operator==(const Key&, const Key&) = default;
    };
    struct Entry {
        JoinSpec spec;
        Origin origin = Origin::config;
        std::map<unsigned, IfName> joined_on; // ifindex -> name at join time
        std::string pending_reason;
    };
    struct AddrKey {
        unsigned ifindex;
        std::optional<IpAddr> source;
        IpAddr group;
        friend bool operator==(const AddrKey&, const AddrKey&) = default;
    };
    struct AddrKeyHash {
        size_t operator()(const AddrKey& k) const noexcept;
    };

    static Key key_of(const JoinSpec& s) { return Key{s.iif, s.source, s.group}; }
    // Call fn for every (source, group) address of the spec; stops when fn returns false.
    static void expand(const JoinSpec& spec, const std::function<bool(const std::optional<IpAddr>&, const IpAddr&)>& fn);
    // Join every address of the spec on one interface; all or nothing.
    Status join_on(const Entry& e, const Interface& iface);
    // Release the spec's addresses on one interface; kernel leave at refcount 0.
    // gone: the interface has vanished (the kernel was told via forget_interface).
    void leave_on(const Entry& e, unsigned ifindex, const IfName& name, bool gone);
    // Join the entry on every present matching interface it is not joined on.
    void activate(Entry& e);
    std::string missing_reason(const Entry& e) const;
    void interface_gone(unsigned ifindex);

    Logger& log_;
    MembershipKernel& kernel_;
    std::map<unsigned, Interface> ifaces_;
    std::map<Key, Entry> joins_;
    std::unordered_map<AddrKey, unsigned, AddrKeyHash> refs_; // kernel joins shared by specs
};

} // namespace smcroute

// runtime/proxy: the IGMP/MLD proxy (RFC 4605). Per family, one upstream
// interface where the daemon is a host: the union of the downstream
// memberships is joined there (MembershipKernel: ASM where a downstream is in
// EXCLUDE mode, SSM for the union of INCLUDE sources), so the kernel reports
// it upstream and answers the upstream querier. On every downstream interface
// (config names or wildcards) one Querier (model/querier) per family keeps the
// listeners' state. The Router asks it where a proxied (S,G) goes
// (ProxyForwarding) and is told when a group's answer changes. Messages come
// in through receive() (the daemon reads the GroupSockets; tests call it) and
// go out through ProxyIo. Owns the per-link timers; knows nothing of the
// config file's syntax or of clients.
#pragma once

#include "smcroute/base/log.hpp"
#include "smcroute/model/proxy_spec.hpp"
#include "smcroute/model/querier.hpp"
#include "smcroute/model/route_spec.hpp"
#include "smcroute/os/group_socket.hpp"
#include "smcroute/os/membership.hpp"
#include "smcroute/os/socket_msg.hpp"
#include "smcroute/runtime/event_loop.hpp"
#include "smcroute/runtime/events.hpp"
#include "smcroute/runtime/router.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace smcroute {

// The proxy's link to the wire: the daemon's is GroupSockets (below);
// tests record what is sent.
class ProxyIo {
public:
    virtual ~ProxyIo() = default;
    // From source (the querier's address; IPv6: link-local) out of ifindex.
    virtual Status send(Family f, unsigned ifindex, const IpAddr& source, const IpAddr& dst,
                        std::span<const uint8_t> body) = 0;
    // Start or stop receiving the link-scope groups a querier listens on
    // (all-routers, the v3 report address) on an interface.
    virtual Status listen(Family f, unsigned ifindex, bool on) = 0;
    // The address the querier of this interface speaks from.
    virtual std::optional<IpAddr> address(Family f, const Interface& iface) = 0;
};

// Per downstream link and family; every drop is counted once.
struct ProxyCounters {
    uint64_t malformed = 0; // bad checksum, truncated, TTL/hop limit not 1, non-link-local MLD source...
    uint64_t denied = 0;    // records or reports for groups the link's filter refuses
};

class Proxy final : public ProxyForwarding {
public:
    Proxy(EventLoop& loop, Logger& log, Router& router, MembershipKernel& upstream_joins, ProxyIo& io);
    // Leaves every upstream group and takes the proxy rules out of the router.
    ~Proxy() override;
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;

    // The running config's phyints. Applied by difference: a family whose
    // upstream and downstream lines are unchanged keeps all its state; a
    // downstream whose querier settings alone changed keeps its groups and
    // takes the new settings; a downstream whose role, families or filter
    // changed starts afresh; a changed upstream restarts that family.
    void configure(const std::vector<PhyintSpec>& phyints);
    // The router's interfaces (or their addresses) changed: downstream links
    // appear and vanish, the upstream follows its interface.
    void refresh();
    // A datagram from family f's group socket.
    void receive(Family f, const GroupDatagram& d);

    bool enabled(Family f) const;
    bool enabled() const { return enabled(Family::inet) || enabled(Family::inet6); }
    void set_events(EventBus* bus) { events_ = bus; }

    // ProxyForwarding: from the upstream, to every downstream that wants
    // (S,G); from a downstream, to the upstream and every other downstream
    // that wants it (RFC 4605 section 4.2).
    std::vector<IfName> proxy_oifs(std::string_view iif, const SgKey& key) const override;

    // show proxy -------------------------------------------------------------
    struct UpstreamGroup {
        IpAddr group;
        bool exclude = false;        // ASM join
        std::vector<IpAddr> sources; // SSM joins (include)
    };
    struct LinkView {
        Family family = Family::inet;
        IfName name;
        unsigned ifindex = 0;
        ProxyRole role = ProxyRole::none;
        bool present = false; // upstream: its interface exists
        // Downstream.
        GroupVersion version = GroupVersion::v3;
        bool querier = false;
        IpAddr querier_address;
        std::optional<Clock::time_point> other_querier_expires;
        std::vector<Querier::GroupView> groups;
        Querier::Stats stats{};
        ProxyCounters counters;
        // Upstream.
        std::vector<UpstreamGroup> joined;
        // Either role: messages of this family the kernel dropped before
        // the daemon read them (its receive queue full), on any link; the
        // same figure on every link of the family.
        uint64_t queue_dropped = 0;
    };
    // Upstreams first, then downstreams, each family IPv4 first, by name.
    std::vector<LinkView> views() const;
    Clock::time_point now() const { return loop_.now(); }

private:
    struct FamilyConfig {
        Family family = Family::inet;
        std::optional<IfName> upstream;
        std::vector<PhyintSpec> lines; // the enabled phyints with a role for the family
        friend bool operator==(const FamilyConfig&, const FamilyConfig&) = default;
    };
    struct Link {
        Family family;
        IfName name;
        unsigned ifindex = 0;
        ProxySpec spec;
        IpAddr address; // the querier's own
        std::unique_ptr<Querier> querier;
        EventLoop::TimerId timer = 0;
        Clock::time_point armed{}; // the deadline timer is set for
        bool was_querier = true;
        ProxyCounters counters;
    };
    struct Joined {
        bool exclude = false;
        std::vector<IpAddr> sources; // sorted, unique
        bool has(const IpAddr& s) const { return std::binary_search(sources.begin(), sources.end(), s); }
        friend bool operator==(const Joined&, const Joined&) = default;
    };
    struct FamilyState {
        FamilyConfig config;
        unsigned upstream_index = 0; // 0: not present
        std::map<IpAddr, Joined> joined;
        DropTally queue_drops;  // the group socket's (SO_RXQ_OVFL)
        uint64_t drops_logged = 0;
        Clock::time_point drops_logged_at{};
    };
    using LinkKey = std::pair<Family, unsigned>; // (family, ifindex)

    FamilyState& fam(Family f) { return f == Family::inet ? v4_ : v6_; }
    const FamilyState& fam(Family f) const { return f == Family::inet ? v4_ : v6_; }
    static FamilyConfig config_of(Family f, const std::vector<PhyintSpec>& phyints);
    // The downstream settings of an interface (model/route_spec's
    // proxy_phyint picks the line); null when it is not a downstream.
    static const ProxySpec* downstream_for(const FamilyConfig& c, std::string_view ifname);
    void apply_config(Family f, FamilyConfig next);
    void refresh_family(Family f);
    void add_link(Family f, const Interface& iface, const ProxySpec& spec);
    void drop_link(std::map<LinkKey, Link>::iterator it);
    void set_upstream_index(Family f, unsigned index);
    // After the querier of a link acted: send its queries, pass on its
    // changes, re-arm its timer.
    void settle(Link& link);
    void arm(Link& link);
    void on_timer(LinkKey key);
    void group_changed(Family f, const IpAddr& group);
    Joined wanted_upstream(Family f, const IpAddr& group) const;
    void apply_upstream(Family f, const IpAddr& group, const Joined& next);
    Membership membership(Family f, const IpAddr& group, std::optional<IpAddr> source) const;
    void publish(EventKind kind, const Link& link, const IpAddr& group);
    // A datagram's running drop count: counted, and warned of at most every
    // 10 s.
    void note_queue_drops(Family f, uint32_t running);

    EventLoop& loop_;
    Logger& log_;
    Router& router_;
    MembershipKernel& joins_;
    ProxyIo& io_;
    EventBus* events_ = nullptr;
    FamilyState v4_, v6_;
    std::map<LinkKey, Link> links_;
};

} // namespace smcroute

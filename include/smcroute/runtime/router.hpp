// runtime/router: the routing engine. Holds the static (S,G) routes, the
// (*,G)/prefix rules, the IGMP/MLD proxy's rules (lowest precedence) and the
// kernel entries learned from them or installed as stop filters; allocates
// VIFs through VifTable and programs the kernel only through MrouteSocket,
// touching an entry only when its kernel state changes.
// Knows nothing of sockets to clients or of the config file's syntax.
// Every operation is a hash or ordered lookup; a link event touches only the
// routes and rules naming (or wildcard-matching) that interface.
// One class in six files: router.cpp (the table and its operations),
// router_reconcile.cpp (link events, VIF holds, the kernel in line),
// router_upcalls.cpp (learned entries and stop filters), router_proxy.cpp
// (the proxy's rules, below every rule), router_views.cpp
// (RouteViews and Listings for show), router_events.cpp (what it tells the
// event bus, runtime/events, when one is set).
#pragma once

#include "smcroute/os/interfaces.hpp"
#include "smcroute/base/clock.hpp"
#include "smcroute/base/hash.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/os/mroute.hpp"
#include "smcroute/model/config_diagnostics.hpp"
#include "smcroute/model/route_spec.hpp"
#include "smcroute/base/stable_hash_map.hpp"
#include "smcroute/runtime/events.hpp"
#include "smcroute/runtime/vif_table.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace smcroute {

struct SgKey {
    IpAddr source;
    IpAddr group;
    friend bool operator==(const SgKey&, const SgKey&) = default;
};

struct SgKeyHash {
    size_t operator()(const SgKey& k) const noexcept
    {
        return hash_all(std::hash<IpAddr>{}(k.source), std::hash<IpAddr>{}(k.group));
    }
};

// The proxy's say in forwarding (runtime/proxy implements it): the outbound
// interfaces of the (S,G) entries its proxy rules install (Router::set_proxy).
class ProxyForwarding {
public:
    virtual ~ProxyForwarding() = default;
    // Where (S,G) arriving on iif goes: the names of its outbound interfaces
    // (possibly none). Called only for an iif that one of the proxy rules of
    // key's family covers. Names only interfaces those rules cover (the
    // upstream and the downstreams): link events of other interfaces do not
    // re-evaluate proxy entries.
    virtual std::vector<IfName> proxy_oifs(std::string_view iif, const SgKey& key) const = 0;
};

// Upcall counts, all families together.
struct UpcallStats {
    uint64_t received = 0;       // upcalls handled
    uint64_t kernel_dropped = 0; // dropped by the kernel (socket queue full) before they were read
    uint64_t refused = 0;        // NOCACHE not answered: the learned-route limit was reached
    uint64_t installed = 0;      // entries installed in the kernel from (*,G) rules
};

// The sizes of the table now, for show status and show metrics.
struct RouterCounts {
    size_t static_routes = 0; // (S,G) routes (client or config; also those without OIFs)
    size_t rules = 0;         // (*,G) and prefix rules
    size_t learned = 0;       // entries learned from rules
    size_t stop_filters = 0;  // installed for sources no rule forwards
    size_t proxy = 0;         // entries installed by the proxy rules
    size_t pending = 0;       // static routes and rules not in the kernel (or not listening)
    size_t vifs_inet = 0;     // VIFs in use (of max_vifs)
    size_t mifs_inet6 = 0;    // MIFs in use (of max_vifs)
};

// Default limit on learned entries plus stop filters (daemon --max-learned).
inline constexpr size_t default_max_learned = 65536;

// One line of `show routes`.
struct RouteView {
    enum class Kind { rule, route, learned, stop, proxy };
    Kind kind = Kind::route;
    const RouteSpec* spec = nullptr; // rule or static route; for learned: its rule; proxy: its proxy rule
    SgKey key;                       // route, learned, stop, proxy
    std::string iif;                 // learned/stop/proxy: the interface it arrived on
    std::vector<std::string> oifs;   // learned/proxy: the expanded OIFs
    bool active = false;             // in the kernel (route/learned/stop) or listening (rule)
    std::string pending_reason;      // why not active; when active, the named OIFs left out
    size_t learned = 0;              // rule: entries learned from it
    Origin origin = Origin::config;
    // Config routes and rules: the file and line that configured them (the
    // first line of a merged key); empty and 0 otherwise.
    std::string_view file;
    unsigned line = 0;
    Clock::time_point since{}; // when it was added, learned or installed
    // A static route's spec is built for its view (the table stores it
    // compactly) and lives here; copies of the view point at their own.
    std::optional<RouteSpec> owned_spec;

    RouteView() = default;
    RouteView(const RouteView& o) { *this = o; }
    RouteView& operator=(const RouteView& o)
    {
        if (this == &o)
            return *this;
        kind = o.kind;
        key = o.key;
        iif = o.iif;
        oifs = o.oifs;
        active = o.active;
        pending_reason = o.pending_reason;
        learned = o.learned;
        origin = o.origin;
        file = o.file;
        line = o.line;
        since = o.since;
        owned_spec = o.owned_spec;
        spec = o.owned_spec && o.spec == &*o.owned_spec ? &*owned_spec : o.spec;
        return *this;
    }
};

// A view's kind as show -j and metrics name it: rule, route, learned, stop, proxy.
std::string_view route_kind_name(RouteView::Kind k);

class Router {
public:
    // Either kernel may be null when the family is unavailable. Rate limits
    // read clock (the event loop's), or the steady clock when none is given.
    Router(Logger& log, MrouteSocket* v4, MrouteSocket* v6, const Clock* clock = nullptr);
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    bool has_family(Family f) const { return family_state(f) != nullptr; }
    // The one check that this router routes family f: an Error (EAFNOSUPPORT,
    // "IPv6 multicast routing is not available") when it does not. add() and
    // remove() make it first; a caller that must answer it before its own
    // checks (control, for a client's request) asks here.
    Status family_status(Family f) const;
    // Called after a rule installs an (S,G) (for the -e script).
    void on_learned(std::function<void(const SgKey&, std::string_view iif)> fn) { on_learned_ = std::move(fn); }
    // Where to publish events (learned, stop_filter, expired,
    // interface_added/removed, pending_activated, wrongvif_move,
    // upcall_losses); null: nowhere. Must outlive the Router.
    void set_events(EventBus* bus) { events_ = bus; }

    // Interfaces ------------------------------------------------------------
    void set_interfaces(const std::vector<Interface>& ifaces); // full resync
    void link_event(const LinkEvent& ev);
    const Interface* find_interface(std::string_view name) const;
    const std::map<unsigned, Interface>& interfaces() const { return ifaces_; }
    // VIF/MIF of an interface, when it has one.
    std::optional<unsigned> vif_of(Family f, unsigned ifindex) const;

    // phyint settings; applies to VIFs created from now on and re-evaluates.
    void set_phyints(const std::vector<PhyintSpec>& phyints);
    // -N (as in SMCRoute 2.5): only interfaces a phyint enables are used;
    // every other one gets no VIF and is neither an inbound nor an outbound
    // interface. Re-evaluates.
    void set_only_enabled(bool on);
    const std::vector<PhyintSpec>& phyints() const { return phyints_; }

    // Routes -----------------------------------------------------------------
    // Room for this many static routes (avoids rehashing while loading).
    void reserve(size_t static_routes) { static_.reserve(static_routes); }
    // Add a route or rule. An existing one with the same key gains the new
    // OIFs. An (S,G) already routed from another IIF is refused.
    // Unknown interfaces make it pending (caller decides whether to allow that).
    // A family this router does not route is refused (family_status()).
    // where: the config line it comes from (kept for show -d and show
    // config; a key already present keeps its own).
    Status add(const RouteSpec& spec, Origin origin, const SourceLoc* where = nullptr);
    // Remove by key (IIF, SOURCE, GROUP). With oifs: drop only those OIFs (a
    // route left with none still blocks, as a stop filter). A family this
    // router does not route is refused (family_status()).
    Status remove(const RouteSpec& spec, bool only_oifs);
    // Remove every route and rule of this origin.
    void remove_origin(Origin origin);
    // The route or rule with spec's key (IIF, SOURCE, GROUP; OIFs ignored):
    // its OIFs and origin. For diffing a reloaded config against the table.
    struct Found {
        std::vector<IfName> oifs;
        Origin origin = Origin::config;
    };
    std::optional<Found> find(const RouteSpec& key) const;
    // The keys (OIFs left empty) of every route and rule of an origin.
    std::vector<RouteSpec> keys_of(Origin origin) const;
    // Record that the route or rule with spec's key now comes from this
    // config line (a reload moved it); no kernel change. False: no such key.
    bool relocate(const RouteSpec& key, const SourceLoc& where);

    // The proxy (RFC 4605) ----------------------------------------------------
    // Replace family f's proxy rules: (upstream, *, 224.0.0.0/4 or ff00::/8)
    // and one per downstream name or wildcard pattern; none/empty: no proxy
    // for f. fwd must outlive the rules (null with no rules; null drops
    // them). Proxy rules hold the VIFs of their inbound interfaces like rules
    // and follow link events, but are consulted only when no rule matches a
    // NOCACHE upcall (static routes > rules > proxy); the entries they learn
    // take their OIFs from fwd->proxy_oifs(iif, key) (the iif left out, and
    // missing or disabled ones as for rules; none is a valid entry). Entries
    // learned from the previous proxy rules that still match a new one are
    // re-evaluated in place, others dropped.
    void set_proxy(Family f, const std::optional<IfName>& upstream, const std::vector<IfName>& downstreams,
                   ProxyForwarding* fwd);
    // The proxy's wanted set for this group changed: re-evaluate the OIFs of
    // every proxy entry of this group (any source) and re-program only those
    // whose VIF set changed, in place (the flow never stops). Costs the
    // entries of that group, not of the table.
    void proxy_changed(Family f, const IpAddr& group);

    // Kernel upcalls -----------------------------------------------------------
    // NOCACHE: answer from the rules, then the proxy rules (or a stop filter). WRONGVIF: a source
    // now arriving on another interface moves its learned entry there when a
    // rule matches it (at most once a second per entry); static routes never move.
    // With max_learned entries (learned plus stop filters) a NOCACHE upcall
    // is refused: not answered (the kernel drops its unresolved entry after
    // about 10 s), counted and logged (rate-limited).
    void handle_upcall(Family family, const Upcall& up);
    // 0: no limit (the default here; the daemon sets --max-learned).
    void set_max_learned(size_t n) { max_learned_ = n; }
    size_t max_learned() const { return max_learned_; }
    UpcallStats upcall_stats() const;
    // Log refusals and kernel drops since the last such line, at most one
    // line every 10 s. Called on refusals, after reading upcalls and on a timer.
    void report_upcall_losses();
    // Remove every learned entry and stop filter now; returns how many.
    size_t flush_dynamic();
    // Remove learned entries and stop filters that forwarded no packet since
    // the previous call (kernel counters); the first call only records.
    // Static routes never expire. Returns how many were removed.
    size_t expire_idle();
    // The interval at which expire_idle() is called (0: never), counted from
    // now: with it, views of learned entries and stop filters tell when they
    // expire if no packet arrives.
    void set_expiry_interval(std::chrono::seconds interval);
    // When the learned entry or stop filter key is removed if it forwards no
    // further packet, given its kernel packet count now; none without expiry
    // or for another key.
    std::optional<Clock::time_point> expires_at(const SgKey& key, uint64_t packets_now) const;
    // The clock that dates routes (RouteView::since).
    Clock::time_point now() const { return clock_.now(); }
    // Give an existing route or rule (same IIF, source and group) the OIFs of
    // spec, re-programming only what changed: its traffic never stops.
    Status replace_oifs(const RouteSpec& spec);

    // Everything out of the kernel: entries, then VIFs. For exit.
    void clear();

    // Views --------------------------------------------------------------------
    // Every route: rules by (IIF, source, group), then static routes, then
    // learned entries, stop filters and proxy entries, together by (group,
    // source). Proxy rules are not listed, only their entries.
    void for_each_route(const std::function<void(const RouteView&)>& fn) const;
    // The same routes in the same order, a few at a time from the live
    // table, for a listing that is sent as a slow client reads it.
    class Listing;
    Listing list() const;
    // Changes whenever anything a listing shows may have changed (every
    // change of the table or the interfaces; not the kernel's counters).
    uint64_t version() const { return version_; }
    Result<MfcCounters> counters(const SgKey& key) const;
    size_t static_count() const { return static_.size(); }
    size_t rule_count() const { return rules_.size(); }
    size_t dynamic_count() const { return dynamic_.size(); }
    // Every count walks the static routes once (no allocation).
    RouterCounts counts() const;
    // The kernel counters of the entries learned from the rule with the
    // key of rule_key (IIF, SOURCE, GROUP), summed: one kernel query per
    // entry (at most --max-learned in all); entries without counters are
    // left out. Zero when there is no such rule.
    MfcCounters learned_totals(const RouteSpec& rule_key) const;

private:
    // What one kernel entry holds: VIF references on its IIF and every OIF.
    struct Hold {
        bool in_kernel = false;
        unsigned iif_vif = 0;
        uint32_t oif_mask = 0;
        friend bool operator==(const Hold&, const Hold&) = default;
    };
    // Why a static route is not in the kernel; rendered into text on show.
    // Missing or disabled OIFs never keep a route out: it forwards to the
    // others (oif_gaps() says which are left out).
    enum class Pending : uint8_t { none, iif_missing, iif_disabled, kernel };
    struct Why {
        Pending code = Pending::none;
        friend bool operator==(const Why&, const Why&) = default;
    };
    // A config line, its file interned in files_ (index + 1; 0: none).
    struct Where {
        uint32_t file = 0;
        uint32_t line = 0;
    };
    Where where_of(const SourceLoc* loc);
    std::string_view file_of(const Where& w) const;
    struct StaticRoute;
    using StaticEntry = std::pair<const SgKey, StaticRoute>;
    // The interfaces of static routes, interned: one per distinct (IIF,
    // OIFs), shared by its routes, which hang off it in a list so a link
    // event reaches exactly the routes naming the interface.
    struct IfacesKey {
        IfName iif;
        std::vector<IfName> oifs;
        friend auto operator<=>(const IfacesKey&, const IfacesKey&) = default;
        friend bool operator==(const IfacesKey&, const IfacesKey&) = default;
    };
    struct IfaceSet {
        const IfacesKey* key = nullptr; // its key in iface_sets_
        size_t refs = 0;
        StaticEntry* members = nullptr;
        bool wildcard_oif = false;
    };
    struct StaticRoute {
        IfaceSet* ifs = nullptr;
        StaticEntry* prev = nullptr; // in ifs->members
        StaticEntry* next = nullptr;
        Hold hold;
        Origin origin = Origin::config;
        Why why;
        Where where;
        Clock::time_point since{};
    };
    struct RuleKey {
        IfName iif;
        Prefix source;
        Prefix group;
        friend auto operator<=>(const RuleKey&, const RuleKey&) = default;
        friend bool operator==(const RuleKey&, const RuleKey&) = default;
    };
    struct Rule {
        RouteSpec spec;
        Origin origin;
        Where where;
        Clock::time_point since{};
        uint64_t seq = 0;
        std::vector<unsigned> iif_vifs; // held, so upcalls arrive from them
        std::unordered_set<SgKey, SgKeyHash> learned;
        std::string pending_reason;
        ProxyForwarding* proxy = nullptr; // set: a proxy rule, its entries' OIFs from here
    };
    struct Dynamic;
    using DynamicEntry = std::pair<const SgKey, Dynamic>;
    struct Dynamic {
        Rule* rule = nullptr; // null: stop filter
        Hold hold;
        uint64_t last_packets = 0; // kernel count at the last expiry check
        bool checked = false;      // seen by at least one expiry check
        Clock::time_point last_move{}; // WRONGVIF rate limit
        Clock::time_point since{};     // learned or installed
        DynamicEntry* prev = nullptr; // in the list of its IIF's VIF
        DynamicEntry* next = nullptr;
    };
    struct FamilyState {
        MrouteSocket* kernel;
        VifTable vifs;
        // Rules by group prefix length, then masked group address.
        std::map<uint8_t, std::unordered_map<IpAddr, std::vector<Rule*>>, std::greater<>> rule_index;
        // Learned entries and stop filters by the VIF they arrive on.
        std::array<DynamicEntry*, max_vifs> dynamic_on_vif{};
        // The proxy rules of this family (in proxy_rules_), oldest first.
        std::vector<Rule*> proxy_rules{};
    };

    FamilyState* family_state(Family f);
    const FamilyState* family_state(Family f) const;
    uint8_t ttl_threshold(std::string_view ifname) const;
    // Disabled by a phyint, or (with -N) not enabled by one.
    bool disabled(std::string_view ifname) const;
    // The named OIFs left out because they are missing or disabled, as text
    // ("outbound interface c does not exist; ..."); empty when none is.
    std::string oif_gaps(const std::vector<IfName>& oifs) const;

    // Acquire VIFs for an (S,G) entry: iif, and those of oifs that exist and
    // are enabled (wildcards expanded, the iif itself excluded). On failure
    // nothing stays acquired.
    Result<Hold> acquire(FamilyState& fs, const Interface& iif, const std::vector<IfName>& oifs);
    void release(FamilyState& fs, const Hold& h);
    Status program(FamilyState& fs, const SgKey& key, const Hold& h);
    void unprogram(FamilyState& fs, const SgKey& key);

    // Static routes and their interned interfaces.
    IfaceSet* intern(const IfName& iif, const std::vector<IfName>& oifs);
    void attach(StaticEntry& e, IfaceSet* set);
    void detach(StaticEntry& e); // frees the set with its last route
    void set_oifs(StaticEntry& e, const std::vector<IfName>& oifs);
    RouteSpec spec_of(const StaticEntry& e) const;
    // Why it is not in the kernel; when it is, which named OIFs it leaves out.
    std::string reason_of(const StaticEntry& e) const;
    using StaticTable = StableHashMap<SgKey, StaticRoute, SgKeyHash>;
    // Returns the entry after it.
    StaticTable::iterator erase_static(StaticTable::iterator it);
    // Bring one static route's kernel entry in line. Errors only for a kernel
    // refusal; a missing interface just leaves the route pending.
    Status reconcile_static(StaticEntry& e);
    void reconcile_rule(Rule& rule);
    void drop_learned(Rule& rule);
    // Acquire VIFs for an entry of rule arriving on iif: the rule's OIFs, or
    // for a proxy rule those its ProxyForwarding names.
    Result<Hold> acquire_for(FamilyState& fs, const Rule& rule, const Interface& iif, const SgKey& key);
    // Re-derive one learned entry of rule (see reconcile_learned).
    void reconcile_entry(FamilyState& fs, Rule& rule, const SgKey& key);
    // Re-derive each learned entry of a rule from the current interfaces:
    // unchanged entries are not touched, changed ones re-programmed, entries
    // whose inbound interface no longer matches removed.
    void reconcile_learned(Rule& rule);
    void drop_dynamic(const SgKey& key, bool delete_from_kernel);
    Rule* match_rule(FamilyState& fs, const Interface& iif, const SgKey& key);
    // The proxy rule for an upcall no rule matches: an exact IIF over a
    // wildcard, then the oldest.
    Rule* match_proxy(FamilyState& fs, const Interface& iif, const SgKey& key);
    // A rule, else a proxy rule (null: neither: a stop filter).
    Rule* match_any(FamilyState& fs, const Interface& iif, const SgKey& key);
    bool rule_matches(const Rule& rule, const Interface& iif, const SgKey& key) const;
    void learn(FamilyState& fs, Rule* rule, const Interface& iif, unsigned vif, const SgKey& key);
    void reevaluate_stop_filters(Rule& rule);
    void handle_wrongvif(FamilyState& fs, const Upcall& up);
    // Everything (interfaces or phyints resynchronised).
    void reconcile_all();
    // Only what names or matches this interface; removed_ifindex != 0 when
    // it vanished (entries arriving on it go).
    void reconcile_interface(const IfName& name, unsigned removed_ifindex);
    void index_rule(Rule& rule);
    void unindex_rule(Rule& rule);
    void index_rule_names(Rule& rule);
    void unindex_rule_names(Rule& rule);
    void erase_rule(std::map<RuleKey, Rule>::iterator it);
    // What erase_rule and set_proxy share: its entries dropped, its VIFs
    // released, out of every index (the caller erases it from its map).
    void retire_rule(Rule& rule);
    std::vector<std::string> mask_names(const FamilyState& fs, uint32_t mask) const;
    // Events (router_events.cpp), each built only when the bus wants it.
    bool publishing() const { return events_ && events_->wanted(); }
    // The entry learned or stop filter just installed for key.
    void publish_installed(const FamilyState& fs, const SgKey& key, std::string_view iif);
    void publish_expired(const FamilyState& fs, const SgKey& key, const Dynamic& d);
    void publish_moved(const SgKey& key, std::string_view from, std::string_view to);
    void publish_link(bool added, std::string_view name, unsigned ifindex);
    void publish_activated(std::string_view ifname, size_t before);
    void publish_losses(uint64_t dropped, uint64_t refused, const UpcallStats& totals);
    RouteView view_of(const Rule& rule) const;
    RouteView view_of(const StaticEntry& e) const;
    RouteView view_of(const DynamicEntry& e) const;

    // An SgKey as words that compare as listings order keys (by group, then
    // source; IpAddr orders by family, then bytes), and back.
    struct ListKey {
        std::array<uint64_t, 6> words;
        friend bool operator<(const ListKey& a, const ListKey& b) { return a.words < b.words; }
    };
    static ListKey list_key(const SgKey& k);
    static SgKey sg_key(const ListKey& k);
    template <class Map>
    static void sorted_keys(const Map& map, std::vector<ListKey>& out);
    // The keys of the static routes and of the learned entries and stop
    // filters in listing order, for Listings: built when one needs it after
    // a Listing started with keys added since the last build (only new keys
    // make it stale: a key no longer in the table is skipped), shared by
    // every open Listing and freed with the last. Listings keep keys, not
    // positions, so a rebuild never moves them.
    struct ListIndex {
        std::vector<ListKey> statics;
        std::vector<ListKey> dynamics;
        uint64_t statics_added = 0; // static_added_ when statics was built
        uint64_t dynamics_added = 0;
        bool statics_built = false;
        bool dynamics_built = false;
    };
    const std::vector<ListKey>& listed_statics() const;
    const std::vector<ListKey>& listed_dynamics() const;

    Logger& log_;
    SteadyClock steady_;
    const Clock& clock_;
    std::unique_ptr<FamilyState> v4_, v6_;
    std::map<unsigned, Interface> ifaces_; // by ifindex
    std::unordered_map<IfName, unsigned> index_by_name_;
    std::vector<PhyintSpec> phyints_;
    bool only_enabled_ = false; // -N
    StaticTable static_;
    std::map<IfacesKey, IfaceSet> iface_sets_;
    IfaceSet* last_interned_ = nullptr; // the set intern() returned last, while it lives
    std::unordered_map<IfName, std::unordered_set<IfaceSet*>> sets_by_name_; // IIF and named OIFs
    std::unordered_set<IfaceSet*> wildcard_sets_;                            // with a wildcard OIF
    std::unordered_map<SgKey, std::string, SgKeyHash> kernel_errors_;        // Pending::kernel texts
    std::map<RuleKey, Rule> rules_;
    std::unordered_map<IfName, std::unordered_set<Rule*>> rules_by_name_; // exact IIF and named OIFs
    std::unordered_set<Rule*> wildcard_rules_;                            // wildcard IIF or OIF
    std::unordered_map<SgKey, Dynamic, SgKeyHash> dynamic_;
    // Proxy rules (set_proxy), both families; indexed by name with the rules
    // (rules_by_name_, wildcard_rules_) so link events reach them.
    std::map<RuleKey, Rule> proxy_rules_;
    // Proxy entries as (group, source), so proxy_changed() finds a group's
    // in order; one small node each (a map of sets costs ~300 bytes an entry).
    std::set<std::pair<IpAddr, IpAddr>> proxy_by_group_;
    uint64_t version_ = 0;       // see version()
    uint64_t static_added_ = 0;  // keys ever inserted into static_
    uint64_t dynamic_added_ = 0; // and into dynamic_
    mutable std::unique_ptr<ListIndex> list_index_;
    mutable size_t listings_ = 0; // open Listings
    uint64_t next_seq_ = 1;
    std::function<void(const SgKey&, std::string_view)> on_learned_;
    EventBus* events_ = nullptr;
    size_t activations_ = 0; // pending routes and rules that became active, ever
    size_t max_learned_ = 0;
    std::vector<std::string> files_;                      // config files named by Where
    std::unordered_map<std::string, uint32_t> file_ids_; // and back
    std::chrono::seconds expiry_interval_{0};
    Clock::time_point last_expiry_{};
    uint64_t upcalls_received_ = 0;
    uint64_t upcalls_refused_ = 0;
    uint64_t installed_from_rules_ = 0;
    UpcallStats reported_;
    Clock::time_point last_report_{};
};

// A listing of the routes (Router::list()) taken a few at a time from the
// live table, in for_each_route's order, with nothing but the last key it
// passed remembered between steps (never a pointer into the table): adding,
// removing or reloading routes between two steps is always safe, and the
// listing always ends. Like a /proc seq file, it lists each route present
// for the whole listing exactly once; a route removed before the listing
// reaches it is left out; a route added meanwhile may or may not be listed
// (once at most); each route is shown as it is when listed. Costs its key
// and a share of one sorted index of keys, whatever the table's size.
// Move-only; must not outlive its Router.
class Router::Listing {
public:
    Listing(Listing&& o) noexcept;
    Listing& operator=(Listing&&) = delete;
    Listing(const Listing&) = delete;
    Listing& operator=(const Listing&) = delete;
    ~Listing();

    // Passes up to max more routes to fn; false once the listing is
    // complete (fn may have been called for the last few).
    bool next(size_t max, const std::function<void(const RouteView&)>& fn);
    // Back to the start: the next step lists from the first route again.
    void rewind();

private:
    friend class Router;
    enum class Part : uint8_t { rules, statics, dynamics, done };
    explicit Listing(const Router& router);
    const Router* router_;
    Part part_ = Part::rules;
    bool started_ = false; // last_rule_ or last_ holds the key last passed in part_
    RuleKey last_rule_;
    ListKey last_{};
};

} // namespace smcroute

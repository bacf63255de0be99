// model/route_spec: what an operator asks for — a route/rule, a join, a
// phyint setting — as validated values, and the one validator shared by the
// config parser and the IPC server (DESIGN §8). No syscalls, no kernel state.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/model/proxy_spec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smcroute {

inline constexpr size_t max_oifs = 32;           // kernel MAXVIFS / MAXMIFS
inline constexpr size_t default_max_join_expansion = 1024;

// Who asked for a route or a join: the config file or a client (a reload
// drops the client's and brings the config's in line with the file).
enum class Origin : uint8_t { config, client };

// A route. Exact (S,G) with a concrete IIF goes straight to the kernel; any
// other (no source, a source or group prefix, a wildcard IIF) is a template
// answered on kernel upcalls.
struct RouteSpec {
    IfName iif;
    Prefix source; // len 0 with an unspecified address means "any source"
    Prefix group;
    std::vector<IfName> oifs; // in the order given, duplicates removed

    Family family() const { return group.family(); }
    bool any_source() const { return source.len == 0; }
    bool is_template() const { return !source.is_host() || !group.is_host() || iif.is_wildcard(); }
    // "(10.0.0.1, 225.1.2.3)", "(*, 225.1.2.0/24)"
    std::string key_str() const;
    friend bool operator==(const RouteSpec&, const RouteSpec&) = default;
};

struct JoinSpec {
    IfName iif;
    std::optional<Prefix> source; // SSM when set
    Prefix group;

    Family family() const { return group.family(); }
    uint64_t expansion() const; // number of (source, group) joins it expands to (saturating)
    std::string key_str() const;
    friend bool operator==(const JoinSpec&, const JoinSpec&) = default;
};

struct PhyintSpec {
    IfName name;
    bool enable = true;
    bool mrdisc = false;
    uint8_t ttl_threshold = 1;
    ProxySpec proxy; // role none: the line says nothing of the proxy
    friend bool operator==(const PhyintSpec&, const PhyintSpec&) = default;
};

// The phyint line that gives interface ifname its proxy role for family f,
// or nullptr. Of the lines whose role covers f and whose name matches
// ifname: the one naming it exactly, else the longest wildcard. A wildcard
// downstream never covers the family's upstream (a line naming it exactly
// as upstream). The config judge (model/config_judge) refuses two lines of
// one name whose roles share a family, so the answer is never ambiguous.
const PhyintSpec* proxy_phyint(const std::vector<PhyintSpec>& phyints, std::string_view ifname, Family f);

enum class Severity { warning, error };

// One finding about one argument. arg numbers the textual fields:
// 0 = IIF, 1 = SOURCE, 2 = GROUP, 3 + i = OIF i.
struct ArgIssue {
    size_t arg = 0;
    Severity severity = Severity::error;
    std::string message;
};

template <class T>
struct Checked {
    std::optional<T> value; // set when there is no error (warnings allowed)
    std::vector<ArgIssue> issues;
};

// Textual form, as typed. An empty source means none was given; "*",
// "0.0.0.0" and "::" also mean any source.
struct RouteText {
    std::string_view iif;
    std::string_view source;
    std::string_view group;
    std::vector<std::string_view> oifs;
};

struct JoinText {
    std::string_view iif;
    std::string_view source;
    std::string_view group;
};

namespace arg {
inline constexpr size_t iif = 0, source = 1, group = 2, first_oif = 3;
}

// Split the words after add/remove/join/leave: IIF [SOURCE[/LEN]] GROUP[/LEN]
// [OIF ...]. SOURCE is present when the third word is an address (or "*").
RouteText split_route_words(const std::vector<std::string>& words);

// Rules (DESIGN §8): same family; group multicast; source unicast; /LEN in
// range; at most 32 OIFs; names at most 15 bytes. Warnings: link-local
// group, IIF == OIF. No OIF is no error: such a route is a stop filter (the
// kernel drops what it matches), as in SMCRoute 2.x.
Checked<RouteSpec> check_route(const RouteText& text);
// As above, plus: a range may expand to at most max_expansion joins.
Checked<JoinSpec> check_join(const JoinText& text, size_t max_expansion = default_max_join_expansion);

} // namespace smcroute

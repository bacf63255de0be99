// model/proxy_spec: what the config says about the IGMP/MLD proxy (RFC 4605)
// on one phyint: its role, the families it covers, the querier's settings
// with the RFCs' defaults, and the downstream's allow/deny limits. Plain
// values and the few rules derived from them; no parsing, no state.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/model/group_message.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

namespace smcroute {

enum class ProxyRole : uint8_t { none, upstream, downstream };

// Querier variables: RFC 3376 section 8 (IGMPv3), RFC 2236 section 8
// (IGMPv2), RFC 3810 section 9 (MLDv2), RFC 2710 section 7 (MLDv1).
// Counts and intervals left 0 take their RFC defaults (derived from the
// robustness variable and the query interval); the accessors resolve them.
struct QuerierSettings {
    // Highest version the querier speaks: v3 (IGMPv3/MLDv2) or v2
    // (IGMPv2/MLDv1). The same value stands for both families.
    GroupVersion igmp_version = GroupVersion::v3;
    GroupVersion mld_version = GroupVersion::v3;
    unsigned robustness = 2;                                      // [Robustness Variable]
    std::chrono::milliseconds query_interval{125000};             // [Query Interval]
    std::chrono::milliseconds query_response_interval{10000};     // [Query Response Interval]
    std::chrono::milliseconds last_member_query_interval{1000};   // [Last Member Query Interval]
    unsigned last_member_query_count = 0;                         // 0: robustness
    std::chrono::milliseconds startup_query_interval{0};          // 0: query_interval / 4
    unsigned startup_query_count = 0;                             // 0: robustness
    // Leaves (and blocks) stop forwarding at once, without the last-member
    // queries: for links with a single host per port.
    bool fast_leave = false;

    GroupVersion version(Family f) const { return f == Family::inet ? igmp_version : mld_version; }
    unsigned lmq_count() const { return last_member_query_count ? last_member_query_count : robustness; }
    unsigned sq_count() const { return startup_query_count ? startup_query_count : robustness; }
    std::chrono::milliseconds sq_interval() const
    {
        return startup_query_interval.count() ? startup_query_interval : query_interval / 4;
    }
    // [Group Membership Interval] = RV * QI + QRI (also the Multicast
    // Address Listening Interval of MLD).
    std::chrono::milliseconds group_membership_interval() const
    {
        return query_interval * robustness + query_response_interval;
    }
    // [Other Querier Present Interval] = RV * QI + QRI / 2.
    std::chrono::milliseconds other_querier_present_interval() const
    {
        return query_interval * robustness + query_response_interval / 2;
    }
    // [Last Member Query Time] = LMQI * LMQC.
    std::chrono::milliseconds last_member_query_time() const { return last_member_query_interval * lmq_count(); }
    // [Older Host Present Interval] = RV * QI + QRI.
    std::chrono::milliseconds older_host_present_interval() const { return group_membership_interval(); }

    friend bool operator==(const QuerierSettings&, const QuerierSettings&) = default;
};

// A downstream's limits on what its listeners may ask for. Groups and
// sources are judged separately, each by the most specific prefix of its
// family that contains it (the order written does not matter; the same
// prefix twice is a config error); nothing matching: allowed when no
// `allow` of that kind and family is given, refused otherwise.
struct ProxyFilterRule {
    bool allow = true;
    bool source = false; // allow-source / deny-source
    Prefix prefix;
    friend bool operator==(const ProxyFilterRule&, const ProxyFilterRule&) = default;
};

struct GroupFilter {
    std::vector<ProxyFilterRule> rules;
    bool allows_group(const IpAddr& group) const;
    bool allows_source(const IpAddr& source) const;
    bool empty() const { return rules.empty(); }
    friend bool operator==(const GroupFilter&, const GroupFilter&) = default;
};

struct ProxySpec {
    ProxyRole role = ProxyRole::none;
    bool igmp = true; // covers IPv4
    bool mld = true;  // covers IPv6
    QuerierSettings querier; // downstream only
    GroupFilter filter;      // downstream only

    bool covers(Family f) const { return role != ProxyRole::none && (f == Family::inet ? igmp : mld); }
    friend bool operator==(const ProxySpec&, const ProxySpec&) = default;
};

} // namespace smcroute

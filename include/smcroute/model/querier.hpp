// model/querier: the router side of IGMP (RFC 2236, RFC 3376) and MLD
// (RFC 2710, RFC 3810) on one link for one family: querier election, the
// general and group(-and-source)-specific queries, and the table of what the
// listeners want (per group a filter mode, source records with timers, and
// the older-version host present timers). Pure: time is passed in, queries
// to send are handed out, no sockets, no logging.
//
// Choices where the RFCs leave room (each with its reference):
// * A configured v2 querier (igmp-version 2 / mld-version 1) sends v2-format
//   queries (no S flag, QRV or QQIC: those fields are 0 in the messages) and
//   keeps no source state. It reads a v3 report the way the v3 host itself
//   would have spoken to an IGMPv2/MLDv1 router (RFC 3376 7.2.1, RFC 3810
//   8.2.1: source lists ignored): TO_IN({}) is a Leave, BLOCK and an empty
//   IS_IN/ALLOW are nothing, every other record is a v2 Report (IS_EX({})).
//   Should a reload leave source state behind, a Q(G,A) it would send goes
//   out as the v2 group-specific query Q(G). A configured version v1 is
//   treated as v2 (IGMPv1 routers are not offered).
// * A v3 querier follows the per-group compatibility rules of RFC 3376 7.3.2
//   / RFC 3810 8.3.2: v1/v2 reports act as IS_EX({}) and start the group's
//   older host present timer; in v2 (MLDv1) mode BLOCK is ignored and TO_EX(x)
//   is TO_EX({}); in IGMPv1 mode Leaves are ignored too (a v3 TO_IN({}) is
//   not: 7.3.2 lists only Leave, BLOCK and TO_EX for that mode).
// * Non-queriers keep the table (they do not send, so they do not carry out
//   "Send Q(...)" actions), lower timers on group(-and-source)-specific
//   queries without the S flag to [LMQC] * the query's Max Resp (RFC 2236 3
//   non-querier rule; equal to the querier's LMQT, RFC 3376 8.8/6.6.1), and
//   adopt the elected querier's QRV/QQIC (RFC 3376 4.1.6/4.1.7); becoming
//   querier again or a reload returns to the configured values.
// * Queries from the unspecified address (snooping switches) never win the
//   election. When our address changes to one below the elected querier's,
//   we take over at once (general query now) instead of waiting for its
//   Other Querier Present timer.
// * A "Send Q(G,X)" sends a query at once only when it gave retransmission
//   state to some source of X (RFC 3376 6.6.3.2: sources whose timer is above
//   LMQT); sources already being queried keep their own schedule.
// * fast_leave: every "Send Q(G,X)" instead expires the sources of X at once
//   (INCLUDE: deleted, EXCLUDE: moved to the excluded set) and every "Send
//   Q(G)" expires the group timer at once (RFC 3376 6.5 switch); no queries.
//   So a Leave, TO_IN({}) or BLOCK of the last wanted source ends forwarding
//   now. Applied by queriers and non-queriers alike (it is a local policy).
// * Bounded memory: at most `max_groups` groups and `max_sources` sources per
//   group; a report that would exceed them is refused beyond the cap and
//   counted in Stats::ignored.
#pragma once

#include "smcroute/base/addr.hpp"
#include "smcroute/base/clock.hpp"
#include "smcroute/model/group_message.hpp"
#include "smcroute/model/proxy_spec.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace smcroute {

struct QuerierLimits {
    size_t max_groups = 1024;
    size_t max_sources = 1024; // per group
};

class Querier {
public:
    using time_point = Clock::time_point;

    // One link, one family. Starts as querier; [Startup Query Count] general
    // queries every [Startup Query Interval] (the first one due at `now`),
    // then one every [Query Interval].
    Querier(Family f, const QuerierSettings& s, const IpAddr& own_address, time_point now,
            QuerierLimits limits = {});

    // New settings (reload): the group table is kept; running timers keep
    // their deadlines; new values apply from the next time a timer is set; a
    // version change applies to the next query sent.
    void set_settings(const QuerierSettings& s, time_point now);
    // The interface's address changed (IPv4: primary, IPv6: link-local).
    void set_address(const IpAddr& a, time_point now);
    // A message decoded from the link (`from`: its IP source). Runs the
    // timers due at `now` first.
    void receive(const GroupMessage& m, const IpAddr& from, time_point now);
    // Run every timer due at or before now. A general query overdue by more
    // than its period is sent once (not a burst); the next is a period later.
    void advance(time_point now);
    // The earliest deadline advance() has work for (time_point::max() when none).
    time_point next_deadline() const;
    // Queries to send now, in order. Cleared by the call.
    std::vector<GroupMessage> take_queries();
    // Groups whose wants() may have changed since the last call; each once,
    // sorted by group, with whether it had state before (so has_group() now
    // tells whether its listeners came or went).
    struct Change {
        IpAddr group;
        bool had_state = false;
    };
    std::vector<Change> take_changes();

    bool is_querier() const { return querier_; }
    const IpAddr& querier_address() const { return querier_address_; } // ours when querier
    std::optional<time_point> other_querier_expires() const { return other_querier_; }
    time_point next_general_query() const { return next_general_; } // when we are querier
    // The version this querier speaks (configured, v1 read as v2).
    GroupVersion version() const;

    // A listener wants traffic from source to group now: INCLUDE with the
    // source's timer running, or EXCLUDE with the source not excluded.
    bool wants(const IpAddr& source, const IpAddr& group) const;
    bool has_group(const IpAddr& group) const { return groups_.contains(group); }
    // The groups with state, sorted.
    std::vector<IpAddr> group_addresses() const;

    struct SourceView {
        IpAddr source;
        time_point expires; // time_point{}: excluded (timer 0)
        bool forwarding;
        friend bool operator==(const SourceView&, const SourceView&) = default;
    };
    struct GroupView {
        IpAddr group;
        bool exclude;
        GroupVersion compat;                // compatibility mode now
        time_point expires;                 // group timer (EXCLUDE); time_point{} in INCLUDE
        std::vector<SourceView> sources;    // sorted
        friend bool operator==(const GroupView&, const GroupView&) = default;
    };
    std::vector<GroupView> groups() const; // sorted by group
    std::optional<GroupView> group(const IpAddr& g) const;

    struct Stats {
        uint64_t queries_sent = 0, queries_received = 0, reports = 0, leaves = 0;
        uint64_t ignored = 0; // records or messages not acted on: caps, compatibility rules, wrong family
    };
    Stats stats() const { return stats_; }

private:
    struct Source {
        time_point timer{};   // time_point{}: not running (EXCLUDE: in the excluded set Y)
        unsigned retransmit = 0; // RFC 3376 6.6.3.2 retransmission state
    };
    struct Group { // the small members last: no padding between
        time_point timer{};               // group timer, EXCLUDE only
        time_point v1_host{}, v2_host{};  // older host present timers ({}: not running)
        time_point group_query_at{};      // next Q(G) when group_retransmit > 0
        time_point source_query_at{};     // next Q(G,A) when a source has retransmit > 0
        std::map<IpAddr, Source> sources;
        unsigned group_retransmit = 0;    // Q(G) still to send
        bool exclude = false;
    };
    using Groups = std::map<IpAddr, Group>;
    // What wants() says for a group: absent, or its mode and (source, forwarding) pairs.
    using Fingerprint = std::optional<std::pair<bool, std::vector<std::pair<IpAddr, bool>>>>;

    // querier.cpp: election, timers, queries.
    void become_querier(time_point now);
    void lose_election(const IpAddr& winner, time_point now);
    void receive_query(const GroupMessage& m, const IpAddr& from, time_point now);
    void advance_group(const IpAddr& ga, Group& g, time_point now);
    // The earliest time one of g's timers makes advance_group() act
    // (time_point::max() when none runs): advance() skips the groups whose
    // time has not come, so a message costs no walk of every group's state.
    static time_point group_deadline(const Group& g);
    void send_general_query(time_point now);
    void send_group_query(const IpAddr& ga, Group& g, time_point now);
    void send_source_queries(const IpAddr& ga, Group& g, time_point now);
    GroupMessage make_query(const IpAddr& group, std::chrono::milliseconds max_response) const;
    void reset_adopted();
    std::chrono::milliseconds lmqt() const { return eff_.last_member_query_time(); }
    GroupVersion compat(const Group& g) const;
    static void expire_group_timer(Group& g);

    // querier_records.cpp: the group table actions of RFC 3376 6.4.
    void receive_report(const GroupMessage& m, time_point now);
    void receive_leave(const IpAddr& group, time_point now);
    void apply(const IpAddr& ga, RecordType t, const std::vector<IpAddr>& sources, GroupVersion older,
               time_point now);
    void run_row(const IpAddr& ga, Group& g, RecordType t, std::vector<IpAddr> b, time_point now);
    void query_group(const IpAddr& ga, Group& g, time_point now);
    void query_sources(const IpAddr& ga, Group& g, const std::vector<IpAddr>& x, time_point now);
    void lower_timers(const GroupMessage& q, time_point now);
    Source* insert_source(Group& g, const IpAddr& s, time_point timer);
    Fingerprint fingerprint(const IpAddr& ga) const;
    void note_change(const IpAddr& ga, const Fingerprint& before);

    Family family_;
    QuerierSettings settings_; // as configured
    QuerierSettings eff_;      // with the elected querier's QRV/QQIC adopted
    QuerierLimits limits_;
    IpAddr own_;
    bool querier_ = true;
    IpAddr querier_address_;
    std::optional<time_point> other_querier_;
    time_point next_general_{};
    unsigned startup_left_ = 0;
    Groups groups_;
    std::vector<GroupMessage> queries_;
    std::map<IpAddr, bool> changes_; // group -> had state before its first change
    Stats stats_;
};

} // namespace smcroute

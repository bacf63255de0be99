// model/querier: the group table. Reports and leaves are translated by the
// compatibility rules (RFC 3376 7.3.2, RFC 3810 8.3.2; the header says what
// a configured v2 querier does) into one record type with a source list B,
// then the row of RFC 3376 6.4.1 / 6.4.2 (RFC 3810 7.4.1 / 7.4.2) for the
// group's filter mode and that type runs, step by step, as written there.
#include "smcroute/model/querier.hpp"

#include <algorithm>
#include <array>

namespace smcroute {

namespace {

bool running(Clock::time_point t) { return t != Clock::time_point{}; }

// The state before the record: A (INCLUDE) or X (EXCLUDE, running timers), Y
// (EXCLUDE, timer 0); B the record's sources.
enum class Set : uint8_t {
    b,         // B
    new_b,     // B-A (INCLUDE), A-X-Y (EXCLUDE): sources of B not in the table
    x_and_b,   // A*B
    x_minus_b, // A-B (INCLUDE), X-A (EXCLUDE)
    b_minus_y, // A-Y (EXCLUDE)
};

enum class Op : uint8_t {
    none,
    set_gmi,         // (set)=GMI
    set_zero,        // (set)=0
    set_group_timer, // (set)=Group Timer
    delete_not_b,    // Delete (A-B), or Delete (X-A) and Delete (Y-A)
    exclude_gmi,     // filter mode EXCLUDE, Group Timer=GMI
    query_sources,   // Send Q(G,set)
    query_group,     // Send Q(G)
};

struct Step {
    Op op = Op::none;
    Set set = Set::b;
};
using Row = std::array<Step, 4>;

// [mode][record type - 1]; mode 0 INCLUDE, 1 EXCLUDE. Columns in RFC order:
// IS_IN, IS_EX, TO_IN, TO_EX, ALLOW, BLOCK.
constexpr std::array<std::array<Row, 6>, 2> table{{
    {{
        // INCLUDE (A)
        Row{{{Op::set_gmi, Set::b}}},                                       // IS_IN(B): INCLUDE(A+B)
        Row{{{Op::set_zero, Set::new_b}, {Op::delete_not_b}, {Op::exclude_gmi}}}, // IS_EX(B): EXCLUDE(A*B,B-A)
        Row{{{Op::set_gmi, Set::b}, {Op::query_sources, Set::x_minus_b}}},  // TO_IN(B): INCLUDE(A+B)
        Row{{{Op::set_zero, Set::new_b},
             {Op::delete_not_b},
             {Op::query_sources, Set::x_and_b},
             {Op::exclude_gmi}}},                                           // TO_EX(B): EXCLUDE(A*B,B-A)
        Row{{{Op::set_gmi, Set::b}}},                                       // ALLOW(B): INCLUDE(A+B)
        Row{{{Op::query_sources, Set::x_and_b}}},                           // BLOCK(B): INCLUDE(A)
    }},
    {{
        // EXCLUDE (X,Y)
        Row{{{Op::set_gmi, Set::b}}},                                       // IS_IN(A): EXCLUDE(X+A,Y-A)
        Row{{{Op::set_gmi, Set::new_b}, {Op::delete_not_b}, {Op::exclude_gmi}}}, // IS_EX(A): EXCLUDE(A-Y,Y*A)
        Row{{{Op::set_gmi, Set::b},
             {Op::query_sources, Set::x_minus_b},
             {Op::query_group}}},                                           // TO_IN(A): EXCLUDE(X+A,Y-A)
        Row{{{Op::set_group_timer, Set::new_b},
             {Op::delete_not_b},
             {Op::query_sources, Set::b_minus_y},
             {Op::exclude_gmi}}},                                           // TO_EX(A): EXCLUDE(A-Y,Y*A)
        Row{{{Op::set_gmi, Set::b}}},                                       // ALLOW(A): EXCLUDE(X+A,Y-A)
        Row{{{Op::set_group_timer, Set::new_b}, {Op::query_sources, Set::b_minus_y}}}, // BLOCK(A): EXCLUDE(X+(A-Y),Y)
    }},
}};

// A v3 record as a configured v2 querier reads it (RFC 3376 7.2.1: what the
// host would have sent an IGMPv2 router).
enum class V2Reading : uint8_t { nothing, report, leave };

V2Reading v2_reading(RecordType t, bool empty)
{
    switch (t) {
    case RecordType::is_exclude:
    case RecordType::to_exclude:
        return V2Reading::report;
    case RecordType::to_include:
        return empty ? V2Reading::leave : V2Reading::report;
    case RecordType::is_include:
    case RecordType::allow:
        return empty ? V2Reading::nothing : V2Reading::report;
    case RecordType::block:
        return V2Reading::nothing;
    }
    return V2Reading::nothing;
}

bool contains(const std::vector<IpAddr>& sorted, const IpAddr& a)
{
    return std::binary_search(sorted.begin(), sorted.end(), a);
}

} // namespace

void Querier::receive_report(const GroupMessage& m, time_point now)
{
    if (m.version != GroupVersion::v3) {
        // RFC 3376 7.3.2: v1/v2 reports start the older host present timer and act as IS_EX({}).
        apply(m.group, RecordType::is_exclude, {}, m.version, now);
        return;
    }
    for (const GroupRecord& r : m.records) {
        if (version() == GroupVersion::v3) {
            apply(r.group, r.type, r.sources, GroupVersion::v3, now);
            continue;
        }
        switch (v2_reading(r.type, r.sources.empty())) {
        case V2Reading::report:
            apply(r.group, RecordType::is_exclude, {}, GroupVersion::v3, now);
            break;
        case V2Reading::leave:
            receive_leave(r.group, now);
            break;
        case V2Reading::nothing:
            ++stats_.ignored;
            break;
        }
    }
}

void Querier::receive_leave(const IpAddr& ga, time_point now)
{
    // RFC 3376 7.3.2: a Leave is TO_IN({}); ignored in IGMPv1 compatibility mode.
    const auto it = groups_.find(ga);
    if (it != groups_.end() && compat(it->second) == GroupVersion::v1) {
        ++stats_.ignored;
        return;
    }
    apply(ga, RecordType::to_include, {}, GroupVersion::v3, now);
}

void Querier::apply(const IpAddr& ga, RecordType t, const std::vector<IpAddr>& sources, GroupVersion older,
                    time_point now)
{
    if (ga.family() != family_ || !ga.is_multicast() || static_cast<unsigned>(t) < 1 || static_cast<unsigned>(t) > 6) {
        ++stats_.ignored;
        return;
    }
    std::vector<IpAddr> b;
    for (const IpAddr& s : sources)
        if (s.family() == family_ && !s.is_multicast())
            b.push_back(s);
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());

    const Fingerprint before = fingerprint(ga);
    auto [it, created] = groups_.try_emplace(ga);
    Group& g = it->second;
    if (older != GroupVersion::v3) {
        const time_point until = now + eff_.older_host_present_interval();
        (older == GroupVersion::v1 && family_ == Family::inet ? g.v1_host : g.v2_host) = until;
    }
    // RFC 3376 7.3.2: in IGMPv1/v2 (MLDv1) mode BLOCK is ignored and TO_EX(x) is TO_EX({}).
    if (compat(g) != GroupVersion::v3 && older == GroupVersion::v3) {
        if (t == RecordType::block) {
            ++stats_.ignored;
            b.clear();
            t = RecordType::is_include; // nothing to do
        } else if (t == RecordType::to_exclude) {
            b.clear();
        }
    }
    run_row(ga, g, t, std::move(b), now);
    if (!g.exclude && g.sources.empty()) {
        groups_.erase(it);
    } else if (created && groups_.size() > limits_.max_groups) {
        groups_.erase(it);
        ++stats_.ignored;
    }
    note_change(ga, before);
}

Querier::Source* Querier::insert_source(Group& g, const IpAddr& s, time_point timer)
{
    auto it = g.sources.find(s);
    if (it == g.sources.end()) {
        if (g.sources.size() >= limits_.max_sources)
            return nullptr;
        it = g.sources.emplace(s, Source{}).first;
    }
    it->second.timer = timer;
    return &it->second;
}

void Querier::run_row(const IpAddr& ga, Group& g, RecordType t, std::vector<IpAddr> b, time_point now)
{
    std::array<std::vector<IpAddr>, 5> sets; // indexed by Set, from the state before the row
    sets[static_cast<size_t>(Set::b)] = b;
    for (const IpAddr& s : b) {
        const auto it = g.sources.find(s);
        const bool in_x = it != g.sources.end() && running(it->second.timer);
        const bool in_y = it != g.sources.end() && !in_x;
        if (it == g.sources.end())
            sets[static_cast<size_t>(Set::new_b)].push_back(s);
        if (in_x)
            sets[static_cast<size_t>(Set::x_and_b)].push_back(s);
        if (!in_y)
            sets[static_cast<size_t>(Set::b_minus_y)].push_back(s);
    }
    for (const auto& [sa, s] : g.sources)
        if (running(s.timer) && !contains(b, sa))
            sets[static_cast<size_t>(Set::x_minus_b)].push_back(sa);

    bool refused = false;
    const time_point gmi = now + eff_.group_membership_interval();
    for (const Step& step : table[g.exclude ? 1 : 0][static_cast<size_t>(t) - 1]) {
        const std::vector<IpAddr>& set = sets[static_cast<size_t>(step.set)];
        switch (step.op) {
        case Op::none:
            break;
        case Op::set_gmi:
        case Op::set_zero:
        case Op::set_group_timer: {
            const time_point value = step.op == Op::set_gmi ? gmi : step.op == Op::set_zero ? time_point{} : g.timer;
            for (const IpAddr& s : set)
                refused = insert_source(g, s, value) == nullptr || refused;
            break;
        }
        case Op::delete_not_b:
            std::erase_if(g.sources, [&](const auto& kv) { return !contains(b, kv.first); });
            break;
        case Op::exclude_gmi:
            g.exclude = true;
            g.timer = gmi;
            break;
        case Op::query_sources:
            query_sources(ga, g, set, now);
            break;
        case Op::query_group:
            query_group(ga, g, now);
            break;
        }
    }
    if (refused)
        ++stats_.ignored;
}

void Querier::query_group(const IpAddr& ga, Group& g, time_point now)
{
    if (settings_.fast_leave) {
        expire_group_timer(g);
        return;
    }
    if (!querier_ || !g.exclude)
        return;
    // RFC 3376 6.6.3.1: lower the group timer to LMQT, send now and [LMQC-1] more every LMQI.
    g.timer = std::min(g.timer, now + lmqt());
    g.group_retransmit = eff_.lmq_count();
    send_group_query(ga, g, now);
}

void Querier::query_sources(const IpAddr& ga, Group& g, const std::vector<IpAddr>& x, time_point now)
{
    bool marked = false;
    for (const IpAddr& sa : x) {
        const auto it = g.sources.find(sa);
        if (it == g.sources.end() || !running(it->second.timer))
            continue;
        if (settings_.fast_leave) {
            if (g.exclude)
                it->second = Source{}; // to Y
            else
                g.sources.erase(it);
            continue;
        }
        // RFC 3376 6.6.3.2: sources above LMQT get [LMQC] retransmissions and LMQT.
        if (querier_ && it->second.timer - now > lmqt()) {
            it->second.retransmit = eff_.lmq_count();
            it->second.timer = now + lmqt();
            marked = true;
        }
    }
    if (marked)
        send_source_queries(ga, g, now);
}

void Querier::lower_timers(const GroupMessage& q, time_point now)
{
    // RFC 3376 6.6.1 (S clear only), RFC 2236 3: lower to [LMQC] * Max Resp.
    if (q.version == GroupVersion::v3 && q.suppress)
        return;
    const auto it = groups_.find(q.group);
    if (it == groups_.end())
        return;
    Group& g = it->second;
    const auto interval = q.max_response.count() > 0 ? q.max_response : eff_.last_member_query_interval;
    const time_point low = now + interval * eff_.lmq_count();
    if (q.sources.empty() || q.version != GroupVersion::v3) {
        if (g.exclude && g.timer > low)
            g.timer = low;
        return;
    }
    for (const IpAddr& sa : q.sources) {
        const auto s = g.sources.find(sa);
        if (s != g.sources.end() && running(s->second.timer) && s->second.timer > low)
            s->second.timer = low;
    }
}

} // namespace smcroute

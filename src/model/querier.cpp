// model/querier: election (RFC 3376 6.6.2, RFC 2236 3, RFC 3810 7.6.2), the
// timers (6.2, 6.5, 7.3.2) and the queries sent (6.6.3, 8). The group table
// actions of 6.4 are in querier_records.cpp.
#include "smcroute/model/querier.hpp"

#include <algorithm>
#include <utility>

namespace smcroute {

namespace {

using std::chrono::milliseconds;

bool running(Clock::time_point t) { return t != Clock::time_point{}; }

void take_min(Clock::time_point& m, Clock::time_point t)
{
    if (running(t) && t < m)
        m = t;
}

} // namespace

Querier::Querier(Family f, const QuerierSettings& s, const IpAddr& own_address, time_point now,
                 QuerierLimits limits)
    : family_(f), settings_(s), eff_(s), limits_(limits), own_(own_address), querier_address_(own_address),
      next_general_(now), startup_left_(s.sq_count())
{
}

GroupVersion Querier::version() const
{
    return settings_.version(family_) == GroupVersion::v3 ? GroupVersion::v3 : GroupVersion::v2;
}

void Querier::reset_adopted() { eff_ = settings_; }

void Querier::set_settings(const QuerierSettings& s, time_point)
{
    settings_ = s;
    reset_adopted();
}

void Querier::set_address(const IpAddr& a, time_point now)
{
    own_ = a;
    if (querier_)
        querier_address_ = a;
    else if (a < querier_address_)
        become_querier(now);
    advance(now);
}

void Querier::become_querier(time_point now)
{
    querier_ = true;
    querier_address_ = own_;
    other_querier_.reset();
    reset_adopted();
    startup_left_ = 0;
    next_general_ = now;
}

void Querier::lose_election(const IpAddr& winner, time_point now)
{
    querier_ = false;
    querier_address_ = winner;
    startup_left_ = 0;
    next_general_ = {};
    // Only queriers send: drop the pending retransmissions.
    for (auto& [ga, g] : groups_) {
        g.group_retransmit = 0;
        g.group_query_at = {};
        g.source_query_at = {};
        for (auto& [sa, src] : g.sources)
            src.retransmit = 0;
    }
    other_querier_ = now + eff_.other_querier_present_interval();
}

void Querier::receive(const GroupMessage& m, const IpAddr& from, time_point now)
{
    advance(now);
    switch (m.kind) {
    case GroupMessage::Kind::query:
        if (from == own_)
            return; // our own, looped back
        ++stats_.queries_received;
        receive_query(m, from, now);
        return;
    case GroupMessage::Kind::report:
        ++stats_.reports;
        receive_report(m, now);
        return;
    case GroupMessage::Kind::leave:
        ++stats_.leaves;
        receive_leave(m.group, now);
        return;
    }
}

void Querier::receive_query(const GroupMessage& m, const IpAddr& from, time_point now)
{
    const bool eligible = !from.is_unspecified() && from.family() == family_ && from < own_;
    const bool winner = eligible && (querier_ || from <= querier_address_);
    if (winner) {
        if (m.version == GroupVersion::v3) {
            // RFC 3376 4.1.6 / 4.1.7: adopt the querier's QRV and QQIC (0: none).
            eff_.robustness = m.robustness ? m.robustness : settings_.robustness;
            eff_.query_interval = m.query_interval ? milliseconds(m.query_interval * 1000ull) : settings_.query_interval;
        }
        lose_election(from, now);
    }
    if (!m.group.is_unspecified())
        lower_timers(m, now);
}

GroupVersion Querier::compat(const Group& g) const
{
    GroupVersion v = version();
    if (running(g.v2_host))
        v = std::min(v, GroupVersion::v2);
    if (running(g.v1_host) && family_ == Family::inet)
        v = GroupVersion::v1;
    return v;
}

void Querier::expire_group_timer(Group& g)
{
    // RFC 3376 6.5: EXCLUDE -> INCLUDE with the sources whose timers run.
    g.exclude = false;
    g.timer = {};
    g.group_retransmit = 0;
    g.group_query_at = {};
    std::erase_if(g.sources, [](const auto& kv) { return !running(kv.second.timer); });
}

void Querier::advance_group(const IpAddr& ga, Group& g, time_point now)
{
    if (running(g.v1_host) && g.v1_host <= now)
        g.v1_host = {};
    if (running(g.v2_host) && g.v2_host <= now)
        g.v2_host = {};
    for (auto it = g.sources.begin(); it != g.sources.end();) {
        Source& s = it->second;
        if (!running(s.timer) || s.timer > now) {
            ++it;
        } else if (g.exclude) { // to the excluded set Y
            s.timer = {};
            s.retransmit = 0;
            ++it;
        } else {
            it = g.sources.erase(it);
        }
    }
    if (g.exclude && g.timer <= now)
        expire_group_timer(g);
    if (g.group_retransmit > 0 && g.group_query_at <= now)
        send_group_query(ga, g, now);
    if (running(g.source_query_at) && g.source_query_at <= now)
        send_source_queries(ga, g, now);
}

Querier::time_point Querier::group_deadline(const Group& g)
{
    time_point m = time_point::max();
    // What advance_group() tests, timer by timer. The group timer (EXCLUDE)
    // and a pending Q(G) count even when unset: it acts on them at once.
    if (g.exclude && g.timer < m)
        m = g.timer;
    if (g.group_retransmit > 0 && g.group_query_at < m)
        m = g.group_query_at;
    take_min(m, g.v1_host);
    take_min(m, g.v2_host);
    take_min(m, g.source_query_at);
    for (const auto& [sa, s] : g.sources)
        take_min(m, s.timer);
    return m;
}

void Querier::advance(time_point now)
{
    for (auto it = groups_.begin(); it != groups_.end();) {
        if (group_deadline(it->second) > now && (it->second.exclude || !it->second.sources.empty())) {
            ++it; // nothing due: unchanged
            continue;
        }
        const Fingerprint before = fingerprint(it->first);
        advance_group(it->first, it->second, now);
        const IpAddr ga = it->first;
        if (!it->second.exclude && it->second.sources.empty())
            it = groups_.erase(it);
        else
            ++it;
        note_change(ga, before);
    }
    if (other_querier_ && *other_querier_ <= now)
        become_querier(now);
    if (querier_ && next_general_ <= now) {
        const time_point due = next_general_;
        send_general_query(now);
        if (startup_left_ > 0)
            --startup_left_;
        const milliseconds period = startup_left_ > 0 ? eff_.sq_interval() : eff_.query_interval;
        next_general_ = due + period > now ? due + period : now + period;
    }
}

Querier::time_point Querier::next_deadline() const
{
    time_point m = time_point::max();
    if (querier_)
        take_min(m, next_general_);
    if (other_querier_)
        take_min(m, *other_querier_);
    for (const auto& [ga, g] : groups_)
        m = std::min(m, group_deadline(g));
    return m;
}

GroupMessage Querier::make_query(const IpAddr& group, milliseconds max_response) const
{
    GroupMessage q;
    q.kind = GroupMessage::Kind::query;
    q.version = version();
    q.group = group;
    q.max_response = max_response;
    if (q.version == GroupVersion::v3) {
        // RFC 3376 4.1.6: QRV 0 when the robustness is above 7; 4.1.7: QQIC in seconds.
        q.robustness = eff_.robustness <= 7 ? static_cast<uint8_t>(eff_.robustness) : 0;
        const auto secs = (eff_.query_interval.count() + 500) / 1000;
        q.query_interval = static_cast<uint32_t>(std::max<long long>(1, secs));
    }
    return q;
}

void Querier::send_general_query(time_point)
{
    queries_.push_back(make_query(IpAddr::any(family_), eff_.query_response_interval));
    ++stats_.queries_sent;
}

void Querier::send_group_query(const IpAddr& ga, Group& g, time_point now)
{
    if (g.group_retransmit == 0)
        return;
    GroupMessage q = make_query(ga, eff_.last_member_query_interval);
    // RFC 3376 6.6.3.1: S set while the group timer is above LMQT (a report came in meanwhile).
    q.suppress = q.version == GroupVersion::v3 && g.exclude && g.timer - now > lmqt();
    queries_.push_back(std::move(q));
    ++stats_.queries_sent;
    --g.group_retransmit;
    g.group_query_at = g.group_retransmit > 0 ? now + eff_.last_member_query_interval : time_point{};
}

void Querier::send_source_queries(const IpAddr& ga, Group& g, time_point now)
{
    // RFC 3376 6.6.3.2: one query (S set) with the sources whose timers are
    // above LMQT, one (S clear) with the others; an empty one is not sent.
    GroupMessage above = make_query(ga, eff_.last_member_query_interval);
    above.suppress = true;
    GroupMessage below = make_query(ga, eff_.last_member_query_interval);
    bool more = false;
    for (auto& [sa, s] : g.sources) {
        if (s.retransmit == 0)
            continue;
        (running(s.timer) && s.timer - now > lmqt() ? above : below).sources.push_back(sa);
        more = --s.retransmit > 0 || more;
    }
    g.source_query_at = more ? now + eff_.last_member_query_interval : time_point{};
    if (version() != GroupVersion::v3) {
        // A v2 querier cannot name sources: the group-specific query asks them all.
        if (!above.sources.empty() || !below.sources.empty()) {
            queries_.push_back(make_query(ga, eff_.last_member_query_interval));
            ++stats_.queries_sent;
        }
        return;
    }
    for (GroupMessage* q : {&above, &below}) {
        if (q->sources.empty())
            continue;
        queries_.push_back(std::move(*q));
        ++stats_.queries_sent;
    }
}

std::vector<GroupMessage> Querier::take_queries() { return std::exchange(queries_, {}); }

std::vector<Querier::Change> Querier::take_changes()
{
    std::vector<Change> out;
    out.reserve(changes_.size());
    for (const auto& [ga, had] : changes_)
        out.push_back({ga, had});
    changes_.clear();
    return out;
}

std::vector<IpAddr> Querier::group_addresses() const
{
    std::vector<IpAddr> out;
    out.reserve(groups_.size());
    for (const auto& [ga, g] : groups_)
        out.push_back(ga);
    return out;
}

bool Querier::wants(const IpAddr& source, const IpAddr& group) const
{
    const auto g = groups_.find(group);
    if (g == groups_.end())
        return false;
    const auto s = g->second.sources.find(source);
    if (!g->second.exclude)
        return s != g->second.sources.end();
    return s == g->second.sources.end() || running(s->second.timer);
}

std::optional<Querier::GroupView> Querier::group(const IpAddr& ga) const
{
    const auto it = groups_.find(ga);
    if (it == groups_.end())
        return std::nullopt;
    const Group& g = it->second;
    GroupView v{ga, g.exclude, compat(g), g.exclude ? g.timer : time_point{}, {}};
    for (const auto& [sa, s] : g.sources)
        v.sources.push_back(SourceView{sa, s.timer, running(s.timer)});
    return v;
}

std::vector<Querier::GroupView> Querier::groups() const
{
    std::vector<GroupView> out;
    for (const auto& [ga, g] : groups_)
        out.push_back(*group(ga));
    return out;
}

Querier::Fingerprint Querier::fingerprint(const IpAddr& ga) const
{
    const auto it = groups_.find(ga);
    if (it == groups_.end())
        return std::nullopt;
    std::vector<std::pair<IpAddr, bool>> sources;
    for (const auto& [sa, s] : it->second.sources)
        sources.emplace_back(sa, running(s.timer));
    return std::make_pair(it->second.exclude, std::move(sources));
}

void Querier::note_change(const IpAddr& ga, const Fingerprint& before)
{
    if (fingerprint(ga) != before)
        changes_.try_emplace(ga, before.has_value());
}

} // namespace smcroute

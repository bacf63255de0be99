// Tests for model/querier on a manual time line: the rows of RFC 3376 6.4.1
// and 6.4.2 with the resulting state, timers and queries, the timers of 6.2
// and 6.5, the retransmissions and S flags of 6.6.3, election (6.6.2),
// compatibility modes (7.3.2), a configured v2 querier, fast leave, MLD, the
// caps. Defaults: RV 2, QI 125 s, QRI 10 s, LMQI 1 s, LMQC 2, so GMI 260 s,
// OQPI 255 s, LMQT 2 s, startup 2 queries 31.25 s apart. Times print as
// milliseconds after t0.
#include "smcroute/model/querier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace smcroute;
using namespace std::chrono_literals;

namespace {

using TP = Clock::time_point;
const TP t0 = TP(24h);

TP at(long long ms) { return t0 + std::chrono::milliseconds(ms); }

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

std::string ms(TP t) { return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count()); }

const char* const G = "239.1.1.1";
const char* const host = "10.0.0.100";
const char* const own = "10.0.0.5";

GroupRecord rec(RecordType t, const char* g, std::vector<const char*> sources)
{
    GroupRecord r{t, ip(g), {}};
    for (const char* s : sources)
        r.sources.push_back(ip(s));
    return r;
}

GroupMessage report(std::vector<GroupRecord> records)
{
    GroupMessage m;
    m.kind = GroupMessage::Kind::report;
    m.version = GroupVersion::v3;
    m.records = std::move(records);
    return m;
}

GroupMessage old_report(GroupVersion v, const char* g)
{
    GroupMessage m;
    m.kind = GroupMessage::Kind::report;
    m.version = v;
    m.group = ip(g);
    return m;
}

GroupMessage leave(const char* g)
{
    GroupMessage m;
    m.kind = GroupMessage::Kind::leave;
    m.version = GroupVersion::v2;
    m.group = ip(g);
    return m;
}

GroupMessage query(GroupVersion v, const char* g, std::vector<const char*> sources = {}, bool suppress = false,
                   std::chrono::milliseconds max_response = 1s)
{
    GroupMessage m;
    m.kind = GroupMessage::Kind::query;
    m.version = v;
    m.group = g ? ip(g) : IpAddr::any(ip(host).family());
    for (const char* s : sources)
        m.sources.push_back(ip(s));
    m.suppress = suppress;
    m.max_response = max_response;
    return m;
}

void send(Querier& q, long long when, RecordType t, const char* g, std::vector<const char*> sources)
{
    q.receive(report({rec(t, g, std::move(sources))}), ip(host), at(when));
}

// "IN a@260000 b@270000", "EX 260000 a@12000 c:Y" or "none".
std::string state(const Querier& q, const char* g)
{
    const auto v = q.group(ip(g));
    if (!v)
        return "none";
    std::string out = v->exclude ? "EX " + ms(v->expires) : "IN";
    for (const auto& s : v->sources) {
        out += " " + s.source.str() + (s.expires == TP{} ? std::string(":Y") : "@" + ms(s.expires));
        EXPECT_EQ(s.forwarding, s.expires != TP{});
    }
    return out;
}

// "G mr=10000; 239.1.1.1 [10.1.0.1] S mr=1000": the queries taken, in order.
std::string sent(Querier& q)
{
    std::string out;
    for (const GroupMessage& m : q.take_queries()) {
        EXPECT_EQ(m.kind, GroupMessage::Kind::query);
        if (!out.empty())
            out += "; ";
        if (m.version != GroupVersion::v3)
            out += "v2 ";
        out += m.group.is_unspecified() ? "G" : m.group.str();
        if (!m.sources.empty()) {
            out += " [";
            for (size_t i = 0; i < m.sources.size(); ++i)
                out += (i ? "," : "") + m.sources[i].str();
            out += "]";
        }
        if (m.suppress)
            out += " S";
        out += " mr=" + std::to_string(m.max_response.count());
    }
    return out;
}

std::string changes(Querier& q)
{
    std::string out;
    for (const auto& c : q.take_changes())
        out += (out.empty() ? "" : " ") + c.group.str();
    return out;
}

constexpr auto is_in = RecordType::is_include;
constexpr auto is_ex = RecordType::is_exclude;
constexpr auto to_in = RecordType::to_include;
constexpr auto to_ex = RecordType::to_exclude;
constexpr auto allow = RecordType::allow;
constexpr auto block = RecordType::block;

const char* const a = "10.1.0.1";
const char* const b = "10.1.0.2";
const char* const c = "10.1.0.3";
const char* const d = "10.1.0.4";
const char* const e = "10.1.0.5";

// A querier past its first startup query, nothing else pending.
class QuerierTest : public ::testing::Test {
protected:
    explicit QuerierTest(QuerierSettings s = {}, QuerierLimits l = {}) : q(Family::inet, s, ip(own), t0, l)
    {
        q.advance(t0);
        q.take_queries();
    }
    // INCLUDE(A = {a, b}) at 0, both timers 260000.
    void include_ab() { send(q, 0, is_in, G, {a, b}), changes(q); }
    // EXCLUDE(X = {a, b}, Y = {c, d}) at 0, group timer and X timers 260000.
    void exclude_ab_cd()
    {
        send(q, 0, is_ex, G, {c, d});
        send(q, 0, allow, G, {a, b});
        ASSERT_EQ(state(q, G), "EX 260000 10.1.0.1@260000 10.1.0.2@260000 10.1.0.3:Y 10.1.0.4:Y");
        changes(q);
    }
    Querier q;
};

} // namespace

// --- general queries --------------------------------------------------------

TEST(QuerierStartup, StartupQueriesThenPeriodic)
{
    Querier q(Family::inet, QuerierSettings{}, ip(own), t0);
    EXPECT_TRUE(q.is_querier());
    EXPECT_EQ(q.querier_address(), ip(own));
    EXPECT_EQ(q.next_deadline(), t0);
    q.advance(t0);
    const auto first = q.take_queries();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].version, GroupVersion::v3);
    EXPECT_EQ(first[0].group, IpAddr::any(Family::inet));
    EXPECT_EQ(first[0].max_response, 10s);
    EXPECT_EQ(first[0].robustness, 2);
    EXPECT_EQ(first[0].query_interval, 125u);
    EXPECT_FALSE(first[0].suppress);
    EXPECT_EQ(q.next_general_query(), at(31250));
    q.advance(at(31249));
    EXPECT_EQ(sent(q), "");
    q.advance(at(31250));
    EXPECT_EQ(sent(q), "G mr=10000");
    EXPECT_EQ(q.next_deadline(), at(156250)); // startup count 2 done: every 125 s
    q.advance(at(156250));
    EXPECT_EQ(sent(q), "G mr=10000");
    EXPECT_EQ(q.next_deadline(), at(281250));
    EXPECT_EQ(q.stats().queries_sent, 3u);
}

TEST(QuerierStartup, ConfiguredStartupCountAndInterval)
{
    QuerierSettings s;
    s.startup_query_count = 3;
    s.startup_query_interval = 5s;
    Querier q(Family::inet, s, ip(own), t0);
    std::vector<std::string> times;
    for (int i = 0; i < 5; ++i) {
        const TP when = q.next_deadline();
        q.advance(when);
        EXPECT_EQ(sent(q), "G mr=10000");
        times.push_back(ms(when));
    }
    EXPECT_EQ(times, (std::vector<std::string>{"0", "5000", "10000", "135000", "260000"}));
}

// --- RFC 3376 6.4.1 / 6.4.2, router in INCLUDE (A = {a, b}), record at 10 s --

TEST_F(QuerierTest, IncludeIsIn)
{
    include_ab();
    send(q, 10000, is_in, G, {b, c});
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000 10.1.0.2@270000 10.1.0.3@270000"); // INCLUDE(A+B), (B)=GMI
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(changes(q), G);
}

TEST_F(QuerierTest, IncludeAllow)
{
    include_ab();
    send(q, 10000, allow, G, {b, c});
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000 10.1.0.2@270000 10.1.0.3@270000");
    EXPECT_EQ(sent(q), "");
}

TEST_F(QuerierTest, IncludeIsEx)
{
    include_ab();
    send(q, 10000, is_ex, G, {b, c});
    // EXCLUDE(A*B, B-A): (B-A)=0, Delete (A-B), Group Timer=GMI.
    EXPECT_EQ(state(q, G), "EX 270000 10.1.0.2@260000 10.1.0.3:Y");
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(changes(q), G);
}

TEST_F(QuerierTest, IncludeToIn)
{
    include_ab();
    send(q, 10000, to_in, G, {b, c});
    // INCLUDE(A+B): (B)=GMI, Send Q(G,A-B): a lowered to LMQT.
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@12000 10.1.0.2@270000 10.1.0.3@270000");
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.1] mr=1000");
    EXPECT_EQ(q.next_deadline(), at(11000));
    q.advance(at(11000));
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.1] mr=1000"); // LMQC-1 = 1 retransmission
    EXPECT_EQ(changes(q), G);
    q.advance(at(11999));
    EXPECT_EQ(changes(q), "");
    q.advance(at(12000)); // a's timer expires: deleted
    EXPECT_EQ(state(q, G), "IN 10.1.0.2@270000 10.1.0.3@270000");
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(changes(q), G);
}

TEST_F(QuerierTest, IncludeToEx)
{
    include_ab();
    send(q, 10000, to_ex, G, {b, c});
    // EXCLUDE(A*B, B-A): (B-A)=0, Delete (A-B), Send Q(G,A*B), Group Timer=GMI.
    EXPECT_EQ(state(q, G), "EX 270000 10.1.0.2@12000 10.1.0.3:Y");
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2] mr=1000");
    q.advance(at(11000));
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2] mr=1000");
    changes(q);
    q.advance(at(12000)); // b's timer expires in EXCLUDE: b moves to Y
    EXPECT_EQ(state(q, G), "EX 270000 10.1.0.2:Y 10.1.0.3:Y");
    EXPECT_EQ(changes(q), G);
    EXPECT_FALSE(q.wants(ip(b), ip(G)));
    EXPECT_TRUE(q.wants(ip(a), ip(G)));
}

TEST_F(QuerierTest, IncludeBlock)
{
    include_ab();
    send(q, 10000, block, G, {b, c});
    // INCLUDE(A): Send Q(G,A*B).
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000 10.1.0.2@12000");
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2] mr=1000");
    EXPECT_EQ(changes(q), "");
    q.advance(at(11000));
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2] mr=1000");
    q.advance(at(12000));
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000");
    EXPECT_EQ(changes(q), G);
}

// --- the same, router in EXCLUDE (X = {a, b}, Y = {c, d}), record A = {b, c, e}

TEST_F(QuerierTest, ExcludeIsIn)
{
    exclude_ab_cd();
    send(q, 10000, is_in, G, {b, c, e});
    // EXCLUDE(X+A, Y-A): (A)=GMI.
    EXPECT_EQ(state(q, G), "EX 260000 10.1.0.1@260000 10.1.0.2@270000 10.1.0.3@270000 10.1.0.4:Y 10.1.0.5@270000");
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(changes(q), G);
}

TEST_F(QuerierTest, ExcludeAllow)
{
    exclude_ab_cd();
    send(q, 10000, allow, G, {b, c, e});
    EXPECT_EQ(state(q, G), "EX 260000 10.1.0.1@260000 10.1.0.2@270000 10.1.0.3@270000 10.1.0.4:Y 10.1.0.5@270000");
    EXPECT_EQ(sent(q), "");
}

TEST_F(QuerierTest, ExcludeIsEx)
{
    exclude_ab_cd();
    send(q, 10000, is_ex, G, {b, c, e});
    // EXCLUDE(A-Y, Y*A): (A-X-Y)=GMI, Delete (X-A), Delete (Y-A), Group Timer=GMI.
    EXPECT_EQ(state(q, G), "EX 270000 10.1.0.2@260000 10.1.0.3:Y 10.1.0.5@270000");
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(changes(q), G);
}

TEST_F(QuerierTest, ExcludeToIn)
{
    exclude_ab_cd();
    send(q, 10000, to_in, G, {b, c, e});
    // EXCLUDE(X+A, Y-A): (A)=GMI, Send Q(G,X-A), Send Q(G): group timer to LMQT.
    EXPECT_EQ(state(q, G), "EX 12000 10.1.0.1@12000 10.1.0.2@270000 10.1.0.3@270000 10.1.0.4:Y 10.1.0.5@270000");
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.1] mr=1000; 239.1.1.1 mr=1000");
    q.advance(at(11000));
    EXPECT_EQ(sent(q), "239.1.1.1 mr=1000; 239.1.1.1 [10.1.0.1] mr=1000");
    changes(q);
    q.advance(at(12000)); // group timer: EXCLUDE -> INCLUDE with the running sources
    EXPECT_EQ(state(q, G), "IN 10.1.0.2@270000 10.1.0.3@270000 10.1.0.5@270000");
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(changes(q), G);
    EXPECT_TRUE(q.wants(ip(b), ip(G)));
    EXPECT_FALSE(q.wants(ip(a), ip(G)));
}

TEST_F(QuerierTest, ExcludeToEx)
{
    exclude_ab_cd();
    send(q, 10000, to_ex, G, {b, c, e});
    // EXCLUDE(A-Y, Y*A): (A-X-Y)=Group Timer, Delete (X-A), Delete (Y-A),
    // Send Q(G,A-Y), Group Timer=GMI.
    EXPECT_EQ(state(q, G), "EX 270000 10.1.0.2@12000 10.1.0.3:Y 10.1.0.5@12000");
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2,10.1.0.5] mr=1000");
    q.advance(at(11000));
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2,10.1.0.5] mr=1000");
    q.advance(at(12000));
    EXPECT_EQ(state(q, G), "EX 270000 10.1.0.2:Y 10.1.0.3:Y 10.1.0.5:Y");
}

TEST_F(QuerierTest, ExcludeToExNewSourceTakesGroupTimer)
{
    // (A-X-Y)=Group Timer: with the group timer at LMQT or below, the new
    // source is not queried (6.6.3.2 queries only sources above LMQT).
    exclude_ab_cd();
    q.advance(at(259000));
    sent(q);
    send(q, 259000, to_ex, G, {e});
    EXPECT_EQ(state(q, G), "EX 519000 10.1.0.5@260000");
    EXPECT_EQ(sent(q), "");
}

TEST_F(QuerierTest, ExcludeBlock)
{
    exclude_ab_cd();
    send(q, 10000, block, G, {b, c, e});
    // EXCLUDE(X+(A-Y), Y): (A-X-Y)=Group Timer, Send Q(G,A-Y).
    EXPECT_EQ(state(q, G), "EX 260000 10.1.0.1@260000 10.1.0.2@12000 10.1.0.3:Y 10.1.0.4:Y 10.1.0.5@12000");
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2,10.1.0.5] mr=1000");
    EXPECT_EQ(changes(q), G); // e added to X
    q.advance(at(11000));
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2,10.1.0.5] mr=1000");
    q.advance(at(12000));
    EXPECT_EQ(state(q, G), "EX 260000 10.1.0.1@260000 10.1.0.2:Y 10.1.0.3:Y 10.1.0.4:Y 10.1.0.5:Y");
    EXPECT_EQ(changes(q), G);
}

// --- timers ------------------------------------------------------------------

TEST_F(QuerierTest, GroupTimerSwitchesToIncludeOrDeletes)
{
    send(q, 0, is_ex, G, {c});
    send(q, 10000, allow, G, {a});
    EXPECT_EQ(state(q, G), "EX 260000 10.1.0.1@270000 10.1.0.3:Y");
    EXPECT_TRUE(q.wants(ip(d), ip(G)));
    EXPECT_FALSE(q.wants(ip(c), ip(G)));
    changes(q);
    EXPECT_EQ(q.next_deadline(), at(31250)); // the second startup query comes first
    q.advance(at(259999));
    EXPECT_EQ(state(q, G), "EX 260000 10.1.0.1@270000 10.1.0.3:Y");
    q.advance(at(260000));
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@270000");
    EXPECT_FALSE(q.wants(ip(d), ip(G)));
    EXPECT_TRUE(q.wants(ip(a), ip(G)));
    EXPECT_EQ(changes(q), G);
    q.advance(at(270000));
    EXPECT_EQ(state(q, G), "none");
    EXPECT_FALSE(q.has_group(ip(G)));
    EXPECT_EQ(changes(q), G);

    send(q, 300000, is_ex, G, {});
    EXPECT_EQ(state(q, G), "EX 560000");
    q.advance(at(560000)); // no running source: the group goes
    EXPECT_EQ(state(q, G), "none");
}

TEST_F(QuerierTest, RetransmissionsAndSuppressFlag)
{
    QuerierSettings s;
    s.last_member_query_count = 3;
    q.set_settings(s, at(0));
    include_ab();
    send(q, 10000, block, G, {a});
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@13000 10.1.0.2@260000"); // LMQT = 3 * 1 s
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.1] mr=1000");
    q.advance(at(11000));
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.1] mr=1000");
    send(q, 11500, allow, G, {a}); // a report meanwhile: a above LMQT again
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@271500 10.1.0.2@260000");
    q.advance(at(12000));
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.1] S mr=1000"); // S set: timer above LMQT
    q.advance(at(13000));
    EXPECT_EQ(sent(q), ""); // LMQC = 3 sent
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@271500 10.1.0.2@260000");
}

TEST_F(QuerierTest, SourceQueryIsSplitByTimer)
{
    include_ab();
    send(q, 10000, block, G, {a});
    sent(q);
    send(q, 10500, allow, G, {a}); // a back above LMQT, retransmission pending
    send(q, 10500, block, G, {b}); // b now below: one query S set [a], one S clear [b]
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.1] S mr=1000; 239.1.1.1 [10.1.0.2] mr=1000");
    q.advance(at(11500));
    EXPECT_EQ(sent(q), "239.1.1.1 [10.1.0.2] mr=1000");
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@270500 10.1.0.2@12500");
}

TEST_F(QuerierTest, GroupQuerySuppressFlag)
{
    send(q, 0, is_ex, G, {});
    send(q, 10000, to_in, G, {});
    EXPECT_EQ(state(q, G), "EX 12000");
    EXPECT_EQ(sent(q), "239.1.1.1 mr=1000");
    send(q, 10500, is_ex, G, {}); // a listener answered
    EXPECT_EQ(state(q, G), "EX 270500");
    q.advance(at(11000));
    EXPECT_EQ(sent(q), "239.1.1.1 S mr=1000");
    q.advance(at(12000));
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(state(q, G), "EX 270500");
}

// --- election ----------------------------------------------------------------

TEST_F(QuerierTest, LowerAddressWinsAndTakeoverAfterOqpi)
{
    q.receive(query(GroupVersion::v3, nullptr, {}, false, 10s), ip("10.0.0.9"), at(1000)); // higher: ignored
    EXPECT_TRUE(q.is_querier());
    q.receive(query(GroupVersion::v3, nullptr, {}, false, 10s), ip(own), at(1000)); // our own, looped back
    EXPECT_TRUE(q.is_querier());
    EXPECT_EQ(q.stats().queries_received, 1u);

    q.receive(query(GroupVersion::v3, nullptr, {}, false, 10s), ip("10.0.0.2"), at(2000));
    EXPECT_FALSE(q.is_querier());
    EXPECT_EQ(q.querier_address(), ip("10.0.0.2"));
    EXPECT_EQ(q.other_querier_expires(), at(257000)); // OQPI 255 s
    EXPECT_EQ(q.next_deadline(), at(257000));
    q.receive(query(GroupVersion::v3, nullptr, {}, false, 10s), ip("10.0.0.3"), at(3000)); // not the lowest
    EXPECT_EQ(q.querier_address(), ip("10.0.0.2"));
    EXPECT_EQ(q.other_querier_expires(), at(257000));
    q.advance(at(31250)); // our startup query is not sent
    EXPECT_EQ(sent(q), "");
    q.receive(query(GroupVersion::v2, nullptr, {}, false, 10s), ip("10.0.0.2"), at(100000)); // restarts
    EXPECT_EQ(q.other_querier_expires(), at(355000));
    q.advance(at(354999));
    EXPECT_FALSE(q.is_querier());
    q.advance(at(355000));
    EXPECT_TRUE(q.is_querier());
    EXPECT_EQ(q.querier_address(), ip(own));
    EXPECT_EQ(q.other_querier_expires(), std::nullopt);
    EXPECT_EQ(sent(q), "G mr=10000"); // at once
    EXPECT_EQ(q.next_general_query(), at(480000));
}

TEST(QuerierElection, AddressesCompareAsNumbers)
{
    Querier q(Family::inet, QuerierSettings{}, ip("10.0.0.10"), t0);
    q.receive(query(GroupVersion::v3, nullptr), ip("10.0.0.9"), t0); // "10.0.0.9" > "10.0.0.10" as text
    EXPECT_FALSE(q.is_querier());
    Querier q6(Family::inet6, QuerierSettings{}, ip("fe80::2"), t0);
    q6.receive(query(GroupVersion::v3, nullptr), ip("fe80::1:0"), t0);
    EXPECT_TRUE(q6.is_querier());
    q6.receive(query(GroupVersion::v3, nullptr), ip("fe80::1"), t0);
    EXPECT_FALSE(q6.is_querier());
    EXPECT_EQ(q6.querier_address(), ip("fe80::1"));
}

TEST_F(QuerierTest, NonQuerierProcessesButDoesNotSend)
{
    q.receive(query(GroupVersion::v3, nullptr, {}, false, 10s), ip("10.0.0.2"), at(0));
    include_ab();
    send(q, 10000, block, G, {a});
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000 10.1.0.2@260000"); // no Send Q(G,A): no lowering
    // The querier's Q(G,A) with S set does not lower; without S it does, to LMQC * Max Resp.
    q.receive(query(GroupVersion::v3, G, {a}, true, 1s), ip("10.0.0.2"), at(10100));
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000 10.1.0.2@260000");
    q.receive(query(GroupVersion::v3, G, {a}, false, 1s), ip("10.0.0.2"), at(10100));
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@12100 10.1.0.2@260000");
    q.advance(at(12100));
    EXPECT_EQ(state(q, G), "IN 10.1.0.2@260000");
    // Q(G) lowers the group timer (v2 queries too: RFC 2236 3).
    send(q, 20000, to_ex, G, {}); // EXCLUDE(A*B, B-A): b deleted
    EXPECT_EQ(state(q, G), "EX 280000");
    q.receive(query(GroupVersion::v2, G, {}, false, 3s), ip("10.0.0.2"), at(21000));
    EXPECT_EQ(state(q, G), "EX 27000");
    EXPECT_EQ(sent(q), "");
}

TEST_F(QuerierTest, NonQuerierAdoptsQrvAndQqic)
{
    GroupMessage m = query(GroupVersion::v3, nullptr, {}, false, 10s);
    m.robustness = 3;
    m.query_interval = 60;
    q.receive(m, ip("10.0.0.2"), at(0));
    EXPECT_EQ(q.other_querier_expires(), at(185000)); // 3 * 60 + 10 / 2
    send(q, 1000, is_ex, G, {});
    EXPECT_EQ(state(q, G), "EX 191000"); // GMI 3 * 60 + 10
    q.advance(at(185000));
    EXPECT_TRUE(q.is_querier());
    const auto qs = q.take_queries();
    ASSERT_EQ(qs.size(), 1u);
    EXPECT_EQ(qs[0].robustness, 2); // own values again
    EXPECT_EQ(qs[0].query_interval, 125u);
}

TEST_F(QuerierTest, AddressChangeBelowTheQuerierTakesOver)
{
    q.receive(query(GroupVersion::v3, nullptr), ip("10.0.0.2"), at(0));
    q.set_address(ip("10.0.0.3"), at(1000));
    EXPECT_FALSE(q.is_querier());
    q.set_address(ip("10.0.0.1"), at(2000));
    EXPECT_TRUE(q.is_querier());
    EXPECT_EQ(q.querier_address(), ip("10.0.0.1"));
    EXPECT_EQ(sent(q), "G mr=10000");
    EXPECT_EQ(q.next_general_query(), at(127000));
}

// --- compatibility (RFC 3376 7.3.2) -------------------------------------------

TEST_F(QuerierTest, IgmpV1HostsPresent)
{
    q.receive(old_report(GroupVersion::v1, G), ip(host), at(0));
    EXPECT_EQ(state(q, G), "EX 260000");
    EXPECT_EQ(q.group(ip(G))->compat, GroupVersion::v1);
    q.receive(leave(G), ip(host), at(1000)); // ignored in v1 mode
    send(q, 1000, block, G, {a});             // ignored
    EXPECT_EQ(state(q, G), "EX 260000");
    EXPECT_EQ(sent(q), "");
    EXPECT_EQ(q.stats().ignored, 2u);
    send(q, 2000, to_ex, G, {a}); // TO_EX(x) is TO_EX({})
    EXPECT_EQ(state(q, G), "EX 262000");
    q.advance(at(260000)); // the v1 host present timer ends: v3 again
    EXPECT_EQ(q.group(ip(G))->compat, GroupVersion::v3);
    EXPECT_EQ(sent(q), "G mr=10000"); // one general query for a late advance, not a burst
    EXPECT_EQ(q.next_general_query(), at(385000));
    send(q, 261000, block, G, {a}); // (A-X-Y)=Group Timer, not above LMQT: no query
    EXPECT_EQ(state(q, G), "EX 262000 10.1.0.1@262000");
    EXPECT_EQ(sent(q), "");
}

TEST_F(QuerierTest, IgmpV2HostsPresent)
{
    send(q, 0, is_ex, G, {a});
    q.receive(old_report(GroupVersion::v2, G), ip(host), at(1000)); // IS_EX({})
    EXPECT_EQ(state(q, G), "EX 261000");
    EXPECT_EQ(q.group(ip(G))->compat, GroupVersion::v2);
    send(q, 2000, to_ex, G, {b}); // TO_EX({})
    EXPECT_EQ(state(q, G), "EX 262000");
    send(q, 2000, block, G, {b}); // ignored
    EXPECT_EQ(state(q, G), "EX 262000");
    q.receive(leave(G), ip(host), at(3000)); // TO_IN({}): Send Q(G)
    EXPECT_EQ(state(q, G), "EX 5000");
    EXPECT_EQ(sent(q), "239.1.1.1 mr=1000");
    EXPECT_EQ(q.stats().leaves, 1u);
    q.receive(old_report(GroupVersion::v2, G), ip(host), at(3500));
    q.advance(at(4000));
    EXPECT_EQ(sent(q), "239.1.1.1 S mr=1000");
    EXPECT_EQ(state(q, G), "EX 263500");
    q.advance(at(263500));
    EXPECT_EQ(state(q, G), "none");
}

TEST_F(QuerierTest, CompatTimerIsTheOlderHostPresentInterval)
{
    q.receive(old_report(GroupVersion::v2, G), ip(host), at(0));
    send(q, 200000, is_ex, G, {}); // keeps the group beyond the v2 host timer
    q.advance(at(259999));
    EXPECT_EQ(q.group(ip(G))->compat, GroupVersion::v2);
    q.advance(at(260000));
    EXPECT_EQ(q.group(ip(G))->compat, GroupVersion::v3);
    send(q, 261000, block, G, {a}); // no longer ignored
    EXPECT_EQ(state(q, G), "EX 460000 10.1.0.1@263000");
}

// --- configured v2 querier ----------------------------------------------------

TEST(QuerierV2, SendsV2QueriesAndReadsV3ReportsAsV2)
{
    QuerierSettings s;
    s.igmp_version = GroupVersion::v2;
    Querier q(Family::inet, s, ip(own), t0);
    q.advance(t0);
    const auto general = q.take_queries();
    ASSERT_EQ(general.size(), 1u);
    EXPECT_EQ(general[0].version, GroupVersion::v2);
    EXPECT_EQ(general[0].max_response, 10s);
    EXPECT_EQ(general[0].robustness, 0);
    EXPECT_EQ(general[0].query_interval, 0u);
    EXPECT_EQ(q.version(), GroupVersion::v2);

    send(q, 1000, is_in, G, {a}); // a v2 Report: no source state
    EXPECT_EQ(state(q, G), "EX 261000");
    EXPECT_EQ(q.group(ip(G))->compat, GroupVersion::v2);
    send(q, 2000, block, G, {a}); // nothing
    send(q, 2000, allow, G, {});  // nothing
    EXPECT_EQ(state(q, G), "EX 261000");
    EXPECT_EQ(q.stats().ignored, 2u);
    send(q, 3000, to_in, G, {}); // a Leave: v2 group-specific queries
    EXPECT_EQ(state(q, G), "EX 5000");
    EXPECT_EQ(sent(q), "v2 239.1.1.1 mr=1000");
    q.advance(at(4000));
    EXPECT_EQ(sent(q), "v2 239.1.1.1 mr=1000");
    q.advance(at(5000));
    EXPECT_EQ(state(q, G), "none");

    send(q, 6000, to_ex, G, {a});
    EXPECT_EQ(state(q, G), "EX 266000");
    q.receive(leave(G), ip(host), at(7000));
    EXPECT_EQ(sent(q), "v2 239.1.1.1 mr=1000");
}

TEST(QuerierV2, ReloadToV2SendsGroupQueriesForSources)
{
    Querier q(Family::inet, QuerierSettings{}, ip(own), t0);
    q.advance(t0);
    q.take_queries();
    send(q, 0, is_in, G, {a, b});
    QuerierSettings s;
    s.igmp_version = GroupVersion::v2;
    q.set_settings(s, at(500));
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000 10.1.0.2@260000"); // table kept
    send(q, 1000, to_in, G, {}); // a Leave: Q(G,A) goes out as Q(G)
    EXPECT_EQ(sent(q), "v2 239.1.1.1 mr=1000");
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@3000 10.1.0.2@3000");
    q.advance(at(2000));
    EXPECT_EQ(sent(q), "v2 239.1.1.1 mr=1000");
    q.advance(at(3000));
    EXPECT_EQ(state(q, G), "none");
    q.advance(at(31250)); // the version change applies to the next general query
    EXPECT_EQ(sent(q), "v2 G mr=10000");
}

// --- fast leave ------------------------------------------------------------------

TEST(QuerierFastLeave, LeavesEndForwardingAtOnce)
{
    QuerierSettings s;
    s.fast_leave = true;
    Querier q(Family::inet, s, ip(own), t0);
    q.advance(t0);
    q.take_queries();
    q.receive(old_report(GroupVersion::v2, G), ip(host), at(0));
    EXPECT_EQ(changes(q), G);
    q.receive(leave(G), ip(host), at(1000));
    EXPECT_EQ(state(q, G), "none");
    EXPECT_EQ(changes(q), G);
    EXPECT_EQ(sent(q), "");

    send(q, 2000, is_in, G, {a, b});
    changes(q);
    send(q, 3000, block, G, {a});
    EXPECT_EQ(state(q, G), "IN 10.1.0.2@262000");
    EXPECT_EQ(changes(q), G);
    send(q, 3000, block, G, {b}); // the last wanted source
    EXPECT_EQ(state(q, G), "none");
    EXPECT_EQ(changes(q), G);

    send(q, 4000, is_ex, G, {c});
    send(q, 5000, to_in, G, {a}); // EXCLUDE -> INCLUDE(a) now
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@265000");
    send(q, 6000, to_in, G, {});
    EXPECT_EQ(state(q, G), "none");
    EXPECT_EQ(sent(q), "");
}

// --- MLD ------------------------------------------------------------------------------

TEST(QuerierMld, SameTableResults)
{
    const char* g6 = "ff3e::1234";
    Querier q(Family::inet6, QuerierSettings{}, ip("fe80::5"), t0);
    q.advance(t0);
    const auto first = q.take_queries();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].group, IpAddr::any(Family::inet6));
    q.receive(report({rec(is_in, g6, {"2001:db8::1", "2001:db8::2"})}), ip("fe80::100"), at(0));
    q.receive(report({rec(to_ex, g6, {"2001:db8::2", "2001:db8::3"})}), ip("fe80::100"), at(10000));
    EXPECT_EQ(state(q, g6), "EX 270000 2001:db8::2@12000 2001:db8::3:Y");
    EXPECT_EQ(sent(q), "ff3e::1234 [2001:db8::2] mr=1000");
    // MLDv1 report: the v2 host present timer (there is no MLD "v1" mode).
    q.receive(old_report(GroupVersion::v1, g6), ip("fe80::100"), at(10500));
    EXPECT_EQ(q.group(ip(g6))->compat, GroupVersion::v2);
    EXPECT_EQ(state(q, g6), "EX 270500"); // IS_EX({}): the sources deleted
    q.receive(leave(g6), ip("fe80::100"), at(11000)); // Done: TO_IN({}), Send Q(G)
    EXPECT_EQ(sent(q), "ff3e::1234 mr=1000");
    EXPECT_EQ(state(q, g6), "EX 13000");
    // records of the other family are ignored
    const auto before = q.stats().ignored;
    send(q, 11000, is_ex, G, {});
    EXPECT_EQ(q.stats().ignored, before + 1);
    EXPECT_FALSE(q.has_group(ip(G)));
}

// --- wants, changes, caps, reload ----------------------------------------------------

TEST_F(QuerierTest, WantsIncludeAndExclude)
{
    EXPECT_FALSE(q.wants(ip(a), ip(G)));
    send(q, 0, is_in, G, {a});
    EXPECT_TRUE(q.wants(ip(a), ip(G)));
    EXPECT_FALSE(q.wants(ip(b), ip(G)));
    send(q, 0, is_ex, "239.2.2.2", {b});
    EXPECT_TRUE(q.wants(ip(a), ip("239.2.2.2")));
    EXPECT_FALSE(q.wants(ip(b), ip("239.2.2.2")));
    EXPECT_EQ(changes(q), "239.1.1.1 239.2.2.2");
    EXPECT_EQ(changes(q), "");
    const auto all = q.groups();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].group, ip(G));
    EXPECT_FALSE(all[0].exclude);
    EXPECT_EQ(all[0].expires, TP{});
    EXPECT_EQ(all[1].sources, (std::vector<Querier::SourceView>{{ip(b), TP{}, false}}));
}

TEST_F(QuerierTest, RefreshWithoutChangeReportsNothing)
{
    send(q, 0, is_ex, G, {b});
    changes(q);
    send(q, 5000, is_ex, G, {b});
    EXPECT_EQ(state(q, G), "EX 265000 10.1.0.2:Y");
    EXPECT_EQ(changes(q), "");
}

class QuerierCapTest : public QuerierTest {
protected:
    QuerierCapTest() : QuerierTest(QuerierSettings{}, QuerierLimits{2, 3}) {}
};

TEST_F(QuerierCapTest, GroupsAndSourcesAreCapped)
{
    send(q, 0, is_ex, "239.0.0.1", {});
    send(q, 0, is_ex, "239.0.0.2", {});
    send(q, 0, is_ex, "239.0.0.3", {});
    EXPECT_FALSE(q.has_group(ip("239.0.0.3")));
    EXPECT_EQ(q.stats().ignored, 1u);
    EXPECT_EQ(changes(q), "239.0.0.1 239.0.0.2");
    send(q, 1000, is_ex, "239.0.0.2", {}); // existing groups still refresh
    EXPECT_EQ(state(q, "239.0.0.2"), "EX 261000");
    q.receive(leave("239.0.0.1"), ip(host), at(2000));
    q.advance(at(4000));
    EXPECT_FALSE(q.has_group(ip("239.0.0.1")));
    send(q, 5000, allow, "239.0.0.3", {a, b, c, d});
    EXPECT_EQ(state(q, "239.0.0.3"), "IN 10.1.0.1@265000 10.1.0.2@265000 10.1.0.3@265000");
    EXPECT_EQ(q.stats().ignored, 2u);
}

TEST_F(QuerierTest, ReloadKeepsTableAndDeadlines)
{
    send(q, 0, is_ex, G, {});
    QuerierSettings s;
    s.query_interval = 60s;
    q.set_settings(s, at(1000));
    EXPECT_EQ(state(q, G), "EX 260000");
    EXPECT_EQ(q.next_general_query(), at(31250)); // running timer kept
    send(q, 2000, is_ex, G, {});
    EXPECT_EQ(state(q, G), "EX 132000"); // new GMI 2 * 60 + 10
}

TEST_F(QuerierTest, IgmpV1ModeStillActsOnToIn)
{
    q.receive(old_report(GroupVersion::v1, G), ip(host), at(0));
    send(q, 1000, to_in, G, {}); // not in the 7.3.2 list for IGMPv1 mode: Send Q(G)
    EXPECT_EQ(state(q, G), "EX 3000");
    EXPECT_EQ(sent(q), "239.1.1.1 mr=1000");
    EXPECT_EQ(q.stats().ignored, 0u);
}

TEST_F(QuerierTest, UnspecifiedSourceQueryDoesNotWin)
{
    q.receive(query(GroupVersion::v3, nullptr), ip("0.0.0.0"), at(1000));
    EXPECT_TRUE(q.is_querier());
    EXPECT_EQ(q.other_querier_expires(), std::nullopt);
    EXPECT_EQ(q.stats().queries_received, 1u);
}

TEST_F(QuerierTest, BadRecordsAreIgnoredOrFiltered)
{
    send(q, 0, is_ex, "10.9.9.9", {}); // not a multicast group
    EXPECT_FALSE(q.has_group(ip("10.9.9.9")));
    EXPECT_EQ(q.stats().ignored, 1u);
    // duplicates, multicast and other-family sources are dropped from B
    send(q, 0, allow, G, {a, a, "239.9.9.9", "2001:db8::1", b});
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000 10.1.0.2@260000");
    GroupMessage m = report({rec(is_in, G, {c})});
    m.records[0].type = static_cast<RecordType>(9);
    q.receive(m, ip(host), at(0));
    EXPECT_EQ(q.stats().ignored, 2u);
    EXPECT_EQ(state(q, G), "IN 10.1.0.1@260000 10.1.0.2@260000");
}

TEST(QuerierMld, ConfiguredMldV1)
{
    const char* g6 = "ff3e::1234";
    QuerierSettings s;
    s.mld_version = GroupVersion::v2;
    s.igmp_version = GroupVersion::v3; // per family: IPv6 speaks MLDv1 here
    Querier q(Family::inet6, s, ip("fe80::5"), t0);
    q.advance(t0);
    EXPECT_EQ(sent(q), "v2 G mr=10000");
    q.receive(report({rec(allow, g6, {"2001:db8::1"})}), ip("fe80::100"), at(0));
    EXPECT_EQ(state(q, g6), "EX 260000");
    EXPECT_EQ(q.group(ip(g6))->compat, GroupVersion::v2);
    EXPECT_EQ(group_version_name(Family::inet6, q.group(ip(g6))->compat), "MLDv1");
    q.receive(leave(g6), ip("fe80::100"), at(1000));
    EXPECT_EQ(sent(q), "v2 ff3e::1234 mr=1000");
    EXPECT_EQ(state(q, g6), "EX 3000");
    // election on 128-bit numbers, the same OQPI
    q.receive(query(GroupVersion::v2, nullptr, {}, false, 10s), ip("fe80::4"), at(1500));
    EXPECT_FALSE(q.is_querier());
    EXPECT_EQ(q.other_querier_expires(), at(256500));
    q.advance(at(2000));
    EXPECT_EQ(sent(q), ""); // the pending retransmission dropped: only queriers send
}

// A seeded random mix of reports, leaves and queries from several hosts and
// routers over a long time line: the invariants hold after every step.
TEST(QuerierRandom, InvariantsHold)
{
    std::mt19937 rng(17);
    auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
    QuerierSettings s;
    s.fast_leave = false;
    Querier q(Family::inet, s, ip("10.0.0.5"), t0, QuerierLimits{8, 6});
    const std::vector<const char*> groups{"239.0.0.1", "239.0.0.2", "239.0.0.3", "239.0.0.4", "239.0.0.5",
                                          "239.0.0.6", "239.0.0.7", "239.0.0.8", "239.0.0.9", "239.0.0.10"};
    const std::vector<const char*> sources{a, b, c, d, e, "10.1.0.6", "10.1.0.7", "10.1.0.8"};
    const std::vector<const char*> routers{"10.0.0.2", "10.0.0.9", "10.0.0.5"};
    long long now = 0;
    unsigned takeovers = 0, most_groups = 0;
    std::set<IpAddr> known; // groups with state, as take_changes() told
    for (int step = 0; step < 20000; ++step) {
        now += pick(4000);
        const bool was_querier = q.is_querier();
        const char* g = groups[pick(static_cast<unsigned>(groups.size()))];
        std::vector<const char*> src;
        for (unsigned i = pick(5); i > 0; --i)
            src.push_back(sources[pick(static_cast<unsigned>(sources.size()))]);
        switch (pick(5)) {
        case 0:
        case 1:
            send(q, now, static_cast<RecordType>(1 + pick(6)), g, src);
            break;
        case 2:
            q.receive(old_report(static_cast<GroupVersion>(1 + pick(2)), g), ip(host), at(now));
            break;
        case 3:
            q.receive(leave(g), ip(host), at(now));
            break;
        case 4:
            if (pick(20) == 0)
                q.receive(query(GroupVersion::v3, pick(2) ? g : nullptr, src, pick(2) == 0, 1s),
                          ip(routers[pick(3)]), at(now));
            else
                q.advance(at(now));
            break;
        }
        ASSERT_GT(q.next_deadline(), at(now));
        const auto views = q.groups();
        ASSERT_LE(views.size(), 8u);
        for (const auto& v : views) {
            ASSERT_LE(v.sources.size(), 6u);
            ASSERT_TRUE(v.exclude || !v.sources.empty());
            ASSERT_EQ(v.expires != TP{}, v.exclude);
            if (v.exclude) {
                ASSERT_GT(v.expires, at(now));
            }
            for (const auto& sv : v.sources) {
                ASSERT_EQ(q.wants(sv.source, v.group), sv.forwarding);
                ASSERT_TRUE(!v.exclude ? sv.expires > at(now) : sv.expires == TP{} || sv.expires > at(now));
            }
        }
        for (const GroupMessage& m : q.take_queries()) {
            ASSERT_TRUE(was_querier || q.is_querier()); // non-queriers send nothing
            ASSERT_LE(m.sources.size(), 6u);
        }
        // Every group that gains or loses its state is reported as a change,
        // with the state it had: what the proxy's listener events rest on.
        const auto ch = q.take_changes();
        ASSERT_TRUE(std::is_sorted(ch.begin(), ch.end(),
                                   [](const Querier::Change& x, const Querier::Change& y) { return x.group < y.group; }));
        for (const auto& change : ch) {
            ASSERT_EQ(change.had_state, known.contains(change.group)) << change.group.str() << " at step " << step;
            if (q.has_group(change.group))
                known.insert(change.group);
            else
                known.erase(change.group);
        }
        const auto now_held = q.group_addresses();
        ASSERT_EQ(std::set<IpAddr>(now_held.begin(), now_held.end()), known) << "a group came or went unreported";
        takeovers += !was_querier && q.is_querier();
        most_groups = std::max(most_groups, static_cast<unsigned>(views.size()));
    }
    EXPECT_GT(takeovers, 0u);
    EXPECT_EQ(most_groups, 8u);
    EXPECT_GT(q.stats().queries_sent, 100u);
    EXPECT_GT(q.stats().ignored, 0u);
}

// runtime/proxy with a fake wire, a fake upstream membership kernel and the
// fake routing kernel: messages in, queries out, the upstream union, the
// router's kernel entries following the listeners, reload by difference.
#include "smcroute/runtime/proxy.hpp"

#include "fake_kernel.hpp"
#include "fake_membership.hpp"
#include "loop_time.hpp"
#include "smcroute/model/group_packet.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <map>

namespace smcroute {
namespace {

using namespace std::chrono_literals;
using test::FakeKernel;
using test::FakeMfc;
using test::FakeMembership;

IpAddr ip(std::string_view s) { return *IpAddr::parse(s); }

Interface iface(std::string_view name, unsigned index)
{
    Interface i;
    i.name = *IfName::parse(name);
    i.index = index;
    i.flags = IFF_UP | IFF_MULTICAST;
    return i;
}

struct Sent {
    Family family;
    unsigned ifindex;
    IpAddr dst;
    GroupMessage message;
};

class FakeIo final : public ProxyIo {
public:
    Status send(Family f, unsigned ifindex, const IpAddr& source, const IpAddr& dst,
                std::span<const uint8_t> body) override
    {
        EXPECT_EQ(source, addresses[std::make_pair(f, ifindex)]) << "a query comes from the querier's own address";
        auto d = f == Family::inet ? decode_igmp(body) : decode_mld(body);
        EXPECT_TRUE(d) << "the proxy sent bytes its own decoder refuses";
        if (d)
            sent.push_back({f, ifindex, dst, *d});
        return {};
    }
    Status listen(Family f, unsigned ifindex, bool on) override
    {
        if (on)
            listening.insert({f, ifindex});
        else
            listening.erase({f, ifindex});
        return {};
    }
    std::optional<IpAddr> address(Family f, const Interface& i) override
    {
        auto it = addresses.find({f, i.index});
        if (it == addresses.end())
            return std::nullopt;
        return it->second;
    }
    // Queries of family f sent on ifindex since the last call.
    std::vector<GroupMessage> queries_on(unsigned ifindex, Family f = Family::inet)
    {
        std::vector<GroupMessage> out;
        std::vector<Sent> rest;
        for (auto& s : sent)
            (s.ifindex == ifindex && s.family == f ? out.push_back(s.message) : rest.push_back(s));
        sent = std::move(rest);
        return out;
    }

    std::vector<Sent> sent;
    std::set<std::pair<Family, unsigned>> listening;
    std::map<std::pair<Family, unsigned>, IpAddr> addresses;
};

PhyintSpec upstream(std::string_view name)
{
    PhyintSpec p;
    p.name = *IfName::parse(name);
    p.proxy.role = ProxyRole::upstream;
    return p;
}

PhyintSpec downstream(std::string_view name)
{
    PhyintSpec p;
    p.name = *IfName::parse(name);
    p.proxy.role = ProxyRole::downstream;
    // Short timers: QI 10 s, QRI 1 s, LMQI 0.2 s; robustness 2.
    p.proxy.querier.query_interval = 10s;
    p.proxy.querier.query_response_interval = 1s;
    p.proxy.querier.last_member_query_interval = 200ms;
    return p;
}

class ProxyTest : public ::testing::Test {
protected:
    ProxyTest()
    {
        router.set_interfaces({iface("up0", 1), iface("dn1", 2), iface("dn2", 3), iface("other", 4)});
        io.addresses[{Family::inet, 2}] = ip("10.0.2.1");
        io.addresses[{Family::inet, 3}] = ip("10.0.3.1");
        io.addresses[{Family::inet6, 2}] = ip("fe80::2:1");
        io.addresses[{Family::inet6, 3}] = ip("fe80::3:1");
        phyints = {upstream("up0"), downstream("dn+")};
        proxy.configure(phyints);
    }

    // A message from a host on ifindex, as the socket hands it over.
    void host_sends(Family f, unsigned ifindex, const IpAddr& from, const GroupMessage& m, uint8_t ttl = 1)
    {
        auto bytes = f == Family::inet ? encode_igmp(m) : encode_mld6(from.v6(), ip("ff02::16").v6(), m);
        GroupDatagram d;
        d.ifindex = ifindex;
        d.source = from;
        d.ttl = ttl;
        d.router_alert = true;
        d.body = bytes;
        proxy.receive(f, d);
    }
    void v2_report(unsigned ifindex, std::string_view group, std::string_view from = "10.0.2.9")
    {
        GroupMessage m;
        m.kind = GroupMessage::Kind::report;
        m.version = GroupVersion::v2;
        m.group = ip(group);
        host_sends(Family::inet, ifindex, ip(from), m);
    }
    void v2_leave(unsigned ifindex, std::string_view group, std::string_view from = "10.0.2.9")
    {
        GroupMessage m;
        m.kind = GroupMessage::Kind::leave;
        m.version = GroupVersion::v2;
        m.group = ip(group);
        host_sends(Family::inet, ifindex, ip(from), m);
    }
    // Another router's IGMPv3 General Query (QRV 2, QQI 10 s) on ifindex.
    void other_router_queries(unsigned ifindex, std::string_view from)
    {
        GroupMessage q;
        q.kind = GroupMessage::Kind::query;
        q.version = GroupVersion::v3;
        q.max_response = 1s;
        q.robustness = 2;
        q.query_interval = 10;
        host_sends(Family::inet, ifindex, ip(from), q);
    }
    void v3_report(Family f, unsigned ifindex, RecordType t, std::string_view group,
                   std::vector<std::string_view> sources, std::string_view from)
    {
        GroupMessage m;
        m.kind = GroupMessage::Kind::report;
        m.version = GroupVersion::v3;
        GroupRecord r;
        r.type = t;
        r.group = ip(group);
        for (auto s : sources)
            r.sources.push_back(ip(s));
        m.records.push_back(r);
        host_sends(f, ifindex, ip(from), m);
    }
    std::set<std::string> oifs(std::string_view iif, std::string_view s, std::string_view g) const
    {
        std::set<std::string> out;
        for (const auto& n : proxy.proxy_oifs(iif, SgKey{ip(s), ip(g)}))
            out.insert(n.str());
        return out;
    }
    const Proxy::LinkView* view(std::string_view name, Family f = Family::inet)
    {
        views_ = proxy.views();
        for (const auto& v : views_)
            if (v.name.view() == name && v.family == f)
                return &v;
        return nullptr;
    }
    // The names of the kernel entry's OIFs.
    std::set<std::string> kernel_oifs(const FakeKernel& k, std::string_view s, std::string_view g) const
    {
        std::set<std::string> out;
        const FakeMfc* e = k.find(ip(s), ip(g));
        if (!e)
            return {"<no entry>"};
        for (unsigned v : e->oif_vifs())
            for (const auto& [index, i] : router.interfaces())
                if (router.vif_of(k.family(), index) == v)
                    out.insert(i.name.str());
        return out;
    }
    void let_pass(Clock::duration d) { test::let_pass(loop, clock, d); }

    ManualClock clock;
    EventLoop loop{clock};
    Logger log;
    FakeKernel k4{Family::inet};
    FakeKernel k6{Family::inet6};
    Router router{log, &k4, &k6, &clock};
    FakeMembership joins;
    FakeIo io;
    std::vector<PhyintSpec> phyints;
    Proxy proxy{loop, log, router, joins, io};
    std::vector<Proxy::LinkView> views_;
};

TEST_F(ProxyTest, DownstreamsQueryAtStartAndListen)
{
    EXPECT_TRUE(io.listening.count({Family::inet, 2}));
    EXPECT_TRUE(io.listening.count({Family::inet, 3}));
    EXPECT_FALSE(io.listening.count({Family::inet, 1})) << "the upstream is a host, not a querier";
    EXPECT_FALSE(io.listening.count({Family::inet, 4})) << "no phyint line covers it";
    auto q = io.queries_on(2);
    ASSERT_EQ(q.size(), 1u) << "the first startup query goes out at once";
    EXPECT_EQ(q[0].kind, GroupMessage::Kind::query);
    EXPECT_EQ(q[0].version, GroupVersion::v3);
    EXPECT_TRUE(q[0].group.is_unspecified());
    EXPECT_EQ(q[0].max_response, 1s);
    // The second startup query after query-interval / 4 = 2.5 s.
    let_pass(2400ms);
    EXPECT_TRUE(io.queries_on(2).empty());
    let_pass(200ms);
    EXPECT_EQ(io.queries_on(2).size(), 1u);
}

TEST_F(ProxyTest, AJoinIsJoinedUpstreamAndForwardedOnlyThere)
{
    EXPECT_EQ(oifs("up0", "10.9.9.9", "239.1.1.1"), (std::set<std::string>{}));
    v2_report(2, "239.1.1.1");
    EXPECT_TRUE(joins.has(1, std::nullopt, ip("239.1.1.1"))) << "ASM join upstream for a v2 listener";
    EXPECT_EQ(joins.held.size(), 1u);
    EXPECT_EQ(oifs("up0", "10.9.9.9", "239.1.1.1"), (std::set<std::string>{"dn1"}));
    EXPECT_EQ(oifs("up0", "10.9.9.9", "239.2.2.2"), (std::set<std::string>{}));
    // A source on a downstream: upstream, and the other downstream that wants it.
    EXPECT_EQ(oifs("dn2", "10.0.3.9", "239.1.1.1"), (std::set<std::string>{"dn1", "up0"}));
    EXPECT_EQ(oifs("dn1", "10.0.2.7", "239.1.1.1"), (std::set<std::string>{"up0"})) << "never back where it came from";
    const auto* v = view("dn1");
    ASSERT_TRUE(v);
    ASSERT_EQ(v->groups.size(), 1u);
    EXPECT_TRUE(v->groups[0].exclude);
    EXPECT_EQ(v->groups[0].compat, GroupVersion::v2);
}

TEST_F(ProxyTest, KernelEntriesFollowTheListenersInPlace)
{
    auto up_vif = router.vif_of(Family::inet, 1);
    ASSERT_TRUE(up_vif) << "the proxy's upstream holds a VIF so upcalls arrive";
    Upcall up;
    up.kind = Upcall::Kind::nocache;
    up.vif = *up_vif;
    up.source = ip("10.9.9.9");
    up.group = ip("239.1.1.1");
    router.handle_upcall(Family::inet, up);
    EXPECT_EQ(kernel_oifs(k4, "10.9.9.9", "239.1.1.1"), (std::set<std::string>{})) << "installed, forwarding nowhere";
    size_t deletes = k4.del_mfc_calls;
    v2_report(2, "239.1.1.1");
    EXPECT_EQ(kernel_oifs(k4, "10.9.9.9", "239.1.1.1"), (std::set<std::string>{"dn1"}));
    v2_report(3, "239.1.1.1", "10.0.3.9");
    EXPECT_EQ(kernel_oifs(k4, "10.9.9.9", "239.1.1.1"), (std::set<std::string>{"dn1", "dn2"}));
    EXPECT_EQ(k4.del_mfc_calls, deletes) << "updated in place, never deleted and re-added";
}

TEST_F(ProxyTest, LeaveQueriesThenStopsAfterLastMemberQueryTime)
{
    v2_report(2, "239.1.1.1");
    io.sent.clear();
    v2_leave(2, "239.1.1.1");
    auto q = io.queries_on(2);
    ASSERT_EQ(q.size(), 1u) << "a group-specific query at once";
    EXPECT_EQ(q[0].group, ip("239.1.1.1"));
    EXPECT_EQ(q[0].max_response, 200ms);
    EXPECT_EQ(oifs("up0", "10.9.9.9", "239.1.1.1"), (std::set<std::string>{"dn1"})) << "kept until LMQT";
    // LMQC = robustness = 2: one more query after LMQI; gone after LMQT = 0.4 s.
    let_pass(390ms);
    EXPECT_EQ(io.queries_on(2).size(), 1u);
    EXPECT_TRUE(joins.has(1, std::nullopt, ip("239.1.1.1")));
    let_pass(20ms);
    EXPECT_EQ(oifs("up0", "10.9.9.9", "239.1.1.1"), (std::set<std::string>{}));
    EXPECT_TRUE(joins.held.empty()) << "left upstream with the last listener";
}

TEST_F(ProxyTest, SilentListenerExpiresAfterTheMembershipInterval)
{
    v2_report(2, "239.1.1.1");
    // GMI = 2 * 10 s + 1 s = 21 s.
    let_pass(20900ms);
    EXPECT_TRUE(joins.has(1, std::nullopt, ip("239.1.1.1")));
    let_pass(200ms);
    EXPECT_FALSE(joins.has(1, std::nullopt, ip("239.1.1.1")));
    EXPECT_EQ(oifs("up0", "10.9.9.9", "239.1.1.1"), (std::set<std::string>{}));
}

TEST_F(ProxyTest, IncludeJoinsOnlyItsSourcesUpstream)
{
    v3_report(Family::inet, 2, RecordType::is_include, "232.1.1.1", {"10.9.9.1"}, "10.0.2.9");
    EXPECT_TRUE(joins.has(1, ip("10.9.9.1"), ip("232.1.1.1")));
    EXPECT_EQ(joins.held.size(), 1u);
    EXPECT_EQ(oifs("up0", "10.9.9.1", "232.1.1.1"), (std::set<std::string>{"dn1"}));
    EXPECT_EQ(oifs("up0", "10.9.9.2", "232.1.1.1"), (std::set<std::string>{}));
    // Another link in EXCLUDE mode for the group: ASM upstream instead.
    v3_report(Family::inet, 3, RecordType::is_exclude, "232.1.1.1", {}, "10.0.3.9");
    EXPECT_TRUE(joins.has(1, std::nullopt, ip("232.1.1.1")));
    EXPECT_EQ(joins.held.size(), 1u) << "ASM covers the source; the SSM join went";
}

TEST_F(ProxyTest, Mld)
{
    v3_report(Family::inet6, 2, RecordType::is_exclude, "ff0e::1:1", {}, "fe80::2:9");
    EXPECT_TRUE(joins.has(1, std::nullopt, ip("ff0e::1:1")));
    EXPECT_EQ(oifs("up0", "2001:db8::9", "ff0e::1:1"), (std::set<std::string>{"dn1"}));
    // Not from a link-local source: dropped and counted.
    v3_report(Family::inet6, 3, RecordType::is_exclude, "ff0e::1:1", {}, "2001:db8::3:9");
    EXPECT_EQ(oifs("up0", "2001:db8::9", "ff0e::1:1"), (std::set<std::string>{"dn1"}));
    const auto* v = view("dn2", Family::inet6);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->counters.malformed, 1u);
}

TEST_F(ProxyTest, MalformedAndWrongTtlChangeNothing)
{
    v2_report(2, "239.1.1.1");
    GroupMessage m;
    m.kind = GroupMessage::Kind::report;
    m.version = GroupVersion::v2;
    m.group = ip("239.3.3.3");
    host_sends(Family::inet, 2, ip("10.0.2.9"), m, 2);
    auto bytes = encode_igmp(m);
    bytes[2] ^= 0xff; // checksum
    GroupDatagram d;
    d.ifindex = 2;
    d.source = ip("10.0.2.9");
    d.ttl = 1;
    d.body = bytes;
    proxy.receive(Family::inet, d);
    bytes.resize(5); // truncated
    d.body = bytes;
    proxy.receive(Family::inet, d);
    const auto* v = view("dn1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->counters.malformed, 3u);
    ASSERT_EQ(v->groups.size(), 1u);
    EXPECT_EQ(v->groups[0].group, ip("239.1.1.1"));
    EXPECT_EQ(joins.held.size(), 1u);
}

// The kernel's running drop count (SO_RXQ_OVFL) rides on every datagram of
// the family's socket once non-zero: the proxy totals it per family, shows it
// on every link of that family, and the message itself is still handled.
TEST_F(ProxyTest, KernelQueueDropsAreCountedPerFamily)
{
    auto with_drops = [&](uint32_t running, std::string_view group) {
        GroupMessage m;
        m.kind = GroupMessage::Kind::report;
        m.version = GroupVersion::v2;
        m.group = ip(group);
        auto bytes = encode_igmp(m);
        GroupDatagram d;
        d.ifindex = 2;
        d.source = ip("10.0.2.9");
        d.ttl = 1;
        d.body = bytes;
        d.drop_count = running;
        proxy.receive(Family::inet, d);
    };
    with_drops(3, "239.1.1.1");
    with_drops(3, "239.1.1.2"); // no new drop
    with_drops(10, "239.1.1.3");
    for (std::string_view name : {"up0", "dn1", "dn2"}) {
        const auto* v = view(name);
        ASSERT_TRUE(v) << name;
        EXPECT_EQ(v->queue_dropped, 10u) << name;
    }
    const auto* v6 = view("dn1", Family::inet6);
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->queue_dropped, 0u);
    const auto* dn1 = view("dn1");
    EXPECT_EQ(dn1->groups.size(), 3u);
    EXPECT_EQ(dn1->counters.malformed, 0u);
}

// monitor's proxy events: a listener and the upstream join come and go, and
// the querier changes hands; the kernel entry and the upstream change first.
TEST_F(ProxyTest, EventsTellWhatChanged)
{
    EventBus bus;
    std::vector<std::string> lines;
    bus.subscribe([&](const EventLines& l) {
        lines.push_back(l.text().substr(l.text().find(' ') + 1)); // without the time
        return true;
    });
    proxy.set_events(&bus);
    v2_report(2, "239.1.1.1");
    EXPECT_EQ(lines, (std::vector<std::string>{"upstream_joined interface=up0 group=239.1.1.1",
                                               "listener_added interface=dn1 group=239.1.1.1"}));
    lines.clear();
    v2_report(3, "239.1.1.1", "10.0.3.9"); // a second link: the upstream has it already
    EXPECT_EQ(lines, (std::vector<std::string>{"listener_added interface=dn2 group=239.1.1.1"}));
    lines.clear();
    v2_leave(2, "239.1.1.1");
    let_pass(1s); // LMQT 2 x 0.2 s
    v2_leave(3, "239.1.1.1", "10.0.3.9");
    let_pass(1s);
    EXPECT_EQ(lines, (std::vector<std::string>{"listener_removed interface=dn1 group=239.1.1.1",
                                               "upstream_left interface=up0 group=239.1.1.1",
                                               "listener_removed interface=dn2 group=239.1.1.1"}));
    lines.clear();
    other_router_queries(2, "10.0.2.0");
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "querier_changed interface=dn1 family=IPv4 querier=no address=10.0.2.0"}));
    lines.clear();
    let_pass(21s); // OQPI 20.5 s
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "querier_changed interface=dn1 family=IPv4 querier=yes address=10.0.2.1"}));
}

TEST_F(ProxyTest, DeniedGroupsAreNeitherForwardedNorJoined)
{
    auto p = downstream("dn1");
    p.proxy.filter.rules.push_back({true, false, *Prefix::parse("239.0.0.0/8")});
    p.proxy.filter.rules.push_back({false, false, *Prefix::parse("239.255.0.0/16")});
    phyints = {upstream("up0"), p};
    proxy.configure(phyints);
    v2_report(2, "239.255.1.1");
    v2_report(2, "225.1.1.1");
    v2_report(2, "239.1.1.1");
    EXPECT_EQ(joins.held.size(), 1u);
    EXPECT_TRUE(joins.has(1, std::nullopt, ip("239.1.1.1")));
    const auto* v = view("dn1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->counters.denied, 2u);
    EXPECT_EQ(view("dn2"), nullptr) << "dn2 is no longer a downstream";
}

TEST_F(ProxyTest, ReloadWithTheSameProxyLinesKeepsEverything)
{
    v2_report(2, "239.1.1.1");
    size_t j = joins.joins, l = joins.leaves;
    io.sent.clear();
    proxy.configure(phyints);
    proxy.refresh();
    EXPECT_EQ(joins.joins, j);
    EXPECT_EQ(joins.leaves, l);
    EXPECT_TRUE(io.sent.empty()) << "no startup queries again";
    ASSERT_TRUE(view("dn1"));
    EXPECT_EQ(view("dn1")->groups.size(), 1u);
    // Only the querier settings change: the groups stay.
    phyints[1].proxy.querier.query_interval = 20s;
    proxy.configure(phyints);
    EXPECT_EQ(view("dn1")->groups.size(), 1u);
    EXPECT_EQ(joins.leaves, l);
}

TEST_F(ProxyTest, ALowerQuerierTakesOverUntilItFallsSilent)
{
    other_router_queries(2, "10.0.2.0");
    const auto* v = view("dn1");
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->querier);
    EXPECT_EQ(v->querier_address, ip("10.0.2.0"));
    io.sent.clear();
    // OQPI = 2 * 10 s + 0.5 s.
    let_pass(20400ms);
    for (const auto& m : io.queries_on(2))
        ADD_FAILURE() << "a non-querier never queries; sent one for " << m.group.str();
    let_pass(200ms);
    v = view("dn1");
    EXPECT_TRUE(v->querier);
    auto sent = io.queries_on(2);
    ASSERT_FALSE(sent.empty());
    EXPECT_TRUE(sent[0].group.is_unspecified());
    // A higher address never wins.
    other_router_queries(3, "10.0.3.200");
    EXPECT_TRUE(view("dn2")->querier);
}

TEST_F(ProxyTest, AVanishedDownstreamTakesItsListenersWithIt)
{
    v2_report(2, "239.1.1.1");
    v2_report(3, "239.1.1.1", "10.0.3.9");
    router.link_event(LinkEvent{LinkEvent::Kind::removed, iface("dn1", 2)});
    proxy.refresh();
    EXPECT_FALSE(io.listening.count({Family::inet, 2}));
    EXPECT_EQ(oifs("up0", "10.9.9.9", "239.1.1.1"), (std::set<std::string>{"dn2"}));
    EXPECT_TRUE(joins.has(1, std::nullopt, ip("239.1.1.1")));
    router.link_event(LinkEvent{LinkEvent::Kind::removed, iface("dn2", 3)});
    proxy.refresh();
    EXPECT_TRUE(joins.held.empty());
}

} // namespace
} // namespace smcroute

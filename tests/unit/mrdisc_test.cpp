// Tests for model/mrdisc_packet (exact bytes, checksums worked out by hand)
// and runtime/mrdisc: the schedule's bounds over many seeds, the announcer
// over a real EventLoop with a recording send function, and (root only) the
// real sockets on a veth pair in a private network namespace, captured on the
// wire with a packet socket.
#include "smcroute/runtime/mrdisc.hpp"
#include "smcroute/model/mrdisc_packet.hpp"

#include <gtest/gtest.h>

#include "loop_time.hpp"
#include "netns_child.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace smcroute;
using namespace std::chrono_literals;

namespace {

std::vector<uint8_t> v(std::initializer_list<int> bytes)
{
    std::vector<uint8_t> out;
    for (int b : bytes)
        out.push_back(static_cast<uint8_t>(b));
    return out;
}

in6_addr a6(const char* text)
{
    in6_addr a{};
    EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1) << text;
    return a;
}

// A second, deliberately plain checksum: 32-bit sum of 16-bit words.
uint16_t plain_sum(const std::vector<uint8_t>& data)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < data.size(); i += 2)
        sum += (uint64_t(data[i]) << 8) + (i + 1 < data.size() ? data[i + 1] : 0);
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

} // namespace

// ---------------------------------------------------------------- packets

TEST(MrdiscPacket, Rfc1071Example)
{
    // RFC 1071 section 3 example: sum ddf2, checksum its complement.
    auto b = v({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
    EXPECT_EQ(internet_checksum(b), 0x220d);
    EXPECT_EQ(internet_checksum(v({0x00, 0x01, 0xf2})), static_cast<uint16_t>(~(0x0001 + 0xf200) & 0xffff));
}

TEST(MrdiscPacket, Ipv4AdvertisementExactBytes)
{
    MrdiscMessage m{MrdiscType::advertisement, 20, 125, 2};
    // 0x3014 + 0x007d + 0x0002 = 0x3093, complement 0xcf6c.
    EXPECT_EQ(encode_mrdisc(Family::inet, m), v({0x30, 20, 0xcf, 0x6c, 0x00, 0x7d, 0x00, 0x02}));
    m = MrdiscMessage{MrdiscType::advertisement, 180, 0x1234, 0xabcd};
    auto b = encode_mrdisc(Family::inet, m);
    EXPECT_EQ(b, v({0x30, 180, b[2], b[3], 0x12, 0x34, 0xab, 0xcd}));
    EXPECT_EQ(plain_sum(b), 0xffff) << "checksum does not verify";
}

TEST(MrdiscPacket, Ipv4SolicitationAndTermination)
{
    EXPECT_EQ(encode_mrdisc(Family::inet, {MrdiscType::solicitation}), v({0x31, 0, 0xce, 0xff}));
    EXPECT_EQ(encode_mrdisc(Family::inet, {MrdiscType::termination}), v({0x32, 0, 0xcd, 0xff}));
    // Advertisement-only fields never leak into the short messages.
    EXPECT_EQ(encode_mrdisc(Family::inet, {MrdiscType::termination, 9, 9, 9}), v({0x32, 0, 0xcd, 0xff}));
}

TEST(MrdiscPacket, Ipv6BodiesLeaveChecksumToKernel)
{
    EXPECT_EQ(encode_mrdisc(Family::inet6, {MrdiscType::advertisement, 4, 125, 2}),
              v({151, 4, 0, 0, 0x00, 0x7d, 0x00, 0x02}));
    EXPECT_EQ(encode_mrdisc(Family::inet6, {MrdiscType::solicitation}), v({152, 0, 0, 0}));
    EXPECT_EQ(encode_mrdisc(Family::inet6, {MrdiscType::termination}), v({153, 0, 0, 0}));
}

TEST(MrdiscPacket, Ipv6ChecksumWithPseudoHeader)
{
    // fe80::1 -> ff02::6a, length 8, next header 58; body 9704 0000 007d 0002:
    // fe81 + ff6c + 0008 + 003a + 9783 = 0x295b2 -> 0x95b4 -> ~ = 0x6a4b.
    auto src = a6("fe80::1"), dst = a6("ff02::6a");
    auto b = encode_mrdisc6(src, dst, {MrdiscType::advertisement, 4, 125, 2});
    EXPECT_EQ(b, v({151, 4, 0x6a, 0x4b, 0x00, 0x7d, 0x00, 0x02}));
    // Verifies: pseudo-header plus body sums to ffff.
    std::vector<uint8_t> all(src.s6_addr, src.s6_addr + 16);
    all.insert(all.end(), dst.s6_addr, dst.s6_addr + 16);
    for (int x : {0, 0, 0, 8, 0, 0, 0, 58})
        all.push_back(static_cast<uint8_t>(x));
    all.insert(all.end(), b.begin(), b.end());
    EXPECT_EQ(plain_sum(all), 0xffff);
    EXPECT_EQ(icmp6_checksum(src, dst, b), 0);
}

TEST(MrdiscPacket, DecodeRoundTripsAndRejects)
{
    for (Family f : {Family::inet, Family::inet6})
        for (MrdiscMessage m : {MrdiscMessage{MrdiscType::advertisement, 4, 125, 2},
                                MrdiscMessage{MrdiscType::solicitation}, MrdiscMessage{MrdiscType::termination}}) {
            auto d = decode_mrdisc(f, encode_mrdisc(f, m));
            ASSERT_TRUE(d) << int(m.type);
            EXPECT_EQ(*d, m);
        }
    auto good = encode_mrdisc(Family::inet, {MrdiscType::advertisement, 20, 125, 2});
    auto bad = good;
    bad[5] ^= 0x01;
    EXPECT_FALSE(decode_mrdisc(Family::inet, bad)) << "bad IPv4 checksum accepted";
    EXPECT_FALSE(decode_mrdisc(Family::inet, std::span(good).first(7))) << "short advertisement";
    EXPECT_FALSE(decode_mrdisc(Family::inet, std::span(good).first(3)));
    EXPECT_FALSE(decode_mrdisc(Family::inet, v({0x11, 0, 0xee, 0xff}))) << "IGMP query is not MRD";
    EXPECT_FALSE(decode_mrdisc(Family::inet6, v({130, 0, 0, 0}))) << "MLD query is not MRD";
    EXPECT_FALSE(decode_mrdisc(Family::inet6, v({0x30, 0, 0, 0}))) << "IPv4 type in IPv6";
    EXPECT_FALSE(decode_mrdisc(Family::inet, v({151, 0, 0x68, 0xff}))) << "IPv6 type in IPv4";
    // Trailing zero bytes leave the checksum valid and are ignored.
    auto padded = encode_mrdisc(Family::inet, {MrdiscType::solicitation});
    padded.insert(padded.end(), 4, 0);
    auto d = decode_mrdisc(Family::inet, padded);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->type, MrdiscType::solicitation);
}

TEST(MrdiscPacket, TypesAndAddresses)
{
    EXPECT_EQ(mrdisc_wire_type(Family::inet, MrdiscType::advertisement), 0x30);
    EXPECT_EQ(mrdisc_wire_type(Family::inet, MrdiscType::solicitation), 0x31);
    EXPECT_EQ(mrdisc_wire_type(Family::inet, MrdiscType::termination), 0x32);
    EXPECT_EQ(mrdisc_wire_type(Family::inet6, MrdiscType::advertisement), 151);
    EXPECT_EQ(mrdisc_wire_type(Family::inet6, MrdiscType::solicitation), 152);
    EXPECT_EQ(mrdisc_wire_type(Family::inet6, MrdiscType::termination), 153);
    EXPECT_FALSE(mrdisc_type_from_wire(Family::inet, 0x33));
    EXPECT_EQ(mrdisc_all_snoopers(Family::inet).str(), "224.0.0.106");
    EXPECT_EQ(mrdisc_all_snoopers(Family::inet6).str(), "ff02::6a");
    EXPECT_EQ(mrdisc_all_routers(Family::inet).str(), "224.0.0.2");
    EXPECT_EQ(mrdisc_all_routers(Family::inet6).str(), "ff02::2");
}

TEST(MrdiscPacket, RouterAlertOptions)
{
    auto ra4 = ipv4_router_alert_option();
    EXPECT_EQ(std::vector<uint8_t>(ra4.begin(), ra4.end()), v({0x94, 0x04, 0x00, 0x00}));
    auto ra6 = ipv6_router_alert_hopopts();
    EXPECT_EQ(std::vector<uint8_t>(ra6.begin(), ra6.end()), v({0, 0, 5, 2, 0, 0, 1, 0}));
}

TEST(MrdiscPacket, ParseIpv4)
{
    // 24-byte header with Router Alert, TTL 1, IGMP, 10.0.1.1 -> 224.0.0.106,
    // then an 8-byte advertisement; total length 32, plus 2 bytes of junk.
    auto body = encode_mrdisc(Family::inet, {MrdiscType::advertisement, 4, 125, 2});
    auto p = v({0x46, 0xc0, 0, 32, 0, 0, 0, 0, 1, 2, 0, 0, 10, 0, 1, 1, 224, 0, 0, 106, 0x94, 4, 0, 0});
    p.insert(p.end(), body.begin(), body.end());
    p.push_back(0xaa);
    p.push_back(0xbb);
    auto d = parse_ipv4(p);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->source.str(), "10.0.1.1");
    EXPECT_EQ(d->destination.str(), "224.0.0.106");
    EXPECT_EQ(d->ttl, 1);
    EXPECT_EQ(d->protocol, 2);
    EXPECT_TRUE(d->router_alert);
    EXPECT_EQ(std::vector<uint8_t>(d->payload.begin(), d->payload.end()), body);

    auto plain = p; // NOP NOP NOP EOL instead of Router Alert
    plain[20] = 1, plain[21] = 1, plain[22] = 1, plain[23] = 0;
    d = parse_ipv4(plain);
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->router_alert);

    auto broken = p;
    broken[21] = 9; // option runs past the header
    EXPECT_FALSE(parse_ipv4(broken));
    broken = p;
    broken[21] = 1; // option length below 2
    EXPECT_FALSE(parse_ipv4(broken));
    broken = p;
    broken[0] = 0x4f; // 60-byte header in a 34-byte buffer
    EXPECT_FALSE(parse_ipv4(broken));
    broken = p;
    broken[0] = 0x66;
    EXPECT_FALSE(parse_ipv4(broken)) << "IPv6 version nibble";
    EXPECT_FALSE(parse_ipv4(std::span(p).first(19)));
}

// --------------------------------------------------------------- schedule

TEST(MrdiscSchedule, InitialBurstThenIntervalWithJitter)
{
    MrdiscTiming t; // RFC defaults: 20 s, 2 s, 3
    int64_t init_min = 1 << 30, init_max = -1, per_min = 1 << 30, per_max = -1;
    for (uint64_t seed = 1; seed <= 300; ++seed) {
        std::mt19937_64 rng(seed);
        MrdiscSchedule s(t);
        for (int i = 0; i < 3; ++i) {
            ASSERT_TRUE(s.in_initial_burst());
            auto d = s.next(rng).count();
            ASSERT_GE(d, 0);
            ASSERT_LE(d, 2000);
            init_min = std::min(init_min, d), init_max = std::max(init_max, d);
        }
        EXPECT_FALSE(s.in_initial_burst());
        for (int i = 0; i < 5; ++i) {
            auto d = s.next(rng).count();
            ASSERT_GE(d, 20000 - 500) << "seed " << seed;
            ASSERT_LE(d, 20000 + 500) << "seed " << seed;
            per_min = std::min(per_min, d), per_max = std::max(per_max, d);
        }
        s.restart();
        EXPECT_TRUE(s.in_initial_burst());
        EXPECT_LE(s.next(rng).count(), 2000);
    }
    // Actually random, over the whole range.
    EXPECT_LT(init_min, 200);
    EXPECT_GT(init_max, 1800);
    EXPECT_LT(per_min, 19600);
    EXPECT_GT(per_max, 20400);
}

TEST(MrdiscSchedule, ShortIntervalAndNoBurst)
{
    MrdiscTiming t;
    t.interval = 4s;
    t.max_initial_advertisements = 0;
    EXPECT_EQ(t.jitter(), 100ms);
    std::mt19937_64 rng(7);
    MrdiscSchedule s(t);
    EXPECT_FALSE(s.in_initial_burst());
    std::vector<int64_t> seen;
    for (int i = 0; i < 200; ++i) {
        auto d = s.next(rng).count();
        ASSERT_GE(d, 3900);
        ASSERT_LE(d, 4100);
        seen.push_back(d);
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_GT(std::unique(seen.begin(), seen.end()) - seen.begin(), 50) << "jitter barely varies";
}

// ------------------------------------------------ announcer, recorded sends

namespace {

struct Sent {
    Family family;
    unsigned ifindex;
    MrdiscMessage msg;
    Clock::time_point at;
};

Interface make_if(const char* name, unsigned index, bool up = true)
{
    Interface i;
    i.name = *IfName::parse(name);
    i.index = index;
    i.flags = IFF_MULTICAST | (up ? IFF_UP | IFF_RUNNING : 0);
    return i;
}

struct Recorder {
    explicit Recorder(const Clock& c) : clock(c) {}
    const Clock& clock; // stamps what is sent: the loop's
    std::vector<Sent> sent;
    bool failing = false;
    MrdiscOptions options(MrdiscTiming t, uint64_t seed = 42)
    {
        MrdiscOptions o;
        o.timing = t;
        o.robustness = 2;
        o.seed = seed;
        o.send = [this](Family f, const Interface& i, const MrdiscMessage& m) -> Status {
            sent.push_back({f, i.index, m, clock.now()});
            if (failing)
                return fail("refused");
            return {};
        };
        return o;
    }
    std::vector<Sent> of(Family f, unsigned ifindex, MrdiscType type) const
    {
        std::vector<Sent> out;
        for (const auto& s : sent)
            if (s.family == f && s.ifindex == ifindex && s.msg.type == type)
                out.push_back(s);
        return out;
    }
};

// Let test-clock time pass (tests/unit/loop_time).
void run_for(EventLoop& loop, ManualClock& clock, Clock::duration d)
{
    test::let_pass(loop, clock, d);
}

template <class Pred>
bool run_until(EventLoop& loop, ManualClock& clock, Clock::duration limit, Pred done)
{
    return test::let_pass_until(loop, clock, limit, done);
}

double ms(Clock::duration d)
{
    return std::chrono::duration<double, std::milli>(d).count();
}

} // namespace

TEST(Mrdisc, InitialBurstThenPeriodicBothFamilies)
{
    ManualClock clock;
    EventLoop loop(clock);
    Logger log;
    log.set_level(LogLevel::none);
    Recorder rec(clock);
    MrdiscTiming t;
    t.interval = 400ms; // jitter 10 ms
    t.max_initial_interval = 60ms;
    Mrdisc md(loop, log, rec.options(t));
    auto t0 = clock.now();
    md.set_interfaces({make_if("a1", 2)});
    EXPECT_TRUE(rec.sent.empty()) << "nothing goes out synchronously";
    EXPECT_EQ(md.active(), std::vector<unsigned>{2});
    ASSERT_TRUE(run_until(loop, clock, 3s, [&] {
        return rec.of(Family::inet, 2, MrdiscType::advertisement).size() >= 5 &&
               rec.of(Family::inet6, 2, MrdiscType::advertisement).size() >= 5;
    }));
    for (Family f : {Family::inet, Family::inet6}) {
        auto adv = rec.of(f, 2, MrdiscType::advertisement);
        // The burst: three within 3 x 60 ms (plus scheduling slack).
        EXPECT_LE(ms(adv[2].at - t0), 180 + 150) << family_name(f);
        // Then the interval, 390..410 ms apart: each timer is armed when the
        // previous one fires and never fires early; it may fire late.
        for (size_t i = 3; i < 5; ++i) {
            double gap = ms(adv[i].at - adv[i - 1].at);
            EXPECT_GE(gap, 390) << family_name(f) << " #" << i;
            EXPECT_LE(gap, 410 + 150) << family_name(f) << " #" << i;
        }
        for (const auto& s : adv) {
            EXPECT_EQ(s.msg.interval, 0) << "400 ms is 0 whole seconds";
            EXPECT_EQ(s.msg.query_interval, 125);
            EXPECT_EQ(s.msg.robustness, 2);
        }
    }
    EXPECT_TRUE(rec.of(Family::inet, 2, MrdiscType::termination).empty());
}

TEST(Mrdisc, AdvertisedIntervalIsWholeSeconds)
{
    ManualClock clock;
    EventLoop loop(clock);
    Logger log;
    log.set_level(LogLevel::none);
    Recorder rec(clock);
    MrdiscTiming t;
    t.interval = 4s;
    t.max_initial_interval = 20ms;
    Mrdisc md(loop, log, rec.options(t));
    md.set_interfaces({make_if("a1", 2)});
    ASSERT_TRUE(run_until(loop, clock, 2s, [&] { return rec.sent.size() >= 6; }));
    for (const auto& s : rec.sent) {
        EXPECT_EQ(s.msg.type, MrdiscType::advertisement);
        EXPECT_EQ(s.msg.interval, 4);
    }
    // The burst is over; the next is ~4 s away.
    run_for(loop, clock, 300ms);
    EXPECT_EQ(rec.sent.size(), 6u);
}

TEST(Mrdisc, TerminationOnDestructionAndStop)
{
    ManualClock clock;
    EventLoop loop(clock);
    Logger log;
    log.set_level(LogLevel::none);
    Recorder rec(clock);
    MrdiscTiming t;
    t.interval = 60s;
    t.max_initial_interval = 10s;
    {
        Mrdisc md(loop, log, rec.options(t));
        md.set_interfaces({make_if("a1", 2), make_if("b1", 3)});
        EXPECT_TRUE(rec.sent.empty());
    }
    ASSERT_EQ(rec.sent.size(), 4u);
    for (unsigned idx : {2u, 3u})
        for (Family f : {Family::inet, Family::inet6})
            EXPECT_EQ(rec.of(f, idx, MrdiscType::termination).size(), 1u) << idx << " " << family_name(f);
    EXPECT_EQ(loop.timer_count(), 0u) << "timers left behind";

    rec.sent.clear();
    Mrdisc md(loop, log, rec.options(t));
    md.set_interfaces({make_if("a1", 2)});
    md.stop();
    EXPECT_EQ(rec.sent.size(), 2u);
    md.stop();
    EXPECT_EQ(rec.sent.size(), 2u) << "second stop() terminated again";
    EXPECT_TRUE(md.active().empty());
    EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(Mrdisc, SetInterfacesDiffs)
{
    ManualClock clock;
    EventLoop loop(clock);
    Logger log;
    log.set_level(LogLevel::none);
    Recorder rec(clock);
    MrdiscTiming t;
    t.interval = 60s;
    t.max_initial_interval = 10s;
    Mrdisc md(loop, log, rec.options(t));
    md.set_interfaces({make_if("a1", 2), make_if("b1", 3), make_if("down", 4, false)});
    EXPECT_EQ(md.active(), (std::vector<unsigned>{2, 3})) << "a down interface does not announce";
    auto timers = loop.timer_count();
    EXPECT_EQ(timers, 4u); // one per interface and family

    md.set_interfaces({make_if("b1", 3), make_if("b2", 5)});
    EXPECT_EQ(md.active(), (std::vector<unsigned>{3, 5}));
    ASSERT_EQ(rec.sent.size(), 2u);
    EXPECT_EQ(rec.of(Family::inet, 2, MrdiscType::termination).size(), 1u);
    EXPECT_EQ(rec.of(Family::inet6, 2, MrdiscType::termination).size(), 1u);
    EXPECT_EQ(loop.timer_count(), 4u);

    // Same list again: nothing happens.
    md.set_interfaces({make_if("b1", 3), make_if("b2", 5)});
    EXPECT_EQ(rec.sent.size(), 2u);
    // b1 recreated with a new index: old one terminated, new one started.
    md.set_interfaces({make_if("b1", 7), make_if("b2", 5)});
    EXPECT_EQ(md.active(), (std::vector<unsigned>{5, 7}));
    EXPECT_EQ(rec.of(Family::inet, 3, MrdiscType::termination).size(), 1u);
    // b2 went down: terminated (the send may fail; it is tried).
    md.set_interfaces({make_if("b1", 7), make_if("b2", 5, false)});
    EXPECT_EQ(md.active(), std::vector<unsigned>{7});
    EXPECT_EQ(rec.of(Family::inet6, 5, MrdiscType::termination).size(), 1u);
    md.set_interfaces({});
    EXPECT_TRUE(md.active().empty());
    EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(Mrdisc, SolicitationAnsweredAndRateLimited)
{
    ManualClock clock;
    EventLoop loop(clock);
    Logger log;
    log.set_level(LogLevel::none);
    Recorder rec(clock);
    MrdiscTiming t;
    t.interval = 60s;
    t.max_initial_advertisements = 0; // no unsolicited traffic in this test
    t.min_message_gap = 100ms;
    Mrdisc md(loop, log, rec.options(t));
    md.set_interfaces({make_if("a1", 2), make_if("b1", 3)});

    md.on_solicitation(Family::inet, 9); // not announcing there
    EXPECT_TRUE(rec.sent.empty());

    md.on_solicitation(Family::inet, 2);
    ASSERT_EQ(rec.sent.size(), 1u) << "first solicitation answered at once";
    EXPECT_EQ(rec.sent[0].msg.type, MrdiscType::advertisement);
    EXPECT_EQ(rec.sent[0].family, Family::inet);
    EXPECT_EQ(rec.sent[0].ifindex, 2u);
    for (int i = 0; i < 5; ++i)
        md.on_solicitation(Family::inet, 2);
    EXPECT_EQ(rec.sent.size(), 1u) << "answers within the gap are deferred";
    // Other interface and family: their own budget.
    md.on_solicitation(Family::inet6, 2);
    md.on_solicitation(Family::inet, 3);
    EXPECT_EQ(rec.sent.size(), 3u);

    run_for(loop, clock, 350ms);
    auto v4 = rec.of(Family::inet, 2, MrdiscType::advertisement);
    ASSERT_EQ(v4.size(), 2u) << "the five deferred answers coalesce into one";
    EXPECT_GE(ms(v4[1].at - v4[0].at), 99.0);
    EXPECT_EQ(rec.sent.size(), 4u);

    // Long after the last message: answered at once again.
    md.on_solicitation(Family::inet, 2);
    EXPECT_EQ(rec.sent.size(), 5u);
    // A pending answer dies with the interface.
    md.on_solicitation(Family::inet, 2);
    md.set_interfaces({make_if("b1", 3)});
    run_for(loop, clock, 200ms);
    EXPECT_EQ(rec.of(Family::inet, 2, MrdiscType::advertisement).size(), 3u);
    EXPECT_EQ(rec.of(Family::inet, 2, MrdiscType::termination).size(), 1u);
}

TEST(Mrdisc, FailingSendKeepsSchedule)
{
    ManualClock clock;
    EventLoop loop(clock);
    Logger log;
    log.set_level(LogLevel::none);
    Recorder rec(clock);
    rec.failing = true;
    MrdiscTiming t;
    t.interval = 100ms;
    t.max_initial_interval = 20ms;
    Mrdisc md(loop, log, rec.options(t));
    md.set_interfaces({make_if("a1", 2)});
    ASSERT_TRUE(
        run_until(loop, clock, 2s, [&] { return rec.of(Family::inet, 2, MrdiscType::advertisement).size() >= 5; }));
}

// ---------------------------------------------- root: the real wire (veth)

namespace {


// One MRD packet as captured, parsed here independently of mrdisc_packet.
struct Wire {
    Family family;
    std::string dst;
    int ttl = -1;
    bool router_alert = false;
    bool checksum_ok = false;
    int type = -1;
    int code = -1;
    std::vector<uint8_t> body;
};

std::optional<Wire> parse_wire(uint16_t proto, const uint8_t* p, size_t n)
{
    Wire w;
    char text[INET6_ADDRSTRLEN];
    if (proto == ETH_P_IP) {
        if (n < 20 || p[9] != IPPROTO_IGMP)
            return std::nullopt;
        size_t hl = (p[0] & 0x0f) * 4u;
        if (hl > n)
            return std::nullopt;
        w.family = Family::inet;
        w.ttl = p[8];
        inet_ntop(AF_INET, p + 16, text, sizeof text);
        w.dst = text;
        for (size_t i = 20; i + 1 < hl && p[i] != 0;)
            if (p[i] == 1) {
                ++i;
            } else {
                if (p[i] == 0x94 && p[i + 1] == 4)
                    w.router_alert = true;
                i += std::max<uint8_t>(p[i + 1], 2);
            }
        w.body.assign(p + hl, p + n);
        w.checksum_ok = plain_sum(w.body) == 0xffff;
    } else if (proto == ETH_P_IPV6) {
        if (n < 48)
            return std::nullopt;
        w.family = Family::inet6;
        w.ttl = p[7];
        inet_ntop(AF_INET6, p + 24, text, sizeof text);
        w.dst = text;
        size_t off = 40;
        uint8_t next = p[6];
        if (next == 0) { // hop-by-hop
            size_t len = (p[41] + 1u) * 8;
            for (size_t i = 42; i < 40 + len && i < n;) {
                if (p[i] == 0) {
                    ++i;
                    continue;
                }
                if (p[i] == 5 && p[i + 1] == 2 && p[i + 2] == 0 && p[i + 3] == 0)
                    w.router_alert = true;
                i += 2 + p[i + 1];
            }
            next = p[40];
            off = 40 + len;
        }
        if (next != IPPROTO_ICMPV6 || off > n)
            return std::nullopt;
        w.body.assign(p + off, p + n);
        std::vector<uint8_t> pseudo(p + 8, p + 40);
        size_t len = w.body.size();
        for (int x : {0, 0, int((len >> 8) & 0xff), int(len & 0xff), 0, 0, 0, 58})
            pseudo.push_back(static_cast<uint8_t>(x));
        pseudo.insert(pseudo.end(), w.body.begin(), w.body.end());
        w.checksum_ok = plain_sum(pseudo) == 0xffff;
    } else {
        return std::nullopt;
    }
    if (w.body.size() < 4)
        return std::nullopt;
    w.type = w.body[0];
    w.code = w.body[1];
    if (!(w.type >= 0x30 && w.type <= 0x32) && !(w.type >= 151 && w.type <= 153))
        return std::nullopt;
    return w;
}

struct Capture {
    int fd = -1;
    std::vector<Wire> seen;
    ~Capture()
    {
        if (fd >= 0)
            close(fd);
    }
    bool open(unsigned ifindex)
    {
        fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
        if (fd < 0)
            return false;
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = static_cast<int>(ifindex);
        return bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) == 0;
    }
    void drain()
    {
        uint8_t buf[2048];
        for (;;) {
            sockaddr_ll from{};
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl);
            if (n <= 0)
                return;
            if (from.sll_pkttype == PACKET_OUTGOING)
                continue;
            if (auto w = parse_wire(ntohs(from.sll_protocol), buf, static_cast<size_t>(n)))
                seen.push_back(*w);
        }
    }
    size_t count(Family f, int type) const
    {
        return static_cast<size_t>(std::count_if(seen.begin(), seen.end(),
                                                 [&](const Wire& w) { return w.family == f && w.type == type; }));
    }
};

// The loop and the capture together until pred() or the limit.
template <class Pred>
void pump(EventLoop& loop, Capture& cap, Clock::duration limit, Pred pred)
{
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end && !pred()) {
        (void)loop.run_once(5ms);
        cap.drain();
    }
}

bool send_solicitation(Family f, unsigned ifindex)
{
    if (f == Family::inet) {
        int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP);
        if (s < 0)
            return false;
        ip_mreqn mreq{};
        mreq.imr_ifindex = static_cast<int>(ifindex);
        unsigned char ttl = 1;
        uint8_t ra[4] = {0x94, 4, 0, 0};
        setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
        setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, 1);
        setsockopt(s, IPPROTO_IP, IP_OPTIONS, ra, sizeof ra);
        uint8_t msg[4] = {0x31, 0, 0xce, 0xff};
        sockaddr_in to{};
        to.sin_family = AF_INET;
        inet_pton(AF_INET, "224.0.0.2", &to.sin_addr);
        bool ok = sendto(s, msg, 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 4;
        close(s);
        return ok;
    }
    int s = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (s < 0)
        return false;
    int idx = static_cast<int>(ifindex), hops = 1;
    setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
    setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
    uint8_t msg[4] = {152, 0, 0, 0};
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_scope_id = ifindex;
    inet_pton(AF_INET6, "ff02::2", &to.sin6_addr);
    bool ok = sendto(s, msg, 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 4;
    close(s);
    return ok;
}

bool has_link_local(const char* ifname)
{
    std::ifstream in("/proc/net/if_inet6");
    std::string addr, idx, plen, scope, flags, name;
    while (in >> addr >> idx >> plen >> scope >> flags >> name)
        if (name == ifname && addr.rfind("fe80", 0) == 0 && !(std::stoul(flags, nullptr, 16) & 0x40))
            return true;
    return false;
}

} // namespace

TEST(MrdiscKernel, RealSocketsOnVeth)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root";
    std::string report = in_netns([]() -> std::string {
        std::ofstream("/proc/sys/net/ipv6/conf/default/accept_dad") << "0\n";
        if (system("ip link add md0 type veth peer name md1 && ip addr add 10.9.0.1/24 dev md0 && "
                   "ip addr add 10.9.0.2/24 dev md1 && ip link set md0 up && ip link set md1 up") != 0)
            return "skip: cannot create a veth pair";
        for (int i = 0; i < 50 && !(has_link_local("md0") && has_link_local("md1")); ++i)
            usleep(100000);
        // Both ends live in this namespace: md0 must accept md1's (local)
        // source address.
        std::ofstream("/proc/sys/net/ipv4/conf/all/accept_local") << "1\n";
        std::ofstream("/proc/sys/net/ipv4/conf/md0/accept_local") << "1\n";
        unsigned i0 = if_nametoindex("md0"), i1 = if_nametoindex("md1");
        CHECK_OR_REPORT(i0 && i1, "no ifindex");
        Capture cap;
        CHECK_OR_REPORT(cap.open(i1), "packet socket");

        EventLoop loop;
        Logger log;
        log.set_level(LogLevel::none);
        MrdiscOptions o;
        o.timing.interval = 60s;
        o.timing.max_initial_interval = 50ms;
        o.robustness = 2;
        o.seed = 5;
        auto md = std::make_unique<Mrdisc>(loop, log, o);
        Interface m0;
        m0.name = *IfName::parse("md0");
        m0.index = i0;
        m0.flags = IFF_UP | IFF_MULTICAST;
        md->set_interfaces({m0});
        pump(loop, cap, 3s, [&] { return cap.count(Family::inet, 0x30) >= 3 && cap.count(Family::inet6, 151) >= 3; });
        CHECK_OR_REPORT(cap.count(Family::inet, 0x30) == 3, cat("IPv4 burst: ", cap.count(Family::inet, 0x30)));
        CHECK_OR_REPORT(cap.count(Family::inet6, 151) == 3, cat("IPv6 burst: ", cap.count(Family::inet6, 151)));
        for (const auto& w : cap.seen) {
            std::string fam(family_name(w.family));
            CHECK_OR_REPORT(w.ttl == 1, fam + " TTL/hop limit " + std::to_string(w.ttl));
            CHECK_OR_REPORT(w.router_alert, fam + " no Router Alert");
            CHECK_OR_REPORT(w.checksum_ok, fam + " bad checksum");
            CHECK_OR_REPORT(w.dst == (w.family == Family::inet ? "224.0.0.106" : "ff02::6a"), fam + " dst " + w.dst);
            CHECK_OR_REPORT(w.code == 60, fam + " code " + std::to_string(w.code));
            CHECK_OR_REPORT(w.body.size() == 8 && w.body[4] == 0 && w.body[5] == 125 && w.body[6] == 0 &&
                                w.body[7] == 2,
                            fam + " query interval / robustness");
        }
        // Solicitations from the other end are answered.
        for (Family f : {Family::inet, Family::inet6}) {
            int type = f == Family::inet ? 0x30 : 151;
            size_t before = cap.count(f, type);
            CHECK_OR_REPORT(send_solicitation(f, i1), "send solicitation");
            pump(loop, cap, 1s, [&] { return cap.count(f, type) > before; });
            CHECK_OR_REPORT(cap.count(f, type) == before + 1,
                            cat(family_name(f), " solicitation not answered (", cap.count(f, type), ")"));
        }
        // Terminations when it goes.
        md.reset();
        pump(loop, cap, 1s, [&] { return cap.count(Family::inet, 0x32) && cap.count(Family::inet6, 153); });
        CHECK_OR_REPORT(cap.count(Family::inet, 0x32) == 1, "IPv4 termination");
        CHECK_OR_REPORT(cap.count(Family::inet6, 153) == 1, "IPv6 termination");
        for (const auto& w : cap.seen)
            CHECK_OR_REPORT(w.ttl == 1 && w.router_alert && w.checksum_ok, "termination header");
        return "";
    });
    if (report.rfind("skip:", 0) == 0)
        GTEST_SKIP() << report;
    EXPECT_EQ(report, "");
}

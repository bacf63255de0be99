// runtime/events: the bus and the two renderings of an event.
#include "smcroute/runtime/events.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace smcroute;

namespace {

Event at_noon(Event ev)
{
    // 2026-12-07T12:00:00.042Z
    ev.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796644800042));
    return ev;
}

} // namespace

TEST(Events, TextLineHasTimeNameAndFields)
{
    Event ev = at_noon(Event{EventKind::learned, {}});
    ev.add("source", "10.0.0.1").add("group", "225.1.2.3").add("iif", "eth0");
    ev.add("oifs", std::vector<std::string>{"eth1", "eth2"}).add("rule", "eth0 (*, 225.1.2.0/24)");
    EXPECT_EQ(event_text(ev), "2026-12-07T12:00:00.042Z learned source=10.0.0.1 group=225.1.2.3 iif=eth0 "
                              "oifs=eth1,eth2 rule=\"eth0 (*, 225.1.2.0/24)\"");
}

TEST(Events, TextQuotesWhatWouldSplitAValue)
{
    Event ev = at_noon(Event{EventKind::reload_refused, {}});
    ev.add("error", "a \"b\" c\\d").add("empty", "").add("n", uint64_t{7}).add("none", std::vector<std::string>{});
    EXPECT_EQ(event_text(ev),
              "2026-12-07T12:00:00.042Z reload_refused error=\"a \\\"b\\\" c\\\\d\" empty=\"\" n=7 none=-");
}

TEST(Events, JsonObjectHasTypedFields)
{
    Event ev = at_noon(Event{EventKind::flushed, {}});
    ev.add("count", uint64_t{3}).add("oifs", std::vector<std::string>{"a\"b"}).add("why", "x\n");
    EXPECT_EQ(event_json(ev), "{\"time\": \"2026-12-07T12:00:00.042Z\", \"event\": \"flushed\", \"count\": 3, "
                              "\"oifs\": [\"a\\\"b\"], \"why\": \"x\\n\"}");
}

TEST(Events, EveryKindHasItsOwnName)
{
    std::set<std::string_view> names;
    for (EventKind k : all_event_kinds())
        EXPECT_TRUE(names.insert(event_name(k)).second) << event_name(k);
    EXPECT_EQ(names.size(), static_cast<size_t>(EventKind::upstream_left) + 1) << "upstream_left is the last kind";
}

TEST(Events, BusWantsEventsOnlyWithSubscribers)
{
    EventBus bus;
    EXPECT_FALSE(bus.wanted());
    bus.publish(Event{EventKind::flushed, {}}); // nobody: nothing happens
    int calls = 0;
    bus.subscribe([&](const EventLines&) {
        ++calls;
        return true;
    });
    EXPECT_TRUE(bus.wanted());
    bus.publish(Event{EventKind::flushed, {}});
    EXPECT_EQ(calls, 1);
}

TEST(Events, SubscriberThatReturnsFalseIsDropped)
{
    EventBus bus;
    std::vector<std::string> a, b;
    bus.subscribe([&](const EventLines& l) {
        a.push_back(std::string(event_name(l.event().kind)));
        return a.size() < 2;
    });
    bus.subscribe([&](const EventLines& l) {
        b.push_back(std::string(event_name(l.event().kind)));
        return true;
    });
    for (auto k : {EventKind::learned, EventKind::expired, EventKind::flushed})
        bus.publish(Event{k, {}});
    EXPECT_EQ(a, (std::vector<std::string>{"learned", "expired"}));
    EXPECT_EQ(b, (std::vector<std::string>{"learned", "expired", "flushed"}));
    EXPECT_EQ(bus.subscribers(), 1u);
}

TEST(Events, EachRenderingIsMadeOnceForAllSubscribers)
{
    EventBus bus;
    std::vector<const std::string*> texts, jsons;
    for (int i = 0; i < 3; ++i)
        bus.subscribe([&](const EventLines& l) {
            texts.push_back(&l.text());
            jsons.push_back(&l.json());
            return true;
        });
    bus.publish(Event{EventKind::expired, {}});
    ASSERT_EQ(texts.size(), 3u);
    EXPECT_EQ(texts[0], texts[1]);
    EXPECT_EQ(texts[1], texts[2]);
    EXPECT_EQ(jsons[0], jsons[2]);
}

TEST(Events, PublishingFromASubscriberIsIgnored)
{
    EventBus bus;
    int calls = 0;
    bus.subscribe([&](const EventLines&) {
        ++calls;
        bus.publish(Event{EventKind::flushed, {}});
        return true;
    });
    bus.publish(Event{EventKind::learned, {}});
    EXPECT_EQ(calls, 1);
}

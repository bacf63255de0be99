// Unit tests for show status (runtime/show_status.cpp) and show metrics
// (runtime/metrics): text and JSON of status byte for byte, the Prometheus
// exposition's families, label escaping and its series limit, over a Router
// on a fake kernel and a GroupManager on a fake membership kernel.
#include "fake_kernel.hpp"
#include "fake_membership.hpp"
#include "recording_reply.hpp"

#include "smcroute/model/commands.hpp"
#include "smcroute/runtime/metrics.hpp"
#include "smcroute/runtime/show.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace smcroute {
namespace {

Interface st_iface(std::string_view name, unsigned index)
{
    Interface i;
    i.name = IfName::parse(name).value();
    i.index = index;
    i.flags = IFF_UP | IFF_MULTICAST;
    return i;
}

IpAddr ip(const char* text)
{
    return IpAddr::parse(text).value();
}

using Collect = test::RecordingReply;

DaemonStatus facts()
{
    DaemonStatus d;
    d.version = "9.8.7";
    d.pid = 4242;
    d.started_unix = 1796644800; // 2026-12-07T12:00:00Z
    d.uptime_seconds = 90061;    // 1d01h, to the second in parentheses
    d.ident = "edge";
    d.table = 7;
    d.config_file = "/etc/edge.conf";
    d.last_load.outcome = ConfigLoad::Outcome::refused;
    d.last_load.at_unix = 1796648400;
    d.last_load.errors = 7;
    for (int i = 1; i <= 7; ++i)
        d.last_load.note_error(cat("/etc/edge.conf:", i, ": error: bad line ", i));
    d.reloads_done = 3;
    d.reloads_refused = 1;
    d.ipc = IpcStats{12, 2, 30};
    d.ipc_clients = 1;
    d.max_learned = 100;
    return d;
}

class ShowStatusTest : public ::testing::Test {
protected:
    ShowStatusTest()
    {
        log.set_level(LogLevel::none);
        router.set_interfaces({st_iface("eth0", 1), st_iface("eth1", 2), st_iface("eth2", 3)});
        groups.set_interfaces(router.interfaces());
    }

    Collect run(std::vector<std::string> args, uint32_t flags = 0, bool with_status = true)
    {
        Request req;
        req.flags = flags;
        req.args = std::move(args);
        Collect reply;
        ShowSources from{router, &groups, widths, nullptr, with_status ? std::function<DaemonStatus()>(facts) : nullptr,
                         limit};
        show(from, req, reply);
        EXPECT_EQ(reply.ends, 1);
        return reply;
    }

    void add(std::vector<std::string_view> words, Origin origin = Origin::config)
    {
        RouteText t{words[0], words[1], words[2], {words.begin() + 3, words.end()}};
        auto c = check_route(t);
        ASSERT_TRUE(c.value) << words[2];
        ASSERT_TRUE(router.add(*c.value, origin));
    }

    void learn(const char* source, const char* group, unsigned ifindex = 1)
    {
        Upcall up;
        up.kind = Upcall::Kind::nocache;
        up.vif = *router.vif_of(ip(group).family(), ifindex);
        up.source = ip(source);
        up.group = ip(group);
        router.handle_upcall(ip(group).family(), up);
    }

    // A config like a small site's: a static route, a pending one, a rule
    // with two learned entries, a stop filter, joins of both families.
    void populate()
    {
        add({"eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"});
        add({"nosuch", "10.0.0.2", "225.1.2.4", "eth1"});
        add({"eth0", "", "225.4.4.0/24", "eth1"});
        learn("10.0.0.9", "225.4.4.1");
        learn("10.0.0.8", "225.4.4.2");
        learn("10.0.0.7", "225.9.9.9"); // no rule: a stop filter
        k4.canned_counters[{ip("10.0.0.9"), ip("225.4.4.1")}] = MfcCounters{10, 1000, 1};
        k4.canned_counters[{ip("10.0.0.8"), ip("225.4.4.2")}] = MfcCounters{5, 500, 0};
        k4.canned_counters[{ip("10.0.0.1"), ip("225.1.2.3")}] = MfcCounters{7, 700, 2};
        ASSERT_TRUE(groups.add(check_join(JoinText{"eth1", "", "225.5.5.5"}).value.value(), Origin::config));
        ASSERT_TRUE(groups.add(check_join(JoinText{"eth1", "", "ff0e::5"}).value.value(), Origin::config));
        ASSERT_TRUE(groups.add(check_join(JoinText{"nosuch", "", "ff0e::6"}).value.value(), Origin::config));
    }

    Logger log;
    test::FakeKernel k4{Family::inet};
    test::FakeKernel k6{Family::inet6};
    Router router{log, &k4, &k6};
    test::FakeMembership membership;
    GroupManager groups{log, membership};
    std::array<ShowWidths, 2> widths;
    size_t limit = metrics_series_limit;
};

TEST_F(ShowStatusTest, TextIsGroupedAndAligned)
{
    populate();
    auto r = run({"show", "status"});
    EXPECT_EQ(r.status, 0u) << r.message;
    EXPECT_EQ(r.all(), "daemon\n"
                       "  version:               9.8.7\n"
                       "  pid:                   4242\n"
                       "  started:               2026-12-07T12:00:00Z\n"
                       "  uptime:                1d01h (90061 s)\n"
                       "  identity:              edge\n"
                       "  table:                 7\n"
                       "config\n"
                       "  file:                  /etc/edge.conf\n"
                       "  last load:             2026-12-07T13:00:00Z, refused: 7 error(s), the running config stays\n"
                       "  error:                 /etc/edge.conf:1: error: bad line 1\n"
                       "  error:                 /etc/edge.conf:2: error: bad line 2\n"
                       "  error:                 /etc/edge.conf:3: error: bad line 3\n"
                       "  error:                 /etc/edge.conf:4: error: bad line 4\n"
                       "  error:                 /etc/edge.conf:5: error: bad line 5\n"
                       "  error:                 (2 more)\n"
                       "  reloads done:          3\n"
                       "  reloads refused:       1\n"
                       "routes\n"
                       "  static routes:         2\n"
                       "  rules:                 1\n"
                       "  learned entries:       2\n"
                       "  stop filters:          1\n"
                       "  proxy entries:         0\n"
                       "  pending routes:        1\n"
                       "  max learned:           100\n"
                       "  VIFs used:             3 of 32\n"
                       "  MIFs used:             0 of 32\n"
                       "joins\n"
                       "  IPv4:                  1 active, 0 pending\n"
                       "  IPv6:                  1 active, 1 pending\n"
                       "upcalls\n"
                       "  received:              3\n"
                       "  installed from rules:  2\n"
                       "  kernel drops:          0\n"
                       "  refused (max learned): 0\n"
                       "clients\n"
                       "  served:                12\n"
                       "  refused:               2\n"
                       "  requests:              30\n"
                       "  connected:             1\n");
}

TEST_F(ShowStatusTest, JsonIsOneObject)
{
    populate();
    auto r = run({"show", "status"}, req_json);
    EXPECT_EQ(r.status, 0u) << r.message;
    EXPECT_EQ(r.all(),
              "{\"status\": {\"version\": \"9.8.7\", \"pid\": 4242, \"started\": \"2026-12-07T12:00:00Z\", "
              "\"started_unix\": 1796644800, \"uptime_seconds\": 90061, \"identity\": \"edge\", \"table\": 7, "
              "\"config\": {\"file\": \"/etc/edge.conf\", \"result\": \"refused\", \"loaded\": "
              "\"2026-12-07T13:00:00Z\", \"loaded_unix\": 1796648400, \"errors\": 7, \"first_errors\": "
              "[\"/etc/edge.conf:1: error: bad line 1\", \"/etc/edge.conf:2: error: bad line 2\", "
              "\"/etc/edge.conf:3: error: bad line 3\", \"/etc/edge.conf:4: error: bad line 4\", "
              "\"/etc/edge.conf:5: error: bad line 5\"]}, \"reloads\": {\"done\": 3, \"refused\": 1}, "
              "\"routes\": {\"static\": 2, \"rules\": 1, \"learned\": 2, \"stop_filters\": 1, \"proxy\": 0, \"pending\": 1, "
              "\"max_learned\": 100}, \"vifs\": {\"inet\": 3, \"inet6\": 0, \"max\": 32}, \"joins\": {\"inet\": "
              "{\"active\": 1, \"pending\": 0}, \"inet6\": {\"active\": 1, \"pending\": 1}}, \"upcalls\": "
              "{\"received\": 3, \"installed_from_rules\": 2, \"kernel_dropped\": 0, \"refused_max_learned\": 0}, "
              "\"clients\": {\"served\": 12, \"refused\": 2, \"requests\": 30, \"connected\": 1}}}\n");
}

TEST_F(ShowStatusTest, CountersFollowTheRouter)
{
    add({"eth0", "", "225.4.4.0/24", "eth1"});
    router.set_max_learned(1);
    learn("10.0.0.9", "225.4.4.1");
    learn("10.0.0.8", "225.4.4.2"); // past --max-learned: refused
    k4.stats.dropped = 17;
    auto r = run({"show", "status"}, req_json);
    EXPECT_NE(r.all().find("\"upcalls\": {\"received\": 2, \"installed_from_rules\": 1, \"kernel_dropped\": 17, "
                           "\"refused_max_learned\": 1}"),
              std::string::npos)
        << r.all();
}

TEST_F(ShowStatusTest, ProxyEntriesAreCountedApart)
{
    struct Fwd final : ProxyForwarding {
        std::vector<IfName> proxy_oifs(std::string_view, const SgKey&) const override
        {
            return {IfName::parse("eth1").value()};
        }
    } fwd;
    router.set_proxy(Family::inet, IfName::parse("eth0").value(), {IfName::parse("eth1").value()}, &fwd);
    add({"eth0", "", "225.4.4.0/24", "eth2"});
    learn("10.0.0.9", "225.4.4.1"); // the rule's
    learn("10.0.0.9", "239.1.1.1"); // the proxy's
    learn("10.0.0.8", "239.1.1.1");
    auto j = run({"show", "status"}, req_json).all();
    EXPECT_NE(j.find("\"learned\": 1, \"stop_filters\": 0, \"proxy\": 2,"), std::string::npos) << j;
    auto t = run({"show", "status"}).all();
    EXPECT_NE(t.find("  proxy entries:         2\n"), std::string::npos) << t;
    auto m = run({"show", "metrics"}).all();
    EXPECT_NE(m.find("\nsmcroute_proxy_entries 2\n"), std::string::npos) << m;
    EXPECT_NE(m.find("# TYPE smcroute_proxy_entries gauge\n"), std::string::npos) << m;
    EXPECT_NE(m.find("smcroute_route_packets_total{iif=\"eth0\",source=\"10.0.0.8\",group=\"239.1.1.1\",kind=\"proxy\"} 0"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("\nsmcroute_learned_routes 1\n"), std::string::npos) << m;
    router.set_proxy(Family::inet, std::nullopt, {}, nullptr); // before fwd goes
}

TEST_F(ShowStatusTest, NotLoadedYetAndNoDaemonFacts)
{
    auto none = run({"show", "status"}, 0, false);
    EXPECT_EQ(none.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_EQ(none.message, "show status: the daemon's status is not available");
    EXPECT_TRUE(none.rows.empty());
    auto m = run({"show", "metrics"}, 0, false);
    EXPECT_EQ(m.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_TRUE(m.rows.empty());
    auto extra = run({"show", "status", "x"});
    EXPECT_EQ(extra.status, static_cast<uint32_t>(exit_code::usage));
    EXPECT_EQ(extra.message, "show status takes no further arguments");
}

TEST_F(ShowStatusTest, ConfigErrorsAreBounded)
{
    ConfigLoad load;
    for (int i = 0; i < 100; ++i)
        load.note_error(std::string(1000, 'x'));
    ASSERT_EQ(load.first.size(), status_max_errors);
    ConfigLoad two_lines;
    two_lines.note_error("f:1:1: error: bad\n  the line\n  ^");
    EXPECT_EQ(two_lines.first, std::vector<std::string>{"f:1:1: error: bad"});
    for (const auto& e : load.first) {
        EXPECT_EQ(e.size(), status_max_error_bytes);
        EXPECT_TRUE(e.ends_with("..."));
    }
}

// The families of an exposition: name -> TYPE, and the sample lines of each,
// checking the format's rules on the way: HELP then TYPE once per family,
// its samples right after, nothing else.
struct Exposition {
    std::map<std::string, std::string> types;
    std::map<std::string, std::vector<std::string>> samples;
};

Exposition parse(const std::vector<std::string>& lines)
{
    Exposition e;
    std::string current;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        if (l.starts_with("# HELP ")) {
            std::string name = l.substr(7, l.find(' ', 7) - 7);
            EXPECT_FALSE(e.types.contains(name)) << "family twice: " << name;
            EXPECT_TRUE(i + 1 < lines.size() && lines[i + 1].starts_with("# TYPE " + name + " ")) << l;
            current = name;
            continue;
        }
        if (l.starts_with("# TYPE ")) {
            std::string rest = l.substr(7);
            std::string name = rest.substr(0, rest.find(' '));
            EXPECT_EQ(name, current);
            e.types[name] = rest.substr(rest.find(' ') + 1);
            continue;
        }
        std::string name = l.substr(0, l.find_first_of("{ "));
        EXPECT_EQ(name, current) << "sample outside its family: " << l;
        e.samples[name].push_back(l);
    }
    return e;
}

TEST_F(ShowStatusTest, MetricsFamiliesAndValues)
{
    populate();
    auto r = run({"show", "metrics"});
    EXPECT_EQ(r.status, 0u) << r.message;
    Exposition e = parse(r.rows);
    for (const auto& [name, type] : e.types) {
        EXPECT_TRUE(name.starts_with("smcroute_")) << name;
        EXPECT_EQ(name.ends_with("_total"), type == "counter") << name;
        EXPECT_TRUE(type == "counter" || type == "gauge") << name;
    }
    auto has = [&](const std::string& name, const std::string& sample) {
        const auto& s = e.samples[name];
        return std::find(s.begin(), s.end(), sample) != s.end();
    };
    EXPECT_TRUE(has("smcroute_build_info", "smcroute_build_info{version=\"9.8.7\"} 1"));
    EXPECT_TRUE(has("smcroute_start_time_seconds", "smcroute_start_time_seconds 1796644800"));
    EXPECT_TRUE(has("smcroute_config_last_load_success", "smcroute_config_last_load_success 0"));
    EXPECT_TRUE(has("smcroute_reloads_refused_total", "smcroute_reloads_refused_total 1"));
    EXPECT_TRUE(has("smcroute_learned_routes", "smcroute_learned_routes 2"));
    EXPECT_TRUE(has("smcroute_joins", "smcroute_joins{family=\"inet6\",state=\"pending\"} 1"));
    EXPECT_TRUE(has("smcroute_vifs_used", "smcroute_vifs_used{family=\"inet\"} 3"));
    EXPECT_TRUE(has("smcroute_upcalls_received_total", "smcroute_upcalls_received_total 3"));
    EXPECT_TRUE(has("smcroute_ipc_clients_refused_total", "smcroute_ipc_clients_refused_total 2"));
    // The rule: its two learned entries summed.
    const std::string rule = "{iif=\"eth0\",source=\"*\",group=\"225.4.4.0/24\"}";
    EXPECT_TRUE(has("smcroute_rule_learned_routes", "smcroute_rule_learned_routes" + rule + " 2"));
    EXPECT_TRUE(has("smcroute_rule_learned_packets", "smcroute_rule_learned_packets" + rule + " 15"));
    EXPECT_TRUE(has("smcroute_rule_learned_bytes", "smcroute_rule_learned_bytes" + rule + " 1500"));
    // Routes in the kernel, with their counters; the pending one has none.
    EXPECT_TRUE(has("smcroute_route_packets_total",
                    "smcroute_route_packets_total{iif=\"eth0\",source=\"10.0.0.1\",group=\"225.1.2.3\",kind=\"route\"} 7"));
    EXPECT_TRUE(has("smcroute_route_wrong_interface_packets_total",
                    "smcroute_route_wrong_interface_packets_total{iif=\"eth0\",source=\"10.0.0.9\",group=\"225.4.4.1\","
                    "kind=\"learned\"} 1"));
    EXPECT_TRUE(has("smcroute_route_bytes_total",
                    "smcroute_route_bytes_total{iif=\"eth0\",source=\"10.0.0.7\",group=\"225.9.9.9\",kind=\"stop\"} 0"));
    EXPECT_EQ(e.samples["smcroute_route_packets_total"].size(), 4u); // 1 static, 2 learned, 1 stop
    EXPECT_TRUE(has("smcroute_metrics_routes_omitted", "smcroute_metrics_routes_omitted 0"));
}

// -j: the same families and samples as JSON, one row a family.
TEST_F(ShowStatusTest, MetricsJsonHasTheSameSamples)
{
    populate();
    auto text = run({"show", "metrics"});
    auto json = run({"show", "metrics"}, req_json);
    ASSERT_EQ(json.status, 0u) << json.message;
    Exposition e = parse(text.rows);
    ASSERT_GE(json.rows.size(), 2u);
    EXPECT_EQ(json.rows.front(), "{\"metrics\": [");
    EXPECT_EQ(json.rows.back(), "]}");
    EXPECT_EQ(json.rows.size(), e.types.size() + 2) << "one row a family";
    size_t samples = 0, values = 0;
    for (const auto& [name, lines] : e.samples)
        samples += lines.size();
    const std::string all = json.all();
    for (size_t p = all.find("\"value\": "); p != std::string::npos; p = all.find("\"value\": ", p + 1))
        ++values;
    EXPECT_EQ(values, samples) << all;
    for (const auto& [name, type] : e.types)
        EXPECT_NE(all.find(cat("{\"name\": \"", name, "\", \"type\": \"", type, "\", \"help\": ")),
                  std::string::npos)
            << name;
    EXPECT_NE(all.find("{\"labels\": {\"iif\": \"eth0\", \"source\": \"*\", \"group\": \"225.4.4.0/24\"}, "
                       "\"value\": 15}"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("{\"name\": \"smcroute_learned_routes\", \"type\": \"gauge\", \"help\": \"Kernel entries "
                       "learned from rules\", \"samples\": [{\"labels\": {}, \"value\": 2}]}"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("{\"labels\": {\"family\": \"inet6\", \"state\": \"pending\"}, \"value\": 1}"),
              std::string::npos)
        << all;
}

TEST_F(ShowStatusTest, MetricsSeriesAreLimited)
{
    limit = 3;
    for (int i = 0; i < 10; ++i)
        add({"eth0", "10.0.0.1", cat("225.1.2.", i).c_str(), "eth1"});
    for (int i = 0; i < 5; ++i)
        add({"eth1", "", cat("225.7.", i, ".0/24").c_str(), "eth2"});
    auto r = run({"show", "metrics"});
    Exposition e = parse(r.rows);
    EXPECT_EQ(e.samples["smcroute_route_packets_total"].size(), 3u);
    EXPECT_EQ(e.samples["smcroute_route_bytes_total"].size(), 3u);
    EXPECT_EQ(e.samples["smcroute_rule_learned_routes"].size(), 3u);
    EXPECT_EQ(e.samples["smcroute_metrics_routes_omitted"], std::vector<std::string>{"smcroute_metrics_routes_omitted 7"});
    EXPECT_EQ(e.samples["smcroute_metrics_rules_omitted"], std::vector<std::string>{"smcroute_metrics_rules_omitted 2"});
    EXPECT_EQ(e.samples["smcroute_metrics_series_limit"], std::vector<std::string>{"smcroute_metrics_series_limit 3"});
    // The first routes in show routes order (by group).
    EXPECT_NE(e.samples["smcroute_route_packets_total"][0].find("group=\"225.1.2.0\""), std::string::npos);
}

TEST_F(ShowStatusTest, MetricsLabelValuesAreEscaped)
{
    EXPECT_EQ(prometheus_label_value("plain"), "plain");
    EXPECT_EQ(prometheus_label_value("q\"x\\y"), "q\\\"x\\\\y");
    EXPECT_EQ(prometheus_label_value("a\nb"), "a\\\\x0ab"); // a control byte: \x0a, its backslash escaped
    EXPECT_EQ(prometheus_label_value("c\001z"), "c\\\\x01z");
    EXPECT_EQ(prometheus_label_value("\xff"), "\\\\xff"); // not UTF-8
    EXPECT_EQ(prometheus_label_value("caf\xc3\xa9"), "caf\xc3\xa9");
    // Through the renderer: an interface whose name holds a quote and a backslash.
    router.set_interfaces({st_iface("q\"x\\y", 1), st_iface("eth1", 2)});
    add({"q\"x\\y", "10.0.0.1", "225.1.2.3", "eth1"});
    auto r = run({"show", "metrics"});
    EXPECT_NE(r.all().find("smcroute_route_packets_total{iif=\"q\\\"x\\\\y\",source=\"10.0.0.1\""),
              std::string::npos)
        << r.all();
    // In JSON the value is the name itself, JSON-escaped.
    auto j = run({"show", "metrics"}, req_json);
    EXPECT_NE(j.all().find("{\"iif\": \"q\\\"x\\\\y\", \"source\": \"10.0.0.1\""), std::string::npos) << j.all();
}

} // namespace
} // namespace smcroute

// Unit tests for runtime/control: one IPC request at a time against a Router
// on a fake kernel. Checks permissions, validation messages, and `show` output
// as text and JSON.
#include "fake_kernel.hpp"
#include "recording_reply.hpp"

#include "smcroute/model/commands.hpp"
#include "smcroute/runtime/control.hpp"
#include "smcroute/runtime/groups.hpp"

#include <gtest/gtest.h>
#include <net/if.h>

#include <cctype>
#include <map>
#include <string>
#include <vector>

namespace smcroute {
namespace {

using test::FakeKernel;

Interface ctl_iface(std::string_view name, unsigned index)
{
    Interface i;
    i.name = IfName::parse(name).value();
    i.index = index;
    i.flags = IFF_UP | IFF_MULTICAST;
    return i;
}

using test::RecordingReply;

// Minimal JSON check: strings are well formed, brackets balance and nest
// correctly, and nothing but whitespace follows the top-level value.
bool json_well_formed(const std::string& text, std::string& why)
{
    std::string stack;
    bool in_string = false, started = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') {
                if (++i >= text.size()) {
                    why = "dangling escape";
                    return false;
                }
            } else if (c == '"') {
                in_string = false;
            } else if (static_cast<unsigned char>(c) < 0x20) {
                why = cat("control character in string at ", i);
                return false;
            }
            continue;
        }
        if (started && stack.empty() && !std::isspace(static_cast<unsigned char>(c))) {
            why = cat("text after the top-level value at ", i);
            return false;
        }
        switch (c) {
        case '"': in_string = true; break;
        case '{': stack += '}'; started = true; break;
        case '[': stack += ']'; started = true; break;
        case '}':
        case ']':
            if (stack.empty() || stack.back() != c) {
                why = cat("unbalanced '", c, "' at ", i);
                return false;
            }
            stack.pop_back();
            break;
        default: break;
        }
    }
    if (in_string || !stack.empty() || !started) {
        why = "unterminated";
        return false;
    }
    return true;
}

size_t count(const std::string& hay, const std::string& needle)
{
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1))
        ++n;
    return n;
}

class ControlTest : public ::testing::Test {
protected:
    ControlTest()
    {
        log.set_level(LogLevel::none);
        router.set_interfaces({ctl_iface("eth0", 1), ctl_iface("eth1", 2), ctl_iface("eth2", 3)});
        root.may_change_state = true;
        user.uid = 1000;
        user.may_change_state = false;
    }

    RecordingReply run(std::vector<std::string> args, const Peer& peer, uint32_t flags = 0)
    {
        Request req;
        req.flags = flags;
        req.args = std::move(args);
        RecordingReply reply;
        control.handle(req, peer, reply);
        EXPECT_EQ(reply.ends, 1) << "exactly one end frame";
        return reply;
    }
    RecordingReply run(std::vector<std::string> args, uint32_t flags = 0) { return run(std::move(args), root, flags); }

    Logger log;
    FakeKernel k4{Family::inet};
    FakeKernel k6{Family::inet6};
    ManualClock clock; // ages in show -d are exact
    Router router{log, &k4, &k6, &clock};
    int kills = 0, reloads = 0, dry_runs = 0;
    Status reload_result;
    Control::Hooks::DryRun dry_run_result{0, {"+ mroute from eth0 group 225.1.1.1 to eth1", "1 change"}, ""};
    bool dry_run_json = false;
    Config running_config;
    Control control{router, log,
                    Control::Hooks{[this] { ++kills; },
                                   [this] {
                                       ++reloads;
                                       return reload_result;
                                   },
                                   [] { return std::string("smcroute test-version"); },
                                   [this](bool json) {
                                       ++dry_runs;
                                       dry_run_json = json;
                                       return dry_run_result;
                                   },
                                   [this] { return &running_config; }}};
    Peer root, user;
};

TEST_F(ControlTest, UnprivilegedPeerMayOnlyLook)
{
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1"}).status, 0u);
    const auto mfc_before = k4.mfc.size();

    const std::vector<std::vector<std::string>> changing = {
        {"add", "eth0", "10.0.0.2", "225.1.2.3", "eth1"},
        {"remove", "eth0", "10.0.0.1", "225.1.2.3"},
        {"flush"},
        {"reload"},
        {"kill"},
    };
    for (const auto& args : changing) {
        auto r = run(args, user);
        EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::permission)) << args[0];
        EXPECT_EQ(r.message, args[0] + ": permission denied (only root or members of the socket group may change state)");
        EXPECT_TRUE(r.rows.empty());
    }
    EXPECT_EQ(kills, 0);
    EXPECT_EQ(reloads, 0);
    EXPECT_EQ(k4.mfc.size(), mfc_before);
    EXPECT_EQ(router.static_count(), 1u);

    auto show = run({"show"}, user);
    EXPECT_EQ(show.status, 0u);
    EXPECT_NE(show.all().find("(10.0.0.1, 225.1.2.3)"), std::string::npos) << show.all();
    EXPECT_EQ(run({"show", "interfaces"}, user).status, 0u);
    auto ver = run({"version"}, user);
    EXPECT_EQ(ver.status, 0u);
    ASSERT_EQ(ver.rows.size(), 1u);
    EXPECT_EQ(ver.rows[0], "smcroute test-version");
}

TEST_F(ControlTest, AddProgramsTheKernel)
{
    auto r = run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"});
    EXPECT_EQ(r.status, 0u) << r.message;
    EXPECT_EQ(router.static_count(), 1u);
    auto* e = k4.find(*IpAddr::parse("10.0.0.1"), *IpAddr::parse("225.1.2.3"));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->oif_vifs().size(), 2u);
    // Without a source: a (*,G) rule, nothing in the kernel yet.
    r = run({"add", "eth0", "225.4.4.4", "eth1"});
    EXPECT_EQ(r.status, 0u) << r.message;
    EXPECT_EQ(router.rule_count(), 1u);
    EXPECT_EQ(k4.mfc.size(), 1u);
}

TEST_F(ControlTest, AddWithUnknownInterfaceFails)
{
    auto r = run({"add", "eth0", "10.0.0.1", "225.1.2.3", "x"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_NE(r.message.find("no such interface 'x'"), std::string::npos) << r.message;
    r = run({"add", "nope0", "10.0.0.1", "225.1.2.3", "eth1"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_NE(r.message.find("no such interface 'nope0'"), std::string::npos) << r.message;
    EXPECT_EQ(router.static_count(), 0u);
    EXPECT_TRUE(k4.mfc.empty());
    EXPECT_TRUE(k4.vifs.empty());
}

TEST_F(ControlTest, AddWithBadGroupGivesTheValidatorsMessage)
{
    auto expected = check_route(RouteText{"eth0", "10.0.0.1", "10.1.2.3", {"eth1"}});
    ASSERT_FALSE(expected.value);
    ASSERT_FALSE(expected.issues.empty());
    auto r = run({"add", "eth0", "10.0.0.1", "10.1.2.3", "eth1"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_NE(r.message.find(expected.issues.front().message), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("10.1.2.3"), std::string::npos) << r.message;
    EXPECT_EQ(router.static_count(), 0u);

    r = run({"add", "eth0", "10.0.0.1", "225.1.2.3/33", "eth1"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed)) << r.message;
    EXPECT_TRUE(k4.mfc.empty());
}

TEST_F(ControlTest, AddConflictNamesFirstIif)
{
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1"}).status, 0u);
    auto r = run({"add", "eth2", "10.0.0.1", "225.1.2.3", "eth1"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_NE(r.message.find("eth0"), std::string::npos) << r.message;
}

TEST_F(ControlTest, AddTooFewWordsIsUsage)
{
    auto r = run({"add", "eth0"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::usage)) << r.message;
    r = run({"remove", "eth0"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::usage)) << r.message;
}

TEST_F(ControlTest, RemoveWholeRouteOrSomeOifs)
{
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"}).status, 0u);
    auto r = run({"remove", "eth0", "10.0.0.1", "225.1.2.3", "eth1"});
    EXPECT_EQ(r.status, 0u) << r.message;
    auto* e = k4.find(*IpAddr::parse("10.0.0.1"), *IpAddr::parse("225.1.2.3"));
    ASSERT_TRUE(e);
    ASSERT_EQ(e->oif_vifs().size(), 1u);
    EXPECT_EQ(k4.vifs.at(e->oif_vifs()[0]).ifindex, 3u); // eth2

    r = run({"remove", "eth0", "10.0.0.1", "225.1.2.3"});
    EXPECT_EQ(r.status, 0u) << r.message;
    EXPECT_TRUE(k4.mfc.empty());

    r = run({"remove", "eth0", "10.0.0.1", "225.1.2.3"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_NE(r.message.find("(10.0.0.1, 225.1.2.3)"), std::string::npos) << r.message;
}

// add without OIFs: a stop filter, as SMCRoute 2.x's 'add IIF SOURCE GROUP'.
TEST_F(ControlTest, AddWithoutOifsIsAStopFilter)
{
    auto r = run({"add", "eth0", "10.0.0.1", "225.1.2.3"});
    ASSERT_EQ(r.status, 0u) << r.message;
    EXPECT_EQ(r.message, "");
    auto* e = k4.find(*IpAddr::parse("10.0.0.1"), *IpAddr::parse("225.1.2.3"));
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->oif_vifs().empty());
    EXPECT_EQ(k4.vifs.at(e->iif_vif).ifindex, 1u); // eth0
    // Again: nothing changes. With OIFs: it forwards; then an add without
    // OIFs is refused (it would change nothing) and says what to do.
    EXPECT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3"}).status, 0u);
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1"}).status, 0u);
    e = k4.find(*IpAddr::parse("10.0.0.1"), *IpAddr::parse("225.1.2.3"));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->oif_vifs().size(), 1u);
    r = run({"add", "eth0", "10.0.0.1", "225.1.2.3"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_EQ(r.message, "add: route (10.0.0.1, 225.1.2.3) from eth0 has outbound interfaces (eth1); to make it a "
                         "stop filter, remove them: remove eth0 10.0.0.1 225.1.2.3 eth1");
    EXPECT_EQ(e->oif_vifs().size(), 1u);
    ASSERT_EQ(run({"remove", "eth0", "10.0.0.1", "225.1.2.3", "eth1"}).status, 0u);
    e = k4.find(*IpAddr::parse("10.0.0.1"), *IpAddr::parse("225.1.2.3"));
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->oif_vifs().empty());
    ASSERT_EQ(run({"remove", "eth0", "10.0.0.1", "225.1.2.3"}).status, 0u);
    EXPECT_TRUE(k4.mfc.empty());

    // (*,G) without OIFs: a rule whose learned entries forward nowhere.
    r = run({"add", "eth0", "225.1.2.4"});
    ASSERT_EQ(r.status, 0u) << r.message;
    EXPECT_TRUE(k4.mfc.empty()); // a rule: nothing until traffic comes
    ASSERT_EQ(run({"add", "eth0", "*", "225.1.2.4", "eth2"}).status, 0u);
    r = run({"add", "eth0", "0.0.0.0", "225.1.2.4"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_NE(r.message.find("rule (*, 225.1.2.4) from eth0 has outbound interfaces (eth2)"), std::string::npos)
        << r.message;
}

TEST_F(ControlTest, VerbsOnTheWireAreCanonical)
{
    EXPECT_EQ(run({"frobnicate"}).status, static_cast<uint32_t>(exit_code::usage));
    EXPECT_EQ(run({}).status, static_cast<uint32_t>(exit_code::usage));
    // The client expands abbreviations; the daemon only takes full names.
    EXPECT_EQ(run({"sh"}).status, static_cast<uint32_t>(exit_code::usage));
    EXPECT_EQ(run({"show", "bogus"}).status, static_cast<uint32_t>(exit_code::usage));
}

TEST_F(ControlTest, EveryVerbReachesItsHandler)
{
    for (const auto& v : all_verbs()) {
        auto r = run({std::string(v.name)});
        EXPECT_EQ(r.message.find("unknown command"), std::string::npos) << v.name << ": " << r.message;
    }
    EXPECT_EQ(kills, 1);
    EXPECT_EQ(reloads, 1);
}

TEST_F(ControlTest, ArityIsTheVerbTables)
{
    // The daemon checks what the client checks, with the same words.
    const std::vector<std::vector<std::string>> bad = {
        {"add", "eth0"}, {"remove", "eth0"}, {"join", "eth0"},
        {"leave", "eth0", "10.0.0.1", "225.1.2.3", "x"}, {"flush", "now"}, {"version", "x"},
        {"help", "a", "b"}, {"check", "eth0"},
    };
    for (const auto& args : bad) {
        auto r = run(args);
        EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::usage)) << args[0];
        auto want = check_arity(verb_info(*match_verb(args[0])), args.size() - 1);
        ASSERT_FALSE(want.ok()) << args[0];
        EXPECT_EQ(r.message, want.error().message);
    }
}

TEST_F(ControlTest, ReloadAndKillCallTheirHooks)
{
    auto r = run({"reload"});
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(reloads, 1);
    reload_result = fail("smcroute.conf:3:1: error: bad");
    r = run({"reload"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::failed));
    EXPECT_NE(r.message.find("smcroute.conf:3:1"), std::string::npos) << r.message;
    EXPECT_EQ(reloads, 2);
    EXPECT_EQ(kills, 0);
    r = run({"kill"});
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(kills, 1);
}

TEST_F(ControlTest, ReloadDryRunAnswersFromItsHookAndReloadsNothing)
{
    auto r = run({"reload", "--dry-run"});
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(r.rows, dry_run_result.rows);
    EXPECT_EQ(dry_runs, 1);
    EXPECT_FALSE(dry_run_json);
    run({"reload", "--dry-run"}, req_json);
    EXPECT_TRUE(dry_run_json);
    dry_run_result = {exit_code::config, {}, "a.conf:3:1: error: bad"};
    r = run({"reload", "--dry-run"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::config));
    EXPECT_EQ(r.message, "a.conf:3:1: error: bad");
    EXPECT_EQ(reloads, 0);
    // Any other word is refused, and neither hook runs.
    r = run({"reload", "-x"});
    EXPECT_EQ(r.status, static_cast<uint32_t>(exit_code::usage));
    EXPECT_EQ(r.message, "reload: unexpected '-x' (expected --dry-run)");
    EXPECT_EQ(dry_runs, 3);
    EXPECT_EQ(reloads, 0);
    // It is still reload: only those who may change state may ask.
    EXPECT_EQ(run({"reload", "--dry-run"}, user).status, static_cast<uint32_t>(exit_code::permission));
    EXPECT_EQ(dry_runs, 3);
}

TEST_F(ControlTest, FlushRemovesLearnedEntries)
{
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1"}).status, 0u);
    ASSERT_EQ(run({"add", "eth0", "225.4.4.4", "eth1"}).status, 0u);
    Upcall up;
    up.kind = Upcall::Kind::nocache;
    up.vif = *router.vif_of(Family::inet, 1);
    up.source = *IpAddr::parse("10.0.0.9");
    up.group = *IpAddr::parse("225.4.4.4");
    router.handle_upcall(Family::inet, up);
    ASSERT_EQ(k4.mfc.size(), 2u);
    EXPECT_EQ(run({"flush"}).status, 0u);
    EXPECT_EQ(k4.mfc.size(), 1u);
    EXPECT_EQ(router.dynamic_count(), 0u);
}

TEST_F(ControlTest, ShowRoutesText)
{
    auto empty = run({"show", "routes"});
    EXPECT_EQ(empty.status, 0u);
    ASSERT_EQ(empty.rows.size(), 1u);
    EXPECT_EQ(empty.rows[0], "No routes.");

    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"}).status, 0u);
    ASSERT_EQ(run({"add", "eth0", "225.4.4.0/24", "eth1"}).status, 0u);

    auto plain = run({"show"});
    EXPECT_EQ(plain.status, 0u);
    ASSERT_EQ(plain.rows.size(), 2u) << plain.all();
    for (const auto& row : plain.rows) {
        EXPECT_EQ(row.find("ROUTE"), std::string::npos) << "no headings without the flag";
        EXPECT_FALSE(row.empty() || row.back() == ' ') << "'" << row << "'";
    }
    auto with = run({"show", "routes"}, req_headings);
    ASSERT_EQ(with.rows.size(), 3u) << with.all();
    const std::string& h = with.rows[0];
    EXPECT_EQ(h.rfind("ROUTE (S,G)", 0), 0u) << h;
    for (const char* col : {"IIF", "STATE", "OIFS"})
        EXPECT_NE(h.find(col), std::string::npos) << col;
    std::string route_row, rule_row;
    for (const auto& r : with.rows) {
        if (r.find("(10.0.0.1, 225.1.2.3)") != std::string::npos)
            route_row = r;
        if (r.find("(*, 225.4.4.0/24)") != std::string::npos)
            rule_row = r;
    }
    ASSERT_FALSE(route_row.empty()) << with.all();
    ASSERT_FALSE(rule_row.empty()) << with.all();
    EXPECT_NE(route_row.find("eth0"), std::string::npos);
    EXPECT_NE(route_row.find("active"), std::string::npos);
    EXPECT_NE(route_row.find("eth1 eth2"), std::string::npos) << route_row;
    // Columns line up with the heading.
    EXPECT_EQ(route_row.find("eth0"), h.find("IIF")) << h << "\n" << route_row;
    EXPECT_EQ(route_row.find("active"), h.find("STATE")) << h << "\n" << route_row;
    EXPECT_EQ(route_row.find("eth1 eth2"), h.find("OIFS")) << h << "\n" << route_row;
}

TEST_F(ControlTest, ShowRoutesDetailShowsKernelCounters)
{
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1"}).status, 0u);
    k4.canned_counters[{*IpAddr::parse("10.0.0.1"), *IpAddr::parse("225.1.2.3")}] = MfcCounters{4242, 987654, 17};
    auto r = run({"show"}, req_detail | req_headings);
    ASSERT_EQ(r.rows.size(), 2u) << r.all();
    for (const char* col : {"PACKETS", "BYTES", "WRONGIF"})
        EXPECT_NE(r.rows[0].find(col), std::string::npos) << col;
    EXPECT_NE(r.rows[1].find("4242"), std::string::npos) << r.rows[1];
    EXPECT_NE(r.rows[1].find("987654"), std::string::npos) << r.rows[1];
    EXPECT_NE(r.rows[1].find("17"), std::string::npos) << r.rows[1];
}

TEST_F(ControlTest, ShowRoutesJson)
{
    auto empty = run({"show"}, req_json);
    std::string why;
    EXPECT_TRUE(json_well_formed(empty.all(), why)) << why << "\n" << empty.all();
    EXPECT_NE(empty.all().find("\"routes\""), std::string::npos);

    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"}).status, 0u);
    ASSERT_EQ(run({"add", "eth0", "225.4.4.0/24", "eth1"}).status, 0u);
    ASSERT_EQ(run({"add", "eth0", "10.0.0.7", "225.1.2.3", "eth9"}).status, static_cast<uint32_t>(exit_code::failed));
    k4.canned_counters[{*IpAddr::parse("10.0.0.1"), *IpAddr::parse("225.1.2.3")}] = MfcCounters{31337, 1, 2};

    auto r = run({"show"}, req_json | req_detail);
    EXPECT_EQ(r.status, 0u);
    const std::string text = r.all();
    EXPECT_TRUE(json_well_formed(text, why)) << why << "\n" << text;
    EXPECT_EQ(text.rfind("{\"routes\": [", 0), 0u) << text;
    for (const char* key : {"\"kind\"", "\"source\"", "\"group\"", "\"iif\"", "\"oifs\"", "\"state\"", "\"origin\""})
        EXPECT_EQ(count(text, key), 2u) << key << "\n" << text;
    EXPECT_NE(text.find("\"225.4.4.0/24\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"10.0.0.1\""), std::string::npos) << text;
    EXPECT_NE(text.find("[\"eth1\", \"eth2\"]"), std::string::npos) << text;
    EXPECT_NE(text.find("\"packets\": 31337"), std::string::npos) << text;
    EXPECT_NE(text.find("\"origin\": \"client\""), std::string::npos) << text;
}

TEST_F(ControlTest, ShowPendingListsReasons)
{
    // The router installs a route naming a missing OIF without it and says
    // why (show pending lists it); only the client refuses unknown names, so
    // add it as the config would.
    auto c = check_route(RouteText{"eth0", "10.0.0.1", "225.1.2.3", {"eth7"}});
    ASSERT_TRUE(c.value);
    ASSERT_TRUE(router.add(*c.value, Origin::config));
    ASSERT_EQ(run({"add", "eth0", "10.0.0.2", "225.1.2.3", "eth1"}).status, 0u);
    auto r = run({"show", "pending"}, req_headings);
    EXPECT_EQ(r.status, 0u);
    ASSERT_EQ(r.rows.size(), 2u) << r.all();
    EXPECT_NE(r.rows[0].find("REASON"), std::string::npos) << r.rows[0];
    EXPECT_NE(r.rows[1].find("(10.0.0.1, 225.1.2.3)"), std::string::npos) << r.rows[1];
    EXPECT_NE(r.rows[1].find("active"), std::string::npos) << r.rows[1];
    EXPECT_NE(r.rows[1].find("outbound interface eth7 does not exist"), std::string::npos) << r.rows[1];

    auto j = run({"show", "pending"}, req_json);
    std::string why;
    EXPECT_TRUE(json_well_formed(j.all(), why)) << why << "\n" << j.all();
    EXPECT_NE(j.all().find("\"reason\""), std::string::npos) << j.all();
    EXPECT_EQ(j.all().find("10.0.0.2"), std::string::npos) << "active routes are not pending";
}

TEST_F(ControlTest, ShowInterfacesTextAndJson)
{
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth2"}).status, 0u);
    auto r = run({"show", "interfaces"}, req_headings);
    EXPECT_EQ(r.status, 0u);
    ASSERT_EQ(r.rows.size(), 4u) << r.all();
    EXPECT_NE(r.rows[0].find("VIF"), std::string::npos);
    std::string eth1_row = r.rows[2];
    EXPECT_NE(eth1_row.find("eth1"), std::string::npos) << r.all();
    EXPECT_NE(eth1_row.find(" -"), std::string::npos) << "eth1 has no VIF: " << eth1_row;
    const unsigned v0 = *router.vif_of(Family::inet, 1);
    EXPECT_NE(r.rows[1].find(cat("  ", v0)), std::string::npos) << r.rows[1];

    auto j = run({"show", "interfaces"}, req_json);
    std::string why;
    EXPECT_TRUE(json_well_formed(j.all(), why)) << why << "\n" << j.all();
    EXPECT_EQ(count(j.all(), "\"name\""), 3u) << j.all();
    EXPECT_NE(j.all().find(cat("\"vif\": ", v0)), std::string::npos) << j.all();
    EXPECT_NE(j.all().find("\"vif\": null"), std::string::npos) << j.all();
}

// The JSON of every subject the fixture can show, byte for byte: scripts
// read it (tests/system/json_all.sh checks it against the daemon).
TEST_F(ControlTest, ShowJsonIsByteExact)
{
    auto c = check_route(RouteText{"eth0", "10.0.0.9", "225.1.2.9", {"eth7"}});
    ASSERT_TRUE(c.value);
    SourceLoc where{"/etc/smcroute.conf", 3};
    ASSERT_TRUE(router.add(*c.value, Origin::config, &where));
    clock.advance(std::chrono::seconds(90));
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"}).status, 0u);
    ASSERT_EQ(run({"add", "eth1", "225.4.4.0/24", "eth0"}).status, 0u);
    clock.advance(std::chrono::seconds(2));
    k4.canned_counters[{*IpAddr::parse("10.0.0.1"), *IpAddr::parse("225.1.2.3")}] = MfcCounters{31337, 1, 2};
    auto dump = [](const RecordingReply& r) { return r.all(); };
    EXPECT_EQ(dump(run({"show"}, req_json | req_detail)), "{\"routes\": [\n"
              "{\"kind\": \"rule\", \"source\": \"*\", \"group\": \"225.4.4.0/24\", \"iif\": \"eth1\", \"oifs\": [\"eth0\"], \"state\": \"rule\", \"origin\": \"client\", \"learned\": 0, \"age\": 2}\n"
              ",{\"kind\": \"route\", \"source\": \"10.0.0.1\", \"group\": \"225.1.2.3\", \"iif\": \"eth0\", \"oifs\": [\"eth1\", \"eth2\"], \"state\": \"active\", \"origin\": \"client\", \"packets\": 31337, \"bytes\": 1, \"wrong_if\": 2, \"age\": 2}\n"
              ",{\"kind\": \"route\", \"source\": \"10.0.0.9\", \"group\": \"225.1.2.9\", \"iif\": \"eth0\", \"oifs\": [\"eth7\"], \"state\": \"active\", \"origin\": \"config\", \"reason\": \"outbound interface eth7 does not exist\", \"packets\": 0, \"bytes\": 0, \"wrong_if\": 0, \"file\": \"/etc/smcroute.conf\", \"line\": 3, \"age\": 92}\n"
              "]}\n");
    EXPECT_EQ(dump(run({"show"}, req_json)), "{\"routes\": [\n"
              "{\"kind\": \"rule\", \"source\": \"*\", \"group\": \"225.4.4.0/24\", \"iif\": \"eth1\", \"oifs\": [\"eth0\"], \"state\": \"rule\", \"origin\": \"client\", \"learned\": 0}\n"
              ",{\"kind\": \"route\", \"source\": \"10.0.0.1\", \"group\": \"225.1.2.3\", \"iif\": \"eth0\", \"oifs\": [\"eth1\", \"eth2\"], \"state\": \"active\", \"origin\": \"client\"}\n"
              ",{\"kind\": \"route\", \"source\": \"10.0.0.9\", \"group\": \"225.1.2.9\", \"iif\": \"eth0\", \"oifs\": [\"eth7\"], \"state\": \"active\", \"origin\": \"config\", \"reason\": \"outbound interface eth7 does not exist\"}\n"
              "]}\n");
    EXPECT_EQ(dump(run({"show", "pending"}, req_json)), "{\"pending\": [\n"
              "{\"kind\": \"route\", \"source\": \"10.0.0.9\", \"group\": \"225.1.2.9\", \"iif\": \"eth0\", \"oifs\": [\"eth7\"], \"state\": \"active\", \"origin\": \"config\", \"reason\": \"outbound interface eth7 does not exist\"}\n"
              "]}\n");
    EXPECT_EQ(dump(run({"show", "interfaces"}, req_json)), "{\"interfaces\": [\n"
              "{\"index\": 1, \"name\": \"eth0\", \"up\": true, \"vif\": 0, \"mif\": null}\n"
              ",{\"index\": 2, \"name\": \"eth1\", \"up\": true, \"vif\": 1, \"mif\": null}\n"
              ",{\"index\": 3, \"name\": \"eth2\", \"up\": true, \"vif\": 2, \"mif\": null}\n"
              "]}\n");
    ASSERT_EQ(run({"remove", "eth0", "10.0.0.1", "225.1.2.3"}).status, 0u);
    ASSERT_EQ(run({"remove", "eth1", "225.4.4.0/24"}).status, 0u);
    EXPECT_EQ(dump(run({"show"}, req_json)), "{\"routes\": [\n"
              "{\"kind\": \"route\", \"source\": \"10.0.0.9\", \"group\": \"225.1.2.9\", \"iif\": \"eth0\", \"oifs\": [\"eth7\"], \"state\": \"active\", \"origin\": \"config\", \"reason\": \"outbound interface eth7 does not exist\"}\n"
              "]}\n");
    ASSERT_EQ(run({"remove", "eth0", "10.0.0.9", "225.1.2.9"}).status, 0u);
    EXPECT_EQ(dump(run({"show"}, req_json)), "{\"routes\": [\n]}\n");
    EXPECT_EQ(dump(run({"show", "pending"}, req_json)), "{\"pending\": [\n]}\n");
}

// A Router over the fake MFC kernel with eth0 and eth1 and a GroupManager
// whose kernel takes every join, for tests that make a Control of their own
// (hooks of their own); handle() asks it as root.
class ControlGroupsTest : public ::testing::Test {
protected:
    struct AcceptingKernel final : MembershipKernel {
        Status join(const Membership&) override { return {}; }
        Status leave(const Membership&) override { return {}; }
        void forget_interface(unsigned) override {}
    };
    ControlGroupsTest()
    {
        log.set_level(LogLevel::none);
        router.set_interfaces({ifaces.at(1), ifaces.at(2)});
        groups.set_interfaces(ifaces);
        root.may_change_state = true;
    }
    RecordingReply handle(Control& control, std::vector<std::string> args, uint32_t flags)
    {
        Request req;
        req.flags = flags;
        req.args = std::move(args);
        RecordingReply reply;
        control.handle(req, root, reply);
        EXPECT_EQ(reply.ends, 1);
        return reply;
    }

    AcceptingKernel kernel;
    Logger log;
    FakeKernel k4{Family::inet};
    Router router{log, &k4, nullptr};
    const std::map<unsigned, Interface> ifaces{{1, ctl_iface("eth0", 1)}, {2, ctl_iface("eth1", 2)}};
    GroupManager groups{log, kernel};
    Peer root;
};

// show groups as JSON, byte for byte, plain and with -d (the memberships).
TEST_F(ControlGroupsTest, ShowGroupsJsonIsByteExact)
{
    Control control{router, log, Control::Hooks{[] {}, [] { return Status{}; }, [] { return std::string("v"); }, {}, {}},
                    &groups};
    auto run = [&](std::vector<std::string> args, uint32_t flags) { return handle(control, std::move(args), flags); };
    ASSERT_EQ(run({"join", "eth0", "225.1.2.3"}, 0).status, 0u);
    ASSERT_EQ(run({"join", "eth1", "10.0.0.1", "232.1.1.0/31"}, 0).status, 0u);
    EXPECT_EQ(run({"show", "groups"}, req_json).all(), "{\"groups\": [\n"
              "{\"source\": \"*\", \"group\": \"225.1.2.3\", \"iif\": \"eth0\", \"state\": \"active\", \"origin\": \"client\", \"addresses\": 1, \"interfaces\": [\"eth0\"]}\n"
              ",{\"source\": \"10.0.0.1\", \"group\": \"232.1.1.0/31\", \"iif\": \"eth1\", \"state\": \"active\", \"origin\": \"client\", \"addresses\": 2, \"interfaces\": [\"eth1\"]}\n"
              "]}\n");
    EXPECT_EQ(run({"show", "groups"}, req_json | req_detail).all(), "{\"groups\": [\n"
              "{\"source\": \"*\", \"group\": \"225.1.2.3\", \"iif\": \"eth0\", \"state\": \"active\", \"origin\": \"client\", \"addresses\": 1, \"interfaces\": [\"eth0\"], \"memberships\": [{\"interface\": \"eth0\", \"source\": \"*\", \"group\": \"225.1.2.3\"}]}\n"
              ",{\"source\": \"10.0.0.1\", \"group\": \"232.1.1.0/31\", \"iif\": \"eth1\", \"state\": \"active\", \"origin\": \"client\", \"addresses\": 2, \"interfaces\": [\"eth1\"], \"memberships\": [{\"interface\": \"eth1\", \"source\": \"10.0.0.1\", \"group\": \"232.1.1.0\"}, {\"interface\": \"eth1\", \"source\": \"10.0.0.1\", \"group\": \"232.1.1.1\"}]}\n"
              "]}\n");
    EXPECT_EQ(run({"show", "memberships", "-i", "lo", "-f", "inet6"}, req_json).status, 0u);
}

// show -d: each row's origin (config file:line, client, the rule it was
// learned from, upcall), its age by the router's clock, and for learned
// entries and stop filters the time left before expiry if they stay idle.
TEST_F(ControlTest, ShowDetailGivesOriginsAgesAndExpiry)
{
    auto spec = [](std::vector<std::string> words) { return *check_route(split_route_words(words)).value; };
    SourceLoc where{"/etc/smcroute.d/tv.conf", 42};
    ASSERT_TRUE(router.add(spec({"eth0", "10.0.0.1", "225.1.2.3", "eth1"}), Origin::config, &where));
    SourceLoc rule_where{"/etc/smcroute.conf", 7};
    ASSERT_TRUE(router.add(spec({"eth0", "225.9.0.0/16", "eth2"}), Origin::config, &rule_where));
    clock.advance(std::chrono::seconds(3725)); // 1h02m05s
    router.set_expiry_interval(std::chrono::seconds(60)); // the first check in 60 s
    ASSERT_EQ(run({"add", "eth1", "10.0.0.2", "225.1.2.4", "eth2"}, 0).status, 0u);
    Upcall up;
    up.kind = Upcall::Kind::nocache;
    up.vif = router.vif_of(Family::inet, 1).value();
    up.source = IpAddr::parse("10.0.0.9").value();
    up.group = IpAddr::parse("225.9.1.1").value();
    router.handle_upcall(Family::inet, up);
    ASSERT_EQ(router.dynamic_count(), 1u);
    k4.canned_counters[{up.source, up.group}] = MfcCounters{5, 500, 0};
    clock.advance(std::chrono::seconds(20));

    auto r = run({"show"}, req_detail | req_headings);
    ASSERT_EQ(r.status, 0u) << r.message;
    const std::string text = r.all();
    for (const char* col : {"AGE", "EXPIRES", "ORIGIN"})
        EXPECT_NE(r.rows[0].find(col), std::string::npos) << col;
    auto row_of = [&](std::string_view needle) {
        for (const auto& row : r.rows)
            if (row.find(needle) != std::string::npos)
                return row;
        ADD_FAILURE() << "no row with " << needle << "\n" << text;
        return std::string();
    };
    std::string cfg = row_of("225.1.2.3"), cli = row_of("225.1.2.4"), rule = row_of("225.9.0.0/16"),
                learned = row_of("225.9.1.1");
    EXPECT_NE(cfg.find("/etc/smcroute.d/tv.conf:42"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("1h02m"), std::string::npos) << cfg;
    EXPECT_NE(rule.find("/etc/smcroute.conf:7"), std::string::npos) << rule;
    EXPECT_NE(cli.find("client"), std::string::npos) << cli;
    EXPECT_NE(cli.find("20s"), std::string::npos) << cli;
    EXPECT_NE(learned.find("rule (*, 225.9.0.0/16)"), std::string::npos) << learned;
    // Not yet seen by an expiry check: the next one (40 s away) records its
    // count, the one after (100 s) removes it if idle.
    EXPECT_NE(learned.find("1m40s"), std::string::npos) << learned;
    EXPECT_EQ(cfg.find("1m40s"), std::string::npos) << "static routes never expire: " << cfg;

    // After a check that saw its count, an idle entry goes at the next check;
    // one that forwarded since then gets another interval.
    clock.advance(std::chrono::seconds(40));
    EXPECT_EQ(router.expire_idle(), 0u);
    clock.advance(std::chrono::seconds(15));
    auto j = run({"show"}, req_json | req_detail).all();
    std::string why;
    EXPECT_TRUE(json_well_formed(j, why)) << why << "\n" << j;
    EXPECT_NE(j.find("\"file\": \"/etc/smcroute.d/tv.conf\", \"line\": 42"), std::string::npos) << j;
    EXPECT_NE(j.find("\"expires_in\": 45"), std::string::npos) << j;
    EXPECT_NE(j.find("\"age\": 3800"), std::string::npos) << j; // 3725 + 20 + 40 + 15
    k4.canned_counters[{up.source, up.group}] = MfcCounters{6, 600, 0};
    j = run({"show"}, req_json | req_detail).all();
    EXPECT_NE(j.find("\"expires_in\": 105"), std::string::npos) << j;
    // Without -d, none of it.
    auto plain = run({"show"}, req_json).all();
    EXPECT_EQ(plain.find("\"age\""), std::string::npos) << plain;
}

// Proxy entries (Router::set_proxy) are rows of kind proxy: after the
// rules and static routes, with the other dynamic entries; origin "proxy".
TEST_F(ControlTest, ShowListsProxyEntries)
{
    auto collapse_spaces = [](const std::string& row) {
        std::string out;
        for (char c : row)
            if (c != ' ' || out.empty() || out.back() != ' ')
                out += c;
        return out;
    };
    struct Fwd final : ProxyForwarding {
        std::vector<IfName> proxy_oifs(std::string_view, const SgKey&) const override
        {
            return {IfName::parse("eth1").value()};
        }
    } fwd;
    router.set_proxy(Family::inet, IfName::parse("eth0").value(), {IfName::parse("eth1").value()}, &fwd);
    ASSERT_EQ(run({"add", "eth2", "225.4.4.0/24", "eth0"}).status, 0u);
    Upcall up;
    up.kind = Upcall::Kind::nocache;
    up.vif = router.vif_of(Family::inet, 1).value();
    up.source = IpAddr::parse("10.0.0.9").value();
    up.group = IpAddr::parse("239.1.1.1").value();
    router.handle_upcall(Family::inet, up);
    router.set_expiry_interval(std::chrono::seconds(60));
    k4.canned_counters[{up.source, up.group}] = MfcCounters{5, 500, 0};
    clock.advance(std::chrono::seconds(7));
    EXPECT_EQ(run({"show"}, req_json).all(), "{\"routes\": [\n"
              "{\"kind\": \"rule\", \"source\": \"*\", \"group\": \"225.4.4.0/24\", \"iif\": \"eth2\", \"oifs\": [\"eth0\"], \"state\": \"rule\", \"origin\": \"client\", \"learned\": 0}\n"
              ",{\"kind\": \"proxy\", \"source\": \"10.0.0.9\", \"group\": \"239.1.1.1\", \"iif\": \"eth0\", \"oifs\": [\"eth1\"], \"state\": \"proxy\", \"origin\": \"proxy\"}\n"
              "]}\n");
    EXPECT_EQ(run({"show"}, req_json | req_detail).rows.at(2),
              ",{\"kind\": \"proxy\", \"source\": \"10.0.0.9\", \"group\": \"239.1.1.1\", \"iif\": \"eth0\", \"oifs\": [\"eth1\"], \"state\": \"proxy\", \"origin\": \"proxy\", \"packets\": 5, \"bytes\": 500, \"wrong_if\": 0, \"age\": 7, \"expires_in\": 113}");
    auto text = run({"show"}, req_detail);
    ASSERT_EQ(text.rows.size(), 2u) << text.all();
    EXPECT_EQ(collapse_spaces(text.rows[1]), "(10.0.0.9, 239.1.1.1) eth0 proxy 5 500 0 7s 1m53s proxy eth1");
    auto plain = run({"show"});
    EXPECT_EQ(collapse_spaces(plain.rows.at(1)), "(10.0.0.9, 239.1.1.1) eth0 proxy eth1");
}

TEST(ControlNoV6Test, Ipv6RouteWithoutIpv6FailsCleanly)
{
    Logger log;
    log.set_level(LogLevel::none);
    FakeKernel k4{Family::inet};
    Router router{log, &k4, nullptr};
    router.set_interfaces({ctl_iface("eth0", 1), ctl_iface("eth1", 2)});
    Control control{router, log, Control::Hooks{[] {}, [] { return Status{}; }, [] { return std::string("v"); }, {}, {}}};
    Peer root;
    root.may_change_state = true;
    for (std::vector<std::string> args : {std::vector<std::string>{"add", "eth0", "2001:db8::1", "ff0e::1", "eth1"},
                                          std::vector<std::string>{"add", "eth0", "ff0e::1", "eth1"}}) {
        Request req;
        req.args = args;
        RecordingReply reply;
        control.handle(req, root, reply);
        EXPECT_EQ(reply.ends, 1);
        EXPECT_EQ(reply.status, static_cast<uint32_t>(exit_code::failed));
        EXPECT_NE(reply.message.find("IPv6"), std::string::npos) << reply.message;
    }
    EXPECT_EQ(router.static_count(), 0u);
    EXPECT_EQ(router.rule_count(), 0u);
    EXPECT_TRUE(k4.mfc.empty());
}

// Streamed show ---------------------------------------------------------------

// Keeps the producer handed to stream() so a test pulls it piece by piece,
// as the IPC server does while the client reads.
class PullingReply final : public Reply {
public:
    void row(std::string_view text) override
    {
        EXPECT_EQ(ends, 0) << "row after end";
        rows.emplace_back(text);
    }
    void end(uint32_t s, std::string_view m) override
    {
        ++ends;
        status = s;
        message = m;
    }
    void stream(Producer p) override
    {
        EXPECT_FALSE(producer) << "one stream per answer";
        producer = std::move(p);
    }
    // One pull; false once the producer is done.
    bool pull()
    {
        if (!producer)
            return false;
        if (!producer(*this))
            producer = nullptr;
        return static_cast<bool>(producer);
    }
    std::string all() const
    {
        std::string out;
        for (const auto& r : rows)
            out += r + "\n";
        return out;
    }
    std::vector<std::string> rows;
    Producer producer;
    int ends = 0;
    uint32_t status = 9999;
    std::string message;
};

class ControlStreamTest : public ControlTest {
protected:
    // n static routes 10.0.x.y -> 225.1.x.y from eth0 to eth1 (and eth2 for every 7th).
    void add_routes(size_t n)
    {
        for (size_t i = 0; i < n; ++i) {
            std::string src = cat("10.0.", i / 250, ".", i % 250 + 1);
            std::string grp = cat("225.1.", i / 250, ".", i % 250 + 1);
            std::vector<std::string> args{"add", "eth0", src, grp, "eth1"};
            if (i % 7 == 0)
                args.push_back("eth2");
            ASSERT_EQ(run(args).status, 0u) << src;
        }
    }
    PullingReply start_show(uint32_t flags, std::vector<std::string> args = {"show"})
    {
        Request req;
        req.flags = flags;
        req.args = std::move(args);
        PullingReply reply;
        control.handle(req, root, reply);
        return reply;
    }
};

TEST_F(ControlStreamTest, LongShowIsHandedOverAsAProducer)
{
    add_routes(1000);
    PullingReply r = start_show(req_headings);
    ASSERT_TRUE(r.producer) << "a show answer is streamed";
    EXPECT_TRUE(r.rows.empty()) << "nothing is rendered before the first pull";
    EXPECT_EQ(r.ends, 0);
    size_t pulls = 0;
    while (r.pull())
        ++pulls;
    EXPECT_GT(pulls, 1u) << "1000 rows come in several pieces";
    EXPECT_LT(pulls, 1000u) << "but not one row per pull";
    EXPECT_EQ(r.ends, 1);
    EXPECT_EQ(r.status, 0u);
    ASSERT_EQ(r.rows.size(), 1001u);
    // Same text as the whole answer drained at once (the default stream()).
    auto whole = run({"show"}, req_headings);
    EXPECT_EQ(r.rows, whole.rows);
}

TEST_F(ControlStreamTest, ColumnsAlignAcrossPieces)
{
    add_routes(600);
    // One route with a long OIF-less key and a long IIF name appears only at
    // the end, yet every row, from the first piece on, is padded to it.
    ASSERT_EQ(run({"add", "eth2", "10.200.200.200", "225.200.200.200", "eth1"}).status, 0u);
    PullingReply r = start_show(req_headings);
    while (r.pull()) {
    }
    ASSERT_EQ(r.rows.size(), 602u);
    const std::string& h = r.rows[0];
    size_t iif_col = h.find("IIF"), state_col = h.find("STATE"), oifs_col = h.find("OIFS");
    ASSERT_NE(oifs_col, std::string::npos);
    EXPECT_EQ(iif_col, std::string("(10.200.200.200, 225.200.200.200)  ").size()) << h;
    for (size_t i = 1; i < r.rows.size(); ++i) {
        const std::string& row = r.rows[i];
        ASSERT_GT(row.size(), oifs_col) << row;
        EXPECT_EQ(row.substr(iif_col, 3), "eth") << row;
        EXPECT_EQ(row.substr(state_col, 6), "active") << row;
        EXPECT_EQ(row.substr(oifs_col, 4), "eth1") << row;
        EXPECT_NE(row.back(), ' ') << row;
    }
}

// Pulls until the answer has at least n rows (or has ended).
void pull_until_rows(PullingReply& r, size_t n)
{
    while (r.rows.size() < n && r.pull()) {
    }
}

// Mid-stream the table changes under the listing (a client removes routes
// not yet sent, adds one, then every client route goes): the answer stays
// one complete, well-formed listing whose rows already sent are those of
// the table before, and lists nothing that was removed before its turn.
TEST_F(ControlStreamTest, TableChangesDuringAStreamAreSafe)
{
    add_routes(800);
    for (uint32_t flags : {0u, req_json, req_detail, req_headings}) {
        auto before = run({"show"}, flags);
        ASSERT_EQ(before.rows.size(), (flags & req_json ? 802u : flags & req_headings ? 801u : 800u));
        PullingReply r = start_show(flags);
        pull_until_rows(r, 300);
        ASSERT_EQ(r.ends, 0);
        const size_t sent = r.rows.size();
        ASSERT_LT(sent, 700u) << "the stream is still going";
        ASSERT_EQ(run({"remove", "eth0", "10.0.3.1", "225.1.3.1"}).status, 0u);
        ASSERT_EQ(run({"add", "eth0", "10.9.9.9", "225.9.9.9", "eth1"}).status, 0u);
        router.remove_origin(Origin::client);
        ASSERT_EQ(router.static_count(), 0u);
        size_t pulls = 0;
        while (r.pull())
            ASSERT_LT(++pulls, 100u) << "the stream ends";
        EXPECT_EQ(r.ends, 1);
        EXPECT_EQ(r.status, 0u);
        // What was sent before the change is the table as it was; nothing
        // removed since is sent; the answer is closed properly.
        std::vector<std::string> head(r.rows.begin(), r.rows.begin() + static_cast<long>(sent));
        EXPECT_EQ(head, std::vector<std::string>(before.rows.begin(), before.rows.begin() + static_cast<long>(sent)))
            << "flags " << flags;
        if (flags & req_json) {
            ASSERT_EQ(r.rows.size(), sent + 1) << r.all();
            EXPECT_EQ(r.rows.back(), "]}");
            std::string why;
            EXPECT_TRUE(json_well_formed(r.all(), why)) << why;
        } else {
            EXPECT_EQ(r.rows.size(), sent) << "flags " << flags;
        }
        EXPECT_EQ(r.all().find("10.9.9.9"), std::string::npos);
        EXPECT_EQ(r.all().find("10.0.3.1,"), std::string::npos);
        add_routes(800);
    }
}

// Routes present for the whole listing are each listed exactly once even
// while others come and go and other listings start; each row shows the
// route as it is when sent.
TEST_F(ControlStreamTest, RoutesPresentThroughoutAreListedOnce)
{
    add_routes(800);
    PullingReply r = start_show(req_headings);
    pull_until_rows(r, 400);
    ASSERT_EQ(r.ends, 0);
    // Routes 700-749 (not sent yet) go; new ones come before and after the
    // place the listing has reached; another listing starts meanwhile.
    for (size_t i = 700; i < 750; ++i)
        ASSERT_EQ(run({"remove", "eth0", cat("10.0.", i / 250, ".", i % 250 + 1),
                       cat("225.1.", i / 250, ".", i % 250 + 1)})
                      .status,
                  0u);
    ASSERT_EQ(run({"add", "eth0", "10.0.0.1", "225.0.0.1", "eth1"}).status, 0u);
    ASSERT_EQ(run({"add", "eth0", "10.9.9.9", "225.9.9.9", "eth2"}).status, 0u);
    // Route 790 changes its OIFs before its turn: its row shows the new ones.
    ASSERT_EQ(run({"add", "eth0", "10.0.3.41", "225.1.3.41", "eth2"}).status, 0u);
    EXPECT_EQ(run({"show"}).rows.size(), 752u);
    while (r.pull()) {
    }
    EXPECT_EQ(r.status, 0u);
    const std::string& h = r.rows.at(0);
    ASSERT_EQ(h.rfind("ROUTE (S,G)", 0), 0u) << h;
    std::map<std::string, int> seen;
    for (size_t i = 1; i < r.rows.size(); ++i) {
        const std::string& row = r.rows[i];
        EXPECT_EQ(++seen[row.substr(0, row.find(')') + 1)], 1) << row << " listed twice";
        EXPECT_EQ(row.substr(h.find("IIF"), 4), "eth0") << "aligned: " << row;
        EXPECT_EQ(row.substr(h.find("STATE"), 6), "active") << "aligned: " << row;
    }
    for (size_t i = 0; i < 800; ++i) {
        std::string key = cat("(10.0.", i / 250, ".", i % 250 + 1, ", 225.1.", i / 250, ".", i % 250 + 1, ")");
        EXPECT_EQ(seen.count(key), i >= 700 && i < 750 ? 0u : 1u) << key;
    }
    EXPECT_EQ(seen.count("(10.0.0.1, 225.0.0.1)"), 0u) << "added behind the listing";
    EXPECT_EQ(seen.count("(10.9.9.9, 225.9.9.9)"), 1u) << "added ahead, seen by a rebuilt index";
    for (const auto& row : r.rows) {
        if (row.rfind("(10.0.3.41, 225.1.3.41)", 0) == 0) {
            EXPECT_NE(row.find("eth1 eth2"), std::string::npos) << row;
        }
    }
}

// Text takes two passes: widths, then rows. A row that is wider when sent
// than anything the first pass saw is sent whole, and the other rows keep
// their alignment; everything gone by the second pass gives "No routes."
TEST_F(ControlStreamTest, RowsChangingBetweenThePassesAreSentWhole)
{
    add_routes(600);
    PullingReply r = start_show(req_headings);
    ASSERT_TRUE(r.pull()); // the first pass has begun
    ASSERT_TRUE(r.rows.empty());
    // Not in the first pass (added after it began); seen in the second
    // because another listing starts meanwhile.
    ASSERT_EQ(run({"add", "eth2", "10.200.200.200", "225.200.200.200", "eth0", "eth1"}).status, 0u);
    pull_until_rows(r, 2);
    EXPECT_EQ(run({"show"}).rows.size(), 601u);
    while (r.pull()) {
    }
    ASSERT_EQ(r.rows.size(), 602u);
    const std::string& h = r.rows[0];
    EXPECT_EQ(h.find("IIF"), std::string("(10.0.2.100, 225.1.2.100)  ").size()) << h;
    for (size_t i = 1; i + 1 < r.rows.size(); ++i)
        EXPECT_EQ(r.rows[i].substr(h.find("IIF"), 4), "eth0") << r.rows[i];
    EXPECT_EQ(r.rows.back(), "(10.200.200.200, 225.200.200.200)  eth2  active  eth0 eth1");

    // A change, so the next listing measures again; every route goes while
    // it measures.
    ASSERT_EQ(run({"remove", "eth2", "10.200.200.200", "225.200.200.200"}).status, 0u);
    PullingReply gone = start_show(req_headings);
    ASSERT_TRUE(gone.pull());
    ASSERT_TRUE(gone.rows.empty()) << "measuring";
    router.remove_origin(Origin::client);
    while (gone.pull()) {
    }
    EXPECT_EQ(gone.rows, std::vector<std::string>{"No routes."}) << "no heading without rows";
    EXPECT_EQ(gone.status, 0u);
}

// The widths of a first pass are kept while the table does not change: the
// next text listing sends rows from its first pull, with the same text.
// Any change, or a change during the first pass, measures again; -d
// (counters change on their own) always measures.
TEST_F(ControlStreamTest, UnchangedTableSkipsTheFirstPass)
{
    add_routes(600);
    auto whole = [](PullingReply& r) {
        while (r.pull()) {
        }
        return r.rows;
    };
    PullingReply first = start_show(req_headings);
    ASSERT_TRUE(first.pull());
    EXPECT_TRUE(first.rows.empty()) << "measuring";
    auto text = whole(first);
    PullingReply again = start_show(req_headings);
    ASSERT_TRUE(again.pull());
    EXPECT_FALSE(again.rows.empty()) << "widths reused: rows at once";
    EXPECT_EQ(whole(again), text);
    PullingReply plain = start_show(0);
    ASSERT_TRUE(plain.pull());
    EXPECT_FALSE(plain.rows.empty()) << "headings do not change the measured widths";
    EXPECT_EQ(whole(plain), std::vector<std::string>(text.begin() + 1, text.end()));

    // show pending keeps its own.
    PullingReply pending = start_show(0, {"show", "pending"});
    whole(pending);
    EXPECT_EQ(pending.rows, std::vector<std::string>{"No pending routes."});

    // A change: measured again, to the new widths.
    ASSERT_EQ(run({"add", "eth2", "10.200.200.200", "225.200.200.200", "eth1"}).status, 0u);
    PullingReply changed = start_show(req_headings);
    ASSERT_TRUE(changed.pull());
    EXPECT_TRUE(changed.rows.empty()) << "the table changed: measuring";
    auto text2 = whole(changed);
    ASSERT_EQ(text2.size(), 602u);
    EXPECT_EQ(text2[0].find("IIF"), std::string("(10.200.200.200, 225.200.200.200)  ").size()) << text2[0];

    // A change during the first pass: those widths are not kept.
    PullingReply during = start_show(req_headings);
    ASSERT_TRUE(during.pull());
    ASSERT_EQ(run({"remove", "eth2", "10.200.200.200", "225.200.200.200"}).status, 0u);
    whole(during);
    PullingReply after = start_show(req_headings);
    ASSERT_TRUE(after.pull());
    EXPECT_TRUE(after.rows.empty()) << "measuring again";
    auto text3 = whole(after);
    EXPECT_EQ(text3, text) << "back to the first table's text";

    for (int i = 0; i < 2; ++i) {
        PullingReply d = start_show(req_detail);
        ASSERT_TRUE(d.pull());
        EXPECT_TRUE(d.rows.empty()) << "-d always measures";
        whole(d);
    }
}

TEST_F(ControlStreamTest, JsonStreamIsOneDocument)
{
    add_routes(700);
    PullingReply r = start_show(req_json | req_detail);
    size_t pulls = 0;
    while (r.pull())
        ++pulls;
    EXPECT_GT(pulls, 1u);
    const std::string text = r.all();
    std::string why;
    EXPECT_TRUE(json_well_formed(text, why)) << why;
    EXPECT_EQ(count(text, "\"kind\""), 700u);
    EXPECT_EQ(count(text, "},{"), 0u) << "one object per row";
    EXPECT_EQ(r.rows.front(), "{\"routes\": [");
    EXPECT_EQ(r.rows.back(), "]}");
    EXPECT_EQ(r.rows[1].front(), '{');
    for (size_t i = 2; i + 1 < r.rows.size(); ++i)
        ASSERT_EQ(r.rows[i].rfind(",{", 0), 0u) << r.rows[i];
}

TEST_F(ControlStreamTest, DroppedStreamIsHarmless)
{
    add_routes(600);
    {
        PullingReply r = start_show(0);
        ASSERT_TRUE(r.pull());
        router.remove_origin(Origin::client); // then the client goes away
    }
    EXPECT_EQ(router.static_count(), 0u);
    auto again = run({"show"});
    ASSERT_EQ(again.rows.size(), 1u);
    EXPECT_EQ(again.rows[0], "No routes.");
}

// split_route_words ---------------------------------------------------------------

TEST(SplitRouteWordsTest, WithSource)
{
    std::vector<std::string> w{"eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"};
    RouteText t = split_route_words(w);
    EXPECT_EQ(t.iif, "eth0");
    EXPECT_EQ(t.source, "10.0.0.1");
    EXPECT_EQ(t.group, "225.1.2.3");
    ASSERT_EQ(t.oifs.size(), 2u);
    EXPECT_EQ(t.oifs[0], "eth1");
    EXPECT_EQ(t.oifs[1], "eth2");
}

TEST(SplitRouteWordsTest, WithoutSource)
{
    std::vector<std::string> w{"eth0", "225.1.2.3", "eth1"};
    RouteText t = split_route_words(w);
    EXPECT_EQ(t.iif, "eth0");
    EXPECT_TRUE(t.source.empty());
    EXPECT_EQ(t.group, "225.1.2.3");
    ASSERT_EQ(t.oifs.size(), 1u);
    EXPECT_EQ(t.oifs[0], "eth1");

    std::vector<std::string> only{"eth0", "225.1.2.3"};
    t = split_route_words(only);
    EXPECT_TRUE(t.source.empty());
    EXPECT_EQ(t.group, "225.1.2.3");
    EXPECT_TRUE(t.oifs.empty());
}

TEST(SplitRouteWordsTest, StarUnspecifiedAndPrefixSources)
{
    std::vector<std::string> star{"eth0", "*", "225.1.2.3", "eth1"};
    RouteText t = split_route_words(star);
    EXPECT_EQ(t.source, "*");
    EXPECT_EQ(t.group, "225.1.2.3");
    ASSERT_EQ(t.oifs.size(), 1u);

    std::vector<std::string> v6{"eth0", "::", "ff0e::1", "eth1"};
    t = split_route_words(v6);
    EXPECT_EQ(t.source, "::");
    EXPECT_EQ(t.group, "ff0e::1");

    std::vector<std::string> prefixes{"eth0", "10.0.0.0/8", "225.1.2.0/24"};
    t = split_route_words(prefixes);
    EXPECT_EQ(t.source, "10.0.0.0/8");
    EXPECT_EQ(t.group, "225.1.2.0/24");
    EXPECT_TRUE(t.oifs.empty());

    std::vector<std::string> group_prefix{"eth0", "225.1.2.0/24", "eth1", "eth2"};
    t = split_route_words(group_prefix);
    EXPECT_TRUE(t.source.empty());
    EXPECT_EQ(t.group, "225.1.2.0/24");
    EXPECT_EQ(t.oifs.size(), 2u);

    std::vector<std::string> none;
    t = split_route_words(none);
    EXPECT_TRUE(t.iif.empty() && t.source.empty() && t.group.empty() && t.oifs.empty());
}

// show config: the running config's phyints and joins with their lines,
// the router's routes and rules (one line per key, merged OIFs, the first
// line of the key), client entries commented out; text and JSON.
TEST_F(ControlGroupsTest, ShowConfigHasSourcesAndClientsCommentedOut)
{
    MemoryFiles files;
    files.files["a.conf"] = ("phyint eth1 ttl-threshold 3 mrdisc\n"
                        "mroute from eth0 source 10.0.0.1 group 225.1.1.1 to eth1\n"
                        "include b.conf\n"
                        "ssmgroup from eth1 group 232.1.1.1 source 10.0.0.1\n");
    files.files["b.conf"] = ("mroute from eth0 group 225.2.0.0/16 to eth1\n"
                        "mroute from eth0 source 10.0.0.1 group 225.1.1.1 to eth2\n");
    ParseResult parsed = parse_config_file("a.conf", files);
    ASSERT_EQ(parsed.error_count(), 0u);
    Config running = std::move(parsed.config);
    for (const auto& r : running.routes)
        EXPECT_TRUE(router.add(r.spec, Origin::config, &r.loc).ok()); // one key twice merges, keeping its first line
    for (const auto& j : running.joins)
        ASSERT_TRUE(groups.add(j.spec, Origin::config).ok());
    Control control{router, log,
                    Control::Hooks{[] {}, [] { return Status{}; }, [] { return std::string("v"); }, {},
                                   [&running] { return &running; }},
                    &groups};
    auto run = [&](std::vector<std::string> args, uint32_t flags) { return handle(control, std::move(args), flags); };
    ASSERT_EQ(run({"add", "eth1", "10.0.0.9", "225.9.9.9", "eth0"}, 0).status, 0u);
    ASSERT_EQ(run({"join", "eth0", "225.8.8.8"}, 0).status, 0u);
    auto text = run({"show", "config"}, 0);
    EXPECT_EQ(text.status, 0u);
    EXPECT_EQ(text.all(), "# smcroute: the effective configuration (show config), includes expanded;\n"
                          "# each line's source after '#'; routes and joins added by clients are\n"
                          "# commented out, so this text loads exactly the configured ones.\n"
                          "phyint eth1 enable mrdisc ttl-threshold 3    # a.conf:1\n"
                          "mroute from eth0 group 225.2.0.0/16 to eth1    # b.conf:1\n"
                          "mroute from eth0 source 10.0.0.1 group 225.1.1.1 to eth1 eth2    # a.conf:2\n"
                          "mgroup from eth1 source 10.0.0.1 group 232.1.1.1    # a.conf:4\n"
                          "# mroute from eth1 source 10.0.0.9 group 225.9.9.9 to eth0    # added by a client\n"
                          "# mgroup from eth0 group 225.8.8.8    # added by a client\n");
    EXPECT_EQ(run({"show", "config"}, req_json).all(),
              "{\"config\": [\n"
              "{\"kind\": \"phyint\", \"origin\": \"config\", \"text\": \"phyint eth1 enable mrdisc ttl-threshold 3\", "
              "\"file\": \"a.conf\", \"line\": 1}\n"
              ",{\"kind\": \"mroute\", \"origin\": \"config\", \"text\": \"mroute from eth0 group 225.2.0.0/16 to eth1\", "
              "\"file\": \"b.conf\", \"line\": 1}\n"
              ",{\"kind\": \"mroute\", \"origin\": \"config\", \"text\": \"mroute from eth0 source 10.0.0.1 group "
              "225.1.1.1 to eth1 eth2\", \"file\": \"a.conf\", \"line\": 2}\n"
              ",{\"kind\": \"mgroup\", \"origin\": \"config\", \"text\": \"mgroup from eth1 source 10.0.0.1 group "
              "232.1.1.1\", \"file\": \"a.conf\", \"line\": 4}\n"
              ",{\"kind\": \"mroute\", \"origin\": \"client\", \"text\": \"mroute from eth1 source 10.0.0.9 group "
              "225.9.9.9 to eth0\"}\n"
              ",{\"kind\": \"mgroup\", \"origin\": \"client\", \"text\": \"mgroup from eth0 group 225.8.8.8\"}\n"
              "]}\n");
    // The text parses back into the running config's routes and joins (the client's are comments).
    MemoryFiles again;
    again.files["shown.conf"] = text.all();
    ParseResult back = parse_config_file("shown.conf", again);
    EXPECT_EQ(back.error_count(), 0u);
    ASSERT_EQ(back.config.routes.size(), 2u);
    EXPECT_EQ(back.config.routes[1].spec.oifs.size(), 2u);
    ASSERT_EQ(back.config.joins.size(), 1u);
    EXPECT_EQ(back.config.joins[0].spec, running.joins[0].spec);
    ASSERT_EQ(back.config.phyints.size(), 1u);
    EXPECT_EQ(back.config.phyints[0].spec, running.phyints[0].spec);
    // Without a running config (and groups): the router's routes only.
    Control bare{router, log, Control::Hooks{[] {}, [] { return Status{}; }, [] { return std::string("v"); }, {}, {}}};
    Request req;
    req.args = {"show", "config"};
    RecordingReply reply;
    bare.handle(req, root, reply);
    EXPECT_EQ(reply.status, 0u);
    EXPECT_EQ(reply.rows.size(), 3u + 3u); // heading, two config routes, the client's
}

} // namespace
} // namespace smcroute

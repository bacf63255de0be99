#include "smcroute/model/commands.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace smcroute;

namespace {

Verb verb_of(std::string_view w)
{
    auto r = match_verb(w);
    EXPECT_TRUE(r.ok()) << w << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : Verb::help;
}

std::string verb_error(std::string_view w)
{
    auto r = match_verb(w);
    EXPECT_FALSE(r.ok()) << w;
    return r.ok() ? std::string() : r.error().message;
}

std::string show_error(std::string_view w)
{
    auto r = match_show(w);
    EXPECT_FALSE(r.ok()) << w;
    return r.ok() ? std::string() : r.error().message;
}

} // namespace

TEST(Commands, TableHasEveryVerbOnceWithSynopsisAndHelp)
{
    std::set<std::string_view> names;
    for (const auto& v : all_verbs()) {
        EXPECT_TRUE(names.insert(v.name).second) << v.name;
        EXPECT_FALSE(v.help.empty()) << v.name;
        EXPECT_EQ(&verb_info(v.verb), &v);
    }
    EXPECT_EQ(names, (std::set<std::string_view>{"add", "remove", "join", "leave", "show", "flush", "reload", "kill",
                                                 "version", "help", "check", "monitor"}));
    EXPECT_EQ(verb_info(Verb::add).synopsis, "IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    EXPECT_EQ(verb_info(Verb::remove).synopsis, "IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    EXPECT_EQ(verb_info(Verb::join).synopsis, "IIF [SOURCE[/LEN]] GROUP[/LEN]");
    EXPECT_EQ(verb_info(Verb::leave).synopsis, "IIF [SOURCE[/LEN]] GROUP[/LEN]");
    EXPECT_TRUE(verb_info(Verb::flush).synopsis.empty());
}

TEST(Commands, ChangesState)
{
    for (Verb v : {Verb::add, Verb::remove, Verb::join, Verb::leave, Verb::flush, Verb::reload, Verb::kill})
        EXPECT_TRUE(verb_info(v).changes_state) << verb_info(v).name;
    for (Verb v : {Verb::show, Verb::version, Verb::help, Verb::monitor})
        EXPECT_FALSE(verb_info(v).changes_state) << verb_info(v).name;
}

TEST(Commands, ExactNamesAndAliases)
{
    for (const auto& v : all_verbs())
        EXPECT_EQ(verb_of(v.name), v.verb);
    EXPECT_EQ(verb_of("rem"), Verb::remove);
    EXPECT_EQ(verb_of("del"), Verb::remove);
    EXPECT_EQ(verb_of("delete"), Verb::remove);
    EXPECT_EQ(verb_of("restart"), Verb::reload);
}

// SMCRoute 2.5.6's smcroutectl (run as a black box) resolved these words so.
TEST(Commands, AbbreviationsOfSmcroute2)
{
    for (auto w : {"r", "re", "rel", "relo", "reload", "res", "rest", "resta", "restart"})
        EXPECT_EQ(verb_of(w), Verb::reload) << w;
    for (auto w : {"rem", "remo", "remove", "d", "de", "del", "dele", "delet", "delete"})
        EXPECT_EQ(verb_of(w), Verb::remove) << w;
    for (auto w : {"a", "ad"})
        EXPECT_EQ(verb_of(w), Verb::add) << w;
    for (auto w : {"j", "jo"})
        EXPECT_EQ(verb_of(w), Verb::join) << w;
    for (auto w : {"l", "le"})
        EXPECT_EQ(verb_of(w), Verb::leave) << w;
    for (auto w : {"f", "fl"})
        EXPECT_EQ(verb_of(w), Verb::flush) << w;
    for (auto w : {"k", "ki"})
        EXPECT_EQ(verb_of(w), Verb::kill) << w;
    for (auto w : {"v", "ve", "vers"})
        EXPECT_EQ(verb_of(w), Verb::version) << w;
    for (auto w : {"h", "he"})
        EXPECT_EQ(verb_of(w), Verb::help) << w;
}

TEST(Commands, UniquePrefixes)
{
    EXPECT_EQ(verb_of("a"), Verb::add);
    EXPECT_EQ(verb_of("s"), Verb::show);
    EXPECT_EQ(verb_of("sh"), Verb::show);
    EXPECT_EQ(verb_of("j"), Verb::join);
    EXPECT_EQ(verb_of("l"), Verb::leave);
    EXPECT_EQ(verb_of("f"), Verb::flush);
    EXPECT_EQ(verb_of("k"), Verb::kill);
    EXPECT_EQ(verb_of("v"), Verb::version);
    EXPECT_EQ(verb_of("h"), Verb::help);
    EXPECT_EQ(verb_of("rel"), Verb::reload);
    EXPECT_EQ(verb_of("remo"), Verb::remove);
}

TEST(Commands, Unknown)
{
    EXPECT_EQ(verb_error("x"), "unknown command 'x'");
    EXPECT_EQ(verb_error("rex"), "unknown command 'rex'");
    EXPECT_EQ(verb_error("deletes"), "unknown command 'deletes'");
    EXPECT_EQ(verb_error("restarts"), "unknown command 'restarts'");
    EXPECT_EQ(verb_error("adds"), "unknown command 'adds'");
    EXPECT_EQ(verb_error("Show"), "unknown command 'Show'");
    EXPECT_FALSE(match_verb("").ok());
}

TEST(Commands, ShowSubjects)
{
    std::set<std::string_view> names;
    for (const auto& s : all_show_subjects()) {
        names.insert(s.name);
        EXPECT_EQ(show_name(s.what), s.name);
        auto m = match_show(s.name);
        ASSERT_TRUE(m.ok());
        EXPECT_EQ(*m, s.what);
    }
    EXPECT_EQ(names, (std::set<std::string_view>{"routes", "groups", "interfaces", "pending", "memberships", "graph",
                                                 "config", "status", "metrics", "proxy"}));
    EXPECT_EQ(*match_show("c"), ShowWhat::config);
    // "p" stays pending (it was before proxy); "pr" is proxy.
    EXPECT_EQ(*match_show("p"), ShowWhat::pending);
    EXPECT_EQ(*match_show("pr"), ShowWhat::proxy);
    auto g = match_show("g");
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(*g, ShowWhat::groups);
    auto r = match_show("route");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, ShowWhat::routes);
    auto m = match_show("mem");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(*m, ShowWhat::memberships);
    EXPECT_EQ(show_error("x"), "unknown show subject 'x'");
    EXPECT_EQ(show_error("routesx"), "unknown show subject 'routesx'");
}

TEST(Commands, AmbiguousShowSubject)
{
    // An empty word matches all; memberships and metrics share "m" and "me".
    auto r = match_show("");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(show_error("m"), "ambiguous show subject 'm' (could be: memberships, metrics)");
    EXPECT_EQ(show_error("me"), "ambiguous show subject 'me' (could be: memberships, metrics)");
    EXPECT_EQ(*match_show("met"), ShowWhat::metrics);
    EXPECT_EQ(*match_show("s"), ShowWhat::status);
}

TEST(Commands, ExitCodes)
{
    EXPECT_EQ(exit_code::usage, 64);
    EXPECT_EQ(exit_code::config, 78);
    EXPECT_EQ(exit_code::permission, 77);
}

namespace {

std::string arity_error(Verb v, size_t nargs)
{
    auto s = check_arity(verb_info(v), nargs);
    EXPECT_FALSE(s.ok()) << verb_info(v).name << " " << nargs;
    return s.ok() ? std::string() : s.error().message;
}

} // namespace

TEST(Commands, ArityFromTheTable)
{
    for (const auto& v : all_verbs()) {
        EXPECT_LE(v.min_args, v.max_args) << v.name;
        // A verb that takes no arguments has no synopsis, and the other way round.
        EXPECT_EQ(v.max_args == 0, v.synopsis.empty()) << v.name;
        EXPECT_EQ(v.max_args == 0, v.args == VerbArgs::none) << v.name;
    }
    EXPECT_TRUE(check_arity(verb_info(Verb::add), 2).ok()); // IIF GROUP: a stop filter
    EXPECT_TRUE(check_arity(verb_info(Verb::add), 3).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::add), 40).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::remove), 2).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::join), 3).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::show), 0).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::show), 5).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::check), 0).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::check), 2).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::help), 1).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::flush), 0).ok());

    EXPECT_EQ(arity_error(Verb::add, 1), "add needs IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    EXPECT_EQ(arity_error(Verb::remove, 0), "remove needs IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    EXPECT_EQ(arity_error(Verb::join, 1), "join needs IIF [SOURCE[/LEN]] GROUP[/LEN]");
    EXPECT_EQ(arity_error(Verb::leave, 4), "too many arguments to leave (usage: leave IIF [SOURCE[/LEN]] GROUP[/LEN])");
    EXPECT_EQ(arity_error(Verb::help, 2), "too many arguments to help (usage: help [COMMAND])");
    EXPECT_EQ(arity_error(Verb::kill, 1), "kill takes no arguments");
    EXPECT_EQ(arity_error(Verb::check, 1),
              "check needs no arguments (the whole config) or IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
}

TEST(Commands, ArgumentGrammar)
{
    EXPECT_EQ(verb_info(Verb::add).args, VerbArgs::route);
    EXPECT_EQ(verb_info(Verb::remove).args, VerbArgs::route);
    EXPECT_EQ(verb_info(Verb::join).args, VerbArgs::join);
    EXPECT_EQ(verb_info(Verb::leave).args, VerbArgs::join);
    EXPECT_EQ(verb_info(Verb::show).args, VerbArgs::show);
    EXPECT_EQ(verb_info(Verb::check).args, VerbArgs::optional_route);
    EXPECT_EQ(verb_info(Verb::help).args, VerbArgs::topic);
    EXPECT_EQ(verb_info(Verb::reload).args, VerbArgs::dry_run);
    EXPECT_TRUE(check_arity(verb_info(Verb::reload), 0).ok());
    EXPECT_TRUE(check_arity(verb_info(Verb::reload), 1).ok());
    EXPECT_EQ(arity_error(Verb::reload, 2), "too many arguments to reload (usage: reload [-n|--dry-run])");
}

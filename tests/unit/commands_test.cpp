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
                                                 "version", "help", "check"}));
    EXPECT_EQ(verb_info(Verb::add).synopsis, "IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF ...]");
    EXPECT_EQ(verb_info(Verb::remove).synopsis, "IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    EXPECT_EQ(verb_info(Verb::join).synopsis, "IIF [SOURCE[/LEN]] GROUP[/LEN]");
    EXPECT_EQ(verb_info(Verb::leave).synopsis, "IIF [SOURCE[/LEN]] GROUP[/LEN]");
    EXPECT_TRUE(verb_info(Verb::flush).synopsis.empty());
}

TEST(Commands, ChangesState)
{
    for (Verb v : {Verb::add, Verb::remove, Verb::join, Verb::leave, Verb::flush, Verb::reload, Verb::kill})
        EXPECT_TRUE(verb_info(v).changes_state) << verb_info(v).name;
    for (Verb v : {Verb::show, Verb::version, Verb::help})
        EXPECT_FALSE(verb_info(v).changes_state) << verb_info(v).name;
}

TEST(Commands, ExactNamesAndAliases)
{
    for (const auto& v : all_verbs())
        EXPECT_EQ(verb_of(v.name), v.verb);
    EXPECT_EQ(verb_of("rem"), Verb::remove);
    EXPECT_EQ(verb_of("del"), Verb::remove);
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

TEST(Commands, AmbiguousAndUnknown)
{
    EXPECT_EQ(verb_error("re"), "ambiguous command 're' (could be: reload, remove)");
    EXPECT_EQ(verb_error("r"), "ambiguous command 'r' (could be: reload, remove)");
    EXPECT_EQ(verb_error("x"), "unknown command 'x'");
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
    EXPECT_EQ(names, (std::set<std::string_view>{"routes", "groups", "interfaces", "pending", "memberships"}));
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
    // No two subjects share a first letter today; an empty word matches all.
    auto r = match_show("");
    ASSERT_FALSE(r.ok());
}

TEST(Commands, ExitCodes)
{
    EXPECT_EQ(exit_code::usage, 64);
    EXPECT_EQ(exit_code::config, 78);
    EXPECT_EQ(exit_code::permission, 77);
}

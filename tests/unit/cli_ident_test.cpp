// -i/--ident names files (/etc/NAME.conf, /run/NAME.sock, /run/NAME.pid,
// /run/NAME/): the parser takes only a plain name, in every personality,
// and refuses anything else as a usage error that says what is allowed.
#include "smcroute/model/cli.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace smcroute;

namespace {

Result<Invocation> parse(Personality who, std::vector<std::string_view> args)
{
    return parse_command_line(who, args);
}

// Every way of giving NAME to every personality.
std::vector<std::vector<std::string_view>> ident_forms(Personality who, std::string_view name)
{
    switch (who) {
    case Personality::daemon:
        return {{"-i", name}, {"--ident", name}};
    case Personality::ctl:
        return {{"-i", name, "show"}, {"--ident", name, "kill"}};
    case Personality::legacy:
        break;
    }
    return {{"-d", "--ident", name}, {"-i", name, "-k"}, {"-i", name, "show"}, {"--ident", name, "-a", "a", "b", "c", "d"}};
}

constexpr Personality all[] = {Personality::daemon, Personality::ctl, Personality::legacy};

} // namespace

TEST(CliIdent, PlainNamesAreAccepted)
{
    const std::string longest(64, 'a');
    for (std::string_view name : {std::string_view("smcroute"), std::string_view("tutorial"), std::string_view("a"),
                                  std::string_view("mc-2.v6_x"), std::string_view("9"), std::string_view("a..b"),
                                  std::string_view(longest)})
        for (Personality who : all)
            for (const auto& args : ident_forms(who, name)) {
                auto inv = parse(who, args);
                ASSERT_TRUE(inv.ok()) << name << ": " << inv.error().message;
                EXPECT_EQ(inv->client.ident, name);
                EXPECT_EQ(inv->daemon.ident, name);
                EXPECT_EQ(inv->daemon.socket_path, "/run/" + std::string(name) + ".sock");
                EXPECT_EQ(inv->daemon.pid_file, "/run/" + std::string(name) + ".pid");
                EXPECT_EQ(inv->daemon.config_file, "/etc/" + std::string(name) + ".conf");
            }
}

TEST(CliIdent, PathsAndOddNamesAreUsageErrors)
{
    const std::string too_long(65, 'a');
    for (std::string_view name :
         {std::string_view("../run/x"), std::string_view("a/b"), std::string_view("/etc/passwd"),
          std::string_view(".."), std::string_view("."), std::string_view(".hidden"), std::string_view("a b"),
          std::string_view("x\n"), std::string_view("x\x1b[2J"), std::string_view("a:b"), std::string_view("a*"),
          std::string_view("caf\xc3\xa9"), std::string_view(too_long)})
        for (Personality who : all)
            for (const auto& args : ident_forms(who, name)) {
                auto inv = parse(who, args);
                ASSERT_FALSE(inv.ok()) << "accepted -i '" << name << "'";
                const std::string& msg = inv.error().message;
                EXPECT_NE(msg.find("invalid identity"), std::string::npos) << msg;
                EXPECT_NE(msg.find("1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"),
                          std::string::npos)
                    << msg;
                // The name is shown, but never a control character from it.
                for (char c : msg)
                    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << "raw control byte in: " << msg;
            }
}

TEST(CliIdent, EmptyNameIsRefused)
{
    for (Personality who : all) {
        EXPECT_FALSE(parse(who, {"--ident="}).ok());
        EXPECT_FALSE(parse(who, {"-i", ""}).ok());
    }
}

TEST(CliIdent, MessageShowsTheNameEscaped)
{
    auto inv = parse(Personality::daemon, {"-i", "../run/x"});
    ASSERT_FALSE(inv.ok());
    EXPECT_EQ(inv.error().message,
              "invalid identity '../run/x': an identity names files, use 1 to 64 letters, digits, '.', '_' or '-', "
              "not starting with '.'");
    auto esc = parse(Personality::ctl, {"-i", "a\x1b", "show"});
    ASSERT_FALSE(esc.ok());
    EXPECT_NE(esc.error().message.find("'a\\x1b'"), std::string::npos) << esc.error().message;
}

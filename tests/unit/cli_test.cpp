#include "smcroute/model/cli.hpp"

#include <gtest/gtest.h>

#include <array>
#include <initializer_list>
#include <string>
#include <vector>

using namespace smcroute;

namespace {

using Words = std::vector<std::string>;

Result<Invocation> parse(Personality who, std::initializer_list<std::string_view> args)
{
    return parse_command_line(who, std::vector<std::string_view>(args));
}

Invocation ok(Personality who, std::initializer_list<std::string_view> args)
{
    auto r = parse(who, args);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(*r) : Invocation{};
}

std::string bad(Personality who, std::initializer_list<std::string_view> args)
{
    auto r = parse(who, args);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string("<parsed>") : r.error().message;
}

constexpr auto who_legacy = Personality::legacy;
constexpr auto who_daemon = Personality::daemon;
constexpr auto who_ctl = Personality::ctl;
using Mode = Invocation::Mode;

} // namespace

// ---------------------------------------------------------------- personality

TEST(Cli, PersonalityFromArgv0)
{
    EXPECT_EQ(personality_from_argv0("smcrouted"), who_daemon);
    EXPECT_EQ(personality_from_argv0("/usr/sbin/smcrouted"), who_daemon);
    EXPECT_EQ(personality_from_argv0("smcroutectl"), who_ctl);
    EXPECT_EQ(personality_from_argv0("./build/smcroutectl"), who_ctl);
    EXPECT_EQ(personality_from_argv0("smcroute"), who_legacy);
    EXPECT_EQ(personality_from_argv0("/usr/sbin/smcroute"), who_legacy);
    EXPECT_EQ(personality_from_argv0("smcrouted.old"), who_legacy);
    EXPECT_EQ(personality_from_argv0("/smcrouted/x"), who_legacy);
    EXPECT_EQ(personality_from_argv0(""), who_legacy);
}

// --------------------------------------------------------------------- legacy

TEST(CliLegacy, DaemonAlone)
{
    auto inv = ok(who_legacy, {"-d"});
    EXPECT_EQ(inv.mode, Mode::daemon);
    EXPECT_EQ(inv.personality, who_legacy);
    EXPECT_TRUE(inv.commands.empty());
    EXPECT_EQ(inv.daemon.config_file, "/etc/smcroute.conf");
    EXPECT_FALSE(inv.daemon.config_given);
    EXPECT_EQ(inv.daemon.socket_path, "/run/smcroute.sock");
    EXPECT_EQ(inv.daemon.pid_file, "/run/smcroute.pid");
    EXPECT_FALSE(inv.daemon.socket_given);
    EXPECT_FALSE(inv.daemon.pid_file_given);
    EXPECT_EQ(inv.client.socket_path, "/run/smcroute.sock");
    EXPECT_FALSE(inv.daemon.foreground);
}

// A -P or -u that names the default place is still given: -p keeps it there.
TEST(CliDaemon, PathsGivenAsTheDefaultAreGiven)
{
    auto inv = ok(who_daemon, {"-P", "/run/smcroute.pid", "-u", "/run/smcroute.sock"});
    EXPECT_TRUE(inv.daemon.pid_file_given);
    EXPECT_TRUE(inv.daemon.socket_given);
    EXPECT_EQ(inv.daemon.pid_file, "/run/smcroute.pid");
}

TEST(CliLegacy, DaemonWithLongOptions)
{
    auto inv = ok(who_legacy, {"-d", "--foreground", "--config", "/tmp/x.conf", "--syslog", "--log-level", "info",
                           "--table", "123", "--socket", "/tmp/s.sock", "--pidfile", "/tmp/p.pid",
                           "--cache-timeout", "0", "--exec", "/bin/true", "--user", "nobody:nogroup",
                           "--mrdisc-interval", "30", "--startup-delay", "5", "--strict-config"});
    EXPECT_EQ(inv.mode, Mode::daemon);
    const auto& d = inv.daemon;
    EXPECT_TRUE(d.foreground);
    EXPECT_EQ(d.config_file, "/tmp/x.conf");
    EXPECT_TRUE(d.config_given);
    EXPECT_TRUE(d.syslog);
    EXPECT_EQ(d.log_level, LogLevel::info);
    EXPECT_EQ(d.table, 123u);
    EXPECT_EQ(d.socket_path, "/tmp/s.sock");
    EXPECT_EQ(inv.client.socket_path, "/tmp/s.sock");
    EXPECT_EQ(d.pid_file, "/tmp/p.pid");
    EXPECT_EQ(d.cache_timeout, 0u);
    EXPECT_EQ(d.script, "/bin/true");
    EXPECT_EQ(d.user, "nobody:nogroup");
    EXPECT_EQ(d.mrdisc_interval, 30u);
    EXPECT_EQ(d.startup_delay, 5u);
    EXPECT_TRUE(d.strict_config);
}

TEST(CliLegacy, LongOptionEqualsAndPrefix)
{
    auto inv = ok(who_legacy, {"-d", "--config=/a.conf", "--fore", "--ident=foo"});
    EXPECT_EQ(inv.daemon.config_file, "/a.conf");
    EXPECT_TRUE(inv.daemon.foreground);
    EXPECT_EQ(inv.daemon.ident, "foo");
    EXPECT_EQ(inv.daemon.pid_file, "/run/foo.pid");
    EXPECT_EQ(inv.daemon.socket_path, "/run/foo.sock");
    EXPECT_EQ(inv.client.socket_path, "/run/foo.sock");
}

TEST(CliLegacy, IdentDerivesDefaults)
{
    auto inv = ok(who_legacy, {"-d", "--ident", "mc2"});
    EXPECT_EQ(inv.daemon.config_file, "/etc/mc2.conf");
    EXPECT_EQ(inv.daemon.socket_path, "/run/mc2.sock");
    EXPECT_EQ(inv.daemon.pid_file, "/run/mc2.pid");
}

TEST(CliLegacy, CheckConfig)
{
    auto inv = ok(who_legacy, {"--check", "/tmp/c.conf"});
    EXPECT_EQ(inv.mode, Mode::check_config);
    EXPECT_EQ(inv.daemon.config_file, "/tmp/c.conf");
}

TEST(CliLegacy, AddRoute)
{
    auto inv = ok(who_legacy, {"-a", "eth0", "192.168.1.42", "225.1.2.3", "eth1", "eth2"});
    EXPECT_EQ(inv.mode, Mode::client);
    ASSERT_EQ(inv.commands.size(), 1u);
    EXPECT_EQ(inv.commands[0].verb, Verb::add);
    EXPECT_EQ(inv.commands[0].args, (Words{"eth0", "192.168.1.42", "225.1.2.3", "eth1", "eth2"}));
    EXPECT_EQ(inv.commands[0].label, "-a eth0 192.168.1.42 225.1.2.3 eth1 eth2");
}

TEST(CliLegacy, RemoveIgnoresOifs)
{
    auto inv = ok(who_legacy, {"-r", "eth0", "192.168.1.42", "225.1.2.3", "eth1", "eth2"});
    ASSERT_EQ(inv.commands.size(), 1u);
    EXPECT_EQ(inv.commands[0].verb, Verb::remove);
    EXPECT_EQ(inv.commands[0].args, (Words{"eth0", "192.168.1.42", "225.1.2.3"}));
}

TEST(CliLegacy, JoinLeaveReorder)
{
    auto inv = ok(who_legacy, {"-j", "eth0", "225.1.2.3", "-j", "eth1", "232.1.1.1", "10.0.0.1", "-l", "eth0",
                           "225.1.2.3", "-l", "eth1", "232.1.1.1", "10.0.0.1"});
    ASSERT_EQ(inv.commands.size(), 4u);
    EXPECT_EQ(inv.commands[0].verb, Verb::join);
    EXPECT_EQ(inv.commands[0].args, (Words{"eth0", "225.1.2.3"}));
    EXPECT_EQ(inv.commands[1].verb, Verb::join);
    EXPECT_EQ(inv.commands[1].args, (Words{"eth1", "10.0.0.1", "232.1.1.1"}));
    EXPECT_EQ(inv.commands[2].verb, Verb::leave);
    EXPECT_EQ(inv.commands[2].args, (Words{"eth0", "225.1.2.3"}));
    EXPECT_EQ(inv.commands[3].verb, Verb::leave);
    EXPECT_EQ(inv.commands[3].args, (Words{"eth1", "10.0.0.1", "232.1.1.1"}));
    EXPECT_EQ(inv.commands[1].label, "-j eth1 232.1.1.1 10.0.0.1");
}

TEST(CliLegacy, SeveralCommandsInOrder)
{
    auto inv = ok(who_legacy, {"-a", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "-a", "eth0", "*", "225.1.2.4", "eth1",
                           "eth2", "-r", "eth0", "10.0.0.1", "225.1.2.3", "-k"});
    ASSERT_EQ(inv.commands.size(), 4u);
    EXPECT_EQ(inv.commands[0].verb, Verb::add);
    EXPECT_EQ(inv.commands[0].args, (Words{"eth0", "10.0.0.1", "225.1.2.3", "eth1"}));
    EXPECT_EQ(inv.commands[1].verb, Verb::add);
    EXPECT_EQ(inv.commands[1].args, (Words{"eth0", "*", "225.1.2.4", "eth1", "eth2"}));
    EXPECT_EQ(inv.commands[2].verb, Verb::remove);
    EXPECT_EQ(inv.commands[2].args, (Words{"eth0", "10.0.0.1", "225.1.2.3"}));
    EXPECT_EQ(inv.commands[3].verb, Verb::kill);
    EXPECT_TRUE(inv.commands[3].args.empty());
    EXPECT_EQ(inv.commands[3].label, "-k");
}

TEST(CliLegacy, DaemonThenCommands)
{
    auto inv = ok(who_legacy, {"-d", "--foreground", "-a", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "-j", "eth0",
                           "225.1.2.3"});
    EXPECT_EQ(inv.mode, Mode::daemon);
    EXPECT_TRUE(inv.daemon.foreground);
    ASSERT_EQ(inv.commands.size(), 2u);
    EXPECT_EQ(inv.commands[0].verb, Verb::add);
    EXPECT_EQ(inv.commands[1].verb, Verb::join);
}

TEST(CliLegacy, VerboseDebug)
{
    auto inv = ok(who_legacy, {"-v", "-D", "-k"});
    EXPECT_TRUE(inv.verbose);
    EXPECT_TRUE(inv.debug);
    EXPECT_EQ(inv.daemon.log_level, LogLevel::debug);
    auto clustered = ok(who_legacy, {"-vDd"});
    EXPECT_TRUE(clustered.verbose);
    EXPECT_TRUE(clustered.debug);
    EXPECT_EQ(clustered.mode, Mode::daemon);
}

TEST(CliLegacy, HelpAndVersion)
{
    EXPECT_EQ(ok(who_legacy, {"-h"}).mode, Mode::help);
    EXPECT_EQ(ok(who_legacy, {"--help"}).mode, Mode::help);
    EXPECT_EQ(ok(who_legacy, {"--version"}).mode, Mode::version);
    EXPECT_EQ(ok(who_legacy, {"-d", "-h"}).mode, Mode::help);
}

TEST(CliLegacy, NegativeNumberIsAnArgument)
{
    // A word like "-1" is not an option; it ends up as an argument.
    auto inv = ok(who_legacy, {"-a", "eth0", "-1", "225.1.2.3", "eth1"});
    ASSERT_EQ(inv.commands.size(), 1u);
    EXPECT_EQ(inv.commands[0].args, (Words{"eth0", "-1", "225.1.2.3", "eth1"}));
}

TEST(CliLegacy, UsageErrors)
{
    // Without OIF: a stop filter; SOURCE stays required (* for any).
    auto stop = ok(who_legacy, {"-a", "eth0", "10.0.0.1", "225.1.2.3"});
    ASSERT_EQ(stop.commands.size(), 1u);
    EXPECT_EQ(stop.commands[0].verb, Verb::add);
    EXPECT_EQ(stop.commands[0].args, (Words{"eth0", "10.0.0.1", "225.1.2.3"}));
    EXPECT_EQ(bad(who_legacy, {"-a", "eth0", "225.1.2.3"}), "-a needs IIF SOURCE GROUP [OIF ...]");
    EXPECT_EQ(bad(who_legacy, {"-a"}), "-a needs IIF SOURCE GROUP [OIF ...]");
    EXPECT_EQ(bad(who_legacy, {"-a", "eth0", "-r", "eth0", "1.1.1.1", "225.1.1.1"}),
              "-a needs IIF SOURCE GROUP [OIF ...]");
    EXPECT_EQ(bad(who_legacy, {"-r", "eth0", "10.0.0.1"}), "-r needs IIF SOURCE GROUP");
    EXPECT_EQ(bad(who_legacy, {"-j", "eth0"}), "-j needs IIF GROUP [SOURCE]");
    EXPECT_EQ(bad(who_legacy, {"-l", "eth0", "225.1.1.1", "10.0.0.1", "extra"}), "-l needs IIF GROUP [SOURCE]");
    EXPECT_EQ(bad(who_legacy, {"-k", "now"}), "unexpected argument 'now'");
    EXPECT_EQ(bad(who_legacy, {"-x"}), "unknown option '-x'");
    EXPECT_EQ(bad(who_legacy, {"--bogus"}), "unknown option '--bogus'");
    EXPECT_EQ(bad(who_legacy, {}), "no command given");
    EXPECT_EQ(bad(who_legacy, {"-v"}), "no command given");
    EXPECT_EQ(bad(who_legacy, {"-d", "--table", "x"}), "invalid table id 'x'");
    EXPECT_EQ(bad(who_legacy, {"-d", "--log-level", "loud"}), "invalid log level 'loud' (none, err, notice, info, debug)");
    EXPECT_EQ(bad(who_legacy, {"-d", "--config"}), "option '--config' needs an argument FILE");
    EXPECT_EQ(bad(who_legacy, {"-d", "--foreground=yes"}), "option '--foreground' takes no argument");
    // --s is a prefix of several long options.
    auto amb = bad(who_legacy, {"-d", "--s", "x"});
    EXPECT_NE(amb.find("ambiguous option '--s'"), std::string::npos) << amb;
    EXPECT_NE(amb.find("--socket"), std::string::npos) << amb;
    EXPECT_NE(amb.find("--syslog"), std::string::npos) << amb;
}

TEST(CliLegacy, VerbForm)
{
    auto inv = ok(who_legacy, {"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1"});
    EXPECT_EQ(inv.mode, Mode::client);
    ASSERT_EQ(inv.commands.size(), 1u);
    EXPECT_EQ(inv.commands[0].verb, Verb::add);
    EXPECT_EQ(inv.commands[0].args, (Words{"eth0", "10.0.0.1", "225.1.2.3", "eth1"}));

    auto show = ok(who_legacy, {"-d", "-t", "-u", "/tmp/x.sock", "-i", "foo", "s", "g"});
    EXPECT_EQ(show.mode, Mode::client);
    EXPECT_TRUE(show.client.detail);
    EXPECT_TRUE(show.client.no_headings);
    EXPECT_EQ(show.client.socket_path, "/tmp/x.sock");
    EXPECT_EQ(show.client.ident, "foo");
    ASSERT_EQ(show.commands.size(), 1u);
    EXPECT_EQ(show.commands[0].verb, Verb::show);
    EXPECT_EQ(show.commands[0].args, (Words{"groups"}));

    auto json = ok(who_legacy, {"-j", "show"});
    EXPECT_TRUE(json.client.json);
    ASSERT_EQ(json.commands.size(), 1u);
    EXPECT_EQ(json.commands[0].verb, Verb::show);
    EXPECT_EQ(json.commands[0].args, (Words{"routes"}));

    auto plain = ok(who_legacy, {"-p", "-i", "x", "rem", "eth0", "225.1.2.3"});
    EXPECT_TRUE(plain.client.plain);
    EXPECT_EQ(plain.client.socket_path, "/run/x.sock");
    EXPECT_EQ(plain.commands[0].verb, Verb::remove);

    EXPECT_EQ(ok(who_legacy, {"re"}).commands.at(0).verb, Verb::reload);
    EXPECT_EQ(bad(who_legacy, {"bogus"}), "unknown command 'bogus'");
    EXPECT_EQ(bad(who_legacy, {"add", "eth0"}), "add needs IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    // No OIF: a stop filter.
    EXPECT_EQ(ok(who_legacy, {"add", "eth0", "225.1.2.3"}).commands.at(0).args, (Words{"eth0", "225.1.2.3"}));
}

TEST(CliLegacy, JoinIsNotAVerbPrefix)
{
    // "-j eth0 ..." is a legacy join, "-j show" JSON output.
    auto inv = ok(who_legacy, {"-j", "eth0", "225.1.2.3"});
    EXPECT_FALSE(inv.client.json);
    ASSERT_EQ(inv.commands.size(), 1u);
    EXPECT_EQ(inv.commands[0].verb, Verb::join);
}

TEST(CliLegacy, Batch)
{
    auto inv = ok(who_legacy, {"-b"});
    EXPECT_TRUE(inv.client.batch);
    EXPECT_EQ(inv.mode, Mode::client);
    EXPECT_TRUE(inv.commands.empty());
}

// --------------------------------------------------------------------- daemon

TEST(CliDaemon, Defaults)
{
    auto inv = ok(who_daemon, {});
    EXPECT_EQ(inv.mode, Mode::daemon);
    EXPECT_EQ(inv.personality, who_daemon);
    EXPECT_EQ(inv.daemon.ident, "smcroute");
    EXPECT_EQ(inv.daemon.config_file, "/etc/smcroute.conf");
    EXPECT_EQ(inv.daemon.socket_path, "/run/smcroute.sock");
    EXPECT_EQ(inv.daemon.pid_file, "/run/smcroute.pid");
    EXPECT_EQ(inv.daemon.cache_timeout, 60u);
    EXPECT_EQ(inv.daemon.mrdisc_interval, 20u);
    EXPECT_EQ(inv.daemon.table, 0u);
    EXPECT_EQ(inv.daemon.log_level, LogLevel::notice);
    EXPECT_FALSE(inv.daemon.only_enabled);
}

TEST(CliDaemon, ShortOptions)
{
    auto inv = ok(who_daemon, {"-f", "/a.conf", "-n", "-s", "-l", "debug", "-i", "foo", "-t", "4294967295", "-u",
                           "/s.sock", "-P", "/p.pid", "-c", "0", "-e", "/bin/x", "-p", "nobody", "-m", "180", "-d",
                           "3", "-N"});
    EXPECT_EQ(inv.mode, Mode::daemon);
    const auto& d = inv.daemon;
    EXPECT_EQ(d.config_file, "/a.conf");
    EXPECT_TRUE(d.config_given);
    EXPECT_TRUE(d.foreground);
    EXPECT_TRUE(d.syslog);
    EXPECT_EQ(d.log_level, LogLevel::debug);
    EXPECT_EQ(d.ident, "foo");
    EXPECT_EQ(d.table, 4294967295u);
    EXPECT_EQ(d.socket_path, "/s.sock");
    EXPECT_EQ(d.pid_file, "/p.pid");
    EXPECT_EQ(d.cache_timeout, 0u);
    EXPECT_EQ(d.script, "/bin/x");
    EXPECT_EQ(d.user, "nobody");
    EXPECT_EQ(d.mrdisc_interval, 180u);
    EXPECT_EQ(d.startup_delay, 3u);
    EXPECT_TRUE(d.only_enabled);
}

TEST(CliDaemon, ClustersAndAttachedValues)
{
    auto inv = ok(who_daemon, {"-ns", "-f/x.conf", "-lnone", "-t5"});
    EXPECT_TRUE(inv.daemon.foreground);
    EXPECT_TRUE(inv.daemon.syslog);
    EXPECT_EQ(inv.daemon.config_file, "/x.conf");
    EXPECT_EQ(inv.daemon.log_level, LogLevel::none);
    EXPECT_EQ(inv.daemon.table, 5u);
    auto tail = ok(who_daemon, {"-nf", "/y.conf"});
    EXPECT_TRUE(tail.daemon.foreground);
    EXPECT_EQ(tail.daemon.config_file, "/y.conf");
}

TEST(CliDaemon, LongOptions)
{
    auto inv = ok(who_daemon, {"--foreground", "--config", "/a.conf", "--table=7", "--ignore-errors", "--ident", "x"});
    EXPECT_FALSE(inv.daemon.strict_config); // the default: start with the valid lines
    EXPECT_TRUE(inv.daemon.foreground);
    EXPECT_EQ(inv.daemon.config_file, "/a.conf");
    EXPECT_EQ(inv.daemon.table, 7u);
    EXPECT_EQ(inv.daemon.pid_file, "/run/x.pid");
    // The last of --strict-config and --ignore-errors wins.
    EXPECT_TRUE(ok(who_daemon, {"--ignore-errors", "--strict-config"}).daemon.strict_config);
    EXPECT_FALSE(ok(who_daemon, {"--strict-config", "--ignore-errors"}).daemon.strict_config);
}

TEST(CliDaemon, CheckConfig)
{
    auto inv = ok(who_daemon, {"-F", "/tmp/t.conf", "-l", "info"});
    EXPECT_EQ(inv.mode, Mode::check_config);
    EXPECT_EQ(inv.daemon.config_file, "/tmp/t.conf");
    EXPECT_TRUE(inv.daemon.config_given);
    EXPECT_EQ(inv.daemon.log_level, LogLevel::info);
    EXPECT_EQ(ok(who_daemon, {"--check=/c"}).mode, Mode::check_config);
}

TEST(CliDaemon, HelpVersion)
{
    EXPECT_EQ(ok(who_daemon, {"-h"}).mode, Mode::help);
    EXPECT_EQ(ok(who_daemon, {"--help"}).mode, Mode::help);
    EXPECT_EQ(ok(who_daemon, {"-v"}).mode, Mode::version);
    EXPECT_EQ(ok(who_daemon, {"--version"}).mode, Mode::version);
}

TEST(CliDaemon, BadNumbersAndOptions)
{
    EXPECT_EQ(bad(who_daemon, {"-t", "x"}), "invalid table id 'x'");
    EXPECT_EQ(bad(who_daemon, {"-t", "4294967296"}), "invalid table id '4294967296'");
    EXPECT_EQ(bad(who_daemon, {"-t", "-1"}), "invalid table id '-1'");
    EXPECT_EQ(bad(who_daemon, {"-t", "12abc"}), "invalid table id '12abc'");
    EXPECT_EQ(bad(who_daemon, {"-c", "-1"}), "invalid cache timeout '-1'");
    EXPECT_EQ(bad(who_daemon, {"-c", "1.5"}), "invalid cache timeout '1.5'");
    EXPECT_EQ(bad(who_daemon, {"-d", "soon"}), "invalid startup delay 'soon'");
    EXPECT_EQ(bad(who_daemon, {"-m", "2"}), "invalid mrdisc interval '2' (4-180)");
    EXPECT_EQ(bad(who_daemon, {"-m", "181"}), "invalid mrdisc interval '181' (4-180)");
    EXPECT_EQ(bad(who_daemon, {"-l", "chatty"}), "invalid log level 'chatty' (none, err, notice, info, debug)");
    EXPECT_EQ(bad(who_daemon, {"-F"}), "option '-F' needs an argument FILE");
    EXPECT_EQ(bad(who_daemon, {"-f", ""}), "option '-f' needs a non-empty FILE");
    EXPECT_EQ(bad(who_daemon, {"-x"}), "unknown option '-x'");
    EXPECT_EQ(bad(who_daemon, {"-a", "eth0"}), "unknown option '-a'");
    EXPECT_EQ(bad(who_daemon, {"stray"}), "unexpected argument 'stray'");
    EXPECT_EQ(bad(who_daemon, {"--nope"}), "unknown option '--nope'");
}

// ------------------------------------------------------------------------ ctl

TEST(CliCtl, NoVerbShowsRoutes)
{
    auto inv = ok(who_ctl, {});
    EXPECT_EQ(inv.mode, Mode::client);
    EXPECT_EQ(inv.personality, who_ctl);
    ASSERT_EQ(inv.commands.size(), 1u);
    EXPECT_EQ(inv.commands[0].verb, Verb::show);
    EXPECT_EQ(inv.commands[0].args, (Words{"routes"}));
    EXPECT_EQ(inv.client.socket_path, "/run/smcroute.sock");
}

TEST(CliCtl, Options)
{
    auto inv = ok(who_ctl, {"-u", "/tmp/s", "-i", "foo", "-d", "-p", "-t", "-j", "show", "groups"});
    EXPECT_EQ(inv.client.socket_path, "/tmp/s");
    EXPECT_EQ(inv.client.ident, "foo");
    EXPECT_TRUE(inv.client.detail);
    EXPECT_TRUE(inv.client.plain);
    EXPECT_TRUE(inv.client.no_headings);
    EXPECT_TRUE(inv.client.json);
    ASSERT_EQ(inv.commands.size(), 1u);
    EXPECT_EQ(inv.commands[0].args, (Words{"groups"}));

    auto ident = ok(who_ctl, {"-i", "bar", "kill"});
    EXPECT_EQ(ident.client.socket_path, "/run/bar.sock");
    EXPECT_EQ(ident.commands[0].verb, Verb::kill);

    auto cluster = ok(who_ctl, {"-dt", "s"});
    EXPECT_TRUE(cluster.client.detail);
    EXPECT_TRUE(cluster.client.no_headings);
}

TEST(CliCtl, HelpVersionBatch)
{
    EXPECT_EQ(ok(who_ctl, {"-h"}).mode, Mode::help);
    EXPECT_EQ(ok(who_ctl, {"-v"}).mode, Mode::version);
    auto b = ok(who_ctl, {"-b"});
    EXPECT_TRUE(b.client.batch);
    EXPECT_TRUE(b.commands.empty());
    // Words after -b are ignored, as SMCRoute 2.x's smcroutectl ignored
    // them, with a notice; options among them still count.
    auto ignored = ok(who_ctl, {"-b", "show", "-d", "routes"});
    EXPECT_TRUE(ignored.client.batch);
    EXPECT_TRUE(ignored.client.detail);
    EXPECT_TRUE(ignored.commands.empty());
    EXPECT_EQ(ignored.notices,
              (Words{"-b reads the commands from standard input; ignored on the command line: show routes"}));
    EXPECT_TRUE(ok(who_ctl, {"-b", "frobnicate"}).commands.empty());
    auto after = ok(who_ctl, {"show", "groups", "-b"});
    EXPECT_TRUE(after.commands.empty());
    EXPECT_EQ(after.notices,
              (Words{"-b reads the commands from standard input; ignored on the command line: show groups"}));
    EXPECT_TRUE(ok(who_ctl, {"-b"}).notices.empty());
    EXPECT_TRUE(ok(who_ctl, {"-b", ""}).notices.empty()); // an empty word is nothing to ignore
    auto dashes = ok(who_ctl, {"-b", "show", "--", "-d", "x"}); // "--" is ignored too, not an end of options
    EXPECT_TRUE(dashes.client.detail);
    EXPECT_EQ(dashes.notices,
              (Words{"-b reads the commands from standard input; ignored on the command line: show -- x"}));
    EXPECT_EQ(bad(who_ctl, {"-b", "show", "-Z"}), "unknown option '-Z'");
    auto help = ok(who_ctl, {"help"});
    EXPECT_EQ(help.mode, Mode::client);
    ASSERT_EQ(help.commands.size(), 1u);
    EXPECT_EQ(help.commands[0].verb, Verb::help);
    auto topic = ok(who_ctl, {"help", "rem"});
    EXPECT_EQ(topic.commands[0].args, (Words{"remove"}));
    EXPECT_EQ(ok(who_ctl, {"ver"}).commands[0].verb, Verb::version);
}

TEST(CliCtl, VerbsAndArgs)
{
    auto add = ok(who_ctl, {"a", "eth0", "225.1.2.3", "eth1"});
    EXPECT_EQ(add.commands[0].verb, Verb::add);
    EXPECT_EQ(add.commands[0].args, (Words{"eth0", "225.1.2.3", "eth1"}));
    auto rem = ok(who_ctl, {"del", "eth0", "10.0.0.1", "225.1.2.3", "eth1"});
    EXPECT_EQ(rem.commands[0].verb, Verb::remove);
    EXPECT_EQ(rem.commands[0].args, (Words{"eth0", "10.0.0.1", "225.1.2.3", "eth1"}));
    auto join = ok(who_ctl, {"join", "eth0", "10.0.0.1", "232.1.1.1"});
    EXPECT_EQ(join.commands[0].args, (Words{"eth0", "10.0.0.1", "232.1.1.1"}));
    auto leave = ok(who_ctl, {"leave", "eth0", "225.1.1.0/24"});
    EXPECT_EQ(leave.commands[0].verb, Verb::leave);
    // Addresses are the daemon's to validate.
    auto odd = ok(who_ctl, {"add", "eth0", "not-an-address", "eth1"});
    EXPECT_EQ(odd.commands[0].args, (Words{"eth0", "not-an-address", "eth1"}));
    for (auto v : {"flush", "reload", "kill", "version"})
        EXPECT_EQ(ok(who_ctl, {v}).commands[0].args, Words{}) << v;
    // Words after the verb are its arguments, even ones that look like options.
    auto neg = ok(who_ctl, {"add", "eth0", "-1", "225.1.2.3", "eth1"});
    EXPECT_EQ(neg.commands[0].args, (Words{"eth0", "-1", "225.1.2.3", "eth1"}));
}

TEST(CliCtl, ReloadDryRun)
{
    for (auto who : {who_ctl, who_legacy}) {
        for (auto word : {"-n", "--dry-run"}) {
            auto inv = ok(who, {"reload", word});
            ASSERT_EQ(inv.commands.size(), 1u);
            EXPECT_EQ(inv.commands[0].verb, Verb::reload);
            EXPECT_EQ(inv.commands[0].args, (Words{"--dry-run"})) << word;
        }
        // An alias of reload takes it too; options around it still count.
        auto aliased = ok(who, {"-i", "x", "restart", "-n"});
        EXPECT_EQ(aliased.commands.at(0).args, (Words{"--dry-run"}));
        EXPECT_EQ(aliased.client.socket_path, "/run/x.sock");
        EXPECT_EQ(ok(who, {"reload", "-j", "-n"}).commands.at(0).args, (Words{"--dry-run"}));
        EXPECT_TRUE(ok(who, {"reload", "-j", "-n"}).client.json);
    }
    // Anything else is refused, clearly; -n is reload's only (show -n is not a dry run).
    EXPECT_EQ(bad(who_ctl, {"reload", "now"}), "reload: unexpected 'now' (expected -n or --dry-run)");
    EXPECT_EQ(bad(who_ctl, {"reload", "--", "-x"}), "reload: unexpected '-x' (expected -n or --dry-run)");
    EXPECT_EQ(bad(who_ctl, {"reload", "-n", "-n"}), "too many arguments to reload (usage: reload [-n|--dry-run])");
    EXPECT_EQ(bad(who_ctl, {"reload", "--dry"}), "unknown option '--dry'");
    EXPECT_EQ(bad(who_ctl, {"flush", "-n"}), "unknown option '-n'");
    // Batch lines go through the same parser.
    auto line = parse_client_command({"reload", "-n"});
    ASSERT_TRUE(line.ok());
    EXPECT_EQ(line->args, (Words{"--dry-run"}));
    EXPECT_FALSE(parse_client_command({"reload", "-x"}).ok());
}

TEST(CliCtl, Show)
{
    EXPECT_EQ(ok(who_ctl, {"show"}).commands[0].args, (Words{"routes"}));
    EXPECT_EQ(ok(who_ctl, {"s", "i"}).commands[0].args, (Words{"interfaces"}));
    EXPECT_EQ(ok(who_ctl, {"show", "pending"}).commands[0].args, (Words{"pending"}));
    EXPECT_EQ(ok(who_ctl, {"show", "memberships", "-i", "eth0", "-f", "inet6"}).commands[0].args,
              (Words{"memberships", "-i", "eth0", "-f", "inet6"}));
    EXPECT_EQ(ok(who_ctl, {"show", "-f", "inet", "mem"}).commands[0].args, (Words{"memberships", "-f", "inet"}));
    EXPECT_EQ(ok(who_ctl, {"show", "-i", "eth1"}).commands[0].args, (Words{"routes", "-i", "eth1"}));
    EXPECT_EQ(bad(who_ctl, {"show", "foo"}), "unknown show subject 'foo'");
    EXPECT_EQ(bad(who_ctl, {"show", "mem", "-f", "ipx"}), "show -f needs inet or inet6");
    EXPECT_EQ(bad(who_ctl, {"show", "mem", "-i"}), "show -i needs an interface name");
    // An option word after the verb is a client option (as in SMCRoute 2.x).
    EXPECT_EQ(bad(who_ctl, {"show", "mem", "-x"}), "unknown option '-x'");
    EXPECT_EQ(bad(who_ctl, {"show", "mem", "-1"}), "unknown show option '-1'");
    EXPECT_EQ(bad(who_ctl, {"show", "routes", "groups"}), "unexpected argument 'groups' to show");
}

TEST(CliCtl, UsageErrors)
{
    EXPECT_EQ(bad(who_ctl, {"rex"}), "unknown command 'rex'");
    EXPECT_EQ(bad(who_ctl, {"foo"}), "unknown command 'foo'");
    EXPECT_EQ(bad(who_ctl, {"add", "eth0"}), "add needs IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    EXPECT_EQ(bad(who_ctl, {"add"}), "add needs IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    EXPECT_EQ(bad(who_ctl, {"remove", "eth0"}), "remove needs IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF ...]");
    EXPECT_EQ(bad(who_ctl, {"join", "eth0"}), "join needs IIF [SOURCE[/LEN]] GROUP[/LEN]");
    EXPECT_EQ(bad(who_ctl, {"leave", "eth0", "1", "2", "3"}),
              "too many arguments to leave (usage: leave IIF [SOURCE[/LEN]] GROUP[/LEN])");
    EXPECT_EQ(bad(who_ctl, {"flush", "now"}), "flush takes no arguments");
    EXPECT_EQ(bad(who_ctl, {"kill", "-9"}), "kill takes no arguments");
    EXPECT_EQ(bad(who_ctl, {"help", "bogus"}), "unknown command 'bogus'");
    EXPECT_EQ(bad(who_ctl, {"-x"}), "unknown option '-x'");
    EXPECT_EQ(bad(who_ctl, {"-u"}), "option '-u' needs an argument FILE");
    EXPECT_EQ(bad(who_ctl, {"-a", "eth0"}), "unknown option '-a'");
}

TEST(CliCtl, ParseClientCommand)
{
    auto c = parse_client_command({"sh", "gr"});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->verb, Verb::show);
    EXPECT_EQ(c->args, (Words{"groups"}));
    EXPECT_FALSE(parse_client_command({}).ok());
}

// ------------------------------------------------------------------ help text

TEST(CliHelp, MentionsEveryOptionOfItsTable)
{
    for (auto who : {who_legacy, who_daemon, who_ctl}) {
        std::string help = help_text(who);
        for (const auto& o : option_table(who)) {
            if (o.letter != 0) {
                EXPECT_NE(help.find(std::string("-") + o.letter), std::string::npos) << help << o.letter;
            }
            if (!o.long_name.empty()) {
                EXPECT_NE(help.find("--" + std::string(o.long_name)), std::string::npos) << o.long_name;
            }
            if (!o.arg.empty()) {
                EXPECT_NE(help.find(std::string(o.arg)), std::string::npos) << o.arg;
            }
            EXPECT_NE(help.find(std::string(o.help)), std::string::npos) << o.help;
        }
    }
    // The legacy form also accepts and documents every daemon long option.
    std::string legacy_help = help_text(who_legacy);
    for (const auto& o : option_table(who_daemon)) {
        if (!o.long_name.empty()) {
            EXPECT_NE(legacy_help.find("--" + std::string(o.long_name)), std::string::npos) << o.long_name;
        }
    }
}

TEST(CliHelp, EveryOptionCarriesItsSetter)
{
    // A setting applies itself; only the legacy command options (-a -r -j
    // -l -k, which collect their words) have none.
    for (auto who : {who_legacy, who_daemon, who_ctl})
        for (const auto& o : option_table(who)) {
            const bool command = who == who_legacy && (o.long_name == "add" || o.long_name == "remove" ||
                                                       o.long_name == "join" || o.long_name == "leave" ||
                                                       o.long_name == "kill");
            EXPECT_EQ(o.set == nullptr, command) << program_name(who) << " " << o.long_name << o.letter;
        }
}

TEST(CliHelp, EveryOptionInTheTableParses)
{
    // Help and parser share the tables: every option listed must be accepted.
    for (auto who : {who_daemon, who_ctl}) {
        for (const auto& o : option_table(who)) {
            std::string value = o.arg.empty() ? "" : (o.arg == "SEC" ? "30" : o.arg == "LVL" ? "info"
                                                                          : o.arg == "ID"   ? "1"
                                                                          : o.arg == "MODE" ? "0660"
                                                                          : o.arg == "N"    ? "100"
                                                                                            : "x");
            std::vector<std::string> forms;
            if (o.letter != 0)
                forms.push_back(std::string("-") + o.letter);
            if (!o.long_name.empty())
                forms.push_back("--" + std::string(o.long_name));
            for (const auto& f : forms) {
                std::vector<std::string_view> args{f};
                if (!value.empty())
                    args.push_back(value);
                auto r = parse_command_line(who, args);
                EXPECT_TRUE(r.ok()) << f << " " << value << ": " << (r.ok() ? "" : r.error().message);
            }
        }
    }
}

TEST(Cli, SocketModeIsOctal)
{
    auto r = parse_command_line(who_daemon, {"--socket-mode", "0640", "--socket-group", "adm"});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->daemon.socket_mode, 0640u);
    EXPECT_EQ(r->daemon.socket_group, "adm");
    for (std::string_view bad : {"0999", "x", "01777", "66O"}) {
        auto b = parse_command_line(who_daemon, {"--socket-mode", bad});
        ASSERT_FALSE(b.ok()) << bad;
        EXPECT_NE(b.error().message.find("invalid socket mode"), std::string::npos) << b.error().message;
    }
}

TEST(CliHelp, MentionsEveryVerbAndSubject)
{
    for (auto who : {who_legacy, who_ctl}) {
        std::string help = help_text(who);
        for (const auto& v : all_verbs()) {
            EXPECT_NE(help.find(std::string(v.name)), std::string::npos) << v.name;
            EXPECT_NE(help.find(std::string(v.help)), std::string::npos) << v.name;
            if (!v.synopsis.empty()) {
                EXPECT_NE(help.find(std::string(v.synopsis)), std::string::npos) << v.name;
            }
        }
        for (const auto& s : all_show_subjects())
            EXPECT_NE(help.find(std::string(s.name)), std::string::npos) << s.name;
    }
    EXPECT_NE(help_text(who_daemon).find("smcrouted"), std::string::npos);
    EXPECT_NE(help_text(who_ctl).find("smcroutectl"), std::string::npos);
}

TEST(CliHelp, Version)
{
    EXPECT_EQ(version_text(), std::string("smcroute ") + SMCROUTE_VERSION);
}

// ------------------------------------------------- SMCRoute 2.x command lines

namespace {

// What a parse produced, in one line: mode, the settings these lines touch,
// then each command and each notice.
std::string describe(const Invocation& inv)
{
    static constexpr std::array<std::string_view, 5> modes{"daemon", "check", "client", "help", "version"};
    std::string out(modes.at(static_cast<size_t>(inv.mode)));
    if (inv.mode == Mode::daemon) {
        const auto& d = inv.daemon;
        out += cat(" ident=", d.ident, " sock=", d.socket_path, " pid=", d.pid_file, " conf=", d.config_file);
        if (d.foreground)
            out += " fg";
        if (d.only_enabled)
            out += " -N";
    } else if (inv.mode == Mode::client) {
        const auto& c = inv.client;
        out += cat(" sock=", c.socket_path, c.batch ? " -b" : "", c.detail ? " -d" : "", c.plain ? " -p" : "",
                   c.no_headings ? " -t" : "", c.json ? " -j" : "");
    }
    for (const auto& cmd : inv.commands) {
        out += cat(" | ", verb_info(cmd.verb).name);
        for (const auto& a : cmd.args)
            out += cat(' ', a);
    }
    for (const auto& n : inv.notices)
        out += cat(" [", n, "]");
    return out;
}

struct LegacyLine {
    Personality who;
    std::vector<std::string_view> args;
    std::string expect; // describe(), or "error: " and the message
};


} // namespace

// Command lines SMCRoute 2.5.6 accepts (checked against Debian's binaries as
// a black box), each with what it means here; and bad ones with their error.
TEST(CliSmcroute2, CommandLines)
{
    const std::vector<LegacyLine> lines{
        // Verb aliases and abbreviations.
        {who_ctl, {"restart"}, "client sock=/run/smcroute.sock | reload"},
        {who_ctl, {"r"}, "client sock=/run/smcroute.sock | reload"},
        {who_ctl, {"re"}, "client sock=/run/smcroute.sock | reload"},
        {who_ctl, {"res"}, "client sock=/run/smcroute.sock | reload"},
        {who_ctl, {"d", "b1", "225.1.2.3"}, "client sock=/run/smcroute.sock | remove b1 225.1.2.3"},
        {who_ctl, {"de", "b1", "225.1.2.3", "b2"}, "client sock=/run/smcroute.sock | remove b1 225.1.2.3 b2"},
        {who_ctl, {"delete", "b1", "10.0.0.1", "225.1.2.3"},
         "client sock=/run/smcroute.sock | remove b1 10.0.0.1 225.1.2.3"},
        {who_ctl, {"s", "g"}, "client sock=/run/smcroute.sock | show groups"},
        {who_legacy, {"restart"}, "client sock=/run/smcroute.sock | reload"},
        {who_legacy, {"-i", "x", "del", "b1", "225.1.2.3"}, "client sock=/run/x.sock | remove b1 225.1.2.3"},
        // -I NAME, the old spelling of -i NAME.
        {who_ctl, {"-I", "foo", "show"}, "client sock=/run/foo.sock | show routes"},
        {who_ctl, {"-Ifoo"}, "client sock=/run/foo.sock | show routes"},
        {who_ctl, {"-dI", "foo"}, "client sock=/run/foo.sock -d | show routes"},
        {who_legacy, {"-I", "foo", "-k"}, "client sock=/run/foo.sock | kill"},
        {who_daemon, {"-I", "foo", "-n"},
         "daemon ident=foo sock=/run/foo.sock pid=/run/foo.pid conf=/etc/foo.conf fg"},
        {who_daemon, {"-nIfoo"}, "daemon ident=foo sock=/run/foo.sock pid=/run/foo.pid conf=/etc/foo.conf fg"},
        // Every smcroutectl 2.5.6 option, clustered or not.
        {who_ctl, {"-dpt", "show"}, "client sock=/run/smcroute.sock -d -p -t | show routes"},
        {who_ctl, {"-b"}, "client sock=/run/smcroute.sock -b"},
        {who_ctl, {"-u", "/tmp/s", "-v"}, "version"},
        {who_ctl, {"-h"}, "help"},
        // Options after the verb.
        {who_ctl, {"show", "-d"}, "client sock=/run/smcroute.sock -d | show routes"},
        {who_ctl, {"-d", "show", "-p"}, "client sock=/run/smcroute.sock -d -p | show routes"},
        {who_ctl, {"show", "groups", "-t", "-I", "foo"}, "client sock=/run/foo.sock -t | show groups"},
        {who_ctl, {"add", "b1", "225.1.2.3", "b2", "-d"}, "client sock=/run/smcroute.sock -d | add b1 225.1.2.3 b2"},
        {who_ctl, {"add", "b1", "-u", "/tmp/s", "225.1.2.3", "b2"}, "client sock=/tmp/s | add b1 225.1.2.3 b2"},
        {who_ctl, {"show", "-h"}, "help"},
        {who_ctl, {"show", "-i", "b1", "-d"}, "client sock=/run/smcroute.sock -d | show routes -i b1"},
        {who_ctl, {"add", "b1", "225.1.2.3", "--", "-b2"}, "client sock=/run/smcroute.sock | add b1 225.1.2.3 -b2"},
        {who_legacy, {"show", "-d"}, "client sock=/run/smcroute.sock -d | show routes"},
        {who_legacy, {"add", "b1", "225.1.2.3", "b2", "-t"}, "client sock=/run/smcroute.sock -t | add b1 225.1.2.3 b2"},
        // smcroute -d with smcrouted's letters, as 2.x wrappers start the daemon.
        {who_legacy, {"-d", "-n", "-u", "/tmp/s.sock", "-P", "/tmp/s.pid", "-f", "/tmp/s.conf"},
         "daemon ident=smcroute sock=/tmp/s.sock pid=/tmp/s.pid conf=/tmp/s.conf fg"},
        {who_legacy, {"-dn"}, "daemon ident=smcroute sock=/run/smcroute.sock pid=/run/smcroute.pid "
                              "conf=/etc/smcroute.conf fg"},
        {who_legacy, {"-nd"}, "daemon ident=smcroute sock=/run/smcroute.sock pid=/run/smcroute.pid "
                              "conf=/etc/smcroute.conf fg"},
        {who_legacy, {"-n", "-d"}, "daemon ident=smcroute sock=/run/smcroute.sock pid=/run/smcroute.pid "
                                   "conf=/etc/smcroute.conf fg"},
        {who_legacy, {"-dnIx", "-P/tmp/p", "-fconf"}, "daemon ident=x sock=/run/x.sock pid=/tmp/p conf=conf fg"},
        {who_legacy, {"-d", "-N", "-s", "-c", "5", "-m", "30", "-e", "/bin/true", "-Iq"},
         "daemon ident=q sock=/run/q.sock pid=/run/q.pid conf=/etc/q.conf -N"},
        {who_legacy, {"-da", "b1", "0.0.0.0", "225.1.2.3", "b2"},
         "daemon ident=smcroute sock=/run/smcroute.sock pid=/run/smcroute.pid conf=/etc/smcroute.conf | add b1 "
         "0.0.0.0 225.1.2.3 b2"},
        // smcrouted: every 2.5.6 option.
        {who_daemon, {"-n", "-N"}, "daemon ident=smcroute sock=/run/smcroute.sock pid=/run/smcroute.pid "
                                   "conf=/etc/smcroute.conf fg -N"},
        {who_daemon, {"-D", "x", "-n"}, "daemon ident=smcroute sock=/run/smcroute.sock pid=/run/smcroute.pid "
                                        "conf=/etc/smcroute.conf fg [option -D is accepted for compatibility with "
                                        "SMCRoute 2.x and has no effect]"},
        // Bad lines: a clear error.
        {who_ctl, {"add", "b1", "", "225.1.2.9", "b2"}, "error: argument 2 of add is empty"},
        {who_ctl, {"add", "", "225.1.2.9", "b2"}, "error: argument 1 of add is empty"},
        {who_ctl, {"join", "b1", ""}, "error: argument 2 of join is empty"},
        {who_ctl, {"show", ""}, "error: argument 1 of show is empty"},
        {who_ctl, {""}, "error: unknown command ''"},
        {who_legacy, {"add", "b1", "225.1.2.3", ""}, "error: argument 3 of add is empty"},
        {who_legacy, {"-a", "b1", "", "225.1.2.3", "b2"}, "error: argument 2 of -a is empty"},
        {who_legacy, {"-j", "b1", ""}, "error: argument 2 of -j is empty"},
        {who_ctl, {"show", "-I"}, "error: option '-I' needs an argument NAME"},
        {who_ctl, {"show", "-x"}, "error: unknown option '-x'"},
        {who_ctl, {"-I", ""}, "error: option '-I' needs a non-empty NAME"},
        {who_ctl, {"rex"}, "error: unknown command 'rex'"},
        {who_legacy, {"-Ieth0"}, "error: no command given"},
        {who_legacy, {"-d", "-I"}, "error: option '-I' needs an argument NAME"},
        {who_legacy, {"-dP"}, "error: option '-P' needs an argument FILE"},
        {who_daemon, {"-D"}, "error: option '-D' needs an argument ARG"},
        {who_daemon, {"-I", "a/b"}, "error: invalid identity 'a/b': an identity names files, use 1 to 64 letters, "
                                    "digits, '.', '_' or '-', not starting with '.'"},
    };
    for (const auto& line : lines) {
        auto r = parse_command_line(line.who, line.args);
        std::string got = r ? describe(*r) : cat("error: ", r.error().message);
        std::string shown;
        for (auto a : line.args)
            shown += cat(" '", a, "'");
        EXPECT_EQ(got, line.expect) << program_name(line.who) << shown;
    }
}

#include "smcroute/model/account_db.hpp"
#include "smcroute/os/account_files.hpp"
#include "smcroute/os/privileges.hpp"
#include "smcroute/os/runtime_files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace smcroute;

namespace {

const char* const passwd_text = "# a comment\n"
                                "root:x:0:0:root:/root:/bin/bash\n"
                                "\n"
                                "+nisuser::::::\n"
                                "broken:x:12\n"
                                "big:x:4294967295:1:too big a uid:/:/bin/false\n"
                                "neg:x:-5:1::/:/bin/false\n"
                                "mcast:x:1001:1002:Multicast:/var/lib/mcast:/usr/sbin/nologin\n"
                                "mcast:x:2001:2002:second entry, never used:/:/bin/false\n"
                                "noshell:x:1005:100\n"
                                "crlf:x:1006:100:::\r\n"
                                "last:x:1007:1008::/:/bin/sh"; // no newline at the end
const char* const group_text = "root:x:0:\n"
                               "users:x:100:mcast,last\n"
                               "mcast:x:1002:\n"
                               "badgid:x:12a:\n"
                               "noname::1003:\n"
                               ":x:1004:\n"
                               "netdev:x:1008";

} // namespace

TEST(AccountDb, PasswdByNameTakesTheFirstWellFormedLine)
{
    auto root = passwd_by_name(passwd_text, "root");
    ASSERT_TRUE(root);
    EXPECT_EQ(root->id, 0u);
    EXPECT_EQ(root->gid, 0u);
    auto m = passwd_by_name(passwd_text, "mcast");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->id, 1001u);
    EXPECT_EQ(m->gid, 1002u);
    auto n = passwd_by_name(passwd_text, "noshell"); // four fields are enough
    ASSERT_TRUE(n);
    EXPECT_EQ(n->gid, 100u);
    auto l = passwd_by_name(passwd_text, "last");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->id, 1007u);
    auto c = passwd_by_name(passwd_text, "crlf"); // the fields it needs are clean
    ASSERT_TRUE(c);
    EXPECT_EQ(c->id, 1006u);
}

TEST(AccountDb, MalformedLinesAreSkippedNotMatched)
{
    EXPECT_FALSE(passwd_by_name(passwd_text, "broken"));
    EXPECT_FALSE(passwd_by_name(passwd_text, "big"));
    EXPECT_FALSE(passwd_by_name(passwd_text, "neg"));
    EXPECT_FALSE(passwd_by_name(passwd_text, "+nisuser"));
    EXPECT_FALSE(passwd_by_name(passwd_text, "nisuser"));
    EXPECT_FALSE(passwd_by_name(passwd_text, "# a comment"));
    EXPECT_FALSE(passwd_by_name(passwd_text, ""));
    EXPECT_FALSE(passwd_by_name(passwd_text, "nobody"));
    EXPECT_FALSE(passwd_by_name("", "root"));
    EXPECT_FALSE(passwd_by_uid(passwd_text, 12));
    EXPECT_FALSE(group_by_name(group_text, "badgid"));
    EXPECT_FALSE(group_by_gid(group_text, 1004)); // no name
}

TEST(AccountDb, ByNumber)
{
    auto u = passwd_by_uid(passwd_text, 1001);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->name, "mcast");
    auto second = passwd_by_uid(passwd_text, 2001); // a second line of a name is found by its number
    ASSERT_TRUE(second);
    EXPECT_EQ(second->name, "mcast");
    EXPECT_EQ(second->gid, 2002u);
}

TEST(AccountDb, Groups)
{
    auto users = group_by_name(group_text, "users");
    ASSERT_TRUE(users);
    EXPECT_EQ(users->id, 100u);
    auto g = group_by_gid(group_text, 1002);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->name, "mcast");
    auto nn = group_by_name(group_text, "noname");
    ASSERT_TRUE(nn);
    EXPECT_EQ(nn->id, 1003u);
    auto nd = group_by_name(group_text, "netdev"); // three fields, no newline
    ASSERT_TRUE(nd);
    EXPECT_EQ(nd->id, 1008u);
}

TEST(AccountDb, ParseAccountId)
{
    EXPECT_EQ(parse_account_id("0"), 0u);
    EXPECT_EQ(parse_account_id("4294967294"), 4294967294u);
    EXPECT_FALSE(parse_account_id("4294967295"));
    EXPECT_FALSE(parse_account_id("4294967296"));
    EXPECT_FALSE(parse_account_id(""));
    EXPECT_FALSE(parse_account_id("-1"));
    EXPECT_FALSE(parse_account_id("+1"));
    EXPECT_FALSE(parse_account_id(" 1"));
    EXPECT_FALSE(parse_account_id("1 "));
    EXPECT_FALSE(parse_account_id("12x"));
}

namespace {

// A directory of test databases, removed at the end.
class Databases : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/smcroute-accounts-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        files_.passwd = dir_ + "/passwd";
        files_.group = dir_ + "/group";
        write(files_.passwd, passwd_text, 0644);
        write(files_.group, group_text, 0644);
    }
    void TearDown() override
    {
        ::unlink(files_.passwd.c_str());
        ::unlink(files_.group.c_str());
        ::rmdir(dir_.c_str());
    }
    static void write(const std::string& path, const std::string& text, mode_t mode)
    {
        std::ofstream(path) << text;
        ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    }
    std::string dir_;
    AccountFiles files_;
};

} // namespace

TEST_F(Databases, ResolveUserGroupReadsTheFiles)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "the databases must be root's to be trusted";
    auto a = resolve_user_group("mcast", files_);
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->uid, 1001u);
    EXPECT_EQ(a->gid, 1002u);
    EXPECT_EQ(a->group, "mcast");
    auto b = resolve_user_group("mcast:users", files_);
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(b->gid, 100u);
    auto c = resolve_user_group("1001", files_); // numeric, in passwd: its primary group
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->gid, 1002u);
    auto d = resolve_user_group("noshell", files_); // primary group 100 has the name users
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->group, "users");
    auto e = resolve_user_group("last:1234", files_);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->gid, 1234u);
    EXPECT_EQ(resolve_user_group("nobody", files_).error().message, "unknown user 'nobody'");
    EXPECT_EQ(resolve_user_group("mcast:staff", files_).error().message, "unknown group 'staff'");
    auto g = lookup_group("users", files_);
    ASSERT_TRUE(g) << g.error().message;
    EXPECT_EQ(*g, 100u);
    EXPECT_EQ(lookup_group("staff", files_).error().message, "unknown group 'staff'");
}

TEST_F(Databases, ADatabaseOthersCanWriteIsNotTrusted)
{
    // Another user who could write /etc/passwd could choose the uid the
    // daemon becomes: such a file is refused, whoever owns it.
    ASSERT_EQ(::chmod(files_.passwd.c_str(), 0664), 0);
    auto a = resolve_user_group("mcast", files_);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().message, files_.passwd + " is writable by others than root: not trusted");
    ASSERT_EQ(::chmod(files_.passwd.c_str(), 0644), 0);
    ASSERT_EQ(::chmod(files_.group.c_str(), 0646), 0);
    auto b = resolve_user_group("mcast:users", files_);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().message, files_.group + " is writable by others than root: not trusted");
    EXPECT_FALSE(lookup_group("users", files_));
    // A number needs no database: it still works, and a group's name is
    // only decoration.
    auto n = lookup_group("4321", files_);
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(*n, 4321u);
    if (::geteuid() == 0) {
        auto m = resolve_user_group("mcast", files_);
        ASSERT_TRUE(m) << m.error().message;
        EXPECT_EQ(m->group, "1002");
        ASSERT_EQ(::chmod(files_.group.c_str(), 0644), 0);
        ASSERT_EQ(::chown(files_.passwd.c_str(), 65534, 0), 0);
        auto o = resolve_user_group("mcast", files_);
        ASSERT_FALSE(o);
        EXPECT_EQ(o.error().message, files_.passwd + " is writable by others than root: not trusted");
    }
}

TEST_F(Databases, MissingOrOddFiles)
{
    AccountFiles none{dir_ + "/nothing", dir_ + "/nothing"};
    auto a = resolve_user_group("mcast", none);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().message, "cannot read " + dir_ + "/nothing: No such file or directory");
    auto b = resolve_user_group("54321:54322", none);
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(b->uid, 54321u);
    EXPECT_EQ(b->gid, 54322u);
    std::string fifo = dir_ + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    auto f = read_account_file(fifo); // no writer: must not hang
    ::unlink(fifo.c_str());
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().message, "cannot read " + fifo + ": not a regular file");
}

// model/runtime_paths (the default places of the socket and pid file) and
// the daemon's path steps in os/runtime_files: where -p USER moves them,
// the checks before the start, the socket group by name or number. On a
// private temporary directory; nothing under /run is touched.
#include "smcroute/model/runtime_paths.hpp"
#include "smcroute/os/runtime_files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>

using namespace smcroute;

namespace {

class DaemonPaths : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/smcroute-paths-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
        log_.set_level(LogLevel::none);
    }
    void TearDown() override { std::filesystem::remove_all(root_); }

    std::string root_;
    Logger log_;
};

} // namespace

TEST(RuntimePaths, DefaultsForAnIdent)
{
    EXPECT_EQ(default_socket_path("smcroute"), "/run/smcroute.sock");
    EXPECT_EQ(default_pid_file("smcroute"), "/run/smcroute.pid");
    EXPECT_EQ(runtime_dir("foo"), "/run/foo");
    EXPECT_EQ(runtime_dir_socket_path("foo"), "/run/foo/foo.sock");
    EXPECT_EQ(runtime_dir_pid_file("foo"), "/run/foo/foo.pid");
}

TEST_F(DaemonPaths, GivenPathsStayWhereTheyAreAndNoDirectoryIsMade)
{
    std::string sock = root_ + "/s.sock", pid = root_ + "/p.pid";
    auto dir = use_runtime_dir("smcroute-unit-test-ident", true, true, sock, pid, log_);
    ASSERT_TRUE(dir.ok());
    EXPECT_FALSE(dir->has_value());
    EXPECT_EQ(sock, root_ + "/s.sock");
    EXPECT_EQ(pid, root_ + "/p.pid");
    EXPECT_FALSE(std::filesystem::exists("/run/smcroute-unit-test-ident"));
}

TEST_F(DaemonPaths, AFitDirectoryPassesTheChecks)
{
    EXPECT_TRUE(check_runtime_paths(root_ + "/s.sock", root_ + "/p.pid").ok());
}

TEST_F(DaemonPaths, AMissingDirectoryIsNoRefusalHere)
{
    // An OS error (no such directory) is left to the socket's bind and the
    // pid file's write, which say so later; only refusals stop the start.
    EXPECT_TRUE(check_runtime_paths(root_ + "/none/s.sock", root_ + "/none/p.pid").ok());
}

TEST_F(DaemonPaths, ADirectoryOthersMayWriteIsRefused)
{
    std::string open_dir = root_ + "/open";
    ASSERT_EQ(::mkdir(open_dir.c_str(), 0777), 0);
    ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
    auto st = check_runtime_paths(open_dir + "/s.sock", root_ + "/p.pid");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, 0);
    EXPECT_NE(st.error().message.find("as IPC socket"), std::string::npos) << st.error().message;
    auto pid = check_runtime_paths(root_ + "/s.sock", open_dir + "/p.pid");
    ASSERT_FALSE(pid.ok());
    EXPECT_EQ(pid.error().code, 0);
}

TEST_F(DaemonPaths, ASocketPathWithoutANameIsRefused)
{
    auto st = check_runtime_paths(root_ + "/", root_ + "/p.pid");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, 0);
    EXPECT_EQ(st.error().message.rfind("IPC socket ", 0), 0u) << st.error().message;
}

TEST(SocketGroup, ByNameOrNumber)
{
    auto root = lookup_group("root");
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(*root, 0u);
    auto n = lookup_group("4321");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 4321u);
    auto bad = lookup_group("no-such-group-here");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message, "unknown group 'no-such-group-here'");
    EXPECT_FALSE(lookup_group("").ok());
    EXPECT_FALSE(lookup_group("12x").ok());
}

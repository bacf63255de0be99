// os/runtime_files on a real file system, in a private temporary directory:
// directory checks, the runtime directory taken back, pid files that never
// write through a link, socket nodes with exact modes. Cases that need a
// second user (another uid owning a file) run as root only.
#include "smcroute/os/runtime_files.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace smcroute;

namespace {

constexpr uid_t other_uid = 65534;
constexpr gid_t other_gid = 65534;

std::string slurp(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void put(const std::string& path, const std::string& text, mode_t mode)
{
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    ASSERT_TRUE(fd.valid()) << path;
    ASSERT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ASSERT_EQ(::fchmod(fd.get(), mode), 0);
}

struct stat lstat_of(const std::string& path)
{
    struct stat st{};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
}

UniqueFd unix_socket()
{
    return UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

bool connects(const std::string& path)
{
    UniqueFd fd = unix_socket();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// A socket bound at path by hand (stale once fd is closed).
UniqueFd bound_at(const std::string& path, bool listening)
{
    UniqueFd fd = unix_socket();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << path;
    if (listening) {
        EXPECT_EQ(::listen(fd.get(), 4), 0);
    }
    return fd;
}

class RuntimeFiles : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/smcroute-files-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        log_.set_level(LogLevel::none);
        victim_ = root_ + "/victim";
        put(victim_, "root-only secret\n", 0600);
    }
    void TearDown() override
    {
        std::string cmd = "rm -rf '" + root_ + "'";
        EXPECT_EQ(std::system(cmd.c_str()), 0);
    }
    std::string dir(const std::string& name, mode_t mode)
    {
        std::string d = root_ + "/" + name;
        EXPECT_EQ(::mkdir(d.c_str(), 0700), 0);
        EXPECT_EQ(::chmod(d.c_str(), mode), 0);
        return d;
    }
    void victim_intact()
    {
        EXPECT_EQ(slurp(victim_), "root-only secret\n");
        EXPECT_EQ(lstat_of(victim_).st_mode & 07777, 0600u);
        EXPECT_EQ(lstat_of(victim_).st_gid, ::getegid());
    }
    static bool root() { return ::geteuid() == 0; }

    std::string root_, victim_;
    Logger log_;
};

} // namespace

TEST(RuntimeFilesPath, SplitAndPlainNames)
{
    auto a = split_path("/run/smcroute.sock");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->dir, "/run");
    EXPECT_EQ(a->name, "smcroute.sock");
    auto b = split_path("x.pid");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->dir, ".");
    EXPECT_EQ(b->name, "x.pid");
    auto c = split_path("/x");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->dir, "/");
    for (const char* bad : {"", "/", "/run/", "/run/.", "/run/..", "..", "."})
        EXPECT_FALSE(split_path(bad).ok()) << bad;
    EXPECT_TRUE(is_plain_name("smcroute"));
    EXPECT_TRUE(is_plain_name("a..b"));
    for (const char* bad : {"", ".", "..", "a/b", "../x", "/"})
        EXPECT_FALSE(is_plain_name(bad)) << bad;
}

TEST_F(RuntimeFiles, DirectoryChecks)
{
    EXPECT_TRUE(FileDir::open(dir("private", 0755)).ok());
    auto sticky = FileDir::open(dir("sticky", 01777));
    ASSERT_TRUE(sticky.ok()) << sticky.error().message;
    EXPECT_TRUE(sticky->shared());
    auto open = FileDir::open(dir("open", 0777));
    ASSERT_FALSE(open.ok());
    EXPECT_NE(open.error().message.find("may be written by other users (mode 0777) and is not sticky"),
              std::string::npos)
        << open.error().message;
    EXPECT_EQ(open.error().code, 0);
    EXPECT_FALSE(FileDir::open(dir("group", 0775)).ok());
    auto missing = FileDir::open(root_ + "/missing");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ENOENT);
    if (!root())
        return;
    std::string theirs = dir("theirs", 0755);
    ASSERT_EQ(::chown(theirs.c_str(), other_uid, other_gid), 0);
    auto r = FileDir::open(theirs);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("belongs to uid 65534, not to root"), std::string::npos) << r.error().message;
}

TEST_F(RuntimeFiles, RuntimeDirCreatedAndTakenBack)
{
    auto made = make_runtime_dir(root_, "ident", log_);
    ASSERT_TRUE(made.ok()) << made.error().message;
    struct stat st = lstat_of(root_ + "/ident");
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    EXPECT_FALSE(made->dir().shared());
    EXPECT_TRUE(made->made());
    EXPECT_FALSE(make_runtime_dir(root_, "../x", log_).ok());
    EXPECT_FALSE(make_runtime_dir(root_, "..", log_).ok());
    if (!root())
        return;
    // Left to the user by an older smcroute, and opened up by that user.
    ASSERT_EQ(::chown((root_ + "/ident").c_str(), other_uid, other_gid), 0);
    ASSERT_EQ(::chmod((root_ + "/ident").c_str(), 0777), 0);
    // with that user's entry in it (an impostor socket, say)
    int f = ::open((root_ + "/ident/planted").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(f, 0);
    ASSERT_EQ(::fchown(f, other_uid, other_gid), 0);
    ::close(f);
    auto back = make_runtime_dir(root_, "ident", log_);
    ASSERT_TRUE(back.ok()) << back.error().message;
    st = lstat_of(root_ + "/ident");
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, ::getegid());
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_NE(::access((root_ + "/ident/planted").c_str(), F_OK), 0) << "the user's entry stayed in root's directory";
    // The old directory went: nothing is left beside the new one.
    for (const auto& e : std::filesystem::directory_iterator(root_))
        EXPECT_EQ(e.path().filename().string().rfind(".ident", 0), std::string::npos) << e.path();
    // One of root's that others may write is replaced too.
    ASSERT_EQ(::chmod((root_ + "/ident").c_str(), 0777), 0);
    f = ::open((root_ + "/ident/planted").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(f, 0);
    ::close(f);
    ASSERT_TRUE(make_runtime_dir(root_, "ident", log_).ok());
    EXPECT_EQ(lstat_of(root_ + "/ident").st_mode & 07777, 0755u);
    EXPECT_NE(::access((root_ + "/ident/planted").c_str(), F_OK), 0);
}

// A failed start removes the directory it made, and only that one.
TEST_F(RuntimeFiles, RuntimeDirRemovedOnlyWhenThisStartMadeIt)
{
    auto made = make_runtime_dir(root_, "ident", log_);
    ASSERT_TRUE(made.ok()) << made.error().message;
    ASSERT_TRUE(made->made());
    auto found = make_runtime_dir(root_, "ident", log_); // a second start finds it
    ASSERT_TRUE(found.ok()) << found.error().message;
    EXPECT_FALSE(found->made());
    EXPECT_TRUE(found->remove_if_made().ok());
    EXPECT_EQ(lstat_of(root_ + "/ident").st_mode & S_IFMT, static_cast<mode_t>(S_IFDIR)) << "found one removed";
    // Not empty: it stays (what is in it is not this start's to remove).
    int f = ::open((root_ + "/ident/other.sock").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(f, 0);
    ::close(f);
    EXPECT_FALSE(made->remove_if_made().ok());
    EXPECT_EQ(::access((root_ + "/ident/other.sock").c_str(), F_OK), 0);
    ASSERT_EQ(::unlink((root_ + "/ident/other.sock").c_str()), 0);
    // Replaced meanwhile by another directory: that one stays too.
    auto again = make_runtime_dir(root_, "ident2", log_);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(::rmdir((root_ + "/ident2").c_str()), 0);
    ASSERT_EQ(::mkdir((root_ + "/ident2").c_str(), 0755), 0);
    EXPECT_FALSE(again->remove_if_made().ok());
    EXPECT_EQ(::access((root_ + "/ident2").c_str(), F_OK), 0);
    // The one it made, empty: removed.
    auto fresh = make_runtime_dir(root_, "ident3", log_);
    ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(fresh->remove_if_made().ok());
    EXPECT_NE(::access((root_ + "/ident3").c_str(), F_OK), 0);
}

TEST_F(RuntimeFiles, RuntimeDirSymlinkIsRefusedNotFollowed)
{
    std::string target = dir("target", 0700);
    ASSERT_EQ(::symlink(target.c_str(), (root_ + "/ident").c_str()), 0);
    auto r = make_runtime_dir(root_, "ident", log_);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("is a symbolic link: refusing to follow it"), std::string::npos)
        << r.error().message;
    struct stat st = lstat_of(target);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    // A regular file there: refused too, untouched.
    ASSERT_EQ(::unlink((root_ + "/ident").c_str()), 0);
    ASSERT_EQ(::link(victim_.c_str(), (root_ + "/ident").c_str()), 0);
    auto f = make_runtime_dir(root_, "ident", log_);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.error().message.find("not a directory"), std::string::npos) << f.error().message;
    victim_intact();
}

TEST_F(RuntimeFiles, PidFileNeverWritesThroughALink)
{
    std::string d = dir("run", 0755);
    std::string pid = d + "/x.pid";
    ASSERT_EQ(::symlink(victim_.c_str(), pid.c_str()), 0);
    auto pf = PidFile::open(pid);
    ASSERT_TRUE(pf.ok()) << pf.error().message;
    ASSERT_TRUE(pf->write(1234).ok());
    victim_intact();
    struct stat st = lstat_of(pid);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(slurp(pid), "1234\n");

    // A hard link to the victim: replaced, the victim not truncated.
    ASSERT_EQ(::unlink(pid.c_str()), 0);
    ASSERT_EQ(::link(victim_.c_str(), pid.c_str()), 0);
    ASSERT_TRUE(pf->write(99).ok());
    victim_intact();
    EXPECT_EQ(slurp(pid), "99\n");

    ASSERT_TRUE(pf->remove().ok());
    EXPECT_NE(::access(pid.c_str(), F_OK), 0);
}

TEST_F(RuntimeFiles, PidFileRefusals)
{
    std::string d = dir("run", 0755);
    ASSERT_EQ(::mkdir((d + "/a-dir.pid").c_str(), 0755), 0);
    auto r = PidFile::open(d + "/a-dir.pid");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("is a directory"), std::string::npos);
    auto open = PidFile::open(dir("open", 0777) + "/x.pid");
    ASSERT_FALSE(open.ok());
    EXPECT_NE(open.error().message.find("is not sticky"), std::string::npos) << open.error().message;
    EXPECT_EQ(open.error().code, 0);
    EXPECT_FALSE(PidFile::open(d + "/").ok());
    if (!root())
        return;
    // Another user's link in a sticky directory: refused, not removed.
    std::string tmp = dir("tmp", 01777);
    std::string pid = tmp + "/x.pid";
    ASSERT_EQ(::symlink(victim_.c_str(), pid.c_str()), 0);
    ASSERT_EQ(::lchown(pid.c_str(), other_uid, other_gid), 0);
    auto theirs = PidFile::open(pid);
    ASSERT_FALSE(theirs.ok());
    EXPECT_NE(theirs.error().message.find("belongs to uid 65534"), std::string::npos) << theirs.error().message;
    EXPECT_TRUE(S_ISLNK(lstat_of(pid).st_mode));
    victim_intact();
    // Our own stale file there is replaced.
    ASSERT_EQ(::unlink(pid.c_str()), 0);
    put(pid, "1\n", 0644);
    auto mine = PidFile::open(pid);
    ASSERT_TRUE(mine.ok()) << mine.error().message;
    ASSERT_TRUE(mine->write(7).ok());
    EXPECT_EQ(slurp(pid), "7\n");
}

TEST_F(RuntimeFiles, PidFileRemoveLeavesAReplacement)
{
    std::string pid = dir("run", 0755) + "/x.pid";
    auto pf = PidFile::open(pid);
    ASSERT_TRUE(pf.ok());
    ASSERT_TRUE(pf->write(5).ok());
    ASSERT_EQ(::unlink(pid.c_str()), 0);
    put(pid, "someone else's\n", 0644);
    EXPECT_FALSE(pf->remove().ok());
    EXPECT_EQ(slurp(pid), "someone else's\n");
}

TEST_F(RuntimeFiles, SocketGetsExactlyItsModeAndGroup)
{
    std::string d = dir("run", 0755);
    const mode_t mask = ::umask(022);
    ::umask(mask);
    for (mode_t mode : {0600u, 0660u, 0666u, 0640u, 0700u, 0u}) {
        std::string path = d + "/s.sock";
        UniqueFd fd = unix_socket();
        gid_t group = root() ? other_gid : static_cast<gid_t>(-1);
        auto node = SocketNode::bind(fd.get(), path, mode, group, log_);
        ASSERT_TRUE(node.ok()) << node.error().message;
        struct stat st = lstat_of(path);
        EXPECT_TRUE(S_ISSOCK(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, mode);
        EXPECT_EQ(st.st_uid, ::geteuid());
        EXPECT_EQ(st.st_gid, root() ? other_gid : ::getegid());
        ASSERT_TRUE(node->remove().ok());
        EXPECT_NE(::access(path.c_str(), F_OK), 0);
    }
    // The process umask is as it was.
    const mode_t now = ::umask(022);
    ::umask(now);
    EXPECT_EQ(now, mask);
}

TEST_F(RuntimeFiles, SocketReplacesStaleRefusesLiveAndFiles)
{
    std::string d = dir("run", 0755);
    std::string path = d + "/s.sock";
    { UniqueFd stale = bound_at(path, false); }
    {
        UniqueFd fd = unix_socket();
        auto node = SocketNode::bind(fd.get(), path, 0660, static_cast<gid_t>(-1), log_);
        ASSERT_TRUE(node.ok()) << node.error().message;
        ASSERT_EQ(::listen(fd.get(), 4), 0);
        EXPECT_TRUE(connects(path));
        UniqueFd fd2 = unix_socket();
        auto second = SocketNode::bind(fd2.get(), path, 0660, static_cast<gid_t>(-1), log_);
        ASSERT_FALSE(second.ok());
        EXPECT_EQ(second.error().message, "another daemon is already running on " + path);
        EXPECT_TRUE(connects(path));
        ASSERT_TRUE(node->remove().ok());
    }
    put(path, "data\n", 0600);
    UniqueFd fd = unix_socket();
    auto file = SocketNode::bind(fd.get(), path, 0660, static_cast<gid_t>(-1), log_);
    ASSERT_FALSE(file.ok());
    EXPECT_NE(file.error().message.find("it exists and is not a socket"), std::string::npos);
    EXPECT_EQ(slurp(path), "data\n");
}

TEST_F(RuntimeFiles, SocketLinkInPrivateDirIsReplacedNotFollowed)
{
    std::string d = dir("run", 0755);
    std::string path = d + "/s.sock";
    ASSERT_EQ(::symlink(victim_.c_str(), path.c_str()), 0);
    UniqueFd fd = unix_socket();
    auto node = SocketNode::bind(fd.get(), path, 0666, static_cast<gid_t>(-1), log_);
    ASSERT_TRUE(node.ok()) << node.error().message;
    EXPECT_TRUE(S_ISSOCK(lstat_of(path).st_mode));
    victim_intact();
}

TEST_F(RuntimeFiles, SocketInSharedDir)
{
    std::string tmp = dir("tmp", 01777);
    std::string path = tmp + "/s.sock";
    {
        UniqueFd fd = unix_socket();
        auto node = SocketNode::bind(fd.get(), path, 0666, static_cast<gid_t>(-1), log_);
        ASSERT_TRUE(node.ok()) << node.error().message;
        EXPECT_EQ(lstat_of(path).st_mode & 07777, 0666u);
    }
    // Left behind (no remove()): stale, ours, replaced by the next bind.
    {
        UniqueFd fd = unix_socket();
        auto node = SocketNode::bind(fd.get(), path, 0600, static_cast<gid_t>(-1), log_);
        ASSERT_TRUE(node.ok()) << node.error().message;
        ASSERT_TRUE(node->remove().ok());
    }
    if (!root())
        return;
    ASSERT_EQ(::symlink(victim_.c_str(), path.c_str()), 0);
    ASSERT_EQ(::lchown(path.c_str(), other_uid, other_gid), 0);
    UniqueFd fd = unix_socket();
    auto theirs = SocketNode::bind(fd.get(), path, 0666, static_cast<gid_t>(-1), log_);
    ASSERT_FALSE(theirs.ok());
    EXPECT_NE(theirs.error().message.find("belongs to uid 65534"), std::string::npos) << theirs.error().message;
    EXPECT_TRUE(S_ISLNK(lstat_of(path).st_mode));
    victim_intact();
}

TEST_F(RuntimeFiles, SocketDirWritableByOthersIsRefused)
{
    std::string path = dir("open", 0777) + "/s.sock";
    UniqueFd fd = unix_socket();
    auto r = SocketNode::bind(fd.get(), path, 0660, static_cast<gid_t>(-1), log_);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("cannot use " + path + " as IPC socket: directory"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("is not sticky"), std::string::npos);
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST_F(RuntimeFiles, SocketRemoveLeavesAReplacement)
{
    std::string path = dir("run", 0755) + "/s.sock";
    UniqueFd fd = unix_socket();
    auto node = SocketNode::bind(fd.get(), path, 0660, static_cast<gid_t>(-1), log_);
    ASSERT_TRUE(node.ok());
    ASSERT_EQ(::unlink(path.c_str()), 0);
    UniqueFd other = bound_at(path, true);
    EXPECT_FALSE(node->remove().ok());
    EXPECT_TRUE(connects(path));
}

// The metrics file (--metrics-file) is replaced whole by a rename, never
// written through a link another user planted, in a directory checked as
// the pid file's.
TEST_F(RuntimeFiles, MetricsFileReplacedNeverFollowed)
{
    std::string d = dir("textfile", 0755);
    std::string path = d + "/smcroute.prom";
    ASSERT_EQ(::symlink(victim_.c_str(), path.c_str()), 0);
    auto mf = ReplacedFile::open(path);
    ASSERT_TRUE(mf.ok()) << mf.error().message;
    ASSERT_TRUE(mf->write("a 1\n").ok());
    victim_intact();
    struct stat st = lstat_of(path);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(slurp(path), "a 1\n");
    // A hard link to the victim: replaced, the victim not truncated.
    ASSERT_EQ(::unlink(path.c_str()), 0);
    ASSERT_EQ(::link(victim_.c_str(), path.c_str()), 0);
    ASSERT_TRUE(mf->write("a 2\n").ok());
    victim_intact();
    EXPECT_EQ(slurp(path), "a 2\n");
    // A link at the temporary name: removed, not followed.
    std::string temp = d + "/.smcroute.prom." + std::to_string(::getpid()) + ".tmp";
    ASSERT_EQ(::symlink(victim_.c_str(), temp.c_str()), 0);
    ASSERT_TRUE(mf->write("a 3\n").ok());
    victim_intact();
    EXPECT_EQ(slurp(path), "a 3\n");
    EXPECT_NE(::access(temp.c_str(), F_OK), 0) << "no temporary file left";
    // The directory renamed away: writes still go to the directory opened.
    ASSERT_EQ(::rename(d.c_str(), (root_ + "/moved").c_str()), 0);
    ASSERT_EQ(::symlink(root_.c_str(), d.c_str()), 0);
    ASSERT_TRUE(mf->write("a 4\n").ok());
    EXPECT_EQ(slurp(root_ + "/moved/smcroute.prom"), "a 4\n");
    EXPECT_NE(::access((root_ + "/smcroute.prom").c_str(), F_OK), 0);
}

TEST_F(RuntimeFiles, MetricsFileRefusals)
{
    auto open = ReplacedFile::open(dir("open", 0777) + "/smcroute.prom");
    ASSERT_FALSE(open.ok());
    EXPECT_EQ(open.error().code, 0);
    EXPECT_NE(open.error().message.find("is not sticky"), std::string::npos) << open.error().message;
    std::string d = dir("run", 0755);
    ASSERT_EQ(::mkdir((d + "/a-dir.prom").c_str(), 0755), 0);
    auto isdir = ReplacedFile::open(d + "/a-dir.prom");
    ASSERT_FALSE(isdir.ok());
    EXPECT_NE(isdir.error().message.find("is a directory"), std::string::npos);
    EXPECT_FALSE(ReplacedFile::open(d + "/").ok());
    if (!root())
        return;
    // A directory of another user's: refused (that user could swap the file).
    std::string theirs_dir = dir("theirs", 0755);
    ASSERT_EQ(::chown(theirs_dir.c_str(), other_uid, other_gid), 0);
    auto in_theirs = ReplacedFile::open(theirs_dir + "/smcroute.prom");
    ASSERT_FALSE(in_theirs.ok());
    EXPECT_NE(in_theirs.error().message.find("belongs to uid 65534"), std::string::npos);
    // Another user's link in a sticky directory: refused at open, and at a
    // write when it appears later; never removed, never followed.
    std::string tmp = dir("tmp", 01777);
    std::string path = tmp + "/smcroute.prom";
    ASSERT_EQ(::symlink(victim_.c_str(), path.c_str()), 0);
    ASSERT_EQ(::lchown(path.c_str(), other_uid, other_gid), 0);
    auto refused = ReplacedFile::open(path);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("belongs to uid 65534"), std::string::npos) << refused.error().message;
    ASSERT_EQ(::unlink(path.c_str()), 0);
    auto mf = ReplacedFile::open(path);
    ASSERT_TRUE(mf.ok()) << mf.error().message;
    ASSERT_TRUE(mf->write("a 1\n").ok());
    ASSERT_EQ(::unlink(path.c_str()), 0);
    ASSERT_EQ(::symlink(victim_.c_str(), path.c_str()), 0);
    ASSERT_EQ(::lchown(path.c_str(), other_uid, other_gid), 0);
    auto later = mf->write("a 2\n");
    ASSERT_FALSE(later.ok());
    EXPECT_NE(later.error().message.find("refusing to replace another user's file"), std::string::npos);
    EXPECT_TRUE(S_ISLNK(lstat_of(path).st_mode));
    victim_intact();
    // Another user's file at the temporary name: refused too.
    ASSERT_EQ(::unlink(path.c_str()), 0);
    std::string temp = tmp + "/.smcroute.prom." + std::to_string(::getpid()) + ".tmp";
    put(temp, "theirs\n", 0644);
    ASSERT_EQ(::chown(temp.c_str(), other_uid, other_gid), 0);
    ASSERT_FALSE(mf->write("a 3\n").ok());
    EXPECT_EQ(slurp(temp), "theirs\n");
}

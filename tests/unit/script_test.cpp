#include "smcroute/runtime/script.hpp"
#include "smcroute/os/signals.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace smcroute;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class ScriptTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/script_test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        log_.set_level(LogLevel::debug);
    }
    void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

    // Write an executable /bin/sh script.
    std::string script(const std::string& name, const std::string& body)
    {
        std::string path = dir_ + "/" + name;
        std::ofstream(path) << "#!/bin/sh\n" << body;
        ::chmod(path.c_str(), 0755);
        return path;
    }

    // Run the loop until no child is left (at most `limit`).
    void drain(ActionScript& s, EventLoop::Clock::duration limit = 5s)
    {
        auto end = EventLoop::Clock::now() + limit;
        while (s.running() > 0 && EventLoop::Clock::now() < end)
            ASSERT_TRUE(loop_.run_once(100ms));
        ASSERT_EQ(s.running(), 0u) << "script still running";
    }

    std::string dir_;
    EventLoop loop_;
    Logger log_;
};

TEST_F(ScriptTest, ArgvAndFixedEnvironment)
{
    std::string out = dir_ + "/out";
    ::setenv("SMCROUTE_TEST_LEAK", "must-not-reach-the-script", 1);
    std::string path =
        script("s.sh", "{ echo \"argc=$#\"; echo \"0=$0\"; echo \"1=$1\"; env | sort; } > '" + out + "'\n");
    ActionScript s(loop_, log_, path);
    ASSERT_TRUE(s.enabled());
    testing::internal::CaptureStderr();
    s.run("install", {{"source", "10.0.1.2"}, {"group", "225.1.2.3"}, {"iif", "a1"}, {"bad=name", "x"}});
    EXPECT_EQ(s.running(), 1u);
    drain(s);
    std::string err = testing::internal::GetCapturedStderr();
    ::unsetenv("SMCROUTE_TEST_LEAK");
    std::string got = slurp(out);
    EXPECT_NE(got.find("argc=1\n"), std::string::npos) << got;
    EXPECT_NE(got.find("0=" + path + "\n"), std::string::npos) << got;
    EXPECT_NE(got.find("1=install\n"), std::string::npos) << got;
    EXPECT_NE(got.find("source=10.0.1.2\n"), std::string::npos) << got;
    EXPECT_NE(got.find("group=225.1.2.3\n"), std::string::npos) << got;
    EXPECT_NE(got.find("iif=a1\n"), std::string::npos) << got;
    EXPECT_NE(got.find("PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"), std::string::npos) << got;
    EXPECT_EQ(got.find("SMCROUTE_TEST_LEAK"), std::string::npos) << got;
    EXPECT_EQ(got.find("bad"), std::string::npos) << got;
    EXPECT_NE(err.find("'bad=name' skipped"), std::string::npos) << err;
    EXPECT_NE(err.find("script " + path + " install exited with status 0"), std::string::npos) << err;
}

TEST_F(ScriptTest, NotThroughAShell)
{
    std::string out = dir_ + "/out";
    std::string path = script("s.sh", "printf '%s\\n' \"$1\" > '" + out + "'\n");
    ActionScript s(loop_, log_, path);
    s.run("reload; touch " + dir_ + "/pwned");
    drain(s);
    EXPECT_EQ(slurp(out), "reload; touch " + dir_ + "/pwned\n");
    EXPECT_NE(::access((dir_ + "/pwned").c_str(), F_OK), 0);
}

TEST_F(ScriptTest, CleanSignalStateAndDescriptors)
{
    // What the daemon does: block signals for its signalfd (the stray ones
    // too), ignore SIGPIPE. (It ignores glibc's reserved 32 and 33 too,
    // which glibc's posix_spawn sets to ignored in the child anyway.)
    sigset_t block, old;
    sigemptyset(&block);
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGCHLD})
        sigaddset(&block, sig);
    for (int sig : stray_signals())
        sigaddset(&block, sig);
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &block, &old), 0);
    auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
    int stray = ::fcntl(::open("/dev/null", O_RDONLY), F_DUPFD, 57); // not CLOEXEC
    ASSERT_GE(stray, 57);

    std::string out = dir_ + "/out";
    // The shell blocks signals while it waits for a command, so the probe
    // is exec'd: it inherits the state the script was started with.
    std::string path = script("s.sh", "ls /proc/$$/fd > '" + out + "'\n"
                                      "exec grep -E '^(SigBlk|SigIgn):' /proc/self/status >> '" + out + "'\n");
    ActionScript s(loop_, log_, path);
    s.run("reload");
    drain(s);
    ::close(stray);
    ::signal(SIGPIPE, old_pipe);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);

    std::string got = slurp(out);
    EXPECT_NE(got.find("SigBlk:\t0000000000000000\n"), std::string::npos) << got;
    // No signal ignored, except glibc's two internal ones (32, 33): its
    // posix_spawn, like system() and popen(), leaves them ignored in the child.
    size_t at = got.find("SigIgn:\t");
    ASSERT_NE(at, std::string::npos) << got;
    unsigned long long ignored = std::strtoull(got.c_str() + at + 8, nullptr, 16);
    EXPECT_EQ(ignored & ~((1ULL << 31) | (1ULL << 32)), 0u) << got;
    std::istringstream fds(got);
    std::string line;
    while (std::getline(fds, line))
        EXPECT_NE(line, std::to_string(stray)) << "descriptor " << stray << " leaked into the script:\n" << got;
}

TEST_F(ScriptTest, NonZeroExitAndSignalAreLogged)
{
    std::string fails = script("fails.sh", "exit 3\n");
    std::string dies = script("dies.sh", "kill -TERM $$\nsleep 5\n");
    ActionScript a(loop_, log_, fails), b(loop_, log_, dies);
    testing::internal::CaptureStderr();
    a.run("reload");
    b.run("install");
    drain(a);
    drain(b);
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("warning: script " + fails + " reload exited with status 3"), std::string::npos) << err;
    EXPECT_NE(err.find("warning: script " + dies + " install killed by signal 15 (SIGTERM)"), std::string::npos)
        << err;
}

TEST_F(ScriptTest, MissingOrNotExecutableIsAnError)
{
    std::string missing = dir_ + "/missing.sh";
    std::string noexec = script("noexec.sh", "exit 0\n");
    ::chmod(noexec.c_str(), 0644);
    ActionScript a(loop_, log_, missing), b(loop_, log_, noexec);
    testing::internal::CaptureStderr();
    a.run("reload");
    b.run("reload");
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(a.running(), 0u);
    EXPECT_EQ(b.running(), 0u);
    EXPECT_NE(err.find("error: script " + missing + " reload: cannot run: No such file or directory"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("error: script " + noexec + " reload: cannot run: Permission denied"), std::string::npos)
        << err;
}

TEST_F(ScriptTest, DisabledDoesNothing)
{
    ActionScript s(loop_, log_, "");
    EXPECT_FALSE(s.enabled());
    s.run("reload");
    EXPECT_EQ(s.running(), 0u);
    EXPECT_TRUE(loop_.run_once(0ms));
    EXPECT_EQ(loop_.timer_count(), 0u);
}

TEST_F(ScriptTest, LoopNeverWaitsForAScript)
{
    std::string path = script("slow.sh", "sleep 2\n");
    ActionScript s(loop_, log_, path);
    auto start = EventLoop::Clock::now();
    s.run("reload");
    bool fired = false;
    loop_.after(10ms, [&] { fired = true; });
    while (!fired && EventLoop::Clock::now() - start < 1s)
        ASSERT_TRUE(loop_.run_once(50ms));
    auto took = EventLoop::Clock::now() - start;
    EXPECT_TRUE(fired);
    EXPECT_LT(took, 500ms);
    EXPECT_EQ(s.running(), 1u);
    drain(s); // and it is reaped once it ends
    EXPECT_GE(EventLoop::Clock::now() - start, 1900ms);
}

TEST_F(ScriptTest, ConcurrentChildrenAreCapped)
{
    std::string path = script("slow.sh", "sleep 1\n");
    ActionScript s(loop_, log_, path);
    testing::internal::CaptureStderr();
    for (size_t i = 0; i < ActionScript::max_children + 3; ++i)
        s.run("install");
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(s.running(), ActionScript::max_children);
    EXPECT_NE(err.find("script " + path + " install not run: 16 instances still running"), std::string::npos) << err;
    drain(s);
    s.run("install"); // room again
    EXPECT_EQ(s.running(), 1u);
    drain(s);
}

TEST_F(ScriptTest, ReapIsSafeAnyTime)
{
    std::string path = script("quick.sh", "exit 0\n");
    ActionScript s(loop_, log_, path);
    s.reap();
    s.run("reload");
    auto end = EventLoop::Clock::now() + 5s;
    while (s.running() && EventLoop::Clock::now() < end) {
        s.reap(); // as a SIGCHLD handler would
        ::usleep(10000);
    }
    EXPECT_EQ(s.running(), 0u);
}

} // namespace

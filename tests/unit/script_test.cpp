#include "smcroute/runtime/script.hpp"
#include "smcroute/os/signals.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <poll.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>
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

// Opens a FIFO for writing and closes it again (EOF for its reader) if not
// dismissed, by its destructor, within `limit`: turns a hang into a failure.
class GateWatchdog {
public:
    GateWatchdog(std::string fifo, std::chrono::seconds limit)
        : thread_([this, fifo = std::move(fifo), limit] {
              std::unique_lock lock(m_);
              if (cv_.wait_for(lock, limit, [&] { return done_; }))
                  return;
              forced_ = true;
              UniqueFd w(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
          })
    {
    }
    ~GateWatchdog()
    {
        {
            std::lock_guard lock(m_);
            done_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    bool forced() const { return forced_; }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
    std::atomic<bool> forced_{false};
    std::thread thread_; // last: starts once the rest exists
};

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

    // Run the loop until no child is left (at most `limit`, real time): the
    // loop wakes on each child's pidfd. The test clock moves with each wait,
    // for the polling timer of a kernel without pidfd_open.
    void drain(ActionScript& s, std::chrono::steady_clock::duration limit = 5s)
    {
        auto end = std::chrono::steady_clock::now() + limit;
        while (s.running() > 0 && std::chrono::steady_clock::now() < end) {
            ASSERT_TRUE(loop_.run_once(100ms));
            clock_.advance(100ms);
        }
        ASSERT_EQ(s.running(), 0u) << "script still running";
    }

    std::string dir_;
    ManualClock clock_;
    EventLoop loop_{clock_};
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
    // The script blocks until the test opens its gate (a FIFO). Should
    // run() or the loop wait for it, a watchdog opens the gate after 30 s
    // and the test fails instead of hanging.
    std::string gate = dir_ + "/gate", out = dir_ + "/out";
    ASSERT_EQ(::mkfifo(gate.c_str(), 0600), 0);
    std::string path = script("slow.sh", "read x < '" + gate + "'\necho ended > '" + out + "'\n");
    GateWatchdog watchdog(gate, 30s);
    ActionScript s(loop_, log_, path);
    s.run("reload");
    bool fired = false;
    loop_.after(10ms, [&] { fired = true; });
    clock_.advance(10ms);
    for (int i = 0; i < 100 && !fired; ++i)
        ASSERT_TRUE(loop_.run_once(0ms));
    EXPECT_TRUE(fired);
    EXPECT_FALSE(watchdog.forced()) << "the loop waited for the script";
    EXPECT_EQ(s.running(), 1u);
    EXPECT_NE(::access(out.c_str(), F_OK), 0) << "the script ended before its gate opened";

    { // open the gate: blocks until the script has opened its end
        UniqueFd w(::open(gate.c_str(), O_WRONLY | O_CLOEXEC));
        ASSERT_TRUE(w.valid());
        ASSERT_EQ(::write(w.get(), "\n", 1), 1);
    }
    drain(s); // and it is reaped once it ends
    EXPECT_EQ(slurp(out), "ended\n");
}

TEST_F(ScriptTest, ConcurrentChildrenAreCapped)
{
    // Each script opens a FIFO the test holds open for writing (so the
    // open does not block), says so through a second FIFO, and reads the
    // first until the test closes it: the scripts run until the test has
    // seen every one of them started and lets them go.
    std::string gate = dir_ + "/gate", ready = dir_ + "/ready";
    ASSERT_EQ(::mkfifo(gate.c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo(ready.c_str(), 0600), 0);
    std::string path = script("slow.sh", "exec < '" + gate + "'\necho > '" + ready + "'\nread x\n");
    UniqueFd started(::open(ready.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    ASSERT_TRUE(started.valid());
    // Up to 10 s for n more scripts to say they started.
    auto wait_started = [&](size_t n) {
        size_t seen = 0;
        for (int i = 0; i < 100 && seen < n; ++i) {
            pollfd p{started.get(), POLLIN, 0};
            (void)::poll(&p, 1, 100);
            char buf[64];
            ssize_t got = ::read(started.get(), buf, sizeof buf);
            if (got > 0)
                seen += static_cast<size_t>(got);
        }
        return seen;
    };
    ActionScript s(loop_, log_, path);
    UniqueFd held(::open(gate.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(held.valid());
    testing::internal::CaptureStderr();
    for (size_t i = 0; i < ActionScript::max_children + 3; ++i)
        s.run("install");
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(s.running(), ActionScript::max_children);
    EXPECT_NE(err.find("script " + path + " install not run: 16 instances still running"), std::string::npos) << err;
    EXPECT_EQ(wait_started(ActionScript::max_children), ActionScript::max_children);
    held.reset();
    drain(s);
    held.reset(::open(gate.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(held.valid());
    s.run("install"); // room again
    EXPECT_EQ(s.running(), 1u);
    EXPECT_EQ(wait_started(1), 1u);
    held.reset();
    drain(s);
}

TEST_F(ScriptTest, ReapIsSafeAnyTime)
{
    std::string path = script("quick.sh", "exit 0\n");
    ActionScript s(loop_, log_, path);
    s.reap();
    // Wait for the child's SIGCHLD (blocked, so it stays pending), with a
    // generous bound, instead of sleeping.
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &chld, &old), 0);
    s.run("reload");
    auto end = std::chrono::steady_clock::now() + 5s;
    while (s.running() && std::chrono::steady_clock::now() < end) {
        s.reap(); // as a SIGCHLD handler would
        if (s.running()) {
            timespec wait{0, 100 * 1000 * 1000};
            ::sigtimedwait(&chld, nullptr, &wait);
        }
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    EXPECT_EQ(s.running(), 0u);
}

} // namespace

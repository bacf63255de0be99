#include "smcroute/os/notify.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace smcroute;

namespace {

// A datagram listener like systemd's notify socket, bound in a temp dir or
// in the abstract namespace.
class Listener {
public:
    explicit Listener(bool abstract)
    {
        fd_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        char dir[] = "/tmp/notify_test.XXXXXX";
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        socklen_t len;
        if (abstract) {
            name_ = "@smcroute-notify-test-" + std::to_string(::getpid());
            std::memcpy(sun.sun_path + 1, name_.data() + 1, name_.size() - 1);
            len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
        } else {
            dir_ = ::mkdtemp(dir) ? dir : "";
            name_ = dir_ + "/notify";
            std::memcpy(sun.sun_path, name_.c_str(), name_.size() + 1);
            len = sizeof(sun);
        }
        ok_ = fd_ && ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sun), len) == 0;
    }
    ~Listener()
    {
        if (!dir_.empty()) {
            ::unlink(name_.c_str());
            ::rmdir(dir_.c_str());
        }
    }
    bool ok() const { return ok_; }
    const std::string& name() const { return name_; }
    // Next datagram, or "<none>" after a second.
    std::string next()
    {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, 1000) != 1)
            return "<none>";
        char buf[4096];
        ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
        return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
    }
    bool empty()
    {
        pollfd p{fd_.get(), POLLIN, 0};
        return ::poll(&p, 1, 0) == 0;
    }

private:
    UniqueFd fd_;
    std::string dir_, name_;
    bool ok_ = false;
};

uint64_t now_usec()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

void expect_sequence(Listener& l, SystemdNotifier& n)
{
    ASSERT_TRUE(n.enabled());
    n.ready("2 routes");
    uint64_t before = now_usec();
    n.reloading("reloading /etc/smcroute.conf");
    uint64_t after = now_usec();
    n.ready();
    n.status("line one\nline two");
    n.stopping();

    EXPECT_EQ(l.next(), "READY=1\nSTATUS=2 routes");
    std::string reload = l.next();
    const std::string head = "RELOADING=1\nMONOTONIC_USEC=";
    ASSERT_EQ(reload.substr(0, head.size()), head) << reload;
    size_t nl = reload.find('\n', head.size());
    ASSERT_NE(nl, std::string::npos) << reload;
    uint64_t usec = std::strtoull(reload.substr(head.size(), nl - head.size()).c_str(), nullptr, 10);
    EXPECT_GE(usec, before);
    EXPECT_LE(usec, after);
    EXPECT_EQ(reload.substr(nl), "\nSTATUS=reloading /etc/smcroute.conf");
    EXPECT_EQ(l.next(), "READY=1");
    EXPECT_EQ(l.next(), "STATUS=line one line two"); // one line: no injected assignments
    EXPECT_EQ(l.next(), "STOPPING=1");
    EXPECT_TRUE(l.empty());
}

} // namespace

TEST(Notify, PathSocketGetsMessagesInOrder)
{
    Listener l(false);
    ASSERT_TRUE(l.ok());
    SystemdNotifier n(l.name());
    expect_sequence(l, n);
}

TEST(Notify, AbstractSocket)
{
    Listener l(true);
    ASSERT_TRUE(l.ok());
    SystemdNotifier n(l.name());
    expect_sequence(l, n);
}

TEST(Notify, FromEnv)
{
    Listener l(false);
    ASSERT_TRUE(l.ok());
    ::setenv("NOTIFY_SOCKET", l.name().c_str(), 1);
    SystemdNotifier n = SystemdNotifier::from_env();
    ::unsetenv("NOTIFY_SOCKET");
    ASSERT_TRUE(n.enabled());
    n.ready();
    EXPECT_EQ(l.next(), "READY=1");
}

TEST(Notify, UnsetIsNoOp)
{
    ::unsetenv("NOTIFY_SOCKET");
    SystemdNotifier n = SystemdNotifier::from_env();
    EXPECT_FALSE(n.enabled());
    n.ready("x");
    n.reloading();
    n.stopping();
    EXPECT_FALSE(n.send("READY=1"));
    EXPECT_FALSE(SystemdNotifier("").enabled());
    EXPECT_FALSE(SystemdNotifier("relative/path").enabled());
}

TEST(Notify, MissingListenerIsNotAnError)
{
    SystemdNotifier n("/nonexistent/dir/notify");
    EXPECT_TRUE(n.enabled());
    EXPECT_FALSE(n.send("READY=1"));
    n.ready(); // nothing to see, nothing to crash
}

#include "smcroute/os/privileges.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mroute.h>

using namespace smcroute;

namespace {

// Run fn in a forked child (privilege changes are for good); its return value
// is the list of failures ("" = pass, "SKIP: why" = skip).
std::string in_child(const std::function<std::string()>& fn)
{
    int fds[2];
    if (::pipe(fds) != 0)
        return "pipe failed";
    pid_t pid = ::fork();
    if (pid < 0)
        return "fork failed";
    if (pid == 0) {
        ::close(fds[0]);
        std::string out = fn();
        size_t off = 0;
        while (off < out.size()) {
            ssize_t n = ::write(fds[1], out.data() + off, out.size() - off);
            if (n <= 0)
                break;
            off += static_cast<size_t>(n);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof(buf))) > 0)
        out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        out += cat("child died, wait status ", st);
    return out;
}

#define CHILD_RESULT(expr)                                                                                             \
    do {                                                                                                               \
        std::string r_ = (expr);                                                                                       \
        if (r_.rfind("SKIP: ", 0) == 0)                                                                                \
            GTEST_SKIP() << r_.substr(6);                                                                              \
        EXPECT_EQ(r_, "");                                                                                             \
    } while (0)

std::string status_field(const std::string& key)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) {
            auto v = line.substr(key.size() + 1);
            return v.substr(v.find_first_not_of(" \t"));
        }
    return "";
}

std::string hex16(uint64_t v)
{
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

} // namespace

TEST(Privileges, KeptCapabilities)
{
    EXPECT_EQ(kept_capabilities(), (uint64_t{1} << CAP_NET_ADMIN) | (uint64_t{1} << CAP_NET_RAW));
}

TEST(Privileges, ResolveNames)
{
    passwd* pw = ::getpwnam("nobody");
    if (!pw)
        GTEST_SKIP() << "no user nobody";
    uid_t nobody = pw->pw_uid;
    gid_t nobody_gid = pw->pw_gid;

    auto a = resolve_user_group("nobody");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->uid, nobody);
    EXPECT_EQ(a->gid, nobody_gid);
    EXPECT_EQ(a->user, "nobody");

    auto b = resolve_user_group("nobody:0");
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(b->gid, 0u);

    if (group* gr = ::getgrgid(nobody_gid)) {
        std::string gname = gr->gr_name;
        auto c = resolve_user_group("nobody:" + gname);
        ASSERT_TRUE(c) << c.error().message;
        EXPECT_EQ(c->gid, nobody_gid);
        EXPECT_EQ(c->group, gname);
        EXPECT_EQ(a->group, gname);
    }

    auto d = resolve_user_group(std::to_string(nobody)); // numeric, in passwd
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->uid, nobody);
    EXPECT_EQ(d->gid, nobody_gid);
}

TEST(Privileges, ResolveNumericWithoutEntries)
{
    ASSERT_EQ(::getpwuid(54321), nullptr) << "test assumes uid 54321 is unused";
    auto a = resolve_user_group("54321:54322");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->uid, 54321u);
    EXPECT_EQ(a->gid, 54322u);
    auto b = resolve_user_group("54321");
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().message, "user 54321 has no passwd entry: give USER:GROUP");
}

TEST(Privileges, ResolveErrors)
{
    auto a = resolve_user_group("no-such-user-smct");
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().message, "unknown user 'no-such-user-smct'");
    auto b = resolve_user_group("nobody:no-such-group-smct");
    ASSERT_FALSE(b);
    if (::getpwnam("nobody")) {
        EXPECT_EQ(b.error().message, "unknown group 'no-such-group-smct'");
    }
    auto c = resolve_user_group("");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message, "invalid user '': expected USER[:GROUP]");
    auto d = resolve_user_group("nobody:");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().message, "invalid user 'nobody:': empty group after ':'");
    auto e = resolve_user_group(":nogroup");
    ASSERT_FALSE(e);
}

TEST(Privileges, DropErrorsChangeNothing)
{
    Logger log;
    uid_t before = ::geteuid();
    auto a = drop_privileges("no-such-user-smct", log);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().message, "unknown user 'no-such-user-smct'");
    auto b = drop_privileges("root", log);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().message, "refusing to drop privileges to uid 0 ('root')");
    EXPECT_EQ(::geteuid(), before);
}

TEST(Privileges, DropToNobodyKeepsNetAdminAndNetRaw)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    passwd* pw = ::getpwnam("nobody");
    if (!pw)
        GTEST_SKIP() << "no user nobody";
    uid_t nobody = pw->pw_uid;
    gid_t nobody_gid = pw->pw_gid;
    // A root-only file: readable afterwards only with CAP_DAC_OVERRIDE.
    char secret[] = "/tmp/privileges_test.XXXXXX";
    int sfd = ::mkstemp(secret);
    ASSERT_GE(sfd, 0);
    ::fchmod(sfd, 0600);
    ::close(sfd);

    CHILD_RESULT(in_child([&]() -> std::string {
        if (::unshare(CLONE_NEWNET) != 0)
            return "SKIP: unshare(CLONE_NEWNET): " + std::string(std::strerror(errno));
        std::string out;
        Logger log;
        log.set_level(LogLevel::none);
        auto st = drop_privileges("nobody", log);
        if (!st)
            return "drop_privileges: " + st.error().message;
        uid_t r, e, s;
        gid_t rg, eg, sg;
        ::getresuid(&r, &e, &s);
        ::getresgid(&rg, &eg, &sg);
        if (r != nobody || e != nobody || s != nobody)
            out += cat("uids ", r, "/", e, "/", s, "\n");
        if (rg != nobody_gid || eg != nobody_gid || sg != nobody_gid)
            out += cat("gids ", rg, "/", eg, "/", sg, "\n");
        gid_t groups[8];
        int ng = ::getgroups(8, groups);
        if (ng != 1 || groups[0] != nobody_gid)
            out += cat("supplementary groups: ", ng, "\n");
        std::string want = hex16(kept_capabilities());
        for (const char* k : {"CapEff", "CapPrm", "CapBnd"})
            if (status_field(k) != want)
                out += cat(k, " ", status_field(k), ", want ", want, "\n");
        for (const char* k : {"CapInh", "CapAmb"})
            if (status_field(k) != hex16(0))
                out += cat(k, " ", status_field(k), ", want 0\n");
        if (!has_net_admin())
            out += "has_net_admin() false\n";
        if (effective_capabilities() != kept_capabilities())
            out += "effective_capabilities() wrong\n";

        // CAP_NET_RAW: a raw IGMP socket; CAP_NET_ADMIN: MRT_INIT on it.
        int raw = ::socket(AF_INET, SOCK_RAW, IPPROTO_IGMP);
        if (raw < 0) {
            out += cat("raw IGMP socket: ", std::strerror(errno), "\n");
        } else {
            int one = 1;
            if (::setsockopt(raw, IPPROTO_IP, MRT_INIT, &one, sizeof(one)) != 0) {
                if (errno != ENOPROTOOPT) // kernel without multicast routing
                    out += cat("MRT_INIT: ", std::strerror(errno), "\n");
            } else {
                (void)::setsockopt(raw, IPPROTO_IP, MRT_DONE, nullptr, 0);
            }
            ::close(raw);
        }
        // Not kept: CAP_NET_BIND_SERVICE, CAP_DAC_OVERRIDE, CAP_SETUID.
        int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(80);
        if (::bind(tcp, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0)
            out += "bind to port 80 worked\n";
        ::close(tcp);
        int fd = ::open(secret, O_RDONLY);
        if (fd >= 0) {
            out += "opened a root-only file\n";
            ::close(fd);
        }
        if (::setuid(0) == 0)
            out += "setuid(0) worked\n";
        return out;
    }));
    ::unlink(secret);
}

TEST(Privileges, WithoutNetAdmin)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root";
    EXPECT_TRUE(has_net_admin());
    CHILD_RESULT(in_child([]() -> std::string {
        // A plain uid change (no KEEPCAPS) loses every capability.
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            return "setresuid failed";
        std::string out;
        if (has_net_admin())
            out += "has_net_admin() true without capabilities\n";
        if (effective_capabilities() != 0)
            out += "effective_capabilities() not 0\n";
        Logger log;
        log.set_level(LogLevel::none);
        auto st = drop_privileges("65534:65534", log);
        if (st)
            out += "drop_privileges worked without capabilities\n";
        else if (st.error().message != "cannot keep CAP_NET_ADMIN and CAP_NET_RAW: this process does not hold them")
            out += "unexpected error: " + st.error().message + "\n";
        return out;
    }));
}

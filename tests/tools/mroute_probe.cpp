// mroute_probe: root-only check of os/mroute and os/interfaces against the
// real kernel. Run inside a throw-away network namespace with a veth pair
// whose second end carries 10.0.0.1/24 and 2001:db8::1/64, e.g.
//   unshare -n bash -c 'ip link add veth0 type veth peer name veth1;
//     ip link set veth0 up; ip link set veth1 up; ip link set lo up;
//     ip addr add 10.0.0.2/24 dev veth0; ip addr add 10.0.0.1/24 dev veth1;
//     ip -6 addr add 2001:db8::2/64 dev veth0 nodad;
//     ip -6 addr add 2001:db8::1/64 dev veth1 nodad;
//     sysctl -qw net.ipv4.conf.all.accept_local=1 net.ipv4.conf.veth0.accept_local=1;
//     mroute_probe veth0 veth1'
// VIF 0 = first interface (inbound), VIF 1 = second. Packets sent out of the
// second end arrive on the first (accept_local: their source is local; the
// forwarded copy loops back through the pair until its TTL runs out, so the
// forwarded count is >= 1). Prints the kernel's tables; exit 0 when
// every check passed, 1 otherwise, 77 when not root.
#include "smcroute/os/interfaces.hpp"
#include "smcroute/base/log.hpp"
#include "smcroute/os/mroute.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

using namespace smcroute;

namespace {

int failures = 0;

void check(bool ok, const std::string& what)
{
    std::cout << (ok ? "PASS " : "FAIL ") << what << "\n";
    if (!ok)
        ++failures;
}

void dump(const char* path)
{
    std::cout << "--- " << path << "\n";
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
        std::cout << line << "\n";
}

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

const char* kind_name(Upcall::Kind k)
{
    switch (k) {
    case Upcall::Kind::nocache: return "nocache";
    case Upcall::Kind::wrongvif: return "wrongvif";
    case Upcall::Kind::wholepkt: return "wholepkt";
    case Upcall::Kind::other: return "other";
    }
    return "?";
}

// Send one datagram from `src` out of interface `ifindex` to `group`.
bool send_mcast(const IpAddr& src, const IpAddr& group, unsigned ifindex)
{
    if (src.is_v4()) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr = src.v4();
        ip_mreqn mreq{};
        mreq.imr_ifindex = static_cast<int>(ifindex);
        int ttl = 16, loop = 0;
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
        bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(5000);
        to.sin_addr = group.v4();
        ok = ok && sendto(fd, "probe", 5, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 5;
        close(fd);
        return ok;
    }
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = src.v6();
    int idx = static_cast<int>(ifindex), hops = 16, loop = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop);
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(5000);
    to.sin6_addr = group.v6();
    ok = ok && sendto(fd, "probe", 5, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 5;
    close(fd);
    return ok;
}

std::vector<Upcall> wait_upcalls(MrouteSocket& s)
{
    std::vector<Upcall> all;
    for (int i = 0; i < 10; ++i) {
        pollfd p{s.fd(), POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        auto got = s.read_upcalls();
        all.insert(all.end(), got.begin(), got.end());
    }
    for (const auto& u : all)
        std::cout << "upcall " << kind_name(u.kind) << " vif " << u.vif << " (" << u.source.str() << ", "
                  << u.group.str() << ")\n";
    return all;
}

bool has(const std::vector<Upcall>& v, Upcall::Kind k, unsigned vif, const IpAddr& s, const IpAddr& g)
{
    for (const auto& u : v)
        if (u.kind == k && u.vif == vif && u.source == s && u.group == g)
            return true;
    return false;
}

void probe_family(Family f, unsigned in_if, unsigned out_if)
{
    const std::string fam(family_name(f));
    const bool v4 = f == Family::inet;
    auto m = open_mroute(f, 0);
    check(m.ok(), fam + " open: " + (m ? std::string("ok") : m.error().message));
    if (!m)
        return;
    auto& s = **m;
    auto st = s.add_vif(0, in_if, 1);
    check(st.ok(), fam + " add VIF 0" + (st ? "" : ": " + st.error().message));
    st = s.add_vif(1, out_if, 1);
    check(st.ok(), fam + " add VIF 1" + (st ? "" : ": " + st.error().message));

    const IpAddr src = v4 ? ip("10.0.0.1") : ip("2001:db8::1");
    const IpAddr fwd = v4 ? ip("225.1.2.3") : ip("ff3e::1:2:3");    // iif 0 -> oif 1
    const IpAddr wrong = v4 ? ip("225.1.2.4") : ip("ff3e::1:2:4");  // iif 1, oif 0: arrives on 0
    const IpAddr unknown = v4 ? ip("225.9.9.9") : ip("ff3e::9:9:9"); // no entry: NOCACHE
    std::array<uint8_t, max_vifs> ttl{};
    ttl[1] = 1;
    st = s.add_mfc(src, fwd, 0, ttl);
    check(st.ok(), fam + " add MFC fwd" + (st ? "" : ": " + st.error().message));
    std::array<uint8_t, max_vifs> ttl0{};
    ttl0[0] = 1;
    st = s.add_mfc(src, wrong, 1, ttl0);
    check(st.ok(), fam + " add MFC wrong" + (st ? "" : ": " + st.error().message));

    dump(v4 ? "/proc/net/ip_mr_vif" : "/proc/net/ip6_mr_vif");
    dump(v4 ? "/proc/net/ip_mr_cache" : "/proc/net/ip6_mr_cache");

    check(send_mcast(src, fwd, out_if), fam + " send to " + fwd.str());
    check(send_mcast(src, wrong, out_if), fam + " send to " + wrong.str());
    check(send_mcast(src, unknown, out_if), fam + " send to " + unknown.str());
    auto ups = wait_upcalls(s);
    check(has(ups, Upcall::Kind::nocache, 0, src, unknown), fam + " NOCACHE upcall for unknown group on VIF 0");
    check(has(ups, Upcall::Kind::wrongvif, 0, src, wrong), fam + " WRONGVIF upcall on VIF 0");

    auto c = s.counters(src, fwd);
    check(c.ok() && c->packets >= 1 && c->bytes > 0,
          fam + " counters fwd" + (c ? cat(": ", c->packets, " pkts ", c->bytes, " bytes") : ": " + c.error().message));
    c = s.counters(src, wrong);
    check(c.ok() && c->wrong_if == 1, fam + " counters wrong_if" + (c ? cat(": ", c->wrong_if) : ": " + c.error().message));
    dump(v4 ? "/proc/net/ip_mr_cache" : "/proc/net/ip6_mr_cache");

    // Replace (re-add) then delete; the table must be empty of our entries after.
    st = s.add_mfc(src, fwd, 0, ttl);
    check(st.ok(), fam + " re-add MFC replaces");
    check(s.del_mfc(src, fwd).ok() && s.del_mfc(src, wrong).ok(), fam + " delete MFCs");
    auto gone = s.counters(src, fwd);
    check(!gone.ok(), fam + " counters after delete fail: " + (gone ? std::string("?") : gone.error().message));
    check(s.del_vif(0, in_if).ok() && s.del_vif(1, out_if).ok(), fam + " delete VIFs");
    dump(v4 ? "/proc/net/ip_mr_vif" : "/proc/net/ip6_mr_vif");
}

} // namespace

int main(int argc, char** argv)
{
    if (geteuid() != 0) {
        std::cerr << "mroute_probe: needs root (in a network namespace)\n";
        return 77;
    }
    if (argc != 3) {
        std::cerr << "usage: mroute_probe IN-IFACE OUT-IFACE\n";
        return 2;
    }
    auto list = list_interfaces();
    check(list.ok(), "list_interfaces");
    if (!list)
        return 1;
    unsigned in_if = 0, out_if = 0;
    for (const auto& i : *list) {
        std::cout << "iface " << i.index << " " << i.name.str() << (i.up() ? " up" : "") << (i.multicast() ? " multicast" : "")
                  << (i.loopback() ? " loopback" : "") << "\n";
        if (i.name.str() == argv[1])
            in_if = i.index;
        if (i.name.str() == argv[2])
            out_if = i.index;
    }
    check(in_if != 0 && out_if != 0, "both interfaces found");
    if (in_if == 0 || out_if == 0)
        return 1;
    check(in_if == if_nametoindex(argv[1]) && out_if == if_nametoindex(argv[2]), "indexes match if_nametoindex");

    auto mon = LinkMonitor::open();
    check(mon.ok(), "LinkMonitor::open");

    probe_family(Family::inet, in_if, out_if);
    probe_family(Family::inet6, in_if, out_if);

    if (mon) {
        bool overflowed = false;
        (void)mon->read(overflowed); // drain what the probe itself caused
        check(std::system("ip link add probe0 type veth peer name probe1") == 0, "create probe0/probe1");
        pollfd p{mon->fd(), POLLIN, 0};
        check(poll(&p, 1, 1000) == 1, "monitor wakes on link add");
        auto ev = mon->read(overflowed);
        bool added = false;
        for (const auto& e : ev) {
            std::cout << "event " << (e.kind == LinkEvent::Kind::removed ? "removed " : "added_or_changed ")
                      << e.iface.index << " " << e.iface.name.str() << "\n";
            added |= e.kind == LinkEvent::Kind::added_or_changed && e.iface.name.str() == "probe0";
        }
        check(added && !overflowed, "monitor reports probe0 added");
        check(std::system("ip link del probe0") == 0, "delete probe0");
        check(poll(&p, 1, 1000) == 1, "monitor wakes on link delete");
        bool removed = false;
        for (const auto& e : mon->read(overflowed)) {
            std::cout << "event " << (e.kind == LinkEvent::Kind::removed ? "removed " : "added_or_changed ")
                      << e.iface.index << " " << e.iface.name.str() << "\n";
            removed |= e.kind == LinkEvent::Kind::removed && e.iface.name.str() == "probe0";
        }
        check(removed, "monitor reports probe0 removed");
    }
    std::cout << (failures ? "FAILED " : "ALL PASSED ") << failures << "\n";
    return failures ? 1 : 0;
}

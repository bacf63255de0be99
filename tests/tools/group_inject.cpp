// tests/tools/group_inject: sends IGMP or MLD messages on one interface, as a
// host or another querier would, for the proxy's system tests. A raw socket
// (IPPROTO_IGMP / IPPROTO_ICMPV6), TTL / hop limit 1 and Router Alert; the
// bytes come from model/group_packet's encoders.
//
//   group_inject IFNAME igmp|mld COMMAND [ARG]... [OPTION]...
//
// Commands:
//   query [--version 1|2|3] [--group G] [--source S]... [--max-resp SEC]
//         [--robustness N] [--query-interval SEC] [--suppress]
//       A query (default: version 3, general, max-resp 10, robustness 2,
//       query-interval 125). IGMP versions 1-3; MLD version 2 is MLDv1,
//       3 is MLDv2. Sources make a group-and-source-specific v3 query.
//   report v1|v2 GROUP          an IGMPv1/v2 report (MLD: v2 = MLDv1 report)
//   report v3 RECORD...         a v3 report; RECORD is TYPE:GROUP[:S1,S2...]
//       TYPE: is_in, is_ex, to_in, to_ex, allow, block. IPv6 groups are
//       written in brackets: to_in:[ff3e::1]:2001:db8::1,2001:db8::2
//   leave GROUP                 an IGMPv2 Leave / MLDv1 Done
//   raw HEX                     the bytes as the message body, unchecked
//       (--fix-checksum: write the IGMP checksum into bytes 2-3; MLD's is
//       always the kernel's). Sent to 224.0.0.22 / ff02::16 unless --to.
// Options for every command:
//   --interval SEC --count N    send N times, SEC apart (a periodic querier)
//   --from ADDR                 the source address (default: IPv4, the
//                               interface's primary address; IPv6, its
//                               lowest link-local address)
//   --to ADDR                   the destination (default: the RFCs')
//   --bad-ttl                   TTL / hop limit 2 instead of 1
//   --no-router-alert           without the Router Alert option
// SEC is decimal seconds. Exit 0 all sent, 1 a socket or send error,
// 64 usage.
#include "smcroute/base/addr.hpp"
#include "smcroute/base/unique_fd.hpp"
#include "smcroute/model/group_packet.hpp"
#include "smcroute/model/mrdisc_packet.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using namespace smcroute;

namespace {

const char* const usage_text =
    "usage: group_inject IFNAME igmp|mld query [--version 1|2|3] [--group G] [--source S]...\n"
    "                    [--max-resp SEC] [--robustness N] [--query-interval SEC] [--suppress]\n"
    "       group_inject IFNAME igmp|mld report v1|v2 GROUP\n"
    "       group_inject IFNAME igmp|mld report v3 TYPE:GROUP[:S1,S2...]...\n"
    "       group_inject IFNAME igmp|mld leave GROUP\n"
    "       group_inject IFNAME igmp|mld raw HEX [--fix-checksum]\n"
    "  every command: [--interval SEC --count N] [--from ADDR] [--to ADDR] [--bad-ttl] [--no-router-alert]\n";

// The first usage error; the parsers return a harmless default after one.
struct Errors {
    std::string first;
    void operator()(std::string why)
    {
        if (first.empty())
            first = std::move(why);
    }
};

double seconds(Errors& bad, std::string_view text)
{
    std::string s(text);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end || !(v >= 0) || v > 1e7) {
        bad("bad seconds '" + s + "'");
        return 0;
    }
    return v;
}

long number(Errors& bad, std::string_view text, long lo, long hi)
{
    std::string s(text);
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end || v < lo || v > hi) {
        bad("bad number '" + s + "' (" + std::to_string(lo) + "-" + std::to_string(hi) + ")");
        return lo;
    }
    return v;
}

IpAddr address(Errors& bad, std::string_view text, Family f)
{
    if (text.size() > 2 && text.front() == '[' && text.back() == ']')
        text = text.substr(1, text.size() - 2);
    auto a = IpAddr::parse(text);
    if (!a || a->family() != f) {
        bad("bad " + std::string(family_name(f)) + " address '" + std::string(text) + "'");
        return IpAddr::any(f);
    }
    return *a;
}

RecordType record_type(Errors& bad, std::string_view t)
{
    const std::pair<std::string_view, RecordType> names[] = {
        {"is_in", RecordType::is_include}, {"is_ex", RecordType::is_exclude}, {"to_in", RecordType::to_include},
        {"to_ex", RecordType::to_exclude}, {"allow", RecordType::allow},      {"block", RecordType::block}};
    for (const auto& [name, type] : names)
        if (t == name)
            return type;
    bad("bad record type '" + std::string(t) + "' (is_in is_ex to_in to_ex allow block)");
    return RecordType::is_include;
}

// TYPE:GROUP[:S1,S2...], the IPv6 group in brackets.
GroupRecord record(Errors& bad, std::string_view text, Family f)
{
    auto colon = text.find(':');
    GroupRecord r;
    if (colon == std::string_view::npos) {
        bad("bad record '" + std::string(text) + "' (TYPE:GROUP[:S1,S2...])");
        return r;
    }
    r.type = record_type(bad, text.substr(0, colon));
    std::string_view rest = text.substr(colon + 1);
    size_t end = rest.find(rest.starts_with('[') ? ']' : ':');
    if (rest.starts_with('[')) {
        if (end == std::string_view::npos) {
            bad("unclosed '[' in '" + std::string(text) + "'");
            return r;
        }
        ++end;
    }
    r.group = address(bad, rest.substr(0, end), f);
    if (end < rest.size()) {
        if (rest[end] != ':') {
            bad("bad record '" + std::string(text) + "'");
            return r;
        }
        std::string_view list = rest.substr(end + 1);
        while (!list.empty()) {
            auto comma = list.find(',');
            r.sources.push_back(address(bad, list.substr(0, comma), f));
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        }
    }
    return r;
}

std::vector<uint8_t> hex(Errors& bad, std::string_view text)
{
    std::vector<uint8_t> out;
    std::string digits;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c)) && c != ':')
            digits += c;
    if (digits.empty() || digits.size() % 2 || digits.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        bad("bad hex '" + std::string(text) + "'");
        return out;
    }
    for (size_t i = 0; i < digits.size(); i += 2)
        out.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    return out;
}

struct Plan {
    std::string ifname;
    Family family = Family::inet;
    std::vector<uint8_t> body;
    IpAddr to;
    std::optional<IpAddr> from;
    double interval = 0;
    long count = 1;
    int ttl = 1;
    bool router_alert = true;
};

Plan parse(Errors& bad, int argc, char** argv)
{
    Plan p;
    if (argc < 4) {
        bad("too few arguments");
        return p;
    }
    p.ifname = argv[1];
    std::string_view fam = argv[2];
    if (fam != "igmp" && fam != "mld") {
        bad("family must be igmp or mld");
        return p;
    }
    p.family = fam == "igmp" ? Family::inet : Family::inet6;
    const Family f = p.family;
    std::string_view cmd = argv[3];

    // Options anywhere after the command; the rest are its arguments.
    std::vector<std::string_view> args;
    GroupMessage m;
    m.group = IpAddr::any(f);
    m.max_response = std::chrono::seconds(10);
    m.robustness = 2;
    m.query_interval = 125;
    std::optional<IpAddr> to;
    bool fix_checksum = false;
    for (int i = 4; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) {
                bad(std::string(a) + " needs a value");
                return "";
            }
            return argv[++i];
        };
        if (a == "--version")
            m.version = static_cast<GroupVersion>(number(bad, value(), f == Family::inet ? 1 : 2, 3));
        else if (a == "--group")
            m.group = address(bad, value(), f);
        else if (a == "--source")
            m.sources.push_back(address(bad, value(), f));
        else if (a == "--max-resp")
            m.max_response = std::chrono::milliseconds(std::lround(seconds(bad, value()) * 1000));
        else if (a == "--robustness")
            m.robustness = static_cast<uint8_t>(number(bad, value(), 0, 7));
        else if (a == "--query-interval")
            m.query_interval = static_cast<uint32_t>(seconds(bad, value()));
        else if (a == "--suppress")
            m.suppress = true;
        else if (a == "--interval")
            p.interval = seconds(bad, value());
        else if (a == "--count")
            p.count = number(bad, value(), 1, 1000000);
        else if (a == "--from")
            p.from = address(bad, value(), f);
        else if (a == "--to")
            to = address(bad, value(), f);
        else if (a == "--bad-ttl")
            p.ttl = 2;
        else if (a == "--no-router-alert")
            p.router_alert = false;
        else if (a == "--fix-checksum" && cmd == "raw")
            fix_checksum = true;
        else if (a.starts_with("--"))
            bad("unknown option " + std::string(a));
        else
            args.push_back(a);
    }

    if (cmd == "query") {
        if (!args.empty())
            bad("query takes options only");
        m.kind = GroupMessage::Kind::query;
        if (m.version != GroupVersion::v3 && !m.sources.empty())
            bad("--source needs --version 3");
        if (m.version != GroupVersion::v3) {
            m.robustness = 0;
            m.query_interval = 0;
        }
    } else if (cmd == "report") {
        if (args.empty()) {
            bad("report needs v1, v2 or v3");
            return p;
        }
        m = GroupMessage{};
        m.kind = GroupMessage::Kind::report;
        m.group = IpAddr::any(f);
        if (args[0] == "v3") {
            m.version = GroupVersion::v3;
            for (size_t i = 1; i < args.size(); ++i)
                m.records.push_back(record(bad, args[i], f));
        } else if (args[0] == "v1" || args[0] == "v2") {
            if (args.size() != 2) {
                bad("report " + std::string(args[0]) + " takes one GROUP");
                return p;
            }
            if (args[0] == "v1" && f == Family::inet6)
                bad("MLD has no v1 report (MLDv1 is v2 here)");
            m.version = args[0] == "v1" ? GroupVersion::v1 : GroupVersion::v2;
            m.group = address(bad, args[1], f);
        } else {
            bad("report needs v1, v2 or v3");
        }
    } else if (cmd == "leave") {
        if (args.size() != 1) {
            bad("leave takes one GROUP");
            return p;
        }
        m = GroupMessage{};
        m.kind = GroupMessage::Kind::leave;
        m.version = GroupVersion::v2;
        m.group = address(bad, args[0], f);
    } else if (cmd == "raw") {
        if (args.size() != 1) {
            bad("raw takes one HEX argument");
            return p;
        }
        p.body = hex(bad, args[0]);
        if (fix_checksum && f == Family::inet && p.body.size() >= 4) {
            p.body[2] = p.body[3] = 0;
            uint16_t cs = internet_checksum(p.body);
            p.body[2] = static_cast<uint8_t>(cs >> 8);
            p.body[3] = static_cast<uint8_t>(cs & 0xff);
        }
        p.to = to.value_or(group_v3_reports(f));
        return p;
    } else {
        bad("unknown command '" + std::string(cmd) + "'");
        return p;
    }
    p.body = f == Family::inet ? encode_igmp(m) : encode_mld(m);
    p.to = to.value_or(group_destination(f, m));
    return p;
}

// The lowest link-local IPv6 address of the interface.
std::optional<IpAddr> link_local(const std::string& ifname)
{
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0)
        return std::nullopt;
    std::optional<IpAddr> best;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || ifname != i->ifa_name)
            continue;
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
        if (!IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
            continue;
        IpAddr a = IpAddr::from_v6(sin6->sin6_addr);
        if (!best || a < *best)
            best = a;
    }
    freeifaddrs(list);
    return best;
}

int fail(const std::string& what)
{
    std::fprintf(stderr, "group_inject: %s: %s\n", what.c_str(), std::strerror(errno));
    return 1;
}

int send_all(const Plan& p)
{
    unsigned ifindex = if_nametoindex(p.ifname.c_str());
    if (!ifindex)
        return fail("interface " + p.ifname);
    const bool v4 = p.family == Family::inet;
    UniqueFd fd(socket(v4 ? AF_INET : AF_INET6, SOCK_RAW, v4 ? int{IPPROTO_IGMP} : int{IPPROTO_ICMPV6}));
    if (!fd)
        return fail("raw socket");
    if (setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, p.ifname.c_str(),
                   static_cast<socklen_t>(p.ifname.size())) != 0)
        return fail("SO_BINDTODEVICE " + p.ifname);
    std::optional<IpAddr> from = p.from;
    if (!v4 && !from) {
        from = link_local(p.ifname);
        if (!from) {
            errno = EADDRNOTAVAIL;
            return fail("no link-local address on " + p.ifname);
        }
    }
    sockaddr_storage ss{};
    if (from) {
        to_sockaddr(*from, ss);
        if (!v4 && IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr))
            reinterpret_cast<sockaddr_in6*>(&ss)->sin6_scope_id = ifindex;
        if (bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), v4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)) != 0)
            return fail("bind " + from->str());
    }
    int off = 0, ttl = p.ttl;
    if (v4) {
        ip_mreqn mreq{};
        mreq.imr_ifindex = static_cast<int>(ifindex);
        auto ra = ipv4_router_alert_option();
        if (setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) != 0 ||
            setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
            setsockopt(fd.get(), IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) != 0 ||
            setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off) != 0 ||
            (p.router_alert && setsockopt(fd.get(), IPPROTO_IP, IP_OPTIONS, ra.data(), ra.size()) != 0))
            return fail("IPv4 socket options");
    } else {
        auto ra = ipv6_router_alert_hopopts();
        if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex) != 0 ||
            setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl) != 0 ||
            setsockopt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) != 0 ||
            setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof off) != 0 ||
            (p.router_alert && setsockopt(fd.get(), IPPROTO_IPV6, IPV6_HOPOPTS, ra.data(), ra.size()) != 0))
            return fail("IPv6 socket options");
    }
    sockaddr_storage dst{};
    to_sockaddr(p.to, dst);
    if (!v4 && (IN6_IS_ADDR_MC_LINKLOCAL(&reinterpret_cast<sockaddr_in6*>(&dst)->sin6_addr) ||
                IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<sockaddr_in6*>(&dst)->sin6_addr)))
        reinterpret_cast<sockaddr_in6*>(&dst)->sin6_scope_id = ifindex;
    auto gap = std::chrono::microseconds(std::llround(p.interval * 1e6));
    for (long i = 0; i < p.count; ++i) {
        if (i > 0)
            std::this_thread::sleep_for(gap);
        if (sendto(fd.get(), p.body.data(), p.body.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                   v4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)) != static_cast<ssize_t>(p.body.size()))
            return fail("send to " + p.to.str() + " on " + p.ifname);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    Errors bad;
    Plan p = parse(bad, argc, argv);
    if (!bad.first.empty()) {
        std::fprintf(stderr, "group_inject: %s\n%s", bad.first.c_str(), usage_text);
        return 64;
    }
    return send_all(p);
}

#include "smcroute/os/kernel_groups.hpp"

#include "smcroute/base/text.hpp"
#include "smcroute/base/unique_fd.hpp"
#include "smcroute/base/words.hpp"
#include "smcroute/os/procfs.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <optional>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <utility>

namespace smcroute {

namespace {

std::vector<std::string_view> split_lines(std::string_view text)
{
    std::vector<std::string_view> out;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        if (nl == std::string_view::npos)
            break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

template <class T>
bool parse_num(std::string_view w, T& out, int base = 10)
{
    if (base == 16 && w.size() > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X'))
        w.remove_prefix(2);
    if (w.empty())
        return false;
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), out, base);
    return ec == std::errc() && p == w.data() + w.size();
}

// 32 hex digits, in address byte order.
bool parse_hex_v6(std::string_view w, IpAddr& out)
{
    if (w.size() != 32)
        return false;
    in6_addr a{};
    for (size_t i = 0; i < 16; ++i) {
        unsigned byte = 0;
        if (!parse_num(w.substr(2 * i, 2), byte, 16))
            return false;
        a.s6_addr[i] = static_cast<uint8_t>(byte);
    }
    out = IpAddr::from_v6(a);
    return true;
}

// 8 hex digits; host_order: the raw s_addr value as the host sees it.
bool parse_hex_v4(std::string_view w, bool host_order, IpAddr& out)
{
    uint32_t v = 0;
    if (!parse_num(w, v, 16))
        return false;
    in_addr a{};
    a.s_addr = host_order ? v : htonl(v);
    out = IpAddr::from_v4(a);
    return true;
}

} // namespace

std::string_view filter_mode_name(FilterMode m)
{
    return m == FilterMode::include ? "include" : "exclude";
}

// Idx	Device    : Count Querier	Group    Users Timer	Reporter
// 3	va        :     3      V3
// 				030201E8     1 0:00000000		0
std::vector<ProcGroup> parse_proc_igmp(std::string_view text)
{
    std::vector<ProcGroup> out;
    bool have_dev = false;
    unsigned ifindex = 0;
    std::string ifname;
    for (std::string_view line : split_lines(text)) {
        if (line.empty())
            continue;
        if (line[0] >= '0' && line[0] <= '9') {
            have_dev = false;
            size_t colon = line.find(':');
            if (colon == std::string_view::npos)
                continue;
            auto head = split_words(line.substr(0, colon));
            if (head.size() != 2 || !parse_num(head[0], ifindex))
                continue;
            ifname = std::string(head[1]);
            have_dev = true;
            continue;
        }
        if (!is_space(line[0]) || !have_dev)
            continue;
        auto w = split_words(line);
        ProcGroup g;
        if (w.size() < 2 || w[0].size() != 8 || !parse_hex_v4(w[0], true, g.group) || !parse_num(w[1], g.users))
            continue;
        g.ifindex = ifindex;
        g.ifname = ifname;
        out.push_back(std::move(g));
    }
    return out;
}

// 3    va              ff3e0000000000000000000400050006     1 00000004 0
std::vector<ProcGroup> parse_proc_igmp6(std::string_view text)
{
    std::vector<ProcGroup> out;
    for (std::string_view line : split_lines(text)) {
        auto w = split_words(line);
        ProcGroup g;
        if (w.size() < 4 || !parse_num(w[0], g.ifindex) || !parse_hex_v6(w[2], g.group) || !parse_num(w[3], g.users))
            continue;
        g.ifname = std::string(w[1]);
        out.push_back(std::move(g));
    }
    return out;
}

// Idx Device        MCA        SRC    INC    EXC
//   3     va 0xe8010203 0x0a000001      1      0
std::vector<ProcSource> parse_proc_mcfilter(std::string_view text)
{
    std::vector<ProcSource> out;
    for (std::string_view line : split_lines(text)) {
        auto w = split_words(line);
        ProcSource s;
        if (w.size() < 6 || !parse_num(w[0], s.ifindex) || !parse_hex_v4(w[2], false, s.group) ||
            !parse_hex_v4(w[3], false, s.source) || !parse_num(w[4], s.include) || !parse_num(w[5], s.exclude))
            continue;
        out.push_back(s);
    }
    return out;
}

// Idx Device                Multicast Address                   Source Address    INC    EXC
//   3     va ff3e0000000000000000000400050006 20010db8000000000000000000000001      1      0
std::vector<ProcSource> parse_proc_mcfilter6(std::string_view text)
{
    std::vector<ProcSource> out;
    for (std::string_view line : split_lines(text)) {
        auto w = split_words(line);
        ProcSource s;
        if (w.size() < 6 || !parse_num(w[0], s.ifindex) || !parse_hex_v6(w[2], s.group) ||
            !parse_hex_v6(w[3], s.source) || !parse_num(w[4], s.include) || !parse_num(w[5], s.exclude))
            continue;
        out.push_back(s);
    }
    return out;
}

std::vector<KernelMembership> merge_memberships(const std::vector<ProcGroup>& groups,
                                                const std::vector<ProcSource>& sources)
{
    std::map<std::pair<unsigned, IpAddr>, std::vector<const ProcSource*>> by_group;
    for (const auto& s : sources)
        by_group[{s.ifindex, s.group}].push_back(&s);
    std::vector<KernelMembership> out;
    out.reserve(groups.size());
    for (const auto& g : groups) {
        KernelMembership m;
        m.ifindex = g.ifindex;
        m.ifname = g.ifname;
        m.group = g.group;
        m.users = g.users;
        m.mode = FilterMode::exclude;
        auto it = by_group.find({g.ifindex, g.group});
        if (it != by_group.end()) {
            bool any_excluded = std::any_of(it->second.begin(), it->second.end(),
                                            [](const ProcSource* s) { return s->exclude > 0; });
            m.mode = any_excluded ? FilterMode::exclude : FilterMode::include;
            for (const ProcSource* s : it->second) {
                bool listed = any_excluded ? (s->exclude > 0 && s->include == 0) : s->include > 0;
                if (listed)
                    m.sources.push_back(s->source);
            }
            std::sort(m.sources.begin(), m.sources.end());
            m.sources.erase(std::unique(m.sources.begin(), m.sources.end()), m.sources.end());
        }
        out.push_back(std::move(m));
    }
    return out;
}

namespace {

// Far more than any system's table; guards only against a runaway read.
constexpr size_t proc_net_max_bytes = 256 << 20;

// A /proc/net table, or nullopt when the kernel has none (ENOENT: no IPv6,
// or no mcfilter).
Result<std::optional<std::string>> read_table_if_present(const std::string& path)
{
    auto text = read_text_file(path, proc_net_max_bytes);
    if (text)
        return std::optional<std::string>(std::move(*text));
    if (text.error().code == ENOENT)
        return std::optional<std::string>();
    return text.take_error();
}

} // namespace

namespace {

// The kernel's reader of /proc/net/mcfilter{,6} looks only at the newest
// group of each device when it seeks the first line, so when every device's
// newest group is an ASM join the files come out short or empty. lo is the
// first device: a source-specific join there, held while the files are read,
// makes them complete. It is left out of the result.
constexpr const char* anchor_group_v4 = "232.255.255.253";
constexpr const char* anchor_source_v4 = "127.0.0.253";
constexpr const char* anchor_group_v6 = "ff3e::ffff:fffd";
constexpr const char* anchor_source_v6 = "::1";

UniqueFd anchor_join(Family f)
{
    unsigned lo = ::if_nametoindex("lo");
    if (!lo)
        return {};
    const bool v4 = f == Family::inet;
    UniqueFd fd(::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd)
        return {};
    group_source_req req{};
    req.gsr_interface = lo;
    to_sockaddr(*IpAddr::parse(v4 ? anchor_group_v4 : anchor_group_v6), req.gsr_group);
    to_sockaddr(*IpAddr::parse(v4 ? anchor_source_v4 : anchor_source_v6), req.gsr_source);
    if (::setsockopt(fd.get(), v4 ? IPPROTO_IP : IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, &req, sizeof(req)) != 0)
        return {};
    return fd;
}

// Take the anchor's own membership out of the list.
void drop_anchor(std::vector<KernelMembership>& list, Family f)
{
    IpAddr group = *IpAddr::parse(f == Family::inet ? anchor_group_v4 : anchor_group_v6);
    IpAddr source = *IpAddr::parse(f == Family::inet ? anchor_source_v4 : anchor_source_v6);
    for (auto it = list.begin(); it != list.end(); ++it) {
        if (it->ifname != "lo" || it->group != group)
            continue;
        if (it->users <= 1) {
            list.erase(it);
        } else {
            --it->users;
            std::erase(it->sources, source);
        }
        return;
    }
}

} // namespace

Result<std::vector<KernelMembership>> read_kernel_memberships(const std::string& proc_net)
{
    UniqueFd anchor4, anchor6;
    const bool live = proc_net == "/proc/net";
    if (live) {
        anchor4 = anchor_join(Family::inet);
        anchor6 = anchor_join(Family::inet6);
    }
    auto igmp = read_text_file(proc_net + "/igmp", proc_net_max_bytes);
    if (!igmp)
        return igmp.take_error();
    auto mcfilter = read_table_if_present(proc_net + "/mcfilter");
    if (!mcfilter)
        return mcfilter.take_error();
    auto out = merge_memberships(parse_proc_igmp(*igmp), parse_proc_mcfilter(mcfilter->value_or("")));
    if (anchor4)
        drop_anchor(out, Family::inet);

    auto igmp6 = read_table_if_present(proc_net + "/igmp6");
    if (!igmp6)
        return igmp6.take_error();
    if (igmp6->has_value()) {
        auto mcfilter6 = read_table_if_present(proc_net + "/mcfilter6");
        if (!mcfilter6)
            return mcfilter6.take_error();
        auto v6 = merge_memberships(parse_proc_igmp6(**igmp6), parse_proc_mcfilter6(mcfilter6->value_or("")));
        if (anchor6)
            drop_anchor(v6, Family::inet6);
        out.insert(out.end(), std::make_move_iterator(v6.begin()), std::make_move_iterator(v6.end()));
    }
    return out;
}

} // namespace smcroute

// tests/fuzz/seedgen: writes the binary seed files of the fuzz corpora (IPC
// request streams, kernel upcalls, rtnetlink link messages, IGMP and MLD
// messages) from the real
// encoders and the kernel's struct layouts. Run: fuzz_seedgen tests/fuzz/corpus
// The output is committed; run again only when the formats change.
#include "smcroute/model/group_packet.hpp"
#include "smcroute/model/ipc_protocol.hpp"
#include "smcroute/model/mrdisc_packet.hpp"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/mroute.h>
#include <linux/mroute6.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace smcroute;

namespace {

std::string dir;

void write(const std::string& target, const std::string& name, const std::string& bytes)
{
    std::string path = dir + "/" + target + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        std::perror(path.c_str());
        std::exit(1);
    }
}

template <class T>
std::string raw(const T& v)
{
    return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string req(uint32_t flags, std::vector<std::string> args)
{
    auto r = encode_request(Request{flags, std::move(args)});
    if (!r) {
        std::fprintf(stderr, "encode: %s\n", r.error().message.c_str());
        std::exit(1);
    }
    return *r;
}

void ipc_seeds()
{
    const std::string priv(1, '\x00'), unpriv(1, '\x80'), chunky(1, '\x7f');
    struct Named {
        const char* name;
        std::string frames;
    };
    const std::vector<Named> reqs = {
        {"add_sg", req(0, {"add", "eth0", "10.0.0.1", "225.1.2.3", "eth1", "eth2"})},
        {"add_starg", req(0, {"add", "eth0", "225.3.2.1", "eth1"})},
        {"add_prefix", req(0, {"add", "eth0", "10.1.0.0/16", "225.4.0.0/24", "eth2"})},
        {"add_wildcard", req(0, {"add", "vlan+", "*", "225.5.5.5", "eth1", "eth+"})},
        {"add_v6", req(0, {"add", "eth0", "2001:db8::42", "ff0e::114", "eth1"})},
        {"add_v6_prefix", req(0, {"add", "eth1", "ff0e::/64", "eth0"})},
        {"remove_sg", req(0, {"remove", "eth0", "10.0.0.1", "225.1.2.3"})},
        {"remove_oif", req(0, {"remove", "eth0", "10.0.0.1", "225.1.2.3", "eth2"})},
        {"join", req(0, {"join", "eth0", "225.1.2.3"})},
        {"join_ssm", req(0, {"join", "eth0", "10.0.0.1", "232.1.2.3"})},
        {"leave", req(0, {"leave", "eth0", "225.1.2.3"})},
        {"show", req(0, {"show", "routes"})},
        {"show_detail_json", req(req_detail | req_json | req_headings, {"show", "routes"})},
        {"show_groups", req(req_headings, {"show", "groups"})},
        {"show_interfaces", req(req_json, {"show", "interfaces"})},
        {"show_pending", req(0, {"show", "pending"})},
        {"show_memberships", req(0, {"show", "memberships"})},
        {"show_graph", req(0, {"show", "graph"})},
        {"show_graph_json", req(req_json, {"show", "graph"})},
        {"flush", req(0, {"flush"})},
        {"reload", req(0, {"reload"})},
        {"kill", req(0, {"kill"})},
        {"version", req(0, {"version"})},
        {"help", req(0, {"help"})},
        {"row", encode_row("a row of text")},
        {"end", encode_end(EndFrame{64, "usage: something"})},
    };
    std::string all;
    for (const auto& r : reqs) {
        write("fuzz_ipc", r.name, priv + r.frames);
        all += r.frames;
    }
    write("fuzz_ipc", "session", chunky + all);
    write("fuzz_ipc", "session_unprivileged", unpriv + all);
    // add, show, remove, show: a conversation that changes state and looks.
    write("fuzz_ipc", "add_show_remove",
          priv + reqs[0].frames + reqs[1].frames + reqs[12].frames + reqs[6].frames + reqs[11].frames);
    write("fuzz_ipc", "bad_magic", priv + "XXXX" + all.substr(4, 40));
    write("fuzz_ipc", "truncated", priv + reqs[0].frames.substr(0, reqs[0].frames.size() - 3));
}

std::string v4_upcall(uint8_t type, uint16_t vif, const char* src, const char* dst)
{
    igmpmsg m{};
    m.im_msgtype = type;
    m.im_mbz = 0;
    m.im_vif = static_cast<uint8_t>(vif & 0xff);
    m.im_vif_hi = static_cast<uint8_t>(vif >> 8);
    inet_pton(AF_INET, src, &m.im_src);
    inet_pton(AF_INET, dst, &m.im_dst);
    return raw(m);
}

std::string v6_upcall(uint8_t type, uint16_t mif, const char* src, const char* dst)
{
    mrt6msg m{};
    m.im6_mbz = 0;
    m.im6_msgtype = type;
    m.im6_mif = mif;
    inet_pton(AF_INET6, src, &m.im6_src);
    inet_pton(AF_INET6, dst, &m.im6_dst);
    return raw(m);
}

// fuzz_upcall's framing: byte 0 (bit 0: family of the first message, then
// they alternate), then messages with a 2-byte little-endian length.
std::string framed(uint8_t first, const std::vector<std::string>& msgs)
{
    std::string out(1, static_cast<char>(first));
    for (const auto& m : msgs) {
        out += static_cast<char>(m.size() & 0xff);
        out += static_cast<char>(m.size() >> 8);
        out += m;
    }
    return out;
}

void upcall_seeds()
{
    // Bare messages: the whole input is decoded as one upcall of each family.
    write("fuzz_upcall", "v4_nocache", v4_upcall(IGMPMSG_NOCACHE, 0, "10.0.0.1", "225.1.2.3"));
    write("fuzz_upcall", "v4_wrongvif", v4_upcall(IGMPMSG_WRONGVIF, 1, "10.0.0.1", "225.1.2.3"));
    write("fuzz_upcall", "v4_wholepkt", v4_upcall(IGMPMSG_WHOLEPKT, 2, "10.0.0.1", "225.1.2.3") + std::string(28, 'x'));
    write("fuzz_upcall", "v6_nocache", v6_upcall(MRT6MSG_NOCACHE, 0, "2001:db8::42", "ff0e::114"));
    write("fuzz_upcall", "v6_wrongmif", v6_upcall(MRT6MSG_WRONGMIF, 1, "2001:db8::42", "ff05::1:3"));
    write("fuzz_upcall", "v6_wholepkt", v6_upcall(MRT6MSG_WHOLEPKT, 3, "2001:db8::1", "ff0e::1"));

    // Streams for the router: vifs are those the rules allocate (0 = first IIF).
    write("fuzz_upcall", "stream_v4_first",
          framed(1, {v4_upcall(IGMPMSG_NOCACHE, 0, "10.0.0.1", "225.1.2.3"),
                     v6_upcall(MRT6MSG_NOCACHE, 0, "2001:db8::42", "ff0e::114"),
                     v4_upcall(IGMPMSG_NOCACHE, 0, "10.2.3.4", "239.1.1.1"),
                     v6_upcall(MRT6MSG_NOCACHE, 1, "2001:db8::1", "ff05::1:3"),
                     v4_upcall(IGMPMSG_NOCACHE, 2, "192.168.1.1", "225.7.7.7"),
                     v6_upcall(MRT6MSG_WRONGMIF, 2, "2001:db8::1", "ff0e::1"),
                     v4_upcall(IGMPMSG_WRONGVIF, 1, "10.1.1.1", "225.9.9.9"),
                     v6_upcall(MRT6MSG_NOCACHE, 0, "fe80::1", "ff0e::2"),
                     v4_upcall(IGMPMSG_NOCACHE, 0, "10.0.0.9", "226.0.0.1")}));
    write("fuzz_upcall", "stream_v6_first",
          framed(0, {v6_upcall(MRT6MSG_NOCACHE, 0, "2001:db8::42", "ff0e::114"),
                     v4_upcall(IGMPMSG_NOCACHE, 0, "10.0.0.1", "225.1.2.3"),
                     v6_upcall(MRT6MSG_NOCACHE, 0, "2001:db8::42", "ff0e::114"),
                     v4_upcall(IGMPMSG_NOCACHE, 0, "10.0.0.1", "225.1.2.3")}));
}

std::string nlmsg(uint16_t type, int ifindex, unsigned flags, const char* name, bool with_mtu = true)
{
    std::string attrs;
    auto attr = [&](uint16_t atype, const std::string& payload) {
        rtattr a{};
        a.rta_type = atype;
        a.rta_len = static_cast<unsigned short>(RTA_LENGTH(payload.size()));
        std::string one = raw(a) + payload;
        one.resize(RTA_ALIGN(one.size()), '\0');
        attrs += one;
    };
    if (name)
        attr(IFLA_IFNAME, std::string(name) + '\0');
    if (with_mtu)
        attr(IFLA_MTU, raw(uint32_t{1500}));
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = ifindex;
    ifi.ifi_flags = flags;
    ifi.ifi_change = 0xffffffff;
    std::string body = raw(ifi) + attrs;
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(body.size()));
    h.nlmsg_type = type;
    h.nlmsg_seq = 1;
    std::string out = raw(h) + body;
    out.resize(NLMSG_ALIGN(out.size()), '\0');
    return out;
}

std::string nl_done()
{
    nlmsghdr h{};
    h.nlmsg_len = NLMSG_LENGTH(sizeof(int));
    h.nlmsg_type = NLMSG_DONE;
    return raw(h) + std::string(sizeof(int), '\0');
}

std::string nl_newaddr()
{
    ifaddrmsg a{};
    a.ifa_family = AF_INET;
    a.ifa_prefixlen = 24;
    a.ifa_index = 2;
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof a));
    h.nlmsg_type = RTM_NEWADDR;
    std::string out = raw(h) + raw(a);
    out.resize(NLMSG_ALIGN(out.size()), '\0');
    return out;
}

void netlink_seeds()
{
    write("fuzz_netlink", "newlink", nlmsg(RTM_NEWLINK, 2, IFF_UP | IFF_MULTICAST | IFF_RUNNING, "eth0"));
    write("fuzz_netlink", "dellink", nlmsg(RTM_DELLINK, 3, IFF_MULTICAST, "eth1"));
    write("fuzz_netlink", "newlink_noname", nlmsg(RTM_NEWLINK, 4, IFF_UP, nullptr));
    write("fuzz_netlink", "batch",
          nlmsg(RTM_NEWLINK, 1, IFF_UP | IFF_LOOPBACK, "lo") + nl_newaddr() +
              nlmsg(RTM_NEWLINK, 2, IFF_UP | IFF_MULTICAST, "eth0", false) +
              nlmsg(RTM_DELLINK, 5, 0, "vlan10") + nlmsg(RTM_NEWLINK, 6, IFF_UP, "a-15-byte-name!") + nl_done());
}

GroupMessage group_msg(GroupMessage::Kind kind, GroupVersion v, const char* group)
{
    GroupMessage m;
    m.kind = kind;
    m.version = v;
    m.group = *IpAddr::parse(group);
    return m;
}

GroupRecord group_rec(RecordType t, const char* group, std::vector<const char*> sources)
{
    GroupRecord r{t, *IpAddr::parse(group), {}};
    for (const char* s : sources)
        r.sources.push_back(*IpAddr::parse(s));
    return r;
}

std::string bytes(const std::vector<uint8_t>& b)
{
    return std::string(b.begin(), b.end());
}

void group_packet_seeds()
{
    using K = GroupMessage::Kind;
    const char* t = "fuzz_group_packet";
    auto q1 = group_msg(K::query, GroupVersion::v1, "0.0.0.0");
    q1.max_response = std::chrono::seconds(10);
    write(t, "igmp_v1_query", bytes(encode_igmp(q1)));
    auto q2 = group_msg(K::query, GroupVersion::v2, "239.1.2.3");
    q2.max_response = std::chrono::seconds(1);
    write(t, "igmp_v2_query", bytes(encode_igmp(q2)));
    auto q3 = group_msg(K::query, GroupVersion::v3, "232.1.1.1");
    q3.max_response = std::chrono::milliseconds(22400);
    q3.suppress = true;
    q3.robustness = 2;
    q3.query_interval = 125;
    q3.sources = {*IpAddr::parse("10.0.0.1"), *IpAddr::parse("10.0.0.2")};
    write(t, "igmp_v3_query", bytes(encode_igmp(q3)));
    write(t, "igmp_v1_report", bytes(encode_igmp(group_msg(K::report, GroupVersion::v1, "225.1.2.3"))));
    write(t, "igmp_v2_report", bytes(encode_igmp(group_msg(K::report, GroupVersion::v2, "239.1.2.3"))));
    write(t, "igmp_leave", bytes(encode_igmp(group_msg(K::leave, GroupVersion::v2, "239.1.2.3"))));
    auto r3 = group_msg(K::report, GroupVersion::v3, "0.0.0.0");
    r3.records = {group_rec(RecordType::to_exclude, "239.1.1.1", {}),
                  group_rec(RecordType::allow, "232.1.1.1", {"10.0.0.1", "10.0.0.2"}),
                  group_rec(RecordType::block, "232.2.2.2", {"10.0.0.3"})};
    write(t, "igmp_v3_report", bytes(encode_igmp(r3)));
    // A record with one word of auxiliary data, checksum made right.
    auto aux = encode_igmp(group_msg(K::report, GroupVersion::v3, "0.0.0.0"));
    aux[7] = 1;
    aux.insert(aux.end(), {4, 1, 0, 1, 239, 9, 9, 9, 10, 1, 1, 1, 0xde, 0xad, 0xbe, 0xef});
    aux[2] = aux[3] = 0;
    uint16_t cs = internet_checksum(aux);
    aux[2] = static_cast<uint8_t>(cs >> 8);
    aux[3] = static_cast<uint8_t>(cs & 0xff);
    write(t, "igmp_v3_report_aux", bytes(aux));

    auto m2 = group_msg(K::query, GroupVersion::v2, "::");
    m2.max_response = std::chrono::seconds(10);
    write(t, "mld_v1_query", bytes(encode_mld(m2)));
    auto m3 = group_msg(K::query, GroupVersion::v3, "ff3e::1");
    m3.max_response = std::chrono::milliseconds(40000);
    m3.robustness = 3;
    m3.query_interval = 160;
    m3.sources = {*IpAddr::parse("2001:db8::1")};
    write(t, "mld_v2_query", bytes(encode_mld(m3)));
    write(t, "mld_v1_report", bytes(encode_mld(group_msg(K::report, GroupVersion::v2, "ff0e::1:3"))));
    write(t, "mld_done", bytes(encode_mld(group_msg(K::leave, GroupVersion::v2, "ff0e::1:3"))));
    auto mr = group_msg(K::report, GroupVersion::v3, "::");
    mr.records = {group_rec(RecordType::is_exclude, "ff05::1:3", {}),
                  group_rec(RecordType::is_include, "ff3e::8000:1", {"2001:db8::1", "2001:db8::2"})};
    auto mrb = encode_mld(mr);
    write(t, "mld_v2_report", bytes(mrb));
    // The first record with two words of auxiliary data.
    mrb[9] = 2;
    mrb.insert(mrb.begin() + 8 + 20, {1, 2, 3, 4, 5, 6, 7, 8});
    write(t, "mld_v2_report_aux", bytes(mrb));
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 64;
    }
    dir = argv[1];
    ipc_seeds();
    upcall_seeds();
    netlink_seeds();
    group_packet_seeds();
    return 0;
}

// model/mrdisc_packet: RFC 4286 message encode/decode, checksums, Router Alert
// option values and the IPv4 header parser. Pure.
#include "smcroute/model/mrdisc_packet.hpp"

#include <cassert>
#include <cstring>

namespace smcroute {

namespace {

constexpr uint8_t ipopt_end = 0;
constexpr uint8_t ipopt_nop = 1;
constexpr uint8_t ipopt_router_alert = 0x94; // copied flag | class 0 | number 20
constexpr uint8_t ipproto_icmpv6 = 58;

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v)
{
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v & 0xff);
}

uint16_t get16(std::span<const uint8_t> b, size_t at)
{
    return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

uint32_t add_bytes(uint32_t sum, const uint8_t* p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += static_cast<uint32_t>((p[i] << 8) | p[i + 1]);
    if (len % 2)
        sum += static_cast<uint32_t>(p[len - 1] << 8);
    return sum;
}

uint32_t pseudo_sum6(const in6_addr& src, const in6_addr& dst, size_t len)
{
    uint32_t sum = add_bytes(0, src.s6_addr, 16);
    sum = add_bytes(sum, dst.s6_addr, 16);
    sum += static_cast<uint32_t>(len >> 16);
    sum += static_cast<uint32_t>(len & 0xffff);
    sum += ipproto_icmpv6;
    return sum;
}

std::vector<uint8_t> body(Family f, const MrdiscMessage& m)
{
    bool adv = m.type == MrdiscType::advertisement;
    std::vector<uint8_t> b(adv ? mrdisc::advertisement_size : mrdisc::short_message_size, 0);
    b[0] = mrdisc_wire_type(f, m.type);
    if (adv) {
        b[1] = m.interval;
        put16(b, 4, m.query_interval);
        put16(b, 6, m.robustness);
    }
    return b;
}

} // namespace

IpAddr mrdisc_all_snoopers(Family f)
{
    return *IpAddr::parse(f == Family::inet ? "224.0.0.106" : "ff02::6a");
}

IpAddr mrdisc_all_routers(Family f)
{
    return *IpAddr::parse(f == Family::inet ? "224.0.0.2" : "ff02::2");
}

uint8_t mrdisc_wire_type(Family f, MrdiscType t)
{
    bool v4 = f == Family::inet;
    switch (t) {
    case MrdiscType::advertisement:
        return v4 ? mrdisc::igmp_advertisement : mrdisc::icmp6_advertisement;
    case MrdiscType::solicitation:
        return v4 ? mrdisc::igmp_solicitation : mrdisc::icmp6_solicitation;
    case MrdiscType::termination:
        return v4 ? mrdisc::igmp_termination : mrdisc::icmp6_termination;
    }
    assert(false);
    return 0;
}

std::optional<MrdiscType> mrdisc_type_from_wire(Family f, uint8_t wire)
{
    for (MrdiscType t : {MrdiscType::advertisement, MrdiscType::solicitation, MrdiscType::termination})
        if (mrdisc_wire_type(f, t) == wire)
            return t;
    return std::nullopt;
}

uint16_t internet_checksum(std::span<const uint8_t> data, uint32_t sum)
{
    sum = add_bytes(sum, data.data(), data.size());
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t icmp6_checksum(const in6_addr& src, const in6_addr& dst, std::span<const uint8_t> body)
{
    return internet_checksum(body, pseudo_sum6(src, dst, body.size()));
}

std::vector<uint8_t> encode_mrdisc(Family f, const MrdiscMessage& m)
{
    auto b = body(f, m);
    if (f == Family::inet)
        put16(b, 2, internet_checksum(b));
    return b;
}

std::vector<uint8_t> encode_mrdisc6(const in6_addr& src, const in6_addr& dst, const MrdiscMessage& m)
{
    auto b = body(Family::inet6, m);
    put16(b, 2, icmp6_checksum(src, dst, b));
    return b;
}

std::optional<MrdiscMessage> decode_mrdisc(Family f, std::span<const uint8_t> b)
{
    if (b.size() < mrdisc::short_message_size)
        return std::nullopt;
    auto type = mrdisc_type_from_wire(f, b[0]);
    if (!type)
        return std::nullopt;
    if (f == Family::inet && internet_checksum(b) != 0)
        return std::nullopt;
    MrdiscMessage m;
    m.type = *type;
    if (m.type == MrdiscType::advertisement) {
        if (b.size() < mrdisc::advertisement_size)
            return std::nullopt;
        m.interval = b[1];
        m.query_interval = get16(b, 4);
        m.robustness = get16(b, 6);
    }
    return m;
}

std::array<uint8_t, 4> ipv4_router_alert_option()
{
    return {ipopt_router_alert, 4, 0, 0};
}

std::array<uint8_t, 8> ipv6_router_alert_hopopts()
{
    // next header (kernel), length 0 (= 8 bytes), Router Alert type 5 len 2
    // value 0, PadN type 1 len 0.
    return {0, 0, 5, 2, 0, 0, 1, 0};
}

std::optional<Ipv4Datagram> parse_ipv4(std::span<const uint8_t> p)
{
    if (p.size() < 20 || (p[0] >> 4) != 4)
        return std::nullopt;
    size_t hlen = static_cast<size_t>(p[0] & 0x0f) * 4;
    size_t total = get16(p, 2);
    if (hlen < 20 || hlen > p.size())
        return std::nullopt;
    // Raw sockets hand back the total length as sent; never trust it past
    // the buffer.
    if (total < hlen || total > p.size())
        total = p.size();
    Ipv4Datagram d;
    d.ttl = p[8];
    d.protocol = p[9];
    in_addr a{};
    std::memcpy(&a, &p[12], 4);
    d.source = IpAddr::from_v4(a);
    std::memcpy(&a, &p[16], 4);
    d.destination = IpAddr::from_v4(a);
    for (size_t i = 20; i < hlen;) {
        uint8_t opt = p[i];
        if (opt == ipopt_end)
            break;
        if (opt == ipopt_nop) {
            ++i;
            continue;
        }
        if (i + 1 >= hlen || p[i + 1] < 2 || i + p[i + 1] > hlen)
            return std::nullopt;
        if (opt == ipopt_router_alert && p[i + 1] == 4)
            d.router_alert = true;
        i += p[i + 1];
    }
    d.payload = p.subspan(hlen, total - hlen);
    return d;
}

} // namespace smcroute

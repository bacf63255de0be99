#include "smcroute/base/addr.hpp"

#include "smcroute/base/log.hpp"

#include <arpa/inet.h>
#include <charconv>

namespace smcroute {

std::string_view family_name(Family f)
{
    return f == Family::inet ? "IPv4" : "IPv6";
}

IpAddr IpAddr::from_v4(const in_addr& a)
{
    IpAddr r;
    r.family_ = Family::inet;
    std::memcpy(r.bytes_.data(), &a, 4);
    return r;
}

IpAddr IpAddr::from_v6(const in6_addr& a)
{
    IpAddr r;
    r.family_ = Family::inet6;
    std::memcpy(r.bytes_.data(), &a, 16);
    return r;
}

IpAddr IpAddr::any(Family f)
{
    IpAddr r;
    r.family_ = f;
    return r;
}

namespace {

// Dotted quad exactly as inet_pton(AF_INET) takes it: four decimal octets
// of 1-3 digits, each at most 255, no leading zero, nothing else. Inline
// rather than through inet_pton: config loading parses two per route.
std::optional<std::array<uint8_t, 4>> parse_dotted_quad(std::string_view text)
{
    std::array<uint8_t, 4> out{};
    size_t octet = 0;
    unsigned value = 0, digits = 0;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            if (digits > 0 && value == 0)
                return std::nullopt; // leading zero
            value = value * 10 + static_cast<unsigned>(c - '0');
            if (value > 255)
                return std::nullopt;
            ++digits;
        } else if (c == '.' && digits > 0 && octet < 3) {
            out[octet++] = static_cast<uint8_t>(value);
            value = digits = 0;
        } else {
            return std::nullopt;
        }
    }
    if (octet != 3 || digits == 0)
        return std::nullopt;
    out[3] = static_cast<uint8_t>(value);
    return out;
}

} // namespace

std::optional<IpAddr> IpAddr::parse(std::string_view text)
{
    if (text.empty() || text.size() > INET6_ADDRSTRLEN)
        return std::nullopt;
    if (text.find(':') == std::string_view::npos) {
        auto quad = parse_dotted_quad(text);
        if (!quad)
            return std::nullopt;
        IpAddr r;
        std::memcpy(r.bytes_.data(), quad->data(), 4);
        return r;
    }
    if (text.find('\0') != std::string_view::npos)
        return std::nullopt;
    char buf[INET6_ADDRSTRLEN + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    in6_addr a6{};
    if (inet_pton(AF_INET6, buf, &a6) == 1)
        return from_v6(a6);
    return std::nullopt;
}

in_addr IpAddr::v4() const
{
    in_addr a{};
    std::memcpy(&a, bytes_.data(), 4);
    return a;
}

in6_addr IpAddr::v6() const
{
    in6_addr a{};
    std::memcpy(&a, bytes_.data(), 16);
    return a;
}

bool IpAddr::is_unspecified() const
{
    size_t n = is_v4() ? 4 : 16;
    for (size_t i = 0; i < n; ++i)
        if (bytes_[i])
            return false;
    return true;
}

bool IpAddr::is_multicast() const
{
    return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddr::is_link_local_multicast() const
{
    if (is_v4())
        return bytes_[0] == 224 && bytes_[1] == 0 && bytes_[2] == 0;
    return bytes_[0] == 0xff && bytes_[1] == 0x02;
}

bool IpAddr::is_broadcast() const
{
    return is_v4() && bytes_[0] == 255 && bytes_[1] == 255 && bytes_[2] == 255 && bytes_[3] == 255;
}

IpAddr IpAddr::masked(unsigned len) const
{
    IpAddr r = *this;
    unsigned bits = family_bits(family_);
    for (unsigned i = 0; i < bits / 8; ++i) {
        unsigned first = i * 8;
        if (first >= len)
            r.bytes_[i] = 0;
        else if (first + 8 > len)
            r.bytes_[i] = static_cast<uint8_t>(r.bytes_[i] & (0xff << (8 - (len - first))));
    }
    return r;
}

IpAddr IpAddr::plus(uint64_t n) const
{
    IpAddr r = *this;
    int last = is_v4() ? 3 : 15;
    unsigned carry = 0;
    for (int i = last; i >= 0 && (n || carry); --i) {
        unsigned sum = r.bytes_[i] + static_cast<unsigned>(n & 0xff) + carry;
        r.bytes_[i] = static_cast<uint8_t>(sum);
        carry = sum >> 8;
        n >>= 8;
    }
    return r;
}

std::string IpAddr::str() const
{
    char buf[INET6_ADDRSTRLEN];
    if (is_v4()) { // by hand: inet_ntop's sprintf costs more than the rest of a `show` row
        char* p = buf;
        for (size_t i = 0; i < 4; ++i) {
            unsigned v = bytes_[i];
            if (i)
                *p++ = '.';
            if (v >= 100)
                *p++ = static_cast<char>('0' + v / 100);
            if (v >= 10)
                *p++ = static_cast<char>('0' + v / 10 % 10);
            *p++ = static_cast<char>('0' + v % 10);
        }
        return std::string(buf, p);
    }
    in6_addr a = v6();
    inet_ntop(AF_INET6, &a, buf, sizeof(buf));
    return buf;
}

bool Prefix::contains(const IpAddr& a) const
{
    return a.family() == addr.family() && a.masked(len) == addr;
}

std::string Prefix::str() const
{
    if (is_host())
        return addr.str();
    return cat(addr.str(), '/', unsigned(len));
}

Result<Prefix> Prefix::parse(std::string_view text)
{
    auto slash = text.find('/');
    std::string_view addr_text = text.substr(0, slash);
    auto addr = IpAddr::parse(addr_text);
    if (!addr)
        return fail(cat("invalid address '", addr_text, "'"));
    unsigned bits = family_bits(addr->family());
    if (slash == std::string_view::npos)
        return Prefix{*addr, static_cast<uint8_t>(bits)};
    std::string_view len_text = text.substr(slash + 1);
    unsigned len = 0;
    auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size())
        return fail(cat("invalid prefix length '", len_text, "' in '", text, "'"));
    if (len > bits)
        return fail(cat("prefix length ", len, " out of range 0-", bits, " for ", family_name(addr->family()),
                        " in '", text, "'"));
    return Prefix{addr->masked(len), static_cast<uint8_t>(len)};
}

Result<IfName> IfName::parse(std::string_view text)
{
    if (text.empty())
        return fail("empty interface name");
    if (text.size() > max_len)
        return fail(cat("interface name '", text, "' is longer than ", max_len, " characters"));
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (c == '/' || u <= 0x20 || u == 0x7f)
            return fail(cat("invalid interface name '", text, "'"));
    }
    if (text.find('+') != std::string_view::npos && text.find('+') != text.size() - 1)
        return fail(cat("invalid interface name '", text, "': '+' may only end a wildcard"));
    IfName n;
    std::memcpy(n.buf_.data(), text.data(), text.size());
    n.len_ = static_cast<uint8_t>(text.size());
    return n;
}

bool IfName::matches(std::string_view ifname) const
{
    if (!is_wildcard())
        return view() == ifname;
    std::string_view stem = view().substr(0, len_ - 1);
    return ifname.substr(0, stem.size()) == stem;
}

void to_sockaddr(const IpAddr& a, sockaddr_storage& out)
{
    std::memset(&out, 0, sizeof out);
    if (a.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&out);
        sin->sin_family = AF_INET;
        sin->sin_addr = a.v4();
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = a.v6();
    }
}

} // namespace smcroute

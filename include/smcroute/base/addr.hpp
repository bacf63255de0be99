// base/addr: IPv4/IPv6 addresses, prefixes and interface names as small
// fixed-size values (no heap), with parsing, formatting, ordering and hashing.
// Knows nothing of routes, sockets or the kernel's tables.
#pragma once

#include "smcroute/base/hash.hpp"
#include "smcroute/base/result.hpp"

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <netinet/in.h>
#include <sys/socket.h>
#include <optional>
#include <string>
#include <string_view>

namespace smcroute {

enum class Family : uint8_t { inet, inet6 };

std::string_view family_name(Family f); // "IPv4" / "IPv6"
constexpr unsigned family_bits(Family f) { return f == Family::inet ? 32 : 128; }

class IpAddr {
public:
    IpAddr() = default; // 0.0.0.0
    static IpAddr from_v4(const in_addr& a);
    static IpAddr from_v6(const in6_addr& a);
    static IpAddr any(Family f); // 0.0.0.0 or ::
    static std::optional<IpAddr> parse(std::string_view text);

    Family family() const { return family_; }
    bool is_v4() const { return family_ == Family::inet; }
    in_addr v4() const;
    in6_addr v6() const;
    const std::array<uint8_t, 16>& bytes() const { return bytes_; } // v4 uses the first 4

    bool is_unspecified() const;
    bool is_multicast() const;
    // 224.0.0.0/24 or ff02::/16: the kernel never routes these.
    bool is_link_local_multicast() const;
    bool is_broadcast() const; // 255.255.255.255

    // Keep the first len bits, zero the rest.
    IpAddr masked(unsigned len) const;
    // Address plus n (wraps within the family); used to expand ranges.
    IpAddr plus(uint64_t n) const;

    std::string str() const;

    friend bool operator==(const IpAddr&, const IpAddr&) = default;
    friend auto operator<=>(const IpAddr&, const IpAddr&) = default;

private:
    Family family_ = Family::inet;
    std::array<uint8_t, 16> bytes_{};
};

struct Prefix {
    IpAddr addr;
    uint8_t len = 0;

    Family family() const { return addr.family(); }
    bool is_host() const { return len == family_bits(addr.family()); }
    bool contains(const IpAddr& a) const;
    // "225.1.2.3", or "225.1.2.0/24" when not a host prefix.
    std::string str() const;

    // "ADDR" (host prefix) or "ADDR/LEN". The address is masked to LEN.
    // Errors: "invalid address 'x'", "prefix length 33 out of range 0-32 for IPv4".
    static Result<Prefix> parse(std::string_view text);
    static Prefix host(const IpAddr& a) { return Prefix{a, static_cast<uint8_t>(family_bits(a.family()))}; }

    friend bool operator==(const Prefix&, const Prefix&) = default;
    friend auto operator<=>(const Prefix&, const Prefix&) = default;
};

// Interface name, at most IFNAMSIZ-1 (15) bytes, stored inline. A name ending
// in '+' is a wildcard matching every interface whose name starts with the rest.
class IfName {
public:
    static constexpr size_t max_len = 15;
    IfName() = default;
    // Errors: empty, longer than 15 bytes, or containing '/', whitespace or NUL.
    static Result<IfName> parse(std::string_view text);

    std::string_view view() const { return std::string_view(buf_.data(), len_); }
    std::string str() const { return std::string(view()); }
    bool empty() const { return len_ == 0; }
    bool is_wildcard() const { return len_ > 0 && buf_[len_ - 1] == '+'; }
    // True when this name (or wildcard) covers the concrete interface name.
    bool matches(std::string_view ifname) const;
    // Bytes past the name are always zero: hash the whole buffer.
    size_t hash() const noexcept;

    friend bool operator==(const IfName& a, const IfName& b) { return a.view() == b.view(); }
    friend auto operator<=>(const IfName& a, const IfName& b) { return a.view() <=> b.view(); }

private:
    std::array<char, 16> buf_{};
    uint8_t len_ = 0;
};

// The address as a sockaddr_in or sockaddr_in6 (port 0), zero-filled.
void to_sockaddr(const IpAddr& a, sockaddr_storage& out);


inline size_t IfName::hash() const noexcept
{
    uint64_t w[2];
    std::memcpy(w, buf_.data(), sizeof w);
    return hash_words(w[0], w[1] ^ len_);
}

} // namespace smcroute

template <>
struct std::hash<smcroute::IpAddr> {
    size_t operator()(const smcroute::IpAddr& a) const noexcept
    {
        // The unused bytes of an IPv4 address are always zero.
        uint64_t w[2];
        std::memcpy(w, a.bytes().data(), sizeof w);
        return smcroute::hash_words(w[0], w[1] ^ static_cast<uint64_t>(a.family()));
    }
};

template <>
struct std::hash<smcroute::IfName> {
    size_t operator()(const smcroute::IfName& n) const noexcept
    {
        return n.hash();
    }
};
